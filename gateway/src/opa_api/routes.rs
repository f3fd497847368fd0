//! Every OPA REST route, listed once (OPA's `initRouters`): which handler serves which method
//! and path, the label each reports metrics under, and 405 for other methods.

use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};

use super::error::ApiError;
use super::{data, health, policies, query};
use crate::app::App;
use crate::http::{self, Response};

/// Handler labels, as OPA reports them in `http_request_duration_seconds`.
pub const V0_DATA: &str = "v0/data";
pub const V1_DATA: &str = "v1/data";
pub const V1_QUERY: &str = "v1/query";
pub const V1_POLICIES: &str = "v1/policies";
pub const V1_CONFIG: &str = "v1/config";
pub const V1_STATUS: &str = "v1/status";
pub const INDEX: &str = "index";
pub const CATCHALL: &str = "catchall";
pub const HEALTH: &str = "health";
pub const METRICS: &str = "metrics";

/// The rest of `path` after `prefix`: `Some("")` for the prefix itself, `Some("a/b")` below it.
fn below<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

/// Serves `parts` if it is an OPA route; `None` leaves it to another front door.
pub async fn handle(app: &App, parts: Parts, body: Incoming) -> Option<(&'static str, Response)> {
    let path = parts.uri.path().to_string();
    let method = parts.method.clone();
    let read = |body| crate::http::read_body(&parts.headers, body, app.config.body_limits);

    let (label, result): (&'static str, Result<Response, ApiError>) = if let Some(rest) =
        below(&path, "/v0/data")
    {
        if method == Method::POST {
            match read(body).await {
                Ok(bytes) => (V0_DATA, data::post_v0(app, &parts, rest, &bytes)),
                Err(e) => (
                    V0_DATA,
                    Err(ApiError::BadRequest(format!(
                        "unexpected parse error for input: {e}"
                    ))),
                ),
            }
        } else {
            (CATCHALL, Ok(http::empty(StatusCode::METHOD_NOT_ALLOWED)))
        }
    } else if let Some(rest) = below(&path, "/v1/data") {
        match method {
            Method::GET => (V1_DATA, data::get(app, &parts, rest)),
            Method::DELETE if !rest.is_empty() => (V1_DATA, data::delete(app, &parts, rest)),
            Method::POST | Method::PUT | Method::PATCH => {
                let bytes = match read(body).await {
                    Ok(bytes) => bytes,
                    Err(e) => return Some((V1_DATA, ApiError::from(e).into_response())),
                };
                let result = match method {
                    Method::POST => data::post(app, &parts, rest, &bytes),
                    Method::PUT => data::put(app, &parts, rest, &bytes),
                    _ => data::patch(app, &parts, rest, &bytes),
                };
                (V1_DATA, result)
            }
            _ => (CATCHALL, Ok(http::empty(StatusCode::METHOD_NOT_ALLOWED))),
        }
    } else if let Some(rest) = below(&path, "/v1/policies") {
        match (&method, rest.is_empty()) {
            (&Method::GET, true) => (V1_POLICIES, policies::list(app, &parts)),
            (&Method::GET, false) => (V1_POLICIES, policies::get(app, &parts, &decode(rest))),
            (&Method::DELETE, false) => (V1_POLICIES, policies::delete(app, &parts, &decode(rest))),
            (&Method::PUT, false) => match read(body).await {
                Ok(bytes) => (
                    V1_POLICIES,
                    policies::put(app, &parts, &decode(rest), &bytes),
                ),
                Err(e) => (V1_POLICIES, Err(e.into())),
            },
            _ => (CATCHALL, Ok(http::empty(StatusCode::METHOD_NOT_ALLOWED))),
        }
    } else if let Some(rest) = below(&path, "/v1/query") {
        match (&method, rest.is_empty()) {
            (&Method::GET, true) => (V1_QUERY, query::get(app, &parts)),
            (&Method::POST, true) => match read(body).await {
                Ok(bytes) => (V1_QUERY, query::post(app, &parts, &bytes)),
                Err(e) => (V1_QUERY, Err(e.into())),
            },
            _ => (CATCHALL, Ok(http::empty(StatusCode::METHOD_NOT_ALLOWED))),
        }
    } else if let Some(rest) = below(&path, "/health") {
        if method != Method::GET {
            return Some((HEALTH, http::empty(StatusCode::METHOD_NOT_ALLOWED)));
        }
        let response = if rest.is_empty() {
            health::get(app, &parts)
        } else {
            health::get_policy(app, rest)
        };
        (HEALTH, Ok(response))
    } else if path == "/metrics" && method == Method::GET {
        let mut response = http::text(StatusCode::OK, "");
        *response.body_mut() = app.metrics.render().into();
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        (METRICS, Ok(response))
    } else if path == "/v1/status" && method == Method::GET {
        (
            V1_STATUS,
            Err(ApiError::Internal("status plugin not enabled".to_string())),
        )
    } else if path == "/v1/config" && method == Method::GET {
        (V1_CONFIG, Ok(super::config_response(app, &parts)))
    } else if path == "/" {
        match method {
            Method::POST => match read(body).await {
                Ok(bytes) => {
                    let decision = app.config.default_decision.clone();
                    (INDEX, data::post_v0(app, &parts, &decision, &bytes))
                }
                Err(e) => (
                    INDEX,
                    Err(ApiError::BadRequest(format!(
                        "unexpected parse error for input: {e}"
                    ))),
                ),
            },
            Method::GET => (INDEX, Ok(super::index_page())),
            _ => (INDEX, Ok(http::empty(StatusCode::METHOD_NOT_ALLOWED))),
        }
    } else {
        return None;
    };
    Some((label, result.unwrap_or_else(ApiError::into_response)))
}

/// A policy id from the URL: unescaped, as Go's `PathValue` gives it.
fn decode(rest: &str) -> String {
    percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned()
}
