//! The query API: `GET /v1/query?q=` and `POST /v1/query`, bindings per solution.

use std::time::Instant;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::http::request::Parts;
use rego_runtime::{Entrypoint, Error as EngineError, Input, Outcome};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::ApiError;
use super::wire::{self, QueryResponseV1};
use super::{DOOR, metrics_body};
use crate::app::App;
use crate::go_json;
use crate::http::{self, Query, Response};
use crate::metrics::Outcome as DecisionOutcome;

/// `GET /v1/query?q=...`.
pub fn get(app: &App, parts: &Parts) -> Result<Response, ApiError> {
    let started = Instant::now();
    let query = Query::parse(parts.uri.query());
    let text = query
        .last("q")
        .ok_or_else(|| ApiError::BadRequest("missing parameter 'q'".to_string()))?;
    run(app, &query, text, Input::Undefined, started)
}

#[derive(Deserialize)]
struct QueryRequestV1<'a> {
    #[serde(default)]
    query: String,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
}

/// `POST /v1/query` with `{"query": ..., "input": ...}`.
pub fn post(app: &App, parts: &Parts, body: &Bytes) -> Result<Response, ApiError> {
    let started = Instant::now();
    let query = Query::parse(parts.uri.query());
    let request: QueryRequestV1<'_> = serde_json::Deserializer::from_slice(body)
        .into_iter::<&RawValue>()
        .next()
        .transpose()
        .and_then(|raw| serde_json::from_str(raw.map_or("{}", RawValue::get)))
        .map_err(|e| {
            ApiError::BadRequest(format!(
                "error(s) occurred while decoding request: {}",
                go_json::decode_error_message(&e, body, "types.QueryRequestV1")
            ))
        })?;
    let input = match request.input {
        Some(raw) if raw.get() != "null" => Input::Json(raw.get()),
        _ => Input::Undefined,
    };
    run(app, &query, &request.query, input, started)
}

fn run(
    app: &App,
    query: &Query,
    text: &str,
    input: Input<'_>,
    started: Instant,
) -> Result<Response, ApiError> {
    let snapshot = app.store.snapshot();
    let evaluated = Instant::now();
    let evaluation = snapshot
        .prepared
        .evaluate(Entrypoint::Query(text), input, &app.limits(false));
    let evaluation = match evaluation {
        Ok(evaluation) => evaluation,
        Err(error) => {
            app.metrics
                .observe_decision(DOOR, DecisionOutcome::Error, started.elapsed());
            return Err(match error {
                EngineError::Compile(problems) => {
                    let parse = problems.iter().any(|p| p.code == "rego_parse_error");
                    ApiError::Problems {
                        message: if parse {
                            wire::MSG_PARSE_QUERY_ERROR
                        } else {
                            wire::MSG_COMPILE_QUERY_ERROR
                        },
                        problems,
                    }
                }
                other => ApiError::from_evaluation(other, wire::MSG_COMPILE_QUERY_ERROR),
            });
        }
    };
    for line in &evaluation.prints {
        tracing::info!(target: "print", "{line}");
    }
    let solutions = match evaluation.outcome {
        Outcome::Bindings(solutions) => solutions,
        Outcome::Document(_) => Vec::new(),
    };
    let outcome = if solutions.is_empty() {
        DecisionOutcome::Undefined
    } else {
        DecisionOutcome::Defined
    };
    app.metrics
        .observe_decision(DOOR, outcome, started.elapsed());
    let body = QueryResponseV1 {
        metrics: (query.flag("metrics") || query.flag("instrument"))
            .then(|| metrics_body(started, evaluated)),
        result: &solutions,
    };
    Ok(http::json(
        StatusCode::OK,
        go_json::to_vec(&body, query.flag("pretty")),
    ))
}
