//! `yaml.marshal` written the way OPA's YAML library (go-yaml v3 style) writes it: sequences
//! indented under their key, block literals for multi-line text, and quotes for any string a
//! YAML 1.1 reader would take for something else (`yes`, `on`, `1e3`, `12:30`, dates).

use super::Builtin;
use super::args::BuiltinError;
use super::sprintf::Operand;
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "yaml.marshal",
    arity: 1,
    nondeterministic: false,
    eval: marshal,
}];

/// Nesting deeper than this is refused rather than risk the stack.
const MAX_DEPTH: usize = 1000;

fn marshal(args: &[Value]) -> Result<Value, BuiltinError> {
    let mut out = String::new();
    match &args[0] {
        value if is_block(value) => block(&mut out, value, 0, 0)?,
        value => {
            out.push_str(&inline(value, 0));
            out.push('\n');
        }
    }
    Ok(Value::string(out))
}

/// Non-empty collections are written as blocks; everything else fits on the line.
fn is_block(value: &Value) -> bool {
    match value {
        Value::Array(items) => !items.is_empty(),
        Value::Set(items) => !items.is_empty(),
        Value::Object(entries) => !entries.is_empty(),
        _ => false,
    }
}

fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Set(items) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// Writes a non-empty collection whose first line continues the current one.
fn block(out: &mut String, value: &Value, indent: usize, depth: usize) -> Result<(), BuiltinError> {
    if depth > MAX_DEPTH {
        return Err(BuiltinError::failed("value nested too deeply"));
    }
    let pad = " ".repeat(indent);
    match value {
        Value::Object(entries) => {
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                let key = match key {
                    Value::String(s) => scalar_string(s),
                    other => scalar_string(&other.to_json()),
                };
                out.push_str(&key);
                out.push(':');
                value_after_key(out, item, indent, depth)?;
            }
        }
        _ => {
            for (i, item) in items(value).into_iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                out.push_str("- ");
                if is_block(item) {
                    block(out, item, indent + 2, depth + 1)?;
                } else {
                    out.push_str(&inline(item, indent + 2));
                    out.push('\n');
                }
            }
        }
    }
    Ok(())
}

/// A mapping value: nested blocks start on the next line, two spaces further in.
fn value_after_key(
    out: &mut String,
    item: &Value,
    indent: usize,
    depth: usize,
) -> Result<(), BuiltinError> {
    if is_block(item) {
        out.push('\n');
        out.push_str(&" ".repeat(indent + 2));
        block(out, item, indent + 2, depth + 1)
    } else {
        out.push(' ');
        out.push_str(&inline(item, indent + 2));
        out.push('\n');
        Ok(())
    }
}

/// A scalar or empty collection; multi-line strings become literal blocks at `indent`.
fn inline(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n {
            crate::Number::Float(f) => float_text(*f),
            other => other.to_string(),
        },
        Value::String(s) if s.contains('\n') && s.chars().all(|c| c == '\n' || !c.is_control()) => {
            literal_block(s, indent)
        }
        Value::String(s) => scalar_string(s),
        Value::Array(_) | Value::Set(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    super::sprintf::format_go("%v", &[Operand::Float(f)])
}

/// `|`, `|-` or `|+` by the trailing newlines, then the lines indented.
fn literal_block(text: &str, indent: usize) -> String {
    let trailing = text.len() - text.trim_end_matches('\n').len();
    let indicator = match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    let pad = " ".repeat(indent.max(2));
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut out = String::from(indicator);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

/// A string plain, single-quoted or double-quoted, whichever YAML needs.
fn scalar_string(s: &str) -> String {
    if s.is_empty() || looks_like_other_type(s) {
        return double_quoted(s);
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return double_quoted(s);
    }
    if needs_single_quotes(s) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    s.to_string()
}

/// True for text a YAML 1.1 reader would resolve to a bool, null, number or timestamp.
fn looks_like_other_type(s: &str) -> bool {
    const WORDS: [&str; 14] = [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", ".nan", ".inf", "-.inf",
        "+.inf",
    ];
    let lower = s.to_ascii_lowercase();
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let body = unsigned.replace('_', "");
    let numeric = !body.is_empty()
        && ((body
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
            && body.parse::<f64>().is_ok())
            || (lower.trim_start_matches(['+', '-']).starts_with("0x")
                && body.len() > 2
                && body[2..].bytes().all(|b| b.is_ascii_hexdigit()))
            || (lower.trim_start_matches(['+', '-']).starts_with("0o")
                && body.len() > 2
                && body[2..].bytes().all(|b| (b'0'..=b'7').contains(&b)))
            || (lower.trim_start_matches(['+', '-']).starts_with("0b")
                && body.len() > 2
                && body[2..].bytes().all(|b| b == b'0' || b == b'1')));
    // Sexagesimal numbers (`12:30`) and dates (`2021-01-01`) are YAML 1.1 scalars too.
    let sexagesimal = body.contains(':')
        && body
            .split(':')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    let date = s.len() >= 8
        && s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && s.as_bytes().get(4) == Some(&b'-')
        && s[5..]
            .split(['-', 'T', 't', ' ', ':', '.', 'Z', '+'])
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    numeric && !body.contains(char::is_whitespace) || sexagesimal || date
}

fn needs_single_quotes(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    let last = s.chars().last().unwrap_or(' ');
    first.is_whitespace()
        || last.is_whitespace()
        || "#-@`!%&*?:|>'\"{}[],".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || last == ':'
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{feff}' => out.push_str("\\ufeff"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(json: &str) -> String {
        let value = Value::from_json(json).expect("json");
        match marshal(&[value]) {
            Ok(Value::String(s)) => s.to_string(),
            other => panic!("unexpected {other:?}"),
        }
    }

    // Expected texts confirmed with `opa eval 'yaml.marshal(...)'` (OPA 1.22.2).
    #[test]
    fn writes_as_opa() {
        assert_eq!(
            yaml(
                r#"{"a":[{"b":1,"c":[1,2]}],"d":"","e":"1.0","f":"null","g":"a: b","h":"multi\nline\n","j":"~"}"#
            ),
            "a:\n  - b: 1\n    c:\n      - 1\n      - 2\nd: \"\"\ne: \"1.0\"\nf: \"null\"\ng: 'a: b'\nh: |\n  multi\n  line\nj: \"~\"\n"
        );
        assert_eq!(yaml("[[1,2],[],{}]"), "- - 1\n  - 2\n- []\n- {}\n");
        assert_eq!(yaml(r#""multi\nline""#), "|-\n  multi\n  line\n");
        assert_eq!(
            yaml(r#"{"1":2,"key with space":1,"true":3}"#),
            "\"1\": 2\nkey with space: 1\n\"true\": 3\n"
        );
        assert_eq!(yaml(r#""a\tb""#), "\"a\\tb\"\n");
        assert_eq!(yaml(r#""it's""#), "it's\n");
        assert_eq!(yaml("0.000001"), "1e-06\n");
    }

    #[test]
    fn quotes_what_yaml_would_misread() {
        for text in [
            "on",
            "Yes",
            "y",
            "0x10",
            "1e3",
            "12:30",
            "1_000",
            ".5",
            "+1",
            "2021-01-01",
        ] {
            assert_eq!(scalar_string(text), format!("\"{text}\""), "{text}");
        }
        for text in [
            "  lead", "#c", "- a", "a #b", "@x", "!tag", "?", ":", "-", "null ",
        ] {
            assert!(scalar_string(text).starts_with('\''), "{text}");
        }
        assert_eq!(scalar_string("é"), "é");
    }
}
