//! `POST /v1/admit`: Gatekeeper's validating webhook. Decodes an AdmissionReview (v1 or
//! v1beta1), reviews the request at `validation.gatekeeper.sh`, and answers in the request's
//! version: deny results as `[<constraint>] <msg>` lines with 403, warn results as warnings
//! (299 when allowed), dryrun silent, failures as `status.code` 500.

use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::http::request::Parts;
use rego_runtime::Value;

use super::constraints::{self, WEBHOOK_POINT};
use super::error::{self, AdmitError};
use super::evaluate;
use super::metrics::AdmissionStatus;
use super::objects;
use super::review::{self, ReviewError};
use super::state::GatekeeperContents;
use super::templates::{self, Template};
use super::wire::{self, AdmissionResponse, Empty, Status};
use crate::app::App;
use crate::http::{self, BodyError, Response};

/// The user Gatekeeper runs as; its own requests are allowed unchecked.
const GATEKEEPER_USER: &str = "system:serviceaccount:gatekeeper-system:gatekeeper-admin";

/// Serves one webhook call.
pub async fn admit(app: &App, parts: &Parts, body: Incoming) -> Response {
    let started = Instant::now();
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type != "application/json" {
        return error::admission_error(
            AdmitError::Decode(format!(
                "contentType={content_type}, expected application/json"
            )),
            String::new(),
            None,
        );
    }
    let bytes = match http::read_body(&parts.headers, body, app.config.body_limits).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return error::admission_error(
                AdmitError::TooLarge("request entity is too large".to_string()),
                String::new(),
                None,
            );
        }
        Err(other) => {
            return error::admission_error(
                AdmitError::Decode(other.to_string()),
                String::new(),
                None,
            );
        }
    };
    let (response, status, dry_run) = decide(app, &bytes);
    if let Some(status) = status {
        app.gatekeeper
            .metrics
            .observe_request(status, dry_run, started.elapsed());
    }
    response
}

/// Decodes and decides; returns the answer and what the metrics record (`None` for reviews
/// that never reached the handler, as controller-runtime rejects them first).
fn decide(app: &App, bytes: &[u8]) -> (Response, Option<AdmissionStatus>, bool) {
    if bytes.is_empty() {
        let response = error::admission_error(
            AdmitError::Decode("request body is empty".to_string()),
            String::new(),
            None,
        );
        return (response, None, false);
    }
    let decoded = match decode(bytes) {
        Ok(decoded) => decoded,
        Err(message) => {
            let response = error::admission_error(AdmitError::Decode(message), String::new(), None);
            return (response, None, false);
        }
    };
    let Decoded {
        version,
        request,
        uid,
    } = decoded;
    let dry_run = matches!(request.get("dryRun"), Some(Value::Bool(true)));
    let fail = |error: AdmitError, status| {
        (
            error::admission_error(error, uid.clone(), Some(version.clone())),
            Some(status),
            dry_run,
        )
    };
    if objects::str_at(&request, &["userInfo", "username"]) == GATEKEEPER_USER {
        return (
            allowed(
                &uid,
                &version,
                "Gatekeeper does not self-manage",
                Vec::new(),
            ),
            Some(AdmissionStatus::Allow),
            dry_run,
        );
    }
    let snapshot = app.store.snapshot();
    if let Err(message) = validate_gatekeeper_object(&request, &snapshot.contents.gatekeeper) {
        return fail(AdmitError::Unprocessable(message), AdmissionStatus::Error);
    }
    let inventory = &snapshot.gatekeeper.inventory;
    let lookup = |name: &str| inventory.namespace(name).cloned();
    let review = match review::from_admission_request(&request, &lookup, true) {
        Ok(review) => review,
        Err(ReviewError::Malformed(message)) => {
            return (
                error::admission_error(AdmitError::Decode(message), String::new(), None),
                None,
                dry_run,
            );
        }
        Err(other @ ReviewError::OldObjectNil) => {
            let message = format!(
                "error reviewing resource {}: target.HandleReview failed for target {:?}: {other}",
                objects::str_at(&request, &["name"]),
                templates::TARGET
            );
            return fail(AdmitError::Internal(message), AdmissionStatus::Error);
        }
    };
    let outcome = match evaluate::review(
        app.store.gatekeeper_engine(),
        &snapshot.gatekeeper,
        &review,
        WEBHOOK_POINT,
        &app.limits(false),
    ) {
        Ok(outcome) => outcome,
        Err(message) => {
            let message = format!("error reviewing resource {}: {message}", review.name);
            return fail(AdmitError::Internal(message), AdmissionStatus::Error);
        }
    };
    let mut deny = Vec::new();
    let mut warn = Vec::new();
    for violation in &outcome.violations {
        for action in violation.actions() {
            // Unknown actions are skipped, as ValidateEnforcementAction skips them.
            let line = format!("[{}] {}", violation.constraint.name, violation.msg);
            match action {
                "deny" => deny.push(line),
                "warn" => warn.push(line),
                _ => {}
            }
        }
    }
    if deny.is_empty() {
        (
            allowed(&uid, &version, "", warn),
            Some(AdmissionStatus::Allow),
            dry_run,
        )
    } else {
        let response = AdmissionResponse {
            uid,
            allowed: false,
            status: Some(Status {
                metadata: Empty {},
                message: deny.join("\n"),
                reason: wire::REASON_FORBIDDEN,
                code: 403,
            }),
            warnings: warn,
        };
        (
            error::admission_response(response, Some(version)),
            Some(AdmissionStatus::Deny),
            dry_run,
        )
    }
}

fn allowed(uid: &str, version: &str, message: &str, warnings: Vec<String>) -> Response {
    let code = if warnings.is_empty() {
        200
    } else {
        wire::CODE_WARNING
    };
    let response = AdmissionResponse {
        uid: uid.to_string(),
        allowed: true,
        status: Some(Status {
            metadata: Empty {},
            message: message.to_string(),
            reason: "",
            code,
        }),
        warnings,
    };
    error::admission_response(response, Some(version.to_string()))
}

struct Decoded {
    version: String,
    request: Value,
    uid: String,
}

/// Decodes an AdmissionReview as controller-runtime's universal deserializer does.
fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    let review: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("couldn't get version/kind; json parse error: {e}"))?;
    if review.as_object().is_none() {
        return Err(
            "couldn't get version/kind; json parse error: json: cannot unmarshal into Go value of type struct"
                .to_string(),
        );
    }
    let api_version = objects::api_version(&review);
    let kind = objects::kind(&review);
    if api_version.is_empty() || kind.is_empty() {
        return Err(format!(
            "Object 'apiVersion' and 'kind' are required in {}",
            String::from_utf8_lossy(bytes).trim()
        ));
    }
    let known = objects::group_of(api_version) == wire::ADMISSION_GROUP
        && wire::ADMISSION_VERSIONS.contains(&objects::version_of(api_version))
        && kind == wire::ADMISSION_REVIEW;
    if !known {
        return Err(format!(
            "no kind {kind:?} is registered for version {api_version:?} in scheme \"pkg/runtime/scheme.go:100\""
        ));
    }
    let Some(request) = review.get("request").filter(|r| !matches!(r, Value::Null)) else {
        return Err("the AdmissionReview has no request".to_string());
    };
    let uid = match request.get("uid") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(uid)) => uid.to_string(),
        Some(_) => {
            return Err(
                "json: cannot unmarshal number into Go struct field AdmissionRequest.request.uid of type types.UID"
                    .to_string(),
            );
        }
    };
    Ok(Decoded {
        version: api_version.to_string(),
        request: request.clone(),
        uid,
    })
}

/// Gatekeeper validates its own objects at admission: a template's structure (not its
/// Rego), a constraint against its template's schema and selectors.
fn validate_gatekeeper_object(
    request: &Value,
    contents: &GatekeeperContents,
) -> Result<(), String> {
    if objects::str_at(request, &["operation"]) == "DELETE" {
        return Ok(());
    }
    let group = objects::str_at(request, &["kind", "group"]);
    let kind = objects::str_at(request, &["kind", "kind"]);
    let Some(object) = request.get("object").filter(|o| !matches!(o, Value::Null)) else {
        return Ok(());
    };
    if group == templates::GROUP && kind == "ConstraintTemplate" {
        Template::from_object(object).map_err(|p| p.message)?;
    } else if group == constraints::GROUP {
        let mut scratch = contents.clone();
        scratch
            .put_constraint(object.clone(), super::state::Origin::Api)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
