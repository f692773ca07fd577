//! When an answer looks: `WHEN` is a date (`2026-11-30`, its start in UTC), an RFC 3339 time,
//! or a duration back from now (`7d`, `24h`, `90m`).

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::error::Error;

/// A time an answer is asked about, read from what a person types.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use defender_tvm_history::When;
///
/// let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
/// assert_eq!(When::parse("7d", now).unwrap().time(), now - chrono::Duration::days(7));
/// assert_eq!(
///     When::parse("2026-11-30", now).unwrap().time(),
///     Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
/// );
/// assert!(When::parse("last tuesday", now).is_err());
/// assert!(When::parse("7д", now).is_err());
/// assert!(When::parse("", now).is_err());
/// assert!(When::parse("99999999999999d", now).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct When(DateTime<Utc>);

impl When {
    /// Reads `text`, a duration being counted back from `now`.
    pub fn parse(text: &str, now: DateTime<Utc>) -> Result<When, Error> {
        let text = text.trim();
        if let Ok(time) = DateTime::parse_from_rfc3339(text) {
            return Ok(When(time.with_timezone(&Utc)));
        }
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let start = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
            return start.map(When).ok_or_else(|| invalid(text));
        }
        // The unit is the last character (of any width: a person may type anything).
        let split = text.char_indices().last().map_or(0, |(i, _)| i);
        let (number, unit) = text.split_at(split);
        let amount: i64 = number.parse().map_err(|_| invalid(text))?;
        if amount < 0 {
            return Err(invalid(text));
        }
        let back = match unit {
            "d" => Duration::try_days(amount),
            "h" => Duration::try_hours(amount),
            "m" => Duration::try_minutes(amount),
            "w" => Duration::try_weeks(amount),
            _ => None,
        }
        .ok_or_else(|| invalid(text))?;
        now.checked_sub_signed(back)
            .map(When)
            .ok_or_else(|| invalid(text))
    }

    /// At `time`.
    pub fn at(time: DateTime<Utc>) -> When {
        When(time)
    }

    /// The time.
    pub fn time(self) -> DateTime<Utc> {
        self.0
    }
}

fn invalid(text: &str) -> Error {
    Error::Invalid(format!(
        "{text:?} is not a time: give a date (2026-11-30), an RFC 3339 time \
         (2026-11-30T06:00:00Z) or a duration back from now (7d, 24h, 2w, 90m)"
    ))
}
