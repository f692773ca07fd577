//! Times as the export APIs write them: row timestamps in the service's text form
//! (`2025-10-06 10:43:58.1234567`, UTC without an offset, sometimes without a fraction),
//! `generatedTime` and SAS expiries in RFC 3339, storage errors' HTTP dates, and `sinceTime`
//! read as ISO 8601.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

/// 100-nanosecond ticks in a second (the service's row times have 7 fractional digits).
pub(crate) const TICKS_PER_SECOND: i64 = 10_000_000;

/// A time on an export row, to the 100 ns tick, in UTC. It prints as the service writes row
/// times: `2025-10-06 10:43:58.1234567`, or `2025-10-06 10:43:58` for the rows the service
/// writes without a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    ticks: i64,
    whole_second: bool,
}

impl Timestamp {
    /// A time `ticks` 100 ns ticks after the Unix epoch; `whole_second` drops the fraction (the
    /// time is truncated to its second and prints without one).
    pub(crate) fn from_ticks(ticks: i64, whole_second: bool) -> Self {
        let ticks = if whole_second {
            ticks - ticks.rem_euclid(TICKS_PER_SECOND)
        } else {
            ticks
        };
        Timestamp {
            ticks,
            whole_second,
        }
    }

    /// 100 ns ticks since the Unix epoch.
    pub(crate) fn ticks(self) -> i64 {
        self.ticks
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub fn unix_seconds(self) -> i64 {
        self.ticks.div_euclid(TICKS_PER_SECOND)
    }

    /// The same time as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        system_time(self.ticks)
    }

    /// Whether the service writes it without a fractional part.
    pub fn is_whole_second(self) -> bool {
        self.whole_second
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.unix_seconds();
        let Some(time) = DateTime::<Utc>::from_timestamp(seconds, 0) else {
            return write!(f, "{seconds}");
        };
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            time.year(),
            time.month(),
            time.day(),
            time.hour(),
            time.minute(),
            time.second()
        )?;
        if !self.whole_second {
            write!(f, ".{:07}", self.ticks.rem_euclid(TICKS_PER_SECOND))?;
        }
        Ok(())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Ticks since the Unix epoch of a [`SystemTime`] (negative before it).
pub(crate) fn ticks_of(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => ticks_of_duration(after),
        Err(before) => -ticks_of_duration(before.duration()),
    }
}

fn ticks_of_duration(duration: Duration) -> i64 {
    let ticks = duration.as_nanos() / 100;
    i64::try_from(ticks).unwrap_or(i64::MAX)
}

/// The [`SystemTime`] `ticks` after the Unix epoch.
pub(crate) fn system_time(ticks: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(ticks.unsigned_abs().saturating_mul(100));
    if ticks >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// Now, in ticks.
pub(crate) fn now_ticks() -> i64 {
    ticks_of(SystemTime::now())
}

/// RFC 3339 in UTC to the second, as `generatedTime` and SAS expiries are written:
/// `2026-11-30T12:00:00Z`.
pub(crate) fn rfc3339(ticks: i64) -> String {
    let seconds = ticks.div_euclid(TICKS_PER_SECOND);
    match DateTime::<Utc>::from_timestamp(seconds, 0) {
        Some(time) => time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => seconds.to_string(),
    }
}

/// RFC 3339 in UTC with 7 fractional digits, as storage errors write their `Time`:
/// `2026-11-30T12:00:00.1234567Z`.
pub(crate) fn rfc3339_ticks(ticks: i64) -> String {
    let seconds = ticks.div_euclid(TICKS_PER_SECOND);
    match DateTime::<Utc>::from_timestamp(seconds, 0) {
        Some(time) => format!(
            "{}.{:07}Z",
            time.format("%Y-%m-%dT%H:%M:%S"),
            ticks.rem_euclid(TICKS_PER_SECOND)
        ),
        None => seconds.to_string(),
    }
}

/// An HTTP date (`Mon, 30 Nov 2026 12:00:00 GMT`), as storage writes the times of an
/// authentication failure.
pub(crate) fn http_date(ticks: i64) -> String {
    let seconds = ticks.div_euclid(TICKS_PER_SECOND);
    match DateTime::<Utc>::from_timestamp(seconds, 0) {
        Some(time) => time.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        None => seconds.to_string(),
    }
}

/// Reads an ISO 8601 time as `sinceTime` is given: `2026-11-20T00:00:00Z`, with an offset
/// (`+02:00`), a fraction, or no offset at all (read as UTC), or a bare date (midnight UTC).
pub(crate) fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(ticks_of_chrono(
            time.timestamp(),
            time.timestamp_subsec_nanos(),
        ));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            let time = time.and_utc();
            return Some(ticks_of_chrono(
                time.timestamp(),
                time.timestamp_subsec_nanos(),
            ));
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let time = date.and_hms_opt(0, 0, 0)?.and_utc();
    Some(ticks_of_chrono(time.timestamp(), 0))
}

fn ticks_of_chrono(seconds: i64, nanos: u32) -> i64 {
    seconds
        .saturating_mul(TICKS_PER_SECOND)
        .saturating_add(i64::from(nanos / 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_times_print_as_the_service_writes_them() {
        let at = parse_iso8601("2025-10-06T10:43:58.8476880Z").unwrap();
        assert_eq!(
            Timestamp::from_ticks(at, false).to_string(),
            "2025-10-06 10:43:58.8476880"
        );
        assert_eq!(
            Timestamp::from_ticks(at, true).to_string(),
            "2025-10-06 10:43:58"
        );
        assert_eq!(rfc3339(at), "2025-10-06T10:43:58Z");
        assert_eq!(rfc3339_ticks(at), "2025-10-06T10:43:58.8476880Z");
        assert_eq!(http_date(at), "Mon, 06 Oct 2025 10:43:58 GMT");
    }

    #[test]
    fn since_times_read_as_iso_8601() {
        let midnight = parse_iso8601("2026-11-20T00:00:00Z").unwrap();
        assert_eq!(parse_iso8601("2026-11-20"), Some(midnight));
        assert_eq!(parse_iso8601("2026-11-20T00:00:00"), Some(midnight));
        assert_eq!(parse_iso8601("2026-11-20T00:00"), Some(midnight));
        assert_eq!(parse_iso8601("2026-11-20T02:00:00+02:00"), Some(midnight));
        assert_eq!(parse_iso8601("yesterday"), None);
        assert_eq!(parse_iso8601("2026-13-01T00:00:00Z"), None);
        assert_eq!(
            Timestamp::from_ticks(midnight, true).to_system_time(),
            system_time(midnight)
        );
        assert_eq!(ticks_of(system_time(midnight)), midnight);
    }
}
