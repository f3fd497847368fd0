//! `trace`: OPA records the note in its explanation and the call is simply true; the note
//! goes to the evaluation's context, which keeps it when the evaluation collects notes.
//! `internal.print`, what OPA compiles `print(...)` to: lines to the context's print sink. `internal.test_case`: OPA's test runner names test cases with it;
//! evaluated, it is true whatever it is given (regorus does not know it).

use super::args::{self, BuiltinError};
use super::terms::rego_text;
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
        name: "internal.print",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Context(print),
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

/// `internal.print([a, b, ...])`: each operand is the set of its values (empty when it was
/// undefined), or a plain scalar; one line per combination of the members, as OPA's
/// `builtinPrint` (`topdown/print.go`) writes them: strings as themselves, other values in
/// Rego syntax, `<undefined>` for an empty set. Where the line is written is the host's
/// sink; OPA's server adds the call's location, which this builtin does not know.
fn print(context: &mut EvalContext<'_>, args: &[Value]) -> Result<Value, BuiltinError> {
    let operands = args::array(args, 0)?;
    let mut choices: Vec<Vec<String>> = Vec::with_capacity(operands.len());
    for operand in operands {
        choices.push(match operand {
            Value::String(text) => vec![text.to_string()],
            Value::Number(_) | Value::Bool(_) | Value::Null => vec![rego_text(operand)],
            Value::Set(members) if members.is_empty() => vec!["<undefined>".to_string()],
            Value::Set(members) => members
                .iter()
                .map(|member| match member {
                    Value::String(text) => text.to_string(),
                    other => rego_text(other),
                })
                .collect(),
            other => {
                return Err(BuiltinError::failed(format!(
                    "illegal argument type: {}",
                    other.type_name()
                )));
            }
        });
    }
    // Odometer over the choices, the last operand turning fastest, as OPA's recursion does.
    let mut at = vec![0; choices.len()];
    loop {
        let words: Vec<&str> = choices
            .iter()
            .zip(&at)
            .map(|(words, &i)| words[i].as_str())
            .collect();
        context.print(words.join(" "));
        let Some(turn) = (0..choices.len())
            .rev()
            .find(|&i| at[i] + 1 < choices[i].len())
        else {
            return Ok(Value::Bool(true));
        };
        at[turn] += 1;
        at[turn + 1..].fill(0);
    }
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

    // Lines confirmed with `opa eval 'internal.print([...])'` (OPA 1.22.2).
    #[test]
    fn print_writes_a_line_per_combination_to_the_sink() {
        let host = Host::default();
        let mut state = EvalState::default();
        let operands =
            Value::from_json(r#"[["x", 1], [{"a": [1, 2]}], [], "s", 2.5]"#).expect("json");
        // Sets of the JSON arrays' members: JSON has no sets.
        let Value::Array(items) = operands else {
            panic!("array")
        };
        let operands: Vec<Value> = items
            .iter()
            .map(|item| match item {
                Value::Array(members) => Value::set(members.iter().cloned()),
                other => other.clone(),
            })
            .collect();
        let answer = print(
            &mut EvalContext::new(&host, &mut state),
            &[Value::array(operands)],
        );
        assert_eq!(answer, Ok(Value::Bool(true)));
        assert_eq!(
            state.take_prints(),
            [
                r#"1 {"a": [1, 2]} <undefined> s 2.5"#,
                r#"x {"a": [1, 2]} <undefined> s 2.5"#
            ]
        );
        let answer = print(
            &mut EvalContext::new(&host, &mut state),
            &[Value::array(vec![Value::array(vec![])])],
        );
        assert_eq!(
            answer,
            Err(BuiltinError::failed("illegal argument type: array"))
        );
        let answer = print(
            &mut EvalContext::new(&host, &mut state),
            &[Value::array(vec![])],
        );
        assert_eq!(answer, Ok(Value::Bool(true)));
        assert_eq!(state.take_prints(), [""]);
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
