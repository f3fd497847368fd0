//! Expected failures, each with its reason: they are reported as "known" so CI stays green
//! while the table stays honest, and one that starts passing fails the run.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The name a known-failures file has beside its corpus.
pub const FILE_NAME: &str = "known-failures.yaml";

/// The known-failures file that goes with the corpus at `corpus`: `known-failures.yaml` in
/// the corpus directory (a file's own directory, for a single file), else in its parent, as
/// `conformance/known-failures.yaml` goes with `conformance/cases`.
pub fn beside(corpus: &Path) -> Option<PathBuf> {
    let dir = if corpus.is_dir() {
        corpus
    } else {
        corpus
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    [dir.join(FILE_NAME), dir.join("..").join(FILE_NAME)]
        .into_iter()
        .find(|candidate| candidate.is_file())
}

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

    /// Adds another list's entries (one list per corpus of a run).
    pub fn extend(&mut self, other: KnownFailures) {
        self.entries.extend(other.entries);
    }
}

#[cfg(test)]
mod tests {
    use super::{FILE_NAME, beside};

    #[test]
    fn finds_the_list_in_or_beside_the_corpus() {
        let root = std::env::temp_dir().join(format!("known-beside-{}", std::process::id()));
        let corpus = root.join("cases");
        std::fs::create_dir_all(corpus.join("v1")).unwrap();
        std::fs::write(corpus.join("v1/a.yaml"), "cases: []\n").unwrap();
        assert_eq!(beside(&corpus), None);

        std::fs::write(root.join(FILE_NAME), "[]\n").unwrap();
        assert_eq!(beside(&corpus), Some(corpus.join("..").join(FILE_NAME)));
        assert_eq!(
            beside(&corpus.join("v1/a.yaml")),
            None,
            "only the corpus directory and its parent are searched"
        );

        std::fs::write(corpus.join(FILE_NAME), "[]\n").unwrap();
        assert_eq!(beside(&corpus), Some(corpus.join(FILE_NAME)));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
