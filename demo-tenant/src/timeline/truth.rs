//! The timeline's ground truth: the events as data, made from the tenant's histories by the
//! rules (never from the rows), for tests to compare a history store with.
//!
//! Snapshot indexes throughout: an exposure's span is opened at the first snapshot it is in
//! and closed at the first snapshot it is no longer in (fixed, or its device retired); a
//! device is onboarded at the first snapshot it is in and retired at the first it is absent
//! from. "Between `a` and `b`" means found by the snapshots `a + 1` to `b`, as the change feed
//! over them ([`Timeline::changes`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use super::catalog::{EXPLOITABILITY, GROUPS, SEVERITIES};
use super::rules::{End, Interval};
use super::{DAY, FIRST_GROUP_ID, Timeline};
use crate::time::Timestamp;

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

/// The timeline's ground truth ([`Timeline::truth`]).
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

/// The nearest-rank percentile of sorted values (`fraction` 0.5 for the median, 0.9 for the
/// 90th): the smallest value at least `fraction` of the values are at most. None when empty.
pub fn percentile(sorted: &[f64], fraction: f64) -> Option<f64> {
    let rank = (fraction.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied()
}

impl Truth {
    /// How many snapshots.
    pub fn snapshots(&self) -> usize {
        self.snapshot_ticks.len()
    }

    /// The time of snapshot `s` (`generatedTime`).
    pub fn snapshot_time(&self, s: usize) -> SystemTime {
        crate::time::system_time(self.snapshot_ticks.get(s).copied().unwrap_or_default())
    }

    /// A device by id.
    pub fn device(&self, id: &str) -> Option<&DeviceTruth> {
        self.device_index.get(id).map(|&d| &self.devices[d])
    }

    /// An exposure by its key.
    pub fn exposure(
        &self,
        device_id: &str,
        software_vendor: &str,
        software_name: &str,
        cve_id: &str,
    ) -> Option<&ExposureTruth> {
        let key = (device_id, software_vendor, software_name, cve_id);
        self.exposures
            .binary_search_by(|e| exposure_key(e).cmp(&key))
            .ok()
            .map(|i| &self.exposures[i])
    }

    /// The exposures in snapshot `s`.
    pub fn open_at(&self, s: usize) -> impl Iterator<Item = &ExposureTruth> + '_ {
        self.exposures.iter().filter(move |e| e.is_open_at(s))
    }

    /// The exposures first seen in a snapshot after `a` up to `b` (their first span opened
    /// then; a device's exposures are new when it is onboarded).
    pub fn new_between(&self, a: usize, b: usize) -> Vec<&ExposureTruth> {
        self.exposures
            .iter()
            .filter(|e| {
                e.spans
                    .first()
                    .is_some_and(|s| a < s.opened && s.opened <= b)
            })
            .collect()
    }

    /// The exposures back after a fix in a snapshot after `a` up to `b`, with the span that
    /// opened then.
    pub fn reopened_between(&self, a: usize, b: usize) -> Vec<(&ExposureTruth, &Span)> {
        self.exposures
            .iter()
            .flat_map(|e| e.spans.iter().skip(1).map(move |span| (e, span)))
            .filter(|(_, span)| a < span.opened && span.opened <= b)
            .collect()
    }

    /// The spans closed by `why` in a snapshot after `a` up to `b`, with that snapshot.
    fn closed_between(
        &self,
        a: usize,
        b: usize,
        why: Ended,
    ) -> impl Iterator<Item = (&ExposureTruth, &Span, usize)> + '_ {
        self.exposures.iter().flat_map(move |e| {
            e.spans.iter().filter_map(move |span| match span.closed {
                Some((at, ended)) if ended == why && a < at && at <= b => Some((e, span, at)),
                _ => None,
            })
        })
    }

    /// The fixes found in a snapshot after `a` up to `b`, with their days to fix.
    pub fn fixed_between(&self, a: usize, b: usize) -> Vec<Fix<'_>> {
        self.closed_between(a, b, Ended::Fixed)
            .map(|(exposure, span, snapshot)| Fix {
                exposure,
                span,
                snapshot,
                days: self.age_days(exposure, snapshot),
            })
            .collect()
    }

    /// The spans ended in a snapshot after `a` up to `b` because their device left.
    pub fn retired_between(&self, a: usize, b: usize) -> Vec<(&ExposureTruth, &Span)> {
        self.closed_between(a, b, Ended::Retired)
            .map(|(e, span, _)| (e, span))
            .collect()
    }

    /// The devices retired (first absent) in a snapshot after `a` up to `b`.
    pub fn retired_devices_between(&self, a: usize, b: usize) -> Vec<&DeviceTruth> {
        self.devices
            .iter()
            .filter(|d| d.retired.is_some_and(|r| a < r && r <= b))
            .collect()
    }

    /// The devices onboarded (first present) in a snapshot after `a` up to `b`.
    pub fn onboarded_devices_between(&self, a: usize, b: usize) -> Vec<&DeviceTruth> {
        self.devices
            .iter()
            .filter(|d| a < d.onboarded && d.onboarded <= b)
            .collect()
    }

    /// The devices in another group from a snapshot after `a` up to `b` on.
    pub fn moved_devices_between(&self, a: usize, b: usize) -> Vec<&DeviceTruth> {
        self.devices
            .iter()
            .filter(|d| d.groups.iter().skip(1).any(|g| a < g.from && g.from <= b))
            .collect()
    }

    /// Days from an exposure's first-seen time to snapshot `s`'s time.
    pub fn age_days(&self, exposure: &ExposureTruth, s: usize) -> f64 {
        let at = self.snapshot_ticks.get(s).copied().unwrap_or_default();
        (at - exposure.first_seen.ticks()) as f64 / DAY as f64
    }

    /// The days to fix of the fixes found after `a` up to `b` (of one severity, or all),
    /// sorted: take [`percentile`] of them for the median or the 90th percentile.
    pub fn days_to_fix(&self, severity: Option<&str>, a: usize, b: usize) -> Vec<f64> {
        let mut days: Vec<f64> = self
            .fixed_between(a, b)
            .into_iter()
            .filter(|fix| severity.is_none_or(|s| fix.exposure.severity == s))
            .map(|fix| fix.days)
            .collect();
        days.sort_by(f64::total_cmp);
        days
    }

    /// The exposures in snapshot `s` older there than their severity's deadline in days
    /// (`sla("Critical")` → 15.0, for example): age strictly more than the deadline.
    pub fn open_past_sla(&self, s: usize, sla: impl Fn(&str) -> f64) -> Vec<&ExposureTruth> {
        self.open_at(s)
            .filter(|e| self.age_days(e, s) > sla(e.severity))
            .collect()
    }

    /// The KB number a Windows product's rows recommend at snapshot `s` (its newest cumulative
    /// update then); none for an application.
    pub fn recommended_kb(
        &self,
        software_vendor: &str,
        software_name: &str,
        s: usize,
    ) -> Option<&str> {
        self.releases
            .iter()
            .rfind(|r| {
                r.software_vendor == software_vendor
                    && r.software_name == software_name
                    && r.newest_from <= s
            })
            .and_then(|r| r.kb.as_deref())
    }

    /// What snapshot `s` shows.
    pub fn trend(&self, s: usize) -> TrendPoint {
        let mut point = TrendPoint {
            snapshot: s,
            ..TrendPoint::default()
        };
        let mut devices = BTreeSet::new();
        let mut kbs = BTreeSet::new();
        let mut device_kbs = BTreeSet::new();
        let mut recommended: BTreeMap<(&str, &str), Option<&str>> = BTreeMap::new();
        for e in self.open_at(s) {
            point.open += 1;
            devices.insert(e.device);
            let kb = *recommended
                .entry((e.software_vendor, e.software_name))
                .or_insert_with(|| self.recommended_kb(e.software_vendor, e.software_name, s));
            if let Some(kb) = kb {
                kbs.insert(kb);
                device_kbs.insert((e.device, kb));
            }
            point.critical_open += usize::from(e.severity == SEVERITIES[0].0);
            point.exploitable_open += usize::from(e.exploitability_at(s) != EXPLOITABILITY[0]);
        }
        point.devices_exposed = devices.len();
        point.kbs_missing = kbs.len();
        point.device_kbs_missing = device_kbs.len();
        if s > 0 {
            point.new = self.new_between(s - 1, s).len();
            point.reopened = self.reopened_between(s - 1, s).len();
            point.fixed = self.closed_between(s - 1, s, Ended::Fixed).count();
            point.retired = self.closed_between(s - 1, s, Ended::Retired).count();
        }
        point
    }

    /// What every snapshot shows, oldest first.
    pub fn trends(&self) -> Vec<TrendPoint> {
        (0..self.snapshots()).map(|s| self.trend(s)).collect()
    }
}

/// An exposure's key.
fn exposure_key(e: &ExposureTruth) -> (&str, &str, &str, &str) {
    (&e.device_id, e.software_vendor, e.software_name, &e.cve_id)
}

impl Timeline {
    /// The first snapshot at or after `tick` (the snapshot count if after the last).
    fn snapshot_from(&self, tick: i64) -> usize {
        self.snapshots.partition_point(|&t| t < tick)
    }

    /// The truth, from the tenant's histories.
    pub(super) fn build_truth(&self) -> Truth {
        let devices: Vec<DeviceTruth> = self
            .tenant
            .devices
            .iter()
            .map(|d| {
                let group = |from: usize, g: usize| GroupSpan {
                    from,
                    name: GROUPS[g].0,
                    id: FIRST_GROUP_ID + g as i64,
                };
                let onboarded = self.snapshot_from(d.onboarded);
                let os = &self.tenant.installations[d.installations.start as usize];
                let mut groups = vec![group(onboarded, d.group)];
                groups.extend(d.moved.map(|(at, g)| group(self.snapshot_from(at), g)));
                DeviceTruth {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    os_platform: self.world.products[os.product as usize]
                        .platform
                        .unwrap_or("Windows"),
                    groups,
                    onboarded,
                    retired: d.retired.map(|r| self.snapshot_from(r)),
                    patches: d.patches,
                }
            })
            .collect();
        let mut exposures = Vec::new();
        let mut upgrades = Vec::new();
        for i in 0..self.tenant.installations.len() {
            self.exposures_of(i, &mut exposures);
            self.upgrades_of(i, &mut upgrades);
        }
        exposures.sort_by(|a, b| exposure_key(a).cmp(&exposure_key(b)));
        let device_index = devices
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i))
            .collect();
        Truth {
            devices,
            exposures,
            upgrades,
            releases: self.releases_truth(),
            snapshot_ticks: self.snapshots.clone(),
            device_index,
        }
    }

    /// Pushes the exposures of installation `i` that show in a snapshot.
    fn exposures_of(&self, i: usize, exposures: &mut Vec<ExposureTruth>) {
        let installation = &self.tenant.installations[i];
        let device = installation.device as usize;
        let product = &self.world.products[installation.product as usize];
        let intervals = self.intervals(i);
        // An exposure's intervals come one after the other.
        for group in intervals.chunk_by(|a, b| a.open.cve == b.open.cve) {
            let spans: Vec<Span> = group
                .iter()
                .filter_map(|interval| self.span_of(interval))
                .collect();
            let Some(first) = group.first() else { continue };
            if spans.is_empty() {
                continue;
            }
            let cve = &self.world.cves[first.open.cve as usize];
            let release = &product.releases[first.open.release as usize];
            exposures.push(ExposureTruth {
                device,
                device_id: self.tenant.devices[device].id.clone(),
                software_vendor: product.vendor,
                software_name: product.name,
                cve_id: cve.id.clone(),
                severity: SEVERITIES[cve.severity].0,
                cvss: cve.cvss,
                first_seen: Timestamp::from_ticks(
                    first.open.first_seen,
                    self.whole_second(i, first.open.cve),
                ),
                fixed_by: release
                    .kb
                    .clone()
                    .unwrap_or_else(|| release.version.clone()),
                exploitability: EXPLOITABILITY[cve.exploit],
                exploitability_rise: cve
                    .escalation
                    .map(|(at, level)| (self.snapshot_from(at), EXPLOITABILITY[level])),
                spans,
            });
        }
    }

    /// An interval as the snapshots show it, if any does.
    fn span_of(&self, interval: &Interval) -> Option<Span> {
        let opened = self.snapshot_from(interval.from);
        let closed = interval.to.and_then(|(at, end)| {
            let closed = self.snapshot_from(at);
            let ended = match end {
                End::Fixed => Ended::Fixed,
                End::Retired => Ended::Retired,
            };
            (closed < self.snapshots.len()).then_some((closed, ended))
        });
        let shown = opened < self.snapshots.len() && closed.is_none_or(|(c, _)| opened < c);
        shown.then_some(Span { opened, closed })
    }

    /// Pushes the version changes of installation `i` shown between two snapshots.
    fn upgrades_of(&self, i: usize, upgrades: &mut Vec<UpgradeTruth>) {
        let installation = &self.tenant.installations[i];
        let device = &self.tenant.devices[installation.device as usize];
        let product = &self.world.products[installation.product as usize];
        let history = self.history(i);
        for k in 1..history.len() {
            let s = self.snapshot_from(history[k].tick);
            if s == 0 || s >= self.snapshots.len() {
                continue;
            }
            let (before, after) = (self.snapshots[s - 1], self.snapshots[s]);
            if !device.present_at(before) || !device.present_at(after) {
                continue;
            }
            let (from, to) = (history[k - 1].release as usize, history[k].release as usize);
            let name = |j: usize| {
                let release = &product.releases[j];
                release
                    .kb
                    .clone()
                    .unwrap_or_else(|| release.version.clone())
            };
            let kept_cve = self.kept(i, k).filter(|&(_, j)| {
                let first_seen = self.first_seen(i, j as usize);
                let next = history.get(k + 1).map(|u| u.tick);
                first_seen <= before && next.is_none_or(|n| n > after)
            });
            upgrades.push(UpgradeTruth {
                device: installation.device as usize,
                software_vendor: product.vendor,
                software_name: product.name,
                snapshot: s,
                from_version: product.releases[from].version.clone(),
                to_version: product.releases[to].version.clone(),
                releases: (from + 1..=to).map(name).collect(),
                kept_cve: kept_cve.map(|(cve, _)| self.world.cves[cve as usize].id.clone()),
            });
        }
    }

    /// Every release out by the last snapshot.
    fn releases_truth(&self) -> Vec<ReleaseTruth> {
        let last = self.last_tick();
        let mut releases = Vec::new();
        for product in &self.world.products {
            let mut before: Option<&String> = None;
            for release in product.releases.iter().take_while(|r| r.tick <= last) {
                releases.push(ReleaseTruth {
                    software_vendor: product.vendor,
                    software_name: product.name,
                    version: release.version.clone(),
                    kb: release.kb.clone(),
                    update: release.update.clone(),
                    released: crate::time::system_time(release.tick),
                    newest_from: self.snapshot_from(release.tick),
                    supersedes: before.filter(|_| release.kb.is_some()).cloned(),
                    cves: release
                        .cves
                        .iter()
                        .map(|&c| self.world.cves[c as usize].id.clone())
                        .collect(),
                });
                before = release.kb.as_ref();
            }
        }
        releases
    }
}
