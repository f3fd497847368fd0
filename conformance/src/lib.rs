//! Conformance runs in OPA's test-case format.
//!
//! - [`case`], [`load`]: OPA's test-case YAML and finding it under any directory.
//! - [`targets`]: where cases run: the Rego engine in-process, or any server over HTTP;
//!   [`footprint`]: the data roots a case touches, so a shared server is never written over.
//! - [`judge`]: OPA's rules for a case's verdict; [`runner`] applies them per target.
//! - [`known_failures`]: expected failures with reasons; [`report`]: the table.
//!
//! The crate reaches servers only over HTTP, never through the gateway crate, so the gateway
//! can link it for `gateway conformance`.

pub mod case;
pub mod footprint;
pub mod judge;
pub mod known_failures;
pub mod load;
pub mod outcome;
pub mod report;
pub mod runner;
pub mod targets;
