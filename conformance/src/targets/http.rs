//! The `http` target: any server speaking OPA's REST API (the gateway, or real OPA to check
//! the runner itself). Each case resets the server, pushes modules through `/v1/policies` and
//! data through `/v1/data`, and asks the query through `/v1/query`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::Duration;

use rego_runtime::RegoVersion;
use serde_json::{Value as Json, json};

use super::Target;
use crate::case::LoadedCase;
use crate::outcome::{Bindings, Outcome, Run};

/// Talks to one server for Rego v1 cases and, optionally, a second one started with
/// `--v0-compatible` for v0 cases (OPA's REST API parses with the server's Rego version).
pub struct HttpTarget {
    name: String,
    v1: String,
    v0: Option<String>,
    /// Cases share the servers, so they run one at a time.
    lock: Mutex<()>,
}

/// A reply: status and body.
struct Reply {
    status: u16,
    body: Vec<u8>,
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
            lock: Mutex::new(()),
        }
    }

    fn run_on(&self, server: &str, loaded: &LoadedCase) -> Result<Outcome, String> {
        let case = &loaded.case;
        reset(server)?;
        let data = case.data.clone().unwrap_or_else(|| json!({}));
        let reply = send(
            server,
            "PUT",
            "/v1/data",
            &serde_json::to_vec(&data).unwrap_or_default(),
        )?;
        if reply.status != 204 {
            return Err(format!("PUT /v1/data answered {}", reply.status));
        }
        if let Some(error) = put_modules(server, &case.modules)? {
            return Ok(error);
        }
        let input = case.input.clone();
        if case.strict_error {
            return strict_query(server, &case.query, input);
        }
        let mut request = json!({ "query": case.query });
        if let Some(input) = input {
            request["input"] = input;
        }
        let reply = send(
            server,
            "POST",
            "/v1/query",
            &serde_json::to_vec(&request).unwrap_or_default(),
        )?;
        if reply.status != 200 {
            return Ok(error_outcome(&reply));
        }
        let body: Json = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
        let results = body
            .get("result")
            .and_then(Json::as_array)
            .map(|solutions| solutions.iter().map(bindings).collect())
            .unwrap_or_default();
        Ok(Outcome::Results(results))
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
        let _one_at_a_time = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match self.run_on(server, loaded) {
            Ok(outcome) => Run::Done(outcome),
            Err(problem) => Run::Done(Outcome::Error {
                code: "transport_error".into(),
                message: problem,
            }),
        }
    }
}

/// Deletes every policy and empties the data document.
fn reset(server: &str) -> Result<(), String> {
    let reply = send(server, "GET", "/v1/policies", b"")?;
    let body: Json = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
    let ids: Vec<String> = body["result"]
        .as_array()
        .map(|policies| {
            policies
                .iter()
                .filter_map(|p| p["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    // A module may depend on another: delete in rounds until none is left or none goes.
    let mut left = ids;
    while !left.is_empty() {
        let before = left.len();
        left.retain(|id| {
            send(server, "DELETE", &format!("/v1/policies/{id}"), b"")
                .map_or(true, |r| r.status != 200)
        });
        if left.len() == before {
            return Err(format!("cannot delete policies {left:?}"));
        }
    }
    Ok(())
}

/// Uploads modules; one that fails only because a later module is missing is retried after
/// the others. Returns the compile error outcome if modules do not compile.
fn put_modules(server: &str, modules: &[String]) -> Result<Option<Outcome>, String> {
    let mut pending: Vec<(usize, &String)> = modules.iter().enumerate().collect();
    loop {
        let mut failed = Vec::new();
        let mut last_error = None;
        for (i, source) in &pending {
            let reply = send(
                server,
                "PUT",
                &format!("/v1/policies/test-{i}.rego"),
                source.as_bytes(),
            )?;
            if reply.status != 200 {
                last_error = Some(error_outcome(&reply));
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
fn strict_query(server: &str, query: &str, input: Option<Json>) -> Result<Outcome, String> {
    let Some((path, var)) = data_path_query(query) else {
        return Err(format!(
            "strict_error needs a `data.<path> = <var>` query to run over HTTP, not {query:?}"
        ));
    };
    let body = match input {
        Some(input) => json!({ "input": input }),
        None => json!({}),
    };
    let reply = send(
        server,
        "POST",
        &format!("/v1/data/{path}?strict-builtin-errors"),
        &serde_json::to_vec(&body).unwrap_or_default(),
    )?;
    if reply.status != 200 {
        return Ok(error_outcome(&reply));
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
/// `err.Error()` would print it.
fn error_outcome(reply: &Reply) -> Outcome {
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

/// One HTTP/1.1 request on its own connection.
fn send(server: &str, method: &str, path: &str, body: &[u8]) -> Result<Reply, String> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let exchange = |stream: &mut dyn ReadWrite| -> std::io::Result<Vec<u8>> {
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok(raw)
    };
    let raw = match server.strip_prefix("unix:") {
        Some(path) => {
            let mut stream =
                UnixStream::connect(path).map_err(|e| format!("connecting to {server}: {e}"))?;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
            exchange(&mut stream)
        }
        None => {
            let mut stream =
                TcpStream::connect(server).map_err(|e| format!("connecting to {server}: {e}"))?;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
            exchange(&mut stream)
        }
    }
    .map_err(|e| format!("{method} {path}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: no HTTP response"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {path}: bad status line"))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let mut body = raw[split + 4..].to_vec();
    if chunked {
        body = dechunk(&body);
    }
    Ok(Reply { status, body })
}

/// A byte stream to a server, TCP or Unix.
trait ReadWrite: Read + Write {}

impl<T: Read + Write> ReadWrite for T {}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        let start = line_end + 2;
        if size == 0 || data.len() < start + size {
            break;
        }
        out.extend_from_slice(&data[start..start + size]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
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
