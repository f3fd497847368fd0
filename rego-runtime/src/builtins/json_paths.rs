//! `json.filter`, `json.remove` and `json.patch` as OPA implements them (`topdown/json.go`):
//! paths are `/`-separated JSON pointers or arrays of segments, a shorter path wins over a
//! longer one, and a failing patch is an error worded as OPA's. regorus's versions raise their
//! own errors and keep the longer path.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::args::{self, BuiltinError};
use super::terms::rego_text;
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("json.filter", 2, filter),
    builtin("json.remove", 2, remove),
    builtin("json.patch", 2, patch),
];

/// A path's segments: a JSON pointer (`/a/b~1c`) split and unescaped, or an array's items.
fn parse_path(path: &Value) -> Result<Vec<Value>, BuiltinError> {
    match path {
        Value::String(text) if text.is_empty() => Ok(Vec::new()),
        Value::String(text) => Ok(text
            .trim_start_matches('/')
            .split('/')
            .map(|part| Value::string(part.replace("~1", "/").replace("~0", "~")))
            .collect()),
        Value::Array(items) => Ok(items.to_vec()),
        other => Err(BuiltinError::Type(format!(
            "operand 2 must be one of {{set, array}} containing string paths or array of path \
             segments but got {}",
            other.type_name()
        ))),
    }
}

fn paths(args: &[Value]) -> Result<Vec<Vec<Value>>, BuiltinError> {
    match args::any(args, 1)? {
        Value::Array(items) => items.iter().map(parse_path).collect(),
        Value::Set(items) => items.iter().map(parse_path).collect(),
        other => Err(args::wrong_type(1, "one of {set, array}", other)),
    }
}

/// The paths as a tree of objects whose leaves are `null`; a path that is a prefix of
/// another replaces it, whichever comes first.
#[derive(Clone, Debug)]
enum Tree {
    Leaf,
    Node(BTreeMap<Value, Tree>),
}

fn paths_to_tree(paths: &[Vec<Value>]) -> BTreeMap<Value, Tree> {
    let mut root = BTreeMap::new();
    for path in paths {
        add_path(&mut root, path);
    }
    root
}

/// Adds one path; below a leaf there is nothing to add.
fn add_path(node: &mut BTreeMap<Value, Tree>, path: &[Value]) {
    match path {
        [] => {}
        [last] => {
            node.insert(last.clone(), Tree::Leaf);
        }
        [first, rest @ ..] => {
            let child = node
                .entry(first.clone())
                .or_insert_with(|| Tree::Node(BTreeMap::new()));
            if let Tree::Node(next) = child {
                add_path(next, rest);
            }
        }
    }
}

/// The key that selects an array's element `index` in a path tree (`"1"`).
fn index_key(index: usize) -> Value {
    Value::string(index.to_string())
}

/// What of `value` the tree selects.
fn keep(value: &Value, tree: &Tree) -> Value {
    let Tree::Node(children) = tree else {
        return value.clone();
    };
    match value {
        Value::Array(items) => Value::array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| children.get(&index_key(i)).map(|t| keep(item, t)))
                .collect(),
        ),
        Value::Set(items) => Value::set(
            items
                .iter()
                .filter_map(|item| children.get(item).map(|t| keep(item, t))),
        ),
        Value::Object(entries) => Value::Object(Arc::new(
            entries
                .iter()
                .filter_map(|(k, v)| children.get(k).map(|t| (k.clone(), keep(v, t))))
                .collect(),
        )),
        scalar => scalar.clone(),
    }
}

/// `value` without what the tree selects; `None` when the tree selects all of it.
fn drop_selected(value: &Value, tree: Option<&Tree>) -> Option<Value> {
    let children = match tree {
        None => return Some(value.clone()),
        Some(Tree::Leaf) => return None,
        Some(Tree::Node(children)) => children,
    };
    Some(match value {
        Value::Object(entries) => Value::Object(Arc::new(
            entries
                .iter()
                .filter_map(|(k, v)| drop_selected(v, children.get(k)).map(|v| (k.clone(), v)))
                .collect(),
        )),
        Value::Set(items) => Value::set(
            items
                .iter()
                .filter_map(|item| drop_selected(item, children.get(item))),
        ),
        Value::Array(items) => Value::array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| drop_selected(item, children.get(&index_key(i))))
                .collect(),
        ),
        scalar => scalar.clone(),
    })
}

fn filter(args: &[Value]) -> Result<Value, BuiltinError> {
    args::object(args, 0)?;
    let tree = Tree::Node(paths_to_tree(&paths(args)?));
    Ok(keep(&args[0], &tree))
}

fn remove(args: &[Value]) -> Result<Value, BuiltinError> {
    args::object(args, 0)?;
    let tree = Tree::Node(paths_to_tree(&paths(args)?));
    drop_selected(&args[0], Some(&tree)).ok_or(BuiltinError::Undefined)
}

// ---- json.patch ----

/// An array position named by a path segment: `-` is the end, digits are an index.
enum Position {
    End,
    Index(usize),
}

fn position(segment: &Value) -> Result<Position, String> {
    match segment {
        Value::String(s) if &**s == "-" => Ok(Position::End),
        Value::String(s) => {
            if s.len() > 1 && s.starts_with('0') {
                return Err("leading zeros are not allowed in JSON paths".to_string());
            }
            s.parse()
                .map(Position::Index)
                .map_err(|_| format!("invalid array index {}", rego_text(segment)))
        }
        Value::Number(n) => n
            .as_i64()
            .and_then(|i| usize::try_from(i).ok())
            .map(Position::Index)
            .ok_or_else(|| format!("invalid array index {}", rego_text(segment))),
        other => Err(format!("invalid array index {}", rego_text(other))),
    }
}

/// The child of `node` under `segment`, for walking a path.
fn child<'a>(node: &'a Value, segment: &Value) -> Result<&'a Value, String> {
    match node {
        Value::Object(entries) => entries.get(segment).ok_or_else(|| {
            format!(
                "path {} does not exist in object term {}",
                rego_text(segment),
                rego_text(node)
            )
        }),
        Value::Array(items) => match position(segment)? {
            Position::Index(i) if i < items.len() => Ok(&items[i]),
            _ => Err("index out of bounds".to_string()),
        },
        Value::Set(items) => items.get(segment).ok_or_else(|| {
            format!(
                "path {} does not exist in set term {}",
                rego_text(segment),
                rego_text(node)
            )
        }),
        scalar => Err(format!(
            "path {} does not exist in scalar term {}",
            rego_text(segment),
            rego_text(scalar)
        )),
    }
}

fn render(node: &Value, path: &[Value]) -> Result<Value, String> {
    match path.split_first() {
        None => Ok(node.clone()),
        Some((segment, rest)) => render(child(node, segment)?, rest),
    }
}

/// `node` with its child under `segment` replaced by what `edit` makes of it.
fn with_child(
    node: &Value,
    segment: &Value,
    edit: impl FnOnce(&Value) -> Result<Value, String>,
) -> Result<Value, String> {
    let updated = edit(child(node, segment)?)?;
    Ok(match node {
        Value::Object(entries) => {
            let mut entries = (**entries).clone();
            entries.insert(segment.clone(), updated);
            Value::Object(Arc::new(entries))
        }
        Value::Array(items) => {
            let mut items = (**items).clone();
            if let Ok(Position::Index(i)) = position(segment)
                && let Some(slot) = items.get_mut(i)
            {
                *slot = updated;
            }
            Value::array(items)
        }
        Value::Set(items) => {
            let mut items: BTreeSet<Value> = (**items).clone();
            items.remove(segment);
            items.insert(updated);
            Value::Set(Arc::new(items))
        }
        scalar => scalar.clone(),
    })
}

fn insert(node: &Value, path: &[Value], value: &Value) -> Result<Value, String> {
    let Some((last, prefix)) = path.split_last() else {
        return Ok(value.clone());
    };
    if let Some((first, _)) = prefix.split_first() {
        return with_child(node, first, |c| insert(c, &path[1..], value));
    }
    Ok(match node {
        Value::Object(entries) => {
            let mut entries = (**entries).clone();
            entries.insert(last.clone(), value.clone());
            Value::Object(Arc::new(entries))
        }
        Value::Array(items) => {
            let mut items = (**items).clone();
            match position(last)? {
                Position::End => items.push(value.clone()),
                Position::Index(i) if i <= items.len() => items.insert(i, value.clone()),
                Position::Index(_) => {
                    return Err("index for array insertion out of bounds".to_string());
                }
            }
            Value::array(items)
        }
        Value::Set(items) => {
            if last != value {
                return Err(format!(
                    "set key {} does not equal value to be inserted {}",
                    rego_text(last),
                    rego_text(value)
                ));
            }
            let mut items: BTreeSet<Value> = (**items).clone();
            items.insert(value.clone());
            Value::Set(Arc::new(items))
        }
        scalar => {
            return Err(format!(
                "cannot insert into scalar term {}",
                rego_text(scalar)
            ));
        }
    })
}

fn delete(node: &Value, path: &[Value]) -> Result<Value, String> {
    let Some((last, prefix)) = path.split_last() else {
        return Err("cannot delete the root document".to_string());
    };
    if let Some((first, _)) = prefix.split_first() {
        return with_child(node, first, |c| delete(c, &path[1..]));
    }
    Ok(match node {
        Value::Object(entries) => {
            let mut entries = (**entries).clone();
            if entries.remove(last).is_none() {
                return Err(format!(
                    "cannot delete child key {} that does not exist",
                    rego_text(last)
                ));
            }
            Value::Object(Arc::new(entries))
        }
        Value::Array(items) => {
            let mut items = (**items).clone();
            match position(last)? {
                Position::Index(i) if i < items.len() => {
                    items.remove(i);
                }
                _ => return Err("index for array delete out of bounds".to_string()),
            }
            Value::array(items)
        }
        Value::Set(items) => {
            let mut items: BTreeSet<Value> = (**items).clone();
            if !items.remove(last) {
                return Err(format!(
                    "cannot delete child key {} that does not exist",
                    rego_text(last)
                ));
            }
            Value::Set(Arc::new(items))
        }
        scalar => {
            return Err(format!(
                "cannot delete from scalar term {}",
                rego_text(scalar)
            ));
        }
    })
}

/// One operation's attribute, required.
fn attribute<'a>(op: &'a BTreeMap<Value, Value>, name: &str) -> Result<&'a Value, String> {
    op.get(&Value::string(name))
        .ok_or_else(|| format!("missing required attribute '{name}'"))
}

/// Applies one operation; path errors of the operand's type are type errors.
fn apply(document: Value, operation: &Value) -> Result<Value, BuiltinError> {
    let failed = BuiltinError::Failed;
    let Some(op) = operation.as_object() else {
        return Err(failed(
            "must be an array of JSON-Patch objects, but at least one element is not an object"
                .to_string(),
        ));
    };
    let name = match attribute(op, "op").map_err(failed)? {
        Value::String(s) => s.to_string(),
        _ => return Err(failed("attribute 'op' must be a string".to_string())),
    };
    if !["add", "remove", "replace", "move", "copy", "test"].contains(&name.as_str()) {
        return Err(failed(format!("unrecognized op: '{name}'")));
    }
    let path = parse_path(attribute(op, "path").map_err(failed)?)?;
    let from = match name.as_str() {
        "move" | "copy" => Some(parse_path(attribute(op, "from").map_err(failed)?)?),
        _ => None,
    };
    let value = match name.as_str() {
        "add" | "replace" | "test" => Some(attribute(op, "value").map_err(failed)?),
        _ => None,
    };
    let result = match (name.as_str(), from, value) {
        ("add", _, Some(value)) => insert(&document, &path, value),
        ("remove", _, _) => delete(&document, &path),
        ("replace", _, Some(value)) => {
            delete(&document, &path).and_then(|d| insert(&d, &path, value))
        }
        ("move", Some(from), _) => render(&document, &from)
            .and_then(|moved| delete(&document, &from).and_then(|d| insert(&d, &path, &moved))),
        ("copy", Some(from), _) => {
            render(&document, &from).and_then(|copied| insert(&document, &path, &copied))
        }
        ("test", _, Some(value)) => render(&document, &path).and_then(|found| {
            if &found == value {
                Ok(document.clone())
            } else {
                Err(format!(
                    "value from EditTree != patch value.\n\nExpected: {}\n\nFound: {}",
                    rego_text(value),
                    rego_text(&found)
                ))
            }
        }),
        _ => Ok(document.clone()),
    };
    result.map_err(failed)
}

fn patch(args: &[Value]) -> Result<Value, BuiltinError> {
    let document = args::any(args, 0)?.clone();
    let operations = args::array(args, 1)?;
    operations.iter().try_fold(document, apply)
}

#[cfg(test)]
mod tests {
    use crate::builtins::run_json as run;

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn filters_and_removes() {
        let o = r#"{"a":{"b":1,"c":2},"d":3}"#;
        assert_eq!(
            run("json.filter", &format!(r#"[{o},["a/b","d"]]"#)),
            Ok(r#"{"a":{"b":1},"d":3}"#.into())
        );
        assert_eq!(
            run("json.filter", &format!(r#"[{o},["a","a/b"]]"#)),
            Ok(r#"{"a":{"b":1,"c":2}}"#.into())
        );
        assert_eq!(
            run("json.filter", r#"[{"a":[10,20,30]},["a/1"]]"#),
            Ok(r#"{"a":[20]}"#.into())
        );
        assert_eq!(
            run("json.remove", &format!(r#"[{o},["a/b","d"]]"#)),
            Ok(r#"{"a":{"c":2}}"#.into())
        );
        assert_eq!(
            run("json.remove", r#"[{"a":[1,2,3]},["a/0"]]"#),
            Ok(r#"{"a":[2,3]}"#.into())
        );
        assert_eq!(
            run("json.remove", r#"[{"a":{"b":1}},[["a","b"]]]"#),
            Ok(r#"{"a":{}}"#.into())
        );
        assert_eq!(
            run("json.remove", r#"[{"a":1},"a"]"#),
            Err("operand 2 must be one of {set, array} but got string".into())
        );
        assert_eq!(
            run("json.filter", r#"[[1],["a"]]"#),
            Err("operand 1 must be object but got array".into())
        );
    }

    #[test]
    fn patches_as_opa() {
        assert_eq!(
            run(
                "json.patch",
                r#"[[1,3],[{"op":"add","path":"/1","value":2}]]"#
            ),
            Ok("[1,2,3]".into())
        );
        assert_eq!(
            run(
                "json.patch",
                r#"[{"a":{"b":1}},[{"op":"move","from":"/a/b","path":"/c"}]]"#
            ),
            Ok(r#"{"a":{},"c":1}"#.into())
        );
        assert_eq!(
            run(
                "json.patch",
                r#"[{"a/b":1,"c~d":2},[{"op":"remove","path":"/a~1b"},{"op":"replace","path":"/c~0d","value":3}]]"#
            ),
            Ok(r#"{"c~d":3}"#.into())
        );
        assert_eq!(
            run(
                "json.patch",
                r#"[{"a":1},[{"op":"add","path":"","value":5}]]"#
            ),
            Ok("5".into())
        );
        assert_eq!(
            run("json.patch", r#"[{"a":1},[{"op":"remove","path":"/zz"}]]"#),
            Err(r#"cannot delete child key "zz" that does not exist"#.into())
        );
        assert_eq!(
            run(
                "json.patch",
                r#"[{"a":1},[{"op":"add","path":"/x/y","value":1}]]"#
            ),
            Err(r#"path "x" does not exist in object term {"a": 1}"#.into())
        );
        assert_eq!(
            run(
                "json.patch",
                r#"[[1,2],[{"op":"add","path":"/01","value":9}]]"#
            ),
            Err("leading zeros are not allowed in JSON paths".into())
        );
        assert_eq!(
            run(
                "json.patch",
                r#"[{"a":1},[{"op":"test","path":"/a","value":2}]]"#
            ),
            Err("value from EditTree != patch value.\n\nExpected: 2\n\nFound: 1".into())
        );
        assert_eq!(
            run("json.patch", r#"[{"a":1},[{"op":"bogus","path":"/a"}]]"#),
            Err("unrecognized op: 'bogus'".into())
        );
        assert_eq!(
            run("json.patch", r#"[{"a":1},[{"path":"/a"}]]"#),
            Err("missing required attribute 'op'".into())
        );
        assert_eq!(
            run("json.patch", r#"[{},{"op":"add"}]"#),
            Err("operand 2 must be array but got object".into())
        );
    }
}
