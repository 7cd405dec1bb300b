//! Times for people: UTC dates from seconds since the epoch, and durations.

/// Days since 1970-01-01 of a time in seconds (UTC).
pub fn day_of(secs: f64) -> i64 {
    (secs / 86_400.0).floor() as i64
}

pub use ledger::record::civil;

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
