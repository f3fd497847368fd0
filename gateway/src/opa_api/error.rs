//! The one place an OPA-door error becomes a status code and OPA's error JSON
//! (`writer.ErrorAuto` in OPA's `v1/server/writer/writer.go`).

use hyper::StatusCode;
use rego_runtime::{Error as EngineError, Problem};

use super::wire::{self, ErrorV1, ProblemV1};
use crate::go_json;
use crate::http::{self, BodyError, Response};
use crate::store::data_ops::StorageError;

/// Everything the OPA door can answer with instead of a result.
#[derive(Debug)]
pub enum ApiError {
    /// 400 `invalid_parameter`.
    BadRequest(String),
    /// 400 `invalid_parameter` listing compile or parse problems.
    Problems {
        message: &'static str,
        problems: Vec<Problem>,
    },
    /// 400 `invalid_operation` listing problems (a policy delete that breaks others).
    InvalidOperation {
        message: &'static str,
        problems: Vec<Problem>,
    },
    /// 404 `resource_not_found`.
    NotFound(String),
    /// 404 `resource_conflict` (OPA answers a storage write conflict with 404).
    Conflict(String),
    /// 404 `undefined_document` (`/v0/data` and the default decision).
    Undefined(String),
    /// 500 `internal_error` wrapping one evaluation error.
    Evaluation(Problem),
    /// 500 `internal_error`.
    Internal(String),
}

impl ApiError {
    /// The status and OPA's error body.
    pub fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                plain(wire::CODE_INVALID_PARAMETER, message),
            ),
            ApiError::Problems { message, problems } => (
                StatusCode::BAD_REQUEST,
                with_problems(wire::CODE_INVALID_PARAMETER, message, &problems),
            ),
            ApiError::InvalidOperation { message, problems } => (
                StatusCode::BAD_REQUEST,
                with_problems(wire::CODE_INVALID_OPERATION, message, &problems),
            ),
            ApiError::NotFound(message) => (
                StatusCode::NOT_FOUND,
                plain(wire::CODE_RESOURCE_NOT_FOUND, message),
            ),
            ApiError::Conflict(message) => (
                StatusCode::NOT_FOUND,
                plain(wire::CODE_RESOURCE_CONFLICT, message),
            ),
            ApiError::Undefined(message) => (
                StatusCode::NOT_FOUND,
                plain(wire::CODE_UNDEFINED_DOCUMENT, message),
            ),
            ApiError::Evaluation(problem) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                with_problems(wire::CODE_INTERNAL, wire::MSG_EVALUATION_ERROR, &[problem]),
            ),
            ApiError::Internal(message) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                plain(wire::CODE_INTERNAL, message),
            ),
        };
        // OPA always indents error bodies (`ErrorV1.Bytes` uses MarshalIndent).
        http::json(status, go_json::to_vec(&body, true))
    }

    /// An engine error met while evaluating a data path or a query.
    pub fn from_evaluation(error: EngineError, compile_message: &'static str) -> ApiError {
        match error {
            EngineError::Evaluation(problem) => ApiError::Evaluation(problem),
            EngineError::Compile(problems) => ApiError::Problems {
                message: compile_message,
                problems,
            },
            EngineError::InvalidInput(message) => ApiError::BadRequest(message),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn plain(code: &'static str, message: String) -> ErrorV1 {
    ErrorV1 {
        code,
        message,
        errors: Vec::new(),
    }
}

fn with_problems(code: &'static str, message: &'static str, problems: &[Problem]) -> ErrorV1 {
    ErrorV1 {
        code,
        message: message.to_string(),
        errors: problems.iter().map(ProblemV1::from).collect(),
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match &error {
            StorageError::NotFound(_) => ApiError::NotFound(error.to_string()),
            StorageError::WriteConflict(_) => ApiError::Conflict(error.to_string()),
            StorageError::InvalidPatch(_) => ApiError::BadRequest(error.to_string()),
        }
    }
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> Self {
        ApiError::BadRequest(error.to_string())
    }
}
