//! `units.parse` and `units.parse_bytes`: quantities with SI (`K`, `M`) and binary (`Ki`, `Mi`)
//! suffixes, computed exactly, with OPA's messages (which name the builtin twice).

use super::args::{self, BuiltinError};
use super::{Builtin, Implementation};
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "units.parse",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(parse),
    },
    Builtin {
        name: "units.parse_bytes",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(parse_bytes),
    },
];

/// The multiplier of a lower-cased unit: `(numerator, denominator)`.
fn multiplier(unit: &str) -> Option<(i128, i128)> {
    let power = |base: i128, exponent: u32| Some((base.pow(exponent), 1));
    match unit {
        "" => Some((1, 1)),
        "k" => power(1000, 1),
        "m" => power(1000, 2),
        "g" => power(1000, 3),
        "t" => power(1000, 4),
        "p" => power(1000, 5),
        "e" => power(1000, 6),
        "ki" => power(1024, 1),
        "mi" => power(1024, 2),
        "gi" => power(1024, 3),
        "ti" => power(1024, 4),
        "pi" => power(1024, 5),
        "ei" => power(1024, 6),
        _ => None,
    }
}

/// Splits `"1.5Mi"` into the amount and the unit.
fn split(text: &str) -> (&str, &str) {
    let amount = text
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_digit()
                || *c == '.'
                || ((*c == '-' || *c == '+') && *i == 0)
                || ((*c == 'e' || *c == 'E')
                    && text[i + 1..]
                        .starts_with(|n: char| n.is_ascii_digit() || n == '-' || n == '+')
                    && text[..*i].bytes().any(|b| b.is_ascii_digit())))
        })
        .map_or(text.len(), |(i, _)| i);
    (&text[..amount], &text[amount..])
}

/// An exact decimal: `mantissa * 10^exponent`.
fn decimal(amount: &str) -> Option<(i128, i32)> {
    let (number, exponent) = match amount.find(['e', 'E']) {
        Some(at) => (&amount[..at], amount[at + 1..].parse::<i32>().ok()?),
        None => (amount, 0),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let (negative, whole) = match whole.as_bytes().first() {
        Some(b'-') => (true, &whole[1..]),
        Some(b'+') => (false, &whole[1..]),
        _ => (false, whole),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    // Digit by digit rather than through a joined string: resource quantities are parsed
    // on every review that checks limits. Negative values accumulate downwards, so that
    // i128::MIN parses as it would from text.
    let mut mantissa: i128 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        if !byte.is_ascii_digit() {
            return None;
        }
        let digit = i128::from(byte - b'0');
        mantissa = mantissa.checked_mul(10)?;
        mantissa = if negative {
            mantissa.checked_sub(digit)?
        } else {
            mantissa.checked_add(digit)?
        };
    }
    Some((mantissa, exponent - fraction.len() as i32))
}

/// `amount * numerator / denominator` as an exact integer when it is one, else a float.
fn scaled(amount: &str, (numerator, denominator): (i128, i128)) -> Option<Value> {
    let (mantissa, exponent) = decimal(amount)?;
    let mut value = mantissa.checked_mul(numerator)?;
    let mut divisor = denominator;
    if exponent >= 0 {
        value = value.checked_mul(10i128.checked_pow(exponent.unsigned_abs())?)?;
    } else {
        divisor = divisor.checked_mul(10i128.checked_pow(exponent.unsigned_abs())?)?;
    }
    if value % divisor == 0 {
        Some(Value::Number(Number::Int(value / divisor)))
    } else {
        Some(Value::float(value as f64 / divisor as f64))
    }
}

fn parse(args: &[Value]) -> Result<Value, BuiltinError> {
    // OPA drops every double quote first (`"\"3M\""` is `3M`).
    let text = &args::string(args, 0)?.replace('"', "");
    // OPA's messages repeat the builtin's name; the table adds the outer one.
    let fail = |reason: String| BuiltinError::failed(format!("units.parse: units.parse: {reason}"));
    if text.contains(' ') {
        return Err(fail("spaces not allowed in resource strings".to_string()));
    }
    let (amount, unit) = split(text);
    if amount.is_empty() {
        return Err(fail("no amount provided".to_string()));
    }
    if decimal(amount).is_none() {
        return Err(fail("could not parse amount to a number".to_string()));
    }
    // `m` is milli; every other unit is read without regard to case.
    let factor = if unit == "m" {
        Some((1, 1000))
    } else {
        multiplier(&unit.to_ascii_lowercase())
    };
    // OPA shows the unit with all but its first letter lower-cased (`KB` as `Kb`).
    let shown: String = unit
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 0 { c } else { c.to_ascii_lowercase() })
        .collect();
    let factor = factor.ok_or_else(|| fail(format!("unit {shown} not recognized")))?;
    scaled(amount, factor).ok_or_else(|| fail("value out of range".to_string()))
}

fn parse_bytes(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = &args::string(args, 0)?.replace('"', "");
    let fail = |reason: String| {
        BuiltinError::failed(format!("units.parse_bytes: units.parse_bytes: {reason}"))
    };
    if text.contains(' ') {
        return Err(fail("spaces not allowed in resource strings".to_string()));
    }
    let (amount, unit) = split(text);
    if amount.is_empty() {
        return Err(fail("no byte amount provided".to_string()));
    }
    if decimal(amount).is_none() {
        return Err(fail("could not parse byte amount to a number".to_string()));
    }
    let unit = unit.to_ascii_lowercase();
    // A trailing `b` is optional after a unit (`KB`, `KiB`), but is no unit on its own.
    let base = match unit.strip_suffix('b') {
        Some(base) if !base.is_empty() => base,
        _ => unit.as_str(),
    };
    let factor =
        multiplier(base).ok_or_else(|| fail(format!("byte unit {unit} not recognized")))?;
    match scaled(amount, factor) {
        Some(Value::Number(Number::Float(f))) => Ok(Value::Number(Number::Int(f.trunc() as i128))),
        Some(value) => Ok(value),
        None => Err(fail("value out of range".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&[Value]) -> Result<Value, BuiltinError>, text: &str) -> Result<String, String> {
        f(&[Value::string(text)])
            .map(|v| v.to_json())
            .map_err(|e| e.to_string())
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn parses_quantities() {
        assert_eq!(run(parse, "10K"), Ok("10000".into()));
        assert_eq!(run(parse, "\"3M\""), Ok("3000000".into()));
        assert_eq!(run(parse_bytes, "\"3M"), Ok("3000000".into()));
        assert_eq!(run(parse, "10ki"), Ok("10240".into()));
        assert_eq!(run(parse, "1.5M"), Ok("1500000".into()));
        assert_eq!(run(parse, "10m"), Ok("0.01".into()));
        assert_eq!(run(parse, "10mi"), Ok("10485760".into()));
        assert_eq!(run(parse, "1e3K"), Ok("1000000".into()));
        assert_eq!(run(parse, ".5"), Ok("0.5".into()));
        assert_eq!(run(parse, "10Ei"), Ok("11529215046068469760".into()));
        assert_eq!(
            run(parse, "10x"),
            Err("units.parse: units.parse: unit x not recognized".into())
        );
        assert_eq!(
            run(parse, "abc"),
            Err("units.parse: units.parse: no amount provided".into())
        );
        assert_eq!(
            run(parse, "10 "),
            Err("units.parse: units.parse: spaces not allowed in resource strings".into())
        );
    }

    #[test]
    fn decimals_keep_their_sign_digits_and_exponent() {
        assert_eq!(decimal("-1.25"), Some((-125, -2)));
        assert_eq!(decimal("+7"), Some((7, 0)));
        assert_eq!(decimal("-.5"), Some((-5, -1)));
        assert_eq!(decimal("3.e2"), Some((3, 2)));
        assert_eq!(decimal(&i128::MIN.to_string()), Some((i128::MIN, 0)));
        for bad in [
            "",
            ".",
            "-",
            "+.",
            "--5",
            "1.-5",
            "1_0",
            &format!("{}0", i128::MAX),
        ] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_byte_quantities() {
        assert_eq!(run(parse_bytes, "10KB"), Ok("10000".into()));
        assert_eq!(run(parse_bytes, "10kib"), Ok("10240".into()));
        assert_eq!(run(parse_bytes, "1.5MB"), Ok("1500000".into()));
        assert_eq!(run(parse_bytes, "1.1"), Ok("1".into()));
        assert_eq!(run(parse_bytes, "-1"), Ok("-1".into()));
        assert_eq!(
            run(parse_bytes, "10B"),
            Err("units.parse_bytes: units.parse_bytes: byte unit b not recognized".into())
        );
        assert_eq!(
            run(parse_bytes, "abc"),
            Err("units.parse_bytes: units.parse_bytes: no byte amount provided".into())
        );
        assert_eq!(
            run(parse_bytes, "0.0.0"),
            Err(
                "units.parse_bytes: units.parse_bytes: could not parse byte amount to a number"
                    .into()
            )
        );
    }
}
