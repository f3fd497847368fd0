//! The OPA front door over real HTTP, for what the differential run cannot show: limits,
//! hot reload, broken bundles, timeouts, metrics and the answers the gateway owns.

use std::fs;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::client;
use crate::support::Gateway;
use crate::support::tempdir::TempDir;

fn write(path: &std::path::Path, text: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, text).expect("write");
}

/// A bundle directory holding one policy `package app` with `allow` depending on `input.user`.
fn bundle_dir(allowed_user: &str) -> TempDir {
    let dir = TempDir::new("bundle");
    write(
        &dir.path().join("app/policy.rego"),
        &format!(
            "package app\n\ndefault allow := false\n\nallow if input.user == {allowed_user:?}\n"
        ),
    );
    write(
        &dir.path().join(".manifest"),
        r#"{"revision": "one", "roots": ["app"]}"#,
    );
    dir
}

#[test]
fn body_limits_are_answered_with_400() {
    let gateway = Gateway::start(&[
        "--set",
        "server.decoding.max_length=64",
        "--set",
        "server.decoding.gzip.max_length=128",
    ]);
    let huge = format!("{{\"input\": \"{}\"}}", "x".repeat(10_000));
    let reply = gateway.send("POST", "/v1/data/x", &huge);
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.text(),
        "{\n  \"code\": \"invalid_parameter\",\n  \"message\": \"request body too large\"\n}\n"
    );

    // A small gzip body that inflates past the gzip limit (a gzip bomb) is refused too.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(format!("{{\"input\": \"{}\"}}", "y".repeat(5_000)).as_bytes())
        .expect("gzip");
    let bomb = encoder.finish().expect("gzip");
    assert!(bomb.len() < 64, "the compressed body fits the raw limit");
    let reply = client::send(
        &gateway.target,
        "POST",
        "/v1/data/x",
        &[("Content-Encoding", "gzip")],
        &bomb,
    );
    assert_eq!(reply.status, 400);
    assert!(
        reply.text().contains("request body too large"),
        "{}",
        reply.text()
    );

    // A broken gzip stream is a clear 400, and the server keeps serving.
    let reply = client::send(
        &gateway.target,
        "POST",
        "/v1/data/x",
        &[("Content-Encoding", "gzip")],
        b"not gzip",
    );
    assert_eq!(reply.status, 400);
    assert!(
        reply.text().contains("could not decompress the body"),
        "{}",
        reply.text()
    );
    assert_eq!(gateway.send("GET", "/health", "").status, 200);
}

#[test]
fn changed_bundles_are_reloaded_and_broken_ones_keep_the_old_snapshot() {
    let dir = bundle_dir("ann");
    let path = dir.path().to_string_lossy().into_owned();
    let gateway = Gateway::start_activated(&["--bundle", &path]);
    let decide = |user: &str| {
        gateway
            .send(
                "POST",
                "/v1/data/app/allow",
                &format!("{{\"input\": {{\"user\": {user:?}}}}}"),
            )
            .text()
    };
    assert_eq!(decide("ann"), "{\"result\":true}\n");

    write(
        &dir.path().join("app/policy.rego"),
        "package app\n\ndefault allow := false\n\nallow if input.user == \"bo\"\n",
    );
    assert!(gateway.reload_bundles(), "a changed bundle activates");
    assert_eq!(decide("ann"), "{\"result\":false}\n");
    assert_eq!(decide("bo"), "{\"result\":true}\n");

    // A module that does not compile: reported, and the previous snapshot keeps serving.
    write(
        &dir.path().join("app/broken.rego"),
        "package app\n\ndeny if {\n",
    );
    assert!(
        !gateway.reload_bundles(),
        "a broken bundle does not activate"
    );
    assert_eq!(decide("bo"), "{\"result\":true}\n");
    let state = &gateway.app.bundles.states()[&path];
    assert!(
        state
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("rego_parse_error")),
        "{state:?}"
    );
    // It was activated once, so OPA's bundle health stays good.
    assert_eq!(gateway.send("GET", "/health?bundles", "").status, 200);
    let metrics = gateway.send("GET", "/metrics", "").text();
    assert!(
        metrics.contains(&format!(
            "gateway_bundle_loads_total{{name=\"{path}\",outcome=\"failure\"}} 1"
        )),
        "{metrics}"
    );

    // Fixing it activates again.
    fs::remove_file(dir.path().join("app/broken.rego")).expect("rm");
    assert!(gateway.reload_bundles());
    assert_eq!(decide("bo"), "{\"result\":true}\n");
}

#[test]
fn a_bundle_that_does_not_load_stops_start_up() {
    let dir = TempDir::new("bad-bundle");
    write(&dir.path().join("data.json"), "[1, 2]");
    let error = Gateway::try_start(&["--bundle", &dir.path().to_string_lossy()])
        .err()
        .expect("start-up must fail");
    let message = format!("{error:#}");
    assert!(message.starts_with("load error: "), "{message}");
    assert!(message.contains("data.json"), "{message}");
}

#[test]
fn overlapping_bundles_are_refused_together() {
    let first = bundle_dir("a");
    let second = bundle_dir("b");
    let error = Gateway::try_start(&[
        "--bundle",
        &first.path().to_string_lossy(),
        "--bundle",
        &second.path().to_string_lossy(),
    ])
    .err()
    .expect("overlapping bundles must not start");
    assert!(
        error
            .to_string()
            .contains("detected overlapping roots in manifests for these bundles"),
        "{error:#}"
    );
}

#[test]
fn a_reload_under_load_fails_no_request() {
    let dir = bundle_dir("ann");
    let gateway = Arc::new(Gateway::start_activated(&[
        "--bundle",
        &dir.path().to_string_lossy(),
    ]));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (gateway, stop, failures, sent) = (
                gateway.clone(),
                stop.clone(),
                failures.clone(),
                sent.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let reply = gateway.send(
                        "POST",
                        "/v1/data/app/allow",
                        "{\"input\": {\"user\": \"ann\"}}",
                    );
                    let text = reply.text();
                    if reply.status != 200
                        || !(text == "{\"result\":true}\n" || text == "{\"result\":false}\n")
                    {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for round in 0..20 {
        let user = if round % 2 == 0 { "bo" } else { "ann" };
        write(
            &dir.path().join("app/policy.rego"),
            &format!(
                "package app\n\ndefault allow := false\n\n# round {round}\nallow if input.user == {user:?}\n"
            ),
        );
        assert!(gateway.reload_bundles(), "round {round} activates");
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("client");
    }
    assert!(
        sent.load(Ordering::Relaxed) > 20,
        "requests ran during the reloads"
    );
    assert_eq!(failures.load(Ordering::Relaxed), 0);
}

#[test]
fn runaway_policies_time_out_and_the_server_stays_up() {
    let gateway = Gateway::start(&["--set", "evaluation_timeout=200ms"]);
    let policy = "package slow\n\nn := count([x | some a in numbers.range(1, 100000); some b in numbers.range(1, 100000); x := a * b])\n";
    assert_eq!(gateway.send("PUT", "/v1/policies/slow", policy).status, 200);
    let started = std::time::Instant::now();
    let reply = gateway.send("POST", "/v1/data/slow/n", "{}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(reply.status, 500);
    let body = reply.json();
    assert_eq!(body["code"], "internal_error");
    assert_eq!(body["errors"][0]["code"], "eval_cancel_error");
    assert_eq!(gateway.send("GET", "/health", "").status, 200);
}

#[test]
fn metrics_use_opas_names() {
    let gateway = Gateway::start(&[]);
    gateway.send("POST", "/v1/data/x", "{}");
    gateway.send("GET", "/v1/data/x", "");
    gateway.send("GET", "/health", "");
    let reply = gateway.send("GET", "/metrics", "");
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    let text = reply.text();
    for expected in [
        "http_request_duration_seconds_count{code=\"200\",handler=\"v1/data\",method=\"post\"} 1",
        "http_request_duration_seconds_count{code=\"200\",handler=\"v1/data\",method=\"get\"} 1",
        "http_request_duration_seconds_count{code=\"200\",handler=\"health\",method=\"get\"} 1",
        "gateway_decisions_total{door=\"opa\",outcome=\"undefined\"} 2",
        "gateway_decision_duration_seconds_count{door=\"opa\"} 2",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn evaluations_left_to_regorus_are_counted_by_reason() {
    let gateway = Gateway::start(&[]);
    let policy = "package c\n\np := 1 if input.a\n\np := 2 if input.b\n";
    assert_eq!(gateway.send("PUT", "/v1/policies/c", policy).status, 200);
    // Answered by the compiled evaluator: nothing counted.
    let reply = gateway.send("POST", "/v1/data/c/p", r#"{"input": {"a": true}}"#);
    assert_eq!(reply.text(), "{\"result\":1}\n");
    let metrics = gateway.send("GET", "/metrics", "").text();
    assert!(
        !metrics.contains("gateway_rego_fallbacks_total{"),
        "{metrics}"
    );
    // A conflict is regorus's to word: one fallback, and OPA's error.
    let reply = gateway.send(
        "POST",
        "/v1/data/c/p",
        r#"{"input": {"a": true, "b": true}}"#,
    );
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json()["errors"][0]["code"], "eval_conflict_error");
    let metrics = gateway.send("GET", "/metrics", "").text();
    assert!(
        metrics.contains("gateway_rego_fallbacks_total{reason=\"conflicting values\"} 1"),
        "{metrics}"
    );
}

#[test]
fn print_output_does_not_change_decisions() {
    let gateway = Gateway::start(&[]);
    let policy =
        "package p\n\nallow if {\n\tprint(\"checking\", input.user)\n\tinput.user == \"ann\"\n}\n";
    assert_eq!(gateway.send("PUT", "/v1/policies/p", policy).status, 200);
    assert_eq!(
        gateway
            .send(
                "POST",
                "/v1/data/p/allow",
                "{\"input\": {\"user\": \"ann\"}}"
            )
            .text(),
        "{\"result\":true}\n"
    );
}

#[test]
fn opa_runtime_answers_the_environment_and_version_as_opa_run_does() {
    let gateway = Gateway::start(&[]);
    let policy = "package rt\n\nr := opa.runtime()\n";
    assert_eq!(gateway.send("PUT", "/v1/policies/rt", policy).status, 200);
    let reply = gateway.send("POST", "/v1/data/rt/r", "{}").json();
    let runtime = &reply["result"];
    assert_eq!(runtime["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(runtime["commit"], "");
    let path = std::env::var("PATH").expect("PATH is set");
    assert_eq!(runtime["env"]["PATH"], path.as_str(), "{reply}");
}

#[test]
fn policy_writes_that_break_compilation_leave_the_store_unchanged() {
    let gateway = Gateway::start(&[]);
    assert_eq!(
        gateway
            .send("PUT", "/v1/policies/a", "package a\n\nx := 1\n")
            .status,
        200
    );
    let reply = gateway.send(
        "PUT",
        "/v1/policies/b",
        "package b\n\ny := data.a.missing_function(1)\n",
    );
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["errors"][0]["code"], "rego_type_error");
    assert_eq!(gateway.send("GET", "/v1/policies/b", "").status, 404);
    assert_eq!(
        gateway
            .send("POST", "/v1/data/a/x", "{\"input\": {}}")
            .text(),
        "{\"result\":1}\n"
    );
}

#[test]
fn the_compiled_evaluator_can_be_turned_off() {
    // `some x in 5` iterates over nothing in OPA: the compiled evaluator answers undefined,
    // regorus (alone, with the evaluator off) raises an error instead.
    let policy = "package scalar\n\np if some x in input.n\n";
    for (switch, status) in [("true", 200), ("false", 500)] {
        let gateway = Gateway::start(&["--set", &format!("compiled_evaluator={switch}")]);
        assert_eq!(gateway.send("PUT", "/v1/policies/p", policy).status, 200);
        let reply = gateway.send("POST", "/v1/data/scalar/p", r#"{"input": {"n": 5}}"#);
        assert_eq!(
            reply.status,
            status,
            "compiled_evaluator={switch}: {}",
            reply.text()
        );
        if status == 200 {
            assert_eq!(
                reply.json().get("result"),
                None,
                "undefined: {}",
                reply.text()
            );
        }
    }
}

#[test]
fn policies_nested_too_deep_fail_their_request_and_the_server_stays_up() {
    let gateway = Gateway::start(&[]);
    let mut chain = String::from("package deep\n\n");
    for i in 0..6000 {
        chain.push_str(&format!("r{i} := r{} + 1\n", i + 1));
    }
    chain.push_str("r6000 := 0\n");
    assert_eq!(gateway.send("PUT", "/v1/policies/deep", &chain).status, 200);
    let reply = gateway.send("POST", "/v1/data/deep/r0", "{}");
    assert_eq!(reply.status, 500, "{}", reply.text());
    assert_eq!(reply.json()["errors"][0]["code"], "eval_internal_error");
    assert!(
        reply.text().contains("nests queries deeper than"),
        "{}",
        reply.text()
    );
    // A shallower chain of the same shape answers.
    let reply = gateway.send("POST", "/v1/data/deep/r3000", "{}");
    assert_eq!(reply.json()["result"], 3000);
    assert_eq!(gateway.send("GET", "/health", "").status, 200);
}

/// A policy whose decision passes through a helper rule, each making a note.
const NOTED: &str = "package p\n\nallow if {\n\thelper\n\ttrace(\"in allow\")\n}\n\nhelper if {\n\ttrace(sprintf(\"user %v\", [input.user]))\n}\n\nquiet := 1\n";

#[test]
fn explain_notes_lists_each_note_under_the_rules_that_led_to_it() {
    let gateway = Gateway::start(&[]);
    assert_eq!(gateway.send("PUT", "/v1/policies/p", NOTED).status, 200);
    let input = "{\"input\": {\"user\": \"ann\"}}";
    // Lines as OPA 1.22.2 writes them for the same policy.
    assert_eq!(
        gateway
            .send("POST", "/v1/data/p/allow?explain=notes&pretty", input)
            .text(),
        "{\n  \"explanation\": [\n    \"query:1     Enter data.p.allow = _\",\n    \"p:3         | Enter data.p.allow\",\n    \"p:8         | | Enter data.p.helper\",\n    \"p:9         | | | Note \\\"user ann\\\"\",\n    \"p:5         | | Note \\\"in allow\\\"\"\n  ],\n  \"result\": true\n}\n"
    );
    // As events: OPA's syntax tree is not reproduced (`node` is null).
    assert_eq!(
        gateway
            .send("POST", "/v1/data/p/allow?explain=notes", input)
            .text(),
        concat!(
            "{\"explanation\":[",
            "{\"op\":\"enter\",\"query_id\":0,\"parent_id\":0,\"type\":\"body\",\"node\":null,\"locals\":[]},",
            "{\"op\":\"enter\",\"query_id\":1,\"parent_id\":0,\"type\":\"rule\",\"node\":null,\"locals\":[]},",
            "{\"op\":\"enter\",\"query_id\":2,\"parent_id\":1,\"type\":\"rule\",\"node\":null,\"locals\":[]},",
            "{\"op\":\"note\",\"query_id\":2,\"parent_id\":1,\"type\":\"\",\"node\":null,\"locals\":[],\"message\":\"user ann\"},",
            "{\"op\":\"note\",\"query_id\":1,\"parent_id\":0,\"type\":\"\",\"node\":null,\"locals\":[],\"message\":\"in allow\"}",
            "],\"result\":true}\n"
        )
    );
    // No notes: an empty list, one empty line when pretty; undefined: no explanation.
    assert_eq!(
        gateway
            .send("POST", "/v1/data/p/quiet?explain=notes", input)
            .text(),
        "{\"explanation\":[],\"result\":1}\n"
    );
    assert_eq!(
        gateway
            .send("POST", "/v1/data/p/quiet?explain=notes&pretty", input)
            .text(),
        "{\n  \"explanation\": [\n    \"\"\n  ],\n  \"result\": 1\n}\n"
    );
    assert_eq!(
        gateway
            .send("POST", "/v1/data/p/nothing?explain=notes", input)
            .text(),
        "{}\n"
    );
    // Without `explain`, nothing is traced and nothing changes.
    assert_eq!(
        gateway.send("POST", "/v1/data/p/allow", input).text(),
        "{\"result\":true}\n"
    );
}

#[test]
fn explain_modes_other_than_notes_are_refused() {
    let gateway = Gateway::start(&[]);
    assert_eq!(gateway.send("PUT", "/v1/policies/p", NOTED).status, 200);
    for mode in ["full", "fails", "debug"] {
        let reply = gateway.send("GET", &format!("/v1/data/p/allow?explain={mode}"), "");
        assert_eq!(reply.status, 400, "{mode}");
        assert_eq!(
            reply.text(),
            format!(
                "{{\n  \"code\": \"invalid_parameter\",\n  \"message\": \"explain={mode} is not supported by this gateway (explain=notes is)\"\n}}\n"
            )
        );
        let reply = gateway.send(
            "GET",
            &format!("/v1/query?q=data.p.allow&explain={mode}"),
            "",
        );
        assert_eq!(reply.status, 400, "{mode}");
    }
    // As OPA, a value that names no mode is no explanation, and the first mode named wins.
    assert_eq!(
        gateway
            .send("GET", "/v1/data/p/quiet?explain=yes", "")
            .text(),
        "{\"result\":1}\n"
    );
    assert_eq!(
        gateway
            .send("GET", "/v1/data/p/quiet?explain=notes&explain=full", "")
            .text(),
        "{\"explanation\":[],\"result\":1}\n"
    );
}
