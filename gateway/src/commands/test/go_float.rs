//! Floats as Go writes them: `strconv.FormatFloat(f, 'g', -1, 64)`, which go-yaml uses, and
//! `encoding/json`'s choice between `'f'` and `'e'`. Both start from the shortest digits that
//! read back as the same float, which Rust's formatting finds as Go's does.

/// Shortest decimal digits of a finite, non-zero `|f|` and the exponent of the first one.
fn shortest(f: f64) -> (String, i32) {
    let scientific = format!("{:e}", f.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

fn sign(f: f64) -> &'static str {
    if f.is_sign_negative() { "-" } else { "" }
}

/// `d.ddde±XX`, at least two exponent digits.
fn exponent_form(f: f64, digits: &str, exponent: i32) -> String {
    let (first, rest) = digits.split_at(1);
    let dot = if rest.is_empty() { "" } else { "." };
    let exp_sign = if exponent < 0 { '-' } else { '+' };
    format!(
        "{}{first}{dot}{rest}e{exp_sign}{:02}",
        sign(f),
        exponent.unsigned_abs()
    )
}

/// `ddd.ddd` with as many digits as needed.
fn decimal_form(f: f64, digits: &str, exponent: i32) -> String {
    let point = exponent + 1;
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        return format!("{}0.{zeros}{digits}", sign(f));
    }
    let point = point.unsigned_abs() as usize;
    if digits.len() <= point {
        format!("{}{digits}{}", sign(f), "0".repeat(point - digits.len()))
    } else {
        format!("{}{}.{}", sign(f), &digits[..point], &digits[point..])
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` for finite `f`: exponent form below 1e-4 and from
/// 1e6 (the shortest mode decides with a precision of 6).
pub fn format_g(f: f64) -> String {
    if f == 0.0 {
        return format!("{}0", sign(f));
    }
    let (digits, exponent) = shortest(f);
    if (-4..6).contains(&exponent) {
        decimal_form(f, &digits, exponent)
    } else {
        exponent_form(f, &digits, exponent)
    }
}

/// `encoding/json`'s float: decimal from 1e-6 up to 1e21, else exponent form without a
/// leading zero in a negative exponent (`1e-07` is written `1e-7`).
pub fn json(f: f64) -> String {
    if f == 0.0 {
        return format!("{}0", sign(f));
    }
    let (digits, exponent) = shortest(f);
    if (-6..21).contains(&exponent) {
        return decimal_form(f, &digits, exponent);
    }
    let text = exponent_form(f, &digits, exponent);
    match text.rsplit_once("e-0") {
        Some((mantissa, last)) if last.len() == 1 => format!("{mantissa}e-{last}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_switches_to_exponents_outside_1e_minus_4_to_1e6() {
        let cases = [
            (3.0, "3"),
            (0.5, "0.5"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e21, "1e+21"),
            (123.456, "123.456"),
            (-0.0, "-0"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_g(value), expected, "{value}");
        }
    }

    #[test]
    fn json_switches_outside_1e_minus_6_to_1e21() {
        let cases = [
            (1.2345678901234567e19, "12345678901234567000"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-10, "1.5e-10"),
            (0.25, "0.25"),
            (-3.0, "-3"),
        ];
        for (value, expected) in cases {
            assert_eq!(json(value), expected, "{value}");
        }
    }
}
