//! What a target answered for a case: result bindings or an error.

use std::collections::BTreeMap;

/// One solution's variable bindings, as JSON (sets arrive as sorted arrays, as in OPA's
/// `ast.JSON`).
pub type Bindings = BTreeMap<String, serde_json::Value>;

/// A target's answer to one case.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Results(Vec<Bindings>),
    Error {
        /// OPA's code: `eval_type_error`, `rego_parse_error`, ...
        code: String,
        /// The whole error text, as OPA's `err.Error()` reads it.
        message: String,
    },
}

/// A target's answer, or why it could not run the case.
#[derive(Clone, Debug, PartialEq)]
pub enum Run {
    Done(Outcome),
    Skipped(String),
}
