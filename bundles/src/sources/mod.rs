//! Where bundles come from. Local files and directories now; HTTP and OCI registries slot in
//! as further sources with the same shape.

mod file;

pub use file::{FileSource, Fingerprint};
