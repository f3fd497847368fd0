//! Whether plain text would read back as the same string: the encoder quotes text that a
//! YAML reader would take for a null, boolean, number or timestamp, and YAML 1.1's
//! booleans and base-60 numbers too.

pub fn reads_back_as_string(text: &str) -> bool {
    resolves_to_string(text) && !is_yaml11_bool(text) && !is_base60(text)
}

fn resolves_to_string(text: &str) -> bool {
    const NON_STRINGS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", ".nan",
        ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
        "-.INF",
    ];
    let Some(first) = text.bytes().next() else {
        return false;
    };
    // Only these first characters can start anything but a string.
    let hinted = first.is_ascii_digit() || b"+-.yYnNtTfFoO~".contains(&first);
    if !hinted {
        return true;
    }
    if NON_STRINGS.contains(&text) {
        return false;
    }
    match first {
        b'.' => !is_decimal_float(text),
        b'+' | b'-' | b'0'..=b'9' => !is_number_or_timestamp(text),
        _ => true,
    }
}

fn is_number_or_timestamp(text: &str) -> bool {
    if is_timestamp(text) {
        return true;
    }
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    if go_parse_int(&plain, 0).is_some() || go_parse_uint(&plain, 0).is_some() {
        return true;
    }
    if is_decimal_float(&plain) {
        return true;
    }
    // Prefixes read after the generic parse failed: the rest may carry its own sign.
    for (prefix, base) in [("0b", 2), ("0o", 8)] {
        if let Some(rest) = plain.strip_prefix(prefix)
            && (go_parse_int(rest, base).is_some() || go_parse_uint(rest, base).is_some())
        {
            return true;
        }
        if let Some(rest) = plain.strip_prefix(&format!("-{prefix}"))
            && go_parse_int(&format!("-{rest}"), base).is_some()
        {
            return true;
        }
    }
    false
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` within float64's range.
fn is_decimal_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    // Go refuses what overflows float64; Rust reads it as infinity.
    i == bytes.len() && text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Go's `strconv.ParseUint(text, base, 64)`; base 0 reads `0x`, `0o`, `0b` and `0` prefixes.
fn go_parse_uint(text: &str, base: u32) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let (digits, base) = match (base, text.as_bytes()) {
        (0, [b'0', prefix, _, ..]) if prefix.eq_ignore_ascii_case(&b'x') => (&text[2..], 16),
        (0, [b'0', prefix, _, ..]) if prefix.eq_ignore_ascii_case(&b'o') => (&text[2..], 8),
        (0, [b'0', prefix, _, ..]) if prefix.eq_ignore_ascii_case(&b'b') => (&text[2..], 2),
        (0, [b'0', ..]) => (&text[1..], 8),
        (0, _) => (text, 10),
        _ => (text, base),
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let digit = c.to_digit(36).filter(|d| *d < base)?;
        value = value
            .checked_mul(u64::from(base))?
            .checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// Go's `strconv.ParseInt(text, base, 64)`.
fn go_parse_int(text: &str, base: u32) -> Option<i64> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = go_parse_uint(rest, base)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

fn is_yaml11_bool(text: &str) -> bool {
    matches!(
        text,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.1's sexagesimal numbers: `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?`.
fn is_base60(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (body, fraction) = match body.split_once('.') {
        Some((body, fraction)) => (body, Some(fraction)),
        None => (body, None),
    };
    if fraction.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut parts = body.split(':');
    let head = parts.next().unwrap_or_default();
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_');
    let mut sixties = 0;
    for part in parts {
        let ok = match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [t, d] => (b'0'..=b'5').contains(t) && d.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
        sixties += 1;
    }
    head_ok && sixties > 0
}

/// What Go's `time.Parse` accepts in the encoder's timestamp layouts: `2006-1-2`, then
/// optionally `T`/`t` with `15:4:5`, fraction and zone, or spaces with `15:4:5` and fraction.
fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 5 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return false;
    }
    let year: u32 = text[..4].parse().unwrap_or(0);
    let mut rest = &bytes[5..];
    let Some(month) = number(&mut rest).filter(|m| (1..=12).contains(m)) else {
        return false;
    };
    let Some(b'-') = rest.first() else {
        return false;
    };
    rest = &rest[1..];
    if number(&mut rest).is_none_or(|d| !(1..=days_in(month, year)).contains(&d)) {
        return false;
    }
    let zoned = match rest.first() {
        None => return true,
        Some(b'T' | b't') => {
            rest = &rest[1..];
            true
        }
        Some(b' ') => {
            while rest.first() == Some(&b' ') {
                rest = &rest[1..];
            }
            false
        }
        Some(_) => return false,
    };
    let clock_ok = number(&mut rest).is_some_and(|h| h < 24)
        && colon(&mut rest)
        && number(&mut rest).is_some_and(|m| m < 60)
        && colon(&mut rest)
        && number(&mut rest).is_some_and(|s| s < 60);
    if !clock_ok {
        return false;
    }
    if matches!(rest, [b'.' | b',', d, ..] if d.is_ascii_digit()) {
        rest = &rest[1..];
        while rest.first().is_some_and(u8::is_ascii_digit) {
            rest = &rest[1..];
        }
    }
    if !zoned {
        return rest.is_empty();
    }
    match rest {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
                && (h1 - b'0') * 10 + (h2 - b'0') <= 24
                && (m1 - b'0') * 10 + (m2 - b'0') <= 60
        }
        _ => false,
    }
}

/// One or two digits, as Go's `getnum` reads an unpadded field.
fn number(rest: &mut &[u8]) -> Option<u32> {
    let first = rest.first().filter(|d| d.is_ascii_digit())?;
    let mut value = u32::from(first - b'0');
    *rest = &rest[1..];
    if let Some(second) = rest.first().filter(|d| d.is_ascii_digit()) {
        value = value * 10 + u32::from(second - b'0');
        *rest = &rest[1..];
    }
    Some(value)
}

fn colon(rest: &mut &[u8]) -> bool {
    if rest.first() == Some(&b':') {
        *rest = &rest[1..];
        true
    } else {
        false
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_as_numbers() {
        for text in [
            "0",
            "12",
            "-3",
            "+4",
            "1_000",
            "0x1F",
            "0o17",
            "0b101",
            "017",
            "08",
            "1.5",
            ".5",
            "1e3",
            "-2.5E-3",
            "99999999999999999999",
            "0b-1",
        ] {
            assert!(!reads_back_as_string(text), "{text}");
        }
        for text in [
            "1e400",
            "0x",
            "0xFFFFFFFFFFFFFFFFFF",
            "1.2.3",
            "-",
            "+",
            ".",
            "1e",
            "12a",
        ] {
            assert!(reads_back_as_string(text), "{text}");
        }
    }

    #[test]
    fn timestamps_as_go_reads_them() {
        for text in [
            "2024-01-15",
            "2024-1-5",
            "2024-02-29",
            "2024-01-15T10:20:30Z",
            "2024-01-15t1:2:3.5+02:00",
            "2024-01-15  10:20:30.123",
        ] {
            assert!(!reads_back_as_string(text), "{text}");
        }
        for text in [
            "2023-02-29",
            "2024-13-01",
            "2024-01-15T10:20:30",
            "2024-01-15 10:20:30Z",
            "20240-01-15",
            "2024-01-15x",
        ] {
            assert!(reads_back_as_string(text), "{text}");
        }
    }

    #[test]
    fn yaml11_leftovers_are_quoted() {
        for text in [
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "1:20",
            "-1:30:00.5",
            "190:20:30",
        ] {
            assert!(!reads_back_as_string(text), "{text}");
        }
        assert!(reads_back_as_string("1:60"));
        assert!(reads_back_as_string("nope"));
    }
}
