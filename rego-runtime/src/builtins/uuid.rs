//! `uuid.parse` as OPA's (Go's `google/uuid`): the four textual forms, version and variant,
//! and for versions 1 and 2 the time, clock sequence and node fields. regorus's version
//! raises its own error for a non-string operand.

use super::args::{self, BuiltinError};
use super::{Builtin, Implementation};
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "uuid.parse",
    arity: 1,
    nondeterministic: false,
    eval: Implementation::Operands(parse),
}];

/// 100-nanosecond intervals between 1582-10-15 (the UUID epoch) and 1970-01-01.
const GREGORIAN_TO_UNIX: i128 = 0x01B2_1DD2_1381_4000;

/// The 16 bytes of the forms Go's `uuid.Parse` accepts: plain, `urn:uuid:`, braced, bare hex.
fn bytes_of(text: &str) -> Option<[u8; 16]> {
    let body = match text.len() {
        36 => text,
        45 if text.get(..9)?.eq_ignore_ascii_case("urn:uuid:") => &text[9..],
        38 if text.starts_with('{') && text.ends_with('}') => &text[1..37],
        32 => {
            let mut out = [0u8; 16];
            for (i, byte) in out.iter_mut().enumerate() {
                *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            return Some(out);
        }
        _ => return None,
    };
    let b = body.as_bytes();
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let mut out = [0u8; 16];
    let starts = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    for (byte, start) in out.iter_mut().zip(starts) {
        *byte = u8::from_str_radix(body.get(start..start + 2)?, 16).ok()?;
    }
    Some(out)
}

fn parse(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    // An unparsable UUID is undefined, not an error, in OPA.
    let u = bytes_of(text).ok_or(BuiltinError::Undefined)?;
    let version = u[6] >> 4;
    let variant = match u[8] {
        b if b & 0x80 == 0 => "Reserved",
        b if b & 0xc0 == 0x80 => "RFC4122",
        b if b & 0xe0 == 0xc0 => "Microsoft",
        _ => "Future",
    };
    let int = |i: i128| Value::Number(Number::Int(i));
    let mut fields = vec![
        ("variant", Value::string(variant)),
        ("version", int(i128::from(version))),
    ];
    if version == 1 || version == 2 {
        let low = u32::from_be_bytes([u[0], u[1], u[2], u[3]]);
        let mid = u16::from_be_bytes([u[4], u[5]]);
        let high = u16::from_be_bytes([u[6], u[7]]) & 0x0fff;
        let ticks = i128::from(high) << 48 | i128::from(mid) << 32 | i128::from(low);
        let node = &u[10..16];
        let clock = i128::from(u16::from_be_bytes([u[8], u[9]]) & 0x3fff);
        let scope = if node[0] & 0x02 == 0 {
            "global"
        } else {
            "local"
        };
        let cast = if node[0] & 0x01 == 0 {
            "unicast"
        } else {
            "multicast"
        };
        fields.push(("time", int((ticks - GREGORIAN_TO_UNIX) * 100)));
        fields.push(("clocksequence", int(clock)));
        fields.push((
            "nodeid",
            Value::string(
                node.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join("-"),
            ),
        ));
        fields.push(("macvariables", Value::string(format!("{scope}:{cast}"))));
        if version == 2 {
            let domain = match u[9] {
                0 => "Person".to_string(),
                1 => "Group".to_string(),
                2 => "Org".to_string(),
                d => format!("Domain{d}"),
            };
            fields.push(("id", int(i128::from(low))));
            fields.push(("domain", Value::string(domain)));
        }
    }
    Ok(Value::object(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<String, String> {
        parse(&[Value::string(text)])
            .map(|v| v.to_json())
            .map_err(|e| e.to_string())
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn parses_as_go() {
        let v1 = r#"{"clocksequence":180,"macvariables":"global:unicast","nodeid":"00-c0-4f-d4-30-c8","time":886630433151182400,"variant":"RFC4122","version":1}"#;
        assert_eq!(run("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), Ok(v1.into()));
        assert_eq!(run("{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}"), Ok(v1.into()));
        assert_eq!(run("6ba7b8109dad11d180b400c04fd430c8"), Ok(v1.into()));
        assert_eq!(
            run("000003e8-9dad-21d1-80b4-03c04fd430c8"),
            Ok(r#"{"clocksequence":180,"domain":"Domain180","id":1000,"macvariables":"local:multicast","nodeid":"03-c0-4f-d4-30-c8","time":886630252535908000,"variant":"RFC4122","version":2}"#.into())
        );
        assert_eq!(
            run("urn:uuid:00000000-0000-4000-8000-000000000000"),
            Ok(r#"{"variant":"RFC4122","version":4}"#.into())
        );
        assert_eq!(
            run("6ba7b810-9dad-31d1-c0b4-00c04fd430c8"),
            Ok(r#"{"variant":"Microsoft","version":3}"#.into())
        );
        assert_eq!(run("not-a-uuid"), Err("undefined".into()));
        assert_eq!(
            run("6ba7b810x9dad-11d1-80b4-00c04fd430c8"),
            Err("undefined".into())
        );
        assert_eq!(
            parse(&[Value::int(1)]).map_err(|e| e.to_string()),
            Err("operand 1 must be string but got number".into())
        );
    }
}
