//! The export rows' timestamps: the service's text (`2020-11-03 10:13:34.8476880`: a space, up to
//! 7 fractional digits, no offset, read as UTC), or RFC 3339.

use std::fmt;

use chrono::format::{self, Fixed, Item, Numeric, Pad, Parsed};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A row timestamp: the service's text (`2020-11-03 10:13:34.8476880`, or without a fraction,
/// read as UTC) or RFC 3339. Written back as RFC 3339.
///
/// ```
/// use defender_tvm::export::ExportTimestamp;
///
/// let t: ExportTimestamp = "2020-11-03 10:13:34.8476880".parse().unwrap();
/// assert_eq!(t.to_string(), "2020-11-03T10:13:34.847688Z");
/// let whole: ExportTimestamp = "2025-10-06 10:43:58".parse().unwrap();
/// assert_eq!(whole.as_utc().timestamp(), 1_759_747_438);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExportTimestamp(DateTime<Utc>);

impl ExportTimestamp {
    /// The instant, in UTC.
    pub fn as_utc(&self) -> DateTime<Utc> {
        self.0
    }
}

impl From<DateTime<Utc>> for ExportTimestamp {
    fn from(instant: DateTime<Utc>) -> Self {
        Self(instant)
    }
}

/// `%Y-%m-%d %H:%M:%S%.f` as chrono's format items.
const SERVICE_FORMAT: [Item<'static>; 12] = [
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Month, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Day, Pad::Zero),
    Item::Space(" "),
    Item::Numeric(Numeric::Hour, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Minute, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Second, Pad::Zero),
    Item::Fixed(Fixed::Nanosecond),
];

impl std::str::FromStr for ExportTimestamp {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
            return Ok(Self(instant.with_timezone(&Utc)));
        }
        // `%Y-%m-%d %H:%M:%S%.f`, its items parsed once (every row has timestamps); `%.f`
        // takes any number of fractional digits, none included.
        let mut parsed = Parsed::new();
        format::parse(&mut parsed, text, SERVICE_FORMAT.iter())
            .and_then(|()| parsed.to_naive_datetime_with_offset(0))
            .map(|naive| Self(naive.and_utc()))
            .map_err(|e| {
                format!(
                    "{text:?} is not a timestamp (YYYY-MM-DD HH:MM:SS[.fffffff] or RFC 3339): {e}"
                )
            })
    }
}

impl fmt::Display for ExportTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl Serialize for ExportTimestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ExportTimestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for ExportTimestamp {
    fn schema_name() -> String {
        "ExportTimestamp".into()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            ..Default::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_format_is_chronos_reading_of_its_strftime() {
        let items: Vec<Item<'_>> =
            chrono::format::StrftimeItems::new("%Y-%m-%d %H:%M:%S%.f").collect();
        assert_eq!(items, SERVICE_FORMAT);
    }

    #[test]
    fn service_timestamps_with_any_fraction_and_none() {
        let cases = [
            ("2020-11-03 10:13:34.8476880", 1_604_398_414, 847_688_000),
            ("2025-10-06 10:43:58", 1_759_747_438, 0),
            ("2025-10-06 10:43:58.5", 1_759_747_438, 500_000_000),
        ];
        for (text, seconds, nanos) in cases {
            let t: ExportTimestamp = text.parse().unwrap();
            assert_eq!(t.as_utc().timestamp(), seconds, "{text}");
            assert_eq!(t.as_utc().timestamp_subsec_nanos(), nanos, "{text}");
        }
        for bad in [
            "2025-10-06",
            "2025-13-06 10:43:58",
            "yesterday",
            "2025-10-06 10:43:58 x",
        ] {
            assert!(bad.parse::<ExportTimestamp>().is_err(), "{bad}");
        }
    }
}
