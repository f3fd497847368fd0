//! The Rego engine, backed by regorus.

mod annotations;
mod checks;
mod compiled;
mod convert;
mod declarations;
mod diagnostics;
mod engine;
mod extensions;
mod future_keywords;
mod input_import;
pub mod lexer;
mod logic_operators;
mod lowering;
mod object_unification;
mod outline;
mod output_args;
mod rule_paths;
mod safety;
mod typecheck;

pub use checks::is_builtin;

/// True when the compiled evaluator evaluates calls of the OPA builtin `name` (itself or
/// through the builtin table); [`is_builtin`] says whether regorus, which evaluates what
/// the compiled evaluator leaves to it, does.
pub fn is_compiled_builtin(name: &str) -> bool {
    compiled::compiles_builtin(name)
}
pub use engine::{DEFAULT_DECISION_CACHE_ENTRIES, FallbackHook, PreparedRego, RegoEngine};
pub use outline::{is_empty_module, package_path};
