//! Expected failures, each with its reason: they are reported as "known" so CI stays green
//! while the table stays honest, and one that starts passing fails the run.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// One entry of `known-failures.yaml`.
#[derive(Clone, Debug, Deserialize)]
pub struct KnownFailure {
    /// `<folder>/<note>` of one case, or a prefix ending in `*` for many.
    pub case: String,
    /// Targets it applies to; empty means every target.
    #[serde(default)]
    pub targets: Vec<String>,
    pub reason: String,
}

/// The list, looked up per case and target.
#[derive(Clone, Debug, Default)]
pub struct KnownFailures {
    entries: Vec<KnownFailure>,
}

impl KnownFailures {
    /// Reads a known-failures file; a missing file is an empty list.
    ///
    /// # Errors
    /// A file that exists but does not parse, or an entry without a reason.
    pub fn load(path: &Path) -> anyhow::Result<KnownFailures> {
        if !path.exists() {
            return Ok(KnownFailures::default());
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let entries: Option<Vec<KnownFailure>> =
            yaml_serde::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let entries = entries.unwrap_or_default();
        if let Some(bad) = entries.iter().find(|e| e.reason.trim().is_empty()) {
            anyhow::bail!("{}: entry {} has no reason", path.display(), bad.case);
        }
        Ok(KnownFailures { entries })
    }

    /// The reason `case` is expected to fail on `target`, if it is.
    pub fn reason(&self, case: &str, target: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|entry| {
                let name_matches = match entry.case.strip_suffix('*') {
                    Some(prefix) => case.starts_with(prefix),
                    None => entry.case == case,
                };
                name_matches
                    && (entry.targets.is_empty() || entry.targets.iter().any(|t| t == target))
            })
            .map(|entry| entry.reason.as_str())
    }

    pub fn entries(&self) -> &[KnownFailure] {
        &self.entries
    }
}
