//! Timestamps without a date-time crate: alerts only ever need "now" in UTC as
//! RFC 3339 (which is also a valid RFC 5424 syslog TIMESTAMP), and Unix seconds
//! for the burst window.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0.0 for clocks before it).
pub fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC. Clocks before 1970 print the epoch.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let millis = d.subsec_millis();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (the well-known
/// era-based conversion: 400-year eras of 146,097 days, years starting in March).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Whether `s` is a timestamp RFC 5424 accepts as written: full date, `T`, time,
/// at most 6 fractional digits, and `Z` or a numeric offset.
pub(crate) fn is_syslog_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 6 {
            return false;
        }
    }
    match &b[i..] {
        b"Z" => true,
        [s, h1, h2, b':', m1, m2] => {
            matches!(s, b'+' | b'-') && [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(at(0, 0)), "1970-01-01T00:00:00.000Z");
        // A leap day in a year divisible by 400.
        assert_eq!(rfc3339(at(951_782_400, 7)), "2000-02-29T00:00:00.007Z");
        assert_eq!(rfc3339(at(4_102_444_799, 999)), "2099-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(at(1_798_239_060, 123)), "2026-12-25T22:51:00.123Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn every_day_round_trips_through_the_calendar() {
        // Walk 1970..2100 day by day and check the calendar advances by exactly one day.
        let mut prev = civil_from_days(0);
        assert_eq!(prev, (1970, 1, 1));
        for day in 1..47_482 {
            let cur = civil_from_days(day);
            let month_len = match prev.1 {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                _ if prev.0 % 4 == 0 && (prev.0 % 100 != 0 || prev.0 % 400 == 0) => 29,
                _ => 28,
            };
            let expect = if prev.2 < month_len {
                (prev.0, prev.1, prev.2 + 1)
            } else if prev.1 < 12 {
                (prev.0, prev.1 + 1, 1)
            } else {
                (prev.0 + 1, 1, 1)
            };
            assert_eq!(cur, expect, "day {day}");
            prev = cur;
        }
    }

    #[test]
    fn syslog_timestamps() {
        assert!(is_syslog_timestamp("2026-11-27T22:51:00.123Z"));
        assert!(is_syslog_timestamp("2026-11-27T22:51:00Z"));
        assert!(is_syslog_timestamp("2026-11-27T22:51:00.123456+01:00"));
        assert!(!is_syslog_timestamp("2026-11-27T22:51:00.1234567Z"));
        assert!(!is_syslog_timestamp("2026-11-27 22:51:00Z"));
        assert!(!is_syslog_timestamp("2026-11-27T22:51:00"));
        assert!(!is_syslog_timestamp("2026-11-27T22:51:00.Z"));
        assert!(!is_syslog_timestamp("yesterday"));
        assert!(is_syslog_timestamp(&rfc3339(SystemTime::now())));
    }
}
