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
pub use engine::{DEFAULT_DECISION_CACHE_ENTRIES, FallbackHook, PreparedRego, RegoEngine};
pub use outline::{is_empty_module, package_path};
