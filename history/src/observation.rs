//! What a sync reads from a row of the export: a device, a software at a version, and maybe a
//! vulnerability with its recommended update.

use chrono::{DateTime, Utc};
use defender_tvm::export::{ChangeStatus, SoftwareVulnerability, SoftwareVulnerabilityChange};
use defender_tvm::types::Severity;

/// One row of a snapshot, as the store reads it: a device in the snapshot, and, when the row
/// has a CVE, an exposure of that device.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation<'a> {
    /// The device id.
    pub device_id: &'a str,
    /// The device's name.
    pub device_name: Option<&'a str>,
    /// The device group.
    pub rbac_group: Option<&'a str>,
    /// The software's vendor (empty when the row has none).
    pub software_vendor: &'a str,
    /// The software's name (empty when the row has none).
    pub software_name: &'a str,
    /// The installed version.
    pub software_version: Option<&'a str>,
    /// The vulnerability; none on the rows that only say a software is installed (they are
    /// not exposures, but they keep their device in the snapshot).
    pub cve_id: Option<&'a str>,
    /// Its severity.
    pub severity: Option<&'a Severity>,
    /// Whether an exploit of it is known (public, verified or in a kit).
    pub exploited: bool,
    /// The recommended update's id (a KB number on Windows).
    pub kb: Option<&'a str>,
    /// When the service first saw the vulnerability on the device.
    pub first_seen: Option<DateTime<Utc>>,
}

impl<'a> From<&'a SoftwareVulnerability> for Observation<'a> {
    fn from(row: &'a SoftwareVulnerability) -> Self {
        Observation {
            device_id: &row.device_id,
            device_name: row.device_name.as_deref(),
            rbac_group: row.rbac_group_name.as_deref(),
            software_vendor: row.software_vendor.as_deref().unwrap_or(""),
            software_name: row.software_name.as_deref().unwrap_or(""),
            software_version: row.software_version.as_deref(),
            cve_id: row.cve_id.as_deref().filter(|id| !id.is_empty()),
            severity: row.vulnerability_severity_level.as_ref(),
            exploited: row
                .exploitability_level
                .as_ref()
                .is_some_and(|level| level.has_exploit()),
            kb: row
                .recommended_security_update_id
                .as_deref()
                .filter(|id| !id.is_empty()),
            first_seen: row.first_seen_timestamp.as_ref().map(|t| t.as_utc()),
        }
    }
}

/// What a change of the feed says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happened {
    /// The exposure appeared (or, with a `Fixed` of the same exposure at the same time, moved
    /// version or group).
    New,
    /// The exposure is gone from the device.
    Fixed,
    /// The device was offboarded: its exposures are retired, not fixed.
    Offboarded,
    /// Something about it changed (severity, exploitability, recommended update).
    Updated,
}

/// One row of the change feed, as the store reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<'a> {
    /// The row.
    pub observation: Observation<'a>,
    /// What happened.
    pub happened: Happened,
    /// When the service found it.
    pub at: DateTime<Utc>,
}

impl<'a> Change<'a> {
    /// The change a feed row tells, or `None` for a row without a CVE, a status this build does
    /// not know, or no time.
    pub fn from_row(row: &'a SoftwareVulnerabilityChange) -> Option<Change<'a>> {
        let observation = Observation::from(&row.vulnerability);
        observation.cve_id?;
        let happened = match row.status.as_ref()? {
            ChangeStatus::New => Happened::New,
            ChangeStatus::Fixed if row.is_onboarded == Some(false) => Happened::Offboarded,
            ChangeStatus::Fixed => Happened::Fixed,
            ChangeStatus::Updated => Happened::Updated,
            _ => return None,
        };
        Some(Change {
            observation,
            happened,
            at: row.event_timestamp.as_ref()?.as_utc(),
        })
    }
}
