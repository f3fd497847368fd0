//! OPA's REST API shapes, field names and order as `v1/server/types/types.go` declares them.

use std::collections::BTreeMap;

use rego_runtime::{Location, Problem, Value};
use serde::Serialize;

pub const CODE_INTERNAL: &str = "internal_error";
pub const CODE_INVALID_PARAMETER: &str = "invalid_parameter";
pub const CODE_INVALID_OPERATION: &str = "invalid_operation";
pub const CODE_RESOURCE_NOT_FOUND: &str = "resource_not_found";
pub const CODE_RESOURCE_CONFLICT: &str = "resource_conflict";
pub const CODE_UNDEFINED_DOCUMENT: &str = "undefined_document";
pub const CODE_API_USAGE_WARNING: &str = "api_usage_warning";

pub const MSG_EVALUATION_ERROR: &str = "error(s) occurred while evaluating query";
pub const MSG_COMPILE_MODULE_ERROR: &str = "error(s) occurred while compiling module(s)";
pub const MSG_PARSE_QUERY_ERROR: &str = "error(s) occurred while parsing query";
pub const MSG_COMPILE_QUERY_ERROR: &str = "error(s) occurred while compiling query";
pub const MSG_INPUT_KEY_MISSING: &str = "'input' key missing from the request";
pub const MSG_MISSING_DOCUMENT: &str = "document missing";
pub const MSG_UNDEFINED_DOCUMENT: &str = "document undefined";

/// `ErrorV1`: every error body.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ErrorV1 {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemV1>,
}

/// An `ast.Error` or `topdown.Error` inside `errors`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ProblemV1 {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationV1>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct LocationV1 {
    pub file: String,
    pub row: u32,
    pub col: u32,
}

impl From<&Problem> for ProblemV1 {
    fn from(problem: &Problem) -> Self {
        ProblemV1 {
            code: problem.code,
            message: problem.message.clone(),
            location: problem
                .location
                .as_ref()
                .map(|Location { file, row, col }| LocationV1 {
                    file: file.clone(),
                    row: *row,
                    col: *col,
                }),
        }
    }
}

/// `{code, message}` of the `warning` field.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Warning {
    pub code: &'static str,
    pub message: &'static str,
}

/// `DataResponseV1`, every field omitted when empty, in OPA's order.
#[derive(Serialize, Debug, Default)]
pub struct DataResponseV1<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceV1>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<Warning>,
}

/// `ProvenanceV1`: build facts and the active bundles' revisions.
#[derive(Serialize, Debug, Clone)]
pub struct ProvenanceV1 {
    pub version: &'static str,
    pub build_commit: &'static str,
    pub build_timestamp: &'static str,
    pub build_hostname: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub bundles: BTreeMap<String, BundleRevision>,
}

#[derive(Serialize, Debug, Clone)]
pub struct BundleRevision {
    pub revision: String,
}

/// `PolicyV1` of the policies API (the AST is not produced; see the README).
#[derive(Serialize, Debug)]
pub struct PolicyV1<'a> {
    pub id: &'a str,
    pub raw: &'a str,
}

/// `{"result": ...}` bodies.
#[derive(Serialize, Debug)]
pub struct ResultV1<T: Serialize> {
    pub result: T,
}

/// `QueryResponseV1`: bindings per solution, `result` omitted when there is none.
#[derive(Serialize, Debug)]
pub struct QueryResponseV1<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub result: &'a [BTreeMap<String, Value>],
}

/// `HealthResponseV1`: `{}` or `{"error": ...}`.
#[derive(Serialize, Debug, Default)]
pub struct HealthResponseV1 {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A body of `{}` (policy put/delete answers, OPA's empty response types).
#[derive(Serialize, Debug, Default)]
pub struct Empty {}

/// `TraceV1`: the events, or with `pretty` the lines a person reads.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum Explanation {
    Raw(Vec<TraceEventV1>),
    Pretty(Vec<String>),
}

/// `TraceEventV1`. The gateway has no OPA syntax tree for `node` (always `null`) nor OPA's
/// bindings for `locals` (always empty).
#[derive(Serialize, Debug)]
pub struct TraceEventV1 {
    pub op: &'static str,
    pub query_id: u64,
    pub parent_id: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub node: Option<()>,
    pub locals: Vec<()>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}
