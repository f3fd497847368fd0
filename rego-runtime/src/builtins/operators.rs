//! Operators called as functions (`plus(1, 2)`, `and(a, b)`, `gt(a, b)`,
//! `internal.member_2(x, xs)`), which OPA accepts and regorus does not know as names.
//!
//! Sums, differences and products of decimals are exact, as OPA's arbitrary-precision
//! arithmetic makes them (`plus(0.1, 0.2)` is `0.3`); quotients are `f64`.

use std::cmp::Ordering;
use std::sync::Arc;

use super::args::{self, BuiltinError};
use super::{Builtin, builtin};
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("plus", 2, |a| arithmetic(a, Operation::Add)),
    builtin("minus", 2, minus),
    builtin("mul", 2, |a| arithmetic(a, Operation::Multiply)),
    builtin("div", 2, div),
    builtin("rem", 2, rem),
    builtin("and", 2, intersection),
    builtin("or", 2, union),
    builtin("equal", 2, |a| compare(a, |o| o == Ordering::Equal)),
    builtin("neq", 2, |a| compare(a, |o| o != Ordering::Equal)),
    builtin("gt", 2, |a| compare(a, |o| o == Ordering::Greater)),
    builtin("gte", 2, |a| compare(a, |o| o != Ordering::Less)),
    builtin("lt", 2, |a| compare(a, |o| o == Ordering::Less)),
    builtin("lte", 2, |a| compare(a, |o| o != Ordering::Greater)),
    builtin("internal.member_2", 2, member_2),
    builtin("internal.member_3", 3, member_3),
];

#[derive(Clone, Copy)]
enum Operation {
    Add,
    Subtract,
    Multiply,
}

/// A finite decimal: `mantissa * 10^exponent`.
fn decimal(number: &Number) -> Option<(i128, i32)> {
    match number {
        Number::Int(i) => Some((*i, 0)),
        Number::Big(_) => None,
        Number::Float(f) if f.is_finite() => {
            // Rust prints the shortest text that reads back as `f`, which is the decimal
            // OPA would have kept from the source.
            let text = format!("{f:e}");
            let (mantissa, exponent) = text.split_once('e')?;
            let exponent: i32 = exponent.parse().ok()?;
            let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
            let digits: i128 = format!("{whole}{fraction}").parse().ok()?;
            Some((digits, exponent - fraction.len() as i32))
        }
        Number::Float(_) => None,
    }
}

fn scale(mantissa: i128, by: u32) -> Option<i128> {
    mantissa.checked_mul(10i128.checked_pow(by)?)
}

fn from_decimal(mantissa: i128, exponent: i32) -> Value {
    if exponent >= 0
        && let Some(whole) = scale(mantissa, exponent.unsigned_abs())
    {
        return Value::Number(Number::Int(whole));
    }
    let text = format!("{mantissa}e{exponent}");
    let f: f64 = text.parse().unwrap_or(f64::NAN);
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return Value::Number(Number::Int(f as i128));
    }
    Value::float(f)
}

fn exact(a: &Number, b: &Number, operation: Operation) -> Option<Value> {
    let (ma, ea) = decimal(a)?;
    let (mb, eb) = decimal(b)?;
    match operation {
        Operation::Multiply => Some(from_decimal(ma.checked_mul(mb)?, ea.checked_add(eb)?)),
        Operation::Add | Operation::Subtract => {
            let exponent = ea.min(eb);
            let ma = scale(ma, (ea - exponent).unsigned_abs())?;
            let mb = scale(mb, (eb - exponent).unsigned_abs())?;
            let mantissa = match operation {
                Operation::Add => ma.checked_add(mb)?,
                _ => ma.checked_sub(mb)?,
            };
            Some(from_decimal(mantissa, exponent))
        }
    }
}

/// `a + b` as OPA's `plus` computes it: exact for decimals, `f64` beyond.
pub(super) fn add(a: &Number, b: &Number) -> Value {
    exact(a, b, Operation::Add).unwrap_or_else(|| Value::float(a.as_f64() + b.as_f64()))
}

fn arithmetic(args: &[Value], operation: Operation) -> Result<Value, BuiltinError> {
    let a = args::number(args, 0)?;
    let b = args::number(args, 1)?;
    if let Some(value) = exact(a, b, operation) {
        return Ok(value);
    }
    let (x, y) = (a.as_f64(), b.as_f64());
    Ok(Value::float(match operation {
        Operation::Add => x + y,
        Operation::Subtract => x - y,
        Operation::Multiply => x * y,
    }))
}

/// Number difference, or set difference when both operands are sets.
fn minus(args: &[Value]) -> Result<Value, BuiltinError> {
    match (&args[0], &args[1]) {
        (Value::Set(a), Value::Set(b)) => Ok(Value::set(a.difference(b).cloned())),
        (Value::Set(_), other) => Err(args::wrong_type(1, "set", other)),
        _ => arithmetic(args, Operation::Subtract),
    }
}

fn div(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = args::number(args, 0)?;
    let b = args::number(args, 1)?;
    if b.as_f64() == 0.0 {
        return Err(BuiltinError::failed("divide by zero"));
    }
    if let (Number::Int(x), Number::Int(y)) = (a, b)
        && x % y == 0
    {
        return Ok(Value::Number(Number::Int(x / y)));
    }
    let quotient = a.as_f64() / b.as_f64();
    if quotient.fract() == 0.0 && quotient.abs() < 1e15 {
        return Ok(Value::Number(Number::Int(quotient as i128)));
    }
    Ok(Value::float(quotient))
}

/// Integer remainder, truncated toward zero as Go's `big.Int.Rem`.
fn rem(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = args::number(args, 0)?;
    let b = args::number(args, 1)?;
    let (Number::Int(x), Number::Int(y)) = (a, b) else {
        if !a.is_integer() || !b.is_integer() {
            return Err(BuiltinError::failed("modulo on floating-point number"));
        }
        return Err(BuiltinError::failed("modulo on integers beyond 128 bits"));
    };
    if *y == 0 {
        return Err(BuiltinError::failed("modulo by zero"));
    }
    Ok(Value::Number(Number::Int(x.checked_rem(*y).unwrap_or(0))))
}

fn intersection(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = args::set(args, 0)?;
    let b = args::set(args, 1)?;
    Ok(Value::set(a.intersection(b).cloned()))
}

fn union(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = args::set(args, 0)?;
    let b = args::set(args, 1)?;
    Ok(Value::Set(Arc::new(a.union(b).cloned().collect())))
}

fn compare(args: &[Value], accept: fn(Ordering) -> bool) -> Result<Value, BuiltinError> {
    Ok(Value::Bool(accept(args[0].cmp(&args[1]))))
}

/// `x in xs`: an element of an array or set, or a value of an object.
fn member_2(args: &[Value]) -> Result<Value, BuiltinError> {
    let x = &args[0];
    Ok(Value::Bool(match &args[1] {
        Value::Array(items) => items.contains(x),
        Value::Set(items) => items.contains(x),
        Value::Object(entries) => entries.values().any(|v| v == x),
        _ => false,
    }))
}

/// `k, v in xs`: `xs[k]` is `v`.
fn member_3(args: &[Value]) -> Result<Value, BuiltinError> {
    let (key, value) = (&args[0], &args[1]);
    Ok(Value::Bool(match &args[2] {
        Value::Array(items) => key
            .as_number()
            .and_then(Number::as_i64)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| items.get(i))
            .is_some_and(|item| item == value),
        Value::Object(entries) => entries.get(key).is_some_and(|item| item == value),
        Value::Set(items) => key == value && items.contains(key),
        _ => false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::run_json as run;

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn arithmetic_as_opa() {
        assert_eq!(run("plus", "[0.1,0.2]"), Ok("0.3".into()));
        assert_eq!(run("mul", "[0.1,3]"), Ok("0.3".into()));
        assert_eq!(run("minus", "[1.5,0.5]"), Ok("1".into()));
        assert_eq!(
            run("plus", "[9223372036854775807,1]"),
            Ok("9223372036854775808".into())
        );
        assert_eq!(run("div", "[1,3]"), Ok("0.3333333333333333".into()));
        assert_eq!(run("div", "[6,4]"), Ok("1.5".into()));
        assert_eq!(run("div", "[1,0]"), Err("divide by zero".into()));
        assert_eq!(run("rem", "[-7,2]"), Ok("-1".into()));
        assert_eq!(run("rem", "[5,0]"), Err("modulo by zero".into()));
        assert_eq!(
            run("rem", "[5.5,2]"),
            Err("modulo on floating-point number".into())
        );
    }

    #[test]
    fn sets_comparisons_and_membership() {
        let sets = |a: &[i64], b: &[i64]| {
            vec![
                Value::set(a.iter().map(|i| Value::int(*i))),
                Value::set(b.iter().map(|i| Value::int(*i))),
            ]
        };
        assert_eq!(minus(&sets(&[1, 2], &[1])), Ok(Value::set([Value::int(2)])));
        assert_eq!(
            intersection(&sets(&[1, 2], &[2])),
            Ok(Value::set([Value::int(2)]))
        );
        assert_eq!(
            minus(&[Value::set([Value::int(1)]), Value::int(1)]).map_err(|e| e.to_string()),
            Err("operand 2 must be set but got number".into())
        );
        assert_eq!(run("gt", r#"["a",1]"#), Ok("true".into()));
        assert_eq!(
            run("internal.member_2", r#"[1,{"a":1}]"#),
            Ok("true".into())
        );
        assert_eq!(
            run("internal.member_3", r#"["a",1,{"a":1}]"#),
            Ok("true".into())
        );
        assert_eq!(run("internal.member_3", "[5,1,[1]]"), Ok("false".into()));
    }
}
