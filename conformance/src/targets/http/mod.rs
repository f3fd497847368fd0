//! The `http` target: any server speaking OPA's REST API (the gateway, or real OPA to check
//! the runner itself). Each case pushes its data through `/v1/data` and its modules through
//! `/v1/policies`, asks the query through `/v1/query`, and removes what it wrote. The server
//! may be live: a case never writes where the server already holds something (see `lease`).

mod lease;
mod wire;

use std::collections::BTreeMap;
use std::sync::Mutex;

use rego_runtime::RegoVersion;
use serde_json::{Value as Json, json};

use super::Target;
use crate::case::LoadedCase;
use crate::footprint::Footprint;
use crate::outcome::{Bindings, Outcome, Run};
use lease::{Claims, Lease};
use wire::Reply;

/// Talks to one server for Rego v1 cases and, optionally, a second one started with
/// `--v0-compatible` for v0 cases (OPA's REST API parses with the server's Rego version).
pub struct HttpTarget {
    name: String,
    v1: String,
    v0: Option<String>,
    /// Cases share the servers, so they run one at a time.
    claims: Mutex<Claims>,
}

impl HttpTarget {
    /// `v1` and `v0` are `host:port` addresses (a leading `http://` is accepted) or
    /// `unix:<path>` sockets. The target reports as `http`.
    pub fn new(v1: &str, v0: Option<&str>) -> HttpTarget {
        HttpTarget::named("http", v1, v0)
    }

    /// Like [`HttpTarget::new`], reporting under `name` (e.g. `opa` for real OPA).
    pub fn named(name: &str, v1: &str, v0: Option<&str>) -> HttpTarget {
        let strip = |url: &str| {
            url.trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string()
        };
        HttpTarget {
            name: name.to_string(),
            v1: strip(v1),
            v0: v0.map(strip),
            claims: Mutex::new(Claims::new()),
        }
    }
}

impl Target for HttpTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&self, loaded: &LoadedCase) -> Run {
        let case = &loaded.case;
        if case.input_term.is_some() {
            return Run::Skipped("input_term may hold sets, which JSON cannot carry".into());
        }
        let server = match (loaded.rego_version, &self.v0) {
            (RegoVersion::V1, _) => &self.v1,
            (RegoVersion::V0, Some(v0)) => v0,
            (RegoVersion::V0, None) => {
                return Run::Skipped("no --v0-compatible server given".into());
            }
        };
        let transport_error = |message: String| {
            Run::Done(Outcome::Error {
                code: "transport_error".into(),
                message,
            })
        };
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        let mut lease = match claims.begin(server) {
            Ok(lease) => lease,
            Err(problem) => return transport_error(problem),
        };
        let run = run_case(&mut lease, loaded);
        let released = lease.release();
        if released.is_err() {
            claims.keep(lease);
        }
        match (run, released) {
            (Ok(run), Ok(())) => run,
            (Err(problem), _) => transport_error(problem),
            (Ok(_), Err(stuck)) => transport_error(format!("cannot remove {stuck}")),
        }
    }
}

/// Runs one case on the lease's server: skipped when its footprint is taken.
fn run_case(lease: &mut Lease, loaded: &LoadedCase) -> Result<Run, String> {
    let case = &loaded.case;
    if let Some(taken) = lease.taken(&Footprint::of(case))? {
        return Ok(Run::Skipped(taken));
    }
    match &case.data {
        None => {}
        Some(Json::Object(documents)) => {
            for (root, value) in documents {
                if !lease.put_data(root, value)? {
                    return Ok(Run::Skipped(format!(
                        "the target already holds data.{root}"
                    )));
                }
            }
        }
        Some(other) => return Err(format!("the case's data is not an object: {other}")),
    }
    if let Some(error) = put_modules(lease, &case.modules)? {
        return Ok(Run::Done(error));
    }
    let input = case.input.clone();
    if case.strict_error {
        return strict_query(lease, &case.query, input).map(Run::Done);
    }
    let mut request = json!({ "query": case.query });
    if let Some(input) = input {
        request["input"] = input;
    }
    let reply = lease.send(
        "POST",
        "/v1/query",
        &serde_json::to_vec(&request).unwrap_or_default(),
    )?;
    if reply.status != 200 {
        return Ok(Run::Done(error_outcome(lease, &reply)));
    }
    let body: Json = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
    let results = body
        .get("result")
        .and_then(Json::as_array)
        .map(|solutions| solutions.iter().map(bindings).collect())
        .unwrap_or_default();
    Ok(Run::Done(Outcome::Results(results)))
}

/// Uploads modules; one that fails only because a later module is missing is retried after
/// the others. Returns the compile error outcome if modules do not compile.
fn put_modules(lease: &mut Lease, modules: &[String]) -> Result<Option<Outcome>, String> {
    let mut pending: Vec<(usize, &String)> = modules.iter().enumerate().collect();
    loop {
        let mut failed = Vec::new();
        let mut last_error = None;
        for (i, source) in &pending {
            let reply = lease.put_policy(*i, source)?;
            if reply.status != 200 {
                last_error = Some(error_outcome(lease, &reply));
                failed.push((*i, *source));
            }
        }
        if failed.is_empty() {
            return Ok(None);
        }
        if failed.len() == pending.len() {
            return Ok(last_error);
        }
        pending = failed;
    }
}

/// `data.<path> = x` under strict builtin errors: the REST query API has no such flag, so the
/// path is asked through `/v1/data?strict-builtin-errors` instead.
fn strict_query(lease: &Lease, query: &str, input: Option<Json>) -> Result<Outcome, String> {
    let Some((path, var)) = data_path_query(query) else {
        return Err(format!(
            "strict_error needs a `data.<path> = <var>` query to run over HTTP, not {query:?}"
        ));
    };
    let body = match input {
        Some(input) => json!({ "input": input }),
        None => json!({}),
    };
    let reply = lease.send(
        "POST",
        &format!("/v1/data/{path}?strict-builtin-errors"),
        &serde_json::to_vec(&body).unwrap_or_default(),
    )?;
    if reply.status != 200 {
        return Ok(error_outcome(lease, &reply));
    }
    let body: Json = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
    Ok(Outcome::Results(match body.get("result") {
        Some(result) => vec![BTreeMap::from([(var, result.clone())])],
        None => Vec::new(),
    }))
}

/// `data.a.b = x` to (`a/b`, `x`).
fn data_path_query(query: &str) -> Option<(String, String)> {
    let (left, right) = query.split_once(" = ")?;
    let path = left.trim().strip_prefix("data.")?;
    let var = right.trim();
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (path.split('.').all(plain) && plain(var)).then(|| (path.replace('.', "/"), var.to_string()))
}

fn bindings(solution: &Json) -> Bindings {
    solution
        .as_object()
        .map(|object| object.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// An OPA error body as an outcome: the first inner error's code, and its text as OPA's
/// `err.Error()` would print it, with module names as the case gives them.
fn error_outcome(lease: &Lease, reply: &Reply) -> Outcome {
    match raw_error_outcome(reply) {
        Outcome::Error { code, message } => Outcome::Error {
            code,
            message: lease.unprefix(&message),
        },
        results => results,
    }
}

fn raw_error_outcome(reply: &Reply) -> Outcome {
    let body: Json = serde_json::from_slice(&reply.body).unwrap_or(Json::Null);
    let inner = body["errors"].as_array().cloned().unwrap_or_default();
    let Some(first) = inner.first() else {
        return Outcome::Error {
            code: body["code"].as_str().unwrap_or("http_error").to_string(),
            message: body["message"]
                .as_str()
                .map_or_else(|| format!("HTTP {}", reply.status), String::from),
        };
    };
    let describe = |e: &Json| {
        let code = e["code"].as_str().unwrap_or_default();
        let message = e["message"].as_str().unwrap_or_default();
        match (
            e["location"]["file"].as_str(),
            e["location"]["row"].as_u64(),
        ) {
            (Some(file), Some(row)) if !file.is_empty() => {
                format!("{file}:{row}: {code}: {message}")
            }
            _ => format!("{code}: {message}"),
        }
    };
    let lines: Vec<String> = inner.iter().map(describe).collect();
    let message = if lines.len() == 1 {
        format!("1 error occurred: {}", lines[0])
    } else {
        format!("{} errors occurred:\n{}", lines.len(), lines.join("\n"))
    };
    Outcome::Error {
        code: first["code"].as_str().unwrap_or_default().to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::data_path_query;

    #[test]
    fn recognises_data_path_queries() {
        assert_eq!(
            data_path_query("data.test.p = x"),
            Some(("test/p".into(), "x".into()))
        );
        assert_eq!(data_path_query("data.test.p[x]"), None);
        assert_eq!(data_path_query("x := data.test.p"), None);
    }
}
