//! `cargo bench -p rego-runtime --bench evaluation`: the Rego engine's in-process time per
//! decision on the example RBAC bundle (`examples/rbac`), decision cache off, so that the
//! number is the interpreter's. Reports the median of several batches.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rego_runtime::rego::RegoEngine;
use rego_runtime::{
    Engine, Entrypoint, Input, Limits, PathSegment, PolicyModule, PolicySet, Prepared, RegoVersion,
    Value,
};

const BATCHES: usize = 7;
const BATCH_TIME: Duration = Duration::from_millis(300);

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rbac/rbac");
    let source = std::fs::read_to_string(root.join("policy.rego")).expect("policy");
    let data = std::fs::read_to_string(root.join("data.json")).expect("data");
    let policies = PolicySet {
        modules: vec![PolicyModule {
            id: "rbac/policy.rego".into(),
            file: "rbac/policy.rego".into(),
            source: Arc::from(source),
            rego_version: RegoVersion::V1,
        }],
        data: Value::object([("rbac", Value::from_json(&data).expect("data json"))]),
        disabled_builtins: Vec::new(),
        conflict_messages: Default::default(),
    };
    let started = Instant::now();
    let engine = RegoEngine::new(0);
    let prepared = engine.prepare(&policies).expect("prepare");
    println!(
        "prepare (parse, check, load 1,000 data entries): {:?}",
        started.elapsed()
    );

    let path = [
        PathSegment::Key("rbac".into()),
        PathSegment::Key("allow".into()),
    ];
    for (name, input) in [
        (
            "allow via role grant",
            r#"{"user":"bob","action":"read","type":"dog"}"#,
        ),
        (
            "deny, inactive user",
            r#"{"user":"user0004","action":"delete","type":"kind08"}"#,
        ),
        (
            "allow as admin",
            r#"{"user":"alice","action":"update","type":"kind14"}"#,
        ),
        (
            "deny, unknown user",
            r#"{"user":"nobody","action":"read","type":"dog"}"#,
        ),
    ] {
        let per_eval = median_time(&*prepared, &path, input);
        println!("eval {name:<24} time: {per_eval:?}");
    }
}

fn median_time(prepared: &dyn Prepared, path: &[PathSegment], input: &str) -> Duration {
    let limits = Limits::default();
    let run = || {
        prepared
            .evaluate(Entrypoint::Data(path), Input::Json(input), &limits)
            .expect("evaluate")
    };
    for _ in 0..200 {
        run();
    }
    let mut batches = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let started = Instant::now();
        let mut n = 0u32;
        while started.elapsed() < BATCH_TIME {
            std::hint::black_box(run());
            n += 1;
        }
        batches.push(started.elapsed() / n);
    }
    batches.sort();
    batches[BATCHES / 2]
}
