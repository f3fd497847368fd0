//! String builtins with Go's string semantics (runes for indexes, `strings.*` for the rest),
//! including `internal.template_string`, which OPA's `$"..."` interpolation compiles to.

use std::collections::BTreeSet;

use super::args::{self, BuiltinError, wrong_type};
use super::terms::{plain_text, rego_text};
use super::{Builtin, builtin};
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("concat", 2, concat),
    builtin("contains", 2, contains),
    builtin("endswith", 2, endswith),
    builtin("startswith", 2, startswith),
    builtin("format_int", 2, format_int),
    builtin("indexof", 2, indexof),
    builtin("indexof_n", 2, indexof_n),
    builtin("lower", 1, lower),
    builtin("upper", 1, upper),
    builtin("replace", 3, replace),
    builtin("split", 2, split),
    builtin("substring", 3, substring),
    builtin("trim", 2, trim),
    builtin("trim_left", 2, trim_left),
    builtin("trim_right", 2, trim_right),
    builtin("trim_prefix", 2, trim_prefix),
    builtin("trim_suffix", 2, trim_suffix),
    builtin("trim_space", 1, trim_space),
    builtin("strings.any_prefix_match", 2, any_prefix_match),
    builtin("strings.any_suffix_match", 2, any_suffix_match),
    builtin("strings.count", 2, count),
    builtin("strings.replace_n", 2, replace_n),
    builtin("strings.reverse", 1, reverse),
    builtin("strings.split_n", 3, split_n),
    builtin("internal.template_string", 1, template_string),
];

fn string_value(s: impl AsRef<str>) -> Result<Value, BuiltinError> {
    Ok(Value::string(s))
}

fn concat(args: &[Value]) -> Result<Value, BuiltinError> {
    let delimiter = args::string(args, 0)?;
    let parts: Vec<&str> = match &args[1] {
        Value::Array(items) => strings_of(items.iter(), 1, "array")?,
        Value::Set(items) => strings_of(items.iter(), 1, "set")?,
        other => return Err(wrong_type(1, "one of {set, array}", other)),
    };
    string_value(parts.join(delimiter))
}

/// The strings of a collection, or OPA's "array of strings but got array containing number".
fn strings_of<'a>(
    items: impl Iterator<Item = &'a Value>,
    position: usize,
    kind: &str,
) -> Result<Vec<&'a str>, BuiltinError> {
    items
        .map(|item| {
            item.as_str().ok_or_else(|| {
                BuiltinError::Type(format!(
                    "operand {} must be {kind} of strings but got {kind} containing {}",
                    position + 1,
                    item.type_name()
                ))
            })
        })
        .collect()
}

fn contains(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, sub) = (args::string(args, 0)?, args::string(args, 1)?);
    Ok(Value::Bool(s.contains(sub)))
}

fn endswith(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, suffix) = (args::string(args, 0)?, args::string(args, 1)?);
    Ok(Value::Bool(s.ends_with(suffix)))
}

fn startswith(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, prefix) = (args::string(args, 0)?, args::string(args, 1)?);
    Ok(Value::Bool(s.starts_with(prefix)))
}

fn format_int(args: &[Value]) -> Result<Value, BuiltinError> {
    let number = args::number(args, 0)?;
    let base = args::number(args, 1)?;
    let base = match base.as_i64() {
        Some(b @ (2 | 8 | 10 | 16)) => b as u32,
        _ => {
            return Err(BuiltinError::Type(
                "operand 2 must be one of {2, 8, 10, 16}".to_string(),
            ));
        }
    };
    // OPA truncates a fraction toward zero before formatting.
    let digits = match number {
        Number::Int(i) => to_base_i128(*i, base),
        Number::Big(text) => big_to_base(text, base),
        Number::Float(f) if f.is_finite() && f.abs() < 1.7e38 => {
            to_base_i128(f.trunc() as i128, base)
        }
        Number::Float(f) if f.is_finite() => big_to_base(&format!("{:.0}", f.trunc()), base),
        Number::Float(_) => return Err(BuiltinError::failed("operand 1 must be a finite number")),
    };
    string_value(digits)
}

fn to_base_i128(n: i128, base: u32) -> String {
    let magnitude = n.unsigned_abs();
    let digits = match base {
        2 => format!("{magnitude:b}"),
        8 => format!("{magnitude:o}"),
        16 => format!("{magnitude:x}"),
        _ => magnitude.to_string(),
    };
    if n < 0 { format!("-{digits}") } else { digits }
}

fn big_to_base(text: &str, base: u32) -> String {
    let (negative, digits) = text.strip_prefix('-').map_or((false, text), |d| (true, d));
    let mut decimal: Vec<u32> = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .collect();
    if base == 10 {
        return text.to_string();
    }
    let mut out = Vec::new();
    while decimal.iter().any(|&d| d != 0) {
        let mut remainder = 0;
        for digit in decimal.iter_mut() {
            let current = remainder * 10 + *digit;
            *digit = current / base;
            remainder = current % base;
        }
        out.push(char::from_digit(remainder, base).unwrap_or('0'));
    }
    if out.is_empty() {
        out.push('0');
    }
    if negative {
        out.push('-');
    }
    out.iter().rev().collect()
}

/// Rune index of every match of `needle` in `haystack`, overlapping ones included.
fn rune_matches(haystack: &str, needle: &str) -> Vec<i64> {
    let mut found = Vec::new();
    for (rune_index, (byte_index, _)) in haystack.char_indices().enumerate() {
        if haystack[byte_index..].starts_with(needle) {
            found.push(rune_index as i64);
        }
    }
    found
}

fn indexof(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, needle) = (args::string(args, 0)?, args::string(args, 1)?);
    if needle.is_empty() {
        return Err(BuiltinError::failed("empty search character"));
    }
    let index = s
        .find(needle)
        .map_or(-1, |byte| s[..byte].chars().count() as i64);
    Ok(Value::int(index))
}

fn indexof_n(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, needle) = (args::string(args, 0)?, args::string(args, 1)?);
    if needle.is_empty() {
        return Err(BuiltinError::failed("empty search character"));
    }
    Ok(Value::array(
        rune_matches(s, needle)
            .into_iter()
            .map(Value::int)
            .collect(),
    ))
}

/// Go's `unicode.ToLower` per rune: the simple mapping, never a longer string.
fn lower(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = args::string(args, 0)?;
    if s.is_ascii() {
        return string_value(s.to_ascii_lowercase());
    }
    string_value(
        s.chars()
            .map(|c| c.to_lowercase().next().unwrap_or(c))
            .collect::<String>(),
    )
}

/// Go's `unicode.ToUpper` per rune: a rune whose upper case is several runes (`ß`) stays.
fn upper(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = args::string(args, 0)?;
    if s.is_ascii() {
        return string_value(s.to_ascii_uppercase());
    }
    string_value(
        s.chars()
            .map(|c| {
                let mut upper = c.to_uppercase();
                match (upper.next(), upper.next()) {
                    (Some(single), None) => single,
                    _ => c,
                }
            })
            .collect::<String>(),
    )
}

fn replace(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = args::string(args, 0)?;
    let old = args::string(args, 1)?;
    let new = args::string(args, 2)?;
    string_value(replace_all(s, old, new))
}

/// Go's `strings.ReplaceAll`: an empty `old` matches before every rune and at the end.
fn replace_all(s: &str, old: &str, new: &str) -> String {
    if !old.is_empty() {
        return s.replace(old, new);
    }
    let mut out = String::with_capacity(s.len() + new.len() * (s.len() + 1));
    out.push_str(new);
    for c in s.chars() {
        out.push(c);
        out.push_str(new);
    }
    out
}

/// Go's `strings.Split`: an empty separator splits into runes.
fn go_split<'a>(s: &'a str, separator: &str) -> Vec<&'a str> {
    if separator.is_empty() {
        return s
            .char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect();
    }
    s.split(separator).collect()
}

fn split(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, separator) = (args::string(args, 0)?, args::string(args, 1)?);
    Ok(Value::array(
        go_split(s, separator)
            .into_iter()
            .map(Value::string)
            .collect(),
    ))
}

/// OPA's `strings.split_n` keeps the first `n` parts of the full split, or the last `-n`.
fn split_n(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, separator) = (args::string(args, 0)?, args::string(args, 1)?);
    let n = args::integer(args, 2)?;
    let parts = go_split(s, separator);
    let kept: &[&str] = if n >= 0 {
        &parts[..parts.len().min(n as usize)]
    } else {
        &parts[parts.len().saturating_sub(n.unsigned_abs() as usize)..]
    };
    Ok(Value::array(kept.iter().map(Value::string).collect()))
}

fn substring(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = args::string(args, 0)?;
    let start = args::integer(args, 1)?;
    let length = args::integer(args, 2)?;
    if start < 0 {
        return Err(BuiltinError::failed("negative offset"));
    }
    let runes = s.chars().skip(start as usize);
    let text: String = if length < 0 {
        runes.collect()
    } else {
        runes.take(length as usize).collect()
    };
    string_value(text)
}

fn trim(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, cutset) = (args::string(args, 0)?, args::string(args, 1)?);
    string_value(s.trim_matches(|c| cutset.contains(c)))
}

fn trim_left(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, cutset) = (args::string(args, 0)?, args::string(args, 1)?);
    string_value(s.trim_start_matches(|c| cutset.contains(c)))
}

fn trim_right(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, cutset) = (args::string(args, 0)?, args::string(args, 1)?);
    string_value(s.trim_end_matches(|c| cutset.contains(c)))
}

fn trim_prefix(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, prefix) = (args::string(args, 0)?, args::string(args, 1)?);
    string_value(s.strip_prefix(prefix).unwrap_or(s))
}

fn trim_suffix(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, suffix) = (args::string(args, 0)?, args::string(args, 1)?);
    string_value(s.strip_suffix(suffix).unwrap_or(s))
}

/// Go's `strings.TrimSpace` (`unicode.IsSpace`).
fn trim_space(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = args::string(args, 0)?;
    string_value(s.trim_matches(is_go_space))
}

fn is_go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || (c as u32 > 0xff && c.is_whitespace())
}

/// A string, or every string of an array or set, for the `any_*_match` builtins.
fn string_or_strings(args: &[Value], position: usize) -> Result<Vec<&str>, BuiltinError> {
    match &args[position] {
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) => strings_of(items.iter(), position, "array"),
        Value::Set(items) => strings_of(items.iter(), position, "set"),
        other => Err(wrong_type(position, "one of {string, set, array}", other)),
    }
}

fn any_prefix_match(args: &[Value]) -> Result<Value, BuiltinError> {
    let search = string_or_strings(args, 0)?;
    let bases = string_or_strings(args, 1)?;
    Ok(Value::Bool(
        search
            .iter()
            .any(|s| bases.iter().any(|base| s.starts_with(base))),
    ))
}

fn any_suffix_match(args: &[Value]) -> Result<Value, BuiltinError> {
    let search = string_or_strings(args, 0)?;
    let bases = string_or_strings(args, 1)?;
    Ok(Value::Bool(
        search
            .iter()
            .any(|s| bases.iter().any(|base| s.ends_with(base))),
    ))
}

/// Go's `strings.Count`: non-overlapping matches; an empty needle counts runes plus one.
fn count(args: &[Value]) -> Result<Value, BuiltinError> {
    let (s, needle) = (args::string(args, 0)?, args::string(args, 1)?);
    let n = if needle.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(needle).count()
    };
    Ok(Value::int(n as i64))
}

/// Go's `strings.NewReplacer` over the pattern object in key order: at each position the
/// first key that matches wins, replaced text is not scanned again.
fn replace_n(args: &[Value]) -> Result<Value, BuiltinError> {
    let patterns = args::object(args, 0)?;
    let s = args::string(args, 1)?;
    let mut pairs = Vec::with_capacity(patterns.len());
    for (key, value) in patterns {
        match (key.as_str(), value.as_str()) {
            (Some(old), Some(new)) => pairs.push((old, new)),
            _ => {
                return Err(BuiltinError::Type(
                    "operand 1 non-string value found in pattern object".to_string(),
                ));
            }
        }
    }
    string_value(replace_pairs(s, &pairs))
}

fn replace_pairs(s: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // Go's replacer does not match the empty pattern twice in a row at one position.
    let mut previous_was_empty = false;
    loop {
        let matched = pairs
            .iter()
            .find(|(old, _)| rest.starts_with(old) && !(old.is_empty() && previous_was_empty));
        if let Some((old, new)) = matched {
            out.push_str(new);
            rest = &rest[old.len()..];
            previous_was_empty = old.is_empty();
            continue;
        }
        previous_was_empty = false;
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn reverse(args: &[Value]) -> Result<Value, BuiltinError> {
    let s = args::string(args, 0)?;
    string_value(s.chars().rev().collect::<String>())
}

/// The parts of a `$"..."` string: literal strings, and for each `{expr}` the set of its
/// values (empty when undefined, which OPA prints as `<undefined>`).
fn template_string(args: &[Value]) -> Result<Value, BuiltinError> {
    let parts = args::array(args, 0)?;
    let mut out = String::new();
    for part in parts {
        match part {
            Value::Set(values) => out.push_str(&interpolated(values)?),
            other => out.push_str(&plain_text(other)),
        }
    }
    string_value(out)
}

fn interpolated(values: &BTreeSet<Value>) -> Result<String, BuiltinError> {
    let mut values = values.iter();
    match (values.next(), values.next()) {
        (None, _) => Ok("<undefined>".to_string()),
        (Some(Value::String(s)), None) => Ok(s.to_string()),
        (Some(value), None) => Ok(rego_text(value)),
        // OPA reports this as a conflict; the table has no conflict kind, so it is a failure.
        (Some(_), Some(_)) => Err(BuiltinError::failed(
            "template-strings must not produce multiple outputs",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(
        f: fn(&[Value]) -> Result<Value, BuiltinError>,
        args: &str,
    ) -> Result<Value, BuiltinError> {
        match Value::from_json(args).expect("json") {
            Value::Array(items) => f(&items),
            _ => panic!("arguments must be a JSON array"),
        }
    }

    fn ok(f: fn(&[Value]) -> Result<Value, BuiltinError>, args: &str) -> String {
        call(f, args).expect("success").to_json()
    }

    fn err(f: fn(&[Value]) -> Result<Value, BuiltinError>, args: &str) -> BuiltinError {
        call(f, args).expect_err("an error")
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn indexes_count_runes() {
        assert_eq!(ok(indexof, r#"["日本語","語"]"#), "2");
        assert_eq!(ok(indexof_n, r#"["aaa","aa"]"#), "[0,1]");
        assert_eq!(
            err(indexof, r#"["abc",""]"#),
            BuiltinError::failed("empty search character")
        );
        assert_eq!(ok(substring, r#"["abcdef",1,-1]"#), r#""bcdef""#);
        assert_eq!(ok(substring, r#"["abcdef",10,3]"#), r#""""#);
        assert_eq!(
            err(substring, r#"["abc",-1,3]"#),
            BuiltinError::failed("negative offset")
        );
        assert_eq!(
            err(substring, r#"["abc",1.5,1]"#),
            BuiltinError::Type(
                "operand 2 must be integer number but got floating-point number".into()
            )
        );
    }

    #[test]
    fn splits_and_replaces_as_go() {
        assert_eq!(ok(split_n, r#"["a,b,c",",",2]"#), r#"["a","b"]"#);
        assert_eq!(ok(split_n, r#"["a,b,c,d",",",-2]"#), r#"["c","d"]"#);
        assert_eq!(ok(split_n, r#"["a,b,c",",",0]"#), "[]");
        assert_eq!(ok(count, r#"["five",""]"#), "5");
        assert_eq!(ok(count, r#"["aaa","aa"]"#), "1");
        assert_eq!(ok(replace_n, r#"[{"a":"b","b":"c"},"ab"]"#), r#""bc""#);
        assert_eq!(ok(replace_n, r#"[{"":"x"},"ab"]"#), r#""xaxbx""#);
        assert_eq!(ok(replace_n, r#"[{"a":"1","ab":"2"},"abab"]"#), r#""1b1b""#);
        assert_eq!(
            err(replace_n, r#"[{"a":1},"ab"]"#),
            BuiltinError::Type("operand 1 non-string value found in pattern object".into())
        );
        assert_eq!(ok(replace, r#"["ab","","-"]"#), r#""-a-b-""#);
    }

    #[test]
    fn formats_integers_and_cases() {
        assert_eq!(ok(format_int, "[-10.7,10]"), r#""-10""#);
        let big = Value::Number(Number::Big("12345678901234567890123".into()));
        assert_eq!(
            format_int(&[big, Value::int(16)]).map(|v| v.to_json()),
            Ok(r#""29d42b64e76714244cb""#.to_string())
        );
        assert_eq!(
            err(format_int, "[10,3]"),
            BuiltinError::Type("operand 2 must be one of {2, 8, 10, 16}".into())
        );
        assert_eq!(ok(upper, r#"["ǅ straße"]"#), r#""Ǆ STRAßE""#);
        assert_eq!(ok(lower, r#"["ǅ İ"]"#), r#""ǆ i""#);
    }

    #[test]
    fn checks_collections() {
        assert_eq!(
            err(concat, r#"[",",[1]]"#),
            BuiltinError::Type(
                "operand 2 must be array of strings but got array containing number".into()
            )
        );
        assert_eq!(
            err(concat, r#"[",",1]"#),
            BuiltinError::Type("operand 2 must be one of {set, array} but got number".into())
        );
        assert_eq!(ok(any_prefix_match, r#"[["abc","x"],"x"]"#), "true");
        assert_eq!(
            err(any_prefix_match, r#"[1,"a"]"#),
            BuiltinError::Type(
                "operand 1 must be one of {string, set, array} but got number".into()
            )
        );
    }

    #[test]
    fn interpolates_template_strings() {
        let parts = Value::array(vec![
            Value::string("a"),
            Value::set([Value::int(1)]),
            Value::set([Value::string("s")]),
            Value::set([Value::from_json(r#"[1,"a"]"#).expect("json")]),
            Value::set([]),
            Value::int(2),
        ]);
        assert_eq!(
            template_string(&[parts]).expect("text").to_json(),
            r#""a1s[1, \"a\"]<undefined>2""#
        );
        let two = Value::array(vec![Value::set([Value::int(1), Value::int(2)])]);
        assert!(template_string(&[two]).is_err());
    }
}
