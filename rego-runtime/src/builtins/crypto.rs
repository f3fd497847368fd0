//! Digests and HMACs over strings (`crypto.md5`, `crypto.hmac.sha256`, ...), hex encoded as
//! OPA returns them. Certificates and keys live in `x509.rs`.

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::args::{self, BuiltinError};
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("crypto.md5", 1, digest::<Md5>),
    builtin("crypto.sha1", 1, digest::<Sha1>),
    builtin("crypto.sha256", 1, digest::<Sha256>),
    builtin("crypto.hmac.md5", 2, hmac::<Hmac<Md5>>),
    builtin("crypto.hmac.sha1", 2, hmac::<Hmac<Sha1>>),
    builtin("crypto.hmac.sha256", 2, hmac::<Hmac<Sha256>>),
    builtin("crypto.hmac.sha512", 2, hmac::<Hmac<Sha512>>),
    builtin("crypto.hmac.equal", 2, hmac_equal),
];

/// Lower-case hex, as Go's `%x` of a byte slice.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest<D: Digest>(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    Ok(Value::string(hex(&D::digest(text.as_bytes()))))
}

fn hmac<M: Mac + KeyInit>(args: &[Value]) -> Result<Value, BuiltinError> {
    let message = args::string(args, 0)?;
    let key = args::string(args, 1)?;
    let mut mac = <M as KeyInit>::new_from_slice(key.as_bytes())
        .map_err(|e| BuiltinError::failed(e.to_string()))?;
    mac.update(message.as_bytes());
    Ok(Value::string(hex(&mac.finalize().into_bytes())))
}

/// Compares two MACs without leaking where they differ (OPA uses `hmac.Equal`).
fn hmac_equal(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = args::string(args, 0)?.as_bytes();
    let b = args::string(args, 1)?.as_bytes();
    let same_length = a.len() == b.len();
    let difference = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    Ok(Value::Bool(same_length && difference == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: &[&str]) -> String {
        let args: Vec<Value> = args.iter().map(Value::string).collect();
        let builtin = BUILTINS.iter().find(|b| b.name == name).expect("builtin");
        let super::super::Implementation::Operands(eval) = builtin.eval else {
            panic!("{name} reads only its operands")
        };
        eval(&args).expect("value").to_json()
    }

    // Expected digests confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn digests_and_macs_match_opa() {
        assert_eq!(
            run("crypto.md5", &["hello"]),
            r#""5d41402abc4b2a76b9719d911017c592""#
        );
        assert_eq!(
            run("crypto.sha1", &["hello"]),
            r#""aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d""#
        );
        assert_eq!(
            run("crypto.sha256", &["hello"]),
            r#""2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824""#
        );
        assert_eq!(
            run("crypto.hmac.sha256", &["hello", "key"]),
            r#""9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b""#
        );
        assert_eq!(run("crypto.hmac.equal", &["ab", "ab"]), "true");
        assert_eq!(run("crypto.hmac.equal", &["ab", "abc"]), "false");
    }

    #[test]
    fn rejects_non_strings() {
        let error = digest::<Md5>(&[Value::int(1)]).expect_err("type error");
        assert_eq!(error.to_string(), "operand 1 must be string but got number");
    }
}
