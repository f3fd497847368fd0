//! What builtins share within one evaluation, on both evaluators: one clock reading, the
//! answers `rand.intn`, `uuid.rfc4122` and `http.send` keep for the query, the evaluation's
//! own strictness, and what the host gives (its `http.send` client).

use std::sync::Arc;

use rego_runtime::builtins::{Host, HttpClient, HttpSend};
use rego_runtime::rego::RegoEngine;

use crate::compiled_evaluator::prepare;
use rego_runtime::{Entrypoint, Error, Input, Limits, Outcome, PathSegment, Prepared, Value};

/// The compiled evaluator (which hands what it cannot do to regorus), and regorus alone.
fn both() -> [(&'static str, RegoEngine); 2] {
    [
        ("compiled", RegoEngine::new(0)),
        ("regorus", RegoEngine::new(0).with_compiled_evaluator(false)),
    ]
}

fn rule(prepared: &dyn Prepared, name: &str, input: &str, strict: bool) -> Result<Value, Error> {
    let path = [PathSegment::Key("p".into()), PathSegment::Key(name.into())];
    let limits = Limits {
        strict_builtin_errors: strict,
        ..Limits::default()
    };
    let evaluation = prepared.evaluate(Entrypoint::Data(&path), Input::Json(input), &limits)?;
    match evaluation.outcome {
        Outcome::Document(value) => Ok(value.unwrap_or(Value::string("<undefined>"))),
        Outcome::Bindings(_) => panic!("a data path gave bindings"),
    }
}

fn query(prepared: &dyn Prepared, text: &str) -> Value {
    let evaluation = prepared
        .evaluate(
            Entrypoint::Query(text),
            Input::Undefined,
            &Limits::default(),
        )
        .expect("evaluation");
    let Outcome::Bindings(solutions) = evaluation.outcome else {
        panic!("a query gave a document")
    };
    assert_eq!(solutions.len(), 1, "{text}");
    solutions[0]["x"].clone()
}

const POLICY: &str = r#"package p

a := time.now_ns()
b := time.now_ns()
clock := [a == b, a == time.now_ns()]

r1 := rand.intn("k", 1000000000)
r2 := rand.intn("k", 1000000000)
rand := r1 == r2

u1 := uuid.rfc4122("k")
u2 := uuid.rfc4122("k")
uuid := [u1 == u2, u1 != uuid.rfc4122("other")]

all := {"clock": clock, "rand": rand, "uuid": uuid}
draw := [time.now_ns(), rand.intn("k", 1000000000), uuid.rfc4122("k")]
"#;

#[test]
fn one_clock_reading_and_one_answer_per_key_within_a_query() {
    for (evaluator, engine) in both() {
        let prepared = prepare(&engine, POLICY);
        if evaluator == "compiled" {
            assert_eq!(
                prepared.slow_path_reason(),
                None,
                "compiled, not left to regorus"
            );
        }
        assert_eq!(
            rule(&*prepared, "all", "{}", false).expect("all").to_json(),
            r#"{"clock":[true,true],"rand":true,"uuid":[true,true]}"#,
            "{evaluator}"
        );
        for text in [
            "x := time.now_ns() == time.now_ns()",
            r#"x := rand.intn("q", 1000000000) == rand.intn("q", 1000000000)"#,
            r#"x := uuid.rfc4122("q") == uuid.rfc4122("q")"#,
            "x := data.p.a == time.now_ns()",
        ] {
            assert_eq!(
                query(&*prepared, text),
                Value::Bool(true),
                "{evaluator}: {text}"
            );
        }
    }
}

#[test]
fn every_query_reads_the_clock_and_draws_again() {
    for (evaluator, engine) in both() {
        let prepared = prepare(&engine, POLICY);
        let first = rule(&*prepared, "draw", "{}", false).expect("draw");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = rule(&*prepared, "draw", "{}", false).expect("draw");
        let (Some(first), Some(second)) = (first.as_array(), second.as_array()) else {
            panic!("{evaluator}: arrays")
        };
        assert!(first[0] < second[0], "{evaluator}: the clock moved on");
        // A repeat has odds of 10^-9 for the number, none worth naming for the UUID.
        assert_ne!(first[1], second[1], "{evaluator}: rand.intn drew again");
        assert_ne!(first[2], second[2], "{evaluator}: uuid.rfc4122 drew again");
    }
}

#[test]
fn each_evaluation_has_its_own_strictness_on_any_thread() {
    let source = "package p\n\nv := json.unmarshal(input.s)\n";
    for (evaluator, engine) in both() {
        let prepared = prepare(&engine, source);
        let threads: Vec<_> = [false, true, false, true]
            .into_iter()
            .map(|strict| {
                let prepared = prepared.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let answer = rule(&*prepared, "v", r#"{"s": "{bad"}"#, strict);
                        match (strict, answer) {
                            (false, Ok(value)) => assert_eq!(value, Value::string("<undefined>")),
                            (true, Err(Error::Evaluation(problem))) => {
                                assert_eq!(problem.code, "eval_builtin_error");
                                assert!(problem.message.contains("json.unmarshal"));
                            }
                            (strict, other) => panic!("strict {strict}: {other:?}"),
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread
                .join()
                .unwrap_or_else(|_| panic!("{evaluator}: a thread failed"));
        }
    }
}

/// Answers every request with its URL and counts them.
#[derive(Default)]
struct Counting(std::sync::atomic::AtomicUsize);

impl HttpClient for Counting {
    fn send(&self, request: &Value) -> Result<Value, String> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Value::object([
            ("status_code", Value::int(200)),
            ("body", request.get("url").cloned().unwrap_or(Value::Null)),
        ]))
    }
}

#[test]
fn http_send_goes_through_the_hosts_client_once_per_request_and_query() {
    let source = r#"package p

a := http.send({"method": "get", "url": "https://allowed.example/x"}).body
b := http.send({"method": "get", "url": "https://allowed.example/x"}).body
both := [a, b]
elsewhere := http.send({"method": "get", "url": "https://other.example/"})
"#;
    for (evaluator, engine) in both() {
        // Off unless the host gives a client: undefined, as the Rego engine always answered.
        let prepared = prepare(&engine, source);
        assert_eq!(
            rule(&*prepared, "both", "{}", false).expect("both"),
            Value::string("<undefined>"),
            "{evaluator}"
        );

        let client = Arc::new(Counting::default());
        let host = Host::default().with_http_send(HttpSend {
            allow_net: Some(vec!["allowed.example".into()]),
            client: client.clone(),
        });
        let prepared = prepare(&engine.with_host(host), source);
        for round in 1..=2 {
            assert_eq!(
                rule(&*prepared, "both", "{}", false)
                    .expect("both")
                    .to_json(),
                r#"["https://allowed.example/x","https://allowed.example/x"]"#,
                "{evaluator}"
            );
            assert_eq!(
                client.0.load(std::sync::atomic::Ordering::SeqCst),
                round,
                "{evaluator}: one request per query"
            );
        }
        let Err(Error::Evaluation(problem)) = rule(&*prepared, "elsewhere", "{}", true) else {
            panic!("{evaluator}: a host not allowed fails")
        };
        assert!(
            problem
                .message
                .contains("http.send: disallowed host: other.example"),
            "{evaluator}: {}",
            problem.message
        );
    }
}
