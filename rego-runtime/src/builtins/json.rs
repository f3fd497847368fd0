//! `json.marshal` and `json.marshal_with_options` as Go's encoder writes JSON: keys sorted,
//! sets as arrays, and `<`, `>`, `&`, U+2028 and U+2029 escaped (regorus writes them raw);
//! `json.unmarshal` and `json.is_valid` as Go reads it (see [`super::gojson`]), where regorus
//! raises its own errors and fails on a non-string operand.

use std::collections::BTreeMap;

use super::args::{self, BuiltinError};
use super::gojson;
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "json.marshal",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(marshal),
    },
    Builtin {
        name: "json.marshal_with_options",
        arity: 2,
        nondeterministic: false,
        eval: Implementation::Operands(marshal_with_options),
    },
    Builtin {
        name: "json.unmarshal",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(unmarshal),
    },
    Builtin {
        name: "json.is_valid",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(is_valid),
    },
];

fn unmarshal(args: &[Value]) -> Result<Value, BuiltinError> {
    gojson::unmarshal(args::string(args, 0)?).map_err(BuiltinError::failed)
}

/// Anything but a string is simply not valid JSON text.
fn is_valid(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::Bool(
        args::any(args, 0)?.as_str().is_some_and(gojson::valid),
    ))
}

/// Nesting deeper than this is refused rather than risk the stack.
const MAX_DEPTH: usize = 1000;

/// Go's HTML-safe escaping of JSON text (only strings can hold these characters).
fn go_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn marshal(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::string(go_escape(&args::any(args, 0)?.to_json())))
}

/// Layout of pretty output: every line starts with `prefix`, each level adds `indent`.
struct Layout<'a> {
    prefix: &'a str,
    indent: &'a str,
}

fn marshal_with_options(args: &[Value]) -> Result<Value, BuiltinError> {
    let value = args::any(args, 0)?;
    let options = args::object(args, 1)?;
    let mut pretty: Option<bool> = None;
    let (mut prefix, mut indent) = (None, None);
    for (key, option) in options {
        let name = key.as_str().unwrap_or_default();
        match (name, option) {
            ("pretty", Value::Bool(b)) => pretty = Some(*b),
            ("prefix", Value::String(s)) => prefix = Some(s.to_string()),
            ("indent", Value::String(s)) => indent = Some(s.to_string()),
            ("pretty", other) => return Err(option_type(name, "boolean", other)),
            ("prefix" | "indent", other) => return Err(option_type(name, "string", other)),
            _ => {
                return Err(BuiltinError::Type(format!(
                    "operand 2 object contained unknown key {}",
                    serde_json::to_string(name).unwrap_or_default()
                )));
            }
        }
    }
    // An indent or prefix asks for pretty output unless `pretty` says otherwise.
    let pretty = pretty.unwrap_or(prefix.is_some() || indent.is_some());
    if !pretty {
        return marshal(&args[..1]);
    }
    let layout = Layout {
        prefix: prefix.as_deref().unwrap_or(""),
        indent: indent.as_deref().unwrap_or("\t"),
    };
    let mut out = String::from(layout.prefix);
    write_pretty(&mut out, value, &layout, 0)?;
    Ok(Value::string(out))
}

fn option_type(name: &str, expected: &str, got: &Value) -> BuiltinError {
    BuiltinError::Type(format!(
        "operand 2 {name} option must be {expected} but got {}",
        got.type_name()
    ))
}

fn newline(out: &mut String, layout: &Layout<'_>, depth: usize) {
    out.push('\n');
    out.push_str(layout.prefix);
    for _ in 0..depth {
        out.push_str(layout.indent);
    }
}

fn write_pretty(
    out: &mut String,
    value: &Value,
    layout: &Layout<'_>,
    depth: usize,
) -> Result<(), BuiltinError> {
    if depth > MAX_DEPTH {
        return Err(BuiltinError::failed("value nested too deeply"));
    }
    let elements: Option<Vec<&Value>> = match value {
        Value::Array(items) => Some(items.iter().collect()),
        Value::Set(items) => Some(items.iter().collect()),
        _ => None,
    };
    if let Some(elements) = elements {
        if elements.is_empty() {
            out.push_str("[]");
            return Ok(());
        }
        out.push('[');
        for (i, element) in elements.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            newline(out, layout, depth + 1);
            write_pretty(out, element, layout, depth + 1)?;
        }
        newline(out, layout, depth);
        out.push(']');
        return Ok(());
    }
    if let Value::Object(entries) = value {
        if entries.is_empty() {
            out.push_str("{}");
            return Ok(());
        }
        // Keys are ordered by their JSON text, as Go sorts map keys.
        let keyed: BTreeMap<String, &Value> = entries
            .iter()
            .map(|(k, v)| (k.as_str().map_or_else(|| k.to_json(), str::to_string), v))
            .collect();
        out.push('{');
        for (i, (key, item)) in keyed.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            newline(out, layout, depth + 1);
            out.push_str(&go_escape(&serde_json::to_string(&key).unwrap_or_default()));
            out.push_str(": ");
            write_pretty(out, item, layout, depth + 1)?;
        }
        newline(out, layout, depth);
        out.push('}');
        return Ok(());
    }
    out.push_str(&go_escape(&value.to_json()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&[Value]) -> Result<Value, BuiltinError>, json: &str) -> Result<String, String> {
        let Value::Array(args) = Value::from_json(json).expect("json") else {
            panic!("arguments must be an array")
        };
        f(&args)
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .map_err(|e| e.to_string())
    }

    // Expected texts confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn writes_as_go() {
        assert_eq!(
            run(marshal, r#"[{"a":"<&>"}]"#),
            Ok(r#"{"a":"\u003c\u0026\u003e"}"#.into())
        );
        assert_eq!(
            run(marshal_with_options, r#"[{"a":[1,{"b":2}],"c":[],"d":{}},{"pretty":true}]"#),
            Ok("{\n\t\"a\": [\n\t\t1,\n\t\t{\n\t\t\t\"b\": 2\n\t\t}\n\t],\n\t\"c\": [],\n\t\"d\": {}\n}".into())
        );
        assert_eq!(
            run(marshal_with_options, r#"[{"a":[1]},{"prefix":"> "}]"#),
            Ok("> {\n> \t\"a\": [\n> \t\t1\n> \t]\n> }".into())
        );
        assert_eq!(
            run(
                marshal_with_options,
                r#"[{"a":"x"},{"pretty":false,"indent":"\t"}]"#
            ),
            Ok(r#"{"a":"x"}"#.into())
        );
        assert_eq!(
            run(marshal_with_options, r#"[{"a":"x"},{"foo":1}]"#),
            Err(r#"operand 2 object contained unknown key "foo""#.into())
        );
    }
}
