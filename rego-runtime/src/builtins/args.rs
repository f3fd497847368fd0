//! Operand checks with OPA's wording, so every builtin fails the way OPA's does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::Value;
use crate::value::Number;

/// Why a builtin call failed; both kinds make the expression undefined unless strict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuiltinError {
    /// An operand of the wrong type (`eval_type_error` in OPA).
    Type(String),
    /// Anything else the builtin rejects (`eval_builtin_error` in OPA).
    Failed(String),
    /// No value and no error, strict or not, as OPA answers some operands (`max([])`).
    Undefined,
}

impl BuiltinError {
    /// OPA's error code for this failure.
    /// OPA's error code for this failure (an undefined result has none; it counts as a
    /// builtin error only for engines that cannot express it).
    pub fn code(&self) -> &'static str {
        match self {
            BuiltinError::Type(_) => "eval_type_error",
            BuiltinError::Failed(_) | BuiltinError::Undefined => "eval_builtin_error",
        }
    }

    /// The message, starting with the builtin's name once [`super::call`] named it.
    pub fn message(&self) -> &str {
        match self {
            BuiltinError::Type(m) | BuiltinError::Failed(m) => m,
            BuiltinError::Undefined => "undefined",
        }
    }

    /// Prefixes the message with the builtin's name, as OPA's messages read.
    pub(crate) fn named(self, name: &str) -> BuiltinError {
        let prefix = format!("{name}: ");
        match self {
            BuiltinError::Type(m) if !m.starts_with(&prefix) => {
                BuiltinError::Type(format!("{prefix}{m}"))
            }
            BuiltinError::Failed(m) if !m.starts_with(&prefix) => {
                BuiltinError::Failed(format!("{prefix}{m}"))
            }
            other => other,
        }
    }

    /// A builtin error with `message`.
    pub fn failed(message: impl fmt::Display) -> BuiltinError {
        BuiltinError::Failed(message.to_string())
    }
}

impl fmt::Display for BuiltinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// `operand N must be <expected> but got <actual>`, OPA's type-error sentence.
pub fn wrong_type(position: usize, expected: &str, got: &Value) -> BuiltinError {
    BuiltinError::Type(format!(
        "operand {} must be {expected} but got {}",
        position + 1,
        got.type_name()
    ))
}

fn operand(args: &[Value], position: usize) -> Result<&Value, BuiltinError> {
    args.get(position)
        .ok_or_else(|| BuiltinError::Type(format!("operand {} is missing", position + 1)))
}

pub fn string(args: &[Value], position: usize) -> Result<&str, BuiltinError> {
    let value = operand(args, position)?;
    value
        .as_str()
        .ok_or_else(|| wrong_type(position, "string", value))
}

pub fn number(args: &[Value], position: usize) -> Result<&Number, BuiltinError> {
    let value = operand(args, position)?;
    value
        .as_number()
        .ok_or_else(|| wrong_type(position, "number", value))
}

/// An integer operand; a number with a fraction is OPA's "operand N must be integer number".
pub fn integer(args: &[Value], position: usize) -> Result<i64, BuiltinError> {
    let value = number(args, position)?;
    value.as_i64().ok_or_else(|| {
        BuiltinError::Type(format!(
            "operand {} must be integer number but got floating-point number",
            position + 1
        ))
    })
}

pub fn boolean(args: &[Value], position: usize) -> Result<bool, BuiltinError> {
    match operand(args, position)? {
        Value::Bool(b) => Ok(*b),
        other => Err(wrong_type(position, "boolean", other)),
    }
}

pub fn object(args: &[Value], position: usize) -> Result<&BTreeMap<Value, Value>, BuiltinError> {
    let value = operand(args, position)?;
    value
        .as_object()
        .ok_or_else(|| wrong_type(position, "object", value))
}

pub fn array(args: &[Value], position: usize) -> Result<&[Value], BuiltinError> {
    let value = operand(args, position)?;
    value
        .as_array()
        .ok_or_else(|| wrong_type(position, "array", value))
}

pub fn set(args: &[Value], position: usize) -> Result<&BTreeSet<Value>, BuiltinError> {
    match operand(args, position)? {
        Value::Set(s) => Ok(s),
        other => Err(wrong_type(position, "set", other)),
    }
}

/// The elements of an array or a set operand (OPA: "one of {array, set}").
pub fn collection(args: &[Value], position: usize) -> Result<Vec<&Value>, BuiltinError> {
    match operand(args, position)? {
        Value::Array(items) => Ok(items.iter().collect()),
        Value::Set(items) => Ok(items.iter().collect()),
        other => Err(wrong_type(position, "one of {array, set}", other)),
    }
}

/// Any operand, unchecked.
pub fn any(args: &[Value], position: usize) -> Result<&Value, BuiltinError> {
    operand(args, position)
}
