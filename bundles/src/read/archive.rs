//! Reads a gzipped tar archive, as `opa build` writes it (member names with or without `/`).

use std::io::Read;

use flate2::read::GzDecoder;

use super::{MAX_FILE_BYTES, RawFile, normalize};
use crate::Error;

/// Every regular file of a `.tar.gz` archive.
///
/// # Errors
/// [`Error::Read`] for a broken archive, [`Error::TooLarge`] for an oversized member.
pub fn read_archive(label: &str, bytes: &[u8]) -> Result<Vec<RawFile>, Error> {
    let read_error = |source| Error::Read {
        path: label.to_string(),
        source,
    };
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    let mut files = Vec::new();
    for entry in archive.entries().map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
        let mut content = Vec::new();
        entry
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut content)
            .map_err(read_error)?;
        if content.len() as u64 > MAX_FILE_BYTES {
            return Err(Error::TooLarge {
                path,
                limit: MAX_FILE_BYTES,
            });
        }
        files.push(RawFile {
            path,
            bytes: content,
        });
    }
    Ok(files)
}
