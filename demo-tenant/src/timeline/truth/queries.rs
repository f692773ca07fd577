//! The questions a history store is asked, answered from the truth: what is open, new,
//! reopened, fixed, retired, moved; days to fix and their percentiles; what is past its
//! deadline; each snapshot's counts.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use super::{DeviceTruth, Ended, ExposureTruth, Fix, Span, TrendPoint, Truth, exposure_key};
use crate::timeline::DAY;
use crate::timeline::catalog::{EXPLOITABILITY, SEVERITIES};

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
