//! THE builtin table: every OPA builtin this project implements itself, engine-neutral.
//!
//! Engines install it their own way (the Rego engine as regorus extensions, a Wasm host by
//! name from a module's `builtins()` export), and give every call the evaluation's context
//! ([`EvalContext`]: one clock reading, answers kept for the query, the print sink, the
//! host's documents). An entry here overrides an engine's own builtin
//! of the same name, which is how engine behaviour that differs from OPA gets corrected.

mod aggregates;
mod args;
mod arrays;
mod asn1;
mod aws;
mod bits;
mod calendar;
mod context;
mod crypto;
mod debug;
mod deprecated;
mod encoding;
mod glob;
mod gojson;
mod graph;
mod graphql;
mod graphql_syntax;
mod http;
mod json;
mod json_paths;
mod json_schema;
mod jwt;
mod keys;
mod net;
mod numbers;
mod objects;
mod opa;
mod operators;
mod pattern_cache;
mod regex;
mod semver;
mod sets;
mod sprintf;
mod strings;
mod template;
mod terms;
mod time;
mod types;
mod units;
mod uri;
mod urlquery;
mod uuid;
mod x509;
mod yaml;

use crate::Value;

pub use args::BuiltinError;
pub use context::{EvalContext, EvalState, Host};
pub use http::{HttpClient, HttpSend};

/// A builtin that reads only its operands: operands in, value out. No engine type appears
/// here.
pub type BuiltinFn = fn(&[Value]) -> Result<Value, BuiltinError>;

/// A builtin that also reads or changes its evaluation's context (the clock, answers kept
/// for the query, the print sink, the host's documents).
pub type ContextFn = fn(&mut EvalContext<'_>, &[Value]) -> Result<Value, BuiltinError>;

/// How a builtin is implemented. Every call is given the evaluation's context (see
/// [`call`]); most builtins need only their operands, and say so, so that their code and
/// their tests need no context.
#[derive(Clone, Copy, Debug)]
pub enum Implementation {
    Operands(BuiltinFn),
    Context(ContextFn),
}

/// One builtin function as OPA names and declares it.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// OPA's name, e.g. `io.jwt.decode`.
    pub name: &'static str,
    /// Number of operands.
    pub arity: u8,
    /// True when repeated calls may answer differently (time, randomness, network).
    pub nondeterministic: bool,
    /// The implementation; operands arrive already counted (see [`call`]).
    pub eval: Implementation,
}

/// A deterministic table entry (families mark the others `nondeterministic` themselves).
pub(super) const fn builtin(name: &'static str, arity: u8, eval: BuiltinFn) -> Builtin {
    Builtin {
        name,
        arity,
        nondeterministic: false,
        eval: Implementation::Operands(eval),
    }
}

/// Every family's entries; a family is one file of this folder.
const FAMILIES: &[&[Builtin]] = &[
    strings::BUILTINS,
    sprintf::BUILTINS,
    crypto::BUILTINS,
    x509::BUILTINS,
    uri::BUILTINS,
    jwt::BUILTINS,
    net::BUILTINS,
    arrays::BUILTINS,
    deprecated::BUILTINS,
    regex::BUILTINS,
    glob::BUILTINS,
    numbers::BUILTINS,
    urlquery::BUILTINS,
    aws::BUILTINS,
    template::BUILTINS,
    graphql::BUILTINS,
    time::BUILTINS,
    encoding::BUILTINS,
    units::BUILTINS,
    semver::BUILTINS,
    debug::BUILTINS,
    opa::BUILTINS,
    yaml::BUILTINS,
    operators::BUILTINS,
    json::BUILTINS,
    aggregates::BUILTINS,
    bits::BUILTINS,
    objects::BUILTINS,
    sets::BUILTINS,
    uuid::BUILTINS,
    graph::BUILTINS,
    http::BUILTINS,
    json_paths::BUILTINS,
    json_schema::BUILTINS,
    types::BUILTINS,
];

/// Every builtin of the table, in family order.
pub fn table() -> impl Iterator<Item = &'static Builtin> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// True for OPA's relations (`walk`): each pair of the array the builtin answers is one
/// solution of the call, which engines iterate instead of matching the array.
pub fn is_relation(builtin: &Builtin) -> bool {
    builtin.name == graph::WALK
}

/// The builtin named `name`, if the table has it.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    table().find(|builtin| builtin.name == name)
}

/// Calls `builtin` in the evaluation `context` after checking the operand count, as every
/// engine must.
///
/// # Errors
/// The builtin's own error, or a type error for a wrong number of operands.
pub fn call(
    builtin: &Builtin,
    context: &mut EvalContext<'_>,
    operands: &[Value],
) -> Result<Value, BuiltinError> {
    if operands.len() != usize::from(builtin.arity) {
        return Err(BuiltinError::Type(format!(
            "{}: expected {} operands but got {}",
            builtin.name,
            builtin.arity,
            operands.len()
        )));
    }
    let result = match builtin.eval {
        Implementation::Operands(eval) => eval(operands),
        Implementation::Context(eval) => eval(context, operands),
    };
    result.map_err(|error| error.named(builtin.name))
}

/// Test helper: calls the table's builtin `name` on a JSON array of operands, answering its
/// result as JSON or its error text.
#[cfg(test)]
pub(crate) fn run_json(name: &str, operands: &str) -> Result<String, String> {
    let Value::Array(args) = Value::from_json(operands).expect("json") else {
        panic!("operands must be a JSON array")
    };
    let host = Host::default();
    let mut state = EvalState::default();
    let result = match lookup(name).expect("builtin").eval {
        Implementation::Operands(eval) => eval(&args),
        Implementation::Context(eval) => eval(&mut EvalContext::new(&host, &mut state), &args),
    };
    result.map(|v| v.to_json()).map_err(|e| e.to_string())
}

/// Test helper: [`run_json`] for an implementation by its function.
#[cfg(test)]
pub(crate) fn run_fn(f: BuiltinFn, operands: &str) -> Result<String, String> {
    let Value::Array(args) = Value::from_json(operands).expect("json") else {
        panic!("operands must be a JSON array")
    };
    f(&args).map(|v| v.to_json()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Every builtin OPA 1.22.2 declares (`opa capabilities --current`), the set a table entry
    /// must belong to.
    const OPA_BUILTINS: [&str; 206] = [
        "abs",
        "all",
        "and",
        "any",
        "array.concat",
        "array.flatten",
        "array.reverse",
        "array.slice",
        "assign",
        "base64.decode",
        "base64.encode",
        "base64.is_valid",
        "base64url.decode",
        "base64url.encode",
        "base64url.encode_no_pad",
        "bits.and",
        "bits.lsh",
        "bits.negate",
        "bits.or",
        "bits.rsh",
        "bits.xor",
        "cast_array",
        "cast_boolean",
        "cast_null",
        "cast_object",
        "cast_set",
        "cast_string",
        "ceil",
        "concat",
        "contains",
        "count",
        "crypto.hmac.equal",
        "crypto.hmac.md5",
        "crypto.hmac.sha1",
        "crypto.hmac.sha256",
        "crypto.hmac.sha512",
        "crypto.md5",
        "crypto.parse_private_keys",
        "crypto.sha1",
        "crypto.sha256",
        "crypto.x509.parse_and_verify_certificates",
        "crypto.x509.parse_and_verify_certificates_with_options",
        "crypto.x509.parse_certificate_request",
        "crypto.x509.parse_certificates",
        "crypto.x509.parse_keypair",
        "crypto.x509.parse_rsa_private_key",
        "div",
        "endswith",
        "eq",
        "equal",
        "floor",
        "format_int",
        "glob.match",
        "glob.quote_meta",
        "graph.reachable",
        "graph.reachable_paths",
        "graphql.is_valid",
        "graphql.parse",
        "graphql.parse_and_verify",
        "graphql.parse_query",
        "graphql.parse_schema",
        "graphql.schema_is_valid",
        "gt",
        "gte",
        "hex.decode",
        "hex.encode",
        "http.send",
        "indexof",
        "indexof_n",
        "internal.member_2",
        "internal.member_3",
        "internal.print",
        "internal.template_string",
        "internal.test_case",
        "intersection",
        "io.jwt.decode",
        "io.jwt.decode_verify",
        "io.jwt.encode_sign",
        "io.jwt.encode_sign_raw",
        "io.jwt.verify_eddsa",
        "io.jwt.verify_es256",
        "io.jwt.verify_es384",
        "io.jwt.verify_es512",
        "io.jwt.verify_hs256",
        "io.jwt.verify_hs384",
        "io.jwt.verify_hs512",
        "io.jwt.verify_ps256",
        "io.jwt.verify_ps384",
        "io.jwt.verify_ps512",
        "io.jwt.verify_rs256",
        "io.jwt.verify_rs384",
        "io.jwt.verify_rs512",
        "is_array",
        "is_boolean",
        "is_null",
        "is_number",
        "is_object",
        "is_set",
        "is_string",
        "json.filter",
        "json.is_valid",
        "json.marshal",
        "json.marshal_with_options",
        "json.match_schema",
        "json.patch",
        "json.remove",
        "json.unmarshal",
        "json.verify_schema",
        "lower",
        "lt",
        "lte",
        "max",
        "min",
        "minus",
        "mul",
        "neq",
        "net.cidr_contains",
        "net.cidr_contains_matches",
        "net.cidr_expand",
        "net.cidr_intersects",
        "net.cidr_is_valid",
        "net.cidr_merge",
        "net.cidr_overlap",
        "net.lookup_ip_addr",
        "numbers.range",
        "numbers.range_step",
        "object.filter",
        "object.get",
        "object.keys",
        "object.remove",
        "object.subset",
        "object.union",
        "object.union_n",
        "opa.runtime",
        "or",
        "plus",
        "print",
        "product",
        "providers.aws.sign_req",
        "rand.intn",
        "re_match",
        "regex.find_all_string_submatch_n",
        "regex.find_n",
        "regex.globs_match",
        "regex.is_valid",
        "regex.match",
        "regex.replace",
        "regex.split",
        "regex.template_match",
        "rego.metadata.chain",
        "rego.metadata.rule",
        "rego.parse_module",
        "rem",
        "replace",
        "round",
        "semver.compare",
        "semver.is_valid",
        "set_diff",
        "sort",
        "split",
        "sprintf",
        "startswith",
        "strings.any_prefix_match",
        "strings.any_suffix_match",
        "strings.count",
        "strings.render_template",
        "strings.replace_n",
        "strings.reverse",
        "strings.split_n",
        "substring",
        "sum",
        "time.add_date",
        "time.clock",
        "time.date",
        "time.diff",
        "time.format",
        "time.now_ns",
        "time.parse_duration_ns",
        "time.parse_ns",
        "time.parse_rfc3339_ns",
        "time.weekday",
        "to_number",
        "trace",
        "trim",
        "trim_left",
        "trim_prefix",
        "trim_right",
        "trim_space",
        "trim_suffix",
        "type_name",
        "union",
        "units.parse",
        "units.parse_bytes",
        "upper",
        "uri.is_valid",
        "uri.parse",
        "urlquery.decode",
        "urlquery.decode_object",
        "urlquery.encode",
        "urlquery.encode_object",
        "uuid.parse",
        "uuid.rfc4122",
        "walk",
        "yaml.is_valid",
        "yaml.marshal",
        "yaml.unmarshal",
    ];

    #[test]
    fn names_are_opa_builtins() {
        for builtin in table() {
            assert!(
                OPA_BUILTINS.contains(&builtin.name),
                "{} is not an OPA 1.22 builtin",
                builtin.name
            );
        }
    }

    /// Odd operands of every type; no builtin may panic on any combination of them.
    fn odd_operands() -> Vec<Value> {
        let json = [
            "null",
            "true",
            "0",
            "-1",
            "1.5",
            "1e300",
            "18446744073709551616",
            r#""""#,
            r#""é\u0000%zz{{.}}""#,
            r#""-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----""#,
            r#""a.b.c""#,
            r#""10.0.0.0/8""#,
            r#""::/0""#,
            r#""[(*""#,
            "[]",
            "[1,[2],\"x\"]",
            "{}",
            r#"{"a":{"b":[1]},"kty":"RSA","n":"AQAB","alg":"HS256","url":"::"}"#,
        ];
        let mut values: Vec<Value> = json
            .iter()
            .map(|j| Value::from_json(j).expect("json"))
            .collect();
        values.push(Value::set([]));
        values.push(Value::set([Value::int(1), Value::string("a")]));
        values.push(Value::Number(crate::value::Number::Big(
            "123456789012345678901234567890".into(),
        )));
        values
    }

    #[test]
    fn odd_operands_never_panic() {
        let values = odd_operands();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for builtin in table() {
            // net.lookup_ip_addr would ask the system resolver; it is tested on its own.
            if builtin.nondeterministic && builtin.name == "net.lookup_ip_addr" {
                continue;
            }
            for _ in 0..300 {
                let operands: Vec<Value> = (0..builtin.arity)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1);
                        values[(state >> 33) as usize % values.len()].clone()
                    })
                    .collect();
                let host = Host::default();
                let mut state = EvalState::default();
                let _ = call(builtin, &mut EvalContext::new(&host, &mut state), &operands);
            }
        }
    }

    #[test]
    fn nondeterminism_is_opas() {
        for builtin in table() {
            let declared = crate::capabilities::opa()
                .builtins
                .iter()
                .find(|b| b.name == builtin.name)
                .is_some_and(|b| b.nondeterministic);
            assert_eq!(builtin.nondeterministic, declared, "{}", builtin.name);
        }
    }

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for builtin in table() {
            assert!(seen.insert(builtin.name), "{} listed twice", builtin.name);
        }
    }
}
