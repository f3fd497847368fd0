//! A bundle on local disk: a `.tar.gz` archive or a directory, re-read when it changes.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::Error;
use crate::bundle::{Bundle, ReadOptions};
use crate::read::{RawFile, read_archive, read_directory};

/// A summary of a bundle's files on disk (paths, sizes, modification times); a different
/// fingerprint means something changed and the bundle should be read again.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Fingerprint(Vec<(PathBuf, u64, Option<SystemTime>)>);

/// A bundle at a local path, named by that path as `opa run -b PATH` names it.
#[derive(Clone, Debug)]
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    pub fn new(path: impl Into<PathBuf>) -> FileSource {
        FileSource { path: path.into() }
    }

    /// The bundle's name: its path as given.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and validates the bundle.
    ///
    /// # Errors
    /// Anything [`Bundle::from_files`] refuses, or a path that cannot be read.
    pub fn load(&self, options: &ReadOptions) -> Result<Bundle, Error> {
        let mut options = options.clone();
        let files = if self.path.is_dir() {
            options.base_dir = self.name();
            read_directory(&self.path)?
        } else {
            let bytes = fs::read(&self.path).map_err(|source| Error::Read {
                path: self.name(),
                source,
            })?;
            match loose_file_path(&self.path) {
                Some(path) => {
                    // Its module is named by the path given, as `opa run FILE` names it.
                    if let Some(parent) = self.path.parent() {
                        options.base_dir = parent.display().to_string();
                    }
                    vec![RawFile { path, bytes }]
                }
                None => read_archive(&self.name(), &bytes)?,
            }
        };
        Bundle::from_files(&self.name(), files, &options)
    }

    /// The current fingerprint; cheap enough to poll every second.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut entries = Vec::new();
        collect(&self.path, &mut entries);
        entries.sort();
        Fingerprint(entries)
    }
}

/// Where a lone policy or data file sits in the one-file bundle it is served as: a module
/// under its own name, a data file as the root document (as `opa run FILE` loads it).
fn loose_file_path(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    match path.extension()?.to_str()? {
        "rego" => Some(format!("/{name}")),
        "json" => Some("/data.json".to_string()),
        "yaml" | "yml" => Some("/data.yaml".to_string()),
        _ => None,
    }
}

fn collect(path: &Path, out: &mut Vec<(PathBuf, u64, Option<SystemTime>)>) {
    let Ok(meta) = fs::metadata(path) else {
        out.push((path.to_path_buf(), u64::MAX, None));
        return;
    };
    out.push((path.to_path_buf(), meta.len(), meta.modified().ok()));
    if let Some(entries) = meta.is_dir().then(|| fs::read_dir(path).ok()).flatten() {
        for entry in entries.flatten() {
            collect(&entry.path(), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder under the system's temp dir, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("bundles-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("scratch dir");
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_lone_rego_or_data_file_is_a_one_file_bundle() {
        let scratch = Scratch::new("loose");
        let policy = scratch.0.join("authz.rego");
        fs::write(&policy, "package authz\n\nallow := true\n").expect("write");
        let bundle = FileSource::new(&policy)
            .load(&ReadOptions::default())
            .expect("policy file");
        assert_eq!(bundle.modules.len(), 1);
        assert_eq!(bundle.modules[0].file, policy.display().to_string());

        let data = scratch.0.join("users.json");
        fs::write(&data, "{\"users\": {\"ann\": 1}}").expect("write");
        let bundle = FileSource::new(&data)
            .load(&ReadOptions::default())
            .expect("data file");
        let users = bundle.data.get("users").expect("data at the root");
        assert!(users.get("ann").is_some(), "{users:?}");

        let other = scratch.0.join("notes.txt");
        fs::write(&other, "not a bundle").expect("write");
        assert!(
            FileSource::new(&other)
                .load(&ReadOptions::default())
                .is_err()
        );
    }
}
