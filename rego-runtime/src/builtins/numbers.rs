//! `numbers.range`, `numbers.range_step` and `to_number`, replacing regorus's versions, which
//! panic on a zero or negative step and accept padded number strings; `abs`, `round`, `ceil`
//! and `floor`, whose regorus errors are not OPA's; `rand.intn`, one random number per key
//! and bound for the whole query, as OPA keeps it.

use super::args::{self, BuiltinError};
use super::{Builtin, EvalContext, Implementation, builtin};
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("numbers.range", 2, range),
    builtin("numbers.range_step", 3, range_step),
    builtin("to_number", 1, to_number),
    builtin("abs", 1, abs),
    builtin("round", 1, |a| rounded(a, Rounding::Nearest)),
    builtin("ceil", 1, |a| rounded(a, Rounding::Up)),
    builtin("floor", 1, |a| rounded(a, Rounding::Down)),
    Builtin {
        name: "rand.intn",
        arity: 2,
        nondeterministic: true,
        eval: Implementation::Context(rand_intn),
    },
];

/// `rand.intn(key, n)`: a number in `[0, |n|)`, the same for the same key and bound within
/// one query (OPA's `builtinRandIntn`: `0` for a bound of 0, the bound's sign ignored).
fn rand_intn(context: &mut EvalContext<'_>, args: &[Value]) -> Result<Value, BuiltinError> {
    let key = args::string(args, 0)?;
    let bound = args::integer(args, 1)?.unsigned_abs();
    if bound == 0 {
        return Ok(Value::int(0));
    }
    // OPA's cache key, "<key>-<bound>".
    let remembered = Value::string(format!("{key}-{bound}"));
    context.remembered("rand.intn", remembered, |_| {
        let n = random_below(bound)?;
        Ok(Value::int(i64::try_from(n).unwrap_or(i64::MAX)))
    })
}

/// A uniformly random number below `bound` (not 0), from the system's generator.
fn random_below(bound: u64) -> Result<u64, BuiltinError> {
    // Draws past the largest multiple of `bound` would favour small numbers: draw again.
    let zone = u64::MAX - (u64::MAX % bound + 1) % bound;
    loop {
        let draw = getrandom::u64().map_err(BuiltinError::failed)?;
        if draw <= zone {
            return Ok(draw % bound);
        }
    }
}

/// Ranges beyond this many elements would exhaust memory; OPA has no limit and would.
const MAX_RANGE: u64 = 10_000_000;

fn abs(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::Number(match args::number(args, 0)? {
        Number::Int(i) => match i.checked_abs() {
            Some(a) => Number::Int(a),
            None => Number::Float((*i as f64).abs()),
        },
        Number::Float(f) => Number::Float(f.abs()),
        Number::Big(text) => Number::Big(text.trim_start_matches('-').into()),
    }))
}

#[derive(Clone, Copy)]
enum Rounding {
    Nearest,
    Up,
    Down,
}

/// OPA's rounding: half away from zero for `round`; `ceil` and `floor` adjust the truncated
/// value by its sign, so that like OPA `ceil(-0.5)` is 1 and `floor(-0.5)` is 0.
fn rounded(args: &[Value], mode: Rounding) -> Result<Value, BuiltinError> {
    let f = match args::number(args, 0)? {
        Number::Float(f) => *f,
        integer => return Ok(Value::Number(integer.clone())),
    };
    let truncated = f.trunc();
    let fraction = f != truncated;
    let result = match mode {
        Rounding::Nearest => f.round(),
        Rounding::Up if fraction && truncated >= 0.0 => truncated + 1.0,
        Rounding::Down if fraction && truncated < 0.0 => truncated - 1.0,
        Rounding::Up | Rounding::Down => truncated,
    };
    if result.is_finite() && result.abs() < 1e15 {
        return Ok(Value::Number(Number::Int(result as i128)));
    }
    Ok(Value::float(result))
}

/// An integer operand with OPA's `numbers.range` wording (`must be integer but got string`).
fn range_integer(args: &[Value], position: usize) -> Result<i64, BuiltinError> {
    match &args[position] {
        Value::Number(_) => args::integer(args, position),
        other => Err(args::wrong_type(position, "integer", other)),
    }
}

fn counted(from: i64, to: i64, step: u64) -> Result<Value, BuiltinError> {
    let span = from.abs_diff(to);
    if span / step >= MAX_RANGE {
        return Err(BuiltinError::failed("range too large"));
    }
    let mut out = Vec::with_capacity((span / step + 1) as usize);
    let mut current = i128::from(from);
    let step = i128::from(step);
    let (to, ascending) = (i128::from(to), from <= to);
    while (ascending && current <= to) || (!ascending && current >= to) {
        out.push(Value::Number(Number::Int(current)));
        current = if ascending {
            current + step
        } else {
            current - step
        };
    }
    Ok(Value::array(out))
}

fn range(args: &[Value]) -> Result<Value, BuiltinError> {
    let from = range_integer(args, 0)?;
    let to = range_integer(args, 1)?;
    counted(from, to, 1)
}

fn range_step(args: &[Value]) -> Result<Value, BuiltinError> {
    let from = range_integer(args, 0)?;
    let to = range_integer(args, 1)?;
    let step = range_integer(args, 2)?;
    if step <= 0 {
        // OPA's message names the builtin twice; the table adds the outer name only when
        // a message does not already start with it, so both are written here.
        return Err(BuiltinError::failed(
            "numbers.range_step: numbers.range_step: step must be a positive integer",
        ));
    }
    counted(from, to, step.unsigned_abs())
}

fn to_number(args: &[Value]) -> Result<Value, BuiltinError> {
    match &args[0] {
        Value::Null | Value::Bool(false) => Ok(Value::int(0)),
        Value::Bool(true) => Ok(Value::int(1)),
        Value::Number(n) => Ok(Value::Number(n.clone())),
        Value::String(text) => parse_number(text),
        other => Err(args::wrong_type(
            0,
            "one of {null, boolean, number, string}",
            other,
        )),
    }
}

/// Go's `strconv.ParseFloat` acceptance, keeping integers exact as OPA keeps the text.
fn parse_number(text: &str) -> Result<Value, BuiltinError> {
    let syntax_error = || {
        BuiltinError::failed(format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            serde_json::to_string(text).unwrap_or_default()
        ))
    };
    let unsigned = text.trim_start_matches(['+', '-']);
    let lower = unsigned.to_ascii_lowercase();
    if ["inf", "infinity", "nan"].contains(&lower.as_str()) && text.len() - unsigned.len() <= 1 {
        return Err(BuiltinError::Type(
            "operand 1 must be valid number string but got string".to_string(),
        ));
    }
    let decimal = text.len() - unsigned.len() <= 1
        && !unsigned.is_empty()
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    let parsed: f64 = if decimal {
        text.parse().map_err(|_| syntax_error())?
    } else {
        return Err(syntax_error());
    };
    if parsed.is_infinite() {
        return Err(BuiltinError::failed(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            serde_json::to_string(text).unwrap_or_default()
        )));
    }
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits
        .trim_start_matches('-')
        .bytes()
        .all(|b| b.is_ascii_digit())
    {
        return Ok(match digits.parse::<i128>() {
            Ok(i) => Value::Number(Number::Int(i)),
            Err(_) => Value::Number(Number::Big(digits.trim_start_matches('0').into())),
        });
    }
    Ok(Value::float(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::run_fn as run;
    use crate::builtins::{EvalState, Host};

    fn intn(state: &mut EvalState, key: &str, bound: Value) -> Result<Value, BuiltinError> {
        let host = Host::default();
        rand_intn(
            &mut EvalContext::new(&host, state),
            &[Value::string(key), bound],
        )
    }

    #[test]
    fn rand_intn_keeps_one_number_per_key_and_bound_for_the_query() {
        let big = Value::int(1 << 62);
        let mut state = EvalState::default();
        let first = intn(&mut state, "k", big.clone()).expect("number");
        assert_eq!(intn(&mut state, "k", big.clone()), Ok(first.clone()));
        // OPA ignores the bound's sign, for the key too.
        assert_eq!(
            intn(&mut state, "k", Value::int(-(1 << 62))),
            Ok(first.clone())
        );
        // Another query draws again (a repeat has odds of 2^-62).
        assert_ne!(intn(&mut EvalState::default(), "k", big), Ok(first));
        for bound in [1, 2, 7, 1000] {
            let Ok(Value::Number(n)) = intn(&mut state, "r", Value::int(bound)) else {
                panic!("a number")
            };
            assert!((0..bound).contains(&n.as_i64().expect("integer")));
        }
    }

    // Confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn rand_intn_checks_its_operands_as_opa() {
        let mut state = EvalState::default();
        assert_eq!(intn(&mut state, "k", Value::int(0)), Ok(Value::int(0)));
        assert_eq!(
            intn(&mut state, "k", Value::float(1.5)),
            Err(BuiltinError::Type(
                "operand 2 must be integer number but got floating-point number".into()
            ))
        );
        assert_eq!(
            intn(&mut state, "k", Value::string("1")),
            Err(BuiltinError::Type(
                "operand 2 must be number but got string".into()
            ))
        );
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn ranges() {
        assert_eq!(run(range, "[-2,2]"), Ok("[-2,-1,0,1,2]".into()));
        assert_eq!(run(range, "[3,1]"), Ok("[3,2,1]".into()));
        assert_eq!(run(range_step, "[10,1,3]"), Ok("[10,7,4,1]".into()));
        assert_eq!(
            run(range_step, "[1,10,0]"),
            Err("numbers.range_step: numbers.range_step: step must be a positive integer".into())
        );
        assert_eq!(
            run(range, r#"[1,"a"]"#),
            Err("operand 2 must be integer but got string".into())
        );
        assert_eq!(
            run(range, "[1.5,3]"),
            Err("operand 1 must be integer number but got floating-point number".into())
        );
        assert!(run(range, "[0,1000000000]").is_err());
    }

    #[test]
    fn rounding_as_opa() {
        assert_eq!(run(rounded_nearest, "[-2.5]"), Ok("-3".into()));
        assert_eq!(run(rounded_nearest, "[0.5]"), Ok("1".into()));
        assert_eq!(run(rounded_up, "[-0.4]"), Ok("1".into()));
        assert_eq!(run(rounded_up, "[-1.4]"), Ok("-1".into()));
        assert_eq!(run(rounded_up, "[1.2]"), Ok("2".into()));
        assert_eq!(run(rounded_down, "[-0.4]"), Ok("0".into()));
        assert_eq!(run(rounded_down, "[-1.2]"), Ok("-2".into()));
        assert_eq!(run(abs, "[-2.5]"), Ok("2.5".into()));
        assert_eq!(
            run(abs, "[-9223372036854775808]"),
            Ok("9223372036854775808".into())
        );
        assert_eq!(
            run(rounded_down, r#"[false]"#),
            Err("operand 1 must be number but got boolean".into())
        );
    }

    fn rounded_nearest(a: &[Value]) -> Result<Value, BuiltinError> {
        rounded(a, Rounding::Nearest)
    }

    fn rounded_up(a: &[Value]) -> Result<Value, BuiltinError> {
        rounded(a, Rounding::Up)
    }

    fn rounded_down(a: &[Value]) -> Result<Value, BuiltinError> {
        rounded(a, Rounding::Down)
    }

    #[test]
    fn numbers_from_text() {
        assert_eq!(run(to_number, r#"["1.5"]"#), Ok("1.5".into()));
        assert_eq!(run(to_number, r#"["1e3"]"#), Ok("1000".into()));
        assert_eq!(run(to_number, "[true]"), Ok("1".into()));
        assert_eq!(run(to_number, "[null]"), Ok("0".into()));
        assert_eq!(
            run(to_number, r#"[" 1"]"#),
            Err(r#"strconv.ParseFloat: parsing " 1": invalid syntax"#.into())
        );
        assert_eq!(
            run(to_number, r#"["0x10"]"#),
            Err(r#"strconv.ParseFloat: parsing "0x10": invalid syntax"#.into())
        );
        assert_eq!(
            run(to_number, r#"["1e400"]"#),
            Err(r#"strconv.ParseFloat: parsing "1e400": value out of range"#.into())
        );
        assert_eq!(
            run(to_number, r#"["NaN"]"#),
            Err("operand 1 must be valid number string but got string".into())
        );
        assert_eq!(
            run(
                to_number,
                r#"["12345678901234567890123456789012345678901"]"#
            ),
            Ok("12345678901234567890123456789012345678901".into())
        );
    }
}
