//! `yaml.marshal` written the way OPA's YAML library (go-yaml v3 style) writes it: sequences
//! indented under their key, block literals for multi-line text, and quotes for any string a
//! YAML 1.1 reader would take for something else (`yes`, `on`, `1e3`, `12:30`, dates).
//!
//! `yaml.unmarshal` and `yaml.is_valid` read a stream of documents as OPA does: the first
//! document is the value, and every document must be well formed (regorus rejects streams of
//! several documents and raises its own errors). The YAML parser is the one regorus ships.

use super::args::{self, BuiltinError};
use super::sprintf::Operand;
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "yaml.marshal",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(marshal),
    },
    Builtin {
        name: "yaml.unmarshal",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(unmarshal),
    },
    Builtin {
        name: "yaml.is_valid",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(is_valid),
    },
];

/// True for a line that starts or ends a document (`---`, `...`, alone or before space).
fn marker(line: &str, mark: &str) -> bool {
    line.strip_prefix(mark)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// True for text that holds no node: blank lines, comments and directives.
fn no_content(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line.starts_with('%')
    })
}

/// The documents of a stream with the number of lines before each, split at `---` and `...`
/// lines. Directives and comments before the first `---` belong to the first document.
fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut documents = Vec::new();
    let (mut start, mut start_line, mut offset) = (0, 0, 0);
    let mut explicit = false;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let ends = marker(line, "...");
        if marker(line, "---") || ends {
            let before = &text[start..offset];
            if explicit || !no_content(before) {
                documents.push((start_line, before));
            }
            explicit = !ends;
            // `--- value` keeps its value in the new document.
            start = if ends {
                offset + line.len()
            } else {
                offset + 3
            };
            start_line = number;
        }
        offset += line.len();
    }
    let rest = &text[start..];
    if explicit || !no_content(rest) || documents.is_empty() {
        documents.push((start_line, rest));
    }
    documents
}

/// regorus's YAML error as go-yaml words it: `yaml: line 2: found character that cannot
/// start any token`.
fn go_error(message: &str, lines_before: usize) -> String {
    let message = message.trim_start_matches("Failed to parse YAML: ");
    let Some((problem, place)) = message.split_once(" at line ") else {
        return format!("yaml: {message}");
    };
    let line: usize = place
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    // go-yaml counts scanner errors from 1 and parser errors from the line before.
    let line = if message.contains("while scanning") {
        line
    } else {
        line.saturating_sub(1).max(1)
    };
    format!("yaml: line {}: {problem}", line + lines_before)
}

/// Every document parsed; the first one's value.
fn read(text: &str) -> Result<Value, String> {
    let mut first = None;
    for (lines_before, document) in documents(text) {
        let parsed = regorus::Value::from_yaml_str(document)
            .map_err(|e| go_error(&e.to_string(), lines_before))?;
        if first.is_none() {
            let json = parsed.to_json_str().map_err(|e| e.to_string())?;
            first = Some(Value::from_json(&json).map_err(|e| e.to_string())?);
        }
    }
    Ok(first.unwrap_or(Value::Null))
}

fn unmarshal(args: &[Value]) -> Result<Value, BuiltinError> {
    read(args::string(args, 0)?).map_err(BuiltinError::failed)
}

/// Anything but a string is simply not valid YAML text.
fn is_valid(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::Bool(
        args::any(args, 0)?
            .as_str()
            .is_some_and(|text| read(text).is_ok()),
    ))
}

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

#[cfg(test)]
mod reading_tests {
    use super::*;

    fn run(text: &str) -> Result<String, String> {
        read(text).map(|v| v.to_json())
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn reads_the_first_document() {
        assert_eq!(run("a: 1\n---\nb: 2"), Ok(r#"{"a":1}"#.into()));
        assert_eq!(run("---\na: 1\n---\nb: 2"), Ok(r#"{"a":1}"#.into()));
        assert_eq!(run("a: 1\n...\n"), Ok(r#"{"a":1}"#.into()));
        assert_eq!(run("a: 1\n---x: 2\n"), Ok(r#"{"---x":2,"a":1}"#.into()));
        assert_eq!(run("a: |\n  ---\n  b"), Ok(r#"{"a":"---\nb"}"#.into()));
        assert_eq!(run(""), Ok("null".into()));
        assert_eq!(run("---\n"), Ok("null".into()));
        assert_eq!(
            run("- 1\n- x: yes\n  w: 0x10\n  v: ~"),
            Ok(r#"[1,{"v":null,"w":16,"x":"yes"}]"#.into())
        );
    }

    #[test]
    fn every_document_must_be_well_formed() {
        assert_eq!(
            run("a:\n\tb: 1"),
            Err("yaml: line 2: found character that cannot start any token".into())
        );
        assert_eq!(
            run("a: [1"),
            Err("yaml: line 1: did not find expected ',' or ']'".into())
        );
        assert!(run("a: 1\n---\nb: [").is_err());
        assert_eq!(
            is_valid(&[Value::string("a: 1\n---\nb: 2")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(is_valid(&[Value::array(vec![])]), Ok(Value::Bool(false)));
    }
}
