//! JSON decoding as OPA's Go code does it, error messages included: `json.unmarshal` reads one
//! value with Go's `encoding/json` stream decoder (`invalid character 'b' looking for beginning
//! of object key string`, `unexpected EOF`, and OPA's own `error: invalid character '2' after
//! top-level value` when more follows), and `json.is_valid` is Go's `json.Valid`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Value;
use crate::value::Number;

/// Nesting deeper than this is refused rather than risk the stack (Go allows 10000).
const MAX_DEPTH: usize = 1000;

/// Why decoding stopped.
#[derive(Debug, PartialEq)]
enum Stop {
    /// Go's scanner error: `invalid character 'x' <context>`.
    Syntax(String),
    /// The input ended inside a value.
    Eof,
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Go's `quoteChar`: a byte as a quoted character, escaped as `strconv.Quote` would.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        b'\\' => "'\\\\'".to_string(),
        b'\x07' => "'\\a'".to_string(),
        b'\x08' => "'\\b'".to_string(),
        b'\x0c' => "'\\f'".to_string(),
        b'\n' => "'\\n'".to_string(),
        b'\r' => "'\\r'".to_string(),
        b'\t' => "'\\t'".to_string(),
        b'\x0b' => "'\\v'".to_string(),
        c if c < 0x20 || c == 0x7f => format!("'\\x{c:02x}'"),
        // Go turns the byte into the rune of the same number; C1 controls are escaped.
        c if (0x80..0xa0).contains(&c) => format!("'\\u{:04x}'", c),
        c => format!("'{}'", char::from(c)),
    }
}

fn invalid(c: u8, context: &str) -> Stop {
    Stop::Syntax(format!("invalid character {} {context}", quote_char(c)))
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.at += 1;
        }
    }

    /// The next byte, where the value cannot end.
    fn next(&mut self) -> Result<u8, Stop> {
        let c = self.peek().ok_or(Stop::Eof)?;
        self.at += 1;
        Ok(c)
    }

    fn value(&mut self, depth: usize) -> Result<Value, Stop> {
        self.skip_space();
        let c = self.peek().ok_or(Stop::Eof)?;
        if depth > MAX_DEPTH {
            return Err(Stop::Syntax("exceeded max depth".to_string()));
        }
        match c {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(|s| Value::String(Arc::from(s))),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            c => Err(invalid(c, "looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, Stop> {
        for expected in word.bytes() {
            let c = self.next()?;
            if c != expected {
                return Err(invalid(
                    c,
                    &format!("in literal {word} (expecting {})", quote_char(expected)),
                ));
            }
        }
        Ok(value)
    }

    fn object(&mut self, depth: usize) -> Result<Value, Stop> {
        self.at += 1;
        let mut entries = BTreeMap::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(Arc::new(entries)));
        }
        loop {
            self.skip_space();
            match self.peek().ok_or(Stop::Eof)? {
                b'"' => {}
                c => return Err(invalid(c, "looking for beginning of object key string")),
            }
            let key = self.string()?;
            self.skip_space();
            match self.next()? {
                b':' => {}
                c => return Err(invalid(c, "after object key")),
            }
            let value = self.value(depth + 1)?;
            // Go's decoder keeps the last of duplicate keys.
            entries.insert(Value::String(Arc::from(key)), value);
            self.skip_space();
            match self.next()? {
                b',' => {}
                b'}' => return Ok(Value::Object(Arc::new(entries))),
                c => return Err(invalid(c, "after object key:value pair")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, Stop> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_space();
            match self.next()? {
                b',' => {}
                b']' => return Ok(Value::array(items)),
                c => return Err(invalid(c, "after array element")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Stop> {
        let mut code = 0;
        for _ in 0..4 {
            let c = self.next()?;
            let digit = char::from(c)
                .to_digit(16)
                .ok_or_else(|| invalid(c, "in \\u hexadecimal character escape"))?;
            code = code * 16 + digit;
        }
        Ok(code)
    }

    /// A string literal; unpaired surrogates become U+FFFD, as Go decodes them.
    fn string(&mut self) -> Result<String, Stop> {
        self.at += 1;
        let mut out = String::new();
        let mut run_start = self.at;
        loop {
            let c = self.next()?;
            match c {
                b'"' => {
                    out.push_str(&String::from_utf8_lossy(
                        &self.bytes[run_start..self.at - 1],
                    ));
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&String::from_utf8_lossy(
                        &self.bytes[run_start..self.at - 1],
                    ));
                    match self.next()? {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let code = self.hex4()?;
                            out.push(self.escaped_char(code)?);
                        }
                        c => return Err(invalid(c, "in string escape code")),
                    }
                    run_start = self.at;
                }
                c if c < 0x20 => return Err(invalid(c, "in string literal")),
                _ => {}
            }
        }
    }

    /// The character of a `\uXXXX` escape, joining a surrogate pair when one follows.
    fn escaped_char(&mut self, code: u32) -> Result<char, Stop> {
        if (0xd800..0xdc00).contains(&code) && self.bytes.get(self.at..self.at + 2) == Some(b"\\u")
        {
            let save = self.at;
            self.at += 2;
            let low = self.hex4()?;
            if (0xdc00..0xe000).contains(&low) {
                let joined = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                return Ok(char::from_u32(joined).unwrap_or('\u{fffd}'));
            }
            self.at = save;
        }
        Ok(char::from_u32(code).unwrap_or('\u{fffd}'))
    }

    /// A number with Go's grammar; the text decides integer or float, as OPA keeps it.
    fn number(&mut self) -> Result<Value, Stop> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            c => return Err(invalid(c, "in numeric literal")),
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.at += 1;
            float = true;
            match self.next()? {
                b'0'..=b'9' => self.digits(),
                c => return Err(invalid(c, "after decimal point in numeric literal")),
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            match self.next()? {
                b'0'..=b'9' => self.digits(),
                c => return Err(invalid(c, "in exponent of numeric literal")),
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or("0");
        Ok(Value::Number(number_of(text, float)))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
    }
}

fn number_of(text: &str, float: bool) -> Number {
    if !float {
        if let Ok(i) = text.parse::<i128>() {
            return Number::Int(i);
        }
        return Number::Big(Arc::from(text));
    }
    Number::Float(text.parse().unwrap_or(f64::NAN))
}

/// What Go's `Decoder.Token` reads after the first value, as OPA prints it with `%s`.
fn token_text(scanner: &mut Scanner<'_>) -> Result<String, Stop> {
    let c = scanner.peek().ok_or(Stop::Eof)?;
    match c {
        b'{' | b'[' => Ok(char::from(c).to_string()),
        b'"' => scanner.string(),
        b'-' | b'0'..=b'9' => {
            let start = scanner.at;
            scanner.number()?;
            Ok(String::from_utf8_lossy(&scanner.bytes[start..scanner.at]).into_owned())
        }
        b't' => scanner
            .literal("true", Value::Null)
            .map(|_| "%!s(bool=true)".to_string()),
        b'f' => scanner
            .literal("false", Value::Null)
            .map(|_| "%!s(bool=false)".to_string()),
        b'n' => scanner
            .literal("null", Value::Null)
            .map(|_| "%!s(<nil>)".to_string()),
        c => Err(invalid(c, "looking for beginning of value")),
    }
}

fn stop_message(stop: Stop) -> String {
    match stop {
        Stop::Syntax(message) => message,
        Stop::Eof => "unexpected EOF".to_string(),
    }
}

/// OPA's `json.unmarshal`: the first value, and an error if anything but space follows.
pub(super) fn unmarshal(text: &str) -> Result<Value, String> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        at: 0,
    };
    scanner.skip_space();
    if scanner.peek().is_none() {
        return Err("EOF".to_string());
    }
    let value = scanner.value(0).map_err(stop_message)?;
    scanner.skip_space();
    if scanner.peek().is_none() {
        return Ok(value);
    }
    match token_text(&mut scanner) {
        Ok(token) => Err(format!(
            "error: invalid character '{token}' after top-level value"
        )),
        Err(stop) => Err(stop_message(stop)),
    }
}

/// Go's `json.Valid`: exactly one value, surrounded by nothing but space.
pub(super) fn valid(text: &str) -> bool {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        at: 0,
    };
    if scanner.value(0).is_err() {
        return false;
    }
    scanner.skip_space();
    scanner.peek().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        unmarshal(text).expect_err("invalid")
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn reads_values_as_go() {
        let value =
            unmarshal(r#" {"a": [1, 2.5, "x\u00e9\ud83d\ude00"], "a2": null} "#).expect("json");
        assert_eq!(value.to_json(), r#"{"a":[1,2.5,"xé😀"],"a2":null}"#);
        assert_eq!(
            unmarshal("12345678901234567890123").map(|v| v.to_json()),
            Ok("12345678901234567890123".into())
        );
    }

    #[test]
    fn fails_with_go_messages() {
        assert_eq!(
            error("{bad"),
            "invalid character 'b' looking for beginning of object key string"
        );
        assert_eq!(error(""), "EOF");
        assert_eq!(error("[1,"), "unexpected EOF");
        assert_eq!(error("[1 2]"), "invalid character '2' after array element");
        assert_eq!(
            error(r#"{"a" 1}"#),
            "invalid character '1' after object key"
        );
        assert_eq!(
            error(r#"{"a":1 "b":2}"#),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(
            error("01"),
            "error: invalid character '1' after top-level value"
        );
        assert_eq!(
            error("1 true"),
            "error: invalid character '%!s(bool=true)' after top-level value"
        );
        assert_eq!(
            error(r#""é" 1.50"#),
            "error: invalid character '1.50' after top-level value"
        );
        assert_eq!(
            error("[1] x"),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(
            error(r#""\x""#),
            "invalid character 'x' in string escape code"
        );
        assert_eq!(
            error(r#""\u12g4""#),
            "invalid character 'g' in \\u hexadecimal character escape"
        );
        assert_eq!(
            error("\"a\tb\""),
            "invalid character '\\t' in string literal"
        );
        assert_eq!(
            error("é"),
            "invalid character 'Ã' looking for beginning of value"
        );
        assert_eq!(
            error("[1]]"),
            "invalid character ']' looking for beginning of value"
        );
    }

    #[test]
    fn validates_as_go() {
        assert!(valid(" [1, {\"a\": null}] "));
        assert!(!valid("1 2"));
        assert!(!valid(""));
        assert!(!valid("{bad"));
    }
}
