//! The rows of the export assessment APIs, as the service really sends them.
//!
//! One type per kind of row serves both forms of an export: the JSON pages (`camelCase` keys,
//! `deviceId`) and the files on blob storage (`PascalCase` keys, `DeviceId`). Row timestamps are
//! the service's text (`2020-11-03 10:13:34.8476880`: a space, up to 7 fractional digits, no
//! offset, read as UTC), read into [`ExportTimestamp`]; `exploitabilityLevel` keeps values it
//! does not know ([`ExploitabilityLevel::Other`]); unknown columns are ignored. `cveId` is not
//! always a CVE (`TVM-0001-00000000`) and `recommendedSecurityUpdateId` not always a KB number
//! (`RHSA-2024:9315` on Linux rows), so both are plain text.

use std::fmt;

use chrono::format::{self, Fixed, Item, Numeric, Pad, Parsed};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::types::severity::Severity;

/// A row timestamp: the service's text (`2020-11-03 10:13:34.8476880`, or without a fraction,
/// read as UTC) or RFC 3339. Written back as RFC 3339.
///
/// ```
/// use defender_tvm::types::ExportTimestamp;
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

/// How exploitable a vulnerability is, as the export reports it, from least to most: `Other`
/// (a value this crate does not know, kept as sent), `NoExploit`, `ExploitIsPublic`,
/// `ExploitIsVerified`, `ExploitIsInKit`.
///
/// ```
/// use defender_tvm::types::ExploitabilityLevel;
///
/// let level: ExploitabilityLevel = serde_json::from_str("\"ExploitIsInKit\"").unwrap();
/// assert!(level > ExploitabilityLevel::ExploitIsPublic);
/// let unknown: ExploitabilityLevel = serde_json::from_str("\"ExploitIsRumoured\"").unwrap();
/// assert_eq!(unknown, ExploitabilityLevel::Other("ExploitIsRumoured".into()));
/// assert!(unknown < ExploitabilityLevel::NoExploit);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ExploitabilityLevel {
    /// A value this crate does not know, as sent.
    Other(String),
    /// No exploit is known.
    NoExploit,
    /// A public exploit exists.
    ExploitIsPublic,
    /// The exploit is verified.
    ExploitIsVerified,
    /// The exploit is in an exploit kit.
    ExploitIsInKit,
}

impl ExploitabilityLevel {
    /// The service's name for it.
    pub fn as_str(&self) -> &str {
        match self {
            ExploitabilityLevel::NoExploit => "NoExploit",
            ExploitabilityLevel::ExploitIsPublic => "ExploitIsPublic",
            ExploitabilityLevel::ExploitIsVerified => "ExploitIsVerified",
            ExploitabilityLevel::ExploitIsInKit => "ExploitIsInKit",
            ExploitabilityLevel::Other(other) => other,
        }
    }

    /// Whether an exploit exists (public, verified or in a kit).
    pub fn has_exploit(&self) -> bool {
        matches!(
            self,
            ExploitabilityLevel::ExploitIsPublic
                | ExploitabilityLevel::ExploitIsVerified
                | ExploitabilityLevel::ExploitIsInKit
        )
    }
}

impl From<&str> for ExploitabilityLevel {
    fn from(text: &str) -> Self {
        match text {
            "NoExploit" => ExploitabilityLevel::NoExploit,
            "ExploitIsPublic" => ExploitabilityLevel::ExploitIsPublic,
            "ExploitIsVerified" => ExploitabilityLevel::ExploitIsVerified,
            "ExploitIsInKit" => ExploitabilityLevel::ExploitIsInKit,
            other => ExploitabilityLevel::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ExploitabilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ExploitabilityLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ExploitabilityLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(ExploitabilityLevel::from(text.as_ref()))
    }
}

impl schemars::JsonSchema for ExploitabilityLevel {
    fn schema_name() -> String {
        "ExploitabilityLevel".into()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            ..Default::default()
        }
        .into()
    }
}

/// What happened to a vulnerability, in the changes export: `New`, `Fixed`, `Updated`, or a value
/// this crate does not know, kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChangeStatus {
    /// The vulnerability appeared on the device.
    New,
    /// The vulnerability was fixed (or the device moved elsewhere).
    Fixed,
    /// Something about it changed.
    Updated,
    /// A value this crate does not know, as sent.
    Other(String),
}

impl ChangeStatus {
    /// The service's name for it.
    pub fn as_str(&self) -> &str {
        match self {
            ChangeStatus::New => "New",
            ChangeStatus::Fixed => "Fixed",
            ChangeStatus::Updated => "Updated",
            ChangeStatus::Other(other) => other,
        }
    }
}

impl Serialize for ChangeStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ChangeStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(match text.as_ref() {
            "New" => ChangeStatus::New,
            "Fixed" => ChangeStatus::Fixed,
            "Updated" => ChangeStatus::Updated,
            other => ChangeStatus::Other(other.to_owned()),
        })
    }
}

impl schemars::JsonSchema for ChangeStatus {
    fn schema_name() -> String {
        "ChangeStatus".into()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            ..Default::default()
        }
        .into()
    }
}

/// One (device, software, vulnerability) of the software vulnerabilities export, with the
/// security update that fixes it when there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SoftwareVulnerability {
    /// The row's id (required: a row without it is malformed).
    #[serde(alias = "Id")]
    pub id: String,
    /// The device (machine) id (required: a row without it is malformed).
    #[serde(alias = "DeviceId")]
    pub device_id: String,
    /// The device's name.
    #[serde(default, alias = "DeviceName")]
    pub device_name: Option<String>,
    /// The device group.
    #[serde(default, alias = "RbacGroupName")]
    pub rbac_group_name: Option<String>,
    /// The device group's id (seen, not documented).
    #[serde(default, alias = "RbacGroupId")]
    pub rbac_group_id: Option<i64>,
    /// The OS platform, for example `Windows11`.
    #[serde(default, alias = "OsPlatform")]
    pub os_platform: Option<String>,
    /// The OS version.
    #[serde(default, alias = "OsVersion")]
    pub os_version: Option<String>,
    /// The OS architecture, for example `x64`.
    #[serde(default, alias = "OsArchitecture")]
    pub os_architecture: Option<String>,
    /// The software's vendor, for example `microsoft`.
    #[serde(default, alias = "SoftwareVendor")]
    pub software_vendor: Option<String>,
    /// The software's name, for example `windows_11`.
    #[serde(default, alias = "SoftwareName")]
    pub software_name: Option<String>,
    /// The installed version.
    #[serde(default, alias = "SoftwareVersion")]
    pub software_version: Option<String>,
    /// The vulnerability: a CVE id, or the service's own (`TVM-…`); none on the rows that only
    /// say a software is installed (their id ends in `__`).
    #[serde(default, alias = "CveId")]
    pub cve_id: Option<String>,
    /// Its CVSS score (sent as a number or as text: both are read).
    #[serde(default, alias = "CvssScore", deserialize_with = "number_or_text")]
    #[schemars(with = "Option<f64>")]
    pub cvss_score: Option<f64>,
    /// Its severity.
    #[serde(default, alias = "VulnerabilitySeverityLevel")]
    pub vulnerability_severity_level: Option<Severity>,
    /// The security update that fixes it, as text (a KB's title, or an instruction).
    #[serde(default, alias = "RecommendedSecurityUpdate")]
    pub recommended_security_update: Option<String>,
    /// Its id: a KB number (`5044284`) on Windows, an advisory (`RHSA-2024:9315`) elsewhere, or
    /// none.
    #[serde(default, alias = "RecommendedSecurityUpdateId")]
    pub recommended_security_update_id: Option<String>,
    /// A link to it.
    #[serde(default, alias = "RecommendedSecurityUpdateUrl")]
    pub recommended_security_update_url: Option<String>,
    /// Whether a security update is available.
    #[serde(default, alias = "SecurityUpdateAvailable")]
    pub security_update_available: Option<bool>,
    /// How exploitable it is.
    #[serde(default, alias = "ExploitabilityLevel")]
    pub exploitability_level: Option<ExploitabilityLevel>,
    /// When it was first seen on the device.
    #[serde(default, alias = "FirstSeenTimestamp")]
    pub first_seen_timestamp: Option<ExportTimestamp>,
    /// When it was last seen on the device.
    #[serde(default, alias = "LastSeenTimestamp")]
    pub last_seen_timestamp: Option<ExportTimestamp>,
    /// Where the software was found on disk.
    #[serde(default, alias = "DiskPaths", deserialize_with = "null_as_empty")]
    pub disk_paths: Vec<String>,
    /// Where the software was found in the registry.
    #[serde(default, alias = "RegistryPaths", deserialize_with = "null_as_empty")]
    pub registry_paths: Vec<String>,
    /// The security recommendation it belongs to.
    #[serde(default, alias = "RecommendationReference")]
    pub recommendation_reference: Option<String>,
    /// A batch title (seen, not documented).
    #[serde(default, alias = "CveBatchTitle")]
    pub cve_batch_title: Option<String>,
    /// End-of-support status of the software (seen, not documented).
    #[serde(default, alias = "EndOfSupportStatus")]
    pub end_of_support_status: Option<String>,
    /// End-of-support date (seen, not documented).
    #[serde(default, alias = "EndOfSupportDate")]
    pub end_of_support_date: Option<ExportTimestamp>,
}

/// One change of the software vulnerabilities delta export: a vulnerability row, what happened
/// to it, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SoftwareVulnerabilityChange {
    /// The vulnerability row.
    #[serde(flatten)]
    pub vulnerability: SoftwareVulnerability,
    /// What happened.
    #[serde(default, alias = "Status")]
    pub status: Option<ChangeStatus>,
    /// When it happened.
    #[serde(default, alias = "EventTimestamp")]
    pub event_timestamp: Option<ExportTimestamp>,
}

/// One (device, software) of the software inventory export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SoftwareInventory {
    /// The row's id (required: a row without it is malformed).
    #[serde(alias = "Id")]
    pub id: String,
    /// The device (machine) id (required: a row without it is malformed).
    #[serde(alias = "DeviceId")]
    pub device_id: String,
    /// The device's name.
    #[serde(default, alias = "DeviceName")]
    pub device_name: Option<String>,
    /// The device group.
    #[serde(default, alias = "RbacGroupName")]
    pub rbac_group_name: Option<String>,
    /// The device group's id (seen, not documented).
    #[serde(default, alias = "RbacGroupId")]
    pub rbac_group_id: Option<i64>,
    /// The OS platform.
    #[serde(default, alias = "OsPlatform")]
    pub os_platform: Option<String>,
    /// The OS version.
    #[serde(default, alias = "OsVersion")]
    pub os_version: Option<String>,
    /// The OS architecture.
    #[serde(default, alias = "OsArchitecture")]
    pub os_architecture: Option<String>,
    /// The software's vendor.
    #[serde(default, alias = "SoftwareVendor")]
    pub software_vendor: Option<String>,
    /// The software's name.
    #[serde(default, alias = "SoftwareName")]
    pub software_name: Option<String>,
    /// The installed version.
    #[serde(default, alias = "SoftwareVersion")]
    pub software_version: Option<String>,
    /// How many of its vulnerabilities are open on the device.
    #[serde(default, alias = "NumberOfWeaknesses")]
    pub number_of_weaknesses: Option<i64>,
    /// Where the software was found on disk.
    #[serde(default, alias = "DiskPaths", deserialize_with = "null_as_empty")]
    pub disk_paths: Vec<String>,
    /// Where the software was found in the registry.
    #[serde(default, alias = "RegistryPaths", deserialize_with = "null_as_empty")]
    pub registry_paths: Vec<String>,
    /// When the software was first seen on the device.
    #[serde(default, alias = "SoftwareFirstSeenTimestamp")]
    pub software_first_seen_timestamp: Option<ExportTimestamp>,
    /// End-of-support status (seen, not documented).
    #[serde(default, alias = "EndOfSupportStatus")]
    pub end_of_support_status: Option<String>,
    /// End-of-support date (seen, not documented).
    #[serde(default, alias = "EndOfSupportDate")]
    pub end_of_support_date: Option<ExportTimestamp>,
}

/// A number the service may send as a number, as text (`"9.8"`, `""`) or as `null`.
fn number_or_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    struct Score;
    impl<'de> serde::de::Visitor<'de> for Score {
        type Value = Option<f64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a CVSS score (a number, as a number or as text)")
        }
        fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
            Ok(Some(n))
        }
        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok(Some(n as f64))
        }
        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok(Some(n as f64))
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse()
                .map(Some)
                .map_err(|_| E::custom("a CVSS score given as text is not a number"))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    deserializer.deserialize_any(Score)
}

/// A list the service may send as `null`: read as empty.
fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(deserializer)?.unwrap_or_default())
}

/// What a via-files export call returns: the snapshot's files and when the snapshot was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExportFiles {
    /// The files, each a signed link to GZIP-compressed JSON lines on blob storage. The links
    /// are secrets until they expire (`sasValidHours`): they never show in `Debug`.
    #[serde(alias = "ExportFiles")]
    pub export_files: Vec<SasUrl>,
    /// When the snapshot was made (the service makes one every few hours).
    #[serde(alias = "GeneratedTime")]
    pub generated_time: DateTime<Utc>,
}

/// A signed link to an export file (an Azure Storage SAS URL: its query is the credential). Its
/// `Debug` shows the file's name only; there is no `Display`. (It serializes whole, as a mock of
/// the export call must send it.)
///
/// ```
/// use defender_tvm::types::SasUrl;
///
/// let url: SasUrl = serde_json::from_str(
///     "\"https://store.blob.core.windows.net/e/part-00001.json.gz?sv=2020&sig=abc\"",
/// )
/// .unwrap();
/// assert_eq!(url.file_name(), "part-00001.json.gz");
/// assert_eq!(format!("{url:?}"), "SasUrl(part-00001.json.gz, <redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SasUrl(url::Url);

impl SasUrl {
    /// The link itself. Handle with care: never log it.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }

    /// The file's name (the last segment of its path), to say which file something is about.
    pub fn file_name(&self) -> &str {
        self.0
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .filter(|name| !name.is_empty())
            .unwrap_or("(unnamed file)")
    }
}

impl fmt::Debug for SasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SasUrl({}, <redacted>)", self.file_name())
    }
}

impl Serialize for SasUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for SasUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        // The error never repeats the text: it is a secret.
        url::Url::parse(&text).map(SasUrl).map_err(|e| {
            serde::de::Error::custom(format!("an export file link is not a URL ({e})"))
        })
    }
}

impl schemars::JsonSchema for SasUrl {
    fn schema_name() -> String {
        "SasUrl".into()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            format: Some("uri".into()),
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
    fn hand_written_types_show_in_schemas_as_strings_and_levels_print_as_sent() {
        let schema =
            serde_json::to_value(schemars::schema_for!(SoftwareVulnerabilityChange)).unwrap();
        for name in ["ExportTimestamp", "ExploitabilityLevel", "ChangeStatus"] {
            assert_eq!(
                schema["definitions"][name]["type"], "string",
                "{name} in {schema}"
            );
        }
        let files = serde_json::to_value(schemars::schema_for!(ExportFiles)).unwrap();
        assert_eq!(files["definitions"]["SasUrl"]["type"], "string", "{files}");
        assert_eq!(
            ExploitabilityLevel::ExploitIsInKit.to_string(),
            "ExploitIsInKit"
        );
        assert_eq!(
            ExploitabilityLevel::Other("Rumoured".into()).to_string(),
            "Rumoured"
        );
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
