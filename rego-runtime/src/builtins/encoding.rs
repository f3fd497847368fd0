//! `base64.*`, `base64url.*` and `hex.*` with Go's decoders and their error wording; decoded
//! bytes become text with invalid UTF-8 replaced, as OPA's strings hold them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};

use super::args::{self, BuiltinError};
use super::asn1;
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("base64.encode", 1, |a| encode_with(a, &STANDARD)),
    builtin("base64.decode", 1, base64_decode),
    builtin("base64.is_valid", 1, base64_is_valid),
    builtin("base64url.encode", 1, |a| encode_with(a, &URL_SAFE)),
    builtin("base64url.encode_no_pad", 1, |a| {
        encode_with(a, &URL_SAFE_NO_PAD)
    }),
    builtin("base64url.decode", 1, base64url_decode),
    builtin("hex.encode", 1, hex_encode),
    builtin("hex.decode", 1, hex_decode),
];

fn text_of(bytes: &[u8]) -> Value {
    Value::string(String::from_utf8_lossy(bytes))
}

fn encode_with(args: &[Value], engine: &impl Engine) -> Result<Value, BuiltinError> {
    Ok(Value::string(engine.encode(args::string(args, 0)?)))
}

fn base64_decode(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    asn1::decode_base64_std(text)
        .map(|bytes| text_of(&bytes))
        .map_err(BuiltinError::failed)
}

fn base64_is_valid(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    Ok(Value::Bool(STANDARD.decode(text).is_ok()))
}

/// Padding is optional: OPA pads unpadded input (RFC 7515 appendix C) and then decodes
/// strictly with the URL alphabet, so `+` and `/` are illegal.
fn base64url_decode(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let mut padded = text.to_string();
    if !text.ends_with('=') {
        match text.len() % 4 {
            2 => padded.push_str("=="),
            3 => padded.push('='),
            1 => {
                return Err(BuiltinError::failed(format!(
                    "illegal base64url string: {text}"
                )));
            }
            _ => {}
        }
    }
    asn1::decode_base64_url_padded(&padded)
        .map(|bytes| text_of(&bytes))
        .map_err(BuiltinError::failed)
}

fn hex_encode(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::string(super::crypto::hex(
        args::string(args, 0)?.as_bytes(),
    )))
}

/// Go's `hex.DecodeString`, with its messages.
fn hex_decode(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let digit = |c: char| -> Result<u8, BuiltinError> {
        c.to_digit(16).map(|d| d as u8).ok_or_else(|| {
            BuiltinError::failed(format!(
                "encoding/hex: invalid byte: U+{:04X} {}",
                c as u32,
                quote_rune(c)
            ))
        })
    };
    let chars: Vec<char> = text.chars().collect();
    let mut bytes = Vec::with_capacity(chars.len() / 2);
    for pair in chars.chunks(2) {
        let high = digit(pair[0])?;
        let Some(&low) = pair.get(1) else {
            return Err(BuiltinError::failed("encoding/hex: odd length hex string"));
        };
        bytes.push(high << 4 | digit(low)?);
    }
    Ok(text_of(&bytes))
}

/// Go's `%q` of a rune for the ASCII characters hex errors show.
fn quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '\\' => "'\\\\'".to_string(),
        c if c.is_control() => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&[Value]) -> Result<Value, BuiltinError>, text: &str) -> Result<String, String> {
        f(&[Value::string(text)])
            .map(|v| v.to_json())
            .map_err(|e| e.to_string())
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn decodes_as_go() {
        assert_eq!(run(base64_decode, "aGVsbG8="), Ok(r#""hello""#.into()));
        assert_eq!(
            run(base64_decode, "aGVsbG8"),
            Err("illegal base64 data at input byte 4".into())
        );
        assert_eq!(
            run(base64_decode, "!!"),
            Err("illegal base64 data at input byte 0".into())
        );
        assert_eq!(run(base64_is_valid, "aGVsbG8"), Ok("false".into()));
        assert_eq!(run(base64url_decode, "aGVsbG8"), Ok(r#""hello""#.into()));
        assert_eq!(run(base64url_decode, "aGVsbG8="), Ok(r#""hello""#.into()));
        assert_eq!(
            run(base64url_decode, "a"),
            Err("illegal base64url string: a".into())
        );
        assert_eq!(
            run(base64url_decode, "a+b/"),
            Err("illegal base64 data at input byte 1".into())
        );
        assert_eq!(run(base64url_decode, "YQ"), Ok(r#""a""#.into()));
        assert_eq!(
            run(hex_decode, "6"),
            Err("encoding/hex: odd length hex string".into())
        );
        assert_eq!(
            run(hex_decode, "zz"),
            Err("encoding/hex: invalid byte: U+007A 'z'".into())
        );
        assert_eq!(run(hex_decode, "ABCD"), Ok("\"\u{FFFD}\u{FFFD}\"".into()));
        assert_eq!(run(hex_encode, "é"), Ok(r#""c3a9""#.into()));
    }
}
