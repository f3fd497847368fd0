//! `input.review` as Gatekeeper builds it: an admission request re-marshalled through
//! `admission/v1 AdmissionRequest` (unknown fields dropped, zero values filled in), or a bare
//! object wrapped as audit and gator wrap it, plus `namespaceObject`.

use std::collections::BTreeMap;
use std::sync::Arc;

use rego_runtime::Value;

use super::objects;

/// An object to review, with what matching needs beside `input.review`.
#[derive(Clone, Debug)]
pub struct Review {
    /// `input.review` (with `namespaceObject`).
    pub value: Value,
    /// The object matched and reviewed (`oldObject` on DELETE).
    pub object: Option<Value>,
    pub old_object: Option<Value>,
    /// The Namespace used by `namespaceSelector` and namespace matching, when known.
    pub namespace: Option<Value>,
    /// `Original`, `Generated`, or empty (the caller did not say).
    pub source: &'static str,
    /// The request's `operation` (empty for bare objects).
    pub operation: String,
    /// The request's `name`, for error messages.
    pub name: String,
    /// The request's `namespace` (where an unknown Namespace is looked up).
    pub request_namespace: String,
}

/// Why a request cannot be reviewed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// A field of the wrong type, as Go's JSON decoder reports it.
    #[error("{0}")]
    Malformed(String),
    /// DELETE without `oldObject` (API servers before 1.15).
    #[error("oldObject cannot be nil for DELETE operations")]
    OldObjectNil,
}

/// The Namespace of a namespaced request, looked up by name; `None` when unknown.
pub trait NamespaceLookup {
    /// The Namespace object called `name`, if known.
    fn namespace(&self, name: &str) -> Option<Value>;
}

impl<F: Fn(&str) -> Option<Value>> NamespaceLookup for F {
    fn namespace(&self, name: &str) -> Option<Value> {
        self(name)
    }
}

/// Builds the review of an admission request the way the webhook does: the `Namespace`
/// kind coercion (`namespace: ""`), the Namespace fetched for namespaced requests (here from
/// the inventory), `namespaceObject` set to it, and DELETE reviewing `oldObject`.
///
/// # Errors
/// [`ReviewError`] for a field of the wrong type or a DELETE without `oldObject`.
pub fn from_admission_request(
    request: &Value,
    namespaces: &dyn NamespaceLookup,
    with_namespace_object: bool,
) -> Result<Review, ReviewError> {
    let mut normalized = normalize_request(request)?;
    let kind_kind = objects::str_at(&normalized, &["kind", "kind"]);
    let kind_group = objects::str_at(&normalized, &["kind", "group"]);
    if kind_kind == "Namespace" && kind_group.is_empty() {
        normalized = objects::without_member(&normalized, "namespace");
    }
    let request_namespace = objects::str_at(&normalized, &["namespace"]).to_string();
    let namespace = if request_namespace.is_empty() {
        None
    } else {
        namespaces.namespace(&request_namespace)
    };
    finish(
        normalized,
        namespace,
        with_namespace_object,
        "Original",
        request_namespace,
    )
}

/// Builds the review of a bare object as audit and `gator test` do
/// (`unstructuredToAdmissionRequest`): empty uid, operation and userInfo, the object's own
/// kind, and `namespaceObject` only when `with_namespace_object` (audit sets it, gator not).
pub fn from_object(
    object: &Value,
    namespace: Option<Value>,
    with_namespace_object: bool,
    source: &'static str,
) -> Review {
    let api_version = objects::api_version(object);
    let mut request = BTreeMap::new();
    let mut put = |key: &str, value: Value| {
        request.insert(Value::string(key), value);
    };
    put("uid", Value::string(""));
    put(
        "kind",
        Value::object([
            ("group", Value::string(objects::group_of(api_version))),
            ("version", Value::string(objects::version_of(api_version))),
            ("kind", Value::string(objects::kind(object))),
        ]),
    );
    put("resource", empty_gvr());
    let name = objects::name(object);
    if !name.is_empty() {
        put("name", Value::string(name));
    }
    let ns = objects::namespace(object);
    if !ns.is_empty() {
        put("namespace", Value::string(ns));
    }
    put("operation", Value::string(""));
    put("userInfo", Value::empty_object());
    put("object", object.clone());
    put("oldObject", Value::Null);
    put("options", Value::Null);
    let request_namespace = ns.to_string();
    let review = Review {
        value: Value::Object(Arc::new(request)),
        object: Some(object.clone()),
        old_object: None,
        namespace: None,
        source,
        operation: String::new(),
        name: name.to_string(),
        request_namespace,
    };
    with_namespace(review, namespace, with_namespace_object)
}

fn with_namespace(mut review: Review, namespace: Option<Value>, in_review: bool) -> Review {
    let shown = if in_review {
        namespace.clone().unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    review.value = objects::with_member(&review.value, "namespaceObject", shown);
    review.namespace = namespace;
    review
}

fn finish(
    normalized: Value,
    namespace: Option<Value>,
    with_namespace_object: bool,
    source: &'static str,
    request_namespace: String,
) -> Result<Review, ReviewError> {
    let operation = objects::str_at(&normalized, &["operation"]).to_string();
    let present = |key: &str| {
        normalized
            .get(key)
            .filter(|v| !matches!(v, Value::Null))
            .cloned()
    };
    let mut object = present("object");
    let old_object = present("oldObject");
    let mut value = normalized.clone();
    if operation == "DELETE" {
        let Some(old) = &old_object else {
            return Err(ReviewError::OldObjectNil);
        };
        object = Some(old.clone());
        value = objects::with_member(&value, "object", old.clone());
    }
    let name = objects::str_at(&normalized, &["name"]).to_string();
    let review = Review {
        value,
        object,
        old_object,
        namespace: None,
        source,
        operation,
        name,
        request_namespace,
    };
    Ok(with_namespace(review, namespace, with_namespace_object))
}

fn empty_gvr() -> Value {
    Value::object([
        ("group", Value::string("")),
        ("version", Value::string("")),
        ("resource", Value::string("")),
    ])
}

/// Re-marshals a request through `AdmissionRequest`'s JSON shape.
fn normalize_request(request: &Value) -> Result<Value, ReviewError> {
    let at = |field: &str, go_type: &str, value: &Value| {
        ReviewError::Malformed(format!(
            "json: cannot unmarshal {} into Go struct field AdmissionRequest.request.{field} of type {go_type}",
            go_kind(value)
        ))
    };
    let Some(fields) = request.as_object() else {
        return Err(ReviewError::Malformed(format!(
            "json: cannot unmarshal {} into Go struct field AdmissionReview.request of type v1.AdmissionRequest",
            go_kind(request)
        )));
    };
    let get = |key: &str| {
        fields
            .get(&Value::string(key))
            .filter(|v| !matches!(v, Value::Null))
    };
    let mut out = BTreeMap::new();
    let string_field = |key: &str, go_type: &str| -> Result<Value, ReviewError> {
        match get(key) {
            None => Ok(Value::string("")),
            Some(v @ Value::String(_)) => Ok(v.clone()),
            Some(other) => Err(at(key, go_type, other)),
        }
    };
    out.insert(Value::string("uid"), string_field("uid", "types.UID")?);
    out.insert(
        Value::string("kind"),
        triple(get("kind"), "kind", ["group", "version", "kind"], &at)?,
    );
    out.insert(
        Value::string("resource"),
        triple(
            get("resource"),
            "resource",
            ["group", "version", "resource"],
            &at,
        )?,
    );
    for key in ["subResource", "requestSubResource", "name", "namespace"] {
        let value = string_field(key, "string")?;
        if value.as_str().is_some_and(|s| !s.is_empty()) {
            out.insert(Value::string(key), value);
        }
    }
    if let Some(kind) = get("requestKind") {
        out.insert(
            Value::string("requestKind"),
            triple(Some(kind), "requestKind", ["group", "version", "kind"], &at)?,
        );
    }
    if let Some(resource) = get("requestResource") {
        out.insert(
            Value::string("requestResource"),
            triple(
                Some(resource),
                "requestResource",
                ["group", "version", "resource"],
                &at,
            )?,
        );
    }
    out.insert(
        Value::string("operation"),
        string_field("operation", "v1.Operation")?,
    );
    out.insert(Value::string("userInfo"), user_info(get("userInfo"), &at)?);
    for key in ["object", "oldObject", "options"] {
        let value = match get(key) {
            None => Value::Null,
            Some(v @ Value::Object(_)) => v.clone(),
            Some(other) => return Err(at(key, "runtime.RawExtension", other)),
        };
        out.insert(Value::string(key), value);
    }
    match get("dryRun") {
        None => {}
        Some(v @ Value::Bool(_)) => {
            out.insert(Value::string("dryRun"), v.clone());
        }
        Some(other) => return Err(at("dryRun", "bool", other)),
    }
    Ok(Value::Object(Arc::new(out)))
}

type FieldError<'a> = &'a dyn Fn(&str, &str, &Value) -> ReviewError;

/// A `GroupVersionKind` / `GroupVersionResource`: three strings, zero values filled in.
fn triple(
    value: Option<&Value>,
    field: &str,
    keys: [&str; 3],
    at: FieldError<'_>,
) -> Result<Value, ReviewError> {
    let mut out = BTreeMap::new();
    let map = match value {
        None => None,
        Some(Value::Object(map)) => Some(map),
        Some(other) => return Err(at(field, "v1.GroupVersionKind", other)),
    };
    for key in keys {
        let member = map.and_then(|m| m.get(&Value::string(key)));
        let text = match member {
            None | Some(Value::Null) => Value::string(""),
            Some(v @ Value::String(_)) => v.clone(),
            Some(other) => return Err(at(&format!("{field}.{key}"), "string", other)),
        };
        out.insert(Value::string(key), text);
    }
    Ok(Value::Object(Arc::new(out)))
}

/// `authentication/v1 UserInfo`: every member omitted when empty.
fn user_info(value: Option<&Value>, at: FieldError<'_>) -> Result<Value, ReviewError> {
    let mut out = BTreeMap::new();
    let map = match value {
        None => return Ok(Value::empty_object()),
        Some(Value::Object(map)) => map,
        Some(other) => return Err(at("userInfo", "v1.UserInfo", other)),
    };
    for key in ["username", "uid"] {
        match map.get(&Value::string(key)) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(v @ Value::String(_)) => {
                out.insert(Value::string(key), v.clone());
            }
            Some(other) => return Err(at(&format!("userInfo.{key}"), "string", other)),
        }
    }
    match map.get(&Value::string("groups")) {
        None | Some(Value::Null) => {}
        Some(Value::Array(groups)) => {
            if groups.iter().any(|g| !matches!(g, Value::String(_))) {
                return Err(at("userInfo.groups", "string", &Value::Null));
            }
            if !groups.is_empty() {
                out.insert(Value::string("groups"), Value::Array(groups.clone()));
            }
        }
        Some(other) => return Err(at("userInfo.groups", "[]string", other)),
    }
    match map.get(&Value::string("extra")) {
        None | Some(Value::Null) => {}
        Some(Value::Object(extra)) => {
            let valid = extra.values().all(|v| {
                matches!(v, Value::Null)
                    || v.as_array()
                        .is_some_and(|items| items.iter().all(|i| matches!(i, Value::String(_))))
            });
            if !valid {
                return Err(at("userInfo.extra", "v1.ExtraValue", &Value::Null));
            }
            if !extra.is_empty() {
                out.insert(Value::string("extra"), Value::Object(extra.clone()));
            }
        }
        Some(other) => return Err(at("userInfo.extra", "map[string]v1.ExtraValue", other)),
    }
    Ok(Value::Object(Arc::new(out)))
}

/// Go's name for a JSON value's kind in unmarshal errors.
fn go_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Set(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: &str) -> Value {
        Value::from_json(json).expect("json")
    }

    fn no_namespaces(_: &str) -> Option<Value> {
        None
    }

    #[test]
    fn bare_objects_look_like_gator_reviews() {
        let pod =
            value(r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns"}}"#);
        let review = from_object(&pod, None, false, "Original");
        assert_eq!(
            review.value.to_json(),
            r#"{"kind":{"group":"","kind":"Pod","version":"v1"},"name":"p","namespace":"ns","namespaceObject":null,"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns"}},"oldObject":null,"operation":"","options":null,"resource":{"group":"","resource":"","version":""},"uid":"","userInfo":{}}"#
        );
    }

    #[test]
    fn requests_are_normalized_like_admission_request() {
        let request = value(
            r#"{"uid":"u1","kind":{"group":"","version":"v1","kind":"Namespace","extra":1},"namespace":"x","operation":"DELETE","userInfo":{"username":"alice","groups":[]},"oldObject":{"kind":"Namespace"},"unknown":true}"#,
        );
        let review = from_admission_request(&request, &no_namespaces, true).expect("review");
        assert_eq!(
            review.value.to_json(),
            r#"{"kind":{"group":"","kind":"Namespace","version":"v1"},"namespaceObject":null,"object":{"kind":"Namespace"},"oldObject":{"kind":"Namespace"},"operation":"DELETE","options":null,"resource":{"group":"","resource":"","version":""},"uid":"u1","userInfo":{"username":"alice"}}"#
        );
        assert_eq!(review.object, Some(value(r#"{"kind":"Namespace"}"#)));
    }

    #[test]
    fn bad_requests_are_refused() {
        let bad = from_admission_request(&value(r#"{"uid":5}"#), &no_namespaces, true);
        assert_eq!(
            bad.expect_err("uid").to_string(),
            "json: cannot unmarshal number into Go struct field AdmissionRequest.request.uid of type types.UID"
        );
        let delete =
            from_admission_request(&value(r#"{"operation":"DELETE"}"#), &no_namespaces, true);
        assert_eq!(delete.expect_err("delete"), ReviewError::OldObjectNil);
    }
}
