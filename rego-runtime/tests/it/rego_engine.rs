//! The Rego engine through `Engine`/`Prepared`, as the gateway uses it.

use std::sync::Arc;
use std::time::Duration;

use rego_runtime::rego::RegoEngine;
use rego_runtime::{
    Engine, Entrypoint, Error, Input, Limits, Outcome, PathSegment, PolicyModule, PolicySet,
    Prepared, RegoVersion, Value,
};

fn module(id: &str, source: &str, rego_version: RegoVersion) -> PolicyModule {
    PolicyModule {
        id: id.to_string(),
        file: id.to_string(),
        source: Arc::from(source),
        rego_version,
    }
}

fn prepare(modules: Vec<PolicyModule>, data: &str) -> Result<Arc<dyn Prepared>, Error> {
    RegoEngine::default().prepare(&PolicySet {
        modules,
        data: Value::from_json(data).expect("data json"),
        disabled_builtins: Vec::new(),
        conflict_messages: Default::default(),
    })
}

fn path(p: &str) -> Vec<PathSegment> {
    p.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| PathSegment::Key(s.to_string()))
        .collect()
}

fn document(prepared: &dyn Prepared, p: &str, input: &str) -> Option<Value> {
    let segments = path(p);
    let evaluation = prepared
        .evaluate(
            Entrypoint::Data(&segments),
            Input::Json(input),
            &Limits::default(),
        )
        .expect("evaluation");
    match evaluation.outcome {
        Outcome::Document(value) => value,
        Outcome::Bindings(_) => panic!("a data path gave bindings"),
    }
}

#[test]
fn evaluates_rules_packages_and_base_data() {
    let prepared = prepare(
        vec![module(
            "authz.rego",
            "package authz\ndefault allow := false\nallow if input.user in data.admins\n",
            RegoVersion::V1,
        )],
        r#"{"admins":["alice"]}"#,
    )
    .expect("prepare");
    assert_eq!(
        document(&*prepared, "authz/allow", r#"{"user":"alice"}"#),
        Some(Value::Bool(true))
    );
    assert_eq!(
        document(&*prepared, "authz/allow", r#"{"user":"bob"}"#),
        Some(Value::Bool(false))
    );
    assert_eq!(
        document(&*prepared, "authz", r#"{"user":"bob"}"#).map(|v| v.to_json()),
        Some(r#"{"allow":false}"#.to_string())
    );
    assert_eq!(
        document(&*prepared, "admins", "{}").map(|v| v.to_json()),
        Some(r#"["alice"]"#.to_string())
    );
    assert_eq!(document(&*prepared, "authz/missing", "{}"), None);
    let rule_paths: Vec<String> = prepared.rules().iter().map(|r| r.path.join("/")).collect();
    assert_eq!(rule_paths, vec!["authz/allow", "authz/allow"]);
    assert_eq!(prepared.rules()[1].location.row, 3);
}

#[test]
fn accepts_v0_modules_and_gatekeeper_style_rules() {
    let prepared = prepare(
        vec![module(
            "template.rego",
            r#"package k8s
violation[{"msg": msg}] {
  provided := {l | input.labels[l]}
  required := {l | l := input.required[_]}
  missing := required - provided
  count(missing) > 0
  msg := sprintf("missing labels: %v", [missing])
}
"#,
            RegoVersion::V0,
        )],
        "{}",
    )
    .expect("prepare");
    let value = document(
        &*prepared,
        "k8s/violation",
        r#"{"labels":{"a":"1"},"required":["a","b"]}"#,
    )
    .expect("defined");
    assert_eq!(value.to_json(), r#"[{"msg":"missing labels: {\"b\"}"}]"#);
}

#[test]
fn reports_parse_errors_with_locations() {
    let error = prepare(
        vec![module(
            "bad.rego",
            "package x\nallow if {\n",
            RegoVersion::V1,
        )],
        "{}",
    )
    .err()
    .expect("a parse error");
    let Error::Compile(problems) = error else {
        panic!("expected a compile error, got {error:?}");
    };
    assert_eq!(problems[0].code, "rego_parse_error");
    assert_eq!(
        problems[0].location.as_ref().map(|l| l.file.as_str()),
        Some("bad.rego")
    );
}

#[test]
fn conflicts_are_evaluation_errors() {
    let prepared = prepare(
        vec![module(
            "c.rego",
            "package c\nx := 1 if input.a\nx := 2 if input.b\n",
            RegoVersion::V1,
        )],
        "{}",
    )
    .expect("prepare");
    let segments = path("c/x");
    let error = prepared
        .evaluate(
            Entrypoint::Data(&segments),
            Input::Json(r#"{"a":true,"b":true}"#),
            &Limits::default(),
        )
        .expect_err("a conflict");
    let Error::Evaluation(problem) = error else {
        panic!("expected an evaluation error, got {error:?}");
    };
    assert_eq!(problem.code, "eval_conflict_error");
}

#[test]
fn runaway_evaluation_stops_at_the_time_limit() {
    let prepared = prepare(
        vec![module(
            "loop.rego",
            "package loop\nn := count([x | some a in numbers.range(1, 3000); some b in numbers.range(1, 3000); x := a * b])\n",
            RegoVersion::V1,
        )],
        "{}",
    )
    .expect("prepare");
    let segments = path("loop/n");
    let limits = Limits {
        timeout: Duration::from_millis(50),
        ..Limits::default()
    };
    let started = std::time::Instant::now();
    let error = prepared
        .evaluate(Entrypoint::Data(&segments), Input::Undefined, &limits)
        .expect_err("a timeout");
    assert!(started.elapsed() < Duration::from_secs(3));
    let Error::Evaluation(problem) = error else {
        panic!("expected an evaluation error, got {error:?}");
    };
    assert_eq!(problem.code, "eval_cancel_error");
}

#[test]
fn queries_answer_bindings_per_solution() {
    let prepared = prepare(vec![], r#"{"xs":[1,2]}"#).expect("prepare");
    let evaluation = prepared
        .evaluate(
            Entrypoint::Query("x := data.xs[_]"),
            Input::Undefined,
            &Limits::default(),
        )
        .expect("query");
    let Outcome::Bindings(solutions) = evaluation.outcome else {
        panic!("a query gave a document");
    };
    let xs: Vec<String> = solutions.iter().map(|s| s["x"].to_json()).collect();
    assert_eq!(xs, vec!["1", "2"]);
}

#[test]
fn prints_are_collected_per_evaluation() {
    let prepared = prepare(
        vec![module(
            "p.rego",
            "package p\nallow if {\n  print(\"user\", input.user)\n  true\n}\n",
            RegoVersion::V1,
        )],
        "{}",
    )
    .expect("prepare");
    let segments = path("p/allow");
    let evaluation = prepared
        .evaluate(
            Entrypoint::Data(&segments),
            Input::Json(r#"{"user":"ann"}"#),
            &Limits::default(),
        )
        .expect("evaluation");
    assert_eq!(evaluation.prints.len(), 1);
    assert!(
        evaluation.prints[0].contains("user ann"),
        "{:?}",
        evaluation.prints
    );
}

#[test]
fn recursive_functions_are_compile_errors() {
    let error = prepare(
        vec![module(
            "r.rego",
            "package test\n\nf(x) = y { y := f(x) }\np = f(1) { true }\n",
            RegoVersion::V0,
        )],
        "{}",
    )
    .err()
    .expect("a recursion error");
    let Error::Compile(problems) = error else {
        panic!("expected a compile error, got {error:?}");
    };
    assert_eq!(problems[0].code, "rego_recursion_error");
    assert_eq!(
        problems[0].message,
        "rule data.test.f is recursive: data.test.f -> data.test.f"
    );
}

/// A conflict is worded by regorus, so the compiled evaluator hands the request over.
const CONFLICT: &str = "package c\np := 1 if input.a\np := 2 if input.b\n";

#[test]
fn a_fallback_spends_the_budget_the_compiled_evaluator_left() {
    let prepared =
        prepare(vec![module("c.rego", CONFLICT, RegoVersion::V1)], "{}").expect("prepare");
    let segments = path("c/p");
    let input = r#"{"a": true, "b": true}"#;
    // With time left, regorus words the conflict.
    let error = prepared
        .evaluate(
            Entrypoint::Data(&segments),
            Input::Json(input),
            &Limits::default(),
        )
        .expect_err("a conflict");
    assert!(
        matches!(&error, Error::Evaluation(p) if p.code == "eval_conflict_error"),
        "{error:?}"
    );
    // With the request's deadline already spent, regorus does not start a fresh timeout.
    let spent = Limits {
        timeout: Duration::from_secs(60),
        deadline: Some(std::time::Instant::now()),
        ..Limits::default()
    };
    let error = prepared
        .evaluate(Entrypoint::Data(&segments), Input::Json(input), &spent)
        .expect_err("out of time");
    assert!(
        matches!(&error, Error::Evaluation(p) if p.code == "eval_cancel_error"),
        "{error:?}"
    );
}

#[test]
fn every_fallback_is_reported_with_its_reason() {
    let reasons = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = reasons.clone();
    let engine = RegoEngine::default().with_fallback_hook(rego_runtime::rego::FallbackHook(
        Arc::new(move |reason| seen.lock().expect("lock").push(reason)),
    ));
    let prepared = engine
        .prepare(&PolicySet {
            modules: vec![module("c.rego", CONFLICT, RegoVersion::V1)],
            data: Value::empty_object(),
            disabled_builtins: Vec::new(),
            conflict_messages: Default::default(),
        })
        .expect("prepare");
    let segments = path("c/p");
    let answer = prepared
        .evaluate(
            Entrypoint::Data(&segments),
            Input::Json(r#"{"a": true}"#),
            &Limits::default(),
        )
        .expect("no conflict");
    assert!(matches!(answer.outcome, Outcome::Document(Some(_))));
    assert!(
        reasons.lock().expect("lock").is_empty(),
        "the compiled evaluator answered"
    );
    let _ = prepared.evaluate(
        Entrypoint::Data(&segments),
        Input::Json(r#"{"a": true, "b": true}"#),
        &Limits::default(),
    );
    assert_eq!(*reasons.lock().expect("lock"), ["conflicting values"]);
}

#[test]
fn a_rule_the_compiled_evaluator_declines_moves_only_its_own_decisions() {
    let reasons = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = reasons.clone();
    let engine = RegoEngine::default().with_fallback_hook(rego_runtime::rego::FallbackHook(
        Arc::new(move |reason| seen.lock().expect("lock").push(reason)),
    ));
    let source = "package app\n\nallow if input.user == \"ann\"\n\nq := data.d + 1\n\nmocked := x if {\n\tx := q with data.d as 2\n}\n";
    let prepared = engine
        .prepare(&PolicySet {
            modules: vec![module("app.rego", source, RegoVersion::V1)],
            data: Value::from_json(r#"{"d": 1}"#).expect("data"),
            disabled_builtins: Vec::new(),
            conflict_messages: Default::default(),
        })
        .expect("prepare");
    assert_eq!(
        document(&*prepared, "app/allow", r#"{"user": "ann"}"#),
        Some(Value::Bool(true))
    );
    assert_eq!(
        document(&*prepared, "app/q", "{}"),
        Some(Value::from_json("2").expect("2"))
    );
    assert!(
        reasons.lock().expect("lock").is_empty(),
        "rules without the construct run on the compiled evaluator"
    );
    assert_eq!(
        document(&*prepared, "app/mocked", "{}"),
        Some(Value::from_json("3").expect("3"))
    );
    assert_eq!(
        *reasons.lock().expect("lock"),
        ["`with` on data or a function"]
    );
}

/// A policy over `data.kubernetes` and `data.teams`, with a conflict that only some data
/// produces (the compiled evaluator hands it to regorus).
const DATA_READER: &str = r#"package k8s

pods := count([1 | data.kubernetes.pods[_][_]])

app_of[name] := pod.metadata.labels.app if {
	some ns, name
	pod := data.kubernetes.pods[ns][name]
}

team := data.teams[input.ns]

owner := o if some o in data.owners
"#;

/// A `with` on data, which leaves the whole policy to regorus.
const DATA_OVERRIDE: &str = r#"package k8s

overridden := n if {
	n := pods with data.kubernetes.pods as {"x": {"a": {}, "b": {}, "c": {}}}
}
"#;

fn evaluate_all(prepared: &dyn Prepared) -> Vec<String> {
    let mut answers: Vec<String> = ["k8s/pods", "k8s/app_of", "k8s/overridden", "kubernetes"]
        .iter()
        .map(|p| {
            format!(
                "{p}: {:?}",
                document(prepared, p, "{}").map(|v| v.to_json())
            )
        })
        .collect();
    for ns in ["a", "b"] {
        let input = format!(r#"{{"ns":"{ns}"}}"#);
        let team = document(prepared, "k8s/team", &input).map(|v| v.to_json());
        answers.push(format!("team {ns}: {team:?}"));
    }
    let segments = path("k8s/owner");
    let owner = prepared.evaluate(
        Entrypoint::Data(&segments),
        Input::Json("{}"),
        &Limits::default(),
    );
    answers.push(match owner {
        Ok(evaluation) => format!("owner: {:?}", evaluation.outcome),
        Err(error) => format!("owner: {error}"),
    });
    let query = prepared
        .evaluate(
            Entrypoint::Query("n := count(data.kubernetes.pods.a)"),
            Input::Undefined,
            &Limits::default(),
        )
        .map(|e| format!("{:?}", e.outcome));
    answers.push(format!("query: {query:?}"));
    answers
}

#[test]
fn data_swapped_in_answers_as_a_fresh_prepare() {
    let versions = [
        r#"{"teams":{"a":"red"}}"#,
        r#"{"teams":{"a":"red"},"kubernetes":{"pods":{"a":{"p1":{"metadata":{"labels":{"app":"web"}}}}}}}"#,
        r#"{"teams":{"a":"red","b":"blue"},"kubernetes":{"pods":{"a":{"p1":{"metadata":{"labels":{"app":"web"}}},"p2":{"metadata":{"labels":{"app":"db"}}}}}}}"#,
        r#"{"teams":{"b":"blue"},"owners":["x","y"],"kubernetes":{"pods":{"a":{"p2":{"metadata":{"labels":{"app":"db"}}}}}}}"#,
        r#"{"owners":["x"]}"#,
    ];
    let on_regorus = vec![DATA_READER, DATA_OVERRIDE];
    for (compiled, sources) in [
        (true, vec![DATA_READER]),
        (true, on_regorus),
        (false, vec![DATA_READER]),
    ] {
        let engine = RegoEngine::default().with_compiled_evaluator(compiled);
        let modules: Vec<PolicyModule> = sources
            .iter()
            .enumerate()
            .map(|(i, source)| module(&format!("k8s{i}.rego"), source, RegoVersion::V1))
            .collect();
        let set = |data: &str| PolicySet {
            modules: modules.clone(),
            data: Value::from_json(data).expect("data json"),
            disabled_builtins: Vec::new(),
            conflict_messages: Default::default(),
        };
        let mut swapped = engine.prepare(&set(versions[0])).expect("prepare");
        let slow = swapped.slow_path_reason();
        assert_eq!(slow.is_none(), compiled && sources.len() == 1, "{slow:?}");
        for (i, data) in versions.iter().enumerate() {
            if i > 0 {
                swapped = swapped
                    .with_data(Value::from_json(data).expect("data json"))
                    .expect("the data is swapped in");
            }
            let fresh = engine.prepare(&set(data)).expect("prepare");
            // Twice: the second answers come from the decision cache where there is one.
            for _ in 0..2 {
                assert_eq!(
                    evaluate_all(&*swapped),
                    evaluate_all(&*fresh),
                    "data version {i}, slow path {slow:?}"
                );
            }
        }
    }
}

#[test]
fn data_swapped_in_without_evaluations_between_is_converted_for_regorus_once_needed() {
    // Several writes with no evaluation between them: regorus converts the newest data from
    // the last it converted.
    let engine = RegoEngine::default().with_compiled_evaluator(false);
    let prepared = engine
        .prepare(&PolicySet {
            modules: vec![module("k8s.rego", DATA_READER, RegoVersion::V1)],
            data: Value::from_json(r#"{"teams":{"a":"red"}}"#).expect("json"),
            disabled_builtins: Vec::new(),
            conflict_messages: Default::default(),
        })
        .expect("prepare");
    let mut current = prepared;
    for i in 0..5 {
        let data = format!(
            r#"{{"teams":{{"a":"red"}},"kubernetes":{{"pods":{{"a":{{{}}}}}}}}}"#,
            (0..=i)
                .map(|j| format!(r#""p{j}":{{"metadata":{{"labels":{{"app":"v{j}"}}}}}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        current = current
            .with_data(Value::from_json(&data).expect("json"))
            .expect("swapped");
    }
    assert_eq!(
        document(&*current, "k8s/pods", "{}").map(|v| v.to_json()),
        Some("5".to_string())
    );
    assert_eq!(
        document(&*current, "k8s/app_of/p4", "{}").map(|v| v.to_json()),
        Some(r#""v4""#.to_string())
    );
}
