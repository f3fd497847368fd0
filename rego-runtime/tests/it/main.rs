//! Integration tests of the engines through the public contract only.

mod builtins;
mod capabilities;
mod compiled_evaluator;
mod eval_context;
mod rego_engine;
