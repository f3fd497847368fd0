//! The policy API: `GET /v1/policies`, `GET|PUT|DELETE /v1/policies/{id}`.

use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::http::request::Parts;
use rego_runtime::{Error as EngineError, PolicyModule};

use super::error::ApiError;
use super::wire::{self, Empty, PolicyV1, ResultV1};
use crate::app::App;
use crate::go_json;
use crate::http::{self, Query, Response};
use crate::store::data_ops::StorageError;
use crate::store::{Contents, UpdateError};

/// `GET /v1/policies`: every module, from bundles and the API, by id.
pub fn list(app: &App, parts: &Parts) -> Result<Response, ApiError> {
    let snapshot = app.store.snapshot();
    let mut policies: Vec<PolicyV1<'_>> = snapshot
        .contents
        .all_modules()
        .map(|module| PolicyV1 {
            id: &module.id,
            raw: &module.source,
        })
        .collect();
    policies.sort_by(|a, b| a.id.cmp(b.id));
    let body = ResultV1 { result: policies };
    Ok(ok(parts, &body))
}

/// `GET /v1/policies/{id}`.
pub fn get(app: &App, parts: &Parts, id: &str) -> Result<Response, ApiError> {
    let snapshot = app.store.snapshot();
    let module = snapshot.contents.module(id).ok_or_else(|| not_found(id))?;
    let body = ResultV1 {
        result: PolicyV1 {
            id: &module.id,
            raw: &module.source,
        },
    };
    Ok(ok(parts, &body))
}

/// `PUT /v1/policies/{id}`: the body is raw Rego; identical bytes are a no-op.
pub fn put(app: &App, parts: &Parts, id: &str, body: &Bytes) -> Result<Response, ApiError> {
    let source = std::str::from_utf8(body)
        .map_err(|_| ApiError::BadRequest("module is not valid UTF-8".to_string()))?;
    let version = app.config.default_rego_version;
    let updated = app.store.update(|contents| {
        if let Some(existing) = contents.module(id) {
            check_package_scope(contents, &existing.source)?;
            if *existing.source == *source {
                return Ok(());
            }
        }
        if rego_runtime::rego::is_empty_module(source) {
            return Err(ApiError::BadRequest(format!(
                "{id}:0: rego_parse_error: empty module"
            )));
        }
        check_package_scope(contents, source)?;
        contents.policies.insert(
            id.to_string(),
            PolicyModule {
                id: id.to_string(),
                file: id.to_string(),
                source: Arc::from(source),
                rego_version: version,
            },
        );
        Ok(())
    });
    updated.map_err(|error| compile_error(error, wire::CODE_INVALID_PARAMETER))?;
    Ok(ok(parts, &Empty {}))
}

/// `DELETE /v1/policies/{id}`: refused when the remaining modules no longer compile.
pub fn delete(app: &App, parts: &Parts, id: &str) -> Result<Response, ApiError> {
    let updated = app.store.update(|contents| {
        let existing = contents.module(id).ok_or_else(|| not_found(id))?;
        check_package_scope(contents, &existing.source)?;
        contents.policies.remove(id);
        Ok(())
    });
    updated.map_err(|error| compile_error(error, wire::CODE_INVALID_OPERATION))?;
    Ok(ok(parts, &Empty {}))
}

fn ok<T: serde::Serialize>(parts: &Parts, body: &T) -> Response {
    let pretty = Query::parse(parts.uri.query()).flag("pretty");
    http::json(StatusCode::OK, go_json::to_vec(body, pretty))
}

fn not_found(id: &str) -> ApiError {
    ApiError::from(StorageError::NotFound(format!("policy id {id:?}")))
}

/// A module whose package lies under a bundle's roots belongs to that bundle.
fn check_package_scope(contents: &Contents, source: &str) -> Result<(), ApiError> {
    match rego_runtime::rego::package_path(source) {
        Some(package) => super::data::check_write_scope(contents, &package),
        None => Ok(()),
    }
}

fn compile_error(error: UpdateError<ApiError>, code: &'static str) -> ApiError {
    match error {
        UpdateError::Refused(error) => error,
        UpdateError::Compile(EngineError::Compile(problems))
            if code == wire::CODE_INVALID_OPERATION =>
        {
            ApiError::InvalidOperation {
                message: wire::MSG_COMPILE_MODULE_ERROR,
                problems,
            }
        }
        UpdateError::Compile(EngineError::Compile(problems)) => ApiError::Problems {
            message: wire::MSG_COMPILE_MODULE_ERROR,
            problems,
        },
        UpdateError::Compile(other) => ApiError::Internal(other.to_string()),
    }
}
