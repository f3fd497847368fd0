//! Integration tests of the engines through the public contract only.

mod rego_engine;
