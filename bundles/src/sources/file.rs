//! A bundle on local disk: a `.tar.gz` archive or a directory, re-read when it changes.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::Error;
use crate::bundle::{Bundle, ReadOptions};
use crate::read::{read_archive, read_directory};

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
            read_archive(&self.name(), &bytes)?
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
