//! A small OpenAPI v3 structural-schema validator, as the Kubernetes API server applies a CRD's
//! schema to a custom resource: type checks, properties, items, required, enum, pattern,
//! maxLength, additionalProperties, nullable, x-kubernetes-preserve-unknown-fields; defaults
//! (`defaulting.Default`) and unknown-field detection (`pruning.PruneWithOptions`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use rego_runtime::Value;

/// One node of a structural schema.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// `object`, `array`, `string`, `integer`, `number`, `boolean`, or empty for any.
    pub type_name: String,
    pub properties: BTreeMap<String, Schema>,
    pub items: Option<Box<Schema>>,
    pub additional_properties: Option<Box<Schema>>,
    /// `additionalProperties: true` without a schema: anything goes, nothing is pruned.
    pub additional_properties_any: bool,
    pub required: Vec<String>,
    pub enumeration: Vec<Value>,
    pub pattern: Option<Arc<regex::Regex>>,
    pub pattern_text: String,
    pub max_length: Option<u64>,
    pub nullable: bool,
    pub preserve_unknown_fields: bool,
    pub int_or_string: bool,
    pub default: Option<Value>,
}

/// A field error, printed as Kubernetes' `field.Error` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub kind: FieldErrorKind,
    /// Printed before the field path only (not inside the detail): Kubernetes prints a
    /// custom resource's errors under an unnamed root path, as `[].spec...`.
    pub root: &'static str,
}

/// What is wrong with a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// `Invalid value: "<found type>": <path> in body must be of type <want>: "<found type>"`.
    Type { want: String, found: &'static str },
    /// `Required value`.
    Required,
    /// `Unsupported value: <value>: supported values: "a", "b"`.
    Enum { value: String, allowed: Vec<String> },
    /// `Invalid value: <value>: <detail>`.
    Invalid { value: String, detail: String },
    /// `Too long: may not be more than N bytes`.
    TooLong(u64),
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FieldErrorKind::Type { want, found } => write!(
                f,
                "{root}{path}: Invalid value: \"{found}\": {path} in body must be of type {want}: \"{found}\"",
                root = self.root,
                path = self.path
            ),
            FieldErrorKind::Required => write!(f, "{}{}: Required value", self.root, self.path),
            FieldErrorKind::Enum { value, allowed } => {
                let quoted: Vec<String> = allowed.iter().map(|v| format!("{v:?}")).collect();
                write!(
                    f,
                    "{}{}: Unsupported value: {value}: supported values: {}",
                    self.root,
                    self.path,
                    quoted.join(", ")
                )
            }
            FieldErrorKind::Invalid { value, detail } => {
                write!(
                    f,
                    "{}{}: Invalid value: {value}: {detail}",
                    self.root, self.path
                )
            }
            FieldErrorKind::TooLong(max) => {
                let unit = if *max == 1 { "byte" } else { "bytes" };
                write!(
                    f,
                    "{}{}: Too long: may not be more than {max} {unit}",
                    self.root, self.path
                )
            }
        }
    }
}

/// Kubernetes' aggregate of field errors: one as itself, several as `[a, b]`.
pub fn aggregate(errors: &[FieldError]) -> String {
    let mut seen = Vec::new();
    for error in errors {
        let text = error.to_string();
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    match seen.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

impl Schema {
    /// Reads a schema from its JSON form (`openAPIV3Schema`).
    ///
    /// # Errors
    /// A member of the wrong type or an invalid pattern, named by its path.
    pub fn from_value(value: &Value) -> Result<Schema, String> {
        Self::read(value, "openAPIV3Schema")
    }

    fn read(value: &Value, at: &str) -> Result<Schema, String> {
        let Some(map) = value.as_object() else {
            return Err(format!("{at} must be an object"));
        };
        let mut schema = Schema::default();
        for (key, member) in map.iter() {
            let key = key.as_str().unwrap_or_default();
            let here = format!("{at}.{key}");
            match key {
                "type" => schema.type_name = string(member, &here)?.to_string(),
                "properties" => {
                    let Some(props) = member.as_object() else {
                        return Err(format!("{here} must be an object"));
                    };
                    for (name, prop) in props.iter() {
                        let name = name.as_str().unwrap_or_default();
                        schema.properties.insert(
                            name.to_string(),
                            Self::read(prop, &format!("{here}.{name}"))?,
                        );
                    }
                }
                "items" => schema.items = Some(Box::new(Self::read(member, &here)?)),
                "additionalProperties" => match member {
                    Value::Bool(allowed) => schema.additional_properties_any = *allowed,
                    other => {
                        schema.additional_properties = Some(Box::new(Self::read(other, &here)?))
                    }
                },
                "required" => {
                    let Some(names) = member.as_array() else {
                        return Err(format!("{here} must be a list of strings"));
                    };
                    for name in names {
                        schema.required.push(string(name, &here)?.to_string());
                    }
                }
                "enum" => {
                    let Some(values) = member.as_array() else {
                        return Err(format!("{here} must be a list"));
                    };
                    schema.enumeration = values.to_vec();
                }
                "pattern" => {
                    let text = string(member, &here)?;
                    let regex = regex::Regex::new(text)
                        .map_err(|e| format!("{here}: invalid pattern {text:?}: {e}"))?;
                    schema.pattern = Some(Arc::new(regex));
                    schema.pattern_text = text.to_string();
                }
                "maxLength" => {
                    schema.max_length = member
                        .as_number()
                        .and_then(rego_runtime::Number::as_i64)
                        .and_then(|n| u64::try_from(n).ok())
                }
                "nullable" => schema.nullable = matches!(member, Value::Bool(true)),
                "x-kubernetes-preserve-unknown-fields" => {
                    schema.preserve_unknown_fields = matches!(member, Value::Bool(true))
                }
                "x-kubernetes-int-or-string" => {
                    schema.int_or_string = matches!(member, Value::Bool(true))
                }
                "default" => schema.default = Some(member.clone()),
                // Descriptions, formats and list/map types do not change validation here.
                _ => {}
            }
        }
        Ok(schema)
    }

    /// `schema.AddPreserveUnknownFields`: what `legacySchema: true` does to a template's schema.
    pub fn add_preserve_unknown_fields(&mut self) {
        match self.type_name.as_str() {
            "" | "object" => self.preserve_unknown_fields = true,
            "array" if self.items.is_none() => {
                self.items = Some(Box::new(Schema {
                    preserve_unknown_fields: true,
                    ..Schema::default()
                }));
            }
            _ => {}
        }
        for prop in self.properties.values_mut() {
            prop.add_preserve_unknown_fields();
        }
        if let Some(items) = &mut self.items {
            items.add_preserve_unknown_fields();
        }
        if let Some(additional) = &mut self.additional_properties {
            additional.add_preserve_unknown_fields();
        }
    }

    /// Validates `value` found at `path`, appending every problem to `errors`.
    pub fn validate(&self, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
        if matches!(value, Value::Null) {
            if !self.nullable && !self.type_name.is_empty() {
                errors.push(FieldError {
                    root: "",
                    path: path.to_string(),
                    kind: FieldErrorKind::Type {
                        want: self.type_name.clone(),
                        found: "null",
                    },
                });
            }
            return;
        }
        if !self.type_matches(value) {
            let want = if self.int_or_string {
                "integer,string".to_string()
            } else {
                self.type_name.clone()
            };
            errors.push(FieldError {
                root: "",
                path: path.to_string(),
                kind: FieldErrorKind::Type {
                    want,
                    found: json_type(value),
                },
            });
            return;
        }
        if !self.enumeration.is_empty() && !self.enumeration.contains(value) {
            errors.push(FieldError {
                root: "",
                path: path.to_string(),
                kind: FieldErrorKind::Enum {
                    value: go_value(value),
                    allowed: self.enumeration.iter().map(enum_text).collect(),
                },
            });
        }
        match value {
            Value::String(text) => {
                if let Some(max) = self.max_length
                    && text.len() as u64 > max
                {
                    errors.push(FieldError {
                        root: "",
                        path: path.to_string(),
                        kind: FieldErrorKind::TooLong(max),
                    });
                }
                if let Some(pattern) = &self.pattern
                    && !pattern.is_match(text)
                {
                    errors.push(FieldError {
                        root: "",
                        path: path.to_string(),
                        kind: FieldErrorKind::Invalid {
                            value: format!("{:?}", &**text),
                            detail: format!("{path} in body should match '{}'", self.pattern_text),
                        },
                    });
                }
            }
            Value::Object(entries) => {
                for name in &self.required {
                    if !entries.contains_key(&Value::string(name)) {
                        errors.push(FieldError {
                            root: "",
                            path: join(path, name),
                            kind: FieldErrorKind::Required,
                        });
                    }
                }
                for (key, member) in entries.iter() {
                    let key = key.as_str().unwrap_or_default();
                    if let Some(prop) = self.properties.get(key) {
                        prop.validate(member, &join(path, key), errors);
                    } else if let Some(additional) = &self.additional_properties {
                        additional.validate(member, &join(path, key), errors);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(schema) = &self.items {
                    for (i, item) in items.iter().enumerate() {
                        schema.validate(item, &format!("{path}[{i}]"), errors);
                    }
                }
            }
            _ => {}
        }
    }

    fn type_matches(&self, value: &Value) -> bool {
        if self.int_or_string {
            return matches!(value, Value::String(_))
                || value
                    .as_number()
                    .is_some_and(rego_runtime::Number::is_integer);
        }
        match self.type_name.as_str() {
            "" => true,
            "object" => matches!(value, Value::Object(_)),
            "array" => matches!(value, Value::Array(_)),
            "string" => matches!(value, Value::String(_)),
            "boolean" => matches!(value, Value::Bool(_)),
            "number" => matches!(value, Value::Number(_)),
            "integer" => value
                .as_number()
                .is_some_and(rego_runtime::Number::is_integer),
            _ => true,
        }
    }

    /// Applies `default`s as `defaulting.Default` does: a missing (or non-nullable null)
    /// property with a default gets it, then every present member is defaulted in turn.
    pub fn apply_defaults(&self, value: &mut Value) {
        match value {
            Value::Object(entries) => {
                let entries = Arc::make_mut(entries);
                for (name, prop) in &self.properties {
                    let Some(default) = &prop.default else {
                        continue;
                    };
                    let key = Value::string(name);
                    let missing = match entries.get(&key) {
                        None => true,
                        Some(Value::Null) => !prop.nullable,
                        Some(_) => false,
                    };
                    if missing {
                        entries.insert(key, default.clone());
                    }
                }
                for (key, member) in entries.iter_mut() {
                    let name = key.as_str().unwrap_or_default();
                    if let Some(prop) = self.properties.get(name) {
                        prop.apply_defaults(member);
                    } else if let Some(additional) = &self.additional_properties {
                        if let (Value::Null, false, Some(default)) =
                            (&*member, additional.nullable, &additional.default)
                        {
                            *member = default.clone();
                        }
                        additional.apply_defaults(member);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(schema) = &self.items {
                    for item in Arc::make_mut(items).iter_mut() {
                        if let (Value::Null, false, Some(default)) =
                            (&*item, schema.nullable, &schema.default)
                        {
                            *item = default.clone();
                        }
                        schema.apply_defaults(item);
                    }
                }
            }
            _ => {}
        }
    }

    /// The paths of fields the schema does not know (what pruning would drop), sorted.
    /// `embedded_root` skips `apiVersion`, `kind` and `metadata` at the top, as for a resource.
    pub fn unknown_fields(&self, value: &Value, embedded_root: bool) -> Vec<String> {
        let mut out = Vec::new();
        self.prune(value, "", embedded_root, &mut out);
        out.sort();
        out
    }

    fn prune(&self, value: &Value, path: &str, root: bool, out: &mut Vec<String>) {
        match value {
            Value::Object(entries) => {
                for (key, member) in entries.iter() {
                    let key = key.as_str().unwrap_or_default();
                    if root && matches!(key, "apiVersion" | "kind" | "metadata") {
                        continue;
                    }
                    let here = join(path, key);
                    if let Some(prop) = self.properties.get(key) {
                        prop.prune(member, &here, false, out);
                    } else if let Some(additional) = &self.additional_properties {
                        additional.prune(member, &here, false, out);
                    } else if !self.preserve_unknown_fields && !self.additional_properties_any {
                        out.push(here);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(schema) = &self.items {
                    for (i, item) in items.iter().enumerate() {
                        schema.prune(item, &format!("{path}[{i}]"), false, out);
                    }
                } else if !self.preserve_unknown_fields {
                    // No item schema: every field of every object item is unknown.
                    let nothing = Schema::default();
                    for (i, item) in items.iter().enumerate() {
                        nothing.prune(item, &format!("{path}[{i}]"), false, out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn string<'a>(value: &'a Value, at: &str) -> Result<&'a str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("{at} must be a string"))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The JSON type name kube-openapi reports for a value.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_integer() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Set(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A bad value as Go's `field.Error` prints it: strings quoted, numbers bare.
fn go_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{:?}", &**s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_json(),
    }
}

fn enum_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => other.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(json: &str) -> Schema {
        Schema::from_value(&Value::from_json(json).expect("json")).expect("schema")
    }

    fn errors(schema: &Schema, json: &str) -> Vec<String> {
        let mut out = Vec::new();
        schema.validate(
            &Value::from_json(json).expect("json"),
            "spec.parameters",
            &mut out,
        );
        out.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn type_errors_name_the_field() {
        let s = schema(
            r#"{"type":"object","properties":{"labels":{"type":"array","items":{"type":"string"}}}}"#,
        );
        assert_eq!(
            errors(&s, r#"{"labels":"owner"}"#),
            [
                "spec.parameters.labels: Invalid value: \"string\": spec.parameters.labels in body must be of type array: \"string\""
            ]
        );
        assert_eq!(
            errors(&s, r#"{"labels":["a", 3]}"#),
            [
                "spec.parameters.labels[1]: Invalid value: \"integer\": spec.parameters.labels[1] in body must be of type string: \"integer\""
            ]
        );
        assert!(errors(&s, r#"{"labels":["a"],"other":1}"#).is_empty());
    }

    #[test]
    fn required_enum_and_nullable() {
        let s = schema(
            r#"{"type":"object","required":["mode"],"properties":{"mode":{"type":"string","enum":["a","b"]},"n":{"type":"integer","nullable":true}}}"#,
        );
        assert_eq!(errors(&s, "{}"), ["spec.parameters.mode: Required value"]);
        assert_eq!(
            errors(&s, r#"{"mode":"c","n":null}"#),
            ["spec.parameters.mode: Unsupported value: \"c\": supported values: \"a\", \"b\""]
        );
        assert_eq!(
            errors(&s, r#"{"mode":"a","n":1.5}"#),
            [
                "spec.parameters.n: Invalid value: \"number\": spec.parameters.n in body must be of type integer: \"number\""
            ]
        );
    }

    #[test]
    fn defaults_apply_where_the_parent_exists() {
        let s = schema(
            r#"{"type":"object","properties":{"a":{"type":"string","default":"x"},"list":{"type":"array","items":{"type":"object","properties":{"p":{"type":"integer","default":80}}}}}}"#,
        );
        let mut value = Value::from_json(r#"{"list":[{},{"p":1}]}"#).expect("json");
        s.apply_defaults(&mut value);
        assert_eq!(value.to_json(), r#"{"a":"x","list":[{"p":80},{"p":1}]}"#);
    }

    #[test]
    fn unknown_fields_are_listed_unless_preserved() {
        let mut s = schema(
            r#"{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string"}}}}}"#,
        );
        let value = Value::from_json(r#"{"a":{"b":"x","c":1},"d":2}"#).expect("json");
        assert_eq!(s.unknown_fields(&value, false), ["a.c", "d"]);
        s.add_preserve_unknown_fields();
        assert!(s.unknown_fields(&value, false).is_empty());
    }
}
