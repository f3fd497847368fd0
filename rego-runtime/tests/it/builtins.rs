//! The builtin table through the Rego engine: results, strict and non-strict failures, and
//! regorus builtins the table replaces. Expected values were confirmed with `opa eval`
//! (OPA 1.22.2, with `--strict-builtin-errors` for the strict cases).

use std::sync::Arc;

use rego_runtime::rego::RegoEngine;
use rego_runtime::{
    Engine, Entrypoint, Error, Input, Limits, Outcome, PathSegment, PolicyModule, PolicySet,
    Prepared, RegoVersion, Value,
};

/// Self-signed P-256 certificate (`openssl req -x509 -key ec.key -subj /CN=ec.example`).
const EC_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBqzCCAVGgAwIBAgIUdi6+kNA7EMP2k/0QNpkpJdwbAd8wCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKZWMuZXhhbXBsZTAeFw0yNjExMjUxMjMxMTRaFw0zNjExMjIx
MjMxMTRaMBUxEzARBgNVBAMMCmVjLmV4YW1wbGUwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASi6Q2Cs70JG8eRysNYRyCnmj+2CbDSnThNUC0b7M7nS6qzphKVxDS6
qIKY4/ggJeMnkoDmqfGL16JG9vInI2lvo38wfTAdBgNVHQ4EFgQULWH10304CYej
Nr7WeBULqCns9CUwHwYDVR0jBBgwFoAULWH10304CYejNr7WeBULqCns9CUwDwYD
VR0TAQH/BAUwAwEB/zALBgNVHQ8EBAMCAoQwHQYDVR0lBBYwFAYIKwYBBQUHAwEG
CCsGAQUFBwMCMAoGCCqGSM49BAMCA0gAMEUCIDM4hGuFxG7Ggvt2k+k+z7ayLEEz
Lf1l9cLYBaXFV2nhAiEAkYayAq/Bv18+R2t3tjjcNTC9oLt9hY0vdRDcDV8DWvI=
-----END CERTIFICATE-----
";

/// An ES256 token OPA signed with the key of [`EC_CERT`] (`io.jwt.encode_sign`).
const ES256_TOKEN: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOlsiYSIsImIiXSwiZXhwIjo0MTAyNDQ0ODAwLCJpc3MiOiJtZSIsIm5iZiI6MX0.nU245fbBv0PdIaa4s-L3zOU3qr622xyQ0Io9PrScmuPP432DtP82G0o8mLVaPXNtokuKGzDIcPUoe_LIVI1BHw";

fn prepare(modules: &[(&str, RegoVersion)]) -> Arc<dyn Prepared> {
    RegoEngine::default()
        .prepare(&PolicySet {
            modules: modules
                .iter()
                .enumerate()
                .map(|(i, (source, version))| PolicyModule {
                    id: format!("m{i}.rego"),
                    file: format!("m{i}.rego"),
                    source: Arc::from(*source),
                    rego_version: *version,
                })
                .collect(),
            data: Value::empty_object(),
            disabled_builtins: Vec::new(),
            conflict_messages: Default::default(),
        })
        .expect("prepare")
}

/// `x` from `x := <expression>`, or `None` when undefined.
fn query(
    prepared: &dyn Prepared,
    expression: &str,
    input: &str,
    strict: bool,
) -> Result<Option<Value>, Error> {
    let limits = Limits {
        strict_builtin_errors: strict,
        ..Limits::default()
    };
    let text = format!("x := {expression}");
    let evaluation = prepared.evaluate(Entrypoint::Query(&text), Input::Json(input), &limits)?;
    match evaluation.outcome {
        Outcome::Bindings(solutions) => Ok(solutions.first().and_then(|s| s.get("x").cloned())),
        Outcome::Document(_) => panic!("a query gave a document"),
    }
}

fn value(expression: &str, input: &str) -> String {
    let prepared = prepare(&[]);
    query(&*prepared, expression, input, false)
        .expect("evaluation")
        .map(|v| v.to_json())
        .unwrap_or_else(|| "undefined".to_string())
}

/// The code and message of a strict failure; also checks the same call is undefined when
/// not strict, as OPA makes it.
fn strict_failure(expression: &str, input: &str) -> (&'static str, String) {
    let prepared = prepare(&[]);
    assert_eq!(
        query(&*prepared, expression, input, false).expect("non-strict evaluation"),
        None,
        "{expression} must be undefined when not strict"
    );
    match query(&*prepared, expression, input, true) {
        Err(Error::Evaluation(problem)) => (problem.code, problem.message),
        other => panic!("{expression}: expected a strict failure, got {other:?}"),
    }
}

#[test]
fn jwt_decode_and_verify_through_the_engine() {
    let input = serde_json::json!({ "token": ES256_TOKEN, "cert": EC_CERT }).to_string();
    assert_eq!(
        value("io.jwt.verify_es256(input.token, input.cert)", &input),
        "true"
    );
    assert_eq!(
        value(
            r#"io.jwt.decode_verify(input.token, {"cert": input.cert, "aud": "a", "iss": "me"})"#,
            &input
        ),
        r#"[true,{"alg":"ES256","kid":"k1"},{"aud":["a","b"],"exp":4102444800,"iss":"me","nbf":1}]"#
    );
    assert_eq!(
        value(
            r#"io.jwt.decode_verify(input.token, {"cert": input.cert, "aud": "c"})"#,
            &input
        ),
        "[false,{},{}]"
    );
    assert_eq!(
        strict_failure(r#"io.jwt.decode("a.b")"#, "{}"),
        (
            "eval_builtin_error",
            "io.jwt.decode: encoded JWT must have 3 sections, found 2".to_string()
        )
    );
}

#[test]
fn type_errors_carry_opas_code_and_wording() {
    assert_eq!(
        strict_failure("crypto.sha256(input.n)", r#"{"n":1}"#),
        (
            "eval_type_error",
            "crypto.sha256: operand 1 must be string but got number".to_string()
        )
    );
    assert_eq!(
        strict_failure("substring(input.s, -1, 3)", r#"{"s":"abc"}"#),
        (
            "eval_builtin_error",
            "substring: negative offset".to_string()
        )
    );
}

#[test]
fn certificates_keep_big_integers_exact() {
    let input = serde_json::json!({ "cert": EC_CERT }).to_string();
    assert_eq!(
        value(
            "crypto.x509.parse_certificates(input.cert)[0].PublicKey.X",
            &input
        ),
        "73686450083006758408006570723419150930282628265724391828415462393079147718475"
    );
    assert_eq!(
        value(
            "crypto.x509.parse_certificates(input.cert)[0].Subject.CommonName",
            &input
        ),
        r#""ec.example""#
    );
    assert_eq!(
        value(
            "crypto.x509.parse_certificates(input.cert)[0].ExtKeyUsage",
            &input
        ),
        "[1,2]"
    );
}

#[test]
fn table_builtins_answer_as_opa() {
    assert_eq!(
        value(
            r#"sprintf("%5.2f|%-5d|%x|%v", [3.14159, 42, 255, {"a": [1]}])"#,
            "{}"
        ),
        r#"" 3.14|42   |ff|{\"a\": [1]}""#
    );
    assert_eq!(
        value(
            r#"net.cidr_merge(["192.0.128.0/24", "192.0.129.0/24"])"#,
            "{}"
        ),
        r#"["192.0.128.0/23"]"#
    );
    assert_eq!(
        value(
            r#"graphql.is_valid("{ a }", "type Query { a: Int }")"#,
            "{}"
        ),
        "true"
    );
    assert_eq!(
        value(
            r#"strings.render_template("{{range .l}}[{{.}}]{{end}}", {"l": [1, 2]})"#,
            "{}"
        ),
        r#""[1][2]""#
    );
    assert_eq!(
        value(r#"strings.split_n("a,b,c", ",", -2)"#, "{}"),
        r#"["b","c"]"#
    );
    assert_eq!(value("array.flatten([1, [2, [3]]])", "{}"), "[1,2,[3]]");
    assert_eq!(
        value(r#"uri.parse("http://h:8/p?q=1")"#, "{}"),
        r#"{"hostname":"h","path":"/p","port":"8","raw_path":"/p","raw_query":"q=1","scheme":"http"}"#
    );
    assert_eq!(
        value(
            r#"regex.globs_match("a.a.[0-9]+z", ".b.b2359825792*594823z")"#,
            "{}"
        ),
        "true"
    );
}

#[test]
fn overrides_fix_regorus_behaviour() {
    // regorus panics on a zero step; OPA fails the call.
    assert_eq!(
        strict_failure("numbers.range_step(1, 10, 0)", "{}"),
        (
            "eval_builtin_error",
            "numbers.range_step: numbers.range_step: step must be a positive integer".to_string()
        )
    );
    // regorus passes a bad escape through; OPA rejects it.
    assert_eq!(
        strict_failure(r#"urlquery.decode("%zz")"#, "{}"),
        (
            "eval_builtin_error",
            r#"urlquery.decode: invalid URL escape "%zz""#.to_string()
        )
    );
    assert_eq!(value(r#"strings.count("five", "")"#, "{}"), "5");
    assert_eq!(value(r#"indexof("abc", "")"#, "{}"), "undefined");
    assert_eq!(value(r#"glob.quote_meta("[a]*")"#, "{}"), r#""\\[a\\]\\*""#);
}

#[test]
fn deprecated_builtins_work_in_v0_modules() {
    let prepared = prepare(&[(
        "package old\nm { re_match(\"a+\", \"caat\") }\nd = set_diff({1, 2}, {2})\nc = cast_array({3})\n",
        RegoVersion::V0,
    )]);
    let limits = Limits::default();
    let path: Vec<PathSegment> = vec![PathSegment::Key("old".into())];
    let evaluation = prepared
        .evaluate(Entrypoint::Data(&path), Input::Undefined, &limits)
        .expect("evaluation");
    let Outcome::Document(Some(document)) = evaluation.outcome else {
        panic!("expected a document");
    };
    assert_eq!(document.to_json(), r#"{"c":[3],"d":[1],"m":true}"#);
}

#[test]
fn odd_operands_never_panic() {
    let prepared = prepare(&[]);
    let odd = [
        r#"crypto.x509.parse_certificates("MIIB")"#,
        r#"crypto.x509.parse_and_verify_certificates("")"#,
        r#"io.jwt.verify_rs256("a.b.c", "{}")"#,
        r#"io.jwt.encode_sign({"alg": "RS256"}, {}, {"kty": "RSA", "n": "AQAB"})"#,
        r#"graphql.parse_query("{{{{{{{{")"#,
        r#"strings.render_template("{{", {})"#,
        r#"sprintf("%[", [1])"#,
        r#"net.cidr_expand("::/0")"#,
        r#"regex.match("(", "a")"#,
        r#"providers.aws.sign_req({"method": "GET", "url": "::"}, {}, 0)"#,
    ];
    for expression in odd {
        for strict in [false, true] {
            match query(&*prepared, expression, "{}", strict) {
                Ok(_) | Err(Error::Evaluation(_)) => {}
                Err(other) => panic!("{expression}: unexpected {other:?}"),
            }
        }
    }
}

/// The problems of preparing `source` (a v1 module), as `code: message` lines.
fn compile_problems(source: &str, version: RegoVersion) -> Vec<String> {
    let prepared = RegoEngine::default().prepare(&PolicySet {
        modules: vec![PolicyModule {
            id: "m.rego".into(),
            file: "m.rego".into(),
            source: Arc::from(source),
            rego_version: version,
        }],
        data: Value::empty_object(),
        disabled_builtins: Vec::new(),
        conflict_messages: Default::default(),
    });
    match prepared {
        Err(Error::Compile(problems)) => problems
            .iter()
            .map(|p| format!("{}: {}", p.code, p.message))
            .collect(),
        Err(other) => panic!("unexpected {other:?}"),
        Ok(_) => Vec::new(),
    }
}

#[test]
fn regorus_builtin_errors_become_opas() {
    assert_eq!(
        strict_failure("count(input.x)", r#"{"x":12}"#),
        (
            "eval_type_error",
            "count: operand 1 must be one of {array, object, set, string} but got number"
                .to_string()
        )
    );
    assert_eq!(
        strict_failure("json.unmarshal(input.s)", r#"{"s":"{bad"}"#),
        (
            "eval_builtin_error",
            "json.unmarshal: invalid character 'b' looking for beginning of object key string"
                .to_string()
        )
    );
    assert_eq!(
        strict_failure("object.get(input.o, \"a\", 0)", r#"{"o":[1]}"#),
        (
            "eval_type_error",
            "object.get: operand 1 must be object but got array".to_string()
        )
    );
    assert_eq!(
        strict_failure("glob.match(input.p, [], \"a\")", r#"{"p":"[a"}"#),
        (
            "eval_builtin_error",
            "glob.match: glob: syntax error at 2: unexpected end of input".to_string()
        )
    );
    assert_eq!(
        strict_failure("bits.lsh(1, input.n)", r#"{"n":-1}"#),
        (
            "eval_type_error",
            "bits.lsh: operand 2 must be an unsigned integer number but got a negative integer"
                .to_string()
        )
    );
}

#[test]
fn undefined_results_stay_undefined_when_strict() {
    let prepared = prepare(&[]);
    for expression in ["max(input.xs)", "uuid.parse(input.u)"] {
        for strict in [false, true] {
            assert_eq!(
                query(
                    &*prepared,
                    expression,
                    r#"{"xs":[],"u":"not-a-uuid"}"#,
                    strict
                )
                .expect("evaluation"),
                None,
                "{expression}"
            );
        }
    }
    assert_eq!(value(r#"count("👍🏽x")"#, "{}"), "3");
    assert_eq!(value(r#"yaml.is_valid("a: 1\n---\nb: 2")"#, "{}"), "true");
    assert_eq!(
        value(
            r#"graph.reachable_paths({"a": ["b"], "b": ["a"]}, ["a"])"#,
            "{}"
        ),
        r#"[["a","b"]]"#
    );
}

#[test]
fn constant_operands_of_the_wrong_type_are_compile_errors() {
    assert_eq!(
        compile_problems("package p\nx := count(12)\n", RegoVersion::V1),
        vec![
            "rego_type_error: count: invalid argument(s)\n\thave: (number, ???)\n\twant: (collection: any<...>, n: number)"
        ]
    );
    assert_eq!(
        compile_problems("package p\nx := count(1, 2)\n", RegoVersion::V1),
        vec![
            "rego_type_error: count: arity mismatch\n\thave: (number, number, ???)\n\twant: (collection: any<string, array[any], object[any: any], set[any]>)"
        ]
    );
    assert_eq!(
        compile_problems("package p\nx if re_match(\"a\", \"b\")\n", RegoVersion::V1),
        vec!["rego_type_error: deprecated built-in function calls in expression: re_match"]
    );
    assert_eq!(
        compile_problems("package p\nx { re_match(\"a\", \"b\") }\n", RegoVersion::V0),
        Vec::<String>::new()
    );
    // Values only known at evaluation are left to it.
    assert_eq!(
        compile_problems(
            "package p\nx := count(input.n) + count(data.d) + count([y | y := 1])\n",
            RegoVersion::V1
        ),
        Vec::<String>::new()
    );
}
