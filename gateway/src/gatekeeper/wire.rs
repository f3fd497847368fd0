//! JSON shapes of the Gatekeeper door, field for field as Go marshals them: the
//! AdmissionReview response (`admission/v1`, `meta/v1 Status`) and the Kubernetes `Status`
//! error body of the management API.

use serde::Serialize;

/// The paths this door serves.
pub const PATH_ADMIT: &str = "/v1/admit";
pub const PATH_PREFIX: &str = "/v1/gatekeeper";
pub const PATH_TEMPLATES: &str = "/v1/gatekeeper/templates";
pub const PATH_CONSTRAINTS: &str = "/v1/gatekeeper/constraints";
pub const PATH_INVENTORY: &str = "/v1/gatekeeper/inventory";
pub const PATH_AUDIT: &str = "/v1/gatekeeper/audit";

/// Metric labels of this door's routes (`http_request_duration_seconds{handler}`).
pub const HANDLER_ADMIT: &str = "v1/admit";
pub const HANDLER_API: &str = "v1/gatekeeper";

/// The AdmissionReview versions controller-runtime accepts and answers in.
pub const ADMISSION_GROUP: &str = "admission.k8s.io";
pub const ADMISSION_VERSIONS: [&str; 2] = ["v1", "v1beta1"];
pub const ADMISSION_REVIEW: &str = "AdmissionReview";

/// `metav1.StatusReasonForbidden`.
pub const REASON_FORBIDDEN: &str = "Forbidden";
/// Gatekeeper's code for an allowed response that carries warnings.
pub const CODE_WARNING: i32 = 299;

/// `admission/v1 AdmissionReview` as written back; `kind`/`apiVersion` are absent on
/// responses to requests that could not be decoded (controller-runtime's `writeResponse`).
#[derive(Serialize)]
pub struct AdmissionReviewOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub response: AdmissionResponse,
}

/// `admission/v1 AdmissionResponse`.
#[derive(Serialize)]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `meta/v1 Status` as an AdmissionResponse carries it (`metadata` always present).
#[derive(Serialize)]
pub struct Status {
    pub metadata: Empty,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub reason: &'static str,
    pub code: i32,
}

/// `{}`.
#[derive(Serialize, Default)]
pub struct Empty {}

/// The Kubernetes API's error body (`meta/v1 Status`, kind `Status`).
#[derive(Serialize)]
pub struct ApiStatus {
    pub kind: &'static str,
    #[serde(rename = "apiVersion")]
    pub api_version: &'static str,
    pub metadata: Empty,
    pub status: &'static str,
    pub message: String,
    pub reason: &'static str,
    pub code: u16,
}
