//! Durations written as Go writes them (`time.ParseDuration`, `Duration.String`), because OPA's
//! configuration is Go's: `500ms`, `5s`, `1m30s`, `1.5h`. The gateway reads and shows its
//! duration settings in this form, so a value round-trips through `/v1/config` unchanged.

use std::fmt::Write;
use std::time::Duration;

/// Why a duration did not parse, worded as Go words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("time: invalid duration {0:?}")]
    Invalid(String),
    #[error("time: missing unit in duration {0:?}")]
    MissingUnit(String),
    #[error("time: unknown unit {unit:?} in duration {text:?}")]
    UnknownUnit { unit: String, text: String },
    #[error("duration {0:?} is negative")]
    Negative(String),
}

/// Parses a Go duration: a sequence of decimal numbers, each with an optional fraction and a
/// unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`). `0` alone needs no unit. Negative durations
/// are refused: no setting of the gateway takes one.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError::Invalid(text.to_string());
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.starts_with('-') {
        return Err(DurationError::Negative(text.to_string()));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        // Go accepts `.5s` and `5.s`, but not `.s`.
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        let value: f64 = number.parse().map_err(|_| invalid())?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale = match unit {
            "" => return Err(DurationError::MissingUnit(text.to_string())),
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            other => {
                return Err(DurationError::UnknownUnit {
                    unit: other.to_string(),
                    text: text.to_string(),
                });
            }
        };
        nanos += value * scale;
        rest = after;
    }
    // Go's limit: about 290 years of nanoseconds in an int64.
    if !nanos.is_finite() || nanos > i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

/// Writes `duration` as Go's `Duration.String` does: `0s`, `250ms`, `1.5µs`, `5s`, `1m30s`,
/// `2h0m0s`.
pub fn format(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", fraction(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", fraction(nanos, 1_000_000));
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = nanos / 60_000_000_000 % 60;
    let seconds = fraction(nanos % 60_000_000_000, 1_000_000_000);
    let mut out = String::new();
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    let _ = write!(out, "{seconds}s");
    out
}

/// `value / unit` in decimal, without trailing zeros in the fraction.
fn fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let rest = value % unit;
    if rest == 0 {
        return whole.to_string();
    }
    let digits = unit.ilog10() as usize;
    let decimals = format!("{rest:0digits$}");
    format!("{whole}.{}", decimals.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_go_parses() {
        assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse(".5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(parse("100µs"), Ok(Duration::from_micros(100)));
        assert_eq!(parse("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("+2m"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn refuses_what_go_refuses_with_its_words() {
        assert_eq!(
            parse("abc").unwrap_err().to_string(),
            "time: invalid duration \"abc\""
        );
        assert_eq!(
            parse("5").unwrap_err().to_string(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            parse("5d").unwrap_err().to_string(),
            "time: unknown unit \"d\" in duration \"5d\""
        );
        assert!(parse("").is_err());
        assert!(parse(".s").is_err());
        assert!(parse("1..2s").is_err());
        assert!(matches!(parse("-1s"), Err(DurationError::Negative(_))));
        assert!(parse("9999999999h").is_err());
    }

    #[test]
    fn formats_as_go_does() {
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(Duration::from_nanos(7)), "7ns");
        assert_eq!(format(Duration::from_nanos(1_500)), "1.5µs");
        assert_eq!(format(Duration::from_millis(250)), "250ms");
        assert_eq!(format(Duration::from_micros(2_500)), "2.5ms");
        assert_eq!(format(Duration::from_secs(5)), "5s");
        assert_eq!(format(Duration::from_millis(1_500)), "1.5s");
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
        assert_eq!(format(Duration::from_secs(7200)), "2h0m0s");
    }

    #[test]
    fn round_trips() {
        for text in ["5s", "250ms", "1m30s", "2h0m0s", "1.5s", "3.25ms"] {
            assert_eq!(format(parse(text).expect(text)), text);
        }
    }
}
