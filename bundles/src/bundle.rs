//! Assembles a bundle from its files: modules with their Rego version, data placed by
//! directory, the manifest, and Wasm modules; then checks it against its own roots.

use std::sync::Arc;

use rego_runtime::{PolicyModule, RegoVersion, Value};

use crate::manifest::Manifest;
use crate::read::RawFile;
use crate::{Error, data_tree, roots};

/// A bundle ready to be activated.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The name the bundle is activated under (its source path for local bundles).
    pub name: String,
    pub manifest: Manifest,
    /// Rego modules, ids prefixed with the bundle name as OPA stores them.
    pub modules: Vec<PolicyModule>,
    /// The bundle's data document, every data file merged in.
    pub data: Value,
    /// Compiled Wasm modules by bundle path, kept for the Wasm engine.
    pub wasm_modules: Vec<RawFile>,
}

/// How to read a bundle.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The Rego version of modules whose manifest says nothing (`--v0-compatible` gives V0).
    pub default_rego_version: RegoVersion,
    /// Prefix of module file names: a directory bundle's own path, as OPA's loader names its
    /// modules (`dir/x.rego`); empty for archives (`/x.rego`).
    pub base_dir: String,
}

impl Bundle {
    /// Builds a bundle named `name` from `files`, validating it whole.
    ///
    /// # Errors
    /// A malformed manifest or data file, conflicting data, or content outside the roots.
    pub fn from_files(
        name: &str,
        files: Vec<RawFile>,
        options: &ReadOptions,
    ) -> Result<Bundle, Error> {
        let mut manifest = Manifest::default();
        let mut data = Value::empty_object();
        let mut rego_files = Vec::new();
        let mut wasm_modules = Vec::new();

        for file in files {
            let base = file.path.rsplit('/').next().unwrap_or_default();
            if file.path.ends_with(".rego") {
                rego_files.push(file);
            } else if base == "policy.wasm" {
                wasm_modules.push(file);
            } else if base == "data.json" || base == "data.yaml" || base == "data.yml" {
                let value = parse_data(&file)?;
                place_data(&mut data, &file.path, value)?;
            } else if file.path.ends_with(".manifest") {
                manifest = serde_json::from_slice(&file.bytes).map_err(|e| Error::Malformed {
                    path: file.path.clone(),
                    message: format!("bundle load failed on manifest decode: {e}"),
                })?;
            }
        }

        let mut modules = Vec::with_capacity(rego_files.len());
        for file in rego_files {
            let source = String::from_utf8(file.bytes).map_err(|_| Error::Malformed {
                path: file.path.clone(),
                message: "module is not valid UTF-8".to_string(),
            })?;
            let module_file = join_path(&options.base_dir, &file.path);
            modules.push(PolicyModule {
                id: join_path(name, &module_file),
                file: module_file,
                rego_version: manifest.rego_version_for(&file.path, options.default_rego_version),
                source: Arc::from(source),
            });
        }

        let bundle = Bundle {
            name: name.to_string(),
            manifest,
            modules,
            data,
            wasm_modules,
        };
        bundle.validate_roots()?;
        Ok(bundle)
    }

    /// OPA's checks of a manifest against the bundle's own content.
    fn validate_roots(&self) -> Result<(), Error> {
        let roots = self.manifest.effective_roots();
        for (i, a) in roots.iter().enumerate() {
            for b in &roots[i + 1..] {
                if roots::overlap(a, b) {
                    return Err(Error::Roots(format!(
                        "manifest has overlapped roots: '{a}' and '{b}'"
                    )));
                }
            }
        }
        for module in &self.modules {
            let package = rego_runtime::rego::package_path(&module.source);
            let permitted = package
                .as_ref()
                .is_some_and(|p| roots::any_contains(&roots, &p.join("/")));
            if !permitted {
                let shown = package.map_or_else(String::new, |p| p.join("."));
                return Err(Error::Roots(format!(
                    "manifest roots {} do not permit 'package {shown}' in module '{}'",
                    roots::display(&roots),
                    module.file
                )));
            }
        }
        check_data_within_roots(&self.data, &mut Vec::new(), &roots)?;
        for resolver in &self.manifest.wasm_resolvers {
            if !self.wasm_modules.iter().any(|m| m.path == resolver.module) {
                return Err(Error::Roots(format!(
                    "manifest references wasm module '{}' but the module file does not exist",
                    resolver.module
                )));
            }
            if !roots::any_contains(&roots, resolver.entrypoint.trim_matches('/')) {
                return Err(Error::Roots(format!(
                    "manifest roots {} do not permit '{}' entrypoint for wasm module '{}'",
                    roots::display(&roots),
                    resolver.entrypoint,
                    resolver.module
                )));
            }
        }
        Ok(())
    }
}

/// Walks data the way OPA's `dfs` does: a path inside a root is fine; an object on the way
/// to a root is descended into; anything else is outside every root.
fn check_data_within_roots(
    node: &Value,
    path: &mut Vec<String>,
    roots: &[String],
) -> Result<(), Error> {
    let joined = path.join("/");
    if !path.is_empty() && roots::any_contains(roots, &joined) {
        return Ok(());
    }
    if roots.iter().any(|r| r.is_empty()) {
        return Ok(());
    }
    match node.as_object() {
        Some(entries) if path.is_empty() || roots.iter().any(|r| roots::contains(&joined, r)) => {
            for (key, child) in entries.iter() {
                path.push(key.as_str().unwrap_or_default().to_string());
                check_data_within_roots(child, path, roots)?;
                path.pop();
            }
            Ok(())
        }
        _ => Err(Error::Roots(format!(
            "manifest roots {} do not permit data at path '/{joined}' (hint: check bundle directory structure)",
            roots::display(roots)
        ))),
    }
}

fn parse_data(file: &RawFile) -> Result<Value, Error> {
    let malformed = |message: String| Error::Malformed {
        path: file.path.clone(),
        message: format!("bundle load failed on {}: {message}", file.path),
    };
    if file.path.ends_with(".json") {
        Value::from_json(&String::from_utf8_lossy(&file.bytes))
            .map_err(|e| malformed(e.to_string()))
    } else {
        let yaml: serde_json::Value =
            yaml_serde::from_slice(&file.bytes).map_err(|e| malformed(e.to_string()))?;
        Ok(Value::from(yaml))
    }
}

/// Merges a data file's value at its directory's path.
fn place_data(data: &mut Value, file_path: &str, value: Value) -> Result<(), Error> {
    let directory: Vec<String> = file_path
        .trim_start_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .split_last()
        .map(|(_, dirs)| dirs.iter().map(|d| d.to_string()).collect())
        .unwrap_or_default();
    if directory.is_empty() && value.as_object().is_none() {
        return Err(Error::Malformed {
            path: file_path.to_string(),
            message: format!("bundle load failed on {file_path}: root value must be object"),
        });
    }
    data_tree::insert(data, &directory, value).map_err(|_| Error::DataConflict {
        path: file_path.to_string(),
        message: format!(
            "failed to insert data file from path {}",
            directory.join("/")
        ),
    })
}

/// Go's `filepath.Join`: joined with one `/`, empty parts and `.` dropped; absolute when
/// the first non-empty part is.
fn join_path(first: &str, second: &str) -> String {
    if first.is_empty() {
        return second.to_string();
    }
    let absolute = first.starts_with('/');
    let parts: Vec<&str> = first
        .split('/')
        .chain(second.split('/'))
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> RawFile {
        RawFile {
            path: path.to_string(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn assembles_modules_data_and_manifest() {
        let bundle = Bundle::from_files(
            "b",
            vec![
                file(
                    "/.manifest",
                    r#"{"revision":"r1","roots":["authz","users"]}"#,
                ),
                file("/authz/policy.rego", "package authz\nallow := true\n"),
                file("/users/data.json", r#"{"alice":{"admin":true}}"#),
                file("/users/extra/data.yaml", "bob: {admin: false}\n"),
            ],
            &ReadOptions::default(),
        )
        .expect("bundle");
        assert_eq!(bundle.manifest.revision, "r1");
        assert_eq!(bundle.modules[0].id, "b/authz/policy.rego");
        assert_eq!(bundle.modules[0].file, "/authz/policy.rego");
        assert_eq!(
            bundle.data.to_json(),
            r#"{"users":{"alice":{"admin":true},"extra":{"bob":{"admin":false}}}}"#
        );
    }

    #[test]
    fn refuses_content_outside_the_roots() {
        let error = Bundle::from_files(
            "b",
            vec![
                file("/.manifest", r#"{"roots":["a","b","c/d"]}"#),
                file("/x.rego", "package c.e\n"),
            ],
            &ReadOptions::default(),
        )
        .expect_err("outside roots");
        assert_eq!(
            error.to_string(),
            "manifest roots [a b c/d] do not permit 'package c.e' in module '/x.rego'"
        );
        let error = Bundle::from_files(
            "b",
            vec![
                file("/.manifest", r#"{"roots":["a","b","c/d"]}"#),
                file("/c/e/data.json", r#""bad""#),
            ],
            &ReadOptions::default(),
        )
        .expect_err("outside roots");
        assert!(
            error
                .to_string()
                .contains("do not permit data at path '/c/e'")
        );
    }

    #[test]
    fn refuses_overlapping_roots_and_conflicting_data() {
        let overlap = Bundle::from_files(
            "b",
            vec![file("/.manifest", r#"{"roots":["a/b","a"]}"#)],
            &ReadOptions::default(),
        )
        .expect_err("overlap");
        assert_eq!(
            overlap.to_string(),
            "manifest has overlapped roots: 'a/b' and 'a'"
        );
        let conflict = Bundle::from_files(
            "b",
            vec![
                file("/data.json", r#"{"a":{"x":1}}"#),
                file("/a/data.json", r#"{"x":2}"#),
            ],
            &ReadOptions::default(),
        );
        assert!(matches!(conflict, Err(Error::DataConflict { .. })));
    }
}
