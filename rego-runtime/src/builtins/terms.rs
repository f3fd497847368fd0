//! Values written the way OPA prints terms (`[1, "a"]`, `{"k": v}`, `{1, 2}`, `set()`), as
//! `sprintf`'s `%v` and template strings show composite values.

use crate::Value;

/// `value` in Rego term syntax; strings are quoted.
pub(super) fn rego_text(value: &Value) -> String {
    let mut out = String::new();
    write_term(&mut out, value);
    out
}

/// `value` as text: a string as itself, anything else in Rego term syntax.
pub(super) fn plain_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => rego_text(other),
    }
}

fn write_term(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&serde_json::to_string(&**s).unwrap_or_default()),
        Value::Array(items) => {
            out.push('[');
            write_list(out, items.iter());
            out.push(']');
        }
        Value::Set(items) if items.is_empty() => out.push_str("set()"),
        Value::Set(items) => {
            out.push('{');
            write_list(out, items.iter());
            out.push('}');
        }
        Value::Object(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_term(out, key);
                out.push_str(": ");
                write_term(out, value);
            }
            out.push('}');
        }
    }
}

fn write_list<'a>(out: &mut String, items: impl Iterator<Item = &'a Value>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_term(out, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected texts confirmed with `opa eval 'sprintf("%v", [...])'` (OPA 1.22.2).
    #[test]
    fn prints_terms_as_opa() {
        let value = Value::from_json(r#"{"a":[1,"x",null,true,1.5]}"#).expect("json");
        assert_eq!(rego_text(&value), r#"{"a": [1, "x", null, true, 1.5]}"#);
        assert_eq!(rego_text(&Value::set([])), "set()");
        assert_eq!(
            rego_text(&Value::set([Value::int(1), Value::string("b")])),
            r#"{1, "b"}"#
        );
        assert_eq!(plain_text(&Value::string("s")), "s");
    }
}
