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
    let found = if reason.starts_with("control character") {
        // serde points at the control character or just past it, depending on whether it
        // was keeping the string: take whichever of the two is one.
        control_char_near(input, error.line(), error.column())
    } else {
        char_at(input, error.line(), error.column())
    };
    let Some(found) = found else {
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

/// Go's message for a misspelled `true`, `false` or `null`: the first wrong character (a
/// letter or not) and the one the literal needed there.
fn literal_error(input: &[u8], line: usize, column: usize) -> String {
    let text = String::from_utf8_lossy(input);
    let Some(line_text) = line.checked_sub(1).and_then(|l| text.split('\n').nth(l)) else {
        return "unexpected EOF".to_string();
    };
    // serde points at the wrong character: the literal starts after the last non-letter
    // before it.
    let before = column.saturating_sub(1).min(line_text.len());
    let start = line_text
        .get(..before)
        .and_then(|prefix| prefix.rfind(|c: char| !c.is_ascii_alphabetic()))
        .map_or(0, |i| i + 1);
    let mut word = line_text[start..].chars();
    let literal = match line_text[start..].chars().next() {
        Some('t') => "true",
        Some('f') => "false",
        _ => "null",
    };
    for expected in literal.chars() {
        match word.next() {
            Some(c) if c == expected => {}
            Some(c) => {
                return format!(
                    "invalid character {} in literal {literal} (expecting {})",
                    quote_char(c),
                    quote_char(expected)
                );
            }
            None => return "unexpected EOF".to_string(),
        }
    }
    "unexpected EOF".to_string()
}

/// The character serde's 1-based line and column point at: the one before that position
/// (column 0 is the newline ending the line before, where serde reports a raw newline).
fn char_at(input: &[u8], line: usize, column: usize) -> Option<char> {
    let text = String::from_utf8_lossy(input);
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let index = (line_start + column).checked_sub(1)?;
    text.get(index..)?.chars().next()
}

/// The control character at or just before serde's line and column.
fn control_char_near(input: &[u8], line: usize, column: usize) -> Option<char> {
    let before = char_at(input, line, column);
    let at = char_at(input, line, column + 1);
    [before, at]
        .into_iter()
        .flatten()
        .find(|c| u32::from(*c) < 0x20)
}

/// Go's `quoteChar`: `'x'`, with `'\''` and `strconv.Quote`'s escapes for unprintable
/// characters (`'\x01'`, `'\n'`, `'\u0085'`).
fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        '\u{7}' => "'\\a'".to_string(),
        '\u{8}' => "'\\b'".to_string(),
        '\u{c}' => "'\\f'".to_string(),
        '\n' => "'\\n'".to_string(),
        '\r' => "'\\r'".to_string(),
        '\t' => "'\\t'".to_string(),
        '\u{b}' => "'\\v'".to_string(),
        c if c.is_ascii_control() => format!("'\\x{:02x}'", u32::from(c)),
        c if c.is_control() => format!("'\\u{:04x}'", u32::from(c)),
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
        let message = syntax_error_message(&error, input.as_bytes());
        // serde reports some errors at other places when it only checks a value's syntax.
        let raw = serde_json::from_str::<&serde_json::value::RawValue>(input).expect_err("invalid");
        assert_eq!(
            syntax_error_message(&raw, input.as_bytes()),
            message,
            "{input}"
        );
        message
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
        assert_eq!(
            go_message("{\"a\": tru}"),
            "invalid character '}' in literal true (expecting 'e')"
        );
        assert_eq!(go_message("[fals"), "unexpected EOF");
        assert_eq!(
            go_message("[\"a\u{1}\"]"),
            "invalid character '\\x01' in string literal"
        );
        assert_eq!(
            go_message("[\"a\n\"]"),
            "invalid character '\\n' in string literal"
        );
    }

    #[test]
    fn pretty_uses_two_spaces() {
        let value = serde_json::json!({"a": [1], "b": {}});
        let text = String::from_utf8(to_vec(&value, true)).expect("utf8");
        assert_eq!(text, "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}\n");
    }
}
