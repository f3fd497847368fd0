//! `object.*`, replacing regorus's versions, whose errors are not OPA's (`object.get: operand
//! 1 must be object but got array`) and whose `object.subset` answers `false` where OPA raises
//! a type error.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::args::{self, BuiltinError};
use super::{Builtin, builtin};
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("object.get", 3, get),
    builtin("object.keys", 1, keys),
    builtin("object.remove", 2, remove),
    builtin("object.filter", 2, filter),
    builtin("object.union", 2, union),
    builtin("object.union_n", 1, union_n),
    builtin("object.subset", 2, subset),
];

/// One step of an `object.get` path: an object's key, an array's index, a set's element.
fn step<'a>(value: &'a Value, key: &'a Value) -> Option<&'a Value> {
    match value {
        Value::Object(entries) => entries.get(key),
        Value::Array(items) => key
            .as_number()
            .and_then(Number::as_i64)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| items.get(i)),
        Value::Set(items) => items.get(key),
        _ => None,
    }
}

/// `object[key]`, or along a path when `key` is an array; the default when missing.
fn get(args: &[Value]) -> Result<Value, BuiltinError> {
    let object = args::object(args, 0)?;
    let key = args::any(args, 1)?;
    let default = args::any(args, 2)?;
    let found = match key {
        Value::Array(path) => {
            let root = &args[0];
            path.iter()
                .try_fold(root, |value, key| step(value, key))
                .cloned()
        }
        other => object.get(other).cloned(),
    };
    Ok(found.unwrap_or_else(|| default.clone()))
}

fn keys(args: &[Value]) -> Result<Value, BuiltinError> {
    let object = args::object(args, 0)?;
    Ok(Value::set(object.keys().cloned()))
}

/// The keys named by an `object.remove`/`object.filter` operand: an object's keys, or the
/// elements of an array or set.
fn named_keys(args: &[Value], position: usize) -> Result<Vec<&Value>, BuiltinError> {
    match args::any(args, position)? {
        Value::Object(entries) => Ok(entries.keys().collect()),
        Value::Array(items) => Ok(items.iter().collect()),
        Value::Set(items) => Ok(items.iter().collect()),
        other => Err(args::wrong_type(
            position,
            "one of {object, set, array}",
            other,
        )),
    }
}

fn remove(args: &[Value]) -> Result<Value, BuiltinError> {
    let object = args::object(args, 0)?;
    let names = named_keys(args, 1)?;
    let mut kept = object.clone();
    for name in names {
        kept.remove(name);
    }
    Ok(Value::Object(Arc::new(kept)))
}

fn filter(args: &[Value]) -> Result<Value, BuiltinError> {
    let object = args::object(args, 0)?;
    let names = named_keys(args, 1)?;
    let kept: BTreeMap<Value, Value> = names
        .into_iter()
        .filter_map(|name| object.get(name).map(|v| (name.clone(), v.clone())))
        .collect();
    Ok(Value::Object(Arc::new(kept)))
}

/// `b` over `a`, merging values that are objects on both sides.
fn merge(a: &BTreeMap<Value, Value>, b: &BTreeMap<Value, Value>) -> BTreeMap<Value, Value> {
    let mut merged = a.clone();
    for (key, value) in b {
        let combined = match (merged.get(key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => {
                Value::Object(Arc::new(merge(old, new)))
            }
            _ => value.clone(),
        };
        merged.insert(key.clone(), combined);
    }
    merged
}

fn union(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = args::object(args, 0)?;
    let b = args::object(args, 1)?;
    Ok(Value::Object(Arc::new(merge(a, b))))
}

fn union_n(args: &[Value]) -> Result<Value, BuiltinError> {
    let items = args::array(args, 0)?;
    let mut merged = BTreeMap::new();
    for item in items {
        let Some(object) = item.as_object() else {
            return Err(BuiltinError::Type(format!(
                "operand 1 must be array of objects but got array containing {}",
                item.type_name()
            )));
        };
        merged = merge(&merged, object);
    }
    Ok(Value::Object(Arc::new(merged)))
}

/// `sub` is a contiguous run of `sup`.
fn array_subset(sup: &[Value], sub: &[Value]) -> bool {
    sub.is_empty() || sup.windows(sub.len()).any(|window| window == sub)
}

/// Nested values: objects recursively, sets and arrays as subsets, anything else equal.
fn value_subset(sup: &Value, sub: &Value) -> bool {
    match (sup, sub) {
        (Value::Object(a), Value::Object(b)) => object_subset(a, b),
        (Value::Set(a), Value::Set(b)) => b.is_subset(a),
        (Value::Array(a), Value::Array(b)) => array_subset(a, b),
        _ => sup == sub,
    }
}

fn object_subset(sup: &BTreeMap<Value, Value>, sub: &BTreeMap<Value, Value>) -> bool {
    sub.iter()
        .all(|(key, value)| sup.get(key).is_some_and(|have| value_subset(have, value)))
}

fn subset(args: &[Value]) -> Result<Value, BuiltinError> {
    let sup = args::any(args, 0)?;
    let sub = args::any(args, 1)?;
    Ok(Value::Bool(match (sup, sub) {
        (Value::Object(a), Value::Object(b)) => object_subset(a, b),
        (Value::Set(a), Value::Set(b)) => b.is_subset(a),
        (Value::Array(a), Value::Array(b)) => array_subset(a, b),
        (Value::Array(a), Value::Set(b)) => b.iter().all(|x| a.contains(x)),
        _ => {
            return Err(BuiltinError::Type(
                "both arguments object.subset must be of the same type or array and set"
                    .to_string(),
            ));
        }
    }))
}

#[cfg(test)]
mod tests {
    use crate::builtins::run_json as run;

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn gets_along_paths() {
        let o = r#"{"a":{"b":[1,{"c":2}]}}"#;
        assert_eq!(
            run("object.get", &format!(r#"[{o},["a","b",1,"c"],"d"]"#)),
            Ok("2".into())
        );
        assert_eq!(
            run("object.get", &format!(r#"[{o},["a","b","1"],"d"]"#)),
            Ok(r#""d""#.into())
        );
        assert_eq!(
            run("object.get", r#"[{"a":1},[],"d"]"#),
            Ok(r#"{"a":1}"#.into())
        );
        assert_eq!(
            run("object.get", r#"[{"a":[1,2]},["a",1.0],"d"]"#),
            Ok("2".into())
        );
        assert_eq!(
            run("object.get", r#"[[1],0,"d"]"#),
            Err("operand 1 must be object but got array".into())
        );
    }

    #[test]
    fn removes_filters_and_merges() {
        assert_eq!(
            run("object.remove", r#"[{"a":1,"b":2},["a","x"]]"#),
            Ok(r#"{"b":2}"#.into())
        );
        assert_eq!(
            run("object.remove", r#"[{"a":1},"a"]"#),
            Err("operand 2 must be one of {object, set, array} but got string".into())
        );
        assert_eq!(
            run("object.filter", r#"[{"a":1,"b":2},["a","x"]]"#),
            Ok(r#"{"a":1}"#.into())
        );
        assert_eq!(
            run(
                "object.union",
                r#"[{"a":1,"b":{"c":2,"d":3}},{"b":{"c":2},"a":5}]"#
            ),
            Ok(r#"{"a":5,"b":{"c":2,"d":3}}"#.into())
        );
        assert_eq!(
            run("object.union_n", r#"[[{"a":1,"b":{"x":1}},{"b":{"y":2}}]]"#),
            Ok(r#"{"a":1,"b":{"x":1,"y":2}}"#.into())
        );
        assert_eq!(
            run("object.union_n", "[[1]]"),
            Err("operand 1 must be array of objects but got array containing number".into())
        );
        assert_eq!(
            run("object.keys", r#"[{"b":1,"a":2}]"#),
            Ok(r#"["a","b"]"#.into())
        );
    }

    #[test]
    fn subsets_as_opa() {
        assert_eq!(
            run(
                "object.subset",
                r#"[{"a":1,"b":{"c":2,"d":3}},{"b":{"c":2}}]"#
            ),
            Ok("true".into())
        );
        assert_eq!(
            run("object.subset", "[[1,2,1,2,3],[1,2,3]]"),
            Ok("true".into())
        );
        assert_eq!(
            run("object.subset", "[[1,2,3,4],[2,4]]"),
            Ok("false".into())
        );
        assert_eq!(
            run(
                "object.subset",
                r#"[{"a":[{"b":1,"c":2}]},{"a":[{"b":1}]}]"#
            ),
            Ok("false".into())
        );
        assert_eq!(
            run("object.subset", r#"[{"a":1},[1]]"#),
            Err("both arguments object.subset must be of the same type or array and set".into())
        );
    }
}
