//! The bundle crate's error type: what made a bundle unusable, naming the file or root.

/// Why a bundle could not be read or activated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The archive or directory could not be read.
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file is over the per-file size limit.
    #[error("{path}: file exceeds the {limit} byte limit")]
    TooLarge { path: String, limit: u64 },
    /// A data, manifest or module file that does not parse.
    #[error("{path}: {message}")]
    Malformed { path: String, message: String },
    /// Data that cannot be merged: two files put different values at one path.
    #[error("{path}: merge error: {message}")]
    DataConflict { path: String, message: String },
    /// A manifest's roots overlap each other, or content lies outside them.
    #[error("{0}")]
    Roots(String),
    /// The roots of two bundles overlap.
    #[error(
        "detected overlapping roots in manifests for these bundles: [{first}, {second}] ({first_root} overlaps {second_root})"
    )]
    OverlappingBundles {
        first: String,
        second: String,
        first_root: String,
        second_root: String,
    },
}
