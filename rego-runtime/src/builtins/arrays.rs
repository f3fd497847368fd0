//! Array builtins regorus lacks: `array.flatten`.

use super::Builtin;
use super::args::{self, BuiltinError};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "array.flatten",
    arity: 1,
    nondeterministic: false,
    eval: flatten,
}];

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
}
