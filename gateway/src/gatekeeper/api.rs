//! The Gatekeeper door's routes: the webhook, and the management API that stands in for
//! `kubectl apply` of templates and constraints, inventory sync, and audit. Every route is
//! listed in [`handle`]; bodies are YAML or JSON; answers are Kubernetes-shaped objects with
//! the status Gatekeeper would show.

use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use rego_runtime::Value;

use super::audit::{self, AuditReport};
use super::constraints;
use super::error::ApiError;
use super::objects;
use super::state::{ConstraintState, Origin, Refusal, TemplateState};
use super::templates;
use super::webhook;
use super::wire;
use crate::app::App;
use crate::go_json;
use crate::http::{self, Query, Response};
use crate::store::UpdateError;

/// The pod id status entries carry (Gatekeeper names its pods; the gateway is one).
const POD_ID: &str = "gateway";

/// True when `path` belongs to this door.
pub fn owns(path: &str) -> bool {
    path == wire::PATH_ADMIT || path == wire::PATH_PREFIX || path.starts_with("/v1/gatekeeper/")
}

/// Serves a request on one of this door's paths, with the metrics label it reports under.
pub async fn handle(app: &App, parts: Parts, body: Incoming) -> (&'static str, Response) {
    let path = parts.uri.path().to_string();
    if path == wire::PATH_ADMIT {
        if parts.method != Method::POST {
            return (
                wire::HANDLER_ADMIT,
                http::empty(StatusCode::METHOD_NOT_ALLOWED),
            );
        }
        return (wire::HANDLER_ADMIT, webhook::admit(app, &parts, body).await);
    }
    let read = async {
        http::read_body(&parts.headers, body, app.config.body_limits)
            .await
            .map_err(ApiError::from)
    };
    let segments: Vec<String> = path
        .trim_start_matches(wire::PATH_PREFIX)
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = parts.method.clone();
    let result = match (segments.as_slice(), &method) {
        (["templates"], &Method::GET) => Ok(list_templates(app)),
        (["templates", name], &Method::GET) => get_template(app, name),
        (["templates", name], &Method::PUT) => match read.await {
            Ok(body) => put_template(app, name, &body),
            Err(e) => Err(e),
        },
        (["templates", name], &Method::DELETE) => delete_template(app, name),
        (["constraints"], &Method::GET) => Ok(list_constraints(app, None)),
        (["constraints", kind], &Method::GET) => Ok(list_constraints(app, Some(kind))),
        (["constraints", kind, name], &Method::GET) => get_constraint(app, kind, name),
        (["constraints", kind, name], &Method::PUT) => match read.await {
            Ok(body) => put_constraint(app, kind, name, &body),
            Err(e) => Err(e),
        },
        (["constraints", kind, name], &Method::DELETE) => delete_constraint(app, kind, name),
        (["inventory"], &Method::GET) => Ok(inventory_summary(app)),
        (["inventory"], &Method::POST | &Method::DELETE) => match read.await {
            Ok(body) => change_inventory(app, method == Method::POST, &body),
            Err(e) => Err(e),
        },
        (["audit"], &Method::POST) => run_audit(app, &parts),
        (["templates" | "constraints" | "inventory" | "audit", ..], _) => {
            Err(ApiError::MethodNotAllowed)
        }
        _ => Err(ApiError::NotFound(format!(
            "the server could not find the requested resource ({path})"
        ))),
    };
    (
        wire::HANDLER_API,
        result.unwrap_or_else(ApiError::into_response),
    )
}

fn json(status: StatusCode, value: &Value) -> Response {
    http::json(status, go_json::to_vec(value, false))
}

/// Exactly one object from a YAML or JSON body.
fn one_object(body: &Bytes) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".to_string()))?;
    let mut documents = objects::parse_documents(text).map_err(ApiError::BadRequest)?;
    match documents.len() {
        1 => Ok(documents.remove(0)),
        0 => Err(ApiError::BadRequest("the body holds no object".to_string())),
        n => Err(ApiError::BadRequest(format!(
            "the body holds {n} objects; send one"
        ))),
    }
}

fn update_error(error: UpdateError<Refusal>) -> ApiError {
    match error {
        UpdateError::Refused(refusal) => ApiError::Invalid(refusal.to_string()),
        UpdateError::Compile(other) => ApiError::Internal(other.to_string()),
    }
}

fn observe(app: &App) {
    app.gatekeeper
        .metrics
        .observe_state(&app.store.snapshot().gatekeeper);
}

// --- templates ---------------------------------------------------------------------------

fn template_with_status(state: &TemplateState) -> Value {
    let mut pod = vec![
        ("id", Value::string(POD_ID)),
        ("observedGeneration", Value::int(1)),
        (
            "operations",
            Value::array(vec![Value::string("audit"), Value::string("webhook")]),
        ),
    ];
    if let Some(problem) = state.problem() {
        let prefix = if problem.code == templates::CODE_INGEST_ERROR {
            "Could not ingest Rego: "
        } else {
            ""
        };
        pod.push((
            "errors",
            Value::array(vec![Value::object([
                ("code", Value::string(problem.code)),
                (
                    "message",
                    Value::string(format!("{prefix}{}", problem.message)),
                ),
            ])]),
        ));
    }
    let created = state.template.is_ok();
    let status = Value::object([
        ("byPod", Value::array(vec![Value::object(pod)])),
        ("created", Value::Bool(created)),
    ]);
    objects::with_member(&state.object, "status", status)
}

fn list_templates(app: &App) -> Response {
    let snapshot = app.store.snapshot();
    let items = snapshot
        .gatekeeper
        .templates
        .values()
        .map(|t| template_with_status(t))
        .collect();
    json(
        StatusCode::OK,
        &Value::object([
            ("apiVersion", Value::string("templates.gatekeeper.sh/v1")),
            ("kind", Value::string("ConstraintTemplateList")),
            ("items", Value::array(items)),
        ]),
    )
}

fn template_not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!(
        "constrainttemplates.templates.gatekeeper.sh {name:?} not found"
    ))
}

fn get_template(app: &App, name: &str) -> Result<Response, ApiError> {
    let snapshot = app.store.snapshot();
    let state = snapshot
        .gatekeeper
        .templates
        .get(name)
        .ok_or_else(|| template_not_found(name))?;
    Ok(json(StatusCode::OK, &template_with_status(state)))
}

fn put_template(app: &App, name: &str, body: &Bytes) -> Result<Response, ApiError> {
    let object = one_object(body)?;
    check_name(&object, name)?;
    let created = !app
        .store
        .snapshot()
        .contents
        .gatekeeper
        .templates
        .contains_key(name);
    app.store
        .update(|contents| contents.gatekeeper.put_template(object, Origin::Api))
        .map_err(update_error)?;
    observe(app);
    let snapshot = app.store.snapshot();
    let state = snapshot
        .gatekeeper
        .templates
        .get(name)
        .ok_or_else(|| ApiError::Internal("the template vanished".to_string()))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &template_with_status(state)))
}

fn delete_template(app: &App, name: &str) -> Result<Response, ApiError> {
    let deleted = app
        .store
        .update(|contents| {
            if contents.gatekeeper.delete_template(name) {
                Ok(())
            } else {
                Err(Refusal::Object(String::new()))
            }
        })
        .is_ok();
    if !deleted {
        return Err(template_not_found(name));
    }
    observe(app);
    Ok(success("constrainttemplates", name))
}

fn success(kind: &str, name: &str) -> Response {
    json(
        StatusCode::OK,
        &Value::object([
            ("kind", Value::string("Status")),
            ("apiVersion", Value::string("v1")),
            ("metadata", Value::empty_object()),
            ("status", Value::string("Success")),
            (
                "details",
                Value::object([("name", Value::string(name)), ("kind", Value::string(kind))]),
            ),
        ]),
    )
}

fn check_name(object: &Value, name: &str) -> Result<(), ApiError> {
    let found = objects::name(object);
    if found != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({found}) does not match the name on the URL ({name})"
        )));
    }
    Ok(())
}

// --- constraints -------------------------------------------------------------------------

fn constraint_with_status(state: &ConstraintState, audit: Option<&AuditReport>) -> Value {
    let mut pod = vec![
        ("id", Value::string(POD_ID)),
        ("enforced", Value::Bool(state.prepared.is_ok())),
        ("observedGeneration", Value::int(1)),
        (
            "operations",
            Value::array(vec![Value::string("audit"), Value::string("webhook")]),
        ),
    ];
    if let Err(error) = &state.prepared {
        pod.push((
            "errors",
            Value::array(vec![Value::object([
                ("code", Value::string("")),
                ("message", Value::string(error.to_string())),
            ])]),
        ));
    }
    let mut status = vec![("byPod", Value::array(vec![Value::object(pod)]))];
    let audited = audit.and_then(|report| {
        report
            .constraints
            .get(&(state.kind.clone(), state.name.clone()))
            .map(|a| (report, a))
    });
    if let Some((report, audited)) = audited {
        status.push(("auditTimestamp", Value::string(&report.timestamp)));
        status.push((
            "totalViolations",
            Value::int(i64::try_from(audited.total_violations).unwrap_or(i64::MAX)),
        ));
        if !audited.violations.is_empty() {
            status.push((
                "violations",
                Value::array(audited.violations.iter().map(violation_value).collect()),
            ));
        }
    }
    let object = match &state.prepared {
        Ok(prepared) => prepared.object.clone(),
        Err(_) => state.object.clone(),
    };
    objects::with_member(&object, "status", Value::object(status))
}

fn violation_value(v: &audit::StatusViolation) -> Value {
    let mut fields = vec![
        ("enforcementAction", Value::string(&v.enforcement_action)),
        ("group", Value::string(&v.group)),
        ("kind", Value::string(&v.kind)),
        ("message", Value::string(&v.message)),
        ("name", Value::string(&v.name)),
        ("version", Value::string(&v.version)),
    ];
    if !v.namespace.is_empty() {
        fields.push(("namespace", Value::string(&v.namespace)));
    }
    if !v.enforcement_actions.is_empty() {
        fields.push((
            "enforcementActions",
            Value::array(v.enforcement_actions.iter().map(Value::string).collect()),
        ));
    }
    Value::object(fields)
}

fn last_audit(app: &App) -> Option<Arc<AuditReport>> {
    app.gatekeeper
        .last_audit
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

fn list_constraints(app: &App, kind: Option<&str>) -> Response {
    let snapshot = app.store.snapshot();
    let audit = last_audit(app);
    let items = snapshot
        .gatekeeper
        .constraints
        .values()
        .filter(|c| kind.is_none_or(|k| c.kind.eq_ignore_ascii_case(k)))
        .map(|c| constraint_with_status(c, audit.as_deref()))
        .collect();
    json(
        StatusCode::OK,
        &Value::object([
            (
                "apiVersion",
                Value::string(format!("{}/v1beta1", constraints::GROUP)),
            ),
            ("kind", Value::string("List")),
            ("items", Value::array(items)),
        ]),
    )
}

fn constraint_not_found(kind: &str, name: &str) -> ApiError {
    ApiError::NotFound(format!(
        "{}.{} {name:?} not found",
        kind.to_lowercase(),
        constraints::GROUP
    ))
}

fn get_constraint(app: &App, kind: &str, name: &str) -> Result<Response, ApiError> {
    let snapshot = app.store.snapshot();
    let state = snapshot
        .gatekeeper
        .constraints
        .get(&(kind.to_string(), name.to_string()))
        .ok_or_else(|| constraint_not_found(kind, name))?;
    Ok(json(
        StatusCode::OK,
        &constraint_with_status(state, last_audit(app).as_deref()),
    ))
}

fn put_constraint(app: &App, kind: &str, name: &str, body: &Bytes) -> Result<Response, ApiError> {
    let object = one_object(body)?;
    check_name(&object, name)?;
    if objects::kind(&object) != kind {
        return Err(ApiError::BadRequest(format!(
            "the kind of the object ({}) does not match the kind on the URL ({kind})",
            objects::kind(&object)
        )));
    }
    let key = (kind.to_string(), name.to_string());
    let created = !app
        .store
        .snapshot()
        .contents
        .gatekeeper
        .constraints
        .contains_key(&key);
    app.store
        .update(|contents| contents.gatekeeper.put_constraint(object, Origin::Api))
        .map_err(update_error)?;
    observe(app);
    let snapshot = app.store.snapshot();
    let state = snapshot
        .gatekeeper
        .constraints
        .get(&key)
        .ok_or_else(|| ApiError::Internal("the constraint vanished".to_string()))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(
        status,
        &constraint_with_status(state, last_audit(app).as_deref()),
    ))
}

fn delete_constraint(app: &App, kind: &str, name: &str) -> Result<Response, ApiError> {
    let deleted = app
        .store
        .update(|contents| {
            if contents.gatekeeper.delete_constraint(kind, name) {
                Ok(())
            } else {
                Err(Refusal::Object(String::new()))
            }
        })
        .is_ok();
    if !deleted {
        return Err(constraint_not_found(kind, name));
    }
    observe(app);
    Ok(success(&kind.to_lowercase(), name))
}

// --- inventory and audit -----------------------------------------------------------------

fn inventory_summary(app: &App) -> Response {
    let snapshot = app.store.snapshot();
    let count = snapshot.gatekeeper.inventory.len();
    json(
        StatusCode::OK,
        &Value::object([(
            "objects",
            Value::int(i64::try_from(count).unwrap_or(i64::MAX)),
        )]),
    )
}

fn change_inventory(app: &App, add: bool, body: &Bytes) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".to_string()))?;
    let items =
        objects::flatten_lists(objects::parse_documents(text).map_err(ApiError::BadRequest)?);
    let changed = app
        .store
        .update(|contents| {
            let mut changed = 0usize;
            for item in &items {
                let done = if add {
                    contents.gatekeeper.inventory.add(item).map(|()| true)
                } else {
                    contents.gatekeeper.inventory.remove(item)
                };
                if done.map_err(Refusal::Object)? {
                    changed += 1;
                }
            }
            Ok(changed)
        })
        .map_err(|e: UpdateError<Refusal>| match e {
            UpdateError::Refused(refusal) => ApiError::BadRequest(refusal.to_string()),
            UpdateError::Compile(other) => ApiError::Internal(other.to_string()),
        })?;
    let total = app.store.snapshot().gatekeeper.inventory.len();
    let as_int = |n: usize| Value::int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(json(
        StatusCode::OK,
        &Value::object([
            (if add { "added" } else { "removed" }, as_int(changed)),
            ("objects", as_int(total)),
        ]),
    ))
}

fn run_audit(app: &App, parts: &Parts) -> Result<Response, ApiError> {
    let query = Query::parse(parts.uri.query());
    let limit = match query.last("constraint_violations_limit") {
        None => audit::DEFAULT_VIOLATIONS_LIMIT,
        Some(text) => text.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "constraint_violations_limit must be a non-negative integer, got {text:?}"
            ))
        })?,
    };
    let snapshot = app.store.snapshot();
    let report = audit::run(
        app.store.gatekeeper_engine(),
        &snapshot.gatekeeper,
        &app.limits(false),
        limit,
    );
    for error in &report.errors {
        tracing::warn!(error = %error, "audit could not review an object");
    }
    let by_action: Vec<(String, u64)> = report
        .by_action
        .iter()
        .map(|(a, n)| (a.clone(), *n))
        .collect();
    app.gatekeeper
        .metrics
        .observe_audit(report.started_unix, report.duration, &by_action);
    let as_int = |n: u64| Value::int(i64::try_from(n).unwrap_or(i64::MAX));
    let constraints = report
        .constraints
        .values()
        .map(|c| {
            let mut fields = vec![
                ("kind", Value::string(&c.kind)),
                ("name", Value::string(&c.name)),
                ("totalViolations", as_int(c.total_violations)),
            ];
            if !c.violations.is_empty() {
                fields.push((
                    "violations",
                    Value::array(c.violations.iter().map(violation_value).collect()),
                ));
            }
            Value::object(fields)
        })
        .collect();
    let body = Value::object([
        ("auditTimestamp", Value::string(&report.timestamp)),
        ("constraints", Value::array(constraints)),
        (
            "totalViolations",
            Value::object(
                report
                    .by_action
                    .iter()
                    .map(|(a, n)| (a.as_str(), as_int(*n))),
            ),
        ),
    ]);
    *app.gatekeeper
        .last_audit
        .write()
        .unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(report));
    Ok(json(StatusCode::OK, &body))
}
