//! `bits.*`, replacing regorus's versions, whose errors are not OPA's (`bits.or: operand 1
//! must be integer but got string`) and which stop at 64 bits where OPA's integers do not.

use super::args::{self, BuiltinError};
use super::{Builtin, builtin};
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("bits.and", 2, |a| binary(a, |x, y| x & y)),
    builtin("bits.or", 2, |a| binary(a, |x, y| x | y)),
    builtin("bits.xor", 2, |a| binary(a, |x, y| x ^ y)),
    builtin("bits.negate", 1, negate),
    builtin("bits.lsh", 2, lsh),
    builtin("bits.rsh", 2, rsh),
];

/// An integer operand with OPA's wording for bitwise operations.
fn integer(args: &[Value], position: usize) -> Result<i128, BuiltinError> {
    match args::any(args, position)? {
        Value::Number(Number::Int(i)) => Ok(*i),
        Value::Number(Number::Float(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e38 => {
            Ok(*f as i128)
        }
        Value::Number(Number::Big(_)) => Err(BuiltinError::failed(
            "integers beyond 128 bits are not supported",
        )),
        Value::Number(_) => Err(BuiltinError::Type(format!(
            "operand {} must be integer number but got floating-point number",
            position + 1
        ))),
        other => Err(args::wrong_type(position, "integer", other)),
    }
}

/// A shift distance: a non-negative integer.
fn shift(args: &[Value]) -> Result<u32, BuiltinError> {
    let n = integer(args, 1)?;
    if n < 0 {
        return Err(BuiltinError::Type(
            "operand 2 must be an unsigned integer number but got a negative integer".to_string(),
        ));
    }
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

fn int(i: i128) -> Value {
    Value::Number(Number::Int(i))
}

fn binary(args: &[Value], op: fn(i128, i128) -> i128) -> Result<Value, BuiltinError> {
    let x = integer(args, 0)?;
    let y = integer(args, 1)?;
    Ok(int(op(x, y)))
}

fn negate(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(int(!integer(args, 0)?))
}

fn lsh(args: &[Value]) -> Result<Value, BuiltinError> {
    let x = integer(args, 0)?;
    let n = shift(args)?;
    // Exact while the result fits; beyond, the nearest `f64`, as no wider integer exists here.
    let exact = 1i128
        .checked_shl(n)
        .filter(|_| n < 127)
        .and_then(|factor| x.checked_mul(factor));
    Ok(match exact {
        Some(v) => int(v),
        None if x == 0 => int(0),
        None => Value::float(x as f64 * 2f64.powi(i32::try_from(n).unwrap_or(i32::MAX))),
    })
}

/// Arithmetic shift, rounding toward negative infinity as Go's `big.Int.Rsh`.
fn rsh(args: &[Value]) -> Result<Value, BuiltinError> {
    let x = integer(args, 0)?;
    let n = shift(args)?;
    Ok(int(if n >= 127 {
        if x < 0 { -1 } else { 0 }
    } else {
        x >> n
    }))
}

#[cfg(test)]
mod tests {
    use crate::builtins::run_json as run;

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn bitwise_as_opa() {
        assert_eq!(run("bits.xor", "[-1,5]"), Ok("-6".into()));
        assert_eq!(run("bits.negate", "[-5]"), Ok("4".into()));
        assert_eq!(
            run("bits.negate", "[18446744073709551615]"),
            Ok("-18446744073709551616".into())
        );
        assert_eq!(
            run("bits.lsh", "[1,70]"),
            Ok("1180591620717411303424".into())
        );
        assert_eq!(run("bits.lsh", "[-5,1]"), Ok("-10".into()));
        assert_eq!(run("bits.rsh", "[-5,1]"), Ok("-3".into()));
        assert_eq!(
            run("bits.rsh", "[18446744073709551615,3]"),
            Ok("2305843009213693951".into())
        );
        assert_eq!(
            run("bits.and", "[1.5,1]"),
            Err("operand 1 must be integer number but got floating-point number".into())
        );
        assert_eq!(
            run("bits.or", r#"["1",1]"#),
            Err("operand 1 must be integer but got string".into())
        );
        assert_eq!(
            run("bits.lsh", "[5,-1]"),
            Err("operand 2 must be an unsigned integer number but got a negative integer".into())
        );
    }
}
