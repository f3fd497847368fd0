//! `trace`: OPA records the note in its explanation and the call is simply true; regorus
//! answers the note itself. `internal.test_case`: OPA's test runner names test cases with it;
//! evaluated, it is true whatever it is given (regorus does not know it).

use super::Builtin;
use super::args::{self, BuiltinError};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "trace",
        arity: 1,
        nondeterministic: false,
        eval: trace,
    },
    Builtin {
        name: "internal.test_case",
        arity: 1,
        nondeterministic: false,
        eval: |_| Ok(Value::Bool(true)),
    },
];

fn trace(args: &[Value]) -> Result<Value, BuiltinError> {
    args::string(args, 0)?;
    Ok(Value::Bool(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Confirmed with `opa eval 'trace("x")'` (OPA 1.22.2): the value is true.
    #[test]
    fn trace_is_true() {
        assert_eq!(trace(&[Value::string("x")]), Ok(Value::Bool(true)));
        assert!(trace(&[Value::int(1)]).is_err());
        // Confirmed with `opa eval` (OPA 1.22.2): true even for a number from the input.
        assert_eq!((BUILTINS[1].eval)(&[Value::int(1)]), Ok(Value::Bool(true)));
    }
}
