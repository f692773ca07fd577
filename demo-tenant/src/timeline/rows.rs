//! The rows of one snapshot, made device by device as they are read (never stored): for each
//! device in the tenant at the snapshot, each installation's open exposures (one row each, by
//! CVE), or, for an installation exposed to nothing, one row without a CVE (id ending in `__`,
//! `cveId`, `cvssScore`, severity and the recommended update `null`, as the real export sends
//! them, so a fully patched device is still in the snapshot).
//!
//! Values, at snapshot time `T`:
//! - the device's group is the one it is in at `T`; `osVersion` is its Windows build (the
//!   version of its OS installation: it changes with each cumulative update);
//! - `softwareVersion` is the release the installation runs at `T`;
//! - the recommended update is the product's newest release at `T` (the newest cumulative
//!   update's title, KB number and catalog link; for an application `Update Google Chrome to
//!   version 131.0.7860.96`, no id, no link), as the service recommends the latest;
//! - `exploitabilityLevel` is the CVE's at `T`;
//! - `firstSeenTimestamp` is the exposure's first-seen time (kept across upgrades, group moves
//!   and an undone fix); on a row without a CVE, when the installation started running its
//!   version;
//! - `lastSeenTimestamp`: the device was last seen 10 minutes to 5 hours before `T` (never
//!   before the row's first-seen time);
//! - one row in eight is written without a fraction of a second.

use super::catalog::{EXPLOITABILITY, GROUPS, SEVERITIES};
use super::generate::Device;
use super::rules::Open;
use super::{Case, FIRST_GROUP_ID, HOUR, MINUTE, Timeline, mix, span};
use crate::time::Timestamp;

/// Salts of the rows' draws.
mod salt {
    pub(super) const LAST_SEEN: u64 = 401;
}

/// One row of a snapshot of the software vulnerabilities export
/// (`SoftwareVulnerabilitiesByMachine`, and the files of `SoftwareVulnerabilitiesExport`): a
/// device exposed to a CVE through a software at a version, or (without a CVE) a software
/// installed and exposed to nothing. [`to_json`](Self::to_json) (and `Serialize`) writes it as
/// the JSON pages do, with camelCase keys; [`to_json_line`](Self::to_json_line) in either case
/// (PascalCase: the export files).
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow<'a> {
    /// `{deviceId}_{softwareVendor}_{softwareName}_{softwareVersion}_{cveId}`; on a row without
    /// a CVE, `{deviceId}_{softwareVendor}_{softwareName}_{softwareVersion}__`.
    pub id: String,
    /// 40 hex digits.
    pub device_id: &'a str,
    /// For example `ws-fin-0042.contoso.com`.
    pub device_name: &'a str,
    /// The device's group at the snapshot, for example `Finance`.
    pub rbac_group_name: &'static str,
    /// The group's id (4400 on).
    pub rbac_group_id: i64,
    /// For example `Windows11`.
    pub os_platform: &'static str,
    /// The OS build at the snapshot, for example `10.0.26100.19633`.
    pub os_version: &'a str,
    /// Always `x64`.
    pub os_architecture: &'static str,
    /// For example `microsoft` or `google`.
    pub software_vendor: &'static str,
    /// For example `windows_11` or `chrome`.
    pub software_name: &'static str,
    /// The version the device runs at the snapshot.
    pub software_version: &'a str,
    /// For example `CVE-2026-21001`; none on a row without a CVE.
    pub cve_id: Option<&'a str>,
    /// The CVE's CVSS v3 score.
    pub cvss_score: Option<f64>,
    /// `Critical`, `High`, `Medium` or `Low`.
    pub vulnerability_severity_level: Option<&'static str>,
    /// The newest release's title (a KB's) or `Update Google Chrome to version …`.
    pub recommended_security_update: Option<&'a str>,
    /// The newest cumulative update's KB number (`5044284`); none for an application.
    pub recommended_security_update_id: Option<&'a str>,
    /// The newest cumulative update's catalog link; none for an application.
    pub recommended_security_update_url: Option<&'a str>,
    /// Whether an update fixes it (every row with a CVE).
    pub security_update_available: bool,
    /// `NoExploit`, `ExploitIsPublic`, `ExploitIsVerified` or `ExploitIsInKit` (`NoExploit` on
    /// a row without a CVE).
    pub exploitability_level: &'static str,
    /// When the exposure was first seen on the device.
    pub first_seen_timestamp: Timestamp,
    /// When the device was last seen with it.
    pub last_seen_timestamp: Timestamp,
    /// Files the software was found by.
    pub disk_paths: &'a [String],
    /// Registry keys it was found by.
    pub registry_paths: &'a [String],
    /// `va-_-{vendor}-_-{name}`.
    pub recommendation_reference: &'a str,
}

impl TimelineRow<'_> {
    /// The row as the JSON pages write it: one object, camelCase keys.
    pub fn to_json(&self) -> String {
        self.to_json_line(Case::Camel)
    }

    /// The row as one JSON line with the keys of `case`: camelCase as on the JSON pages,
    /// PascalCase as in the export files (without the line's newline).
    pub fn to_json_line(&self, case: Case) -> String {
        super::serialize::to_json(self, case)
    }
}

/// A device as it is at one snapshot.
#[derive(Debug, Clone, Copy)]
pub(super) struct DeviceAt<'a> {
    /// The device.
    pub(super) device: &'a Device,
    /// The snapshot.
    pub(super) snapshot: usize,
    /// Its time (ticks).
    pub(super) tick: i64,
    /// The device's group (index into [`GROUPS`]).
    pub(super) group: usize,
    /// Its OS build.
    pub(super) os_version: &'a str,
    /// Its `osPlatform`.
    pub(super) os_platform: &'static str,
    /// When it was last seen (ticks).
    pub(super) last_seen: i64,
}

/// What an installation runs and is exposed to at one snapshot.
#[derive(Debug, Clone, Default)]
pub(super) struct State {
    /// The release it runs (index into its product's).
    pub(super) release: usize,
    /// Its open exposures, by CVE.
    pub(super) open: Vec<Open>,
}

impl Timeline {
    /// Device `d` at snapshot `s`, if it is in the tenant then.
    pub(super) fn device_at(&self, d: usize, s: usize) -> Option<DeviceAt<'_>> {
        let tick = *self.snapshots.get(s)?;
        let device = self.tenant.devices.get(d)?;
        if !device.present_at(tick) {
            return None;
        }
        let os = device.installations.start as usize;
        let product = &self.world.products[self.tenant.installations[os].product as usize];
        let release = self.history(os).get(self.upgrade_at(os, tick))?.release;
        let ago = 10 * MINUTE
            + span(
                mix(self.seed, salt::LAST_SEEN, d as u64, s as u64),
                5 * HOUR - 10 * MINUTE,
            );
        Some(DeviceAt {
            device,
            snapshot: s,
            tick,
            group: device.group_at(tick),
            os_version: &product.releases[release as usize].version,
            os_platform: product.platform.unwrap_or("Windows"),
            last_seen: tick - ago,
        })
    }

    /// What installation `i` runs and is exposed to at the snapshot of `at`.
    pub(super) fn state_at(&self, at: &DeviceAt<'_>, i: usize) -> State {
        let mut state = State::default();
        let product = self.tenant.installations[i].product as usize;
        let latest = self.latest[at.snapshot][product] as usize;
        self.open_at(i, at.tick, latest, &mut state.open);
        state.release = self
            .history(i)
            .get(self.upgrade_at(i, at.tick))
            .map_or(0, |u| u.release as usize);
        state
    }

    /// The rows of device `at` (in the tenant at its snapshot), installation by installation.
    pub(super) fn device_rows<'t>(
        &'t self,
        at: DeviceAt<'t>,
    ) -> impl Iterator<Item = TimelineRow<'t>> + 't {
        let installations = at.device.installations.clone();
        (installations.start as usize..installations.end as usize).flat_map(move |i| {
            let state = self.state_at(&at, i);
            let release = state.release;
            let nothing = state
                .open
                .is_empty()
                .then(|| self.presence_row(&at, i, release));
            state
                .open
                .into_iter()
                .map(move |open| self.cve_row(&at, i, release, &open))
                .chain(nothing)
        })
    }

    /// The row of installation `i` (running `release`) exposed to `open`, at `at`'s snapshot.
    pub(super) fn cve_row<'t>(
        &'t self,
        at: &DeviceAt<'t>,
        i: usize,
        release: usize,
        open: &Open,
    ) -> TimelineRow<'t> {
        let product_index = self.tenant.installations[i].product as usize;
        let product = &self.world.products[product_index];
        let newest = &product.releases[self.latest[at.snapshot][product_index] as usize];
        let cve = &self.world.cves[open.cve as usize];
        let version = &product.releases[release].version;
        let whole = self.whole_second(i, open.cve);
        let id = format!(
            "{}_{}_{}_{}_{}",
            at.device.id, product.vendor, product.name, version, cve.id
        );
        let mut row = self.row_with(at, i, release, id);
        row.cve_id = Some(&cve.id);
        row.cvss_score = Some(cve.cvss);
        row.vulnerability_severity_level = Some(SEVERITIES[cve.severity].0);
        row.recommended_security_update = Some(&newest.update);
        row.recommended_security_update_id = newest.kb.as_deref();
        row.recommended_security_update_url = newest.url.as_deref();
        row.security_update_available = true;
        row.exploitability_level = EXPLOITABILITY[cve.exploit_at(at.tick)];
        row.first_seen_timestamp = Timestamp::from_ticks(open.first_seen, whole);
        row.last_seen_timestamp = Timestamp::from_ticks(at.last_seen.max(open.first_seen), whole);
        row
    }

    /// The row of installation `i` (running `release`) exposed to nothing, at `at`'s snapshot.
    fn presence_row<'t>(&'t self, at: &DeviceAt<'t>, i: usize, release: usize) -> TimelineRow<'t> {
        let product = &self.world.products[self.tenant.installations[i].product as usize];
        let version = &product.releases[release].version;
        let id = format!(
            "{}_{}_{}_{}__",
            at.device.id, product.vendor, product.name, version
        );
        self.row_with(at, i, release, id)
    }

    /// The row `id` of installation `i` (running `release`) at `at`'s snapshot, without a CVE.
    fn row_with<'t>(
        &'t self,
        at: &DeviceAt<'t>,
        i: usize,
        release: usize,
        id: String,
    ) -> TimelineRow<'t> {
        let product = &self.world.products[self.tenant.installations[i].product as usize];
        let version = &product.releases[release].version;
        let since = self
            .history(i)
            .get(self.upgrade_at(i, at.tick))
            .map_or(at.device.onboarded, |u| u.tick);
        let whole = self.whole_second(i, u32::MAX);
        let (group, ..) = GROUPS[at.group];
        TimelineRow {
            id,
            device_id: &at.device.id,
            device_name: &at.device.name,
            rbac_group_name: group,
            rbac_group_id: FIRST_GROUP_ID + at.group as i64,
            os_platform: at.os_platform,
            os_version: at.os_version,
            os_architecture: "x64",
            software_vendor: product.vendor,
            software_name: product.name,
            software_version: version,
            cve_id: None,
            cvss_score: None,
            vulnerability_severity_level: None,
            recommended_security_update: None,
            recommended_security_update_id: None,
            recommended_security_update_url: None,
            security_update_available: false,
            exploitability_level: EXPLOITABILITY[0],
            first_seen_timestamp: Timestamp::from_ticks(since, whole),
            last_seen_timestamp: Timestamp::from_ticks(at.last_seen.max(since), whole),
            disk_paths: &product.disk_paths,
            registry_paths: &product.registry_paths,
            recommendation_reference: &product.recommendation_reference,
        }
    }
}
