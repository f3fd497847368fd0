//! `http.send`: the request checked as OPA checks it (`topdown/http.go`), then sent by the
//! host's client, if the host gave one, to the hosts it allows. One answer per request for
//! the whole query, as OPA keeps it. Without a client (the default) a valid request is
//! undefined, as the Rego engine has always answered; Gatekeeper refuses the builtin anyway.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::args::{self, BuiltinError};
use super::terms::rego_text;
use super::{Builtin, EvalContext, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "http.send",
    arity: 1,
    nondeterministic: true,
    eval: Implementation::Context(send),
}];

/// Sends requests for `http.send`: the host's transport.
pub trait HttpClient: Send + Sync {
    /// Sends `request`, OPA's request object (already checked: `method` and `url` are there,
    /// no unknown key), and answers OPA's response object (`status_code`, `status`,
    /// `headers`, `body`, `raw_body`), or why nothing came back (a network failure).
    fn send(&self, request: &Value) -> Result<Value, String>;
}

/// What `http.send` may do, when the host allows it at all.
#[derive(Clone)]
pub struct HttpSend {
    /// The hosts requests may go to (OPA's `allow_net` capability); `None` allows any.
    pub allow_net: Option<Vec<String>>,
    pub client: Arc<dyn HttpClient>,
}

impl fmt::Debug for HttpSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSend")
            .field("allow_net", &self.allow_net)
            .finish_non_exhaustive()
    }
}

/// The keys a request may have (OPA's `allowedKeyNames`).
const ALLOWED_KEYS: [&str; 28] = [
    "method",
    "url",
    "body",
    "enable_redirect",
    "force_json_decode",
    "force_yaml_decode",
    "headers",
    "raw_body",
    "tls_use_system_certs",
    "tls_ca_cert",
    "tls_ca_cert_file",
    "tls_ca_cert_env_variable",
    "tls_client_cert",
    "tls_client_cert_file",
    "tls_client_cert_env_variable",
    "tls_client_key",
    "tls_client_key_file",
    "tls_client_key_env_variable",
    "tls_insecure_skip_verify",
    "tls_server_name",
    "timeout",
    "cache",
    "force_cache",
    "force_cache_duration_seconds",
    "raise_error",
    "caching_mode",
    "max_retry_attempts",
    "cache_ignored_headers",
];

/// The keys a request must have (OPA's `requiredKeys`).
const REQUIRED_KEYS: [&str; 2] = ["method", "url"];

/// The `code` of a failure answered as a value (`raise_error: false`): the transport failed.
const NETWORK_ERROR: &str = "eval_http_send_network_error";
/// The `code` of any other failure answered as a value.
const INTERNAL_ERROR: &str = "eval_http_send_internal_error";

fn send(context: &mut EvalContext<'_>, args: &[Value]) -> Result<Value, BuiltinError> {
    let request = args::object(args, 0)?;
    let raise_error = match request.get(&Value::string("raise_error")) {
        None => true,
        Some(Value::Bool(raise)) => *raise,
        Some(_) => return Err(BuiltinError::failed("invalid value for raise_error field")),
    };
    if let Err(error) = check_keys(request) {
        return answer(Err((INTERNAL_ERROR, error)), raise_error);
    }
    let Some(http) = context.host().http_send() else {
        return Err(BuiltinError::Undefined);
    };
    let key = cache_key(request)?;
    context.remembered("http.send", key, |_| {
        let outcome = allowed(http, request).and_then(|()| {
            http.client
                .send(&args[0])
                .map_err(|failure| (NETWORK_ERROR, BuiltinError::failed(failure)))
        });
        answer(outcome, raise_error)
    })
}

/// The response, or the failure raised (`raise_error`, the default) or answered as OPA's
/// value `{"status_code": 0, "error": {"code", "message"}}`.
fn answer(
    outcome: Result<Value, (&'static str, BuiltinError)>,
    raise_error: bool,
) -> Result<Value, BuiltinError> {
    match outcome {
        Ok(response) => Ok(response),
        Err((_, error)) if raise_error => Err(error),
        Err((code, error)) => {
            let error = error.named("http.send");
            // OPA's message also starts with the call's location, which a builtin does not know.
            let message = format!("{}: {}", error.code(), error.message());
            Ok(Value::object([
                ("status_code", Value::int(0)),
                (
                    "error",
                    Value::object([
                        ("code", Value::string(code)),
                        ("message", Value::string(message)),
                    ]),
                ),
            ]))
        }
    }
}

/// OPA's `validateHTTPRequestOperand`: no unknown key, every required one.
fn check_keys(request: &BTreeMap<Value, Value>) -> Result<(), BuiltinError> {
    let listed = |keys: Vec<&Value>| rego_text(&Value::set(keys.into_iter().cloned()));
    let invalid: Vec<&Value> = request
        .keys()
        .filter(|key| !key.as_str().is_some_and(|k| ALLOWED_KEYS.contains(&k)))
        .collect();
    if !invalid.is_empty() {
        return Err(BuiltinError::Type(format!(
            "operand 1 invalid request parameters(s): {}",
            listed(invalid)
        )));
    }
    let required: Vec<Value> = REQUIRED_KEYS.iter().map(Value::string).collect();
    let missing: Vec<&Value> = required
        .iter()
        .filter(|key| !request.contains_key(key))
        .collect();
    if !missing.is_empty() {
        return Err(BuiltinError::Type(format!(
            "operand 1 missing required request parameters(s): {}",
            listed(missing)
        )));
    }
    Ok(())
}

/// OPA's `getKeyFromRequest`: the request with `cache_ignored_headers` set to null and the
/// headers it names left out, so requests differing only there share an answer.
fn cache_key(request: &BTreeMap<Value, Value>) -> Result<Value, BuiltinError> {
    let mut key = request.clone();
    let ignored_key = Value::string("cache_ignored_headers");
    let headers_key = Value::string("headers");
    if let (Some(ignored), Some(headers)) = (request.get(&ignored_key), request.get(&headers_key)) {
        let ignored = match ignored.as_array() {
            Some(names) if names.iter().all(|n| n.as_str().is_some()) => names,
            _ => {
                return Err(BuiltinError::failed(
                    "cache_ignored_headers must be an array of strings",
                ));
            }
        };
        let kept = headers
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(name, _)| !ignored.contains(name))
            .map(|(name, value)| (name.clone(), value.clone()));
        key.insert(headers_key, Value::Object(Arc::new(kept.collect())));
    }
    key.insert(ignored_key, Value::Null);
    Ok(Value::Object(Arc::new(key)))
}

/// The URL a string (as OPA's `createHTTPRequest` wants it), and with `allow_net` its host
/// (before any `:`) listed (OPA's `verifyURLHost`).
fn allowed(
    http: &HttpSend,
    request: &BTreeMap<Value, Value>,
) -> Result<(), (&'static str, BuiltinError)> {
    let failed = |message: String| (INTERNAL_ERROR, BuiltinError::failed(message));
    let Some(url) = request.get(&Value::string("url")).and_then(Value::as_str) else {
        return Err(failed(r#""url" must be a string"#.to_string()));
    };
    let Some(allow_net) = &http.allow_net else {
        return Ok(());
    };
    let host = url_host(url);
    if allow_net.iter().any(|allowed| allowed == host) {
        Ok(())
    } else {
        Err(failed(format!("disallowed host: {host}")))
    }
}

/// The host of a URL as Go's `url.Parse(...).Host` cut at its first `:`.
fn url_host(url: &str) -> &str {
    let Some((_, rest)) = url.split_once("://") else {
        return "";
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    host.split(':').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::builtins::{EvalState, Host, run_json};

    /// Answers every request with its URL, counting the requests it was given.
    #[derive(Default)]
    struct Echo {
        sent: Mutex<Vec<String>>,
    }

    impl HttpClient for Echo {
        fn send(&self, request: &Value) -> Result<Value, String> {
            let url = request.get("url").and_then(Value::as_str).unwrap_or("");
            self.sent.lock().expect("lock").push(url.to_string());
            if url.contains("down") {
                return Err(format!("Get {url:?}: connection refused"));
            }
            Ok(Value::object([
                ("status_code", Value::int(200)),
                ("body", Value::string(url)),
            ]))
        }
    }

    fn call(host: &Host, state: &mut EvalState, request: &str) -> Result<String, BuiltinError> {
        let request = Value::from_json(request).expect("json");
        send(&mut EvalContext::new(host, state), &[request]).map(|v| v.to_json())
    }

    // Messages confirmed with `opa eval --strict-builtin-errors` (OPA 1.22.2).
    #[test]
    fn checks_the_request_as_opa() {
        assert_eq!(
            run_json("http.send", r#"[{"method": "get"}]"#),
            Err(r#"operand 1 missing required request parameters(s): {"url"}"#.into())
        );
        assert_eq!(
            run_json(
                "http.send",
                r#"[{"method": "get", "url": "u", "foo": 1, "bar": 2}]"#
            ),
            Err(r#"operand 1 invalid request parameters(s): {"bar", "foo"}"#.into())
        );
        assert_eq!(
            run_json(
                "http.send",
                r#"[{"method": "get", "url": "u", "raise_error": 1}]"#
            ),
            Err("invalid value for raise_error field".into())
        );
        assert_eq!(
            run_json("http.send", r#"["http://x"]"#),
            Err("operand 1 must be object but got string".into())
        );
        // Confirmed with `opa eval 'x := http.send({"method": "get", "raise_error": false})'`,
        // whose message also starts with the expression's location.
        assert_eq!(
            run_json("http.send", r#"[{"method": "get", "raise_error": false}]"#),
            Ok(concat!(
                r#"{"error":{"code":"eval_http_send_internal_error","message":"#,
                r#""eval_type_error: http.send: operand 1 missing required request "#,
                r#"parameters(s): {\"url\"}"},"status_code":0}"#
            )
            .into())
        );
    }

    #[test]
    fn without_a_client_a_request_is_undefined() {
        let mut state = EvalState::default();
        assert_eq!(
            call(
                &Host::default(),
                &mut state,
                r#"{"method": "get", "url": "http://a"}"#
            ),
            Err(BuiltinError::Undefined)
        );
    }

    #[test]
    fn sends_once_per_request_and_query_to_allowed_hosts() {
        let echo = Arc::new(Echo::default());
        let host = Host::default().with_http_send(HttpSend {
            allow_net: Some(vec!["a.com".into(), "down.com".into()]),
            client: echo.clone(),
        });
        let mut state = EvalState::default();
        let request = r#"{"method": "get", "url": "http://a.com:8080/x"}"#;
        let response = r#"{"body":"http://a.com:8080/x","status_code":200}"#;
        assert_eq!(call(&host, &mut state, request), Ok(response.into()));
        assert_eq!(call(&host, &mut state, request), Ok(response.into()));
        // Headers named in cache_ignored_headers do not make another request.
        let with_headers = |id: &str| {
            format!(
                r#"{{"method": "get", "url": "http://a.com/h", "headers": {{"id": "{id}"}}, "cache_ignored_headers": ["id"]}}"#
            )
        };
        assert!(call(&host, &mut state, &with_headers("1")).is_ok());
        assert!(call(&host, &mut state, &with_headers("2")).is_ok());
        assert_eq!(
            *echo.sent.lock().expect("lock"),
            ["http://a.com:8080/x", "http://a.com/h"]
        );
        // The next query asks again.
        assert!(call(&host, &mut EvalState::default(), request).is_ok());
        assert_eq!(echo.sent.lock().expect("lock").len(), 3);

        assert_eq!(
            call(
                &host,
                &mut state,
                r#"{"method": "get", "url": "http://b.com:80/x"}"#
            ),
            Err(BuiltinError::failed("disallowed host: b.com"))
        );
        assert_eq!(
            call(
                &host,
                &mut state,
                r#"{"method": "get", "url": "http://down.com/", "raise_error": false}"#
            ),
            Ok(concat!(
                r#"{"error":{"code":"eval_http_send_network_error","message":"#,
                r#""eval_builtin_error: http.send: Get \"http://down.com/\": connection refused"},"#,
                r#""status_code":0}"#
            )
            .into())
        );
    }

    #[test]
    fn url_hosts_as_go() {
        assert_eq!(
            url_host("https://user:pw@example.com:8443/p?q#f"),
            "example.com"
        );
        assert_eq!(url_host("http://example.com"), "example.com");
        assert_eq!(url_host("example.com/x"), "");
    }
}
