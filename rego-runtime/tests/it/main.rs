//! Integration tests of the engines through the public contract only.

mod builtins;
mod capabilities;
mod rego_engine;
