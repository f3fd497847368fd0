//! Array builtins: `array.flatten`, which regorus lacks, and `array.concat`, `array.slice`
//! and `array.reverse`, whose regorus errors are not OPA's.

use super::args::{self, BuiltinError};
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("array.flatten", 1, flatten),
    builtin("array.concat", 2, concat),
    builtin("array.slice", 3, slice),
    builtin("array.reverse", 1, reverse),
];

fn concat(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = args::array(args, 0)?;
    let b = args::array(args, 1)?;
    Ok(Value::array(a.iter().chain(b).cloned().collect()))
}

/// `xs[start:stop]` with both bounds clamped to the array, empty when they cross.
fn slice(args: &[Value]) -> Result<Value, BuiltinError> {
    let items = args::array(args, 0)?;
    let clamp = |i: i64| {
        usize::try_from(i.max(0))
            .unwrap_or(usize::MAX)
            .min(items.len())
    };
    let start = clamp(args::integer(args, 1)?);
    let stop = clamp(args::integer(args, 2)?);
    if start >= stop {
        return Ok(Value::array(Vec::new()));
    }
    Ok(Value::array(items[start..stop].to_vec()))
}

fn reverse(args: &[Value]) -> Result<Value, BuiltinError> {
    let items = args::array(args, 0)?;
    Ok(Value::array(items.iter().rev().cloned().collect()))
}

/// Splices nested arrays one level deep, as OPA does (`[1, [2, [3]]]` gives `[1, 2, [3]]`).
fn flatten(args: &[Value]) -> Result<Value, BuiltinError> {
    let items = args::array(args, 0)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Array(inner) => out.extend(inner.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    Ok(Value::array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::run_fn as run;

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn flattens_one_level() {
        let input = Value::from_json("[1,[2,[3,[4]]],[]]").expect("json");
        assert_eq!(
            flatten(&[input]).map(|v| v.to_json()),
            Ok("[1,2,[3,[4]]]".into())
        );
        assert_eq!(
            flatten(&[Value::int(1)]).map_err(|e| e.to_string()),
            Err("operand 1 must be array but got number".into())
        );
    }

    #[test]
    fn concat_slice_reverse() {
        assert_eq!(run(concat, "[[1,2],[3]]"), Ok("[1,2,3]".into()));
        assert_eq!(
            run(concat, r#"[[1],"x"]"#),
            Err("operand 2 must be array but got string".into())
        );
        assert_eq!(run(slice, "[[1,2,3],1,2]"), Ok("[2]".into()));
        assert_eq!(run(slice, "[[1,2,3],-1,10]"), Ok("[1,2,3]".into()));
        assert_eq!(run(slice, "[[1,2,3],2,1]"), Ok("[]".into()));
        assert_eq!(
            run(slice, r#"[[1,2,3],"0",1]"#),
            Err("operand 2 must be number but got string".into())
        );
        assert_eq!(
            run(slice, "[[1,2,3],0,1.5]"),
            Err("operand 3 must be integer number but got floating-point number".into())
        );
        assert_eq!(run(reverse, "[[1,2,3]]"), Ok("[3,2,1]".into()));
        assert_eq!(
            run(reverse, r#"[{"a":1}]"#),
            Err("operand 1 must be array but got object".into())
        );
    }
}
