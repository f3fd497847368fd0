//! The Rego engine's compiled evaluator, where the corpus cannot show it: input texts the
//! corpus runner cannot carry, print output, and the engine's switch.

use std::sync::Arc;

use rego_runtime::rego::RegoEngine;
use rego_runtime::{
    Engine, Entrypoint, Input, Limits, Outcome, PathSegment, PolicyModule, PolicySet, Prepared,
    RegoVersion, Value,
};

/// One V1 module `p.rego` prepared on `engine`, with empty data.
pub fn prepare(engine: &RegoEngine, source: &str) -> Arc<dyn Prepared> {
    engine
        .prepare(&PolicySet {
            modules: vec![PolicyModule {
                id: "p.rego".into(),
                file: "p.rego".into(),
                source: Arc::from(source),
                rego_version: RegoVersion::V1,
            }],
            data: Value::empty_object(),
            disabled_builtins: Vec::new(),
            conflict_messages: Default::default(),
        })
        .expect("prepare")
}

fn both() -> [RegoEngine; 2] {
    [
        RegoEngine::new(0),
        RegoEngine::new(0).with_compiled_evaluator(false),
    ]
}

fn rule(prepared: &dyn Prepared, name: &str, input: &str) -> (Option<Value>, Vec<String>) {
    let path = [PathSegment::Key("p".into()), PathSegment::Key(name.into())];
    let evaluation = prepared
        .evaluate(
            Entrypoint::Data(&path),
            Input::Json(input),
            &Limits::default(),
        )
        .expect("evaluation");
    match evaluation.outcome {
        Outcome::Document(value) => (value, evaluation.prints),
        Outcome::Bindings(_) => panic!("a data path gave bindings"),
    }
}

#[test]
fn integers_beyond_64_bits_in_the_input_keep_their_digits() {
    // regorus's own JSON reader (the evaluator off) turns the negative one into a float.
    let input = r#"{"x": [100000000000000000000, -9223372036854775809, 18446744073709551616, 1]}"#;
    let prepared = prepare(
        &RegoEngine::new(0),
        "package p\n\nm := json.marshal(input.x)\n",
    );
    assert_eq!(
        rule(&*prepared, "m", input).0,
        Some(Value::string(
            "[100000000000000000000,-9223372036854775809,18446744073709551616,1]"
        ))
    );
}

#[test]
fn both_evaluators_print_alike() {
    let source = r#"package p

allow if {
	print("user", input.user, 1.5, [1, "a"], {"k": {"s"}}, input.missing)
	print()
}
"#;
    let printed: Vec<Vec<String>> = both()
        .iter()
        .map(|engine| {
            let prepared = prepare(engine, source);
            let (value, prints) = rule(&*prepared, "allow", r#"{"user": "ann"}"#);
            assert_eq!(value, Some(Value::Bool(true)));
            prints
        })
        .collect();
    assert_eq!(
        printed[0],
        vec![
            r#"p.rego:4: user ann 1.5 [1, "a"] {"k": {"s"}} <undefined>"#.to_string(),
            "p.rego:5: ".to_string(),
        ]
    );
    assert_eq!(printed[0], printed[1]);
}

/// Runs `f` on a thread with the stack the gateway gives evaluation threads.
fn on_evaluation_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(rego_runtime::limits::EVALUATION_STACK_BYTES)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("no panic")
}

fn evaluate(prepared: &dyn Prepared, name: &str) -> Result<Option<Value>, rego_runtime::Error> {
    let path = [PathSegment::Key("p".into()), PathSegment::Key(name.into())];
    let evaluation = prepared.evaluate(
        Entrypoint::Data(&path),
        Input::Undefined,
        &Limits::default(),
    )?;
    match evaluation.outcome {
        Outcome::Document(value) => Ok(value),
        Outcome::Bindings(_) => panic!("a data path gave bindings"),
    }
}

#[test]
fn deep_policies_answer_or_fail_but_never_overflow_the_stack() {
    on_evaluation_stack(|| {
        // A long body: its statements run one after another, not one inside another.
        let mut long = String::from("package p\n\nn := x2000 if {\n\tx0 := 0\n");
        for i in 0..2000 {
            long.push_str(&format!("\tx{} := x{i} + 1\n", i + 1));
        }
        long.push_str("}\n");
        let prepared = prepare(&RegoEngine::new(0), &long);
        assert_eq!(
            evaluate(&*prepared, "n").expect("answer"),
            Some(Value::int(2000))
        );

        // Rules that each read the next, deeper than the evaluator nests: an error, not a crash.
        let chain = |levels: usize| {
            let mut chain = String::from("package p\n\n");
            for i in 0..levels {
                chain.push_str(&format!("r{i} := r{} + 1\n", i + 1));
            }
            chain + &format!("r{levels} := 0\n")
        };
        let prepared = prepare(&RegoEngine::new(0), &chain(3000));
        assert_eq!(
            evaluate(&*prepared, "r0").expect("answer"),
            Some(Value::int(3000))
        );
        let prepared = prepare(&RegoEngine::new(0), &chain(6000));
        let error = evaluate(&*prepared, "r0").expect_err("too deep");
        assert!(
            error.to_string().contains("nests queries deeper than"),
            "{error}"
        );
    });
}

#[test]
fn a_function_runs_once_per_arguments_and_input_as_in_opa() {
    // OPA 1.22.2 (`opa eval -d p.rego -i '{"a":"1"}' data.p`) prints exactly these lines: a
    // call with arguments seen before under the same input is answered from its cache,
    // and each `with input` starts a cache of its own.
    let source = r#"package p

f(x) := y if { print("f", x); y := concat("-", [x, input.a]) }
g(x) := y if { print("g", x); y := f(x) }
a := [f("k"), f("j"), f("k")]
b := v if { v := f("k") with input as {"a": "2"} }
b2 := v if { v := f("k") with input as {"a": "1"} }
c := f("k")
d := g("k")
e := [y | some x in ["k", "m", "m"]; y := g(x)]
"#;
    let prepared = prepare(&RegoEngine::new(0), source);
    let evaluation = prepared
        .evaluate(
            Entrypoint::Data(&[PathSegment::Key("p".into())]),
            Input::Json(r#"{"a": "1"}"#),
            &Limits::default(),
        )
        .expect("evaluation");
    let Outcome::Document(Some(document)) = evaluation.outcome else {
        panic!("no document");
    };
    assert_eq!(
        document,
        Value::from_json(
            r#"{"a":["k-1","j-1","k-1"],"b":"k-2","b2":"k-1","c":"k-1","d":"k-1","e":["k-1","m-1","m-1"]}"#
        )
        .expect("json")
    );
    let printed: Vec<&str> = evaluation
        .prints
        .iter()
        .map(|line| line.split_once(": ").expect("location").1)
        .collect();
    assert_eq!(printed, ["f k", "f j", "f k", "f k", "g k", "g m", "f m"]);
}

#[test]
fn walk_is_iterated_on_both_evaluators() {
    let source = r#"package p

leaves := {[path, v] | walk(input, [path, v]); not is_object(v)}
count_all := count([1 | walk(input, _)])
"#;
    for engine in both() {
        let prepared = prepare(&engine, source);
        let input = r#"{"a": {"b": 1}, "c": 2}"#;
        assert_eq!(
            rule(&*prepared, "leaves", input).0.map(|v| v.to_json()),
            Some(r#"[[["a","b"],1],[["c"],2]]"#.to_string())
        );
        assert_eq!(rule(&*prepared, "count_all", input).0, Some(Value::int(4)));
    }
}
