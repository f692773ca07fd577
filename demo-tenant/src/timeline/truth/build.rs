//! The truth made from the tenant's histories and the rules' intervals (never from the rows).

use super::{
    DeviceTruth, Ended, ExposureTruth, GroupSpan, ReleaseTruth, Span, Truth, UpgradeTruth,
    exposure_key,
};
use crate::time::Timestamp;
use crate::timeline::catalog::{EXPLOITABILITY, GROUPS, SEVERITIES};
use crate::timeline::rules::{End, Interval};
use crate::timeline::{FIRST_GROUP_ID, Timeline};

impl Timeline {
    /// The first snapshot at or after `tick` (the snapshot count if after the last).
    fn snapshot_from(&self, tick: i64) -> usize {
        self.snapshots.partition_point(|&t| t < tick)
    }

    /// The truth, from the tenant's histories.
    pub(in crate::timeline) fn build_truth(&self) -> Truth {
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
