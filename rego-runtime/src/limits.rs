//! Per-evaluation limits: how long a request may evaluate and how builtin errors surface.

use std::time::Duration;

/// The stack a thread that evaluates policies should have: both evaluators recurse as deep
/// as a policy nests (a body of 20,000 statements needs ~30 MiB in regorus). Only the pages
/// used are ever touched.
pub const EVALUATION_STACK_BYTES: usize = 64 << 20;

/// The time an evaluation may take unless configured otherwise.
pub const DEFAULT_EVALUATION_TIMEOUT: Duration = Duration::from_secs(5);

/// Limits and switches that apply to one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Past this the evaluation stops with `eval_cancel_error`.
    pub timeout: Duration,
    /// OPA's `strict-builtin-errors`: a failing builtin raises instead of being undefined.
    pub strict_builtin_errors: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: DEFAULT_EVALUATION_TIMEOUT,
            strict_builtin_errors: false,
        }
    }
}
