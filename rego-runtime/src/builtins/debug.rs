//! `trace`: OPA records the note in its explanation and the call is simply true; the note
//! goes to the evaluation's context, which keeps it when the evaluation collects notes. `internal.test_case`: OPA's test runner names test cases with it;
//! evaluated, it is true whatever it is given (regorus does not know it).

use super::args::{self, BuiltinError};
use super::{Builtin, EvalContext, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "trace",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Context(trace),
    },
    Builtin {
        name: "internal.test_case",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(|_| Ok(Value::Bool(true))),
    },
];

fn trace(context: &mut EvalContext<'_>, args: &[Value]) -> Result<Value, BuiltinError> {
    context.note(args::string(args, 0)?);
    Ok(Value::Bool(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Confirmed with `opa eval 'trace("x")'` (OPA 1.22.2): the value is true.
    use crate::builtins::{EvalState, Host, run_json};

    #[test]
    fn trace_is_true() {
        assert_eq!(run_json("trace", r#"["x"]"#), Ok("true".into()));
        assert!(run_json("trace", "[1]").is_err());
        // Confirmed with `opa eval` (OPA 1.22.2): true even for a number from the input.
        assert_eq!(run_json("internal.test_case", "[1]"), Ok("true".into()));
    }

    #[test]
    fn trace_notes_its_message_when_notes_are_collected() {
        let host = Host::default();
        let mut state = EvalState::default();
        state.collect_notes(true);
        let mut context = EvalContext::new(&host, &mut state);
        assert_eq!(
            trace(&mut context, &[Value::string("x")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(state.take_notes(), ["x"]);
    }
}
