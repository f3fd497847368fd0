//! The query API: `GET /v1/query?q=` and `POST /v1/query`, bindings per solution.

use std::time::Instant;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::http::request::Parts;
use rego_runtime::{Entrypoint, Error as EngineError, Input, Outcome};

use super::error::ApiError;
use super::explain;
use super::request;
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

/// `POST /v1/query` with `{"query": ..., "input": ...}`.
pub fn post(app: &App, parts: &Parts, body: &Bytes) -> Result<Response, ApiError> {
    let started = Instant::now();
    let query = Query::parse(parts.uri.query());
    let text = request::text(body);
    let request = request::query_request(&text).map_err(|e| {
        ApiError::BadRequest(format!("error(s) occurred while decoding request: {e}"))
    })?;
    let input = request
        .input
        .map_or(Input::Undefined, |raw| Input::Json(raw.get()));
    run(app, &query, &request.query, input, started)
}

fn run(
    app: &App,
    query: &Query,
    text: &str,
    input: Input<'_>,
    started: Instant,
) -> Result<Response, ApiError> {
    if is_empty_query(text) {
        // OPA parses it to a body of no expressions, which its evaluator refuses.
        return Err(ApiError::Internal(
            "cannot evaluate empty query".to_string(),
        ));
    }
    let explain = explain::requested(query)?;
    let snapshot = app.store.snapshot();
    let evaluated = Instant::now();
    let (entrypoint, limits) = (Entrypoint::Query(text), app.limits(false));
    let evaluation = if explain.is_some() {
        snapshot
            .prepared
            .evaluate_traced(entrypoint, input, &limits)
            .map(|(evaluation, trace)| (evaluation, Some(trace)))
    } else {
        snapshot
            .prepared
            .evaluate(entrypoint, input, &limits)
            .map(|evaluation| (evaluation, None))
    };
    let (evaluation, trace) = match evaluation {
        Ok(evaluated) => evaluated,
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
    // Unlike a data path, a query is explained even without solutions.
    let explanation = trace.map(|trace| {
        let top = explain::TopQuery::adhoc(text);
        explain::explanation(&trace, &top, query.flag("pretty"))
    });
    let body = QueryResponseV1 {
        explanation,
        metrics: (query.flag("metrics") || query.flag("instrument"))
            .then(|| metrics_body(started, evaluated)),
        result: &solutions,
    };
    Ok(http::json(
        StatusCode::OK,
        go_json::to_vec(&body, query.flag("pretty")),
    ))
}

/// True for a query of nothing but whitespace and comments.
fn is_empty_query(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#')
    })
}
