//! Integration tests of the engines through the public contract only.

mod builtins;
mod rego_engine;
