//! `json.verify_schema` and `json.match_schema` in OPA's shapes (`topdown/jsonschema.go`, on
//! gojsonschema): `[true, null]` or `[false, "jsonschema: <why>"]` for a schema, `[true, []]`
//! or `[false, [{"error", "type", "field", "desc"}, ...]]` for a document.
//!
//! A schema is first checked as gojsonschema reads it, which gives its messages for a bad
//! schema; validation is then the `jsonschema` crate's (draft 7 unless the schema names its
//! draft, RE2-style patterns as Go's, formats checked, no remote references), whose errors
//! are reported with gojsonschema's types, fields and wording. Where one failure makes
//! several errors (`anyOf`, `allOf`), their number and order can differ from gojsonschema's.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use jsonschema::error::{ValidationError, ValidationErrorKind};
use serde_json::Value as Json;

use super::args::BuiltinError;
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "json.verify_schema",
        arity: 1,
        nondeterministic: true,
        eval: Implementation::Operands(verify_schema),
    },
    Builtin {
        name: "json.match_schema",
        arity: 2,
        nondeterministic: true,
        eval: Implementation::Operands(match_schema),
    },
];

fn verify_schema(args: &[Value]) -> Result<Value, BuiltinError> {
    let verdict = json_operand(&args[0]).and_then(|schema| compiled(&schema).map(|_| ()));
    Ok(Value::array(match verdict {
        Ok(()) => vec![Value::Bool(true), Value::Null],
        Err(why) => vec![
            Value::Bool(false),
            Value::string(format!("jsonschema: {why}")),
        ],
    }))
}

fn match_schema(args: &[Value]) -> Result<Value, BuiltinError> {
    let document = json_operand(&args[0]).map_err(BuiltinError::failed)?;
    let schema = json_operand(&args[1]).map_err(BuiltinError::failed)?;
    let validator = compiled(&schema).map_err(BuiltinError::failed)?;
    // Each of the crate's errors gives gojsonschema's error and those it merges after it
    // (an `anyOf`'s closest alternative); put in gojsonschema's order of keywords for each
    // place in the document, places in the order the crate first reports them.
    let mut units: Vec<(Option<Wrapper>, Vec<Reported>)> = Vec::new();
    for error in validator.iter_errors(&document) {
        let mut unit = Vec::new();
        report(&error, &schema, None, &mut unit);
        if !unit.is_empty() {
            units.push((Wrapper::of(error.schema_path().as_str()), unit));
        }
    }
    let mut fields: Vec<String> = Vec::new();
    for (_, unit) in &units {
        if !fields.contains(&unit[0].field) {
            fields.push(unit[0].field.clone());
        }
    }
    let key = |(wrapper, unit): &(Option<Wrapper>, Vec<Reported>)| {
        let kind = wrapper.as_ref().map_or(unit[0].kind, |w| w.kind);
        let place = fields.iter().position(|f| *f == unit[0].field);
        (
            place,
            keyword_rank(kind),
            wrapper.as_ref().map(|w| w.at.clone()),
        )
    };
    units.sort_by_key(|unit| key(unit));
    let mut errors: Vec<Value> = Vec::new();
    for (i, (wrapper, unit)) in units.iter().enumerate() {
        let opens = wrapper.as_ref().filter(|w| {
            i == 0
                || units[i - 1]
                    .0
                    .as_ref()
                    .is_none_or(|before| before.at != w.at)
        });
        let closes = wrapper.as_ref().filter(|w| {
            units
                .get(i + 1)
                .is_none_or(|(next, _)| next.as_ref().is_none_or(|after| after.at != w.at))
        });
        // gojsonschema reports a failed `then` before the errors it merges, a failed
        // `allOf` after them.
        if let Some(w) = opens.filter(|w| w.kind != "number_all_of") {
            errors.push(w.reported(&unit[0].field).to_value());
        }
        errors.extend(unit.iter().map(Reported::to_value));
        if let Some(w) = closes.filter(|w| w.kind == "number_all_of") {
            errors.push(w.reported(&unit[0].field).to_value());
        }
    }
    Ok(Value::array(vec![
        Value::Bool(errors.is_empty()),
        Value::array(errors),
    ]))
}

/// The `allOf`, `then` or `else` an error was found under, when it applies to the same
/// place in the document (the keyword that failed sits right inside it), for the error of
/// its own gojsonschema adds.
struct Wrapper {
    /// The schema path of the `allOf`, `then` or `else`.
    at: String,
    kind: &'static str,
}

impl Wrapper {
    fn of(schema_path: &str) -> Option<Wrapper> {
        let segments: Vec<&str> = schema_path.split('/').collect();
        let n = segments.len();
        let (at, kind) = match segments.as_slice() {
            [.., "allOf", index, _] if index.parse::<usize>().is_ok() => (n - 3, "number_all_of"),
            [.., "then", _] => (n - 2, "condition_then"),
            [.., "else", _] => (n - 2, "condition_else"),
            _ => return None,
        };
        Some(Wrapper {
            at: segments[..=at].join("/"),
            kind,
        })
    }

    fn reported(&self, field: &str) -> Reported {
        let desc = match self.kind {
            "number_all_of" => "Must validate all the schemas (allOf)",
            "condition_then" => r#"Must validate "then" as "if" was valid"#,
            _ => r#"Must validate "else" as "if" was not valid"#,
        };
        Reported {
            kind: self.kind,
            field: field.to_string(),
            desc: desc.to_string(),
        }
    }
}

/// Where gojsonschema checks a keyword among those of one place in the document
/// (`validateRecursive`: types, then combinations, numbers, arrays, objects, common, strings).
fn keyword_rank(kind: &str) -> u8 {
    const ORDER: [&str; 32] = [
        "false",
        "invalid_type",
        "number_any_of",
        "number_one_of",
        "number_all_of",
        "number_not",
        "missing_dependency",
        "condition_then",
        "condition_else",
        "multiple_of",
        "number_lte",
        "number_lt",
        "number_gte",
        "number_gt",
        "array_no_additional_items",
        "array_min_items",
        "array_max_items",
        "unique",
        "contains",
        "array_min_properties",
        "array_max_properties",
        "required",
        "additional_property_not_allowed",
        "invalid_property_name",
        "const",
        "enum",
        "format",
        "string_gte",
        "string_lte",
        "pattern",
        "internal",
        "",
    ];
    ORDER.iter().position(|k| *k == kind).unwrap_or(ORDER.len()) as u8
}

/// A document or schema operand: JSON text, or an object or array (OPA's
/// `astValueToJSONSchemaLoader`).
fn json_operand(value: &Value) -> Result<Json, String> {
    match value {
        Value::String(text) => {
            serde_json::from_str(text).map_err(|_| "invalid JSON string".to_string())
        }
        Value::Object(_) | Value::Array(_) => Ok(Json::from(value)),
        _ => Err("wrong type, expected string or object".to_string()),
    }
}

/// Compiled schemas kept at most; past this the cache starts over. OPA keeps compiled
/// schemas across queries too (its inter-query value cache).
const COMPILED_LIMIT: usize = 64;

static COMPILED: LazyLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
    LazyLock::new(Mutex::default);

/// `schema` checked as gojsonschema reads it and compiled, or why it is not a schema.
fn compiled(schema: &Json) -> Result<Arc<jsonschema::Validator>, String> {
    let key = schema.to_string();
    let cache = || COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = cache().get(&key) {
        return Ok(found.clone());
    }
    // gojsonschema's `parseSchemaURL`, before it reads the schema.
    match schema {
        Json::Bool(_) => {}
        Json::Object(map) if map.get("$schema").is_none_or(Json::is_string) => {}
        Json::Object(_) => return Err(must_be_of_type("$schema", "string")),
        _ => return Err("schema is invalid".to_string()),
    }
    let draft = Draft::of(schema);
    check_schema(schema, draft)?;
    let validator = build(&hybrid_to_draft_7(schema.clone()), draft).map_err(|e| e.to_string())?;
    let validator = Arc::new(validator);
    let mut cache = cache();
    if cache.len() >= COMPILED_LIMIT {
        cache.clear();
    }
    cache.insert(key, validator.clone());
    Ok(validator)
}

/// The crate's validator of an already checked schema.
fn build(
    schema: &Json,
    draft: Draft,
) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>> {
    let mut options = jsonschema::options()
        .offline()
        .should_validate_formats(true)
        // Go's regular expressions (RE2), as gojsonschema's patterns.
        .with_pattern_options(jsonschema::PatternOptions::regex());
    if draft == Draft::Hybrid {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    options.build(schema)
}

/// gojsonschema's drafts: the one `$schema` names, else "hybrid", which accepts the keywords
/// of every draft (and both forms of `exclusiveMinimum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Draft {
    Draft4,
    Draft6,
    Draft7,
    Hybrid,
}

impl Draft {
    fn of(schema: &Json) -> Draft {
        match schema.get("$schema").and_then(Json::as_str) {
            Some(uri) if uri.contains("draft-04") => Draft::Draft4,
            Some(uri) if uri.contains("draft-06") => Draft::Draft6,
            Some(uri) if uri.contains("draft-07") => Draft::Draft7,
            _ => Draft::Hybrid,
        }
    }
}

/// A hybrid schema in draft 7's terms: draft 4's boolean `exclusiveMinimum` and
/// `exclusiveMaximum` become the bound they qualify, as gojsonschema reads them.
fn hybrid_to_draft_7(mut schema: Json) -> Json {
    fn convert(node: &mut Json) {
        match node {
            Json::Object(map) => {
                for (exclusive, bound) in [
                    ("exclusiveMinimum", "minimum"),
                    ("exclusiveMaximum", "maximum"),
                ] {
                    if let Some(Json::Bool(on)) = map.get(exclusive).cloned() {
                        map.remove(exclusive);
                        if on && let Some(limit) = map.remove(bound) {
                            map.insert(exclusive.to_string(), limit);
                        }
                    }
                }
                map.values_mut().for_each(convert);
            }
            Json::Array(items) => items.iter_mut().for_each(convert),
            _ => {}
        }
    }
    if Draft::of(&schema) == Draft::Hybrid {
        convert(&mut schema);
    }
    schema
}

// gojsonschema's wording of schema problems (`locales.go`).

fn invalid_type(expected: &str, given: &str) -> String {
    format!("Invalid type. Expected: {expected}, given: {given}")
}

fn must_be_of_a(x: &str, y: &str) -> String {
    format!("{x} must be of a {y}")
}

fn must_be_of_an(x: &str, y: &str) -> String {
    format!("{x} must be of an {y}")
}

fn must_be_of_type(key: &str, kind: &str) -> String {
    format!("{key} must be of type {kind}")
}

const JSON_TYPES: [&str; 7] = [
    "array", "boolean", "integer", "number", "null", "object", "string",
];

/// The first problem gojsonschema's `parseSchema` finds in `node`, in its order of keywords
/// (members of a keyword in key order: gojsonschema's are in Go's random map order).
fn check_schema(node: &Json, draft: Draft) -> Result<(), String> {
    let map = match node {
        Json::Bool(_) if draft >= Draft::Draft6 => return Ok(()),
        Json::Object(map) => map,
        _ => return Err("Expected: Valid Schema, given: Invalid JSON".to_string()),
    };
    let string = |key: &str| match map.get(key) {
        Some(value) if !value.is_string() => Err(invalid_type("string", key)),
        _ => Ok(()),
    };
    let is_schema = |value: &Json| value.is_object() || value.is_boolean();
    let integer = |key: &str| -> Result<(), String> {
        let Some(value) = map.get(key) else {
            return Ok(());
        };
        match value.as_f64().filter(|n| n.fract() == 0.0) {
            None => Err(must_be_of_an(key, "integer")),
            Some(n) if n < 0.0 => Err(format!("{key} must be greater than or equal to 0")),
            Some(_) => Ok(()),
        }
    };
    let number = |key: &str| match map.get(key) {
        Some(value) if !value.is_number() => Err(must_be_of_a(key, "Number")),
        _ => Ok(()),
    };
    let slice = |key: &str| match map.get(key) {
        None => Ok(&[][..]),
        Some(Json::Array(items)) => Ok(items.as_slice()),
        Some(_) => Err(must_be_of_an(key, "array")),
    };
    let id = match draft {
        Draft::Draft4 => "id",
        Draft::Hybrid if map.contains_key("id") => "id",
        _ => "$id",
    };
    string(id)?;
    if let Some(definitions) = map.get("definitions") {
        let Json::Object(definitions) = definitions else {
            return Err(invalid_type("Array Of Schemas", "definitions"));
        };
        for definition in definitions.values() {
            if !is_schema(definition) {
                return Err(invalid_type("Array Of Schemas", "definitions"));
            }
            check_schema(definition, draft)?;
        }
    }
    string("title")?;
    string("description")?;
    string("$ref")?;
    if let Some(kind) = map.get("type") {
        let names: Vec<&Json> = match kind {
            Json::Array(names) => names.iter().collect(),
            name => vec![name],
        };
        let mut seen = Vec::new();
        for name in names {
            let Some(name) = name.as_str() else {
                return Err(invalid_type("type", "string/Array Of Strings"));
            };
            if !JSON_TYPES.contains(&name) {
                return Err(format!(
                    "has a primitive type that is NOT VALID -- given: /{name}/ Expected valid values are:[{}]",
                    JSON_TYPES.join(" ")
                ));
            }
            if seen.contains(&name) {
                return Err(format!("{name} type is duplicated"));
            }
            seen.push(name);
        }
    }
    if let Some(properties) = map.get("properties") {
        let Json::Object(properties) = properties else {
            return Err(must_be_of_type("Properties", "object"));
        };
        for property in properties.values() {
            check_schema(property, draft)?;
        }
    }
    if let Some(additional) = map.get("additionalProperties") {
        match additional {
            Json::Bool(_) => {}
            Json::Object(_) => check_schema(additional, draft)?,
            _ => return Err(invalid_type("boolean/Valid Schema", "additionalProperties")),
        }
    }
    if let Some(patterns) = map.get("patternProperties") {
        let Json::Object(patterns) = patterns else {
            return Err(invalid_type("Valid Schema", "patternProperties"));
        };
        for (pattern, schema) in patterns {
            if regex::Regex::new(pattern).is_err() {
                return Err(format!("Invalid regex pattern '{pattern}'"));
            }
            check_schema(schema, draft)?;
        }
    }
    if draft >= Draft::Draft6
        && let Some(names) = map.get("propertyNames")
    {
        if !is_schema(names) {
            return Err(invalid_type("Valid Schema", "patternProperties"));
        }
        check_schema(names, draft)?;
    }
    if let Some(dependencies) = map.get("dependencies") {
        let Json::Object(dependencies) = dependencies else {
            return Err(must_be_of_type("dependencies", "object"));
        };
        let wrong = || must_be_of_type("Dependency", "Schema Or Array Of Strings");
        for dependency in dependencies.values() {
            match dependency {
                Json::Array(names) if names.iter().all(Json::is_string) => {}
                Json::Bool(_) | Json::Object(_) => check_schema(dependency, draft)?,
                _ => return Err(wrong()),
            }
        }
    }
    if let Some(items) = map.get("items") {
        let wrong = || invalid_type("Valid Schema/Array Of Schemas", "items");
        match items {
            Json::Array(schemas) => {
                for schema in schemas {
                    if !is_schema(schema) {
                        return Err(wrong());
                    }
                    check_schema(schema, draft)?;
                }
            }
            Json::Bool(_) | Json::Object(_) => check_schema(items, draft)?,
            _ => return Err(wrong()),
        }
    }
    if let Some(additional) = map.get("additionalItems") {
        match additional {
            Json::Bool(_) => {}
            Json::Object(_) => check_schema(additional, draft)?,
            _ => return Err(invalid_type("boolean/Valid Schema", "additionalItems")),
        }
    }
    if let Some(multiple) = map.get("multipleOf") {
        match multiple.as_f64() {
            None => return Err(invalid_type("Number", "multipleOf")),
            Some(n) if n <= 0.0 => return Err("multipleOf must be strictly greater than 0".into()),
            Some(_) => {}
        }
    }
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        number(bound)?;
        let Some(value) = map.get(exclusive) else {
            continue;
        };
        let needs_bound = || {
            if map.contains_key(bound) {
                Ok(())
            } else {
                Err(format!("{exclusive} cannot be used without {bound}"))
            }
        };
        match (draft, value) {
            (Draft::Draft4, Json::Bool(_)) | (Draft::Hybrid, Json::Bool(_)) => needs_bound()?,
            (Draft::Draft4, _) => return Err(invalid_type("boolean", exclusive)),
            (_, Json::Number(_)) if draft != Draft::Draft4 => {}
            (Draft::Hybrid, _) => return Err(invalid_type("boolean/number", exclusive)),
            _ => return Err(invalid_type("number", exclusive)),
        }
    }
    integer("minLength")?;
    integer("maxLength")?;
    if let (Some(min), Some(max)) = (map.get("minLength"), map.get("maxLength"))
        && min.as_f64() > max.as_f64()
    {
        return Err("minLength cannot be greater than maxLength".into());
    }
    string("pattern")?;
    if let Some(pattern) = map.get("pattern").and_then(Json::as_str)
        && regex::Regex::new(pattern).is_err()
    {
        return Err("pattern must be a valid regex".into());
    }
    string("format")?;
    integer("minProperties")?;
    integer("maxProperties")?;
    if let (Some(min), Some(max)) = (map.get("minProperties"), map.get("maxProperties"))
        && min.as_f64() > max.as_f64()
    {
        return Err("minProperties cannot be greater than maxProperties".into());
    }
    let mut required = Vec::new();
    for name in slice("required")? {
        let Some(name) = name.as_str() else {
            return Err(invalid_type("string", "required"));
        };
        if required.contains(&name) {
            return Err("required items must be unique".into());
        }
        required.push(name);
    }
    integer("minItems")?;
    integer("maxItems")?;
    if map.get("uniqueItems").is_some_and(|u| !u.is_boolean()) {
        return Err(must_be_of_a("uniqueItems", "boolean"));
    }
    if draft >= Draft::Draft6
        && let Some(contains) = map.get("contains")
    {
        check_schema(contains, draft)?;
    }
    let mut seen = Vec::new();
    for value in slice("enum")? {
        if seen.contains(&value) {
            return Err("enum items must be unique".into());
        }
        seen.push(value);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for schema in slice(key)? {
            check_schema(schema, draft)?;
        }
    }
    let mut conditions = vec!["not"];
    if draft >= Draft::Draft7 {
        conditions.extend(["if", "then", "else"]);
    }
    for key in conditions {
        if let Some(schema) = map.get(key) {
            if !is_schema(schema) {
                return Err(must_be_of_an(key, "object"));
            }
            check_schema(schema, draft)?;
        }
    }
    Ok(())
}

/// One error as gojsonschema's `ResultError` shows it.
struct Reported {
    kind: &'static str,
    /// Where in the document: `(Root)` or its dotted path.
    field: String,
    desc: String,
}

impl Reported {
    fn to_value(&self) -> Value {
        Value::object([
            ("desc", Value::string(&self.desc)),
            (
                "error",
                Value::string(format!("{}: {}", self.field, self.desc)),
            ),
            ("field", Value::string(&self.field)),
            ("type", Value::string(self.kind)),
        ])
    }
}

/// gojsonschema's error (or errors) for one of the crate's, appended to `out`; `at` names
/// the place for errors gojsonschema reports at their parent's (a property name's).
fn report(error: &ValidationError<'_>, schema: &Json, at: Option<&str>, out: &mut Vec<Reported>) {
    let field = if let Some(at) = at {
        at.to_string()
    } else {
        let segments: Vec<String> = error
            .instance_path()
            .iter()
            .map(|segment| segment.to_string())
            .collect();
        if segments.is_empty() {
            "(Root)".to_string()
        } else {
            segments.join(".")
        }
    };
    // The schema's own keyword value, for the details gojsonschema prints from it.
    let keyword_value = || schema.pointer(error.schema_path().as_str());
    let instance: &Json = error.instance();
    let number = |limit: &Json| go_number(limit);
    let mut push = |kind: &'static str, desc: String| {
        out.push(Reported {
            kind,
            field: field.clone(),
            desc,
        });
    };
    match error.kind() {
        ValidationErrorKind::Type { .. } => {
            let expected = match keyword_value() {
                Some(Json::Array(names)) => format!(
                    "[{}]",
                    names
                        .iter()
                        .filter_map(Json::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                Some(Json::String(name)) => name.clone(),
                _ => "Undefined".to_string(),
            };
            push(
                "invalid_type",
                invalid_type(&expected, json_type_name(instance)),
            );
        }
        ValidationErrorKind::Required { property } => {
            let property = property.as_str().unwrap_or_default();
            if error.schema_path().as_str().ends_with("/dependencies") {
                push(
                    "missing_dependency",
                    format!("Has a dependency on {property}"),
                );
            } else {
                push("required", format!("{property} is required"));
            }
        }
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<String> = options
                .as_array()
                .map(|items| items.iter().map(Json::to_string).collect())
                .unwrap_or_default();
            push(
                "enum",
                format!(
                    "{field} must be one of the following: {}",
                    allowed.join(", ")
                ),
            );
        }
        ValidationErrorKind::Constant { expected_value } => {
            push("const", format!("{field} does not match: {expected_value}"));
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for property in unexpected {
                push(
                    "additional_property_not_allowed",
                    format!("Additional property {property} is not allowed"),
                );
            }
        }
        ValidationErrorKind::AdditionalItems { .. } => push(
            "array_no_additional_items",
            "No additional items allowed on array".into(),
        ),
        ValidationErrorKind::MinItems { limit } => push(
            "array_min_items",
            format!("Array must have at least {limit} items"),
        ),
        ValidationErrorKind::MaxItems { limit } => push(
            "array_max_items",
            format!("Array must have at most {limit} items"),
        ),
        ValidationErrorKind::UniqueItems => {
            for (i, j) in repeats(instance) {
                push("unique", format!("array items[{i},{j}] must be unique"));
            }
        }
        ValidationErrorKind::Contains => {
            push("contains", "At least one of the items must match".into());
            if let Some(contains) = keyword_value() {
                closest_item(contains, instance, &field, out);
            }
        }
        ValidationErrorKind::MinProperties { limit } => push(
            "array_min_properties",
            format!("Must have at least {limit} properties"),
        ),
        ValidationErrorKind::MaxProperties { limit } => push(
            "array_max_properties",
            format!("Must have at most {limit} properties"),
        ),
        ValidationErrorKind::PropertyNames { error: inner } => {
            let name = inner.instance().as_str().unwrap_or_default().to_string();
            push(
                "invalid_property_name",
                format!("Property name of \"{name}\" does not match"),
            );
            report(inner, schema, Some(&field), out);
        }
        ValidationErrorKind::MinLength { limit } => push(
            "string_gte",
            format!("String length must be greater than or equal to {limit}"),
        ),
        ValidationErrorKind::MaxLength { limit } => push(
            "string_lte",
            format!("String length must be less than or equal to {limit}"),
        ),
        ValidationErrorKind::Pattern { pattern } => {
            push("pattern", format!("Does not match pattern '{pattern}'"));
        }
        ValidationErrorKind::Format { format } => {
            push("format", format!("Does not match format '{format}'"));
        }
        ValidationErrorKind::MultipleOf { .. } => {
            let multiple = keyword_value().map(number).unwrap_or_default();
            push("multiple_of", format!("Must be a multiple of {multiple}"));
        }
        ValidationErrorKind::Minimum { limit } => push(
            "number_gte",
            format!("Must be greater than or equal to {}", number(limit)),
        ),
        ValidationErrorKind::ExclusiveMinimum { limit } => push(
            "number_gt",
            format!("Must be greater than {}", number(limit)),
        ),
        ValidationErrorKind::Maximum { limit } => push(
            "number_lte",
            format!("Must be less than or equal to {}", number(limit)),
        ),
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            push("number_lt", format!("Must be less than {}", number(limit)))
        }
        ValidationErrorKind::Not { .. } => {
            push("number_not", "Must not validate the schema (not)".into());
        }
        ValidationErrorKind::FalseSchema => {
            push("false", "False always fails validation".into());
        }
        ValidationErrorKind::AnyOf { context } => {
            push(
                "number_any_of",
                "Must validate at least one schema (anyOf)".into(),
            );
            closest(context, schema, out);
        }
        ValidationErrorKind::OneOfNotValid { context } => {
            push(
                "number_one_of",
                "Must validate one and only one schema (oneOf)".into(),
            );
            closest(context, schema, out);
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => push(
            "number_one_of",
            "Must validate one and only one schema (oneOf)".into(),
        ),
        _ => push("internal", format!("Internal Error {error}")),
    }
}

/// The errors of the alternative that came closest (the fewest errors), as gojsonschema
/// adds those of its best-scoring alternative after an `anyOf` or `oneOf` failure.
fn closest(alternatives: &[Vec<ValidationError<'static>>], schema: &Json, out: &mut Vec<Reported>) {
    if let Some(best) = alternatives.iter().min_by_key(|errors| errors.len()) {
        for error in best {
            report(error, schema, None, out);
        }
    }
}

/// gojsonschema's name of a document value's type: `integer` for a whole number.
fn json_type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Json::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// A limit as gojsonschema prints it (Go's `%v` of a `big.Float`: the shortest digits,
/// with an exponent from `e-05` down and from `e+06` up).
fn go_number(limit: &Json) -> String {
    let Some(f) = limit.as_f64() else {
        return limit.to_string();
    };
    if f == 0.0 {
        return "0".to_string();
    }
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..6).contains(&exponent) {
        format!("{f}")
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

/// Every member equal to an earlier one, `(i, j)` with `i` the latest earlier index, as
/// gojsonschema reports them.
fn repeats(value: &Json) -> Vec<(usize, usize)> {
    let mut last: Vec<(&Json, usize)> = Vec::new();
    let mut out = Vec::new();
    for (j, item) in value.as_array().into_iter().flatten().enumerate() {
        match last.iter_mut().find(|(seen, _)| *seen == item) {
            Some((_, i)) => {
                out.push((*i, j));
                *i = j;
            }
            None => last.push((item, j)),
        }
    }
    out
}

/// After a failed `contains`, gojsonschema adds the errors of the item that came closest
/// (here: the fewest errors, the first of equals). Skipped for a `contains` schema that
/// refers elsewhere in its document, which alone it cannot be compiled.
fn closest_item(contains: &Json, array: &Json, field: &str, out: &mut Vec<Reported>) {
    let Ok(validator) = build(&hybrid_to_draft_7(contains.clone()), Draft::Hybrid) else {
        return;
    };
    let best = array
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, item)| (i, validator.iter_errors(item).collect::<Vec<_>>()))
        .min_by_key(|(_, errors)| errors.len());
    let Some((index, errors)) = best else {
        return;
    };
    for error in errors {
        let mut item = Vec::new();
        report(&error, contains, None, &mut item);
        for mut reported in item {
            let inner = (reported.field != "(Root)").then_some(reported.field.as_str());
            let prefix = (field != "(Root)").then_some(field);
            reported.field = [prefix, Some(&index.to_string()), inner]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(".");
            out.push(reported);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::builtins::run_json;

    fn run(name: &str, operands: &str) -> String {
        run_json(name, operands).unwrap_or_else(|e| format!("error: {e}"))
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn verifies_schemas_as_opa() {
        assert_eq!(
            run("json.verify_schema", r#"[{"type": "boolean"}]"#),
            "[true,null]"
        );
        assert_eq!(
            run("json.verify_schema", r#"["{\"type\": \"boolean\"}"]"#),
            "[true,null]"
        );
        assert_eq!(
            run("json.verify_schema", r#"[{"type": "unknown_type"}]"#),
            concat!(
                r#"[false,"jsonschema: has a primitive type that is NOT VALID -- given: "#,
                r#"/unknown_type/ Expected valid values are:[array boolean integer number null object string]"]"#
            )
        );
        assert_eq!(
            run("json.verify_schema", r#"["{bad"]"#),
            r#"[false,"jsonschema: invalid JSON string"]"#
        );
        assert_eq!(
            run("json.verify_schema", "[5]"),
            r#"[false,"jsonschema: wrong type, expected string or object"]"#
        );
        assert_eq!(
            run("json.verify_schema", r#"[{"minLength": -1}]"#),
            r#"[false,"jsonschema: minLength must be greater than or equal to 0"]"#
        );
        assert_eq!(
            run("json.verify_schema", r#"[{"required": "a"}]"#),
            r#"[false,"jsonschema: required must be of an array"]"#
        );
    }

    #[test]
    fn matches_documents_as_opa() {
        let schema = r#"{"properties": {"id": {"type": "integer"}}, "required": ["id"]}"#;
        assert_eq!(
            run("json.match_schema", &format!(r#"[{{"id": 5}}, {schema}]"#)),
            "[true,[]]"
        );
        assert_eq!(
            run(
                "json.match_schema",
                &format!(r#"["{{\"id\": 5}}", {schema}]"#)
            ),
            "[true,[]]"
        );
        assert_eq!(
            run(
                "json.match_schema",
                &format!(r#"[{{"id": "foo"}}, {schema}]"#)
            ),
            concat!(
                r#"[false,[{"desc":"Invalid type. Expected: integer, given: string","#,
                r#""error":"id: Invalid type. Expected: integer, given: string","#,
                r#""field":"id","type":"invalid_type"}]]"#
            )
        );
        assert_eq!(
            run("json.match_schema", &format!(r#"[{{}}, {schema}]"#)),
            concat!(
                r#"[false,[{"desc":"id is required","error":"(Root): id is required","#,
                r#""field":"(Root)","type":"required"}]]"#
            )
        );
        assert_eq!(
            run(
                "json.match_schema",
                r#"[{"a": [1, 1]}, {"properties": {"a": {"type": ["array", "null"], "uniqueItems": true, "maxItems": 1}}}]"#
            ),
            concat!(
                r#"[false,[{"desc":"Array must have at most 1 items","#,
                r#""error":"a: Array must have at most 1 items","field":"a","type":"array_max_items"},"#,
                r#"{"desc":"array items[0,1] must be unique","error":"a: array items[0,1] must be unique","#,
                r#""field":"a","type":"unique"}]]"#
            )
        );
        assert_eq!(
            run("json.match_schema", r#"[{}, {"type": 5}]"#),
            "error: Invalid type. Expected: type, given: string/Array Of Strings"
        );
        assert_eq!(
            run("json.match_schema", "[{}, 5]"),
            "error: wrong type, expected string or object"
        );
    }
}
