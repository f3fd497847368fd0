//! `is_string(x)` and the other type tests, and `type_name(x)`: answers about an operand's
//! type, which every engine must give alike.

use super::args::BuiltinError;
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("is_array", 1, |a| is(a, "array")),
    builtin("is_boolean", 1, |a| is(a, "boolean")),
    builtin("is_null", 1, |a| is(a, "null")),
    builtin("is_number", 1, |a| is(a, "number")),
    builtin("is_object", 1, |a| is(a, "object")),
    builtin("is_set", 1, |a| is(a, "set")),
    builtin("is_string", 1, |a| is(a, "string")),
    builtin("type_name", 1, |a| Ok(Value::string(a[0].type_name()))),
];

/// OPA answers `false`, not undefined, for another type (`topdown/type.go`).
fn is(args: &[Value], type_name: &str) -> Result<Value, BuiltinError> {
    Ok(Value::Bool(args[0].type_name() == type_name))
}

#[cfg(test)]
mod tests {
    use crate::builtins::run_json as run;

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn type_tests_answer_true_or_false() {
        assert_eq!(run("is_string", r#"["a"]"#), Ok("true".into()));
        assert_eq!(run("is_string", "[1]"), Ok("false".into()));
        assert_eq!(run("is_number", "[1.5]"), Ok("true".into()));
        assert_eq!(run("is_object", "[[]]"), Ok("false".into()));
        assert_eq!(run("is_null", "[null]"), Ok("true".into()));
        assert_eq!(run("type_name", "[{}]"), Ok(r#""object""#.into()));
        assert_eq!(run("type_name", "[true]"), Ok(r#""boolean""#.into()));
    }
}
