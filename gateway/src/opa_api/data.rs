//! The data API: `GET|POST /v1/data`, `POST /v0/data`, `POST /` and data writes
//! (`PUT|PATCH|DELETE /v1/data`), as OPA's `v1/server/server.go` serves them.

use std::time::Instant;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::IF_NONE_MATCH;
use hyper::http::request::Parts;
use rego_runtime::{Entrypoint, Input, Outcome, PathSegment, Trace, Value};
use serde_json::value::RawValue;

use super::error::ApiError;
use super::explain;
use super::paths::{self, DataRef};
use super::request;
use super::wire::{self, DataResponseV1, Warning};
use super::{DOOR, metrics_body, provenance};
use crate::app::App;
use crate::go_json;
use crate::http::{self, Query, Response};
use crate::metrics::Outcome as DecisionOutcome;
use crate::store::data_ops::{self, Op};
use crate::store::{Contents, UpdateError};

/// `GET /v1/data/{path}`: input from `?input=`.
pub fn get(app: &App, parts: &Parts, rest: &str) -> Result<Response, ApiError> {
    let started = Instant::now();
    let query = Query::parse(parts.uri.query());
    let input_text = query.last("input");
    let input = match input_text {
        Some(text) => Input::Json(
            request::parameter_document(text)
                .map_err(|e| {
                    ApiError::BadRequest(format!(
                        "parameter contains malformed input document: {e}"
                    ))
                })?
                .get(),
        ),
        None => Input::Undefined,
    };
    decide_v1(app, &query, rest, input, None, started)
}

/// `POST /v1/data/{path}`: input from the `input` key of the body.
pub fn post(app: &App, parts: &Parts, rest: &str, body: &Bytes) -> Result<Response, ApiError> {
    let started = Instant::now();
    let query = Query::parse(parts.uri.query());
    let malformed = |e: &dyn std::fmt::Display| {
        ApiError::BadRequest(format!("body contains malformed input document: {e}"))
    };
    let (yaml_text, json_text);
    let input = if http::is_yaml(&parts.headers) {
        // OPA turns YAML into JSON, then decodes that as a JSON body.
        yaml_text = yaml_document(body).map_err(|e| malformed(&e))?;
        match &yaml_text {
            None => Input::Undefined,
            Some(json) => request::data_request_input(json)
                .map_err(|e| malformed(&e))?
                .map_or(Input::Undefined, |raw| Input::Json(raw.get())),
        }
    } else {
        json_text = request::text(body);
        request::data_request_input(&json_text)
            .map_err(|e| malformed(&e))?
            .map_or(Input::Undefined, |raw| Input::Json(raw.get()))
    };
    let warning = matches!(input, Input::Undefined).then_some(Warning {
        code: wire::CODE_API_USAGE_WARNING,
        message: wire::MSG_INPUT_KEY_MISSING,
    });
    decide_v1(app, &query, rest, input, warning, started)
}

/// `POST /v0/data/{path}` and `POST /`: the body is the input, the answer the bare value.
pub fn post_v0(app: &App, parts: &Parts, rest: &str, body: &Bytes) -> Result<Response, ApiError> {
    let started = Instant::now();
    let query = Query::parse(parts.uri.query());
    let malformed = |e: &dyn std::fmt::Display| {
        ApiError::BadRequest(format!(
            "unexpected parse error for input: body contains malformed input document: {e}"
        ))
    };
    let (yaml_input, json_text);
    // An empty body is the input `null`, not undefined (OPA's InterfaceToValue(nil)).
    let input = if http::is_yaml(&parts.headers) {
        yaml_input = yaml_document(body).map_err(|e| malformed(&e))?;
        Input::Json(yaml_input.as_deref().unwrap_or("null"))
    } else {
        json_text = request::text(body);
        let raw = request::first_value(&json_text).map_err(|e| malformed(&e))?;
        Input::Json(raw.map_or("null", RawValue::get))
    };
    let reference = DataRef::parse(rest)?;
    let (value, _) = evaluate(app, &reference.segments, input, false, false, started)?;
    match value {
        Some(value) => Ok(http::json(
            StatusCode::OK,
            go_json::to_vec(&value, query.flag("pretty")),
        )),
        None => {
            let snapshot = app.store.snapshot();
            let is_rule = snapshot
                .prepared
                .rules()
                .iter()
                .any(|rule| paths::same_path(&rule.path, &reference.segments));
            let kind = if is_rule {
                wire::MSG_UNDEFINED_DOCUMENT
            } else {
                wire::MSG_MISSING_DOCUMENT
            };
            Err(ApiError::Undefined(format!(
                "{kind}: {}",
                reference.display
            )))
        }
    }
}

fn decide_v1(
    app: &App,
    query: &Query,
    rest: &str,
    input: Input<'_>,
    warning: Option<Warning>,
    started: Instant,
) -> Result<Response, ApiError> {
    let explain = explain::requested(query)?;
    let reference = DataRef::parse(rest)?;
    let evaluated = Instant::now();
    let (value, trace) = evaluate(
        app,
        &reference.segments,
        input,
        query.flag("strict-builtin-errors"),
        explain.is_some(),
        started,
    )?;
    // As OPA, an undefined result comes without its notes.
    let explanation = trace.filter(|_| value.is_some()).map(|trace| {
        let top = explain::TopQuery::data(&reference.display);
        explain::explanation(&trace, &top, query.flag("pretty"))
    });
    let response = DataResponseV1 {
        provenance: query.flag("provenance").then(|| provenance(app)),
        explanation,
        metrics: (query.flag("metrics") || query.flag("instrument"))
            .then(|| metrics_body(started, evaluated)),
        result: value.as_ref(),
        warning,
    };
    Ok(http::json(
        StatusCode::OK,
        go_json::to_vec(&response, query.flag("pretty")),
    ))
}

/// Evaluates `data.<path>` and records the decision; `traced` also answers the trace.
fn evaluate(
    app: &App,
    path: &[PathSegment],
    input: Input<'_>,
    strict: bool,
    traced: bool,
    started: Instant,
) -> Result<(Option<Value>, Option<Trace>), ApiError> {
    let snapshot = app.store.snapshot();
    let entrypoint = Entrypoint::Data(path);
    let limits = app.limits(strict);
    let (evaluation, trace) = if traced {
        match snapshot
            .prepared
            .evaluate_traced(entrypoint, input, &limits)
        {
            Ok((evaluation, trace)) => (Ok(evaluation), Some(trace)),
            Err(error) => (Err(error), None),
        }
    } else {
        (snapshot.prepared.evaluate(entrypoint, input, &limits), None)
    };
    let (outcome, result) = match evaluation {
        Ok(evaluation) => {
            for line in &evaluation.prints {
                tracing::info!(target: "print", "{line}");
            }
            match evaluation.outcome {
                Outcome::Document(Some(value)) => (DecisionOutcome::Defined, Ok(Some(value))),
                Outcome::Document(None) | Outcome::Bindings(_) => {
                    (DecisionOutcome::Undefined, Ok(None))
                }
            }
        }
        Err(error) => (
            DecisionOutcome::Error,
            Err(ApiError::from_evaluation(
                error,
                wire::MSG_COMPILE_QUERY_ERROR,
            )),
        ),
    };
    app.metrics
        .observe_decision(DOOR, outcome, started.elapsed());
    result.map(|value| (value, trace))
}

/// A YAML body as JSON text; `None` when empty.
fn yaml_document(body: &[u8]) -> Result<Option<String>, yaml_serde::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: serde_json::Value = yaml_serde::from_slice(body)?;
    Ok(Some(value.to_string()))
}

/// `PUT /v1/data/{path}`: creates missing parents; `If-None-Match: *` keeps existing data.
pub fn put(app: &App, parts: &Parts, rest: &str, body: &Bytes) -> Result<Response, ApiError> {
    let started = Instant::now();
    let value = decode_document(body)?;
    let path = paths::storage_path(rest)?;
    let keep_existing = parts
        .headers
        .get(IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == b"*");
    let written = app.store.update(|contents| {
        check_write_scope(contents, &path)?;
        if data_ops::read(&contents.data, &path).is_some() {
            if keep_existing {
                return Ok(false);
            }
        } else if let Some((_, parents)) = path.split_last() {
            data_ops::make_dir(&mut contents.data, parents)?;
        }
        data_ops::write(&mut contents.data, Op::Add, &path, Some(value))?;
        Ok(true)
    });
    match written {
        Ok(true) => Ok(write_response(parts, started)),
        Ok(false) => Ok(http::empty(StatusCode::NOT_MODIFIED)),
        Err(error) => Err(write_error(error)),
    }
}

/// `PATCH /v1/data/{path}`: JSON-patch operations relative to the path.
pub fn patch(app: &App, parts: &Parts, rest: &str, body: &Bytes) -> Result<Response, ApiError> {
    let started = Instant::now();
    let text = request::text(body);
    let operations = request::patches(&text).map_err(ApiError::BadRequest)?;
    let root = rest.trim_matches('/');
    let mut prepared = Vec::with_capacity(operations.len());
    for operation in operations {
        let op = match operation.op.as_str() {
            "add" => Op::Add,
            "remove" => Op::Remove,
            "replace" => Op::Replace,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "bad patch operation: {other}"
                )));
            }
        };
        let relative = operation.path.trim_matches('/');
        let joined = match (root.is_empty(), relative.is_empty()) {
            (_, true) => root.to_string(),
            (true, false) => relative.to_string(),
            (false, false) => format!("{root}/{relative}"),
        };
        let path = paths::storage_path(&joined)
            .map_err(|_| ApiError::BadRequest(format!("bad patch path: {}", operation.path)))?;
        let value = operation
            .value
            .map(|raw| Value::from_json(raw.get()))
            .transpose()
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        prepared.push((op, path, value));
    }
    let written = app.store.update(|contents| {
        for (op, path, value) in prepared {
            check_write_scope(contents, &path)?;
            data_ops::write(&mut contents.data, op, &path, value)?;
        }
        Ok(())
    });
    written.map_err(write_error)?;
    Ok(write_response(parts, started))
}

/// `DELETE /v1/data/{path}`.
pub fn delete(app: &App, parts: &Parts, rest: &str) -> Result<Response, ApiError> {
    let started = Instant::now();
    let path = paths::storage_path(rest)?;
    let written = app.store.update(|contents| {
        check_write_scope(contents, &path)?;
        if data_ops::read(&contents.data, &path).is_none() {
            return Err(data_ops::does_not_exist().into());
        }
        data_ops::write(&mut contents.data, Op::Remove, &path, None)?;
        Ok(())
    });
    written.map_err(write_error)?;
    Ok(write_response(parts, started))
}

/// A write body: one JSON document (trailing bytes ignored, as Go's decoder does).
fn decode_document(body: &[u8]) -> Result<Value, ApiError> {
    let text = request::text(body);
    let raw = request::first_value(&text)
        .map_err(ApiError::BadRequest)?
        .ok_or_else(|| ApiError::BadRequest("EOF".to_string()))?;
    // Valid JSON the value model cannot hold (a number past f64, nesting past serde's limit).
    Value::from_json(raw.get()).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// 204, or 200 with the metrics when `?metrics` asks for them.
fn write_response(parts: &Parts, started: Instant) -> Response {
    let query = Query::parse(parts.uri.query());
    if query.flag("metrics") {
        let body = DataResponseV1 {
            metrics: Some(metrics_body(started, started)),
            ..DataResponseV1::default()
        };
        return http::json(StatusCode::OK, go_json::to_vec(&body, false));
    }
    http::empty(StatusCode::NO_CONTENT)
}

/// A write that compiled badly reads as OPA's `ErrorString` of the compiler's errors.
fn write_error(error: UpdateError<ApiError>) -> ApiError {
    match error {
        UpdateError::Refused(error) => error,
        UpdateError::Compile(error @ rego_runtime::Error::Compile(_)) => {
            ApiError::BadRequest(error.to_string())
        }
        UpdateError::Compile(other) => ApiError::Internal(other.to_string()),
    }
}

/// OPA's `checkPathScope`: data owned by a bundle cannot be written through the API.
pub fn check_write_scope(contents: &Contents, path: &[String]) -> Result<(), ApiError> {
    let roots = contents.bundle_roots();
    if path.is_empty() && !roots.is_empty() {
        return Err(ApiError::BadRequest(
            "can't write to document root with bundle roots configured".to_string(),
        ));
    }
    for (name, roots) in &roots {
        for root in roots {
            if root.is_empty() {
                return Err(ApiError::BadRequest(format!(
                    "all paths owned by bundle {name:?}"
                )));
            }
            let root: Vec<&str> = root.split('/').collect();
            let owned = path.iter().zip(&root).all(|(a, b)| a == b);
            if owned {
                return Err(ApiError::BadRequest(format!(
                    "path {} is owned by bundle {name:?}",
                    path.join("/")
                )));
            }
        }
    }
    Ok(())
}
