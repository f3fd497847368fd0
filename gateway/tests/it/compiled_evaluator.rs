//! The Rego engine's compiled evaluator against regorus, on every Gatekeeper template of the
//! corpus: each sample object, and variants of it with one member removed or retyped, must
//! get the same violations (constraint, message, details, action) from both, and the
//! compiled evaluator must run every template itself. Where regorus raises a runtime error
//! for a constraint, that constraint is not compared: regorus raises some errors OPA does not
//! (`some x in 0.5` iterates over nothing in OPA), and the compiled evaluator hands every
//! error it meets to regorus anyway.

use std::path::Path;

use gateway::gatekeeper::constraints::GATOR_POINT;
use gateway::gatekeeper::evaluate::{self, Violation};
use gateway::gatekeeper::objects;
use gateway::gatekeeper::review;
use gateway::gatekeeper::state::{GatekeeperContents, PreparedGatekeeper};
use rego_runtime::rego::RegoEngine;
use rego_runtime::{Limits, Value};

/// Variants tried per sample object.
const VARIANTS_PER_OBJECT: usize = 24;

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/gatekeeper")
}

/// What a user sees of a violation.
fn shown(violations: &[Violation]) -> Vec<String> {
    violations
        .iter()
        .map(|v| {
            format!(
                "[{}/{}] {} {:?} {:?} {:?}",
                v.constraint.kind,
                v.constraint.name,
                v.msg,
                v.details,
                v.enforcement_action,
                v.scoped_actions
            )
        })
        .collect()
}

/// Every path to a member of `value` (object keys and array indexes), depth first.
fn member_paths(value: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    let children: Vec<(Value, &Value)> = match value {
        Value::Object(entries) => entries.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Value::int(i as i64), v))
            .collect(),
        _ => return,
    };
    for (key, child) in children {
        prefix.push(key);
        out.push(prefix.clone());
        member_paths(child, prefix, out);
        prefix.pop();
    }
}

/// `value` with the member at `path` replaced (`None`: removed).
fn changed(value: &Value, path: &[Value], replacement: Option<&Value>) -> Value {
    let Some((first, rest)) = path.split_first() else {
        return replacement.cloned().unwrap_or(Value::Null);
    };
    match value {
        Value::Object(entries) => {
            let mut entries = (**entries).clone();
            if rest.is_empty() && replacement.is_none() {
                entries.remove(first);
            } else if let Some(child) = entries.get(first) {
                let child = changed(child, rest, replacement);
                entries.insert(first.clone(), child);
            }
            Value::Object(std::sync::Arc::new(entries))
        }
        Value::Array(items) => {
            let mut items = (**items).clone();
            let index = first.as_number().and_then(|n| n.as_i64()).unwrap_or(0) as usize;
            if rest.is_empty() && replacement.is_none() {
                items.remove(index);
            } else {
                items[index] = changed(&items[index], rest, replacement);
            }
            Value::array(items)
        }
        other => other.clone(),
    }
}

/// The object and some of its variants, chosen the same way on every run.
fn variants(object: &Value) -> Vec<Value> {
    let replacements = [
        None,
        Some(Value::Null),
        Some(Value::string("x")),
        Some(Value::int(7)),
        Some(Value::float(0.5)),
        Some(Value::Bool(false)),
        Some(Value::array(Vec::new())),
        Some(Value::empty_object()),
    ];
    let mut paths = Vec::new();
    member_paths(object, &mut Vec::new(), &mut paths);
    // Keep the object an object of its kind, so that the constraints still match it.
    paths.retain(|p| {
        !matches!(
            p.first().and_then(Value::as_str),
            Some("kind" | "apiVersion")
        ) && p.len() > 1
    });
    let mut out = vec![object.clone()];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..VARIANTS_PER_OBJECT.min(paths.len() * replacements.len()) {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1442695040888963407);
        let path = &paths[(state >> 33) as usize % paths.len()];
        let replacement = &replacements[(state >> 13) as usize % replacements.len()];
        out.push(changed(object, path, replacement.as_ref()));
    }
    out
}

#[test]
fn compiled_evaluator_reviews_every_corpus_template_as_regorus_does() {
    let compiled = RegoEngine::new(0);
    let regorus = RegoEngine::new(0).with_compiled_evaluator(false);
    let limits = Limits::default();
    let mut dirs: Vec<_> = std::fs::read_dir(corpus())
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("template.yaml").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 25, "the corpus has its templates");
    let mut reviews = 0;
    let mut differences = Vec::new();
    for dir in &dirs {
        let manifests = objects::read_manifests(dir).expect("manifests");
        let is_policy = |o: &Value| {
            let group = objects::group_of(objects::api_version(o));
            group == "templates.gatekeeper.sh" || group == "constraints.gatekeeper.sh"
        };
        let (policies, subjects): (Vec<Value>, Vec<Value>) =
            manifests.into_iter().partition(is_policy);
        let subjects = objects::flatten_lists(subjects);
        let mut contents = GatekeeperContents::default();
        contents.replace_file_objects(&policies);
        let _ = contents.replace_file_inventory(subjects.clone());
        let on = PreparedGatekeeper::build(&compiled, &contents, None);
        let off = PreparedGatekeeper::build(&regorus, &contents, None);
        for group in &on.groups {
            assert_eq!(
                group.compiled.prepared.slow_path_reason(),
                None,
                "{}: the compiled evaluator does not run template {}",
                dir.display(),
                group.template.kind
            );
        }
        for subject in &subjects {
            for variant in variants(subject) {
                let review = review::from_object(&variant, None, false, "Original");
                let a = evaluate::review(&compiled, &on, &review, GATOR_POINT, &limits);
                let b = evaluate::review(&regorus, &off, &review, GATOR_POINT, &limits);
                reviews += 1;
                let (a, b) = match (a, b) {
                    (Ok(a), Ok(b)) => {
                        let failed: Vec<String> = b
                            .violations
                            .iter()
                            .filter(|v| v.details == Some(Value::Null))
                            .map(|v| v.constraint.name.to_string())
                            .collect();
                        let compared = |violations: Vec<Violation>| -> Vec<Violation> {
                            violations
                                .into_iter()
                                .filter(|v| !failed.contains(&v.constraint.name.to_string()))
                                .collect()
                        };
                        (
                            shown(&compared(a.violations)),
                            shown(&compared(b.violations)),
                        )
                    }
                    (a, b) => (
                        vec![format!("{:?}", a.map(|r| shown(&r.violations)))],
                        vec![format!("{:?}", b.map(|r| shown(&r.violations)))],
                    ),
                };
                if a != b {
                    differences.push(format!(
                        "{}: {}\n  compiled: {a:#?}\n  regorus:  {b:#?}",
                        dir.display(),
                        variant.to_json()
                    ));
                }
            }
        }
    }
    assert!(reviews > 500, "only {reviews} reviews ran");
    assert!(
        differences.is_empty(),
        "{} of {reviews} reviews differ:\n{}",
        differences.len(),
        differences.join("\n\n")
    );
}
