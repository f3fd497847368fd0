//! Installs the builtin table into a regorus engine as extensions.
//!
//! regorus looks extensions up before its own builtins, so a table entry both adds what
//! regorus lacks and replaces what it gets wrong. regorus raises every extension error, while
//! OPA makes a failing builtin undefined unless strict: the strictness of the evaluation on
//! this thread decides which, so one prepared engine serves both kinds of request.
//! Operands and results cross between the two value types through the evaluation's
//! conversion memo (`convert`), so a document handed to many builtins is converted once.

use std::cell::{Cell, RefCell};

use regorus::Value as RegoValue;

use super::convert::{from_regorus_remembered, to_regorus_remembered};
use crate::builtins::{self, Builtin};

thread_local! {
    static STRICT_BUILTIN_ERRORS: Cell<bool> = const { Cell::new(false) };
    /// The notes `trace` made, while an evaluation on this thread collects them.
    static NOTES: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `evaluate`, collecting the messages of `trace` calls when `collect` (for
/// `explain=notes`); uncollected, `trace` does nothing more than check its operand.
pub fn with_notes<R>(collect: bool, evaluate: impl FnOnce() -> R) -> (R, Vec<String>) {
    if !collect {
        return (evaluate(), Vec::new());
    }
    let previous = NOTES.with(|cell| cell.replace(Some(Vec::new())));
    let result = evaluate();
    let notes = NOTES
        .with(|cell| cell.replace(previous))
        .unwrap_or_default();
    (result, notes)
}

/// Runs `evaluate` with builtin errors raised (`strict`) or turned into undefined.
pub fn with_strictness<R>(strict: bool, evaluate: impl FnOnce() -> R) -> R {
    let previous = STRICT_BUILTIN_ERRORS.with(|cell| cell.replace(strict));
    let result = evaluate();
    STRICT_BUILTIN_ERRORS.with(|cell| cell.set(previous));
    result
}

/// Adds every table builtin to `engine`.
///
/// # Errors
/// regorus refuses an extension name twice; the table has unique names, so this means the
/// engine already had extensions installed.
pub fn install(engine: &mut regorus::Engine) -> anyhow::Result<()> {
    for builtin in builtins::table() {
        let extension: Box<dyn regorus::Extension> = if builtin.name == "trace" {
            Box::new(move |operands: Vec<RegoValue>| {
                let result = call(builtin, &operands)?;
                if result != RegoValue::Undefined
                    && let Some(RegoValue::String(message)) = operands.first()
                {
                    NOTES.with(|cell| {
                        if let Some(notes) = cell.borrow_mut().as_mut() {
                            notes.push(message.to_string());
                        }
                    });
                }
                Ok(result)
            })
        } else {
            Box::new(move |operands: Vec<RegoValue>| call(builtin, &operands))
        };
        engine.add_extension(builtin.name.to_string(), builtin.arity, extension)?;
    }
    Ok(())
}

fn call(builtin: &'static Builtin, operands: &[RegoValue]) -> anyhow::Result<RegoValue> {
    let Some(operands) = operands
        .iter()
        .map(from_regorus_remembered)
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(RegoValue::Undefined);
    };
    match builtins::call(builtin, &operands) {
        Ok(value) => Ok(to_regorus_remembered(&value)),
        // Some builtins answer nothing without failing (`max([])`), strict or not.
        Err(builtins::BuiltinError::Undefined) => Ok(RegoValue::Undefined),
        Err(error) if STRICT_BUILTIN_ERRORS.with(Cell::get) => {
            Err(anyhow::anyhow!("{}: {}", error.code(), error.message()))
        }
        Err(_) => Ok(RegoValue::Undefined),
    }
}
