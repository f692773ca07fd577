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

use serde::{Deserialize, Deserializer, Serialize};

use super::levels::{ChangeStatus, ExploitabilityLevel};
use super::timestamp::ExportTimestamp;
use crate::types::Severity;

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
    /// Whether the device is still onboarded: `false` on the `Fixed` rows of a device that
    /// left the tenant (offboarded), whose vulnerabilities were not fixed.
    #[serde(default, alias = "IsOnboarded")]
    pub is_onboarded: Option<bool>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::ExportFiles;

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
}
