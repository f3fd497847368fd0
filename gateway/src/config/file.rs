//! The configuration file's shape: OPA's keys where OPA has them, read into typed structs
//! once. Keys the gateway does not read are collected with their paths, so that start-up can
//! say which are OPA features not implemented yet and which look misspelt.

use serde::Deserialize;
use serde_json::Value as Json;

/// Every key the gateway reads; absent keys keep their defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FileConfig {
    pub default_decision: Option<String>,
    /// A Go duration (`5s`); validated after reading.
    pub evaluation_timeout: Option<String>,
    pub decision_cache: DecisionCache,
    pub compiled_evaluator: Option<bool>,
    pub server: Server,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionCache {
    pub max_entries: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Server {
    pub decoding: Decoding,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Decoding {
    pub max_length: Option<u64>,
    pub gzip: Gzip,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Gzip {
    pub max_length: Option<u64>,
}

/// The keys [`FileConfig`] reads, for suggestions.
const KNOWN_KEYS: &[&str] = &[
    "default_decision",
    "evaluation_timeout",
    "decision_cache.max_entries",
    "compiled_evaluator",
    "server.decoding.max_length",
    "server.decoding.gzip.max_length",
];

/// Top-level keys of OPA's configuration the gateway does not implement yet; a key below one
/// of them is reported once, by its top-level key.
const OPA_KEYS_NOT_IMPLEMENTED: &[&str] = &[
    "services",
    "labels",
    "bundles",
    "bundle",
    "decision_logs",
    "status",
    "discovery",
    "keys",
    "plugins",
    "caching",
    "distributed_tracing",
    "persistence_directory",
    "storage",
    "nd_builtin_cache",
    "extra",
];

/// Keys below `server` that OPA has and the gateway does not implement.
const OPA_SERVER_KEYS_NOT_IMPLEMENTED: &[&str] = &["server.encoding", "server.metrics"];

/// Reads `tree` into the typed configuration.
///
/// # Errors
/// A key whose value has the wrong type, named by its path.
pub fn read(tree: Json) -> anyhow::Result<(FileConfig, Vec<String>)> {
    let mut unread = Vec::new();
    let mut note_unread = |path: serde_ignored::Path<'_>| unread.push(path.to_string());
    let deserializer = serde_ignored::Deserializer::new(tree, &mut note_unread);
    let config: FileConfig = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        anyhow::anyhow!("{path}: {}", error.into_inner())
    })?;
    let warnings = warnings_for(&unread);
    Ok((config, warnings))
}

/// One warning per key the gateway did not read: an OPA feature not implemented yet, or a key
/// nobody knows, with the nearest known key when one is close.
fn warnings_for(unread: &[String]) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut reported_sections: Vec<&str> = Vec::new();
    for path in unread {
        let section = OPA_KEYS_NOT_IMPLEMENTED
            .iter()
            .chain(OPA_SERVER_KEYS_NOT_IMPLEMENTED)
            .find(|key| path == *key || path.starts_with(&format!("{key}.")));
        if let Some(section) = section {
            if !reported_sections.contains(section) {
                reported_sections.push(section);
                warnings.push(format!(
                    "config key {section}: an OPA setting the gateway does not implement yet; ignored"
                ));
            }
            continue;
        }
        let message = match nearest_known_key(path) {
            Some(known) => format!("unknown config key {path}; ignored (did you mean {known}?)"),
            None => format!("unknown config key {path}; ignored"),
        };
        warnings.push(message);
    }
    warnings
}

/// The known key (or section, such as `server.decoding`) closest to `path` by edit distance,
/// if it is close enough to be a typo.
fn nearest_known_key(path: &str) -> Option<&'static str> {
    let sections = KNOWN_KEYS.iter().flat_map(|key| {
        key.match_indices('.')
            .map(|(end, _)| &key[..end])
            .chain(std::iter::once(*key))
    });
    sections
        .map(|known| (strsim::levenshtein(path, known), known))
        .filter(|(distance, known)| *distance <= 3.max(known.len() / 5))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warnings(json: &str) -> Vec<String> {
        let (_, warnings) = read(serde_json::from_str(json).expect("json")).expect("config");
        warnings
    }

    #[test]
    fn known_keys_are_read_without_warnings() {
        let (config, warnings) = read(serde_json::json!({
            "default_decision": "/authz/allow",
            "decision_cache": {"max_entries": 5},
            "server": {"decoding": {"max_length": 10, "gzip": {"max_length": 20}}},
        }))
        .expect("config");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.default_decision.as_deref(), Some("/authz/allow"));
        assert_eq!(config.decision_cache.max_entries, Some(5));
        assert_eq!(config.server.decoding.gzip.max_length, Some(20));
    }

    #[test]
    fn opa_features_not_implemented_are_named_once_per_section() {
        let warnings = warnings(
            r#"{"services": {"acme": {"url": "https://x"}}, "decision_logs": {"console": true,
                "reporting": {"min_delay_seconds": 5}}, "server": {"metrics": {"prom": {}}}}"#,
        );
        assert_eq!(
            warnings,
            [
                "config key decision_logs: an OPA setting the gateway does not implement yet; ignored",
                "config key server.metrics: an OPA setting the gateway does not implement yet; ignored",
                "config key services: an OPA setting the gateway does not implement yet; ignored",
            ]
        );
    }

    #[test]
    fn misspelt_keys_get_the_nearest_known_key() {
        assert_eq!(
            warnings(r#"{"evalution_timeout": "1s", "server": {"decodng": {"max_length": 1}}}"#),
            [
                "unknown config key evalution_timeout; ignored (did you mean evaluation_timeout?)",
                "unknown config key server.decodng; ignored (did you mean server.decoding?)",
            ]
        );
        assert_eq!(
            warnings(r#"{"completely_different": 1}"#),
            ["unknown config key completely_different; ignored"]
        );
    }

    #[test]
    fn wrong_types_name_the_key() {
        let error = read(serde_json::json!({"compiled_evaluator": "sometimes"}))
            .expect_err("a string for a boolean");
        assert_eq!(
            error.to_string(),
            "compiled_evaluator: invalid type: string \"sometimes\", expected a boolean"
        );
        let error = read(serde_json::json!({"server": {"decoding": {"max_length": "lots"}}}))
            .expect_err("a string for a size");
        assert!(
            error
                .to_string()
                .starts_with("server.decoding.max_length: "),
            "{error}"
        );
    }
}
