//! `sprintf`: Go's `fmt.Sprintf` over Rego operands, as OPA hands them to Go.
//!
//! OPA passes an integer that fits `int64` as `int64`, a larger integer as `*big.Int`, any
//! other number as `float64`, a string as itself and every other value as its Rego text
//! (open-policy-agent/opa: v1/topdown/strings.go). Go's verbs, flags, widths, precisions,
//! argument indexes and its `%!verb(type=value)` complaints follow from that.

use std::borrow::Cow;

use super::args::{self, BuiltinError};
use super::terms::rego_text;
use super::{Builtin, Implementation};
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "sprintf",
    arity: 2,
    nondeterministic: false,
    eval: Implementation::Operands(sprintf),
}];

fn sprintf(args: &[Value]) -> Result<Value, BuiltinError> {
    let format = args::string(args, 0)?;
    let operands = args::array(args, 1)?;
    let operands: Vec<Operand> = operands.iter().map(Operand::from_value).collect();
    Ok(Value::string(format_go(format, &operands)))
}

/// An operand as Go sees it after OPA's conversion.
#[derive(Clone, Debug)]
pub(super) enum Operand<'a> {
    Int(i64),
    /// An integer beyond `int64`, as decimal text (Go's `*big.Int`).
    Big(String),
    Float(f64),
    /// A string operand, borrowed from the Rego string when it is one.
    Str(Cow<'a, str>),
    /// A number as `encoding/json` hands it to templates: a string type named `json.Number`.
    JsonNumber(String),
    Bool(bool),
}

impl<'a> Operand<'a> {
    fn from_value(value: &'a Value) -> Operand<'a> {
        match value {
            Value::Number(n) => match n {
                Number::Int(i) => {
                    i64::try_from(*i).map_or_else(|_| Operand::Big(i.to_string()), Operand::Int)
                }
                Number::Big(text) => Operand::Big(text.to_string()),
                Number::Float(f) => Operand::Float(*f),
            },
            Value::String(s) => Operand::Str(Cow::Borrowed(s)),
            other => Operand::Str(Cow::Owned(rego_text(other))),
        }
    }

    /// Go's `reflect.TypeOf(arg).String()`.
    fn type_name(&self) -> &'static str {
        match self {
            Operand::Int(_) => "int64",
            Operand::Big(_) => "*big.Int",
            Operand::Float(_) => "float64",
            Operand::Str(_) => "string",
            Operand::JsonNumber(_) => "json.Number",
            Operand::Bool(_) => "bool",
        }
    }
}

/// The flags, width and precision of one verb.
#[derive(Clone, Copy, Debug, Default)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Formats like Go's `fmt.Sprintf(format, operands...)`.
pub(super) fn format_go(format: &str, operands: &[Operand<'_>]) -> String {
    let bytes = format.as_bytes();
    let end = bytes.len();
    let mut out = String::with_capacity(format.len() + 16 * operands.len());
    let mut arg_num = 0usize;
    let mut reordered = false;
    let mut i = 0usize;
    while i < end {
        let start = i;
        while i < end && bytes[i] != b'%' {
            i += 1;
        }
        out.push_str(&format[start..i]);
        if i >= end {
            break;
        }
        i += 1;
        let mut spec = Spec::default();
        let mut good_arg_num = true;
        while i < end {
            match bytes[i] {
                b'#' => spec.sharp = true,
                // Zero padding is allowed only to the left.
                b'0' => spec.zero = !spec.minus,
                b'+' => spec.plus = true,
                b'-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut after_index;
        (arg_num, i, after_index) = arg_number(
            bytes,
            i,
            arg_num,
            operands.len(),
            &mut reordered,
            &mut good_arg_num,
        );
        if i < end && bytes[i] == b'*' {
            i += 1;
            let (width, present, next) = int_from_arg(operands, arg_num);
            arg_num = next;
            if !present {
                out.push_str("%!(BADWIDTH)");
            } else if width < 0 {
                spec.minus = true;
                spec.zero = false;
                spec.width = Some(width.unsigned_abs() as usize);
            } else {
                spec.width = Some(width as usize);
            }
            after_index = false;
        } else {
            let (width, next) = parse_num(bytes, i);
            i = next;
            if width.is_some() && after_index {
                good_arg_num = false;
            }
            spec.width = width;
        }
        if i + 1 < end && bytes[i] == b'.' {
            i += 1;
            if after_index {
                good_arg_num = false;
            }
            (arg_num, i, after_index) = arg_number(
                bytes,
                i,
                arg_num,
                operands.len(),
                &mut reordered,
                &mut good_arg_num,
            );
            if i < end && bytes[i] == b'*' {
                i += 1;
                let (precision, present, next) = int_from_arg(operands, arg_num);
                arg_num = next;
                if !present {
                    out.push_str("%!(BADPREC)");
                } else if precision >= 0 {
                    spec.precision = Some(precision as usize);
                }
                after_index = false;
            } else {
                let (precision, next) = parse_num(bytes, i);
                i = next;
                spec.precision = Some(precision.unwrap_or(0));
            }
        }
        if !after_index {
            (arg_num, i, _) = arg_number(
                bytes,
                i,
                arg_num,
                operands.len(),
                &mut reordered,
                &mut good_arg_num,
            );
        }
        let Some(verb) = format[i..].chars().next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += verb.len_utf8();
        if verb == '%' {
            out.push('%');
        } else if !good_arg_num {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
        } else if arg_num >= operands.len() {
            out.push_str(&format!("%!{verb}(MISSING)"));
        } else {
            format_operand(&mut out, &operands[arg_num], verb, spec);
            arg_num += 1;
        }
    }
    if !reordered && arg_num < operands.len() {
        out.push_str("%!(EXTRA ");
        for (n, operand) in operands[arg_num..].iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            out.push_str(operand.type_name());
            out.push('=');
            format_operand(&mut out, operand, 'v', Spec::default());
        }
        out.push(')');
    }
    out
}

/// Reads an `[n]` argument index at `i`: (argument number, next position, index found).
fn arg_number(
    bytes: &[u8],
    i: usize,
    arg_num: usize,
    count: usize,
    reordered: &mut bool,
    good: &mut bool,
) -> (usize, usize, bool) {
    if bytes.get(i) != Some(&b'[') {
        return (arg_num, i, false);
    }
    *reordered = true;
    let rest = &bytes[i..];
    let (index, width, ok) = match rest.iter().position(|&b| b == b']') {
        Some(close) if rest.len() >= 3 => match parse_num(rest, 1) {
            (Some(n), next) if next == close => (n.checked_sub(1), close + 1, true),
            _ => (None, close + 1, false),
        },
        _ => (None, 1, false),
    };
    match index {
        Some(index) if ok && index < count => (index, i + width, true),
        _ => {
            *good = false;
            (arg_num, i + width, ok)
        }
    }
}

/// Reads a decimal number at `i`; Go gives up on absurdly large widths.
fn parse_num(bytes: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n = 0usize;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        if n >= 1_000_000 {
            return (None, bytes.len());
        }
        n = n * 10 + usize::from(bytes[i] - b'0');
        i += 1;
    }
    ((i > start).then_some(n), i)
}

/// A `*` width or precision: (value, present, next argument number).
fn int_from_arg(operands: &[Operand<'_>], arg_num: usize) -> (i64, bool, usize) {
    match operands.get(arg_num) {
        Some(Operand::Int(n)) if n.unsigned_abs() <= 1_000_000 => (*n, true, arg_num + 1),
        Some(_) => (0, false, arg_num + 1),
        None => (0, false, arg_num),
    }
}

fn format_operand(out: &mut String, operand: &Operand<'_>, verb: char, spec: Spec) {
    if verb == 'T' {
        pad(out, operand.type_name(), spec);
        return;
    }
    let handled = match operand {
        Operand::Int(n) => format_int(out, i128::from(*n), verb, spec),
        Operand::Big(text) => format_big(out, text, verb, spec),
        Operand::Float(f) => format_float(out, *f, verb, spec),
        Operand::Str(s) => format_str(out, s, verb, spec),
        Operand::JsonNumber(s) => format_str(out, s, verb, spec),
        Operand::Bool(b) => match verb {
            'v' | 't' => {
                pad(out, if *b { "true" } else { "false" }, spec);
                true
            }
            _ => false,
        },
    };
    if !handled {
        out.push_str("%!");
        out.push(verb);
        out.push('(');
        out.push_str(operand.type_name());
        out.push('=');
        format_operand(out, operand, 'v', spec);
        out.push(')');
    }
}

/// Go's `fmt.pad`: width counted in runes, spaces or (left only) zeros.
fn pad(out: &mut String, text: &str, spec: Spec) {
    let Some(width) = spec.width else {
        out.push_str(text);
        return;
    };
    let fill = width.saturating_sub(text.chars().count());
    let pad_char = if spec.zero && !spec.minus { '0' } else { ' ' };
    if spec.minus {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(pad_char, fill));
        out.push_str(text);
    }
}

fn format_int(out: &mut String, n: i128, verb: char, spec: Spec) -> bool {
    let (base, upper) = match verb {
        'v' | 'd' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, &c.to_string(), spec);
            return true;
        }
        'q' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, &quote_rune(c), spec);
            return true;
        }
        'U' => {
            let mut text = format!("U+{:04X}", n);
            if spec.sharp
                && let Some(c) = u32::try_from(n).ok().and_then(char::from_u32)
                && !c.is_control()
            {
                text.push_str(&format!(" '{c}'"));
            }
            pad(
                out,
                &text,
                Spec {
                    zero: false,
                    ..spec
                },
            );
            return true;
        }
        _ => return false,
    };
    let digits = to_base(n.unsigned_abs(), base, upper);
    integer_text(out, n < 0, &digits, base, verb, spec);
    true
}

fn to_base(mut n: u128, base: u32, upper: bool) -> String {
    if n == 0 {
        return "0".to_string();
    }
    let table: &[u8] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(table[(n % u128::from(base)) as usize]);
        n /= u128::from(base);
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Go's `fmtInteger` once the digits are known: precision, zero padding, prefixes, sign.
fn integer_text(out: &mut String, negative: bool, digits: &str, base: u32, verb: char, spec: Spec) {
    let mut min_digits = 0;
    if let Some(precision) = spec.precision {
        // Precision 0 and value 0 print nothing but padding.
        if precision == 0 && digits == "0" {
            pad(
                out,
                "",
                Spec {
                    zero: false,
                    ..spec
                },
            );
            return;
        }
        min_digits = precision;
    } else if spec.zero
        && !spec.minus
        && let Some(width) = spec.width
    {
        min_digits = if negative || spec.plus || spec.space {
            width.saturating_sub(1)
        } else {
            width
        };
    }
    let mut body = "0".repeat(min_digits.saturating_sub(digits.len()));
    body.push_str(digits);
    let mut prefix = String::new();
    if negative {
        prefix.push('-');
    } else if spec.plus {
        prefix.push('+');
    } else if spec.space {
        prefix.push(' ');
    }
    if spec.sharp {
        match base {
            2 => prefix.push_str("0b"),
            8 if !body.starts_with('0') => prefix.push('0'),
            16 => prefix.push_str(if verb == 'X' { "0X" } else { "0x" }),
            _ => {}
        }
    }
    if verb == 'O' {
        prefix.push_str("0o");
    }
    prefix.push_str(&body);
    pad(
        out,
        &prefix,
        Spec {
            zero: false,
            ..spec
        },
    );
}

/// Go's `big.Int` formatter: only bases, else its own `%!c(big.Int=n)` complaint.
fn format_big(out: &mut String, text: &str, verb: char, spec: Spec) -> bool {
    let (negative, digits) = text.strip_prefix('-').map_or((false, text), |d| (true, d));
    let (base, upper) = match verb {
        'd' | 's' | 'v' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        _ => {
            out.push_str(&format!("%!{verb}(big.Int={text})"));
            return true;
        }
    };
    let converted = if base == 10 {
        digits.to_string()
    } else {
        decimal_to_base(digits, base, upper)
    };
    integer_text(out, negative, &converted, base, verb, spec);
    true
}

/// Converts a long decimal digit string to another base by repeated division.
fn decimal_to_base(decimal: &str, base: u32, upper: bool) -> String {
    let mut digits: Vec<u32> = decimal.bytes().map(|b| u32::from(b - b'0')).collect();
    let table: &[u8] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = Vec::new();
    while digits.iter().any(|&d| d != 0) {
        let mut remainder = 0u32;
        for digit in digits.iter_mut() {
            let current = remainder * 10 + *digit;
            *digit = current / base;
            remainder = current % base;
        }
        out.push(table[remainder as usize]);
    }
    if out.is_empty() {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn format_float(out: &mut String, f: f64, verb: char, spec: Spec) -> bool {
    let text = match verb {
        'v' | 'g' | 'G' => format_g(f, spec.precision, verb == 'G', spec.sharp),
        'e' | 'E' => format_e(f, spec.precision.unwrap_or(6), verb == 'E'),
        'f' | 'F' => format!("{:.*}", spec.precision.unwrap_or(6), f),
        _ => return false,
    };
    if !f.is_finite() {
        let text = if f.is_nan() {
            "NaN".to_string()
        } else if f > 0.0 {
            if spec.plus { "+Inf" } else { "Inf" }.to_string()
        } else {
            "-Inf".to_string()
        };
        pad(
            out,
            &text,
            Spec {
                zero: false,
                ..spec
            },
        );
        return true;
    }
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest.to_string()),
        None if spec.plus => ("+", text),
        None if spec.space => (" ", text),
        None => ("", text),
    };
    // Zero padding goes between the sign and the digits.
    if spec.zero
        && !spec.minus
        && let Some(width) = spec.width
        && width > sign.len() + digits.len()
    {
        out.push_str(sign);
        out.push_str(&"0".repeat(width - sign.len() - digits.len()));
        out.push_str(&digits);
        return true;
    }
    pad(
        out,
        &format!("{sign}{digits}"),
        Spec {
            zero: false,
            ..spec
        },
    );
    true
}

/// Decimal digits of `|f|` and the decimal point position: `0.0123` is ("123", -1).
fn shortest_digits(f: f64) -> (String, i32) {
    scientific_digits(&format!("{:e}", f.abs()))
}

/// Splits Rust's `d.ddde±x` text into digits without trailing zeros and the point position.
fn scientific_digits(text: &str) -> (String, i32) {
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        return (String::new(), 0);
    }
    (trimmed.to_string(), exponent + 1)
}

/// Go's `%e` (strconv 'e'): one digit, `precision` decimals, a signed two-digit exponent.
fn format_e(f: f64, precision: usize, upper: bool) -> String {
    let text = format!("{:.*e}", precision, f);
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    let e = if upper { 'E' } else { 'e' };
    format!("{mantissa}{e}{sign}{:02}", exponent.unsigned_abs())
}

/// Go's `%g`/`%v` (strconv 'g'): the shortest digits, or `precision` significant digits;
/// exponent form when the exponent is below -4 or at least the precision (6 when shortest).
fn format_g(f: f64, precision: Option<usize>, upper: bool, sharp: bool) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let negative = f.is_sign_negative();
    let (digits, point, eprec, shortest) = match precision {
        None => {
            let (digits, point) = shortest_digits(f);
            (digits, point, 6, true)
        }
        Some(p) => {
            let p = p.max(1);
            let (digits, point) = scientific_digits(&format!("{:.*e}", p - 1, f.abs()));
            let mut eprec = p;
            if eprec > digits.len() && digits.len() as i32 >= point {
                eprec = digits.len();
            }
            (digits, point, eprec, false)
        }
    };
    let _ = sharp;
    let sign = if negative { "-" } else { "" };
    if digits.is_empty() {
        return format!("{sign}0");
    }
    let exponent = point - 1;
    if exponent < -4 || exponent >= eprec as i32 {
        let mut mantissa = digits[..1].to_string();
        if digits.len() > 1 {
            mantissa.push('.');
            mantissa.push_str(&digits[1..]);
        }
        let e = if upper { 'E' } else { 'e' };
        let esign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}{e}{esign}{:02}", exponent.unsigned_abs());
    }
    let _ = shortest;
    let body = if point <= 0 {
        format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    format!("{sign}{body}")
}

fn format_str(out: &mut String, s: &str, verb: char, spec: Spec) -> bool {
    let truncated: Cow<'_, str> = match spec.precision {
        Some(p) => Cow::Owned(s.chars().take(p).collect()),
        None => Cow::Borrowed(s),
    };
    match verb {
        'v' | 's' => pad(out, &truncated, spec),
        'q' => pad(out, &quote(&truncated), spec),
        'x' | 'X' => {
            let bytes = match spec.precision {
                Some(p) => &s.as_bytes()[..p.min(s.len())],
                None => s.as_bytes(),
            };
            let mut text = String::new();
            for (i, byte) in bytes.iter().enumerate() {
                if spec.space && i > 0 {
                    text.push(' ');
                }
                if spec.sharp && (spec.space || i == 0) {
                    text.push_str(if verb == 'X' { "0X" } else { "0x" });
                }
                if verb == 'X' {
                    text.push_str(&format!("{byte:02X}"));
                } else {
                    text.push_str(&format!("{byte:02x}"));
                }
            }
            pad(out, &text, spec);
        }
        _ => return false,
    }
    true
}

/// Go's `strconv.Quote`: printable runes kept, the rest escaped.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        escape_into(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune`.
fn quote_rune(c: char) -> String {
    let mut out = String::from("'");
    escape_into(&mut out, c, '\'');
    out.push('\'');
    out
}

fn escape_into(out: &mut String, c: char, quote: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if c.is_control() || (c.is_whitespace() && c != ' ') => {
            if (c as u32) < 0x10000 {
                out.push_str(&format!("\\u{:04x}", c as u32));
            } else {
                out.push_str(&format!("\\U{:08x}", c as u32));
            }
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(format: &str, operands: &str) -> String {
        let operands = Value::from_json(operands).expect("json");
        match sprintf(&[Value::string(format), operands]) {
            Ok(Value::String(s)) => s.to_string(),
            other => panic!("unexpected {other:?}"),
        }
    }

    // Expected texts confirmed with `opa eval 'sprintf(...)'` (OPA 1.22.2).
    #[test]
    fn formats_verbs_as_go() {
        assert_eq!(run("%d %s %v", r#"[1,"a",{"a":1}]"#), r#"1 a {"a": 1}"#);
        assert_eq!(
            run("%5.2f|%-5d|%05d", "[3.14159, 42, 42]"),
            " 3.14|42   |00042"
        );
        assert_eq!(run("%x %X %o %b", "[255, 255, 8, 5]"), "ff FF 10 101");
        assert_eq!(run("%q", r#"["a\"b"]"#), r#""a\"b""#);
        assert_eq!(run("%8s|%-8s|", r#"["ab", "cd"]"#), "      ab|cd      |");
        assert_eq!(run("%x", r#"["hello"]"#), "68656c6c6f");
        assert_eq!(run("%+d|%#x|%*d", "[5, 255, 5, 3]"), "+5|0xff|    3");
        assert_eq!(run("%[2]d %[1]d", "[1, 2]"), "2 1");
        assert_eq!(run("%c|%U", "[65, 65]"), "A|U+0041");
        assert_eq!(run("%T", "[1]"), "int64");
    }

    #[test]
    fn formats_floats_as_go() {
        assert_eq!(run("%v", "[1e20]"), "1e+20");
        assert_eq!(run("%v", "[0.000001]"), "1e-06");
        assert_eq!(run("%e", "[123456.789]"), "1.234568e+05");
        assert_eq!(run("%g", "[123456.789]"), "123456.789");
        assert_eq!(run("%.3g", "[123456.789]"), "1.23e+05");
        assert_eq!(
            run(
                "%08.3f|%+.2e|%-8.2f|%g|%G",
                "[-3.14159, 1234.5, 2.5, 1e-5, 1e-7]"
            ),
            "-003.142|+1.23e+03|2.50    |1e-05|1E-07"
        );
        assert_eq!(
            run("%v|%v|%v|%v", "[100000, 1000000.5, 0.0001, 0.00001]"),
            "100000|1.0000005e+06|0.0001|1e-05"
        );
        assert_eq!(run("%.3v|%6.2v", "[3.14159, 3.14159]"), "3.14|   3.1");
    }

    #[test]
    fn complains_as_go() {
        assert_eq!(run("%d", r#"["a"]"#), "%!d(string=a)");
        assert_eq!(run("%d", "[1.5]"), "%!d(float64=1.5)");
        assert_eq!(run("%t", "[true]"), "%!t(string=true)");
        assert_eq!(run("%d %d", "[1]"), "1 %!d(MISSING)");
        assert_eq!(run("%d", "[1, 2]"), "1%!(EXTRA int64=2)");
        assert_eq!(run("%[3]v %v", "[1, 2, 3]"), "3 %!v(MISSING)");
        assert_eq!(run("%[5]v", "[1]"), "%!v(BADINDEX)");
        assert_eq!(run("%", "[]"), "%!(NOVERB)");
        assert_eq!(run("%!", "[1]"), "%!!(int64=1)");
        assert_eq!(
            run("%.2f", "[12345678901234567890]"),
            "%!f(big.Int=12345678901234567890)"
        );
        assert_eq!(run("%05s|%.1s|%.0d", r#"["ab", "xyz", 0]"#), "000ab|x|");
    }

    #[test]
    fn rejects_non_string_formats() {
        let error = sprintf(&[Value::int(1), Value::array(vec![])]).err();
        assert_eq!(
            error.map(|e| e.to_string()),
            Some("operand 1 must be string but got number".to_string())
        );
    }
}
