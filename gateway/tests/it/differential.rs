//! Differential tests: every scenario under `tests/differential/` runs against the gateway and
//! against real `opa run --server` with the same flags; status, content type and body must
//! match (byte for byte unless `known-differences.yaml` says why not).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::client::{self, Reply};
use crate::support::{Gateway, RealOpa, repo_root, require_opa};

/// One scenario file.
#[derive(Deserialize)]
struct Scenario {
    /// Flags for both servers, e.g. `["--bundle", "gateway/tests/differential/bundles/lang"]`.
    #[serde(default)]
    args: Vec<String>,
    steps: Vec<Step>,
}

/// One request sent to both servers.
#[derive(Deserialize)]
struct Step {
    name: String,
    #[serde(default)]
    method: Option<String>,
    path: String,
    /// Sent as `{"input": <input>}`.
    #[serde(default)]
    input: Option<serde_json::Value>,
    /// Sent as JSON.
    #[serde(default)]
    json: Option<serde_json::Value>,
    /// Sent verbatim.
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// Send the body gzip-compressed with `Content-Encoding: gzip`.
    #[serde(default)]
    gzip: bool,
}

/// How much of a response must match for a step listed as a known difference.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum Compare {
    /// Status, content type and the JSON value of the body (minus `ignore` keys); bytes may
    /// differ.
    Json,
    /// Status, content type and the `code` member of an error body.
    Code,
    /// Status and content type only.
    Status,
    /// Nothing: the two answers are different by design (the reason says how, and another
    /// test pins the gateway's answer).
    Nothing,
}

#[derive(Deserialize)]
struct KnownDifference {
    /// `<scenario file stem>/<step name>`.
    step: String,
    compare: Compare,
    /// Object keys left out of the JSON comparison, at any depth.
    #[serde(default)]
    ignore: Vec<String>,
    /// Arrays compared as collections: OPA lists some things in Go map order, which varies
    /// from run to run.
    #[serde(default)]
    unordered: bool,
    reason: String,
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential")
}

fn known_differences() -> BTreeMap<String, KnownDifference> {
    let text = std::fs::read_to_string(scenario_dir().join("known-differences.yaml"))
        .expect("known-differences.yaml");
    let list: Vec<KnownDifference> = yaml_serde::from_str(&text).expect("known differences parse");
    list.into_iter()
        .inspect(|k| assert!(!k.reason.trim().is_empty(), "{} needs a reason", k.step))
        .map(|k| (k.step.clone(), k))
        .collect()
}

fn body_of(step: &Step) -> Vec<u8> {
    let raw = if let Some(body) = &step.body {
        body.as_bytes().to_vec()
    } else if let Some(json) = &step.json {
        serde_json::to_vec(json).expect("json body")
    } else if let Some(input) = &step.input {
        serde_json::to_vec(&serde_json::json!({ "input": input })).expect("input body")
    } else {
        Vec::new()
    };
    if step.gzip {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&raw).expect("gzip");
        encoder.finish().expect("gzip")
    } else {
        raw
    }
}

fn method_of(step: &Step) -> &str {
    match &step.method {
        Some(method) => method,
        None if step.body.is_some() || step.json.is_some() || step.input.is_some() => "POST",
        None => "GET",
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) => x.as_f64() == y.as_f64(),
        (Array(x), Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn parse_json(reply: &Reply) -> Option<serde_json::Value> {
    serde_json::from_slice(&reply.body).ok()
}

/// Removes `keys` from every object in `value`.
fn without_keys(value: &mut serde_json::Value, keys: &[String]) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| !keys.contains(k));
            map.values_mut().for_each(|v| without_keys(v, keys));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| without_keys(v, keys)),
        _ => {}
    }
}

/// Puts every array in `value` in one order (by its members' JSON text).
fn sort_arrays(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => map.values_mut().for_each(sort_arrays),
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(sort_arrays);
            items.sort_by_cached_key(|item| item.to_string());
        }
        _ => {}
    }
}

/// How a known difference is compared: the mode, the keys ignored, whether arrays are
/// unordered.
type Mode<'k> = (Compare, &'k [String], bool);

/// Compares two replies under `mode` (`None`: everything, bytes included). Returns why they
/// differ, if they do.
fn differs(opa: &Reply, gateway: &Reply, mode: Option<Mode<'_>>) -> Option<String> {
    if matches!(mode, Some((Compare::Nothing, ..))) {
        return None;
    }
    if opa.status != gateway.status {
        return Some(format!(
            "status {} (OPA) vs {} (gateway)",
            opa.status, gateway.status
        ));
    }
    if opa.header("content-type") != gateway.header("content-type") {
        return Some(format!(
            "content-type {:?} (OPA) vs {:?} (gateway)",
            opa.header("content-type"),
            gateway.header("content-type")
        ));
    }
    match mode {
        None if opa.body != gateway.body => Some("bodies differ".to_string()),
        None => None,
        Some((Compare::Status | Compare::Nothing, ..)) => None,
        Some((Compare::Json, ignore, unordered)) => match (parse_json(opa), parse_json(gateway)) {
            (Some(mut a), Some(mut b)) => {
                without_keys(&mut a, ignore);
                without_keys(&mut b, ignore);
                if unordered {
                    sort_arrays(&mut a);
                    sort_arrays(&mut b);
                }
                (!json_equal(&a, &b)).then(|| "JSON bodies differ".to_string())
            }
            (None, None) if opa.body == gateway.body => None,
            _ => Some("JSON bodies differ".to_string()),
        },
        Some((Compare::Code, ..)) => {
            let code = |r: &Reply| parse_json(r).and_then(|v| v.get("code").cloned());
            (code(opa) != code(gateway)).then(|| "error codes differ".to_string())
        }
    }
}

fn run_scenario(
    opa_bin: &Path,
    file: &Path,
    known: &BTreeMap<String, KnownDifference>,
    report: &mut Vec<String>,
    used: &mut Vec<String>,
) -> usize {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let text = std::fs::read_to_string(file).expect("scenario");
    let scenario: Scenario =
        yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let args: Vec<&str> = scenario.args.iter().map(String::as_str).collect();
    // Paths in scenarios are relative to the repository root, where both servers run.
    std::env::set_current_dir(repo_root()).expect("cd repo root");
    let opa = RealOpa::start(opa_bin, &args);
    let gateway = Gateway::start_activated(&args);
    for step in &scenario.steps {
        let key = format!("{stem}/{}", step.name);
        let body = body_of(step);
        let mut headers: Vec<(&str, &str)> = step
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if step.gzip {
            headers.push(("Content-Encoding", "gzip"));
        }
        let method = method_of(step);
        let expected = client::send(&opa.target, method, &step.path, &headers, &body);
        let actual = client::send(&gateway.target, method, &step.path, &headers, &body);
        let known_mode = known
            .get(&key)
            .map(|k| (k.compare, k.ignore.as_slice(), k.unordered));
        if known_mode.is_some() {
            used.push(key.clone());
            if differs(&expected, &actual, None).is_none() {
                report.push(format!(
                    "{key}: listed in known-differences.yaml but now identical; remove it"
                ));
                continue;
            }
        }
        if let Some(why) = differs(&expected, &actual, known_mode) {
            report.push(format!(
                "{key}: {why}\n  request: {method} {}\n  OPA     ({}): {}\n  gateway ({}): {}",
                step.path,
                expected.status,
                shorten(&expected.text()),
                actual.status,
                shorten(&actual.text())
            ));
        }
    }
    scenario.steps.len()
}

/// Long bodies are cut in reports; the replay command shows them whole.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 700;
    let text = text.trim_end();
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}... ({} bytes)", &text[..cut], text.len()),
        None => text.to_string(),
    }
}

#[test]
fn gateway_answers_as_real_opa_does() {
    let Some(opa_bin) = require_opa() else { return };
    let known = known_differences();
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .expect("scenario dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yaml") && !p.ends_with("known-differences.yaml")
        })
        .collect();
    files.sort();
    let filter = std::env::var("DIFFERENTIAL_FILTER").unwrap_or_default();
    let mut report = Vec::new();
    let mut used = Vec::new();
    let mut steps = 0;
    for file in files
        .iter()
        .filter(|f| f.to_string_lossy().contains(&filter))
    {
        steps += run_scenario(&opa_bin, file, &known, &mut report, &mut used);
    }
    if filter.is_empty() {
        for key in known.keys().filter(|k| !used.contains(k)) {
            report.push(format!(
                "{key}: listed in known-differences.yaml but no such step"
            ));
        }
    }
    assert!(steps >= 1, "no differential steps ran");
    assert!(
        report.is_empty(),
        "{} of {steps} differential steps disagree with real OPA \
         (replay one file with DIFFERENTIAL_FILTER=<name> cargo test -p gateway --test it differential):\n\n{}",
        report.len(),
        report.join("\n\n")
    );
}
