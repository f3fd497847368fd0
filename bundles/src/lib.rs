//! OPA bundles: reading `.tar.gz` archives and directories into validated [`Bundle`]s.
//!
//! - [`read`]: archive or directory to a flat list of files (knows nothing of bundles).
//! - [`bundle`]: files to a bundle: modules, data placed by directory, manifest, Wasm.
//! - [`manifest`], [`roots`], [`data_tree`]: the manifest, root ownership and data merging.
//! - [`activation`]: checks across bundles activated together.
//! - [`sources`]: where bundles come from.

pub mod activation;
pub mod bundle;
pub mod data_tree;
mod error;
pub mod manifest;
pub mod read;
pub mod roots;
pub mod sources;

pub use bundle::{Bundle, ReadOptions};
pub use error::Error;
pub use manifest::Manifest;
