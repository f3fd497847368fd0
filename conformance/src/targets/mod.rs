//! Where cases run. Every target answers the same question (this case's outcome), so a new
//! engine is one more file here.

mod http;
mod rego;

pub use http::HttpTarget;
pub use rego::RegoTarget;

use crate::case::LoadedCase;
use crate::outcome::Run;

/// Something that runs OPA test cases.
pub trait Target: Send + Sync {
    /// The name reports and known-failure entries use (`rego`, `http`).
    fn name(&self) -> &str;

    /// Runs one case from scratch.
    fn run(&self, case: &LoadedCase) -> Run;
}
