//! URL paths to data references and storage paths, as OPA's server turns them.

use rego_runtime::PathSegment;

use super::error::ApiError;

/// A `data` reference from a URL path, with its Rego text for messages.
#[derive(Clone, Debug, PartialEq)]
pub struct DataRef {
    pub segments: Vec<PathSegment>,
    /// `data.a.b`, `data.a["b c"]`, `data.a[0]`: OPA's `Ref.String()`.
    pub display: String,
}

impl DataRef {
    /// OPA's `stringPathToRef`: segments split on `/`, unescaped; a number-like segment is a
    /// number term; a segment with `"` is refused.
    ///
    /// # Errors
    /// OPA's `invalid path` error.
    pub fn parse(escaped: &str) -> Result<DataRef, ApiError> {
        let mut segments = Vec::new();
        for raw in escaped.split('/').filter(|s| !s.is_empty()) {
            let segment = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map_or_else(|_| raw.to_string(), |s| s.into_owned());
            if segment.contains('"') {
                return Err(ApiError::Internal(format!(
                    "invalid_parameter: invalid path: invalid ref term '{segment}'"
                )));
            }
            segments.push(match go_atoi(&segment) {
                Some(index) => PathSegment::Index(index),
                None => PathSegment::Key(segment),
            });
        }
        let display = display(&segments);
        Ok(DataRef { segments, display })
    }
}

/// Go's `strconv.Atoi`: optional sign, ASCII digits only.
fn go_atoi(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn display(segments: &[PathSegment]) -> String {
    let mut text = String::from("data");
    for segment in segments {
        match segment {
            PathSegment::Key(key) if is_var(key) => {
                text.push('.');
                text.push_str(key);
            }
            PathSegment::Key(key) => {
                text.push('[');
                text.push_str(&serde_json::to_string(key).unwrap_or_default());
                text.push(']');
            }
            PathSegment::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

fn is_var(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// OPA's `storage.ParsePathEscaped("/" + trim(path, "/"))`: unescaped segments.
///
/// # Errors
/// `bad path: <path>` when a segment does not unescape.
pub fn storage_path(escaped: &str) -> Result<Vec<String>, ApiError> {
    let trimmed = escaped.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    trimmed
        .split('/')
        .map(|raw| {
            percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ApiError::BadRequest(format!("bad path: {escaped}")))
        })
        .collect()
}

/// True when a rule path equals a URL data reference.
pub fn same_path(rule: &[String], segments: &[PathSegment]) -> bool {
    rule.len() == segments.len()
        && rule.iter().zip(segments).all(|(a, b)| match b {
            PathSegment::Key(key) => a == key,
            PathSegment::Index(_) => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_refs_as_opa() {
        let reference = DataRef::parse("a/b%20c/0/x").expect("ref");
        assert_eq!(reference.display, r#"data.a["b c"][0].x"#);
        assert!(DataRef::parse("a/%22").is_err());
        assert_eq!(DataRef::parse("").expect("root").display, "data");
    }

    #[test]
    fn storage_paths_keep_segments() {
        assert_eq!(storage_path("/a/b%2Fc/").expect("path"), vec!["a", "b/c"]);
        assert!(storage_path("").expect("root").is_empty());
    }
}
