//! HTTP plumbing every front door shares: bounded (and gzip-aware) body reading, query
//! strings, and response builders. No protocol knowledge lives here.

use std::io::Read;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};
use hyper::{HeaderMap, StatusCode};

/// The response type of every handler.
pub type Response = hyper::Response<Full<Bytes>>;

/// A response with `body` and the JSON content type.
pub fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A response with no body.
pub fn empty(status: StatusCode) -> Response {
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// A plain-text response, as Go's `http.Error` writes it.
pub fn text(status: StatusCode, body: &str) -> Response {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Go's `404 page not found` for paths no route knows.
pub fn not_found_page() -> Response {
    text(StatusCode::NOT_FOUND, "404 page not found\n")
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body too large")]
    TooLarge,
    #[error("could not decompress the body")]
    BadGzip,
    #[error("{0}")]
    Transport(String),
}

/// How much of an oversized body is still read (and dropped) before answering.
const MAX_DISCARD_BYTES: usize = 256 << 10;

/// Limits on request bodies: raw bytes, and bytes after gzip decompression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub max_gzip_bytes: usize,
}

/// Reads the whole body within `limits`, decompressing `Content-Encoding: gzip`.
///
/// # Errors
/// [`BodyError::TooLarge`] past a limit, [`BodyError::BadGzip`] for a broken gzip stream.
pub async fn read_body(
    headers: &HeaderMap,
    mut body: Incoming,
    limits: BodyLimits,
) -> Result<Bytes, BodyError> {
    let mut collected = Vec::new();
    let mut discarded = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Transport(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if discarded > 0 || collected.len() + data.len() > limits.max_bytes {
            // Like Go's server, read a bounded remainder so the client gets the answer
            // instead of a connection reset.
            discarded += data.len();
            if discarded > MAX_DISCARD_BYTES {
                break;
            }
            continue;
        }
        collected.extend_from_slice(&data);
    }
    if discarded > 0 {
        return Err(BodyError::TooLarge);
    }
    let collected = Bytes::from(collected);
    let gzipped = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gzipped {
        return Ok(collected);
    }
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&collected[..])
        .take(limits.max_gzip_bytes as u64 + 1)
        .read_to_end(&mut decoded)
        .map_err(|_| BodyError::BadGzip)?;
    if decoded.len() > limits.max_gzip_bytes {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(decoded))
}

/// True when the request says its body is YAML (OPA accepts any content type naming yaml).
pub fn is_yaml(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("yaml"))
}

/// A decoded query string, repeated keys kept in order.
#[derive(Clone, Debug, Default)]
pub struct Query {
    raw_is_empty: bool,
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `a=1&b&c=x%20y` as Go's `url.Query` does: `+` is a space, and a pair holding
    /// a `;` or a broken `%` escape is dropped (Go no longer splits on `;`).
    pub fn parse(raw: Option<&str>) -> Query {
        let raw = raw.unwrap_or("");
        let pairs = raw
            .split('&')
            .filter(|part| !part.is_empty() && !part.contains(';'))
            .filter_map(|part| {
                let (key, value) = part.split_once('=').unwrap_or((part, ""));
                Some((form_decode(key)?, form_decode(value)?))
            })
            .collect();
        Query {
            raw_is_empty: raw.is_empty(),
            pairs,
        }
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.to_string();
        self.pairs
            .iter()
            .filter(move |(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `name`.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.all(name).last()
    }

    /// OPA's `getBoolParam`: present without a value, or any value equal to `true`
    /// (ignoring case); never true when the query string is empty.
    pub fn flag(&self, name: &str) -> bool {
        if self.raw_is_empty {
            return false;
        }
        let values: Vec<&str> = self.all(name).collect();
        match values.as_slice() {
            [] => false,
            [""] => true,
            many => many.iter().any(|v| v.eq_ignore_ascii_case("true")),
        }
    }
}

/// Go's `url.QueryUnescape`: `None` when a `%` is not followed by two hex digits.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let escapes_ok = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return None;
    }
    let spaced = text.replace('+', " ");
    Some(
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_opa() {
        let query = Query::parse(Some("pretty&metrics=TRUE&provenance=false&x=1"));
        assert!(query.flag("pretty"));
        assert!(query.flag("metrics"));
        assert!(!query.flag("provenance"));
        assert!(!query.flag("explain"));
        assert!(!Query::parse(None).flag("pretty"));
    }

    #[test]
    fn decodes_values() {
        let query = Query::parse(Some("input=%7B%22a%22%3A1%7D&q=x+%3D+1&input=2"));
        assert_eq!(query.last("input"), Some("2"));
        assert_eq!(query.last("q"), Some("x = 1"));
    }

    #[test]
    fn drops_pairs_go_refuses() {
        // Go (since 1.17) refuses `;` as a separator and drops the whole pair.
        let query = Query::parse(Some("q=x%20:=%201;%20y&pretty"));
        assert_eq!(query.last("q"), None);
        assert!(query.flag("pretty"));
        let query = Query::parse(Some("q=%zz&input=%7B%7D&bad%=1"));
        assert_eq!(query.last("q"), None);
        assert_eq!(query.last("input"), Some("{}"));
        assert_eq!(query.all("bad%").count(), 0);
    }
}
