//! The gateway's integration tests: real HTTP against a gateway started in-process, and
//! differential runs against real OPA.

mod broken_pipe;
mod builtins;
mod cli;
mod client;
mod compiled_evaluator;
mod data_writes;
mod differential;
mod gatekeeper;
mod gatekeeper_conformance;
mod gator_output;
mod opa_api;
mod startup;
mod support;
