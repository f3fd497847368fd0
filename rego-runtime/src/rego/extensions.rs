//! Installs the builtin table into a regorus engine as extensions.
//!
//! regorus looks extensions up before its own builtins, so a table entry both adds what
//! regorus lacks and replaces what it gets wrong. regorus gives an extension only its
//! operands, so each engine's extensions share a [`Slot`]: the evaluation running on that
//! engine puts its [`EvalState`] there for the time it runs, and every call reaches its
//! clock, kept answers, strictness and notes through it. regorus raises every extension
//! error, while OPA makes a failing builtin undefined unless strict: the state's strictness
//! decides which, so one prepared engine serves both kinds of request.
//! Operands and results cross between the two value types through the evaluation's
//! conversion memo (`convert`), so a document handed to many builtins is converted once.

use std::sync::{Arc, Mutex, PoisonError};

use regorus::Value as RegoValue;

use super::convert::{from_regorus_remembered, to_regorus_remembered};
use crate::builtins::{self, Builtin, EvalContext, EvalState, Host};

/// The evaluation running on one engine, where that engine's extensions find it.
pub struct Slot {
    host: Arc<Host>,
    /// Locked by one thread at a time (an engine evaluates one request at a time), so
    /// taking the lock costs an uncontended atomic operation per builtin call.
    running: Mutex<Option<EvalState>>,
}

impl Slot {
    /// Runs `evaluate` with `state` as the evaluation its extensions see; answers its result
    /// and the state, which carries what the builtins did (prints, notes, kept answers).
    pub fn run<R>(&self, state: EvalState, evaluate: impl FnOnce() -> R) -> (R, EvalState) {
        *self.lock() = Some(state);
        let result = evaluate();
        let state = self.lock().take().unwrap_or_default();
        (result, state)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<EvalState>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn call(&self, builtin: &'static Builtin, operands: &[RegoValue]) -> anyhow::Result<RegoValue> {
        let Some(operands) = operands
            .iter()
            .map(from_regorus_remembered)
            .collect::<Option<Vec<_>>>()
        else {
            return Ok(RegoValue::Undefined);
        };
        let mut running = self.lock();
        // Evaluations always run through `run`; a stray call sees a fresh, lenient state.
        let state = running.get_or_insert_with(EvalState::default);
        let mut context = EvalContext::new(&self.host, state);
        match builtins::call(builtin, &mut context, &operands) {
            Ok(value) => Ok(to_regorus_remembered(&value)),
            // Some builtins answer nothing without failing (`max([])`), strict or not.
            Err(builtins::BuiltinError::Undefined) => Ok(RegoValue::Undefined),
            Err(error) if context.strict() => {
                Err(anyhow::anyhow!("{}: {}", error.code(), error.message()))
            }
            Err(_) => Ok(RegoValue::Undefined),
        }
    }
}

/// Adds every table builtin to `engine`, all calling in one new [`Slot`] for `host`, which
/// is returned.
///
/// # Errors
/// regorus refuses an extension name twice; the table has unique names, so this means the
/// engine already had extensions installed.
pub fn install(engine: &mut regorus::Engine, host: Arc<Host>) -> anyhow::Result<Arc<Slot>> {
    let slot = Arc::new(Slot {
        host,
        running: Mutex::new(None),
    });
    for builtin in builtins::table() {
        let calls = slot.clone();
        let extension: Box<dyn regorus::Extension> =
            Box::new(move |operands: Vec<RegoValue>| calls.call(builtin, &operands));
        engine.add_extension(builtin.name.to_string(), builtin.arity, extension)?;
    }
    Ok(slot)
}
