//! `urlquery.*` with Go's `net/url` rules: `QueryEscape`, `QueryUnescape` (which rejects bad
//! `%` escapes that regorus passes through) and `ParseQuery` (which rejects `;`).

use std::collections::BTreeMap;

use super::args::{self, BuiltinError};
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("urlquery.encode", 1, encode),
    builtin("urlquery.decode", 1, decode),
    builtin("urlquery.encode_object", 1, encode_object),
    builtin("urlquery.decode_object", 1, decode_object),
];

/// Go's `url.QueryEscape`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) => out.push(char::from(b)),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.QueryUnescape`.
fn unescape(text: &str) -> Result<String, BuiltinError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                let Some(hex) = hex else {
                    let shown = String::from_utf8_lossy(&bytes[i..(i + 3).min(bytes.len())]);
                    return Err(BuiltinError::failed(format!(
                        "invalid URL escape {}",
                        serde_json::to_string(&shown).unwrap_or_default()
                    )));
                };
                let text = std::str::from_utf8(hex).unwrap_or("00");
                out.push(u8::from_str_radix(text, 16).unwrap_or(0));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn encode(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::string(escape(args::string(args, 0)?)))
}

fn decode(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::string(unescape(args::string(args, 0)?)?))
}

fn encode_object(args: &[Value]) -> Result<Value, BuiltinError> {
    let object = args::object(args, 0)?;
    let bad_value = || {
        BuiltinError::Type(
            "operand 1 values must be string, array[string], or set[string]".to_string(),
        )
    };
    let mut pairs = Vec::new();
    for (key, value) in object {
        let key = key.as_str().ok_or_else(bad_value)?;
        let values: Vec<&Value> = match value {
            Value::String(_) => vec![value],
            Value::Array(items) => items.iter().collect(),
            Value::Set(items) => items.iter().collect(),
            _ => return Err(bad_value()),
        };
        for item in values {
            let item = item.as_str().ok_or_else(bad_value)?;
            pairs.push(format!("{}={}", escape(key), escape(item)));
        }
    }
    Ok(Value::string(pairs.join("&")))
}

/// Go's `url.ParseQuery`: every key maps to the list of its values.
fn decode_object(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let mut object: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for part in text.split('&') {
        if part.contains(';') {
            return Err(BuiltinError::failed("invalid semicolon separator in query"));
        }
        if part.is_empty() {
            continue;
        }
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let key = unescape(key)?;
        let value = unescape(value)?;
        object.entry(key).or_default().push(Value::string(value));
    }
    Ok(Value::object(
        object
            .into_iter()
            .map(|(key, values)| (key, Value::array(values))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn escapes_as_go() {
        assert_eq!(escape("a b+c"), "a+b%2Bc");
        assert_eq!(unescape("a+b%20c"), Ok("a b c".to_string()));
        assert_eq!(
            unescape("%zz").map_err(|e| e.to_string()),
            Err(r#"invalid URL escape "%zz""#.to_string())
        );
        assert_eq!(
            unescape("a%2").map_err(|e| e.to_string()),
            Err(r#"invalid URL escape "%2""#.to_string())
        );
    }

    #[test]
    fn objects_round_trip() {
        let object = Value::from_json(r#"{"b":["x y","z"],"a":"1"}"#).expect("json");
        assert_eq!(
            encode_object(&[object]).map(|v| v.to_json()),
            Ok(r#""a=1&b=x+y&b=z""#.to_string())
        );
        assert_eq!(
            decode_object(&[Value::string("a=1&a=2&b=x+y&c")]).map(|v| v.to_json()),
            Ok(r#"{"a":["1","2"],"b":["x y"],"c":[""]}"#.to_string())
        );
        assert_eq!(
            decode_object(&[Value::string("a=1;b=2")]).map_err(|e| e.to_string()),
            Err("invalid semicolon separator in query".to_string())
        );
    }
}
