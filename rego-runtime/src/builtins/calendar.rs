//! Proleptic Gregorian calendar arithmetic on days since 1970-01-01, shared by the builtins
//! that read or write dates (time, certificates, AWS signing).

/// Days since 1970-01-01 of a date; months and days outside their range roll over.
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Normalise the month first so that e.g. month 13 is January of the next year.
    let year = year + (month - 1).div_euclid(12);
    let month = (month - 1).rem_euclid(12) + 1;
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468 + (day - 1)
}

/// `(year, month, day)` of a day number.
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// Days in `month` of `year`.
pub(super) fn days_in_month(year: i64, month: i64) -> i64 {
    days_from_civil(year, month + 1, 1) - days_from_civil(year, month, 1)
}

/// `(date, hour, minute, second)` of seconds since the epoch.
pub(super) fn split_seconds(seconds: i64) -> ((i64, i64, i64), i64, i64, i64) {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    (
        civil_from_days(days),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rolls_over() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(days_from_civil(2021, 13, 1), days_from_civil(2022, 1, 1));
        assert_eq!(days_from_civil(2021, 2, 31), days_from_civil(2021, 3, 3));
        assert_eq!(days_in_month(2020, 2), 29);
        assert_eq!(split_seconds(-1), ((1969, 12, 31), 23, 59, 59));
    }
}
