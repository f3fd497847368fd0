//! Reads a bundle laid out as a directory tree.

use std::fs;
use std::path::Path;

use super::{MAX_FILE_BYTES, RawFile, normalize};
use crate::Error;

/// Every file below `root`, with paths relative to it. Hidden directories are skipped, hidden
/// files are not (`.manifest` is one).
///
/// # Errors
/// [`Error::Read`] when a file or directory cannot be read.
pub fn read_directory(root: &Path) -> Result<Vec<RawFile>, Error> {
    let mut files = Vec::new();
    walk(root, root, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<RawFile>) -> Result<(), Error> {
    let read_error = |path: &Path, source| Error::Read {
        path: path.display().to_string(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(|e| read_error(dir, e))? {
        let entry = entry.map_err(|e| read_error(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| read_error(&path, e))?;
        let name = entry.file_name();
        if kind.is_dir() {
            if !name.to_string_lossy().starts_with('.') {
                walk(root, &path, files)?;
            }
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let bundle_path = normalize(&relative.to_string_lossy());
        let size = entry.metadata().map_err(|e| read_error(&path, e))?.len();
        if size > MAX_FILE_BYTES {
            return Err(Error::TooLarge {
                path: bundle_path,
                limit: MAX_FILE_BYTES,
            });
        }
        let bytes = fs::read(&path).map_err(|e| read_error(&path, e))?;
        files.push(RawFile {
            path: bundle_path,
            bytes,
        });
    }
    Ok(())
}
