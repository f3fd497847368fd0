//! `time.*`: `time.now_ns` answers the evaluation's one clock reading, as OPA reads its clock
//! once per query; the others follow Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`)
//! for parsing and formatting, IANA time zones, Go's duration syntax plus OPA's `d`, `w` and
//! `y` units, and Go's error wording. regorus formats zones as offsets, rejects text layouts
//! and reads zone abbreviations as real offsets where Go reads them as UTC.

use std::str::FromStr;

use chrono::{Offset, TimeZone, Utc};
use chrono_tz::{OffsetName, Tz};

use super::args::{self, BuiltinError};
use super::calendar::{days_from_civil, days_in_month, split_seconds};
use super::{Builtin, EvalContext, Implementation, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "time.now_ns",
        arity: 0,
        nondeterministic: true,
        eval: Implementation::Context(now_ns),
    },
    builtin("time.parse_ns", 2, parse_ns),
    builtin("time.parse_rfc3339_ns", 1, parse_rfc3339_ns),
    builtin("time.parse_duration_ns", 1, parse_duration_ns),
    builtin("time.format", 1, format),
    builtin("time.date", 1, date),
    builtin("time.clock", 1, clock),
    builtin("time.weekday", 1, weekday),
    builtin("time.add_date", 4, add_date),
    builtin("time.diff", 2, diff),
];

const NANOS: i64 = 1_000_000_000;

fn now_ns(context: &mut EvalContext<'_>, _: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::int(context.now_ns()))
}
const RFC3339: &str = "2006-01-02T15:04:05Z07:00";
const RFC3339_NANO: &str = "2006-01-02T15:04:05.999999999Z07:00";
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The layout names OPA accepts for Go's layout constants.
fn named_layout(name: &str) -> &str {
    match name {
        "ANSIC" => "Mon Jan _2 15:04:05 2006",
        "UnixDate" => "Mon Jan _2 15:04:05 MST 2006",
        "RubyDate" => "Mon Jan 02 15:04:05 -0700 2006",
        "RFC822" => "02 Jan 06 15:04 MST",
        "RFC822Z" => "02 Jan 06 15:04 -0700",
        "RFC850" => "Monday, 02-Jan-06 15:04:05 MST",
        "RFC1123" => "Mon, 02 Jan 2006 15:04:05 MST",
        "RFC1123Z" => "Mon, 02 Jan 2006 15:04:05 -0700",
        "RFC3339" => RFC3339,
        "RFC3339Nano" => RFC3339_NANO,
        other => other,
    }
}

/// A time zone operand: UTC, the local zone, or an IANA zone.
#[derive(Clone, Copy, Debug)]
enum Zone {
    Utc,
    Named(Tz),
}

impl Zone {
    fn parse(name: &str) -> Result<Zone, BuiltinError> {
        match name {
            "" | "UTC" => Ok(Zone::Utc),
            // The local zone is the host's; `TZ` names it, else Go falls back to UTC.
            "Local" => match std::env::var("TZ")
                .ok()
                .and_then(|tz| Tz::from_str(&tz).ok())
            {
                Some(tz) => Ok(Zone::Named(tz)),
                None => Ok(Zone::Utc),
            },
            other => Tz::from_str(other)
                .map(Zone::Named)
                .map_err(|_| BuiltinError::failed(format!("unknown time zone {other}"))),
        }
    }

    /// `(offset in seconds, abbreviation)` in effect at `seconds` since the epoch.
    fn at(self, seconds: i64) -> (i64, String) {
        match self {
            Zone::Utc => (0, "UTC".to_string()),
            Zone::Named(tz) => match Utc.timestamp_opt(seconds, 0).single() {
                Some(instant) => {
                    let offset = tz.offset_from_utc_datetime(&instant.naive_utc());
                    let seconds = i64::from(offset.fix().local_minus_utc());
                    // tzdata names some zones only by their offset (`-05`, `+0530`).
                    let abbreviation = offset
                        .abbreviation()
                        .map_or_else(|| numeric_zone_name(seconds), str::to_string);
                    (seconds, abbreviation)
                }
                None => (0, "UTC".to_string()),
            },
        }
    }
}

/// tzdata's numeric zone names: `-05`, `+0530`.
fn numeric_zone_name(offset: i64) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let (hours, minutes) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
    if minutes == 0 {
        format!("{sign}{hours:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}")
    }
}

/// A moment and the zone it is shown in.
#[derive(Clone, Copy, Debug)]
struct Moment {
    nanos: i64,
    zone: Zone,
}

/// Broken-down local time.
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    nanosecond: i64,
    weekday: usize,
    year_day: i64,
    offset: i64,
    abbreviation: String,
}

impl Moment {
    fn fields(self) -> Fields {
        let seconds = self.nanos.div_euclid(NANOS);
        let (offset, abbreviation) = self.zone.at(seconds);
        let local = seconds + offset;
        let ((year, month, day), hour, minute, second) = split_seconds(local);
        let days = local.div_euclid(86_400);
        Fields {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanosecond: self.nanos.rem_euclid(NANOS),
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as usize,
            year_day: days - days_from_civil(year, 1, 1) + 1,
            offset,
            abbreviation,
        }
    }
}

/// OPA's complaint about a time operand, which names operand 1 whichever it was.
fn time_operand_error(got: &Value) -> BuiltinError {
    BuiltinError::Type(format!(
        "operand 1 must be either number (ns) or [number (ns), string (tz)] but got {}",
        got.type_name()
    ))
}

/// Nanoseconds from a number operand; OPA reports anything not an int64 as too big.
fn nanos_of(value: &Value) -> Result<i64, BuiltinError> {
    match value {
        Value::Number(n) if n.is_integer() => n
            .as_i64()
            .ok_or_else(|| BuiltinError::failed("timestamp too big")),
        Value::Number(_) => Err(BuiltinError::failed("timestamp too big")),
        other => Err(time_operand_error(other)),
    }
}

/// A `ns` or `[ns, tz]` operand (with `[ns, tz, layout]` when `with_layout`).
fn moment(
    args: &[Value],
    position: usize,
    with_layout: bool,
) -> Result<(Moment, Option<String>), BuiltinError> {
    match &args[position] {
        Value::Number(_) => Ok((
            Moment {
                nanos: nanos_of(&args[position])?,
                zone: Zone::Utc,
            },
            None,
        )),
        Value::Array(items)
            if !items.is_empty() && items.len() <= if with_layout { 3 } else { 2 } =>
        {
            let nanos = nanos_of(&items[0])?;
            let zone = match items.get(1) {
                Some(Value::String(name)) => Zone::parse(name)?,
                Some(other) => return Err(args::wrong_type(0, "string", other)),
                None => Zone::Utc,
            };
            let layout = match items.get(2) {
                Some(Value::String(layout)) => Some(named_layout(layout).to_string()),
                Some(other) => return Err(args::wrong_type(0, "string", other)),
                None => None,
            };
            Ok((Moment { nanos, zone }, layout))
        }
        other => Err(time_operand_error(other)),
    }
}

fn format(args: &[Value]) -> Result<Value, BuiltinError> {
    let (moment, layout) = moment(args, 0, true)?;
    Ok(Value::string(format_layout(
        moment,
        layout.as_deref().unwrap_or(RFC3339_NANO),
    )))
}

fn date(args: &[Value]) -> Result<Value, BuiltinError> {
    let f = moment(args, 0, false)?.0.fields();
    Ok(Value::array(vec![
        Value::int(f.year),
        Value::int(f.month),
        Value::int(f.day),
    ]))
}

fn clock(args: &[Value]) -> Result<Value, BuiltinError> {
    let f = moment(args, 0, false)?.0.fields();
    Ok(Value::array(vec![
        Value::int(f.hour),
        Value::int(f.minute),
        Value::int(f.second),
    ]))
}

fn weekday(args: &[Value]) -> Result<Value, BuiltinError> {
    let f = moment(args, 0, false)?.0.fields();
    Ok(Value::string(DAYS[f.weekday]))
}

/// Go's `AddDate` in UTC: out-of-range months and days roll over.
fn add_date(args: &[Value]) -> Result<Value, BuiltinError> {
    let nanos = nanos_of(&args[0])?;
    let years = args::integer(args, 1)?;
    let months = args::integer(args, 2)?;
    let days = args::integer(args, 3)?;
    let f = Moment {
        nanos,
        zone: Zone::Utc,
    }
    .fields();
    let day_number = days_from_civil(
        f.year.saturating_add(years),
        f.month.saturating_add(months),
        f.day.saturating_add(days),
    );
    let seconds = day_number * 86_400 + f.hour * 3600 + f.minute * 60 + f.second;
    seconds
        .checked_mul(NANOS)
        .and_then(|n| n.checked_add(f.nanosecond))
        .map(Value::int)
        .ok_or_else(|| BuiltinError::failed("time outside of valid range"))
}

/// OPA's calendar difference: the later minus the earlier, in the first operand's zone.
fn diff(args: &[Value]) -> Result<Value, BuiltinError> {
    let (first, _) = moment(args, 0, false)?;
    let (second, _) = moment(args, 1, false)?;
    let second = Moment {
        zone: first.zone,
        ..second
    };
    let (a, b) = if first.nanos > second.nanos {
        (second.fields(), first.fields())
    } else {
        (first.fields(), second.fields())
    };
    let mut year = b.year - a.year;
    let mut month = b.month - a.month;
    let mut day = b.day - a.day;
    let mut hour = b.hour - a.hour;
    let mut minute = b.minute - a.minute;
    let mut second = b.second - a.second;
    if second < 0 {
        second += 60;
        minute -= 1;
    }
    if minute < 0 {
        minute += 60;
        hour -= 1;
    }
    if hour < 0 {
        hour += 24;
        day -= 1;
    }
    if day < 0 {
        day += days_in_month(a.year, a.month);
        month -= 1;
    }
    if month < 0 {
        month += 12;
        year -= 1;
    }
    Ok(Value::array(
        [year, month, day, hour, minute, second]
            .into_iter()
            .map(Value::int)
            .collect(),
    ))
}

/// One piece of a Go layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Element {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    Pm,
    PmLower,
    Tz,
    Iso8601Tz,
    Iso8601SecondsTz,
    Iso8601ShortTz,
    Iso8601ColonTz,
    Iso8601ColonSecondsTz,
    NumTz,
    NumSecondsTz,
    NumShortTz,
    NumColonTz,
    NumColonSecondsTz,
    /// `.000` (fixed digits) or `.999` (trailing zeros dropped), with `,` allowed too.
    Fraction {
        digits: usize,
        trim: bool,
    },
}

/// Splits a layout into literal text and elements, as Go's `nextStdChunk` does.
fn chunks(layout: &str) -> Vec<(String, Option<(Element, String)>)> {
    let bytes = layout.as_bytes();
    let mut out = Vec::new();
    let mut literal_start = 0;
    let mut i = 0;
    let starts = |i: usize, s: &str| layout[i..].starts_with(s);
    while i < bytes.len() {
        let found: Option<(Element, usize)> = match bytes[i] {
            b'J' if starts(i, "January") => Some((Element::LongMonth, 7)),
            b'J' if starts(i, "Jan") => Some((Element::Month, 3)),
            b'M' if starts(i, "Monday") => Some((Element::LongWeekDay, 6)),
            b'M' if starts(i, "Mon") => Some((Element::WeekDay, 3)),
            b'M' if starts(i, "MST") => Some((Element::Tz, 3)),
            b'0' if matches!(bytes.get(i + 1), Some(b'1'..=b'6')) => Some((
                match bytes[i + 1] {
                    b'1' => Element::ZeroMonth,
                    b'2' => Element::ZeroDay,
                    b'3' => Element::ZeroHour12,
                    b'4' => Element::ZeroMinute,
                    b'5' => Element::ZeroSecond,
                    _ => Element::Year,
                },
                2,
            )),
            b'0' if starts(i, "002") => Some((Element::ZeroYearDay, 3)),
            b'1' if starts(i, "15") => Some((Element::Hour, 2)),
            b'1' => Some((Element::NumMonth, 1)),
            b'2' if starts(i, "2006") => Some((Element::LongYear, 4)),
            b'2' => Some((Element::Day, 1)),
            b'_' if starts(i, "_2006") => {
                // `_2006` is a literal underscore before a year.
                i += 1;
                continue;
            }
            b'_' if starts(i, "__2") => Some((Element::UnderYearDay, 3)),
            b'_' if starts(i, "_2") => Some((Element::UnderDay, 2)),
            b'3' => Some((Element::Hour12, 1)),
            b'4' => Some((Element::Minute, 1)),
            b'5' => Some((Element::Second, 1)),
            b'P' if starts(i, "PM") => Some((Element::Pm, 2)),
            b'p' if starts(i, "pm") => Some((Element::PmLower, 2)),
            b'-' if starts(i, "-07:00:00") => Some((Element::NumColonSecondsTz, 9)),
            b'-' if starts(i, "-070000") => Some((Element::NumSecondsTz, 7)),
            b'-' if starts(i, "-07:00") => Some((Element::NumColonTz, 6)),
            b'-' if starts(i, "-0700") => Some((Element::NumTz, 5)),
            b'-' if starts(i, "-07") => Some((Element::NumShortTz, 3)),
            b'Z' if starts(i, "Z07:00:00") => Some((Element::Iso8601ColonSecondsTz, 9)),
            b'Z' if starts(i, "Z070000") => Some((Element::Iso8601SecondsTz, 7)),
            b'Z' if starts(i, "Z07:00") => Some((Element::Iso8601ColonTz, 6)),
            b'Z' if starts(i, "Z0700") => Some((Element::Iso8601Tz, 5)),
            b'Z' if starts(i, "Z07") => Some((Element::Iso8601ShortTz, 3)),
            b'.' | b',' if matches!(bytes.get(i + 1), Some(b'0' | b'9')) => {
                let digit = bytes[i + 1];
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] == digit {
                    j += 1;
                }
                if bytes.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    Some((
                        Element::Fraction {
                            digits: j - i - 1,
                            trim: digit == b'9',
                        },
                        j - i,
                    ))
                }
            }
            _ => None,
        };
        match found {
            Some((element, length)) => {
                out.push((
                    layout[literal_start..i].to_string(),
                    Some((element, layout[i..i + length].to_string())),
                ));
                i += length;
                literal_start = i;
            }
            None => {
                i += layout[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    out.push((layout[literal_start..].to_string(), None));
    out
}

fn format_layout(moment: Moment, layout: &str) -> String {
    let f = moment.fields();
    let mut out = String::new();
    for (literal, element) in chunks(layout) {
        out.push_str(&literal);
        let Some((element, text)) = element else {
            continue;
        };
        let hour12 = if f.hour % 12 == 0 { 12 } else { f.hour % 12 };
        match element {
            Element::LongMonth => out.push_str(MONTHS[(f.month - 1) as usize]),
            Element::Month => out.push_str(&MONTHS[(f.month - 1) as usize][..3]),
            Element::NumMonth => out.push_str(&f.month.to_string()),
            Element::ZeroMonth => out.push_str(&format!("{:02}", f.month)),
            Element::LongWeekDay => out.push_str(DAYS[f.weekday]),
            Element::WeekDay => out.push_str(&DAYS[f.weekday][..3]),
            Element::Day => out.push_str(&f.day.to_string()),
            Element::UnderDay => out.push_str(&format!("{:>2}", f.day)),
            Element::ZeroDay => out.push_str(&format!("{:02}", f.day)),
            Element::UnderYearDay => out.push_str(&format!("{:>3}", f.year_day)),
            Element::ZeroYearDay => out.push_str(&format!("{:03}", f.year_day)),
            Element::Hour => out.push_str(&format!("{:02}", f.hour)),
            Element::Hour12 => out.push_str(&hour12.to_string()),
            Element::ZeroHour12 => out.push_str(&format!("{hour12:02}")),
            Element::Minute => out.push_str(&f.minute.to_string()),
            Element::ZeroMinute => out.push_str(&format!("{:02}", f.minute)),
            Element::Second => out.push_str(&f.second.to_string()),
            Element::ZeroSecond => out.push_str(&format!("{:02}", f.second)),
            Element::LongYear => out.push_str(&format!("{:04}", f.year)),
            Element::Year => out.push_str(&format!("{:02}", f.year.rem_euclid(100))),
            Element::Pm => out.push_str(if f.hour >= 12 { "PM" } else { "AM" }),
            Element::PmLower => out.push_str(if f.hour >= 12 { "pm" } else { "am" }),
            Element::Tz if !f.abbreviation.is_empty() => out.push_str(&f.abbreviation),
            Element::Tz => out.push_str(&offset_text(f.offset, false, false)),
            Element::Iso8601Tz
            | Element::Iso8601SecondsTz
            | Element::Iso8601ShortTz
            | Element::Iso8601ColonTz
            | Element::Iso8601ColonSecondsTz
                if f.offset == 0 =>
            {
                out.push('Z');
            }
            Element::Iso8601Tz | Element::NumTz => {
                out.push_str(&offset_text(f.offset, false, false));
            }
            Element::Iso8601ColonTz | Element::NumColonTz => {
                out.push_str(&offset_text(f.offset, true, false));
            }
            Element::Iso8601SecondsTz | Element::NumSecondsTz => {
                out.push_str(&offset_text(f.offset, false, true));
            }
            Element::Iso8601ColonSecondsTz | Element::NumColonSecondsTz => {
                out.push_str(&offset_text(f.offset, true, true));
            }
            Element::Iso8601ShortTz | Element::NumShortTz => {
                let text = offset_text(f.offset, false, false);
                out.push_str(&text[..3]);
            }
            Element::Fraction { digits, trim } => {
                let separator = text.chars().next().unwrap_or('.');
                let all = format!("{:09}", f.nanosecond);
                let mut shown = all[..digits.min(9)].to_string();
                if trim {
                    shown = shown.trim_end_matches('0').to_string();
                }
                if !shown.is_empty() {
                    out.push(separator);
                    out.push_str(&shown);
                }
            }
        }
    }
    out
}

/// `+0530`, `+05:30`, `+053000`, `+05:30:00`.
fn offset_text(offset: i64, colon: bool, seconds: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs();
    let separator = if colon { ":" } else { "" };
    let mut text = format!(
        "{sign}{:02}{separator}{:02}",
        offset / 3600,
        offset % 3600 / 60
    );
    if seconds {
        text.push_str(&format!("{separator}{:02}", offset % 60));
    }
    text
}

fn parse_ns(args: &[Value]) -> Result<Value, BuiltinError> {
    let layout = args::string(args, 0)?;
    let value = args::string(args, 1)?;
    parse_layout(named_layout(layout), layout, value)
        .map(Value::int)
        .map_err(BuiltinError::failed)
}

fn parse_rfc3339_ns(args: &[Value]) -> Result<Value, BuiltinError> {
    let value = args::string(args, 0)?;
    parse_layout(RFC3339, RFC3339, value)
        .map(Value::int)
        .map_err(BuiltinError::failed)
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Go's `time.Parse`: nanoseconds since the epoch, or Go's message.
fn parse_layout(layout: &str, shown_layout: &str, input: &str) -> Result<i64, String> {
    let cannot = |rest: &str, what: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            quote(input),
            quote(shown_layout),
            quote(rest),
            quote(what)
        )
    };
    let out_of_range = |what: &str| format!("parsing time {}: {what} out of range", quote(input));
    // Go's zero time: January 1 of year 0, which is outside what nanoseconds can count.
    let (mut year, mut month, mut day, mut year_day) = (0i64, 1i64, 1i64, -1i64);
    let (mut hour, mut minute, mut second, mut nanos) = (0i64, 0i64, 0i64, 0i64);
    let (mut pm, mut am) = (false, false);
    let mut offset: Option<i64> = None;
    let mut rest = input;
    let pieces = chunks(layout);
    for (index, (literal, element)) in pieces.iter().enumerate() {
        rest = rest
            .strip_prefix(literal.as_str())
            .ok_or_else(|| cannot(rest, literal))?;
        let Some((element, text)) = element else {
            continue;
        };
        let before = rest;
        let fail = || cannot(before, text);
        match element {
            Element::LongYear => {
                let digits = rest
                    .get(..4)
                    .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
                year = digits.and_then(|d| d.parse().ok()).ok_or_else(fail)?;
                rest = &rest[4..];
            }
            Element::Year => {
                let (n, r) = number(rest, 2, true).ok_or_else(fail)?;
                year = if n >= 69 { 1900 + n } else { 2000 + n };
                rest = r;
            }
            Element::LongMonth | Element::Month => {
                let long = *element == Element::LongMonth;
                let found = MONTHS.iter().position(|m| {
                    let name = if long { *m } else { &m[..3] };
                    rest.get(..name.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(name))
                });
                let index = found.ok_or_else(fail)?;
                month = index as i64 + 1;
                rest = &rest[if long { MONTHS[index].len() } else { 3 }..];
            }
            Element::NumMonth | Element::ZeroMonth => {
                let (n, r) = number(rest, 2, *element == Element::ZeroMonth).ok_or_else(fail)?;
                if !(1..=12).contains(&n) {
                    return Err(out_of_range("month"));
                }
                month = n;
                rest = r;
            }
            Element::LongWeekDay | Element::WeekDay => {
                let long = *element == Element::LongWeekDay;
                let found = DAYS.iter().find(|d| {
                    let name = if long { **d } else { &d[..3] };
                    rest.get(..name.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(name))
                });
                let name = found.ok_or_else(fail)?;
                rest = &rest[if long { name.len() } else { 3 }..];
            }
            Element::Day | Element::UnderDay | Element::ZeroDay => {
                if *element == Element::UnderDay {
                    rest = rest.strip_prefix(' ').unwrap_or(rest);
                }
                let (n, r) = number(rest, 2, *element == Element::ZeroDay).ok_or_else(fail)?;
                day = n;
                rest = r;
            }
            Element::UnderYearDay | Element::ZeroYearDay => {
                if *element == Element::UnderYearDay {
                    rest = rest.trim_start_matches(' ');
                }
                let (n, r) = number(rest, 3, *element == Element::ZeroYearDay).ok_or_else(fail)?;
                year_day = n;
                rest = r;
            }
            Element::Hour => {
                let (n, r) = number(rest, 2, false).ok_or_else(fail)?;
                if n > 23 {
                    return Err(out_of_range("hour"));
                }
                hour = n;
                rest = r;
            }
            Element::Hour12 | Element::ZeroHour12 => {
                let (n, r) = number(rest, 2, *element == Element::ZeroHour12).ok_or_else(fail)?;
                if n > 12 {
                    return Err(out_of_range("hour"));
                }
                hour = n;
                rest = r;
            }
            Element::Minute | Element::ZeroMinute => {
                let (n, r) = number(rest, 2, *element == Element::ZeroMinute).ok_or_else(fail)?;
                if n > 59 {
                    return Err(out_of_range("minute"));
                }
                minute = n;
                rest = r;
            }
            Element::Second | Element::ZeroSecond => {
                let (n, r) = number(rest, 2, *element == Element::ZeroSecond).ok_or_else(fail)?;
                if n > 59 {
                    return Err(out_of_range("second"));
                }
                second = n;
                rest = r;
                // Go reads a fraction after seconds even when the layout has none.
                let next_is_fraction = matches!(
                    pieces.get(index + 1),
                    Some((l, Some((Element::Fraction { .. }, _)))) if l.is_empty()
                );
                if !next_is_fraction
                    && rest.len() >= 2
                    && (rest.starts_with('.') || rest.starts_with(','))
                    && rest.as_bytes()[1].is_ascii_digit()
                {
                    let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
                    nanos = fraction(&rest[1..1 + digits]);
                    rest = &rest[1 + digits..];
                }
            }
            Element::Pm | Element::PmLower => {
                let marker = rest.get(..2).ok_or_else(fail)?;
                match marker {
                    "PM" | "pm" if marker.eq_ignore_ascii_case("pm") => pm = true,
                    "AM" | "am" => am = true,
                    _ => return Err(fail()),
                }
                rest = &rest[2..];
            }
            Element::Iso8601Tz
            | Element::Iso8601SecondsTz
            | Element::Iso8601ShortTz
            | Element::Iso8601ColonTz
            | Element::Iso8601ColonSecondsTz
                if rest.starts_with('Z') =>
            {
                offset = Some(0);
                rest = &rest[1..];
            }
            Element::Iso8601Tz
            | Element::Iso8601SecondsTz
            | Element::Iso8601ShortTz
            | Element::Iso8601ColonTz
            | Element::Iso8601ColonSecondsTz
            | Element::NumTz
            | Element::NumSecondsTz
            | Element::NumShortTz
            | Element::NumColonTz
            | Element::NumColonSecondsTz => {
                let (colon, seconds, short) = match element {
                    Element::Iso8601ColonTz | Element::NumColonTz => (true, false, false),
                    Element::Iso8601ColonSecondsTz | Element::NumColonSecondsTz => {
                        (true, true, false)
                    }
                    Element::Iso8601SecondsTz | Element::NumSecondsTz => (false, true, false),
                    Element::Iso8601ShortTz | Element::NumShortTz => (false, false, true),
                    _ => (false, false, false),
                };
                let (parsed, r) = numeric_offset(rest, colon, seconds, short).ok_or_else(fail)?;
                offset = Some(parsed);
                rest = r;
            }
            Element::Tz => {
                if rest.starts_with("UTC") {
                    offset = Some(0);
                    rest = &rest[3..];
                } else {
                    let length = zone_name_length(rest).ok_or_else(fail)?;
                    // Go records an abbreviation it cannot place, GMT+h included, as UTC.
                    offset = Some(0);
                    rest = &rest[length..];
                }
            }
            Element::Fraction { digits, trim } => {
                if *trim {
                    if rest.len() < 2
                        || !(rest.starts_with('.') || rest.starts_with(','))
                        || !rest.as_bytes()[1].is_ascii_digit()
                    {
                        continue;
                    }
                    let count = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
                    nanos = fraction(&rest[1..1 + count]);
                    rest = &rest[1 + count..];
                } else {
                    let digits_text = rest
                        .get(1..=*digits)
                        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
                    let Some(digits_text) =
                        digits_text.filter(|_| rest.starts_with('.') || rest.starts_with(','))
                    else {
                        return Err(fail());
                    };
                    nanos = fraction(digits_text);
                    rest = &rest[1 + digits..];
                }
            }
        }
    }
    if !rest.is_empty() {
        return Err(format!(
            "parsing time {}: extra text: {}",
            quote(input),
            quote(rest)
        ));
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if year_day >= 0 {
        let leap = days_in_month(year, 2) == 29;
        if year_day < 1 || year_day > if leap { 366 } else { 365 } {
            return Err(out_of_range("day-of-year"));
        }
        let start = days_from_civil(year, 1, 1) + year_day - 1;
        let (_, m, d) = super::calendar::civil_from_days(start);
        month = m;
        day = d;
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(out_of_range("day"));
    }
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let seconds = local - offset.unwrap_or(0);
    seconds
        .checked_mul(NANOS)
        .and_then(|n| n.checked_add(nanos))
        .ok_or_else(|| "time outside of valid range".to_string())
}

/// Go's `getnum`: one or two digits (exactly `width` when `fixed`), up to `width`.
fn number(text: &str, width: usize, fixed: bool) -> Option<(i64, &str)> {
    let count = text
        .bytes()
        .take(width)
        .take_while(u8::is_ascii_digit)
        .count();
    if count == 0 || (fixed && count != width) {
        return None;
    }
    Some((text[..count].parse().ok()?, &text[count..]))
}

/// Nanoseconds from the digits after a decimal point.
fn fraction(digits: &str) -> i64 {
    let mut padded: String = digits.chars().take(9).collect();
    while padded.len() < 9 {
        padded.push('0');
    }
    padded.parse().unwrap_or(0)
}

fn numeric_offset(text: &str, colon: bool, seconds: bool, short: bool) -> Option<(i64, &str)> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |s: &str, at: usize| -> Option<i64> {
        let part = s.get(at..at + 2)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let hours = digits(text, 1)?;
    if short {
        return Some((sign * hours * 3600, &text[3..]));
    }
    let step = if colon { 1 } else { 0 };
    if colon && text.as_bytes().get(3) != Some(&b':') {
        return None;
    }
    let minutes = digits(text, 3 + step)?;
    let mut used = 5 + step;
    let mut total = hours * 3600 + minutes * 60;
    if seconds {
        if colon && text.as_bytes().get(used) != Some(&b':') {
            return None;
        }
        total += digits(text, used + step)?;
        used += 2 + step;
    }
    Some((sign * total, &text[used..]))
}

/// Length of a zone abbreviation at the start of `text`, as Go's `parseTimeZone` accepts.
fn zone_name_length(text: &str) -> Option<usize> {
    if text.len() < 3 {
        return None;
    }
    if text.starts_with("ChST") || text.starts_with("MeST") {
        return Some(4);
    }
    if let Some(rest) = text.strip_prefix("GMT") {
        let sign_digits = rest
            .strip_prefix(['+', '-'])
            .map(|d| d.bytes().take_while(u8::is_ascii_digit).count());
        return Some(match sign_digits {
            Some(n) if n > 0 => 4 + n,
            _ => 3,
        });
    }
    let upper = text.bytes().take_while(u8::is_ascii_uppercase).count();
    match upper {
        3..=5 => Some(upper),
        _ if text.as_bytes().get(3) == Some(&b'T') => Some(4),
        _ => None,
    }
}

/// Go's `time.ParseDuration` plus OPA's days, weeks and years.
fn parse_duration_ns(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    parse_duration(text)
        .map(Value::int)
        .map_err(BuiltinError::failed)
}

fn parse_duration(original: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(original));
    let (negative, mut rest) = match original.as_bytes().first() {
        Some(b'-') => (true, &original[1..]),
        Some(b'+') => (false, &original[1..]),
        _ => (false, original),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let whole_digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let whole = &rest[..whole_digits];
        rest = &rest[whole_digits..];
        let mut fraction_digits = "";
        if let Some(after) = rest.strip_prefix('.') {
            let count = after.bytes().take_while(u8::is_ascii_digit).count();
            fraction_digits = &after[..count];
            rest = &after[count..];
        }
        if whole.is_empty() && fraction_digits.is_empty() {
            return Err(invalid());
        }
        let unit_length = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        let unit = &rest[..unit_length];
        rest = &rest[unit_length..];
        if unit.is_empty() {
            return Err(format!(
                "time: missing unit in duration {}",
                quote(original)
            ));
        }
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            "w" => 604_800_000_000_000,
            "y" => 31_536_000_000_000_000,
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote(other),
                    quote(original)
                ));
            }
        };
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid())?
        };
        let mut value = whole.checked_mul(scale).ok_or_else(invalid)?;
        if !fraction_digits.is_empty() {
            let digits: i128 = fraction_digits
                .chars()
                .take(18)
                .collect::<String>()
                .parse()
                .unwrap_or(0);
            let places = fraction_digits.len().min(18) as u32;
            value += digits * scale / 10i128.pow(places);
        }
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > i128::from(i64::MAX) {
            return Err(invalid());
        }
    }
    let total = if negative { -total } else { total };
    i64::try_from(total).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::run_fn as run;

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn parses_go_layouts() {
        assert_eq!(
            run(
                parse_ns,
                r#"["Jan 2, 2006 at 3:04pm (MST)","Feb 3, 2013 at 7:54pm (PST)"]"#
            ),
            Ok("1359921240000000000".into())
        );
        assert_eq!(
            run(parse_ns, r#"["RFC822","02 Jan 06 15:04 MST"]"#),
            Ok("1136214240000000000".into())
        );
        assert_eq!(
            run(parse_ns, r#"["2006-01-02 -0700","2021-01-01 +0530"]"#),
            Ok("1609439400000000000".into())
        );
        assert_eq!(
            run(parse_ns, r#"["Mon Jan _2 2006","Fri Jan  1 2021"]"#),
            Ok("1609459200000000000".into())
        );
        assert_eq!(
            run(parse_ns, r#"["2006-002","2021-032"]"#),
            Ok("1612137600000000000".into())
        );
        assert_eq!(
            run(
                parse_rfc3339_ns,
                r#"["2021-01-01T00:00:00.123456789+02:00"]"#
            ),
            Ok("1609452000123456789".into())
        );
    }

    #[test]
    fn fails_as_go() {
        assert_eq!(
            run(parse_ns, r#"["2006-01-02","bad"]"#),
            Err(r#"parsing time "bad" as "2006-01-02": cannot parse "bad" as "2006""#.into())
        );
        assert_eq!(
            run(parse_rfc3339_ns, r#"["2021-01-01"]"#),
            Err(r#"parsing time "2021-01-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T""#.into())
        );
        assert_eq!(
            run(parse_ns, r#"["2006-01-02","2021-02-30"]"#),
            Err(r#"parsing time "2021-02-30": day out of range"#.into())
        );
        assert_eq!(
            run(parse_ns, r#"["2006-01-02","2021-01-01 extra"]"#),
            Err(r#"parsing time "2021-01-01 extra": extra text: " extra""#.into())
        );
        assert_eq!(
            run(format, r#"[[0,"Bad/Zone"]]"#),
            Err("unknown time zone Bad/Zone".into())
        );
        assert_eq!(run(format, "[1.5]"), Err("timestamp too big".into()));
    }

    #[test]
    fn formats_with_zone_names() {
        assert_eq!(
            run(
                format,
                r#"[[1609459200123456789,"America/New_York","RFC1123"]]"#
            ),
            Ok(r#""Thu, 31 Dec 2020 19:00:00 EST""#.into())
        );
        assert_eq!(
            run(
                format,
                r#"[[0,"UTC","Mon Monday Jan January 1 01 2 02 _2 06 2006 3 03 15 4 04 5 05 PM pm Z07:00 -07 .000 .999 ,000 002"]]"#
            ),
            Ok(r#""Thu Thursday Jan January 1 01 1 01  1 70 1970 12 12 00 0 00 0 00 AM am Z +00 .000  ,000 001""#.into())
        );
        assert_eq!(
            run(format, r#"[[1609459200100000000,"UTC"]]"#),
            Ok(r#""2021-01-01T00:00:00.1Z""#.into())
        );
        assert_eq!(
            run(
                format,
                r#"[[1609459200123456789,"Asia/Kolkata","RFC3339Nano"]]"#
            ),
            Ok(r#""2021-01-01T05:30:00.123456789+05:30""#.into())
        );
        assert_eq!(
            run(
                format,
                r#"[[1625000000000000000,"Europe/London","MST -0700"]]"#
            ),
            Ok(r#""BST +0100""#.into())
        );
    }

    #[test]
    fn calendar_builtins() {
        assert_eq!(
            run(clock, r#"[[1609459200000000000,"America/St_Johns"]]"#),
            Ok("[20,30,0]".into())
        );
        assert_eq!(run(weekday, "[-1]"), Ok(r#""Wednesday""#.into()));
        assert_eq!(
            run(add_date, "[1609459200000000000,0,1,30]"),
            Ok("1614729600000000000".into())
        );
        assert_eq!(
            run(add_date, "[1582934400000000000,1,0,0]"),
            Ok("1614556800000000000".into())
        );
        assert_eq!(run(diff, "[0,86400000000000]"), Ok("[0,0,1,0,0,0]".into()));
        assert_eq!(
            run(diff, "[1609459200000000000,1577836800000000000]"),
            Ok("[1,0,0,0,0,0]".into())
        );
    }

    #[test]
    fn durations_with_opa_units() {
        assert_eq!(parse_duration("1d2h"), Ok(93_600_000_000_000));
        assert_eq!(parse_duration("1.5d"), Ok(129_600_000_000_000));
        assert_eq!(parse_duration("1y"), Ok(31_536_000_000_000_000));
        assert_eq!(parse_duration("-1us"), Ok(-1_000));
        assert_eq!(parse_duration("1µs"), Ok(1_000));
        assert_eq!(
            parse_duration(""),
            Err(r#"time: invalid duration """#.into())
        );
        assert_eq!(
            parse_duration("1"),
            Err(r#"time: missing unit in duration "1""#.into())
        );
        assert_eq!(
            parse_duration("1h-1m"),
            Err(r#"time: unknown unit "h-" in duration "1h-1m""#.into())
        );
        assert_eq!(
            parse_duration("9999999999h"),
            Err(r#"time: invalid duration "9999999999h""#.into())
        );
    }
}
