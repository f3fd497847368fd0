//! The `.manifest` file: revision, roots, Wasm resolvers, Rego versions and metadata.

use std::collections::BTreeMap;

use rego_runtime::{RegoVersion, Value};
use serde::Deserialize;

use crate::roots;

/// A bundle's `.manifest`, as OPA reads it (unknown fields ignored).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub revision: String,
    /// The paths under `data` this bundle owns; absent means `[""]`, everything.
    #[serde(default)]
    pub roots: Option<Vec<String>>,
    /// Entrypoints served by compiled Wasm modules, kept for the Wasm engine.
    #[serde(default, rename = "wasm")]
    pub wasm_resolvers: Vec<WasmResolver>,
    /// 0 or 1; absent means the server's default (v1 unless `--v0-compatible`).
    #[serde(default)]
    pub rego_version: Option<i64>,
    /// Per-file overrides of `rego_version`, keyed by a glob over `/path/in/bundle.rego`.
    #[serde(default)]
    pub file_rego_versions: BTreeMap<String, i64>,
    #[serde(default)]
    pub metadata: Option<Value>,
}

/// One `wasm` entry of a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct WasmResolver {
    pub entrypoint: String,
    pub module: String,
    #[serde(default)]
    pub annotations: Option<serde_json::Value>,
}

impl Manifest {
    /// The roots with OPA's default and with leading and trailing `/` trimmed.
    pub fn effective_roots(&self) -> Vec<String> {
        match &self.roots {
            None => vec![String::new()],
            Some(roots) => roots.iter().map(|r| roots::standardize(r)).collect(),
        }
    }

    /// The Rego version of the module at `path` (`/a/b.rego`), falling back to `default`.
    pub fn rego_version_for(&self, path: &str, default: RegoVersion) -> RegoVersion {
        let relative = path.trim_start_matches('/');
        let numeric = self
            .file_rego_versions
            .iter()
            .find(|(pattern, _)| glob_match(pattern.trim_start_matches('/'), relative))
            .map(|(_, v)| *v)
            .or(self.rego_version);
        match numeric {
            Some(0) => RegoVersion::V0,
            Some(_) => RegoVersion::V1,
            None => default,
        }
    }

    /// The manifest as OPA stores it under `data.system.bundles.<name>.manifest`: its JSON
    /// with empty fields left out, roots defaulted.
    pub fn to_value(&self) -> Value {
        let mut entries: Vec<(&str, Value)> = vec![("revision", Value::string(&self.revision))];
        entries.push((
            "roots",
            Value::array(self.effective_roots().iter().map(Value::string).collect()),
        ));
        if !self.wasm_resolvers.is_empty() {
            let resolvers = self
                .wasm_resolvers
                .iter()
                .map(|r| {
                    let mut fields = vec![
                        ("entrypoint", Value::string(&r.entrypoint)),
                        ("module", Value::string(&r.module)),
                    ];
                    if let Some(annotations) = &r.annotations {
                        fields.push(("annotations", Value::from(annotations.clone())));
                    }
                    Value::object(fields)
                })
                .collect();
            entries.push(("wasm", Value::array(resolvers)));
        }
        if let Some(version) = self.rego_version {
            entries.push(("rego_version", Value::int(version)));
        }
        if !self.file_rego_versions.is_empty() {
            entries.push((
                "file_rego_versions",
                Value::object(
                    self.file_rego_versions
                        .iter()
                        .map(|(k, v)| (k, Value::int(*v))),
                ),
            ));
        }
        if let Some(metadata) = self
            .metadata
            .as_ref()
            .filter(|m| m.as_object().is_none_or(|o| !o.is_empty()))
        {
            entries.push(("metadata", metadata.clone()));
        }
        Value::object(entries)
    }
}

/// Go's `filepath.Match`: `*` and `?` stay within one path segment; `[...]` classes.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_from(&p, &n)
}

fn glob_from(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => {
            let rest = &p[1..];
            let mut i = 0;
            loop {
                if glob_from(rest, &n[i..]) {
                    return true;
                }
                if i == n.len() || n[i] == '/' {
                    return false;
                }
                i += 1;
            }
        }
        Some('?') => n.first().is_some_and(|c| *c != '/') && glob_from(&p[1..], &n[1..]),
        Some('[') => {
            let Some(close) = p.iter().position(|c| *c == ']') else {
                return false;
            };
            let Some(c) = n.first() else { return false };
            let class = &p[1..close];
            let (negated, class) = match class.first() {
                Some('^') | Some('!') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= *c && *c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == *c;
                    i += 1;
                }
            }
            hit != negated && *c != '/' && glob_from(&p[close + 1..], &n[1..])
        }
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && glob_from(&p[2..], &n[1..]),
        Some(c) => n.first() == Some(c) && glob_from(&p[1..], &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_stay_within_a_segment() {
        assert!(glob_match("foo/*.rego", "foo/x.rego"));
        assert!(!glob_match("foo/*.rego", "foo/bar/x.rego"));
        assert!(glob_match("*/x.rego", "a/x.rego"));
        assert!(glob_match("v[0-9].rego", "v1.rego"));
    }

    #[test]
    fn file_versions_override_the_bundle_version() {
        let manifest: Manifest =
            serde_json::from_str(r#"{"rego_version":1,"file_rego_versions":{"/legacy/*.rego":0}}"#)
                .expect("manifest");
        assert_eq!(
            manifest.rego_version_for("/legacy/a.rego", RegoVersion::V1),
            RegoVersion::V0
        );
        assert_eq!(
            manifest.rego_version_for("/new/a.rego", RegoVersion::V0),
            RegoVersion::V1
        );
    }
}
