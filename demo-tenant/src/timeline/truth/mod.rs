//! The timeline's ground truth: the events as data, made from the tenant's histories by the
//! rules (never from the rows), for tests to compare a history store with.
//!
//! Snapshot indexes throughout: an exposure's span is opened at the first snapshot it is in
//! and closed at the first snapshot it is no longer in (fixed, or its device retired); a
//! device is onboarded at the first snapshot it is in and retired at the first it is absent
//! from. "Between `a` and `b`" means found by the snapshots `a + 1` to `b`, as the change feed
//! over them ([`Timeline::changes`](crate::timeline::Timeline::changes)).
//!
//! - `mod.rs`: the truth's types;
//! - `build.rs`: the truth made from the tenant's histories;
//! - `queries.rs`: the questions a store is asked, answered from it.

mod build;
mod queries;

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::time::Timestamp;

pub use queries::percentile;

/// Why an exposure's span ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ended {
    /// An upgrade fixed it.
    Fixed,
    /// Its device left the tenant (offboarded).
    Retired,
}

/// One stretch of snapshots an exposure is in. A version change or a group move does not end
/// it; an exposure whose fix was undone has two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// The first snapshot it is in.
    pub opened: usize,
    /// The first snapshot it is no longer in, and why; none if it is in the last.
    pub closed: Option<(usize, Ended)>,
}

impl Span {
    /// Whether the exposure is in snapshot `s` by this span.
    pub fn is_open_at(&self, s: usize) -> bool {
        self.opened <= s && self.closed.is_none_or(|(closed, _)| s < closed)
    }
}

/// A device's exposure to a CVE through a software: the key (device id, software vendor,
/// software name, CVE id), what the CVE is, and when the exposure was in the snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposureTruth {
    /// Index into [`Truth::devices`].
    pub device: usize,
    /// The device's id.
    pub device_id: String,
    /// For example `microsoft`.
    pub software_vendor: &'static str,
    /// For example `windows_11`.
    pub software_name: &'static str,
    /// For example `CVE-2026-21001`.
    pub cve_id: String,
    /// `Critical`, `High`, `Medium` or `Low`.
    pub severity: &'static str,
    /// CVSS v3 score.
    pub cvss: f64,
    /// The service's `firstSeenTimestamp`: when it was first seen on the device. Every row of
    /// the exposure carries it, across upgrades, group moves and an undone fix.
    pub first_seen: Timestamp,
    /// The release that first fixes the CVE: the cumulative update's KB number, or the
    /// application's version.
    pub fixed_by: String,
    /// Its exploitability when published.
    pub exploitability: &'static str,
    /// The first snapshot showing a higher exploitability, and that level.
    pub exploitability_rise: Option<(usize, &'static str)>,
    /// When it was in the snapshots, oldest first.
    pub spans: Vec<Span>,
}

impl ExposureTruth {
    /// Whether it is in snapshot `s`.
    pub fn is_open_at(&self, s: usize) -> bool {
        self.spans.iter().any(|span| span.is_open_at(s))
    }

    /// Its exploitability at snapshot `s`.
    pub fn exploitability_at(&self, s: usize) -> &'static str {
        match self.exploitability_rise {
            Some((from, level)) if from <= s => level,
            _ => self.exploitability,
        }
    }

    /// Whether it came back after a fix.
    pub fn is_reopened(&self) -> bool {
        self.spans.len() > 1
    }
}

/// A device group a device is in from a snapshot on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpan {
    /// The first snapshot it is in the group.
    pub from: usize,
    /// For example `Finance`.
    pub name: &'static str,
    /// The group's id.
    pub id: i64,
}

/// A device over the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTruth {
    /// 40 hex digits.
    pub id: String,
    /// For example `ws-fin-0042.contoso.com`.
    pub name: String,
    /// For example `Windows11`.
    pub os_platform: &'static str,
    /// Its groups, oldest first (two for a device that moved).
    pub groups: Vec<GroupSpan>,
    /// The first snapshot it is in (0 for a device there from the start).
    pub onboarded: usize,
    /// The first snapshot it is absent from after leaving, if it left.
    pub retired: Option<usize>,
    /// Whether it installs updates during the timeline (a few never do).
    pub patches: bool,
}

impl DeviceTruth {
    /// Whether it is in snapshot `s`.
    pub fn is_present_at(&self, s: usize) -> bool {
        self.onboarded <= s && self.retired.is_none_or(|retired| s < retired)
    }

    /// Its group at snapshot `s`.
    pub fn group_at(&self, s: usize) -> Option<&GroupSpan> {
        self.groups
            .iter()
            .rev()
            .find(|g| g.from <= s)
            .or(self.groups.first())
    }
}

/// An installation that changed version between two snapshots (both with the device in the
/// tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeTruth {
    /// Index into [`Truth::devices`].
    pub device: usize,
    /// For example `google`.
    pub software_vendor: &'static str,
    /// For example `chrome`.
    pub software_name: &'static str,
    /// The first snapshot showing the new version.
    pub snapshot: usize,
    /// The version before.
    pub from_version: String,
    /// The version after.
    pub to_version: String,
    /// The releases whose CVEs it fixes, oldest first (KB numbers, or versions): more than one
    /// when the newest release supersedes older ones the device had not installed.
    pub releases: Vec<String>,
    /// The CVE it kept (the same exposure, on the new version), shown in both snapshots.
    pub kept_cve: Option<String>,
}

/// A release of a product: a Patch Tuesday cumulative update, or an application's version.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseTruth {
    /// For example `microsoft`.
    pub software_vendor: &'static str,
    /// For example `windows_11`.
    pub software_name: &'static str,
    /// The version a device runs once it installs it.
    pub version: String,
    /// A cumulative update's KB number.
    pub kb: Option<String>,
    /// The recommended update's text while it is the newest (the KB's title, or
    /// `Update Google Chrome to version …`).
    pub update: String,
    /// When it came out.
    pub released: SystemTime,
    /// The first snapshot at which it is the newest (the snapshot count if after the last).
    pub newest_from: usize,
    /// The cumulative update it supersedes (the one before).
    pub supersedes: Option<String>,
    /// The CVEs it fixes first.
    pub cves: Vec<String>,
}

/// A span closed by a fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix<'t> {
    /// The exposure.
    pub exposure: &'t ExposureTruth,
    /// The span the fix closed.
    pub span: &'t Span,
    /// The snapshot that found it fixed.
    pub snapshot: usize,
    /// Days from the exposure's first-seen time to that snapshot's time (what a store computes
    /// from a `Fixed` row's `eventTimestamp` minus its `firstSeenTimestamp`); for a span after
    /// an undone fix, from the original first-seen time too.
    pub days: f64,
}

/// What one snapshot shows, counted from the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrendPoint {
    /// The snapshot.
    pub snapshot: usize,
    /// Exposures in it.
    pub open: usize,
    /// Devices with at least one.
    pub devices_exposed: usize,
    /// Distinct KBs recommended by its rows (the newest cumulative update of each Windows
    /// product with an open exposure).
    pub kbs_missing: usize,
    /// (device, KB) pairs: devices missing the newest cumulative update of their OS while
    /// exposed through it.
    pub device_kbs_missing: usize,
    /// Open exposures of severity `Critical`.
    pub critical_open: usize,
    /// Open exposures whose exploitability at the snapshot is not `NoExploit`.
    pub exploitable_open: usize,
    /// Exposures first in this snapshot (none counted at snapshot 0).
    pub new: usize,
    /// Exposures back in this snapshot after a fix.
    pub reopened: usize,
    /// Spans fixed by this snapshot.
    pub fixed: usize,
    /// Spans ended by this snapshot because their device left.
    pub retired: usize,
}

/// The timeline's ground truth ([`Timeline::truth`](crate::timeline::Timeline::truth)).
#[derive(Debug, Clone)]
pub struct Truth {
    /// Every device, in the order the rows come in.
    pub devices: Vec<DeviceTruth>,
    /// Every exposure in at least one snapshot, sorted by key (device id, software vendor,
    /// software name, CVE id).
    pub exposures: Vec<ExposureTruth>,
    /// Every version change shown between two snapshots, by device, then software.
    pub upgrades: Vec<UpgradeTruth>,
    /// Every release out by the last snapshot, product by product (Windows first), oldest
    /// first.
    pub releases: Vec<ReleaseTruth>,
    snapshot_ticks: Vec<i64>,
    device_index: BTreeMap<String, usize>,
}

/// An exposure's key.
pub(super) fn exposure_key(e: &ExposureTruth) -> (&str, &str, &str, &str) {
    (&e.device_id, e.software_vendor, e.software_name, &e.cve_id)
}
