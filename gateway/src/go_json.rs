//! JSON written byte for byte the way Go's `encoding/json` writes it, since OPA and Gatekeeper
//! clients may compare bodies: `<`, `>`, `&`, U+2028 and U+2029 escaped, two-space indentation
//! when pretty, and the trailing newline of `json.Encoder`.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter, PrettyFormatter};

/// Serializes `value` as Go's `json.Encoder` does, newline included.
pub fn to_vec<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let written = if pretty {
        let formatter = GoEscapes(PrettyFormatter::with_indent(b"  "));
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))
    } else {
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out,
            GoEscapes(CompactFormatter),
        ))
    };
    if written.is_err() {
        // Every type serialized here is plain data; a failure would be a bug, not user input.
        out.clear();
        out.extend_from_slice(b"null");
    }
    out.push(b'\n');
    out
}

/// The message Go's `encoding/json` gives for any decode error of `input` into `go_type`
/// (e.g. `types.DataRequestV1`): a type mismatch reads `json: cannot unmarshal ...`.
pub fn decode_error_message(error: &serde_json::Error, input: &[u8], go_type: &str) -> String {
    if error.classify() != serde_json::error::Category::Data {
        return syntax_error_message(error, input);
    }
    let kind = match input.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "bool",
        Some(b'{') => "object",
        _ => "number",
    };
    format!("json: cannot unmarshal {kind} into Go value of type {go_type}")
}

/// The message Go's `encoding/json` gives for the syntax error serde found in `input`, so that
/// error bodies read as OPA's do (`invalid character 'x' looking for beginning of value`).
pub fn syntax_error_message(error: &serde_json::Error, input: &[u8]) -> String {
    use serde_json::error::Category;
    if error.classify() == Category::Eof {
        return "unexpected EOF".to_string();
    }
    let text = error.to_string();
    let reason = text.split(" at line ").next().unwrap_or(&text);
    if reason == "expected ident" {
        return literal_error(input, error.line(), error.column());
    }
    let Some(found) = char_at(input, error.line(), error.column()) else {
        return "unexpected EOF".to_string();
    };
    let quoted = quote_char(found);
    let context = match reason {
        "key must be a string" => "looking for beginning of object key string",
        "expected `:`" => "after object key",
        "expected `,` or `]`" => "after array element",
        "expected `,` or `}`" => "after object key:value pair",
        "trailing characters" => "after top-level value",
        "invalid escape" => "in string escape code",
        "trailing comma" if found == '}' => "looking for beginning of object key string",
        reason if reason.starts_with("control character") => "in string literal",
        _ => "looking for beginning of value",
    };
    format!("invalid character {quoted} {context}")
}

/// Go's message for a misspelled `true`, `false` or `null`: the first wrong character and the
/// one the literal needed there.
fn literal_error(input: &[u8], line: usize, column: usize) -> String {
    let text = String::from_utf8_lossy(input);
    let Some(line_text) = line.checked_sub(1).and_then(|l| text.split('\n').nth(l)) else {
        return "unexpected EOF".to_string();
    };
    let end = column.min(line_text.len());
    let start = line_text[..end]
        .rfind(|c: char| !c.is_ascii_alphabetic())
        .map_or(0, |i| i + 1);
    let word: Vec<char> = line_text[start..].chars().collect();
    let literal = match word.first() {
        Some('t') => "true",
        Some('f') => "false",
        _ => "null",
    };
    for (i, expected) in literal.chars().enumerate() {
        match word.get(i) {
            Some(c) if *c == expected => {}
            Some(c) => {
                return format!(
                    "invalid character {} in literal {literal} (expecting {})",
                    quote_char(*c),
                    quote_char(expected)
                );
            }
            None => return "unexpected EOF".to_string(),
        }
    }
    "unexpected EOF".to_string()
}

/// The character at serde's 1-based line and column (a byte offset within the line).
fn char_at(input: &[u8], line: usize, column: usize) -> Option<char> {
    let text = String::from_utf8_lossy(input);
    let line_text = text.split('\n').nth(line.checked_sub(1)?)?;
    let index = column.checked_sub(1)?;
    line_text.get(index..)?.chars().next()
}

/// Go's `quoteChar`: `'x'`, with `'\''` and escapes for unprintable characters.
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        c if c.is_control() => {
            let escaped = serde_json::to_string(&c.to_string()).unwrap_or_default();
            format!("'{}'", escaped.trim_matches('"'))
        }
        c => format!("'{c}'"),
    }
}

/// Wraps a formatter to add Go's HTML-safe escapes.
struct GoEscapes<F>(F);

impl<F: Formatter> Formatter for GoEscapes<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Most text has nothing Go escapes beyond JSON: one byte scan, then a single write.
        // (0xE2 leads U+2028 and U+2029 in UTF-8.)
        if !fragment
            .bytes()
            .any(|b| matches!(b, b'<' | b'>' | b'&' | 0xE2))
        {
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escape.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // Go writes control characters other than \n, \r, \t as \u00XX, never \b or \f.
        // Written without allocating: a message with many quotes escapes each one.
        let text: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::Backspace => b"\\u0008",
            CharEscape::FormFeed => b"\\u000c",
            CharEscape::AsciiControl(byte) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let escaped = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0xf)],
                ];
                return writer.write_all(&escaped);
            }
            _ => b"",
        };
        writer.write_all(text)
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        let text = String::from_utf8(to_vec(&"<a&b>\u{8}", false)).expect("utf8");
        assert_eq!(text, "\"\\u003ca\\u0026b\\u003e\\u0008\"\n");
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_characters_like_go() {
        // Go's encodeState.string: \" \\ \n \r \t by name, every other control as \u00xx.
        let text = String::from_utf8(to_vec(&"\"\\\n\r\t\u{c}\u{1}\u{1f}", false)).expect("utf8");
        assert_eq!(text, "\"\\\"\\\\\\n\\r\\t\\u000c\\u0001\\u001f\"\n");
    }

    #[test]
    fn escapes_line_separators_only_among_three_byte_characters() {
        let text =
            String::from_utf8(to_vec(&"a\u{2028}b\u{2029}c \u{2013} d", false)).expect("utf8");
        assert_eq!(text, "\"a\\u2028b\\u2029c \u{2013} d\"\n");
        let plain = String::from_utf8(to_vec(&"plain text", false)).expect("utf8");
        assert_eq!(plain, "\"plain text\"\n");
    }

    fn go_message(input: &str) -> String {
        let error = serde_json::from_str::<serde_json::Value>(input).expect_err("invalid");
        syntax_error_message(&error, input.as_bytes())
    }

    #[test]
    fn syntax_errors_read_as_go_writes_them() {
        assert_eq!(
            go_message("{x"),
            "invalid character 'x' looking for beginning of object key string"
        );
        assert_eq!(
            go_message("{\"a\" 1}"),
            "invalid character '1' after object key"
        );
        assert_eq!(
            go_message("[1 2]"),
            "invalid character '2' after array element"
        );
        assert_eq!(
            go_message("{\"a\":1 \"b\"}"),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(go_message("{\"a\": "), "unexpected EOF");
        assert_eq!(
            go_message("nope"),
            "invalid character 'o' in literal null (expecting 'u')"
        );
        assert_eq!(
            go_message("[tx]"),
            "invalid character 'x' in literal true (expecting 'r')"
        );
        assert_eq!(
            go_message("[1,]"),
            "invalid character ']' looking for beginning of value"
        );
        assert_eq!(
            go_message("{} x"),
            "invalid character 'x' after top-level value"
        );
    }

    #[test]
    fn pretty_uses_two_spaces() {
        let value = serde_json::json!({"a": [1], "b": {}});
        let text = String::from_utf8(to_vec(&value, true)).expect("utf8");
        assert_eq!(text, "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}\n");
    }
}
