//! Kubernetes objects as loaded values: reading YAML (multi-document) and JSON, walking files
//! and directories, and the handful of fields Gatekeeper reads (apiVersion, kind, metadata).

use std::path::{Path, PathBuf};

use rego_runtime::Value;

/// File extensions gator reads (`.json` only for `gator test`, as gator does).
const YAML_EXTENSIONS: [&str; 2] = ["yaml", "yml"];

/// Parses a YAML stream (documents split by `---`) or JSON text (one or more values) into
/// objects; empty documents are skipped and `List` kinds stay as they are.
///
/// # Errors
/// The parser's message, naming the document that failed.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let mut values = Vec::new();
        for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            let value = value.map_err(|e| format!("invalid JSON: {e}"))?;
            match value {
                Value::Array(items) => values.extend(items.iter().cloned()),
                other => values.push(other),
            }
        }
        return Ok(values.into_iter().filter(is_document).collect());
    }
    let mut values = Vec::new();
    for (index, document) in yaml_serde::Deserializer::from_str(text).enumerate() {
        let value: Value = serde::Deserialize::deserialize(document)
            .map_err(|e| format!("invalid YAML in document {}: {e}", index + 1))?;
        if is_document(&value) {
            values.push(value);
        }
    }
    Ok(values)
}

fn is_document(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(entries) => !entries.is_empty(),
        _ => true,
    }
}

/// Expands `kind: *List` objects into their `items`.
pub fn flatten_lists(values: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::with_capacity(values.len());
    for value in values {
        let is_list = kind(&value).ends_with("List");
        match value.get("items").and_then(Value::as_array) {
            Some(items) if is_list => out.extend(items.iter().cloned()),
            _ => out.push(value),
        }
    }
    out
}

/// Every file below `path` (or `path` itself) whose extension is one of `extensions`, sorted.
///
/// # Errors
/// A path that does not exist or cannot be listed.
pub fn files_below(path: &Path, extensions: &[&str]) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let entry_path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(entry_path);
            } else if has_extension(&entry_path, extensions) {
                out.push(entry_path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// True when `path` ends in one of `extensions` (without the dot).
pub fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e))
}

/// YAML and JSON: what `--gatekeeper` and `--inventory` paths may hold.
pub const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Suite files: what `gateway verify` reads.
pub const SUITE_EXTENSIONS: [&str; 2] = YAML_EXTENSIONS;

/// Reads and parses every manifest below `path`.
///
/// # Errors
/// An unreadable path or a file that does not parse, named in the message.
pub fn read_manifests(path: &Path) -> Result<Vec<Value>, String> {
    let files = files_below(path, &MANIFEST_EXTENSIONS)
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("reading {}: {e}", file.display()))?;
        let values = parse_documents(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        out.extend(values);
    }
    Ok(out)
}

/// A string member, or `""`.
pub fn str_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    let mut node = value;
    for key in path {
        match node.get(key) {
            Some(child) => node = child,
            None => return "",
        }
    }
    node.as_str().unwrap_or("")
}

/// `apiVersion`.
pub fn api_version(object: &Value) -> &str {
    str_at(object, &["apiVersion"])
}

/// `kind`.
pub fn kind(object: &Value) -> &str {
    str_at(object, &["kind"])
}

/// `metadata.name`.
pub fn name(object: &Value) -> &str {
    str_at(object, &["metadata", "name"])
}

/// `metadata.namespace`.
pub fn namespace(object: &Value) -> &str {
    str_at(object, &["metadata", "namespace"])
}

/// `metadata.generateName`.
pub fn generate_name(object: &Value) -> &str {
    str_at(object, &["metadata", "generateName"])
}

/// The group of an apiVersion: `apps/v1` gives `apps`, `v1` the core group `""`.
pub fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(group, _)| group)
}

/// The version of an apiVersion: `apps/v1` gives `v1`.
pub fn version_of(api_version: &str) -> &str {
    api_version
        .split_once('/')
        .map_or(api_version, |(_, version)| version)
}

/// `metadata.labels` as pairs (values that are not strings are skipped, as Go's typed read
/// of labels fails on them).
pub fn labels(object: &Value) -> Vec<(&str, &str)> {
    object
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?, v.as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The label `key` of `object`.
pub fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

/// True for a core-group `Namespace`.
pub fn is_namespace(object: &Value) -> bool {
    kind(object) == "Namespace" && group_of(api_version(object)).is_empty()
}

/// A copy of `value` with `key` set (objects only; anything else is returned unchanged).
pub fn with_member(value: &Value, key: &str, member: Value) -> Value {
    match value {
        Value::Object(entries) => {
            let mut entries = entries.clone();
            std::sync::Arc::make_mut(&mut entries).insert(Value::string(key), member);
            Value::Object(entries)
        }
        other => other.clone(),
    }
}

/// A copy of `value` without `key`.
pub fn without_member(value: &Value, key: &str) -> Value {
    match value {
        Value::Object(entries) if entries.contains_key(&Value::string(key)) => {
            let mut entries = entries.clone();
            std::sync::Arc::make_mut(&mut entries).remove(&Value::string(key));
            Value::Object(entries)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multi_document_yaml_and_json() {
        let yaml = "---\na: 1\n---\n# nothing\n---\nb: yes\n";
        let docs = parse_documents(yaml).expect("yaml");
        assert_eq!(docs.len(), 2);
        // YAML 1.2: `yes` stays a string.
        assert_eq!(docs[1].get("b"), Some(&Value::string("yes")));
        let json = "{\"a\":1}\n{\"b\":2}";
        assert_eq!(parse_documents(json).expect("json").len(), 2);
        assert!(parse_documents("a: [").is_err());
    }

    #[test]
    fn splits_api_versions() {
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("v1"), "");
        assert_eq!(version_of("v1"), "v1");
        assert_eq!(version_of("networking.k8s.io/v1"), "v1");
    }

    #[test]
    fn flattens_lists() {
        let list = parse_documents("kind: List\nitems:\n- kind: A\n- kind: B\n").expect("yaml");
        assert_eq!(flatten_lists(list).len(), 2);
    }
}
