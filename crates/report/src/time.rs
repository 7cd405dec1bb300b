//! Times for people: UTC dates from seconds since the epoch, and durations.

/// Days since 1970-01-01 of a time in seconds (UTC).
pub fn day_of(secs: f64) -> i64 {
    (secs / 86_400.0).floor() as i64
}

/// The civil (year, month, day) of a day number (days since 1970-01-01), by the
/// proleptic Gregorian calendar.
pub fn civil(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of each 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` of a day number.
pub fn date(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM:SSZ` of a time in seconds (UTC).
pub fn datetime(secs: f64) -> String {
    if !secs.is_finite() {
        return "-".to_string();
    }
    let whole = secs.floor() as i64;
    let days = whole.div_euclid(86_400);
    let rem = whole.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}Z",
        date(days),
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// A duration in seconds for people: `850 ms`, `4.2 s`, `3 min 20 s`, `2.5 h`, `3.1 d`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".to_string();
    }
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        let whole = secs.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    } else if secs < 86_400.0 {
        format!("{:.1} h", secs / 3600.0)
    } else {
        format!("{:.1} d", secs / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        // 2024-02-29 is day 19782; 2026-11-27 is day 20784.
        assert_eq!(date(19_782), "2024-02-29");
        assert_eq!(date(20_784), "2026-11-27");
        assert_eq!(datetime(1_795_820_400.9), "2026-11-27 23:00:00Z");
        assert_eq!(day_of(1_795_820_400.0), 20_784);
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(duration(0.85), "850 ms");
        assert_eq!(duration(4.24), "4.2 s");
        assert_eq!(duration(200.0), "3 min 20 s");
        assert_eq!(duration(9000.0), "2.5 h");
        assert_eq!(duration(-1.0), "-");
    }
}
