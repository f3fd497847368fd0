//! `uuid.parse` as OPA's (Go's `google/uuid`): the four textual forms, version and variant,
//! and for versions 1 and 2 the time, clock sequence and node fields. regorus's version
//! raises its own error for a non-string operand. `uuid.rfc4122`: a random (version 4) UUID,
//! the same for the same key within one query, as OPA keeps it.

use super::args::{self, BuiltinError};
use super::{Builtin, EvalContext, Implementation};
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "uuid.parse",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(parse),
    },
    Builtin {
        name: "uuid.rfc4122",
        arity: 1,
        nondeterministic: true,
        eval: Implementation::Context(rfc4122),
    },
];

/// `uuid.rfc4122(key)`: OPA keys its cache by the operand's value, whatever its type.
fn rfc4122(context: &mut EvalContext<'_>, args: &[Value]) -> Result<Value, BuiltinError> {
    let key = args.first().cloned().unwrap_or(Value::Null);
    context.remembered("uuid.rfc4122", key, |_| {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(BuiltinError::failed)?;
        Ok(Value::string(version_4(bytes)))
    })
}

/// Random bytes as a version 4, RFC 4122 variant UUID in its hyphenated form.
fn version_4(mut bytes: [u8; 16]) -> String {
    bytes[6] = bytes[6] & 0x0f | 0x40;
    bytes[8] = bytes[8] & 0x3f | 0x80;
    let mut text = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

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
    use crate::builtins::{EvalState, Host};

    #[test]
    fn rfc4122_keeps_one_uuid_per_key_for_the_query() {
        let host = Host::default();
        let mut state = EvalState::default();
        let mut context = EvalContext::new(&host, &mut state);
        let mut uuid = |key: Value| rfc4122(&mut context, &[key]).expect("uuid");
        let first = uuid(Value::string("a"));
        assert_eq!(uuid(Value::string("a")), first);
        assert_ne!(uuid(Value::string("b")), first);
        // Any value is a key, as OPA hashes the operand.
        assert_eq!(uuid(Value::int(1)), uuid(Value::int(1)));
        let text = first.as_str().expect("string").to_string();
        let parsed = parse(&[first]).expect("parses").to_json();
        assert_eq!(parsed, r#"{"variant":"RFC4122","version":4}"#);
        assert_eq!(text.len(), 36);
        let mut next = EvalState::default();
        let again = rfc4122(
            &mut EvalContext::new(&host, &mut next),
            &[Value::string("a")],
        );
        assert_ne!(again.expect("uuid").as_str(), Some(text.as_str()));
    }

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
