//! `graph.reachable` and `graph.reachable_paths` as OPA computes them (`topdown/reachable.go`),
//! replacing regorus's versions, whose errors are not OPA's (`graph.reachable: operand 1 must
//! be object but got array`). `walk`, OPA's one relation: its solutions, every `[path, value]`
//! pair, are answered as one array in OPA's order, which each engine iterates (`walk(x, out)`
//! matches `out` against every pair).

use std::collections::{BTreeMap, BTreeSet};

use super::args::{self, BuiltinError};
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "graph.reachable",
        arity: 2,
        nondeterministic: false,
        eval: Implementation::Operands(reachable),
    },
    Builtin {
        name: "graph.reachable_paths",
        arity: 2,
        nondeterministic: false,
        eval: Implementation::Operands(reachable_paths),
    },
    Builtin {
        name: WALK,
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(walk),
    },
];

/// The name of `walk`, whose value engines iterate rather than match (see [`walk`]).
pub const WALK: &str = "walk";

/// Every `[path, value]` pair of a document, as OPA's `walk` gives them (`topdown/walk.go`):
/// the document itself first (path `[]`), then each member's pairs in turn, arrays by index,
/// objects by key, sets by member (a member is its own key).
fn walk(args: &[Value]) -> Result<Value, BuiltinError> {
    fn visit(path: &mut Vec<Value>, value: &Value, out: &mut Vec<Value>) {
        out.push(Value::array(vec![
            Value::array(path.clone()),
            value.clone(),
        ]));
        let mut member = |key: Value, value: &Value, out: &mut Vec<Value>| {
            path.push(key);
            visit(path, value, out);
            path.pop();
        };
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    member(Value::int(i as i64), item, out);
                }
            }
            Value::Object(entries) => {
                for (key, item) in entries.iter() {
                    member(key.clone(), item, out);
                }
            }
            Value::Set(items) => {
                for item in items.iter() {
                    member(item.clone(), item, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    visit(&mut Vec::new(), args::any(args, 0)?, &mut out);
    Ok(Value::array(out))
}

/// The vertices of an array or set; anything else (`null` edges) has none.
fn vertices(collection: &Value) -> Vec<&Value> {
    match collection {
        Value::Array(items) => items.iter().collect(),
        Value::Set(items) => items.iter().collect(),
        _ => Vec::new(),
    }
}

fn initial(args: &[Value]) -> Result<Vec<&Value>, BuiltinError> {
    match args::any(args, 1)? {
        collection @ (Value::Array(_) | Value::Set(_)) => Ok(vertices(collection)),
        other => Err(args::wrong_type(1, "{array, set}", other)),
    }
}

/// Every vertex of the graph reachable from the initial ones (themselves included when they
/// are in the graph), breadth first.
fn reachable(args: &[Value]) -> Result<Value, BuiltinError> {
    let graph = args::object(args, 0)?;
    let mut queue: std::collections::VecDeque<&Value> = initial(args)?.into();
    let mut reached: BTreeSet<Value> = BTreeSet::new();
    while let Some(node) = queue.pop_front() {
        // A vertex missing from the graph is ignored.
        if let Some(edges) = graph.get(node) {
            for neighbor in vertices(edges) {
                if !reached.contains(neighbor) {
                    queue.push_back(neighbor);
                }
            }
            reached.insert(node.clone());
        }
    }
    Ok(Value::set(reached))
}

/// Adds every path from `root` that ends at a leaf, at a vertex missing from the graph
/// (without it) or before a vertex the path already holds.
fn paths_from(
    graph: &BTreeMap<Value, Value>,
    root: &Value,
    mut path: Vec<Value>,
    reached: &BTreeSet<Value>,
    out: &mut BTreeSet<Value>,
) {
    let Some(edges) = graph.get(root) else {
        out.insert(Value::array(path));
        return;
    };
    path.push(root.clone());
    let neighbors = vertices(edges);
    if neighbors.is_empty() {
        out.insert(Value::array(path));
        return;
    }
    let mut reached = reached.clone();
    reached.insert(root.clone());
    for neighbor in neighbors {
        if reached.contains(neighbor) {
            out.insert(Value::array(path.clone()));
        } else {
            paths_from(graph, neighbor, path.clone(), &reached, out);
        }
    }
}

fn reachable_paths(args: &[Value]) -> Result<Value, BuiltinError> {
    let graph = args::object(args, 0)?;
    let mut out = BTreeSet::new();
    for node in initial(args)? {
        let Some(edges) = graph.get(node) else {
            continue;
        };
        let neighbors = vertices(edges);
        if neighbors.is_empty() {
            out.insert(Value::array(vec![node.clone()]));
        }
        let reached = BTreeSet::from([node.clone()]);
        for neighbor in neighbors {
            paths_from(graph, neighbor, vec![node.clone()], &reached, &mut out);
        }
    }
    Ok(Value::set(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::run_fn as run;

    // Expected values confirmed with `opa eval 'x := [p | walk(input, p)]'` (OPA 1.22.2).
    #[test]
    fn walks_as_opa() {
        assert_eq!(
            run(walk, r#"[{"b":[1,{"c":2}],"a":{}}]"#),
            Ok(concat!(
                r#"[[[],{"a":{},"b":[1,{"c":2}]}],[["a"],{}],[["b"],[1,{"c":2}]],"#,
                r#"[["b",0],1],[["b",1],{"c":2}],[["b",1,"c"],2]]"#
            )
            .into())
        );
        assert_eq!(run(walk, "[3]"), Ok("[[[],3]]".into()));
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn reaches_as_opa() {
        let g = r#"{"a":["b","c"],"b":["d"],"c":[],"d":["a"],"e":["f"],"f":[]}"#;
        assert_eq!(
            run(reachable, &format!(r#"[{g},["b"]]"#)),
            Ok(r#"["a","b","c","d"]"#.into())
        );
        assert_eq!(run(reachable, &format!(r#"[{g},["zz"]]"#)), Ok("[]".into()));
        assert_eq!(
            run(reachable, r#"[{"a":null},["a"]]"#),
            Ok(r#"["a"]"#.into())
        );
        assert_eq!(
            run(reachable, r#"[["a"],["a"]]"#),
            Err("operand 1 must be object but got array".into())
        );
    }

    #[test]
    fn paths_as_opa() {
        assert_eq!(
            run(
                reachable_paths,
                r#"[{"a":["b","c"],"b":["c"],"c":["d"],"d":[]},["a"]]"#
            ),
            Ok(r#"[["a","b","c","d"],["a","c","d"]]"#.into())
        );
        assert_eq!(
            run(
                reachable_paths,
                r#"[{"a":["b"],"b":["c"],"c":["a"]},["a"]]"#
            ),
            Ok(r#"[["a","b","c"]]"#.into())
        );
        assert_eq!(
            run(reachable_paths, r#"[{"a":["b","x"],"b":[]},["a"]]"#),
            Ok(r#"[["a"],["a","b"]]"#.into())
        );
        assert_eq!(
            run(reachable_paths, r#"[{"a":["a"]},["a"]]"#),
            Ok(r#"[["a","a"]]"#.into())
        );
        assert_eq!(
            run(reachable_paths, r#"[{},"a"]"#),
            Err("operand 2 must be {array, set} but got string".into())
        );
    }
}
