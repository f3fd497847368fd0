use rego_runtime::rego::RegoEngine;
use rego_runtime::*;
use std::sync::Arc;
use std::time::Instant;

fn prepared_data() -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rbac/rbac");
    let data = std::fs::read_to_string(root.join("data.json")).unwrap();
    Value::object([("rbac", Value::from_json(&data).unwrap())])
}

fn main() {
    rvm();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rbac/rbac");
    let source = std::fs::read_to_string(root.join("policy.rego")).unwrap();
    let data = std::fs::read_to_string(root.join("data.json")).unwrap();
    let data = Value::object([("rbac", Value::from_json(&data).unwrap())]);
    let prepared = RegoEngine
        .prepare(&PolicySet {
            modules: vec![PolicyModule {
                id: "p".into(),
                file: "p".into(),
                source: Arc::from(source),
                rego_version: RegoVersion::V1,
            }],
            data,
            disabled_builtins: vec![],
        })
        .unwrap();
    let path = vec![
        PathSegment::Key("rbac".into()),
        PathSegment::Key("allow".into()),
    ];
    let inputs = [
        r#"{"user":"bob","action":"read","type":"dog"}"#,
        r#"{"user":"user0004","action":"delete","type":"kind08"}"#,
        r#"{"user":"alice","action":"update","type":"kind14"}"#,
    ];
    let tiny = RegoEngine
        .prepare(&PolicySet {
            modules: vec![PolicyModule {
                id: "t".into(),
                file: "t".into(),
                source: Arc::from("package rbac\nallow if input.user == \"bob\"\n"),
                rego_version: RegoVersion::V1,
            }],
            data: Value::empty_object(),
            disabled_builtins: vec![],
        })
        .unwrap();
    let tiny_big = RegoEngine
        .prepare(&PolicySet {
            modules: vec![PolicyModule {
                id: "t".into(),
                file: "t".into(),
                source: Arc::from("package rbac\nallow if input.user == \"bob\"\n"),
                rego_version: RegoVersion::V1,
            }],
            data: prepared_data(),
            disabled_builtins: vec![],
        })
        .unwrap();
    for (name, p) in [("tiny", &tiny), ("tiny+data", &tiny_big)] {
        let n = 20000;
        let start = Instant::now();
        for _ in 0..n {
            p.evaluate(
                Entrypoint::Data(&path),
                Input::Json(inputs[0]),
                &Limits::default(),
            )
            .unwrap();
        }
        println!("{name}: {:?} per eval", start.elapsed() / n);
    }
    for input in inputs {
        let n = 20000;
        let start = Instant::now();
        let mut out = None;
        for _ in 0..n {
            out = Some(
                prepared
                    .evaluate(
                        Entrypoint::Data(&path),
                        Input::Json(input),
                        &Limits::default(),
                    )
                    .unwrap(),
            );
        }
        println!(
            "{input}: {:?} per eval -> {:?}",
            start.elapsed() / n,
            out.unwrap().outcome
        );
    }
}

#[allow(dead_code)]
fn rvm() {
    rvm_with(None);
    rvm_with(Some("package rbac\nallow if input.user == \"bob\"\n"));
}

fn rvm_with(src: Option<&str>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rbac/rbac");
    let source = src
        .map(str::to_string)
        .unwrap_or_else(|| std::fs::read_to_string(root.join("policy.rego")).unwrap());
    let data = std::fs::read_to_string(root.join("data.json")).unwrap();
    let mut engine = regorus::Engine::new();
    engine.add_policy("p.rego".into(), source).unwrap();
    engine
        .add_data(regorus::Value::from_json_str(&format!("{{\"rbac\": {data}}}")).unwrap())
        .unwrap();
    let compiled = engine
        .compile_with_entrypoint(&regorus::Rc::from("data.rbac.allow"))
        .unwrap();
    let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
        &compiled,
        &["data.rbac.allow"],
    )
    .unwrap();
    let mut vm = regorus::rvm::RegoVM::new();
    vm.load_program(program);
    vm.set_data(engine.get_data()).unwrap();
    let inputs = [
        r#"{"user":"bob","action":"read","type":"dog"}"#,
        r#"{"user":"user0004","action":"delete","type":"kind08"}"#,
        r#"{"user":"alice","action":"update","type":"kind14"}"#,
    ];
    for input in inputs {
        let n = 20000;
        let start = Instant::now();
        let mut out = regorus::Value::Null;
        for _ in 0..n {
            vm.set_input(regorus::Value::from_json_str(input).unwrap());
            out = vm.execute().unwrap();
        }
        println!("rvm {input}: {:?} per eval -> {out}", start.elapsed() / n);
    }
}
