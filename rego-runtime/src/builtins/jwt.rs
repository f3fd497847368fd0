//! `io.jwt.*`: decoding, signature checks with HMAC secrets, PEM certificates, PEM public keys
//! and JWK (sets), `decode_verify` with OPA's constraints object, and JWS signing.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Builtin;
use super::args::{self, BuiltinError};
use super::asn1::{self, base64_url};
use super::crypto::hex;
use super::keys::{self, Algorithm, PublicKey};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("io.jwt.decode", 1, decode, false),
    builtin("io.jwt.decode_verify", 2, decode_verify, true),
    builtin("io.jwt.encode_sign", 3, encode_sign, true),
    builtin("io.jwt.encode_sign_raw", 3, encode_sign_raw, true),
    builtin(
        "io.jwt.verify_rs256",
        2,
        |a| verify_with_key(a, Algorithm::Rs256),
        false,
    ),
    builtin(
        "io.jwt.verify_rs384",
        2,
        |a| verify_with_key(a, Algorithm::Rs384),
        false,
    ),
    builtin(
        "io.jwt.verify_rs512",
        2,
        |a| verify_with_key(a, Algorithm::Rs512),
        false,
    ),
    builtin(
        "io.jwt.verify_ps256",
        2,
        |a| verify_with_key(a, Algorithm::Ps256),
        false,
    ),
    builtin(
        "io.jwt.verify_ps384",
        2,
        |a| verify_with_key(a, Algorithm::Ps384),
        false,
    ),
    builtin(
        "io.jwt.verify_ps512",
        2,
        |a| verify_with_key(a, Algorithm::Ps512),
        false,
    ),
    builtin(
        "io.jwt.verify_es256",
        2,
        |a| verify_with_key(a, Algorithm::Es256),
        false,
    ),
    builtin(
        "io.jwt.verify_es384",
        2,
        |a| verify_with_key(a, Algorithm::Es384),
        false,
    ),
    builtin(
        "io.jwt.verify_es512",
        2,
        |a| verify_with_key(a, Algorithm::Es512),
        false,
    ),
    builtin(
        "io.jwt.verify_eddsa",
        2,
        |a| verify_with_key(a, Algorithm::EdDsa),
        false,
    ),
    builtin(
        "io.jwt.verify_hs256",
        2,
        |a| verify_with_secret(a, 256),
        false,
    ),
    builtin(
        "io.jwt.verify_hs384",
        2,
        |a| verify_with_secret(a, 384),
        false,
    ),
    builtin(
        "io.jwt.verify_hs512",
        2,
        |a| verify_with_secret(a, 512),
        false,
    ),
];

const fn builtin(
    name: &'static str,
    arity: u8,
    eval: fn(&[Value]) -> Result<Value, BuiltinError>,
    nondeterministic: bool,
) -> Builtin {
    Builtin {
        nondeterministic,
        ..super::builtin(name, arity, eval)
    }
}

/// A compact JWS split into its parts.
struct Token<'a> {
    header_b64: &'a str,
    payload_b64: &'a str,
    signature: Vec<u8>,
    header: Value,
    payload: Value,
}

impl<'a> Token<'a> {
    fn parse(text: &'a str) -> Result<Token<'a>, BuiltinError> {
        let parts: Vec<&str> = text.split('.').collect();
        if parts.len() == 1 {
            return Err(BuiltinError::failed("encoded JWT had no period separators"));
        }
        if parts.len() != 3 {
            return Err(BuiltinError::failed(format!(
                "encoded JWT must have 3 sections, found {}",
                parts.len()
            )));
        }
        let header = segment_json(parts[0], "header")?;
        let payload = segment_json(parts[1], "payload")?;
        let signature = asn1::decode_base64_url(parts[2]).map_err(|e| {
            BuiltinError::failed(format!("JWT signature had invalid encoding: {e}"))
        })?;
        Ok(Token {
            header_b64: parts[0],
            payload_b64: parts[1],
            signature,
            header,
            payload,
        })
    }

    fn signed_part(&self) -> String {
        format!("{}.{}", self.header_b64, self.payload_b64)
    }

    fn algorithm(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }
}

fn segment_json(segment: &str, what: &str) -> Result<Value, BuiltinError> {
    let bytes = asn1::decode_base64_url(segment).map_err(|_| {
        BuiltinError::failed(format!(
            "JWT {what} had invalid encoding: illegal base64url string: {segment}"
        ))
    })?;
    // OPA's wording: "bad JWT header: invalid JSON: ..." and "invalid JSON: ..." for payloads.
    let prefix = if what == "header" {
        "bad JWT header: "
    } else {
        ""
    };
    let value = Value::from_json(&String::from_utf8_lossy(&bytes))
        .map_err(|e| BuiltinError::failed(format!("{prefix}invalid JSON: {e}")))?;
    if value.as_object().is_none() {
        return Err(BuiltinError::failed(format!(
            "{prefix}invalid JSON: not an object"
        )));
    }
    Ok(value)
}

fn decode(args: &[Value]) -> Result<Value, BuiltinError> {
    let token = Token::parse(args::string(args, 0)?)?;
    Ok(Value::array(vec![
        token.header,
        token.payload,
        Value::string(hex(&token.signature)),
    ]))
}

/// The token operand of a `verify_*` call, checked in OPA's order: the token is a string
/// with periods before the key's type is looked at, and parsed after.
fn token_then_key(args: &[Value]) -> Result<(Token<'_>, &str), BuiltinError> {
    let text = args::string(args, 0)?;
    if !text.contains('.') {
        return Err(BuiltinError::failed("encoded JWT had no period separators"));
    }
    let key = args::string(args, 1)?;
    Ok((Token::parse(text)?, key))
}

fn verify_with_secret(args: &[Value], bits: u16) -> Result<Value, BuiltinError> {
    let (token, secret) = token_then_key(args)?;
    let expected = keys::hmac_sign(bits, secret.as_bytes(), token.signed_part().as_bytes());
    Ok(Value::Bool(constant_time_eq(&expected, &token.signature)))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn verify_with_key(args: &[Value], algorithm: Algorithm) -> Result<Value, BuiltinError> {
    let (token, key) = token_then_key(args)?;
    let keys = public_keys(key)?;
    let message = token.signed_part();
    Ok(Value::Bool(keys.iter().any(|key| {
        key.verify(algorithm, message.as_bytes(), &token.signature)
    })))
}

/// Keys from a PEM certificate or public key, or from a JWK or JWK set in JSON.
fn public_keys(text: &str) -> Result<Vec<PublicKey>, BuiltinError> {
    if text.starts_with("-----BEGIN") {
        let keys = keys::public_keys_from_pem(text);
        if keys.is_empty() {
            return Err(BuiltinError::failed(
                "failed to extract a Key from the PEM certificate",
            ));
        }
        return Ok(keys);
    }
    let jwk = Value::from_json(text)
        .map_err(|e| BuiltinError::failed(format!("failed to parse a JWK key (set): {e}")))?;
    let members: Vec<&Value> = match jwk.get("keys").and_then(Value::as_array) {
        Some(set) => set.iter().collect(),
        None => vec![&jwk],
    };
    members
        .into_iter()
        // Symmetric keys in a set cannot verify an asymmetric signature; they are skipped.
        .filter(|k| k.get("kty").and_then(Value::as_str) != Some("oct"))
        .map(|k| {
            if k.get("kty").and_then(Value::as_str).is_none_or(str::is_empty) {
                // The wording of OPA's JWK library, which policies' tests sometimes match.
                return Err(BuiltinError::failed(
                    "failed to parse a JWK key (set): jwk.ParseString: failed to parse string: \
                     jwk.Parse: failed to parse sole key: jwk.ParseKey: invalid key type from JSON ()",
                ));
            }
            keys::public_from_jwk(k).map_err(|e| {
                BuiltinError::failed(format!("failed to parse a JWK key (set): {e}"))
            })
        })
        .collect()
}

/// The checks `decode_verify` was asked for.
#[derive(Default)]
struct Constraints {
    keys: Vec<PublicKey>,
    secret: Option<String>,
    algorithm: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
    /// Nanoseconds since the epoch.
    time: f64,
}

fn constraints(
    object: &std::collections::BTreeMap<Value, Value>,
) -> Result<Constraints, BuiltinError> {
    let mut parsed = Constraints {
        time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_nanos() as f64),
        ..Constraints::default()
    };
    let mut has_key = false;
    for (key, value) in object {
        let name = key.as_str().unwrap_or_default();
        let text = || {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| BuiltinError::failed(format!("{name} constraint: must be a string")))
        };
        match name {
            "cert" => {
                if has_key {
                    return Err(BuiltinError::failed("duplicate key constraints"));
                }
                has_key = true;
                parsed.keys = public_keys(&text()?)?;
            }
            "secret" => {
                if has_key {
                    return Err(BuiltinError::failed("duplicate key constraints"));
                }
                has_key = true;
                parsed.secret = Some(text()?);
            }
            "alg" => parsed.algorithm = Some(text()?),
            "iss" => parsed.issuer = Some(text()?),
            "aud" => parsed.audience = Some(text()?),
            "time" => {
                parsed.time = value
                    .as_number()
                    .map(crate::Number::as_f64)
                    .ok_or_else(|| BuiltinError::failed("time constraint: must be a number"))?;
            }
            other => {
                return Err(BuiltinError::failed(format!(
                    "unknown token validation constraint: {other}"
                )));
            }
        }
    }
    if !has_key {
        return Err(BuiltinError::failed("no key constraint"));
    }
    Ok(parsed)
}

fn decode_verify(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let constraints = constraints(args::object(args, 1)?)?;
    let token = Token::parse(text)?;
    let unverified = Value::array(vec![
        Value::Bool(false),
        Value::empty_object(),
        Value::empty_object(),
    ]);
    if !signature_ok(&token, &constraints) || !claims_ok(&token.payload, &constraints) {
        return Ok(unverified);
    }
    Ok(Value::array(vec![
        Value::Bool(true),
        token.header,
        token.payload,
    ]))
}

fn signature_ok(token: &Token<'_>, constraints: &Constraints) -> bool {
    let Some(alg) = token.algorithm() else {
        return false;
    };
    if constraints
        .algorithm
        .as_deref()
        .is_some_and(|wanted| wanted != alg)
    {
        return false;
    }
    let message = token.signed_part();
    if let Some(secret) = &constraints.secret {
        let bits = match alg {
            "HS256" => 256,
            "HS384" => 384,
            "HS512" => 512,
            _ => return false,
        };
        let expected = keys::hmac_sign(bits, secret.as_bytes(), message.as_bytes());
        return constant_time_eq(&expected, &token.signature);
    }
    let Some(algorithm) = Algorithm::from_jws(alg) else {
        return false;
    };
    constraints
        .keys
        .iter()
        .any(|key| key.verify(algorithm, message.as_bytes(), &token.signature))
}

fn claims_ok(payload: &Value, constraints: &Constraints) -> bool {
    let now_seconds = constraints.time / 1e9;
    let number = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_number)
            .map(crate::Number::as_f64)
    };
    if payload.get("exp").is_some() && number("exp").is_none_or(|exp| now_seconds >= exp) {
        return false;
    }
    if payload.get("nbf").is_some() && number("nbf").is_none_or(|nbf| now_seconds < nbf) {
        return false;
    }
    if let Some(issuer) = &constraints.issuer
        && payload.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
    {
        return false;
    }
    match (payload.get("aud"), &constraints.audience) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some(Value::String(aud)), Some(wanted)) => &**aud == wanted.as_str(),
        (Some(Value::Array(auds)), Some(wanted)) => {
            auds.iter().any(|a| a.as_str() == Some(wanted.as_str()))
        }
        (Some(_), Some(_)) => false,
    }
}

/// OPA signs whatever JSON the operands are: their types are only declared (and checked at
/// compile time); a key that is not an object fails as Go's JWK parser does, and a header
/// without a string `alg` fails as a missing algorithm.
fn encode_sign(args: &[Value]) -> Result<Value, BuiltinError> {
    let header = args::any(args, 0)?;
    let payload = args::any(args, 1)?;
    let key = args::any(args, 2)?;
    if key.as_object().is_none() {
        let go_type = match key {
            Value::String(_) => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "bool",
            _ => "array",
        };
        return Err(BuiltinError::failed(format!(
            "jwk.Parse: failed to parse sole key: jwk.ParseKey: jwk.Parse: failed to probe \
             data: probe: failed to unmarshal data: json: cannot unmarshal {go_type} into Go \
             value of type struct {{ Kty string \"json:\\\"kty\\\"\"; D json.RawMessage \
             \"json:\\\"d,omitempty\\\"\" }}"
        )));
    }
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => Some(&**alg),
        Some(other) if key.get("kty").and_then(Value::as_str).is_some() => {
            return Err(BuiltinError::failed(format!(
                "missing or invalid 'alg' header: value doesn't contain string; it contains {}",
                other.type_name()
            )));
        }
        _ => None,
    };
    sign(alg, &go_json(header), &go_json(payload), key)
}

fn encode_sign_raw(args: &[Value]) -> Result<Value, BuiltinError> {
    let header_text = args::string(args, 0)?;
    let payload_text = args::string(args, 1)?;
    let key_text = args::string(args, 2)?;
    let header = parse_header(header_text)?;
    let key = Value::from_json(key_text)
        .map_err(|e| BuiltinError::failed(format!("failed to parse a JWK key (set): {e}")))?;
    // Only a JWT must carry JSON; `typ: text/plain` (RFC 7515 A.1's media types) need not.
    let typ = header.get("typ").and_then(Value::as_str);
    let is_jwt = typ.is_none_or(|t| t.eq_ignore_ascii_case("JWT"));
    if is_jwt && Value::from_json(payload_text).is_err() {
        return Err(BuiltinError::failed("type is JWT but payload is not JSON"));
    }
    let alg = header.get("alg").and_then(Value::as_str);
    sign(alg, header_text, payload_text, &key)
}

/// The protected header of `io.jwt.encode_sign_raw`, failing with OPA's messages: an empty
/// or broken JSON object cannot be parsed, anything else has no `alg`.
fn parse_header(text: &str) -> Result<Value, BuiltinError> {
    const PREFIX: &str = "missing or invalid 'alg' header";
    if text.is_empty() {
        return Err(BuiltinError::failed(format!(
            "{PREFIX}: cannot parse JSON: cannot parse empty string"
        )));
    }
    match Value::from_json(text) {
        Ok(header) if header.as_object().is_some() => Ok(header),
        Err(error) if text.trim_start().starts_with('{') => Err(BuiltinError::failed(format!(
            "{PREFIX}: cannot parse JSON: {error}"
        ))),
        _ => Err(BuiltinError::failed(format!(
            "{PREFIX}: jwsbb: header \"alg\" not found"
        ))),
    }
}

fn sign(
    alg: Option<&str>,
    header: &str,
    payload: &str,
    jwk: &Value,
) -> Result<Value, BuiltinError> {
    let key_type = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    if key_type.is_empty() {
        return Err(BuiltinError::failed(
            "jwk.Parse: failed to parse sole key: jwk.ParseKey: invalid key type from JSON ()",
        ));
    }
    let Some(alg) = alg else {
        return Err(BuiltinError::failed(
            "missing or invalid 'alg' header: jwsbb: header \"alg\" not found",
        ));
    };
    let signing_input = format!(
        "{}.{}",
        base64_url(header.as_bytes()),
        base64_url(payload.as_bytes())
    );
    let signature = match alg {
        "HS256" | "HS384" | "HS512" => {
            let secret = jwk
                .get("k")
                .and_then(Value::as_str)
                .ok_or_else(|| BuiltinError::failed("invalid key for HMAC signing: missing \"k\""))
                .and_then(|k| asn1::decode_base64_url(k).map_err(BuiltinError::failed))?;
            let bits = alg[2..].parse().unwrap_or(256);
            keys::hmac_sign(bits, &secret, signing_input.as_bytes())
        }
        "none" => Vec::new(),
        other => {
            let algorithm = Algorithm::from_jws(other)
                .ok_or_else(|| BuiltinError::failed(format!("unknown JWS algorithm: {other}")))?;
            let key = keys::private_from_jwk(jwk).map_err(|e| {
                BuiltinError::failed(format!("failed to parse a JWK key (set): {e}"))
            })?;
            key.sign(algorithm, signing_input.as_bytes())
                .map_err(BuiltinError::failed)?
        }
    };
    Ok(Value::string(format!(
        "{signing_input}.{}",
        base64_url(&signature)
    )))
}

/// JSON as Go's `json.Marshal` writes it: compact, keys sorted, `<`, `>`, `&` escaped.
fn go_json(value: &Value) -> String {
    value
        .to_json()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    fn strings(items: &[&str]) -> Vec<Value> {
        items.iter().map(Value::string).collect()
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn decodes_and_verifies_hmac() {
        let decoded = decode(&strings(&[TOKEN])).expect("decoded");
        assert_eq!(
            decoded.to_json(),
            r#"[{"alg":"HS256","typ":"JWT"},{"iat":1516239022,"name":"John Doe","sub":"1234567890"},"49f94ac7044948c78a285d904f87f0a4c7897f7e8f3a4eb2255fda750b2cc397"]"#
        );
        let ok = verify_with_secret(&strings(&[TOKEN, "your-256-bit-secret"]), 256);
        assert_eq!(ok, Ok(Value::Bool(true)));
        let bad = verify_with_secret(&strings(&[TOKEN, "x"]), 256);
        assert_eq!(bad, Ok(Value::Bool(false)));
    }

    #[test]
    fn malformed_tokens_fail_as_opa() {
        let message = |t: &str| decode(&strings(&[t])).expect_err("error").to_string();
        assert_eq!(message(""), "encoded JWT had no period separators");
        assert_eq!(message("a.b"), "encoded JWT must have 3 sections, found 2");
        assert_eq!(
            message("a.b.c"),
            "JWT header had invalid encoding: illegal base64url string: a"
        );
    }

    #[test]
    fn signs_as_opa() {
        let header = Value::from_json(r#"{"typ":"JWT","alg":"HS256"}"#).expect("json");
        let payload = Value::from_json(r#"{"iss":"joe","exp":1300819380}"#).expect("json");
        let key = Value::from_json(r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#).expect("json");
        assert_eq!(
            encode_sign(&[header, payload, key])
                .expect("token")
                .as_str(),
            Some(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjEzMDA4MTkzODAsImlzcyI6ImpvZSJ9.bQOaUDe0iw2o6eXFE6Uo4DGrC4D7-lnK4adfhnh7kAk"
            )
        );
    }

    #[test]
    fn operands_fail_in_opas_order() {
        let key_error = |args: Vec<Value>| {
            verify_with_secret(&args, 256)
                .expect_err("error")
                .to_string()
        };
        assert_eq!(
            key_error(vec![Value::string("a"), Value::int(1)]),
            "encoded JWT had no period separators"
        );
        assert_eq!(
            key_error(vec![Value::string("a.b"), Value::int(1)]),
            "operand 2 must be string but got number"
        );
        let sign_error = |json: &str| {
            let Value::Array(args) = Value::from_json(json).expect("json") else {
                panic!("arguments must be an array")
            };
            encode_sign(&args).expect_err("error").to_string()
        };
        let key = r#"{"kty":"oct","k":"c2VjcmV0"}"#;
        assert_eq!(
            sign_error(&format!(r#"["HS256",{{}},{key}]"#)),
            "missing or invalid 'alg' header: jwsbb: header \"alg\" not found"
        );
        assert_eq!(
            sign_error(&format!(r#"[{{"alg":5}},{{}},{key}]"#)),
            "missing or invalid 'alg' header: value doesn't contain string; it contains number"
        );
        assert_eq!(
            sign_error(r#"[{},{},{}]"#),
            "jwk.Parse: failed to parse sole key: jwk.ParseKey: invalid key type from JSON ()"
        );
        assert_eq!(
            sign_error(r#"["x",{},"y"]"#),
            r#"jwk.Parse: failed to parse sole key: jwk.ParseKey: jwk.Parse: failed to probe data: probe: failed to unmarshal data: json: cannot unmarshal string into Go value of type struct { Kty string "json:\"kty\""; D json.RawMessage "json:\"d,omitempty\"" }"#
        );
        let token = encode_sign(&[
            Value::from_json(r#"{"alg":"HS256"}"#).expect("json"),
            Value::string("x"),
            Value::from_json(r#"{"kty":"oct","k":"AAAA"}"#).expect("json"),
        ]);
        assert_eq!(
            token.ok().and_then(|t| t.as_str().map(str::to_string)),
            Some("eyJhbGciOiJIUzI1NiJ9.Ingi.sietruula_FvKH_C6iOenAaTfK-lr5o7H5UcdXavcmg".into())
        );
    }

    #[test]
    fn decode_verify_checks_constraints() {
        let run = |constraints: &str| {
            let c = Value::from_json(constraints).expect("json");
            decode_verify(&[Value::string(TOKEN), c])
        };
        let verified = run(r#"{"secret":"your-256-bit-secret"}"#).expect("result");
        assert_eq!(
            verified.as_array().map(|a| a[0].clone()),
            Some(Value::Bool(true))
        );
        let wrong_alg = run(r#"{"secret":"your-256-bit-secret","alg":"HS512"}"#).expect("result");
        assert_eq!(wrong_alg.to_json(), "[false,{},{}]");
        let audience = run(r#"{"secret":"your-256-bit-secret","aud":"x"}"#).expect("result");
        assert_eq!(audience.to_json(), "[false,{},{}]");
        assert_eq!(
            run("{}").expect_err("error").to_string(),
            "no key constraint"
        );
        assert_eq!(
            run(r#"{"secret":"s","foo":"x"}"#)
                .expect_err("error")
                .to_string(),
            "unknown token validation constraint: foo"
        );
    }
}
