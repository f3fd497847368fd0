//! OPA's request documents read the way Go's `encoding/json` reads them, so that every
//! malformed body or parameter is answered with OPA's words: `json.Decoder.Decode` reads the
//! first value and ignores what follows, matches field names without regard to case (the last
//! match wins), skips type mismatches but reports the first, and replaces invalid UTF-8.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::go_json;

/// The JSON kinds Go names in `cannot unmarshal <kind> into ...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

impl Kind {
    /// The kind of a value already known to be valid JSON.
    pub fn of(raw: &RawValue) -> Kind {
        match raw.get().as_bytes().first() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            _ => Kind::Number,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Object => "object",
            Kind::Array => "array",
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Bool => "bool",
            Kind::Null => "null",
        }
    }
}

/// Go's `UnmarshalTypeError` message for a whole value.
fn mismatch(kind: Kind, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go value of type {go_type}",
        kind.name()
    )
}

/// Go's `UnmarshalTypeError` message for a struct field.
fn field_mismatch(kind: Kind, go_struct: &str, field: &str, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field {go_struct}.{field} of type {go_type}",
        kind.name()
    )
}

/// A request body as text: Go's decoder turns invalid UTF-8 into U+FFFD instead of failing.
pub fn text(body: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(body)
}

/// The first JSON value of `text`, as `json.Decoder.Decode` reads it: what follows is left
/// unread, and a text of only whitespace is no value (Go's `EOF`).
///
/// # Errors
/// Go's syntax error message (`invalid character ...`, `unexpected EOF`).
pub fn first_value(text: &str) -> Result<Option<&RawValue>, String> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    match values.next() {
        None => Ok(None),
        Some(Ok(raw)) => Ok(Some(raw)),
        Some(Err(e)) => Err(go_json::syntax_error_message(&e, text.as_bytes())),
    }
}

/// The members of a JSON object in document order, duplicates kept (Go lets the last win).
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// The members of `raw`, a valid JSON object.
fn members(raw: &RawValue) -> Vec<(String, &RawValue)> {
    serde_json::from_str::<Members<'_>>(raw.get()).map_or_else(|_| Vec::new(), |m| m.0)
}

/// A Go `*any` field: `null` leaves it nil.
fn pointer_field(value: &RawValue) -> Option<&RawValue> {
    (Kind::of(value) != Kind::Null).then_some(value)
}

/// A Go `string` field: `null` leaves it as it was, other kinds are a type error.
fn string_field(
    value: &RawValue,
    current: &mut String,
    go_struct: &str,
    field: &str,
) -> Result<(), String> {
    match Kind::of(value) {
        Kind::Null => Ok(()),
        Kind::String => {
            *current = serde_json::from_str(value.get()).unwrap_or_default();
            Ok(())
        }
        kind => Err(field_mismatch(kind, go_struct, field, "string")),
    }
}

/// `POST /v1/data`'s `DataRequestV1`: the `input` member, `None` when missing or `null`.
///
/// # Errors
/// Go's message (OPA 1.22 decodes the request through a type it names `types.alias`).
pub fn data_request_input(text: &str) -> Result<Option<&RawValue>, String> {
    let Some(raw) = first_value(text)? else {
        return Ok(None);
    };
    match Kind::of(raw) {
        Kind::Null => Ok(None),
        Kind::Object => Ok(members(raw)
            .into_iter()
            .rfind(|(key, _)| key.eq_ignore_ascii_case("input"))
            .and_then(|(_, value)| pointer_field(value))),
        kind => Err(mismatch(kind, "types.alias")),
    }
}

/// `POST /v1/query`'s `QueryRequestV1`.
#[derive(Debug, Default)]
pub struct QueryRequest<'a> {
    pub query: String,
    pub input: Option<&'a RawValue>,
}

/// Decodes `POST /v1/query`'s body.
///
/// # Errors
/// Go's message: `EOF` for an empty body, a syntax error, or the first type mismatch.
pub fn query_request(text: &str) -> Result<QueryRequest<'_>, String> {
    let raw = first_value(text)?.ok_or_else(|| "EOF".to_string())?;
    let mut request = QueryRequest::default();
    match Kind::of(raw) {
        Kind::Null => return Ok(request),
        Kind::Object => {}
        kind => return Err(mismatch(kind, "types.QueryRequestV1")),
    }
    let mut first_error = None;
    for (key, value) in members(raw) {
        if key.eq_ignore_ascii_case("query") {
            if let Err(e) = string_field(value, &mut request.query, "QueryRequestV1", "query") {
                first_error.get_or_insert(e);
            }
        } else if key.eq_ignore_ascii_case("input") {
            request.input = pointer_field(value);
        }
    }
    first_error.map_or(Ok(request), Err)
}

/// One operation of `PATCH /v1/data`'s `[]PatchV1`.
#[derive(Debug, Default)]
pub struct Patch<'a> {
    pub op: String,
    pub path: String,
    pub value: Option<&'a RawValue>,
}

/// Decodes `PATCH /v1/data`'s body.
///
/// # Errors
/// Go's message: `EOF` for an empty body, a syntax error, or the first type mismatch.
pub fn patches(text: &str) -> Result<Vec<Patch<'_>>, String> {
    let raw = first_value(text)?.ok_or_else(|| "EOF".to_string())?;
    let items: Vec<&RawValue> = match Kind::of(raw) {
        Kind::Null => return Ok(Vec::new()),
        Kind::Array => serde_json::from_str(raw.get()).unwrap_or_default(),
        kind => return Err(mismatch(kind, "[]types.PatchV1")),
    };
    let mut first_error = None;
    let mut patches = Vec::with_capacity(items.len());
    for item in items {
        let mut patch = Patch::default();
        match Kind::of(item) {
            Kind::Null => {}
            Kind::Object => {
                for (key, value) in members(item) {
                    let checked = if key.eq_ignore_ascii_case("op") {
                        string_field(value, &mut patch.op, "PatchV1", "op")
                    } else if key.eq_ignore_ascii_case("path") {
                        string_field(value, &mut patch.path, "PatchV1", "path")
                    } else if key.eq_ignore_ascii_case("value") {
                        patch.value = pointer_field(value);
                        Ok(())
                    } else {
                        Ok(())
                    };
                    if let Err(e) = checked {
                        first_error.get_or_insert(e);
                    }
                }
            }
            kind => {
                first_error.get_or_insert(mismatch(kind, "types.PatchV1"));
            }
        }
        patches.push(patch);
    }
    first_error.map_or(Ok(patches), Err)
}

/// `GET /v1/data?input=`: OPA's `util.UnmarshalJSON`, which after the first value reads one
/// more token and refuses the document if there is one (except `null`, which it cannot tell
/// from no token).
///
/// # Errors
/// Go's message, `error: invalid character '<token>' after top-level value` for a token.
pub fn parameter_document(text: &str) -> Result<&RawValue, String> {
    let raw = first_value(text)?.ok_or_else(|| "EOF".to_string())?;
    let start = raw.get().as_ptr() as usize - text.as_ptr() as usize + raw.get().len();
    let rest = text[start..].trim_start_matches([' ', '\t', '\n', '\r']);
    let token = match rest.as_bytes().first() {
        None => return Ok(raw),
        Some(b'{' | b'[') => rest[..1].to_string(),
        Some(b'}' | b']' | b',' | b':') => {
            return Err(format!(
                "invalid character '{}' looking for beginning of value",
                &rest[..1]
            ));
        }
        Some(_) => match first_value(rest)? {
            None => return Ok(raw),
            Some(next) => match Kind::of(next) {
                Kind::Null => return Ok(raw),
                Kind::String => serde_json::from_str(next.get()).unwrap_or_default(),
                // Go formats the bool token with `%s`, which it cannot do for a bool.
                Kind::Bool => format!("%!s(bool={})", next.get()),
                _ => next.get().to_string(),
            },
        },
    };
    Err(format!(
        "error: invalid character '{token}' after top-level value"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_requests_read_as_go_reads_them() {
        let input = |text: &str| data_request_input(text).map(|i| i.map(|r| r.get().to_string()));
        assert_eq!(input(""), Ok(None));
        assert_eq!(input("null"), Ok(None));
        assert_eq!(input(r#"{"input": null}"#), Ok(None));
        assert_eq!(input(r#"{"INPUT": 1, "inputs": 2}"#), Ok(Some("1".into())));
        assert_eq!(
            input(r#"{"Input": 1, "input": 2} junk"#),
            Ok(Some("2".into()))
        );
        assert_eq!(
            input("[1,2]"),
            Err("json: cannot unmarshal array into Go value of type types.alias".into())
        );
        assert_eq!(
            input("1 x"),
            Err("json: cannot unmarshal number into Go value of type types.alias".into())
        );
        assert_eq!(input("{"), Err("unexpected EOF".into()));
    }

    #[test]
    fn query_requests_report_the_field() {
        assert_eq!(
            query_request(r#"{"query": 1}"#).map(|r| r.query),
            Err(
                "json: cannot unmarshal number into Go struct field QueryRequestV1.query of type string"
                    .into()
            )
        );
        assert_eq!(query_request(" ").map(|r| r.query), Err("EOF".into()));
        assert_eq!(
            query_request(r#"{"Query": "x", "query": null}"#).map(|r| r.query),
            Ok("x".into())
        );
        assert_eq!(
            query_request("true").map(|r| r.query),
            Err("json: cannot unmarshal bool into Go value of type types.QueryRequestV1".into())
        );
    }

    #[test]
    fn patches_report_the_element() {
        let patches = |text| {
            patches(text).map(|p| {
                p.iter()
                    .map(|p| {
                        (
                            p.op.clone(),
                            p.path.clone(),
                            p.value.map(|v| v.get().to_string()),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            patches("[1,2]"),
            Err("json: cannot unmarshal number into Go value of type types.PatchV1".into())
        );
        assert_eq!(
            patches(r#"[{"op": 1, "path": "/x"}]"#),
            Err(
                "json: cannot unmarshal number into Go struct field PatchV1.op of type string"
                    .into()
            )
        );
        assert_eq!(patches("null"), Ok(Vec::new()));
        assert_eq!(
            patches("[null]"),
            Ok(vec![(String::new(), String::new(), None)])
        );
        assert_eq!(
            patches(r#"[{"OP": "add", "Path": "/x", "value": 1, "value": null}]"#),
            Ok(vec![("add".into(), "/x".into(), None)])
        );
        assert_eq!(
            patches("{}"),
            Err("json: cannot unmarshal object into Go value of type []types.PatchV1".into())
        );
    }

    #[test]
    fn parameters_refuse_a_second_token() {
        let error = |text: &str| parameter_document(text).err();
        assert_eq!(error("1 null x"), None);
        assert_eq!(
            error("1 true").as_deref(),
            Some("error: invalid character '%!s(bool=true)' after top-level value")
        );
        assert_eq!(
            error(r#"1 "ab""#).as_deref(),
            Some("error: invalid character 'ab' after top-level value")
        );
        assert_eq!(
            error("1 1.5e3").as_deref(),
            Some("error: invalid character '1.5e3' after top-level value")
        );
        assert_eq!(
            error("1 {").as_deref(),
            Some("error: invalid character '{' after top-level value")
        );
        assert_eq!(
            error("1 }").as_deref(),
            Some("invalid character '}' looking for beginning of value")
        );
        assert_eq!(error("1 tru").as_deref(), Some("unexpected EOF"));
        assert_eq!(error(" ").as_deref(), Some("EOF"));
    }
}
