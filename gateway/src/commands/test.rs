//! `gateway test`: gator test's review of manifests. Every template, then every constraint is
//! added, every object is filed in the inventory, then every object is reviewed at
//! `gator.gatekeeper.sh`; results print as gator prints them (human, `-o json` or `-o yaml`).

mod go_float;
mod yaml;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rego_runtime::rego::RegoEngine;
use rego_runtime::{Limits, Value};
use yaml::{Node, Numbers};

use crate::gatekeeper::constraints::{self, GATOR_POINT};
use crate::gatekeeper::evaluate::{self, Violation};
use crate::gatekeeper::objects;
use crate::gatekeeper::review;
use crate::gatekeeper::state::{GatekeeperContents, Origin, PreparedGatekeeper, Refusal};
use crate::gatekeeper::templates;

/// The formats of `gateway test -o`, as gator names them; without `-o`, gator's human lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Json,
    Yaml,
}

/// What gator test found: each result and the object it is about.
pub struct Finding {
    pub violation: Violation,
    pub object: Value,
}

/// Reads `paths` as gator test does (files must be YAML or JSON; directories are walked).
///
/// # Errors
/// `reading: ...` messages, as gator prints them.
pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            format!(
                "reading: reading from filenames: stat on path {:?}: {e}",
                path.display().to_string()
            )
        })?;
        if !meta.is_dir() && !objects::has_extension(path, &objects::MANIFEST_EXTENSIONS) {
            return Err(format!(
                "reading: reading from filenames: path {:?} must be of extensions: [.yaml .yml .json]",
                path.display().to_string()
            ));
        }
        for file in objects::files_below(path, &objects::MANIFEST_EXTENSIONS)
            .map_err(|e| format!("reading: {e}"))?
        {
            out.extend(read_file(&file)?);
        }
    }
    if out.is_empty() {
        return Err("no input data identified".to_string());
    }
    Ok(out)
}

fn read_file(file: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        format!(
            "reading: opening file {:?}: {e}",
            file.display().to_string()
        )
    })?;
    objects::parse_documents(&text).map_err(|e| {
        format!(
            "reading: reading file {:?}: reading yaml source: {e}",
            file.display().to_string()
        )
    })
}

/// Adds, files and reviews `inputs`; results sorted as gator sorts them (by enforcement
/// action, then message).
///
/// # Errors
/// The first template, constraint or object gator would refuse, worded as gator words it.
pub fn review_all(inputs: &[Value], limits: &Limits) -> Result<Vec<Finding>, String> {
    let engine = RegoEngine::default();
    let mut contents = GatekeeperContents::default();
    let is_template = |o: &Value| {
        objects::group_of(objects::api_version(o)) == templates::GROUP
            && objects::kind(o) == "ConstraintTemplate"
    };
    for object in inputs.iter().filter(|o| is_template(o)) {
        contents
            .put_template(object.clone(), Origin::Files)
            .map_err(|e| format!("adding template {:?}: {e}", objects::name(object)))?;
    }
    let prepared = PreparedGatekeeper::build(&engine, &contents, None);
    for state in prepared.templates.values() {
        if let Some(problem) = state.problem() {
            return Err(format!("adding template {:?}: {problem}", state.name));
        }
    }
    for object in inputs
        .iter()
        .filter(|o| objects::group_of(objects::api_version(o)) == constraints::GROUP)
    {
        contents
            .put_constraint(object.clone(), Origin::Files)
            .map_err(|e| match e {
                Refusal::Constraint(e) => {
                    format!("adding constraint {:?}: {e}", objects::name(object))
                }
                other => other.to_string(),
            })?;
    }
    for object in inputs {
        contents.inventory.add(object).map_err(|e| {
            format!(
                "adding data of GVK {:?}: {e}",
                format!(
                    "{}, Kind={}",
                    objects::api_version(object),
                    objects::kind(object)
                )
            )
        })?;
    }
    let prepared = PreparedGatekeeper::build(&engine, &contents, Some(&prepared));
    let namespaces: std::collections::BTreeMap<&str, &Value> = inputs
        .iter()
        .filter(|o| objects::is_namespace(o))
        .map(|o| (objects::name(o), o))
        .collect();
    let mut findings = Vec::new();
    for object in inputs {
        // gator's expander: cluster-scoped objects get an empty Namespace, `default` a
        // synthetic one, other unknown namespaces none.
        let namespace = match objects::namespace(object) {
            "" => Some(Value::object([("metadata", Value::empty_object())])),
            ns => match namespaces.get(ns) {
                Some(found) => Some((*found).clone()),
                None if ns == "default" => Some(Value::object([(
                    "metadata",
                    Value::object([("name", Value::string("default"))]),
                )])),
                None => None,
            },
        };
        let review = review::from_object(object, namespace, false, "Original");
        let outcome =
            evaluate::review(&engine, &prepared, &review, GATOR_POINT, limits).map_err(|e| {
                format!(
                    "reviewing {}, Kind={} {}/{}: {e}",
                    objects::api_version(object),
                    objects::kind(object),
                    objects::namespace(object),
                    objects::name(object)
                )
            })?;
        findings.extend(outcome.violations.into_iter().map(|violation| Finding {
            violation,
            object: object.clone(),
        }));
    }
    findings.sort_by(|a, b| {
        (&a.violation.enforcement_action, &a.violation.msg)
            .cmp(&(&b.violation.enforcement_action, &b.violation.msg))
    });
    Ok(findings)
}

/// True when a result denies (gator's exit code 1).
pub fn denies(finding: &Finding) -> bool {
    finding.violation.enforcement_action == "deny"
        || finding.violation.scoped_actions.iter().any(|a| a == "deny")
}

/// gator's human output: `<apiVersion>/<Kind> <ns>/<name>: ["<constraint>"] Message: "<msg>"`.
pub fn human(findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in findings {
        let object = &finding.object;
        let namespace = objects::namespace(object);
        let who = if namespace.is_empty() {
            objects::name(object).to_string()
        } else {
            format!("{namespace}/{}", objects::name(object))
        };
        out.push_str(&format!(
            "{}/{} {who}: [{}] Message: {}\n",
            objects::api_version(object),
            objects::kind(object),
            go_quote(&finding.violation.constraint.name),
            go_quote(&finding.violation.msg)
        ));
    }
    out
}

/// gator's `-o json`: `json.MarshalIndent(results, "", "    ")`.
pub fn json(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "null".to_string();
    }
    let items: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let v = &f.violation;
            let mut result = serde_json::Map::new();
            result.insert("target".into(), templates::TARGET.into());
            if !v.msg.is_empty() {
                result.insert("msg".into(), v.msg.clone().into());
            }
            if let Some(details) = &v.details {
                result.insert(
                    "metadata".into(),
                    serde_json::json!({ "details": unstructured(serde_json::Value::from(details)) }),
                );
            }
            result.insert(
                "constraint".into(),
                unstructured(serde_json::Value::from(&v.constraint.object)),
            );
            if !v.enforcement_action.is_empty() {
                result.insert(
                    "enforcementAction".into(),
                    v.enforcement_action.clone().into(),
                );
            }
            if !v.scoped_actions.is_empty() {
                result.insert("scopedActions".into(), v.scoped_actions.clone().into());
            }
            result.insert(
                "violatingObject".into(),
                unstructured(serde_json::Value::from(&f.object)),
            );
            result.insert("trace".into(), serde_json::Value::Null);
            serde_json::Value::Object(result)
        })
        .collect();
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    if serde::Serialize::serialize(&ordered(&items), &mut serializer).is_err() {
        return "null".to_string();
    }
    go_escape(&String::from_utf8_lossy(&out))
}

/// gator's `-o yaml`: its results through JSON and back, then go-yaml's encoder. The first
/// result is in block style, the others in flow style: the `flow` option of gator's `trace`
/// field stays set after the null it was meant for, into the next result.
pub fn yaml(findings: &[Finding]) -> String {
    let items = findings
        .iter()
        .enumerate()
        .map(|(index, finding)| yaml_result(finding, index > 0))
        .collect();
    yaml::document(&Node::Seq(items))
}

/// One `YamlGatorResult`: the embedded `types.Result` under its lowercased field names (the
/// encoder reads no JSON tags), the violating object, the trace.
fn yaml_result(finding: &Finding, flow: bool) -> Node {
    let v = &finding.violation;
    let entry = |key: &str, node: Node| (key.to_string(), node);
    let block = |entries: Vec<(String, Node)>| Node::Map {
        entries,
        flow: false,
    };
    // Plain maps come back from JSON with float64 numbers, `Unstructured` with int64 ones.
    let metadata = v.details.iter().map(|details| {
        entry(
            "details",
            Node::from_json(&serde_json::Value::from(details), Numbers::Float64),
        )
    });
    let constraint = Node::from_json(
        &serde_json::Value::from(&v.constraint.object),
        Numbers::Int64,
    );
    let result = block(vec![
        entry("target", Node::Str(templates::TARGET.to_string())),
        entry("msg", Node::Str(v.msg.clone())),
        entry("metadata", block(metadata.collect())),
        entry("constraint", block(vec![entry("object", constraint)])),
        entry("enforcementaction", Node::Str(v.enforcement_action.clone())),
        entry(
            "scopedenforcementactions",
            Node::Seq(v.scoped_actions.iter().cloned().map(Node::Str).collect()),
        ),
    ]);
    let object = Node::from_json(&serde_json::Value::from(&finding.object), Numbers::Float64);
    Node::Map {
        entries: vec![
            entry("result", result),
            entry("violatingObject", object),
            entry("trace", Node::Plain("null".to_string())),
        ],
        flow,
    }
}

/// The top level keeps gator's field order (`target`, `msg`, `metadata`, ...); maps inside
/// objects are sorted, as Go sorts map keys.
fn ordered(items: &[serde_json::Value]) -> Vec<OrderedResult<'_>> {
    items.iter().map(OrderedResult).collect()
}

struct OrderedResult<'a>(&'a serde_json::Value);

impl serde::Serialize for OrderedResult<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        const ORDER: [&str; 8] = [
            "target",
            "msg",
            "metadata",
            "constraint",
            "enforcementAction",
            "scopedActions",
            "violatingObject",
            "trace",
        ];
        let Some(map) = self.0.as_object() else {
            return self.0.serialize(serializer);
        };
        let mut out = serializer.serialize_map(Some(map.len()))?;
        for key in ORDER {
            if let Some(value) = map.get(key) {
                out.serialize_entry(key, &GoFloats(value))?;
            }
        }
        out.end()
    }
}

/// Numbers as gator holds those of its objects, and hands to and gets back from OPA:
/// integers within int64, float64 beyond (12345678901234567890 prints as
/// 12345678901234567000).
fn unstructured(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Json::Number(n) if n.as_i64().is_none() && n.is_u64() => {
            n.as_f64().map_or(Json::Null, Json::from)
        }
        Json::Array(items) => Json::Array(items.into_iter().map(unstructured).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(key, value)| (key, unstructured(value)))
                .collect(),
        ),
        other => other,
    }
}

/// A value whose floats are written as Go's `encoding/json` writes them.
struct GoFloats<'a>(&'a serde_json::Value);

impl serde::Serialize for GoFloats<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde_json::Value as Json;
        match self.0 {
            Json::Number(n) if n.is_f64() => {
                let text = go_float::json(n.as_f64().unwrap_or_default());
                serde_json::value::RawValue::from_string(text)
                    .map_err(serde::ser::Error::custom)?
                    .serialize(serializer)
            }
            Json::Array(items) => serializer.collect_seq(items.iter().map(GoFloats)),
            Json::Object(map) => serializer.collect_map(map.iter().map(|(k, v)| (k, GoFloats(v)))),
            other => other.serialize(serializer),
        }
    }
}

/// Go's JSON escapes `<`, `>`, `&`, U+2028 and U+2029; they only occur inside strings.
fn go_escape(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Go's `%q` (`strconv.Quote`).
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `gateway test`: prints the results; exit code 1 on an error or a denying result.
pub fn main(args: &crate::cli::TestArgs) -> ExitCode {
    let findings = read_inputs(&args.filenames).and_then(|inputs| {
        review_all(&inputs, &Limits::default()).map_err(|e| format!("auditing objects: {e}"))
    });
    let findings = match findings {
        Ok(findings) => findings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let deny = findings.iter().any(denies);
    let shown: Vec<Finding> = findings
        .into_iter()
        .filter(|f| !args.deny_only || denies(f))
        .collect();
    let report = match args.output {
        Some(Output::Json) => json(&shown),
        Some(Output::Yaml) => yaml(&shown),
        None => human(&shown),
    };
    if let Err(error) = crate::stdout::print(&report) {
        eprintln!("writing the results: {error}");
        return ExitCode::FAILURE;
    }
    if deny {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_as_go_does() {
        assert_eq!(go_quote("a \"b\" <c>\n"), "\"a \\\"b\\\" <c>\\n\"");
    }
}
