//! METADATA annotations (`# METADATA` comment blocks of YAML before a package or rule) and
//! the values `rego.metadata.rule()` and `rego.metadata.chain()` answer with, computed from
//! the source alone. The lowering pass writes them into the module as constants, since
//! regorus does not keep annotations.

use std::collections::BTreeMap;

use super::lexer::{self, Kind, Token};
use crate::Value;

/// One annotation block: where it applies and its processed fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    /// `rule`, `document`, `package` or `subpackages`.
    pub scope: String,
    /// The object `rego.metadata.*` returns, `scope` included.
    pub value: Value,
}

/// Why a block could not be read; OPA reports it as a parse error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnotationError {
    pub row: u32,
    pub message: String,
}

/// The annotation block right before token `first` (only comments and layout between), if
/// any; `default_scope` applies when the block names none.
pub fn before(
    source: &str,
    tokens: &[Token],
    first: usize,
    default_scope: &str,
) -> Result<Option<Annotation>, AnnotationError> {
    // Comment lines directly above, nearest last.
    let mut comments = Vec::new();
    for token in tokens[..first].iter().rev() {
        match token.kind {
            Kind::Comment => comments.push(*token),
            Kind::Space | Kind::Newline => {}
            _ => break,
        }
    }
    comments.reverse();
    let Some(start) = comments
        .iter()
        .rposition(|c| c.text(source).trim_start_matches('#').trim() == "METADATA")
    else {
        return Ok(None);
    };
    let (row, _) = lexer::row_col(source, comments[start].start);
    let yaml: String = comments[start + 1..]
        .iter()
        .map(|c| {
            let text = c.text(source).trim_start_matches('#');
            format!("{}\n", text.strip_prefix(' ').unwrap_or(text))
        })
        .collect();
    let parsed: Value = if yaml.trim().is_empty() {
        Value::empty_object()
    } else {
        read_yaml(&yaml).map_err(|e| AnnotationError {
            row,
            message: format!("yaml: {e}"),
        })?
    };
    Ok(Some(process(&parsed, default_scope)))
}

/// The block's YAML as a value, read by the YAML parser regorus ships.
fn read_yaml(text: &str) -> Result<Value, String> {
    let parsed = regorus::Value::from_yaml_str(text).map_err(|e| e.to_string())?;
    let json = parsed.to_json_str().map_err(|e| e.to_string())?;
    Value::from_json(&json).map_err(|e| e.to_string())
}

/// OPA's processing of the known fields; unknown keys are dropped.
fn process(raw: &Value, default_scope: &str) -> Annotation {
    let mut out: BTreeMap<&str, Value> = BTreeMap::new();
    let entrypoint = raw.get("entrypoint") == Some(&Value::Bool(true));
    let scope = match raw.get("scope").and_then(Value::as_str) {
        Some(scope) => scope.to_string(),
        // An entrypoint rule's annotation describes the whole document.
        None if entrypoint && default_scope == "rule" => "document".to_string(),
        None => default_scope.to_string(),
    };
    for key in ["title", "description", "custom", "organizations", "schemas"] {
        if let Some(value) = raw.get(key) {
            out.insert(key, value.clone());
        }
    }
    if entrypoint {
        out.insert("entrypoint", Value::Bool(true));
    }
    if let Some(authors) = raw.get("authors").and_then(Value::as_array) {
        out.insert(
            "authors",
            Value::array(authors.iter().map(author).collect()),
        );
    }
    if let Some(resources) = raw.get("related_resources").and_then(Value::as_array) {
        let resources = resources
            .iter()
            .map(|r| match r.as_str() {
                Some(reference) => Value::object([("ref", Value::string(reference))]),
                None => r.clone(),
            })
            .collect();
        out.insert("related_resources", Value::array(resources));
    }
    out.insert("scope", Value::string(&scope));
    Annotation {
        scope,
        value: Value::object(out),
    }
}

/// `"Jane Doe <jane@example.com>"` as `{"name": "Jane Doe", "email": "jane@example.com"}`.
fn author(entry: &Value) -> Value {
    let Some(text) = entry.as_str() else {
        return entry.clone();
    };
    match text.rsplit_once('<') {
        Some((name, rest)) if rest.ends_with('>') => {
            let mut fields = vec![("email", Value::string(rest.trim_end_matches('>').trim()))];
            if !name.trim().is_empty() {
                fields.push(("name", Value::string(name.trim())));
            }
            Value::object(fields)
        }
        _ => Value::object([("name", Value::string(text.trim()))]),
    }
}

/// `rego.metadata.chain()` for a rule at `rule_path` (package components then head).
pub fn chain(
    rule_path: &[String],
    rule: Option<&Annotation>,
    document: Option<&Annotation>,
    packages: &[(Vec<String>, Annotation)],
) -> Value {
    let path_value = |path: &[String]| Value::array(path.iter().map(Value::string).collect());
    let mut entries = vec![match rule.filter(|a| a.scope == "rule") {
        Some(annotation) => Value::object([
            ("path", path_value(rule_path)),
            ("annotations", annotation.value.clone()),
        ]),
        None => Value::object([("path", path_value(rule_path))]),
    }];
    if let Some(annotation) = document {
        entries.push(Value::object([
            ("path", path_value(rule_path)),
            ("annotations", annotation.value.clone()),
        ]));
    }
    for (path, annotation) in packages {
        entries.push(Value::object([
            ("path", path_value(path)),
            ("annotations", annotation.value.clone()),
        ]));
    }
    Value::array(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotation(source: &str) -> Option<Annotation> {
        let tokens = lexer::tokenize(source);
        let first = tokens
            .iter()
            .position(|t| t.kind == Kind::Ident)
            .expect("a rule");
        before(source, &tokens, first, "rule").expect("valid yaml")
    }

    #[test]
    fn reads_blocks_as_opa_processes_them() {
        let a = annotation(
            "# METADATA\n# title: T\n# authors: [\"Jane <j@x.io>\"]\n# colour: blue\np := 1\n",
        )
        .expect("annotation");
        assert_eq!(
            a.value.to_json(),
            r#"{"authors":[{"email":"j@x.io","name":"Jane"}],"scope":"rule","title":"T"}"#
        );
        let entry = annotation("# METADATA\n# entrypoint: true\np := 1\n").expect("annotation");
        assert_eq!(entry.scope, "document");
        assert_eq!(annotation("# just a comment\np := 1\n"), None);
    }
}
