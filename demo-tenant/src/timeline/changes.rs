//! The change feed (`SoftwareVulnerabilityChangesByMachine`), as the service computes it: each
//! finished snapshot compares itself with the one before, and every change it finds carries
//! the snapshot's `generatedTime` as its `eventTimestamp`. Between snapshot `s - 1` and `s`,
//! device by device, installation by installation, CVE by CVE:
//! - a CVE row only in `s - 1`: `Fixed`, the row as it was (old version, old group);
//!   `isOnboarded` is `false` when the device left the tenant (retired), else `true`;
//! - a CVE row only in `s`: `New`;
//! - in both, on another version or in another group: `Fixed` (the old row) then `New` (the new
//!   one), both with the exposure's original `firstSeenTimestamp`;
//! - in both, same version and group, with another recommended update (a new cumulative update
//!   or application release) or exploitability: `Updated` (the new row).
//!
//! Rows without a CVE are never in the feed. So applying the changes of snapshots `a + 1` to
//! `b`, in order, to the CVE rows of snapshot `a` gives the CVE rows of `b`.

use std::time::SystemTime;

use super::rows::{DeviceAt, TimelineRow};
use super::{Case, ChangeStatus, Timeline};

/// One row of the change feed: a vulnerability row, what happened to it and when. Serialised
/// as the service writes `SoftwareVulnerabilityChangesByMachine` rows: the row's keys, then
/// `status`, `eventTimestamp` (ISO 8601, as `generatedTime`) and `isOnboarded`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineChange<'a> {
    /// The row as it is (`New`, `Updated`) or was in the snapshot before (`Fixed`).
    pub row: TimelineRow<'a>,
    /// What happened.
    pub status: ChangeStatus,
    /// The snapshot that found the change (the row's snapshot for `New` and `Updated`, the one
    /// after the row's for `Fixed`).
    pub snapshot: usize,
    /// That snapshot's time: the change's `eventTimestamp`.
    pub event_time: SystemTime,
    /// `false` on the `Fixed` rows of a device that left the tenant, else `true`.
    pub is_onboarded: bool,
}

impl TimelineChange<'_> {
    /// `eventTimestamp` as the service writes it: `2026-10-14T06:00:00Z`.
    pub fn event_timestamp(&self) -> String {
        crate::time::rfc3339(crate::time::ticks_of(self.event_time))
    }

    /// The change as the JSON pages write it: one object, camelCase keys.
    pub fn to_json(&self) -> String {
        self.to_json_line(Case::Camel)
    }

    /// The change as one JSON line with the keys of `case` (without the line's newline).
    pub fn to_json_line(&self, case: Case) -> String {
        super::serialize::to_json(self, case)
    }
}

impl Timeline {
    /// The change feed over snapshots `after + 1` to `through` (clamped to the last): what
    /// each of them found changed since the one before, snapshot by snapshot, device by device.
    /// Streams; [`changes`](Self::changes) collects it.
    pub fn changes_iter(
        &self,
        after: usize,
        through: usize,
    ) -> impl Iterator<Item = TimelineChange<'_>> + '_ {
        let through = through.min(self.snapshots.len().saturating_sub(1));
        (after.saturating_add(1)..=through).flat_map(move |s| {
            (0..self.tenant.devices.len()).flat_map(move |d| self.device_changes(d, s))
        })
    }

    /// The changes device `d` shows at snapshot `s` (at least 1) since the one before.
    fn device_changes<'t>(&'t self, d: usize, s: usize) -> Vec<TimelineChange<'t>> {
        let (before, now) = (self.device_at(d, s - 1), self.device_at(d, s));
        let Some(device) = before.or(now).map(|at| at.device) else {
            return Vec::new();
        };
        let event_time = self.snapshot_time(s);
        let mut changes = Vec::new();
        let change = |row: TimelineRow<'t>, status, is_onboarded| TimelineChange {
            row,
            status,
            snapshot: s,
            event_time,
            is_onboarded,
        };
        let installations = device.installations.clone();
        for i in installations.start as usize..installations.end as usize {
            let state = |at: &Option<DeviceAt<'_>>| {
                at.as_ref()
                    .map(|at| self.state_at(at, i))
                    .unwrap_or_default()
            };
            let (old, new) = (state(&before), state(&now));
            let (mut o, mut n) = (0, 0);
            while o < old.open.len() || n < new.open.len() {
                let (was, is) = (old.open.get(o), new.open.get(n));
                match (was, is) {
                    (Some(was), Some(is)) if was.cve == is.cve => {
                        let (Some(b), Some(a)) = (&before, &now) else {
                            break;
                        };
                        if old.release != new.release || b.group != a.group {
                            let fixed = self.cve_row(b, i, old.release, was);
                            changes.push(change(fixed, ChangeStatus::Fixed, true));
                            let row = self.cve_row(a, i, new.release, is);
                            changes.push(change(row, ChangeStatus::New, true));
                        } else if self.updated(i, b, a, is.cve) {
                            let row = self.cve_row(a, i, new.release, is);
                            changes.push(change(row, ChangeStatus::Updated, true));
                        }
                        o += 1;
                        n += 1;
                    }
                    (Some(was), other) if other.is_none_or(|is| was.cve < is.cve) => {
                        if let Some(b) = &before {
                            let row = self.cve_row(b, i, old.release, was);
                            changes.push(change(row, ChangeStatus::Fixed, now.is_some()));
                        }
                        o += 1;
                    }
                    (_, Some(is)) => {
                        if let Some(a) = &now {
                            let row = self.cve_row(a, i, new.release, is);
                            changes.push(change(row, ChangeStatus::New, true));
                        }
                        n += 1;
                    }
                    (_, None) => break,
                }
            }
        }
        changes
    }

    /// Whether installation `i`'s exposure to `cve`, in both snapshots on the same version and
    /// group, shows another recommended update or exploitability at `now` than at `before`.
    fn updated(&self, i: usize, before: &DeviceAt<'_>, now: &DeviceAt<'_>, cve: u32) -> bool {
        let product = self.tenant.installations[i].product as usize;
        let cve = &self.world.cves[cve as usize];
        self.latest[before.snapshot][product] != self.latest[now.snapshot][product]
            || cve.exploit_at(before.tick) != cve.exploit_at(now.tick)
    }
}
