//! `providers.aws.sign_req`: AWS Signature Version 4 over an `http.send`-style request, signed
//! the way OPA's own signer does it (method, raw query and header values taken as given).

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::args::{self, BuiltinError};
use super::calendar::split_seconds;
use super::crypto::hex;
use super::keys::hmac_sign;
use super::uri::{escaped_path, parse_go_url};
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "providers.aws.sign_req",
    arity: 3,
    nondeterministic: false,
    eval: Implementation::Operands(sign_req),
}];

const REQUIRED_CONFIG: [&str; 4] = [
    "aws_access_key",
    "aws_region",
    "aws_secret_access_key",
    "aws_service",
];

/// `{"a", "b"}`: how OPA lists missing parameters.
fn listed(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    format!("{{{}}}", quoted.join(", "))
}

fn text_member<'a>(object: &'a BTreeMap<Value, Value>, name: &str) -> Option<&'a str> {
    object.get(&Value::string(name)).and_then(Value::as_str)
}

fn sign_req(args: &[Value]) -> Result<Value, BuiltinError> {
    let request = args::object(args, 0)?;
    let config = args::object(args, 1)?;
    let time_ns = args::integer(args, 2)?;

    let missing: Vec<&str> = ["method", "url"]
        .into_iter()
        .filter(|name| text_member(request, name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(BuiltinError::Type(format!(
            "operand 1 missing required request parameters(s): {}",
            listed(&missing)
        )));
    }
    let missing: Vec<&str> = REQUIRED_CONFIG
        .into_iter()
        .filter(|name| text_member(config, name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(BuiltinError::Type(format!(
            "operand 2 missing required AWS config parameters(s): {}",
            listed(&missing)
        )));
    }
    let member = |object, name| text_member(object, name).unwrap_or_default();
    let method = member(request, "method");
    let url_text = member(request, "url");
    let access_key = member(config, "aws_access_key");
    let secret = member(config, "aws_secret_access_key");
    let service = member(config, "aws_service");
    let region = member(config, "aws_region");
    let token = text_member(config, "aws_session_token");
    let unsigned_payload = matches!(
        config.get(&Value::string("disable_payload_signing")),
        Some(Value::Bool(true))
    );

    let url = parse_go_url(url_text).map_err(BuiltinError::failed)?;
    let (date, stamp) = amz_dates(time_ns);
    let payload_hash = if unsigned_payload {
        "UNSIGNED-PAYLOAD".to_string()
    } else {
        let body = match (
            request.get(&Value::string("raw_body")),
            request.get(&Value::string("body")),
        ) {
            (Some(Value::String(raw)), _) => raw.to_string(),
            (_, Some(body)) => body.to_json(),
            _ => String::new(),
        };
        hex(&Sha256::digest(body.as_bytes()))
    };

    let mut headers: BTreeMap<Value, Value> = match request.get(&Value::string("headers")) {
        Some(Value::Object(existing)) => (**existing).clone(),
        _ => BTreeMap::new(),
    };
    let mut add = |name: &str, value: &str| {
        headers.insert(Value::string(name), Value::string(value));
    };
    add("host", &url.host);
    add("x-amz-date", &stamp);
    if service == "s3" {
        add("x-amz-content-sha256", &payload_hash);
    }
    if let Some(token) = token {
        add("x-amz-security-token", token);
    }

    let mut canonical: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &headers {
        if let (Some(name), Some(value)) = (name.as_str(), value.as_str()) {
            canonical.insert(name.to_ascii_lowercase(), value.to_string());
        }
    }
    let signed_headers: Vec<&str> = canonical.keys().map(String::as_str).collect();
    let signed_headers = signed_headers.join(";");
    let header_lines: String = canonical
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let path = match escaped_path(&url) {
        path if path.is_empty() => "/".to_string(),
        path => path,
    };
    let canonical_request = format!(
        "{method}\n{path}\n{}\n{header_lines}\n{signed_headers}\n{payload_hash}",
        url.raw_query
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac_sign(256, format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac_sign(256, &key, part.as_bytes());
    }
    let signature = hex(&hmac_sign(256, &key, string_to_sign.as_bytes()));
    headers.insert(
        Value::string("Authorization"),
        Value::string(format!(
            "AWS4-HMAC-SHA256 Credential={access_key}/{scope},SignedHeaders={signed_headers},Signature={signature}"
        )),
    );

    let mut signed = request.clone();
    signed.insert(Value::string("headers"), Value::Object(Arc::new(headers)));
    Ok(Value::Object(Arc::new(signed)))
}

/// `(YYYYMMDD, YYYYMMDDTHHMMSSZ)` for a time in nanoseconds since the epoch, in UTC.
fn amz_dates(time_ns: i64) -> (String, String) {
    let ((year, month, day), hour, minute, second) =
        split_seconds(time_ns.div_euclid(1_000_000_000));
    let date = format!("{year:04}{month:02}{day:02}");
    let stamp = format!("{date}T{hour:02}{minute:02}{second:02}Z");
    (date, stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{"aws_access_key":"AKIDEXAMPLE","aws_secret_access_key":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","aws_service":"s3","aws_region":"us-east-1"}"#;

    fn authorization(request: &str, config: &str) -> String {
        let request = Value::from_json(request).expect("json");
        let config = Value::from_json(config).expect("json");
        let signed =
            sign_req(&[request, config, Value::int(1_369_353_600_000_000_000)]).expect("signed");
        signed
            .get("headers")
            .and_then(|h| h.get("Authorization"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_default()
    }

    // Signatures confirmed with `opa eval 'providers.aws.sign_req(...)'` (OPA 1.22.2).
    #[test]
    fn signs_as_opa() {
        let auth = authorization(
            r#"{"method":"get","url":"https://examplebucket.s3.amazonaws.com/test.txt?b=2&a=1 x","headers":{"Range":"bytes=0-9","x-custom":"  a   b  "}}"#,
            CONFIG,
        );
        assert!(auth.ends_with(
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-custom,Signature=4ac16e6d0cb130ef7e6380d469187dc847076dfbbafe0a6f9fa9620d93b605f8"
        ));
        let auth = authorization(
            r#"{"method":"POST","url":"https://example.com/p/a b","body":{"a":1}}"#,
            CONFIG,
        );
        assert!(auth.ends_with(
            "Signature=532f93f115c42c3d0c7f700f616144b17ff67720605ef7b5fb85426ede9ad8bc"
        ));
        let api = CONFIG.replace("\"s3\"", "\"execute-api\"");
        let auth = authorization(
            r#"{"method":"GET","url":"https://example.com:8443/x"}"#,
            &api,
        );
        assert!(auth.ends_with(
            "SignedHeaders=host;x-amz-date,Signature=189a69753c0ad03d03b28cff5b64a436f6d4b36380e6e58bd9d4c21915dcd17f"
        ));
    }

    #[test]
    fn reports_missing_parameters() {
        let error = sign_req(&[
            Value::from_json(r#"{"method":"GET"}"#).expect("json"),
            Value::empty_object(),
            Value::int(0),
        ])
        .expect_err("error");
        assert_eq!(
            error.to_string(),
            r#"operand 1 missing required request parameters(s): {"url"}"#
        );
        let error = sign_req(&[
            Value::from_json(r#"{"method":"GET","url":"https://e.com"}"#).expect("json"),
            Value::empty_object(),
            Value::int(0),
        ])
        .expect_err("error");
        assert_eq!(
            error.to_string(),
            r#"operand 2 missing required AWS config parameters(s): {"aws_access_key", "aws_region", "aws_secret_access_key", "aws_service"}"#
        );
    }
}
