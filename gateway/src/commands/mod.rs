//! Commands besides `run`: gator's `verify` and `test` on the Gatekeeper domain, and tools
//! that report on the gateway itself (`conformance`, `builtins`).

pub mod builtins;
pub mod conformance;
pub mod test;
pub mod verify;
