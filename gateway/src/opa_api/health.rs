//! `GET /health` and `GET /health/{path}`, OPA's health checks.

use hyper::StatusCode;
use hyper::http::request::Parts;
use rego_runtime::{Entrypoint, Input, Outcome, PathSegment, Value};

use super::wire::HealthResponseV1;
use crate::app::App;
use crate::go_json;
use crate::http::{self, Query, Response};

/// `GET /health`: 200 `{}` when the server evaluates; with `bundles` (or `plugins`) only
/// once every configured bundle has been activated.
pub fn get(app: &App, parts: &Parts) -> Response {
    let query = Query::parse(parts.uri.query());
    let wants_bundles = query.flag("bundles") || query.flag("bundle") || query.flag("plugins");
    if wants_bundles && !app.bundles.all_activated() {
        let message = if query.flag("bundles") || query.flag("bundle") {
            "one or more bundles are not activated"
        } else {
            "one or more plugins are not up"
        };
        return answer(Some(message.to_string()));
    }
    answer(None)
}

/// `GET /health/{path}`: passes when `data.system.health.<path>` is exactly `true`.
pub fn get_policy(app: &App, rest: &str) -> Response {
    let mut path: Vec<PathSegment> = ["system", "health"]
        .iter()
        .map(|s| PathSegment::Key((*s).to_string()))
        .collect();
    path.extend(
        rest.split('/')
            .filter(|s| !s.is_empty())
            .map(|s| PathSegment::Key(s.to_string())),
    );
    let display = format!(
        "data.{}",
        path.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(".")
    );
    let all_ok = app.bundles.all_activated();
    let plugin_state: Vec<(&str, Value)> = if app.bundles.states().is_empty() {
        Vec::new()
    } else {
        vec![(
            "bundle",
            Value::string(if all_ok { "OK" } else { "NOT_READY" }),
        )]
    };
    let input = Value::object([
        ("plugin_state", Value::object(plugin_state)),
        ("plugins_ready", Value::Bool(all_ok)),
    ]);
    let snapshot = app.store.snapshot();
    let evaluation = snapshot.prepared.evaluate(
        Entrypoint::Data(&path),
        Input::Value(&input),
        &app.limits(false),
    );
    match evaluation.map(|e| e.outcome) {
        Ok(Outcome::Document(Some(Value::Bool(true)))) => answer(None),
        Ok(Outcome::Document(None)) => {
            answer(Some(format!("health check ({display}) was undefined")))
        }
        Ok(_) => answer(Some(format!(
            "health check ({display}) returned unexpected value"
        ))),
        Err(error) => answer(Some(error.to_string())),
    }
}

fn answer(error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    http::json(status, go_json::to_vec(&HealthResponseV1 { error }, false))
}
