//! Finds case files under any directory tree and reads them.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rego_runtime::RegoVersion;

use crate::case::{CaseFile, LoadedCase};

/// Every case in every `.yaml`/`.yml` file below `root` (or in `root`, if it is a file),
/// in path order.
///
/// # Errors
/// An unreadable directory or a file that is not OPA's case format.
pub fn load(root: &Path) -> anyhow::Result<Vec<LoadedCase>> {
    let mut files = Vec::new();
    if root.is_file() {
        files.push(root.to_path_buf());
    } else {
        walk(root, &mut files)?;
    }
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        // YAML files without a `cases` list (a known-failures list, a Gatekeeper suite) are
        // not test-case files and are passed over. The project's value type reads any YAML,
        // integers beyond 64 bits included.
        let raw: rego_runtime::Value =
            yaml_serde::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        if raw.get("cases").is_none() {
            continue;
        }
        let parsed: CaseFile =
            yaml_serde::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        let relative = file.strip_prefix(root).unwrap_or(&file);
        let folder = relative
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| ".".to_string());
        let rego_version = if file.components().any(|c| c.as_os_str() == "v0") {
            RegoVersion::V0
        } else {
            RegoVersion::V1
        };
        for case in parsed.cases {
            cases.push(LoadedCase {
                case,
                file: relative.to_string_lossy().into_owned(),
                folder: folder.clone(),
                rego_version,
            });
        }
    }
    Ok(cases)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    Ok(())
}
