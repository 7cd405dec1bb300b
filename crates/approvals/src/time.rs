//! Instants as integer milliseconds since the Unix epoch.
//!
//! Every state-changing call of the store takes the current instant as an argument
//! instead of reading the clock itself: tests drive expiry with a clock they control,
//! and the daemon reads its clock once per request so that one request sees one "now".

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z. Stored as an SQLite integer; shown to
/// people as RFC 3339 in UTC (`Display`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMs(pub i64);

impl UnixMs {
    /// The system clock now. A clock before 1970 reads as the epoch.
    pub fn now() -> UnixMs {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        UnixMs(ms)
    }

    /// Whole seconds since the epoch.
    pub fn from_secs(secs: i64) -> UnixMs {
        UnixMs(secs.saturating_mul(1000))
    }

    /// This instant plus `d`, saturating at the end of representable time.
    pub fn plus(self, d: Duration) -> UnixMs {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        UnixMs(self.0.saturating_add(ms))
    }

    /// This instant minus `d`, saturating.
    pub fn minus(self, d: Duration) -> UnixMs {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        UnixMs(self.0.saturating_sub(ms))
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-28T09:30:00.250Z`.
    pub fn to_rfc3339(self) -> String {
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ms_of_day % 1000
        )
    }
}

impl fmt::Display for UnixMs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// Proleptic Gregorian date of a day count from 1970-01-01, by 400-year eras
/// (146,097 days each) so that leap rules fall out of the arithmetic.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that the leap day ends each "year".
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153; // March = 0
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(UnixMs(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day in a year divisible by 400)
        assert_eq!(
            UnixMs(951_782_400_123).to_rfc3339(),
            "2000-02-29T00:00:00.123Z"
        );
        assert_eq!(
            UnixMs::from_secs(1_700_000_000).to_rfc3339(),
            "2023-11-14T22:13:20.000Z"
        );
        // 2100 is not a leap year: the day after 2100-02-28 is 2100-03-01
        assert_eq!(
            UnixMs::from_secs(4_107_542_400).to_rfc3339(),
            "2100-03-01T00:00:00.000Z"
        );
        assert_eq!(UnixMs(-1).to_rfc3339(), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(
            UnixMs(i64::MAX - 5).plus(Duration::from_secs(1)).0,
            i64::MAX
        );
        assert_eq!(UnixMs(10).plus(Duration::from_millis(5)), UnixMs(15));
        assert_eq!(UnixMs(10).minus(Duration::from_millis(5)), UnixMs(5));
    }
}
