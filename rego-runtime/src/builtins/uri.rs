//! `uri.parse` and `uri.is_valid` on a parser that follows Go's `net/url.Parse`, which OPA
//! uses; certificates' URI names (`x509.rs`) reuse it for Go's `url.URL` shape.

use super::args::{self, BuiltinError};
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "uri.parse",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(parse),
    },
    Builtin {
        name: "uri.is_valid",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(is_valid),
    },
];

/// A URL as Go's `url.URL` holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct GoUrl {
    pub scheme: String,
    pub opaque: String,
    /// `Some((user, password))` when the authority had user info.
    pub user: Option<(String, Option<String>)>,
    pub host: String,
    pub path: String,
    pub raw_path: String,
    pub omit_host: bool,
    pub force_query: bool,
    pub raw_query: String,
    pub fragment: String,
    pub raw_fragment: String,
}

impl GoUrl {
    /// Go's `URL.Hostname()`: the host without port or IPv6 brackets.
    pub fn hostname(&self) -> &str {
        let (host, _) = split_host_port(&self.host);
        host
    }

    /// Go's `URL.Port()`.
    pub fn port(&self) -> &str {
        let (_, port) = split_host_port(&self.host);
        port
    }

    /// Go's `url.URL` marshalled to JSON (as x509 `URIs` entries show).
    pub fn to_go_json(&self) -> Value {
        let user = match &self.user {
            None => Value::Null,
            Some(_) => Value::empty_object(),
        };
        Value::object([
            ("ForceQuery", Value::Bool(self.force_query)),
            ("Fragment", Value::string(&self.fragment)),
            ("Host", Value::string(&self.host)),
            ("OmitHost", Value::Bool(self.omit_host)),
            ("Opaque", Value::string(&self.opaque)),
            ("Path", Value::string(&self.path)),
            ("RawFragment", Value::string(&self.raw_fragment)),
            ("RawPath", Value::string(&self.raw_path)),
            ("RawQuery", Value::string(&self.raw_query)),
            ("Scheme", Value::string(&self.scheme)),
            ("User", user),
        ])
    }
}

fn split_host_port(host: &str) -> (&str, &str) {
    if let Some(rest) = host.strip_prefix('[') {
        if let Some(close) = rest.find(']') {
            let port = rest[close + 1..].strip_prefix(':').unwrap_or("");
            return (&rest[..close], port);
        }
        return (host, "");
    }
    match host.rfind(':') {
        Some(colon) => (&host[..colon], &host[colon + 1..]),
        None => (host, ""),
    }
}

fn parse(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let url = parse_go_url(text).map_err(BuiltinError::failed)?;
    let raw_path = if url.raw_path.is_empty() {
        &url.path
    } else {
        &url.raw_path
    };
    let fields = [
        ("scheme", url.scheme.as_str()),
        ("hostname", url.hostname()),
        ("port", url.port()),
        ("path", url.path.as_str()),
        ("raw_path", raw_path.as_str()),
        ("raw_query", url.raw_query.as_str()),
        ("fragment", url.fragment.as_str()),
    ];
    // OPA leaves out every empty part.
    Ok(Value::object(
        fields
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| (key, Value::string(value))),
    ))
}

fn is_valid(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    Ok(Value::Bool(!text.is_empty() && parse_go_url(text).is_ok()))
}

/// Which part of a URL a text comes from; Go escapes and validates each differently.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Path,
    Host,
    Fragment,
    User,
}

/// Parses like Go's `url.Parse`; errors read `parse "<url>": <reason>`.
pub(super) fn parse_go_url(raw: &str) -> Result<GoUrl, String> {
    let fail = |reason: &str| format!("parse {}: {reason}", go_quote(raw));
    let (rest, fragment) = match raw.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (raw, None),
    };
    let mut url = parse_without_fragment(rest).map_err(|reason| fail(&reason))?;
    if let Some(fragment) = fragment {
        url.fragment = unescape(fragment, Part::Fragment).map_err(|reason| fail(&reason))?;
        if escape(&url.fragment, Part::Fragment) != fragment {
            url.raw_fragment = fragment.to_string();
        }
    }
    Ok(url)
}

fn parse_without_fragment(raw: &str) -> Result<GoUrl, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".to_string());
    }
    let mut url = GoUrl::default();
    if raw == "*" {
        url.path = "*".to_string();
        return Ok(url);
    }
    let (scheme, mut rest) = split_scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((before, query)) = rest.split_once('?') {
        url.raw_query = query.to_string();
        rest = before;
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_string();
            return Ok(url);
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".to_string());
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_path = &rest[2..];
        let (authority, path) = match authority_and_path.find('/') {
            Some(slash) => (&authority_and_path[..slash], &authority_and_path[slash..]),
            None => (authority_and_path, ""),
        };
        parse_authority(&mut url, authority)?;
        rest = path;
    } else if !url.scheme.is_empty() && rest.starts_with('/') {
        url.omit_host = true;
    }
    url.path = unescape(rest, Part::Path)?;
    if escape(&url.path, Part::Path) != rest {
        url.raw_path = rest.to_string();
    }
    Ok(url)
}

fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".to_string()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(url: &mut GoUrl, authority: &str) -> Result<(), String> {
    let (user_info, host) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    url.host = parse_host(host)?;
    if let Some(info) = user_info {
        if !info.chars().all(valid_userinfo_char) {
            return Err("net/url: invalid userinfo".to_string());
        }
        url.user = Some(match info.split_once(':') {
            Some((user, password)) => (
                unescape(user, Part::User)?,
                Some(unescape(password, Part::User)?),
            ),
            None => (unescape(info, Part::User)?, None),
        });
    }
    Ok(())
}

fn valid_userinfo_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c)
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(close) = host.rfind(']') else {
            return Err("missing ']' in host".to_string());
        };
        let port = &host[close + 1..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", go_quote(port)));
        }
        return unescape(host, Part::Host);
    }
    if let Some(colon) = host.rfind(':') {
        let port = &host[colon..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", go_quote(port)));
        }
    }
    unescape(host, Part::Host)
}

fn valid_optional_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Go's `url.unescape`: `%XX` sequences decoded, hosts checked for forbidden characters.
fn unescape(text: &str, part: Part) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                let Some(hex) = hex else {
                    let end = (i + 3).min(bytes.len());
                    let shown = String::from_utf8_lossy(&bytes[i..end]);
                    return Err(format!("invalid URL escape {}", go_quote(&shown)));
                };
                let value =
                    u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("00"), 16).unwrap_or(0);
                out.push(value);
                i += 3;
            }
            b if part == Part::Host && b < 0x80 && should_escape_host(b) => {
                return Err(format!(
                    "invalid character {} in host name",
                    go_quote(&char::from(b).to_string())
                ));
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn should_escape_host(b: u8) -> bool {
    !(b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]<>\"".contains(&b))
}

/// Go's `URL.EscapedPath()`: the raw path when it is a valid encoding, else the path escaped.
pub(super) fn escaped_path(url: &GoUrl) -> String {
    let valid = |raw: &str| {
        raw.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:@[]/%".contains(&b))
    };
    if !url.raw_path.is_empty() && valid(&url.raw_path) {
        url.raw_path.clone()
    } else {
        escape(&url.path, Part::Path)
    }
}

/// Go's `url.escape` for a path or fragment, to tell whether the raw form must be kept.
fn escape(text: &str, part: Part) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || b"-_.~".contains(&b)
            || match part {
                Part::Path => b"$&+,/:;=@".contains(&b),
                Part::Fragment => b"$&+,/:;=?@!()*".contains(&b),
                Part::Host | Part::User => false,
            };
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Go's `strconv.Quote` for the ASCII texts URL errors show.
fn go_quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<String, BuiltinError> {
        parse(&[Value::string(text)]).map(|v| v.to_json())
    }

    // Expected values confirmed with `opa eval 'uri.parse(...)'` (OPA 1.22.2).
    #[test]
    fn parses_as_go() {
        assert_eq!(
            parsed("https://user:pw@example.com:8080/p/a%20th?q=1&r=2&q=3#frag").expect("url"),
            r#"{"fragment":"frag","hostname":"example.com","path":"/p/a th","port":"8080","raw_path":"/p/a th","raw_query":"q=1&r=2&q=3","scheme":"https"}"#
        );
        assert_eq!(
            parsed("mailto:a@b.c").expect("url"),
            r#"{"scheme":"mailto"}"#
        );
        assert_eq!(
            parsed("http://h/a%2Fb").expect("url"),
            r#"{"hostname":"h","path":"/a/b","raw_path":"/a%2Fb","scheme":"http"}"#
        );
        assert_eq!(
            parsed("http://[::1]:8/x?a=%20b#f%20g").expect("url"),
            r#"{"fragment":"f g","hostname":"::1","path":"/x","port":"8","raw_path":"/x","raw_query":"a=%20b","scheme":"http"}"#
        );
        assert_eq!(parsed("?").expect("url"), "{}");
    }

    #[test]
    fn fails_as_go() {
        let message = |t: &str| parsed(t).expect_err("error").to_string();
        assert_eq!(message("::"), r#"parse "::": missing protocol scheme"#);
        assert_eq!(
            message("http://h/%zz"),
            r#"parse "http://h/%zz": invalid URL escape "%zz""#
        );
        assert_eq!(
            message("http://a b/"),
            r#"parse "http://a b/": invalid character " " in host name"#
        );
        assert_eq!(
            message("1http://x"),
            r#"parse "1http://x": first path segment in URL cannot contain colon"#
        );
        assert_eq!(
            message("http://h:port/"),
            r#"parse "http://h:port/": invalid port ":port" after host"#
        );
        assert_eq!(
            is_valid(&[Value::string("")]).ok(),
            Some(Value::Bool(false))
        );
        assert_eq!(
            is_valid(&[Value::string("a b")]).ok(),
            Some(Value::Bool(true))
        );
    }
}
