//! Builtins OPA deprecated but still accepts in Rego v0 modules: `set_diff`, the `cast_*`
//! family, and the boolean aggregates `all` and `any`.

use super::args::{self, BuiltinError};
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("set_diff", 2, set_diff),
    builtin("cast_array", 1, cast_array),
    builtin("cast_boolean", 1, |a| args::boolean(a, 0).map(Value::Bool)),
    builtin("cast_null", 1, cast_null),
    builtin("cast_object", 1, |a| {
        args::object(a, 0).map(|_| a[0].clone())
    }),
    builtin("cast_set", 1, cast_set),
    builtin("cast_string", 1, |a| args::string(a, 0).map(Value::string)),
    builtin("all", 1, all),
    builtin("any", 1, any),
];

fn set_diff(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = args::set(args, 0)?;
    let b = args::set(args, 1)?;
    Ok(Value::set(a.difference(b).cloned()))
}

fn cast_array(args: &[Value]) -> Result<Value, BuiltinError> {
    let items = args::collection(args, 0)?;
    Ok(Value::array(items.into_iter().cloned().collect()))
}

fn cast_set(args: &[Value]) -> Result<Value, BuiltinError> {
    let items = args::collection(args, 0)?;
    Ok(Value::set(items.into_iter().cloned()))
}

fn cast_null(args: &[Value]) -> Result<Value, BuiltinError> {
    match args::any(args, 0)? {
        Value::Null => Ok(Value::Null),
        other => Err(args::wrong_type(0, "null", other)),
    }
}

/// True when every element is `true` (anything else, even truthy-looking, is not).
fn all(args: &[Value]) -> Result<Value, BuiltinError> {
    let items = args::collection(args, 0)?;
    Ok(Value::Bool(
        items.iter().all(|v| matches!(v, Value::Bool(true))),
    ))
}

fn any(args: &[Value]) -> Result<Value, BuiltinError> {
    let items = args::collection(args, 0)?;
    Ok(Value::Bool(
        items.iter().any(|v| matches!(v, Value::Bool(true))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::run_json as run;

    // Expected values confirmed with `opa eval --v0-compatible` (OPA 1.22.2).
    #[test]
    fn casts_and_aggregates() {
        assert_eq!(run("cast_array", "[[1]]"), Ok("[1]".into()));
        assert_eq!(
            run("cast_array", r#"["a"]"#),
            Err("operand 1 must be one of {array, set} but got string".into())
        );
        assert_eq!(run("cast_set", "[[1,1]]"), Ok("[1]".into()));
        assert_eq!(
            run("cast_null", "[1]"),
            Err("operand 1 must be null but got number".into())
        );
        assert_eq!(
            run("cast_string", "[1]"),
            Err("operand 1 must be string but got number".into())
        );
        assert_eq!(run("all", "[[true,true]]"), Ok("true".into()));
        assert_eq!(run("all", "[[1]]"), Ok("false".into()));
        assert_eq!(run("all", "[[]]"), Ok("true".into()));
        assert_eq!(run("any", "[[false,true]]"), Ok("true".into()));
        assert_eq!(run("any", "[[1]]"), Ok("false".into()));
    }

    #[test]
    fn set_difference() {
        let result = set_diff(&[
            Value::set([Value::int(1), Value::int(2)]),
            Value::set([Value::int(2)]),
        ]);
        assert_eq!(result, Ok(Value::set([Value::int(1)])));
    }
}
