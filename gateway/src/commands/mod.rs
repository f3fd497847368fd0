//! Commands besides `run`, `verify` and `test`: tools that report on the gateway itself.

pub mod builtins;
pub mod conformance;
