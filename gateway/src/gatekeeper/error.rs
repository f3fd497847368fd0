//! The one place a Gatekeeper-door failure becomes an HTTP answer: the management API answers
//! with Kubernetes' `Status` body; the webhook answers an AdmissionReview whose
//! `response.status.code` carries the failure (HTTP 200, as controller-runtime answers), so
//! the API server applies the webhook's failurePolicy.

use hyper::StatusCode;

use super::wire::{self, AdmissionResponse, AdmissionReviewOut, ApiStatus, Empty, Status};
use crate::go_json;
use crate::http::{self, BodyError, Response};

/// Failures of the management API (`/v1/gatekeeper/...`).
#[derive(Debug)]
pub enum ApiError {
    /// 400 `BadRequest`: a body that does not parse, a name that does not match the path.
    BadRequest(String),
    /// 404 `NotFound`.
    NotFound(String),
    /// 405 `MethodNotAllowed`.
    MethodNotAllowed,
    /// 413 `RequestEntityTooLarge`.
    TooLarge,
    /// 422 `Invalid`: refused as Gatekeeper's admission refuses it (message names the field).
    Invalid(String),
    /// 500 `InternalError`.
    Internal(String),
}

impl ApiError {
    /// Kubernetes' `Status` body with the matching HTTP status.
    pub fn into_response(self) -> Response {
        let (status, reason, message) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "BadRequest", m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "NotFound", m),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource".to_string(),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "request body too large".to_string(),
            ),
            ApiError::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid", m),
            ApiError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError", m),
        };
        let body = ApiStatus {
            kind: "Status",
            api_version: "v1",
            metadata: Empty {},
            status: "Failure",
            message,
            reason,
            code: status.as_u16(),
        };
        http::json(status, go_json::to_vec(&body, false))
    }
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge => ApiError::TooLarge,
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

/// Why the webhook could not decide.
#[derive(Debug)]
pub enum AdmitError {
    /// A review that cannot be decoded: `status.code` 400, as controller-runtime answers
    /// before the handler runs (no `kind`/`apiVersion` in the answer).
    Decode(String),
    /// A body past the size limit: `status.code` 413.
    TooLarge(String),
    /// A user error on a Gatekeeper object (`Errored(422, err)`).
    Unprocessable(String),
    /// Anything that kept the review from completing (`Errored(500, err)`).
    Internal(String),
}

/// An AdmissionReview answer for a failure. `version` is the request's apiVersion when it
/// was decoded.
pub fn admission_error(error: AdmitError, uid: String, version: Option<String>) -> Response {
    let (code, message, typed) = match error {
        AdmitError::Decode(m) => (400, m, false),
        AdmitError::TooLarge(m) => (413, m, false),
        AdmitError::Unprocessable(m) => (422, m, true),
        AdmitError::Internal(m) => (500, m, true),
    };
    let typed = typed && version.is_some();
    admission_response(
        AdmissionResponse {
            uid,
            allowed: false,
            status: Some(Status {
                metadata: Empty {},
                message,
                reason: "",
                code,
            }),
            warnings: Vec::new(),
        },
        if typed { version } else { None },
    )
}

/// Writes an AdmissionReview answer in the request's version (Go's `json.Encoder` bytes).
pub fn admission_response(response: AdmissionResponse, version: Option<String>) -> Response {
    let typed = version.is_some();
    let body = AdmissionReviewOut {
        kind: typed.then_some(wire::ADMISSION_REVIEW),
        api_version: version,
        response,
    };
    http::json(StatusCode::OK, go_json::to_vec(&body, false))
}
