//! `intersection` and `union` of a set of sets, replacing regorus's versions, whose errors are
//! not OPA's (`union: operand 1 must be set but got array`).

use std::collections::BTreeSet;

use super::args::{self, BuiltinError};
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "intersection",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(intersection),
    },
    Builtin {
        name: "union",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(union),
    },
];

/// The member sets; like OPA, the first member that is not a set names the error.
fn members(args: &[Value]) -> Result<Vec<&BTreeSet<Value>>, BuiltinError> {
    args::set(args, 0)?
        .iter()
        .map(|member| match member {
            Value::Set(items) => Ok(&**items),
            other => Err(args::wrong_type(0, "set", other)),
        })
        .collect()
}

fn intersection(args: &[Value]) -> Result<Value, BuiltinError> {
    let sets = members(args)?;
    let Some((first, rest)) = sets.split_first() else {
        return Ok(Value::set([]));
    };
    Ok(Value::set(
        first
            .iter()
            .filter(|x| rest.iter().all(|s| s.contains(x)))
            .cloned(),
    ))
}

fn union(args: &[Value]) -> Result<Value, BuiltinError> {
    let sets = members(args)?;
    Ok(Value::set(sets.into_iter().flatten().cloned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[i64]) -> Value {
        Value::set(items.iter().map(|i| Value::int(*i)))
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn sets_of_sets() {
        let sets = Value::set([set(&[1, 2, 3]), set(&[2, 3, 4])]);
        assert_eq!(intersection(std::slice::from_ref(&sets)), Ok(set(&[2, 3])));
        assert_eq!(union(&[sets]), Ok(set(&[1, 2, 3, 4])));
        assert_eq!(intersection(&[Value::set([])]), Ok(Value::set([])));
        let mixed = Value::set([set(&[1]), Value::int(3)]);
        assert_eq!(
            union(&[mixed]).map_err(|e| e.to_string()),
            Err("operand 1 must be set but got number".into())
        );
        assert_eq!(
            intersection(&[Value::array(vec![])]).map_err(|e| e.to_string()),
            Err("operand 1 must be set but got array".into())
        );
    }
}
