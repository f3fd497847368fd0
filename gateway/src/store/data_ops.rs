//! Writes to the data document with the semantics and messages of OPA's in-memory store:
//! JSON-patch style add, remove and replace, plus `make_dir` for PUT's missing parents.

use std::sync::Arc;

use rego_runtime::Value;

/// OPA's storage error codes; the OPA door maps each to its status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("storage_not_found_error: {0}")]
    NotFound(String),
    #[error("storage_write_conflict_error: {0}")]
    WriteConflict(String),
    #[error("storage_invalid_patch_error: {0}")]
    InvalidPatch(String),
}

/// A write operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

/// `/a/b` as OPA prints storage paths.
pub fn display(path: &[String]) -> String {
    format!("/{}", path.join("/"))
}

/// The value at `path`, if any.
pub fn read<'a>(data: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(data, |node, key| match node {
        Value::Object(entries) => entries.get(&Value::string(key)),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Creates empty objects along `path` where nothing exists yet.
///
/// # Errors
/// [`StorageError::WriteConflict`] when a prefix of `path` holds a non-object.
pub fn make_dir(data: &mut Value, path: &[String]) -> Result<(), StorageError> {
    for end in 1..=path.len() {
        let prefix = &path[..end];
        match read(data, prefix) {
            None => write(data, Op::Add, prefix, Some(Value::empty_object()))?,
            Some(Value::Object(_)) => {}
            Some(_) => return Err(StorageError::WriteConflict(display(prefix))),
        }
    }
    Ok(())
}

/// Applies one operation at `path`.
///
/// # Errors
/// OPA's not-found, conflict and invalid-patch errors, with OPA's messages.
pub fn write(
    data: &mut Value,
    op: Op,
    path: &[String],
    value: Option<Value>,
) -> Result<(), StorageError> {
    let Some((last, parent_path)) = path.split_last() else {
        return write_root(data, op, value);
    };
    let not_found = |hint: &str| StorageError::NotFound(format!("{}: {hint}", display(path)));
    let parent = parent_mut(data, parent_path).ok_or_else(does_not_exist)?;
    match parent {
        Value::Object(entries) => {
            let entries = Arc::make_mut(entries);
            let key = Value::string(last);
            match op {
                Op::Add => {
                    entries.insert(key, value.unwrap_or(Value::Null));
                }
                Op::Replace => match entries.get_mut(&key) {
                    Some(slot) => *slot = value.unwrap_or(Value::Null),
                    None => return Err(does_not_exist()),
                },
                Op::Remove => {
                    if entries.remove(&key).is_none() {
                        return Err(does_not_exist());
                    }
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            let items = Arc::make_mut(items);
            if op == Op::Add && last == "-" {
                items.push(value.unwrap_or(Value::Null));
                return Ok(());
            }
            let index: usize = last
                .parse()
                .map_err(|_| not_found("array index must be integer"))?;
            let limit = if op == Op::Add {
                items.len()
            } else {
                items.len().saturating_sub(1)
            };
            if index > limit || (op != Op::Add && items.is_empty()) {
                return Err(not_found("array index out of range"));
            }
            match op {
                Op::Add => items.insert(index, value.unwrap_or(Value::Null)),
                Op::Replace => items[index] = value.unwrap_or(Value::Null),
                Op::Remove => {
                    items.remove(index);
                }
            }
            Ok(())
        }
        _ => Err(does_not_exist()),
    }
}

/// OPA's plain not-found error: no path in the message.
pub fn does_not_exist() -> StorageError {
    StorageError::NotFound("document does not exist".to_string())
}

fn write_root(data: &mut Value, op: Op, value: Option<Value>) -> Result<(), StorageError> {
    match (op, value) {
        (Op::Remove, _) => Err(StorageError::InvalidPatch("root cannot be removed".into())),
        (_, Some(value @ Value::Object(_))) => {
            *data = value;
            Ok(())
        }
        _ => Err(StorageError::InvalidPatch("root must be object".into())),
    }
}

fn parent_mut<'a>(data: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut node = data;
    for key in path {
        node = match node {
            Value::Object(entries) => Arc::make_mut(entries).get_mut(&Value::string(key))?,
            Value::Array(items) => {
                let index: usize = key.parse().ok()?;
                Arc::make_mut(items).get_mut(index)?
            }
            _ => return None,
        };
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        Value::from_json(text).expect("json")
    }

    fn path(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    #[test]
    fn add_remove_replace_like_opa() {
        let mut data = json(r#"{"a":{"b":[1,2]}}"#);
        write(&mut data, Op::Add, &path("a/c"), Some(json("3"))).expect("add");
        write(&mut data, Op::Add, &path("a/b/-"), Some(json("9"))).expect("append");
        write(&mut data, Op::Add, &path("a/b/0"), Some(json("0"))).expect("insert");
        write(&mut data, Op::Replace, &path("a/c"), Some(json("4"))).expect("replace");
        write(&mut data, Op::Remove, &path("a/b/1"), None).expect("remove");
        assert_eq!(data.to_json(), r#"{"a":{"b":[0,2,9],"c":4}}"#);
    }

    #[test]
    fn errors_carry_opa_messages() {
        let mut data = json(r#"{"a":{"b":[1]}}"#);
        assert_eq!(
            write(&mut data, Op::Remove, &path("a/x"), None)
                .expect_err("missing")
                .to_string(),
            "storage_not_found_error: document does not exist"
        );
        assert_eq!(
            write(&mut data, Op::Replace, &path("a/b/q"), Some(json("1")))
                .expect_err("bad index")
                .to_string(),
            "storage_not_found_error: /a/b/q: array index must be integer"
        );
        assert_eq!(
            make_dir(&mut data, &path("a/b/c"))
                .expect_err("conflict")
                .to_string(),
            "storage_write_conflict_error: /a/b"
        );
    }
}
