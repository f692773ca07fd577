//! The rows of the export assessment APIs, generated from the estate by index, never stored:
//! one vulnerability row per (installation, exposed CVE), and one without a CVE per installation
//! exposed to none (as Microsoft's example response shows: id ending in `__`, `cveId`, severity,
//! CVSS and the recommended update `null`); one inventory row per installation.
//! A row's times are drawn from a hash of the seed and the row's place, so any row can be made
//! on its own (the files start at their first row without walking the rows before it).
//!
//! Times, relative to the estate's snapshot time:
//! - a device was last seen 10 minutes to 5 hours before the snapshot (`lastSeenTimestamp`);
//! - a software was first seen on a device 30 to 365 days before (`softwareFirstSeenTimestamp`);
//! - a vulnerability was first seen on an installation up to 180 days before the device was last
//!   seen, never before the software was (`firstSeenTimestamp`);
//! - one row in eight is written without a fractional second, as the service sometimes does.

use std::ops::Range;

use super::Estate;
use crate::time::{TICKS_PER_SECOND, Timestamp};

pub(super) const SECOND: i64 = TICKS_PER_SECOND;
pub(super) const MINUTE: i64 = 60 * SECOND;
pub(super) const HOUR: i64 = 60 * MINUTE;
pub(super) const DAY: i64 = 24 * HOUR;

/// Salts of the hashes rows are drawn from, one per use.
pub(super) mod salt {
    pub(crate) const LAST_SEEN: u64 = 1;
    pub(crate) const SOFTWARE_FIRST_SEEN: u64 = 2;
    pub(crate) const FIRST_SEEN: u64 = 3;
    pub(crate) const WHOLE_SECOND: u64 = 4;
    pub(crate) const UPDATED: u64 = 5;
    pub(crate) const FIXED_KB: u64 = 7;
    pub(crate) const FIXED_VERSION: u64 = 8;
    pub(crate) const FIXED_FIRST_SEEN: u64 = 10;
}

/// One row of the software vulnerabilities export (`SoftwareVulnerabilitiesByMachine` and the
/// files of `SoftwareVulnerabilitiesExport`): a device exposed to a CVE through a software at a
/// version. Serialised with the JSON pages' camelCase keys; the files write the same keys in
/// PascalCase.
#[derive(Debug, Clone, PartialEq)]
pub struct VulnerabilityRow<'a> {
    /// `{deviceId}_{softwareVendor}_{softwareName}_{softwareVersion}_{cveId}` (`…__` on a row
    /// without a CVE).
    pub id: String,
    /// The device id.
    pub device_id: &'a str,
    /// The device's DNS name.
    pub device_name: &'a str,
    /// The device group.
    pub rbac_group_name: &'a str,
    /// The device group's id.
    pub rbac_group_id: i64,
    /// For example `Windows11`.
    pub os_platform: &'a str,
    /// For example `10.0.26100`.
    pub os_version: String,
    /// Always `x64`.
    pub os_architecture: &'static str,
    /// For example `google`.
    pub software_vendor: &'a str,
    /// For example `chrome`.
    pub software_name: &'a str,
    /// For example `129.0.6668.101`.
    pub software_version: &'a str,
    /// For example `CVE-2025-21001`; none on a row that only says the software is installed.
    pub cve_id: Option<&'a str>,
    /// The CVE's CVSS v3 score.
    pub cvss_score: Option<f64>,
    /// `Low`, `Medium`, `High` or `Critical`.
    pub vulnerability_severity_level: Option<&'static str>,
    /// The fixing KB's title, or for a CVE without a KB `Update Google Chrome to version …`
    /// (none when the software has no newer version).
    pub recommended_security_update: Option<&'a str>,
    /// The fixing KB's number (`5044284`), when the CVE has one.
    pub recommended_security_update_id: Option<&'a str>,
    /// The fixing KB's catalog link, when the CVE has one.
    pub recommended_security_update_url: Option<&'a str>,
    /// Whether an update fixes it (a KB, or a newer version).
    pub security_update_available: bool,
    /// `ExploitIsInKit`, `ExploitIsVerified`, `ExploitIsPublic` or `NoExploit`.
    pub exploitability_level: &'static str,
    /// When the vulnerability was first seen on the device.
    pub first_seen_timestamp: Timestamp,
    /// When the device was last seen with it.
    pub last_seen_timestamp: Timestamp,
    /// Files the software was found by.
    pub disk_paths: &'a [String],
    /// Registry keys the software was found by.
    pub registry_paths: &'a [String],
    /// `va-_-{vendor}-_-{product}` (none on a row without a CVE).
    pub recommendation_reference: Option<&'a str>,
    /// `EOS Version` for an out-of-support version, else none.
    pub end_of_support_status: Option<&'static str>,
    /// Always none.
    pub end_of_support_date: Option<&'static str>,
    /// `2025-10 Security Updates` for a CVE fixed by a monthly KB, else none.
    pub cve_batch_title: Option<&'a str>,
}

/// One row of the software inventory export (`SoftwareInventoryByMachine` and the files of
/// `SoftwareInventoryExport`): a software installed on a device.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryRow<'a> {
    /// `{deviceId}_{softwareVendor}_{softwareName}_{softwareVersion}`.
    pub id: String,
    /// The device id.
    pub device_id: &'a str,
    /// The device's DNS name.
    pub device_name: &'a str,
    /// The device group.
    pub rbac_group_name: &'a str,
    /// The device group's id.
    pub rbac_group_id: i64,
    /// For example `Windows11`.
    pub os_platform: &'a str,
    /// For example `10.0.26100`.
    pub os_version: String,
    /// Always `x64`.
    pub os_architecture: &'static str,
    /// For example `google`.
    pub software_vendor: &'a str,
    /// For example `chrome`.
    pub software_name: &'a str,
    /// For example `129.0.6668.101`.
    pub software_version: &'a str,
    /// How many CVEs the installation is exposed to.
    pub number_of_weaknesses: usize,
    /// Files the software was found by.
    pub disk_paths: &'a [String],
    /// Registry keys the software was found by.
    pub registry_paths: &'a [String],
    /// When the software was first seen on the device.
    pub software_first_seen_timestamp: Timestamp,
    /// `EOS Version` for an out-of-support version, else none.
    pub end_of_support_status: Option<&'static str>,
    /// Always none.
    pub end_of_support_date: Option<&'static str>,
}

/// A 64-bit hash of the seed, a salt and two numbers (SplitMix64 rounds).
pub(crate) fn mix(seed: u64, salt: u64, a: u64, b: u64) -> u64 {
    let mut h = splitmix(seed ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    h = splitmix(h ^ a);
    splitmix(h ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash as a number in `[0, 1)`.
pub(super) fn unit(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// A hash as a span of ticks in `[0, span)`.
pub(super) fn span(hash: u64, span: i64) -> i64 {
    (unit(hash) * span as f64) as i64
}

impl Estate {
    /// How many vulnerability rows the estate has: one per (installation, exposed CVE), and one
    /// per installation exposed to none.
    pub fn vulnerability_row_count(&self) -> usize {
        self.row_starts.last().copied().unwrap_or(0)
    }

    /// Every vulnerability row, installation by installation (the order of
    /// [`installations`](Self::installations)), each installation's CVEs in the order of its
    /// `exposed` (an installation exposed to none: one row without a CVE). The JSON pages and
    /// the export files serve these rows in this order.
    pub fn vulnerability_rows(&self) -> impl Iterator<Item = VulnerabilityRow<'_>> + '_ {
        self.vulnerability_rows_from(0)
    }

    /// The vulnerability rows from the `first`-th on (found without walking the ones before).
    pub fn vulnerability_rows_from(
        &self,
        first: usize,
    ) -> impl Iterator<Item = VulnerabilityRow<'_>> + '_ {
        let start = self
            .row_starts
            .partition_point(|&s| s <= first)
            .saturating_sub(1);
        (start..self.installations.len()).flat_map(move |i| {
            let skip = first.saturating_sub(self.row_starts[i]);
            (skip..self.installations[i].exposed.len().max(1)).map(move |n| self.current_row(i, n))
        })
    }

    /// Every inventory row, one per installation, in the order of
    /// [`installations`](Self::installations).
    pub fn inventory_rows(&self) -> impl Iterator<Item = InventoryRow<'_>> + '_ {
        self.inventory_rows_in(0..self.installations.len())
    }

    /// The inventory rows of a range of installations.
    pub(crate) fn inventory_rows_in(
        &self,
        range: Range<usize>,
    ) -> impl Iterator<Item = InventoryRow<'_>> + '_ {
        let end = range.end.min(self.installations.len());
        (range.start.min(end)..end).map(move |i| self.inventory_row(i))
    }

    /// The snapshot time in ticks.
    pub(super) fn snapshot_ticks(&self) -> i64 {
        self.snapshot
    }

    /// When the device was last seen.
    pub(super) fn last_seen(&self, device: usize, whole_second: bool) -> Timestamp {
        let ago = 10 * MINUTE + span(mix(self.seed, salt::LAST_SEEN, device as u64, 0), 5 * HOUR);
        Timestamp::from_ticks(self.snapshot - ago, whole_second)
    }

    /// When installation `i`'s software was first seen on its device.
    pub(super) fn software_first_seen(&self, i: usize) -> i64 {
        let ago = 30 * DAY
            + span(
                mix(self.seed, salt::SOFTWARE_FIRST_SEEN, i as u64, 0),
                335 * DAY,
            );
        self.snapshot - ago
    }

    /// Whether the row of installation `i` and CVE `cve` is written without a fraction.
    pub(super) fn whole_second(&self, i: usize, cve: usize) -> bool {
        mix(self.seed, salt::WHOLE_SECOND, i as u64, cve as u64).is_multiple_of(8)
    }

    /// The `n`-th current vulnerability row of installation `i` (of an installation exposed to
    /// no CVE, its row without one).
    pub(super) fn current_row(&self, i: usize, n: usize) -> VulnerabilityRow<'_> {
        let installation = &self.installations[i];
        let Some(&cve) = installation.exposed.get(n) else {
            return self.presence_row(i);
        };
        let (first_seen, last_seen) = self.current_times(i, cve);
        self.vulnerability_row(i, cve, installation.version, first_seen, last_seen)
    }

    /// The first-seen and last-seen times of installation `i`'s exposure to `cve`.
    pub(super) fn current_times(&self, i: usize, cve: usize) -> (Timestamp, Timestamp) {
        let whole = self.whole_second(i, cve);
        let last_seen = self.last_seen(self.installations[i].device, whole);
        let earliest = self.software_first_seen(i);
        let longest = (last_seen.ticks() - earliest).clamp(HOUR, 180 * DAY);
        let ago = span(
            mix(self.seed, salt::FIRST_SEEN, i as u64, cve as u64),
            longest,
        );
        let first_seen = Timestamp::from_ticks(last_seen.ticks() - ago, whole);
        (first_seen, last_seen)
    }

    /// The vulnerability row of installation `i`'s software at `version` and `cve`.
    pub(super) fn vulnerability_row(
        &self,
        i: usize,
        cve: usize,
        version: usize,
        first_seen: Timestamp,
        last_seen: Timestamp,
    ) -> VulnerabilityRow<'_> {
        let installation = &self.installations[i];
        let device = &self.devices[installation.device];
        let software = &self.software[installation.software];
        let presence = &self.presence[installation.software];
        let software_version = software.versions.get(version).map_or("", String::as_str);
        let c = &self.cves[cve];
        let kb = c.fixing_kb.and_then(|k| self.kbs.get(k));
        let recommended_security_update = match kb {
            Some(kb) => Some(kb.name.as_str()),
            None => presence.update.as_deref(),
        };
        VulnerabilityRow {
            id: format!(
                "{}_{}_{}_{}_{}",
                device.id, software.vendor, software.name, software_version, c.id
            ),
            device_id: &device.id,
            device_name: &device.computer_dns_name,
            rbac_group_name: &device.rbac_group_name,
            rbac_group_id: device.rbac_group_id,
            os_platform: &device.os_platform,
            os_version: format!("10.0.{}", device.os_build),
            os_architecture: "x64",
            software_vendor: &software.vendor,
            software_name: &software.name,
            software_version,
            cve_id: Some(&c.id),
            cvss_score: Some(c.cvss),
            vulnerability_severity_level: Some(c.severity),
            recommended_security_update,
            recommended_security_update_id: kb.map(|kb| kb.id.as_str()),
            recommended_security_update_url: kb.map(|kb| kb.url.as_str()),
            security_update_available: recommended_security_update.is_some(),
            exploitability_level: if c.exploit_in_kit {
                "ExploitIsInKit"
            } else if c.exploit_verified {
                "ExploitIsVerified"
            } else if c.public_exploit {
                "ExploitIsPublic"
            } else {
                "NoExploit"
            },
            first_seen_timestamp: first_seen,
            last_seen_timestamp: last_seen,
            disk_paths: &presence.disk_paths,
            registry_paths: &presence.registry_paths,
            recommendation_reference: Some(&presence.recommendation_reference),
            end_of_support_status: self.end_of_support(installation.software, version),
            end_of_support_date: None,
            cve_batch_title: c
                .fixing_kb
                .and_then(|k| self.batch_titles.get(k))
                .and_then(Option::as_deref),
        }
    }

    /// The row of installation `i` exposed to no CVE: the software is there, nothing to fix.
    fn presence_row(&self, i: usize) -> VulnerabilityRow<'_> {
        // The installation's inventory row says what the row says of the device and software.
        let installed = self.inventory_row(i);
        let whole = installed.software_first_seen_timestamp.is_whole_second();
        VulnerabilityRow {
            id: format!("{}__", installed.id),
            device_id: installed.device_id,
            device_name: installed.device_name,
            rbac_group_name: installed.rbac_group_name,
            rbac_group_id: installed.rbac_group_id,
            os_platform: installed.os_platform,
            os_version: installed.os_version,
            os_architecture: installed.os_architecture,
            software_vendor: installed.software_vendor,
            software_name: installed.software_name,
            software_version: installed.software_version,
            cve_id: None,
            cvss_score: None,
            vulnerability_severity_level: None,
            recommended_security_update: None,
            recommended_security_update_id: None,
            recommended_security_update_url: None,
            security_update_available: false,
            exploitability_level: "NoExploit",
            first_seen_timestamp: installed.software_first_seen_timestamp,
            last_seen_timestamp: self.last_seen(self.installations[i].device, whole),
            disk_paths: installed.disk_paths,
            registry_paths: installed.registry_paths,
            recommendation_reference: None,
            end_of_support_status: installed.end_of_support_status,
            end_of_support_date: None,
            cve_batch_title: None,
        }
    }

    fn end_of_support(&self, software: usize, version: usize) -> Option<&'static str> {
        (version == 0 && self.presence[software].old_version_end_of_support)
            .then_some("EOS Version")
    }

    /// The inventory row of installation `i`.
    pub(super) fn inventory_row(&self, i: usize) -> InventoryRow<'_> {
        let installation = &self.installations[i];
        let device = &self.devices[installation.device];
        let software = &self.software[installation.software];
        let presence = &self.presence[installation.software];
        let version = software
            .versions
            .get(installation.version)
            .map_or("", String::as_str);
        let whole = self.whole_second(i, usize::MAX);
        InventoryRow {
            id: format!(
                "{}_{}_{}_{}",
                device.id, software.vendor, software.name, version
            ),
            device_id: &device.id,
            device_name: &device.computer_dns_name,
            rbac_group_name: &device.rbac_group_name,
            rbac_group_id: device.rbac_group_id,
            os_platform: &device.os_platform,
            os_version: format!("10.0.{}", device.os_build),
            os_architecture: "x64",
            software_vendor: &software.vendor,
            software_name: &software.name,
            software_version: version,
            number_of_weaknesses: installation.exposed.len(),
            disk_paths: &presence.disk_paths,
            registry_paths: &presence.registry_paths,
            software_first_seen_timestamp: Timestamp::from_ticks(
                self.software_first_seen(i),
                whole,
            ),
            end_of_support_status: self.end_of_support(installation.software, installation.version),
            end_of_support_date: None,
        }
    }
}
