//! The OPA front door: OPA's REST API (`reference/opa.md` §1), translated to engine calls.
//!
//! `routes` lists every route; `data`, `policies`, `query` and `health` serve them; `wire`
//! holds OPA's JSON shapes and codes; `error` turns failures into OPA's error bodies.

mod data;
pub mod error;
mod explain;
mod health;
mod paths;
mod policies;
mod query;
mod request;
pub mod routes;
pub mod wire;

use std::collections::BTreeMap;
use std::time::Instant;

use hyper::StatusCode;
use hyper::http::request::Parts;

use crate::app::App;
use crate::go_json;
use crate::http::{self, Query, Response};
use wire::{BundleRevision, ProvenanceV1, ResultV1};

/// The label decisions of this door carry in metrics.
pub const DOOR: &str = "opa";

/// The `metrics` member OPA adds on `?metrics`: timers in nanoseconds.
fn metrics_body(started: Instant, evaluated: Instant) -> BTreeMap<String, u64> {
    let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    let total = started.elapsed();
    BTreeMap::from([
        ("counter_server_query_cache_hit".to_string(), 1),
        (
            "timer_rego_input_parse_ns".to_string(),
            nanos(evaluated - started),
        ),
        (
            "timer_rego_query_eval_ns".to_string(),
            nanos(evaluated.elapsed()),
        ),
        ("timer_server_handler_ns".to_string(), nanos(total)),
    ])
}

/// `provenance`: this build and every active bundle's revision.
fn provenance(app: &App) -> ProvenanceV1 {
    let snapshot = app.store.snapshot();
    ProvenanceV1 {
        version: env!("CARGO_PKG_VERSION"),
        build_commit: "",
        build_timestamp: "",
        build_hostname: "",
        bundles: snapshot
            .contents
            .bundles
            .iter()
            .map(|(name, bundle)| {
                (
                    name.clone(),
                    BundleRevision {
                        revision: bundle.manifest.revision.clone(),
                    },
                )
            })
            .collect(),
    }
}

/// `GET /v1/config`: the active configuration, in OPA's key names where OPA has them.
fn config_response(app: &App, parts: &Parts) -> Response {
    let config = &app.config;
    let body = ResultV1 {
        result: serde_json::json!({
            "default_decision": config.default_decision,
            "server": {"decoding": {
                "max_length": config.body_limits.max_bytes,
                "gzip": {"max_length": config.body_limits.max_gzip_bytes},
            }},
            "evaluation_timeout": crate::go_duration::format(config.evaluation_timeout),
        }),
    };
    let pretty = Query::parse(parts.uri.query()).flag("pretty");
    http::json(StatusCode::OK, go_json::to_vec(&body, pretty))
}

/// `GET /`: a small page saying what this is and where the API lives.
fn index_page() -> Response {
    let mut response = http::text(
        StatusCode::OK,
        concat!(
            "<html><body><pre>Rego/OPA compatibility gateway ",
            env!("CARGO_PKG_VERSION"),
            "</pre><p>OPA REST API: POST /v1/data/{path}, /v1/policies, /v1/query, /health, /metrics</p></body></html>\n"
        ),
    );
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
