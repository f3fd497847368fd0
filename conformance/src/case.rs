//! One test case of OPA's test-case YAML (`v1/test/cases/cases.go`), every field.

use std::collections::BTreeMap;

use rego_runtime::{Number, RegoVersion, Value};
use serde::Deserialize;

/// A file of cases: `cases: [...]`.
#[derive(Debug, Deserialize)]
pub struct CaseFile {
    #[serde(default)]
    pub cases: Vec<TestCase>,
}

/// One case as OPA writes it.
#[derive(Clone, Debug, Deserialize)]
pub struct TestCase {
    pub note: String,
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub modules: Vec<String>,
    #[serde(default, deserialize_with = "json_from_yaml")]
    pub data: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "json_from_yaml")]
    pub input: Option<serde_json::Value>,
    /// The input as Rego term text; it may hold sets, which JSON cannot.
    #[serde(default)]
    pub input_term: Option<String>,
    #[serde(default, deserialize_with = "bindings_from_yaml")]
    pub want_result: Option<Vec<BTreeMap<String, serde_json::Value>>>,
    #[serde(default)]
    pub want_defined: Option<bool>,
    /// A substring of the expected error text.
    #[serde(default)]
    pub want_error: Option<String>,
    /// The expected error code, e.g. `eval_type_error`.
    #[serde(default)]
    pub want_error_code: Option<String>,
    #[serde(default)]
    pub strict_error: bool,
    #[serde(default)]
    pub sort_bindings: bool,
    #[serde(default)]
    pub ignore_generated_vars: bool,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// regorus's extension: a case to skip, with the reason.
    #[serde(default)]
    pub skip: Option<serde_json::Value>,
}

/// A case value as JSON. The YAML is read through the project's value type, which keeps
/// integers of any size; those too large for JSON's 64 bits become the nearest float (the judge
/// compares numbers by value).
fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Value::Number(n) => match n {
            Number::Int(i) => i64::try_from(*i)
                .map(Json::from)
                .or_else(|_| u64::try_from(*i).map(Json::from))
                .unwrap_or_else(|_| float(n.as_f64())),
            other => float(other.as_f64()),
        },
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Set(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Object(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().map_or_else(|| k.to_json(), String::from),
                        to_json(v),
                    )
                })
                .collect(),
        ),
        other => Json::from(other),
    }
}

fn float(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn json_from_yaml<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.map(|v| to_json(&v)))
}

fn bindings_from_yaml<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<BTreeMap<String, serde_json::Value>>>, D::Error> {
    let Some(list) = Option::<Vec<BTreeMap<String, Value>>>::deserialize(d)? else {
        return Ok(None);
    };
    Ok(Some(
        list.into_iter()
            .map(|bindings| {
                bindings
                    .into_iter()
                    .map(|(k, v)| (k, to_json(&v)))
                    .collect()
            })
            .collect(),
    ))
}

/// A case with where it came from.
#[derive(Clone, Debug)]
pub struct LoadedCase {
    pub case: TestCase,
    /// The file, relative to the root it was found under.
    pub file: String,
    /// The folder a report groups it in (the file's directory, relative).
    pub folder: String,
    /// V0 for cases under a `v0` directory, as OPA's layout has it.
    pub rego_version: RegoVersion,
}

impl LoadedCase {
    /// The name of the case in reports and filters: `<folder>/<note>`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.folder, self.case.note)
    }
}
