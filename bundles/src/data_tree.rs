//! Placing and merging data documents: `a/b/data.json` lands at `data.a.b`, deep-merged.

use std::sync::Arc;

use rego_runtime::Value;

/// Why a merge failed: two values that are not both objects meet at one path.
#[derive(Debug, PartialEq, Eq)]
pub struct Conflict;

/// Deep-merges `value` into `target` at `path`, creating objects along the way.
///
/// # Errors
/// [`Conflict`] when a non-object value is already where an object or another value goes.
pub fn insert(target: &mut Value, path: &[String], value: Value) -> Result<(), Conflict> {
    let Some((first, rest)) = path.split_first() else {
        return merge(target, value);
    };
    let Value::Object(entries) = target else {
        return Err(Conflict);
    };
    let entries = Arc::make_mut(entries);
    let key = Value::string(first);
    match entries.get_mut(&key) {
        Some(existing) => insert(existing, rest, value),
        None => {
            let mut child = Value::empty_object();
            if rest.is_empty() {
                child = value;
            } else {
                insert(&mut child, rest, value)?;
            }
            entries.insert(key, child);
            Ok(())
        }
    }
}

/// Merges objects key by key; anything else may only meet an empty object.
fn merge(target: &mut Value, value: Value) -> Result<(), Conflict> {
    match (target, value) {
        (Value::Object(existing), Value::Object(incoming)) => {
            let existing = Arc::make_mut(existing);
            for (key, value) in Arc::unwrap_or_clone(incoming) {
                match existing.get_mut(&key) {
                    Some(slot) => merge(slot, value)?,
                    None => {
                        existing.insert(key, value);
                    }
                }
            }
            Ok(())
        }
        (slot @ Value::Object(_), value) if slot.as_object().is_some_and(|o| o.is_empty()) => {
            *slot = value;
            Ok(())
        }
        _ => Err(Conflict),
    }
}

/// The value at `path`, if there is one.
pub fn get<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(root, |node, key| node.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        Value::from_json(text).expect("json")
    }

    #[test]
    fn merges_objects_deeply_at_their_path() {
        let mut data = json(r#"{"a":{"x":1}}"#);
        insert(&mut data, &["a".into()], json(r#"{"y":2}"#)).expect("merge");
        insert(&mut data, &["b".into(), "c".into()], json("[1]")).expect("insert");
        assert_eq!(data.to_json(), r#"{"a":{"x":1,"y":2},"b":{"c":[1]}}"#);
    }

    #[test]
    fn two_values_at_one_path_conflict() {
        let mut data = json(r#"{"a":{"x":1}}"#);
        assert_eq!(
            insert(&mut data, &["a".into()], json(r#"{"x":2}"#)),
            Err(Conflict)
        );
    }
}
