//! Per-evaluation limits: how long a request may evaluate and how builtin errors surface.

use std::time::{Duration, Instant};

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
    /// When the evaluation must have ended, fixed as it starts ([`Limits::started`]): every
    /// evaluator that works on one request (the compiled evaluator, then regorus where it
    /// declines) spends from one budget, so a request never runs longer than `timeout`.
    pub deadline: Option<Instant>,
    /// The most memory one evaluation may take, for engines that can cap it (a Wasm guest's
    /// linear memory); the Rego evaluators do not read it.
    pub max_memory_bytes: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: DEFAULT_EVALUATION_TIMEOUT,
            strict_builtin_errors: false,
            deadline: None,
            max_memory_bytes: None,
        }
    }
}

impl Limits {
    /// These limits with the deadline fixed now, unless an earlier start fixed it already.
    #[must_use]
    pub fn started(self) -> Limits {
        Limits {
            deadline: Some(self.deadline()),
            ..self
        }
    }

    /// The instant the evaluation must stop: the fixed deadline, or `timeout` from now.
    pub fn deadline(&self) -> Instant {
        self.deadline
            .unwrap_or_else(|| Instant::now() + self.timeout)
    }

    /// What is left of the budget; zero once the deadline has passed.
    pub fn remaining(&self) -> Duration {
        self.deadline().saturating_duration_since(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_budget_is_spent_not_renewed() {
        let limits = Limits {
            timeout: Duration::from_secs(60),
            ..Limits::default()
        }
        .started();
        let deadline = limits.deadline();
        std::thread::sleep(Duration::from_millis(5));
        // Starting again (a fallback to the second evaluator) keeps the first deadline.
        assert_eq!(limits.started().deadline(), deadline);
        assert!(limits.remaining() < Duration::from_secs(60));
    }

    #[test]
    fn a_passed_deadline_leaves_nothing() {
        let limits = Limits {
            deadline: Some(Instant::now()),
            ..Limits::default()
        };
        std::thread::sleep(Duration::from_millis(1));
        assert_eq!(limits.remaining(), Duration::ZERO);
    }
}
