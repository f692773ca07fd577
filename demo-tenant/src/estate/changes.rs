//! The estate's change history over the 14 days before its snapshot time
//! (`SoftwareVulnerabilityChangesByMachine`), deterministic from the seed like everything else:
//! - `New`: a current vulnerability row first seen within the 14 days, at its first-seen time;
//! - `Updated`: 3% of the older current rows, at a time within the 14 days;
//! - `Fixed`: vulnerabilities an installation had and no longer has (so they are not current
//!   rows): 5% of the (installation, KB it does not miss) pairs had the KB missing and installed
//!   it within the 14 days (one row per CVE of the KB for the installation's software), and 5% of
//!   the installations on a newer version of a third-party product were on its oldest version
//!   until then (one row per CVE of that version, at the old version).
//!
//! Events come installation by installation: its current rows' events first, then its fixes.

use std::time::{Duration, SystemTime};

use super::Estate;
use super::rows::{DAY, VulnerabilityRow, mix, salt, span, unit};
use crate::time::{Timestamp, ticks_of};

/// How far back the change history goes from the snapshot time (the service's limit for
/// `sinceTime`): 14 days.
pub const CHANGE_HISTORY: Duration = Duration::from_secs(14 * 24 * 3600);

const HISTORY: i64 = 14 * DAY;
const UPDATED_SHARE: f64 = 0.03;
const FIXED_SHARE: f64 = 0.05;

/// What happened to a vulnerability on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeStatus {
    /// It appeared.
    New,
    /// It went away (the row is no longer in the snapshot).
    Fixed,
    /// Something about it changed.
    Updated,
}

impl ChangeStatus {
    /// `New`, `Fixed` or `Updated`, as the service writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeStatus::New => "New",
            ChangeStatus::Fixed => "Fixed",
            ChangeStatus::Updated => "Updated",
        }
    }
}

/// One row of the vulnerability changes (`SoftwareVulnerabilityChangesByMachine`): the
/// vulnerability row's fields plus `status` and `eventTimestamp`.
#[derive(Debug, Clone, PartialEq)]
pub struct VulnerabilityChange<'a> {
    /// The vulnerability as it is (`New`, `Updated`) or was (`Fixed`: its version is the one the
    /// device had, its `lastSeenTimestamp` the time of the fix).
    pub row: VulnerabilityRow<'a>,
    /// What happened.
    pub status: ChangeStatus,
    /// When.
    pub event_timestamp: Timestamp,
}

/// One change, before its row is made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChangeEvent {
    installation: usize,
    cve: usize,
    version: usize,
    status: ChangeStatus,
    first_seen: Timestamp,
    last_seen: Timestamp,
    event: Timestamp,
}

impl Estate {
    /// The changes whose event is at or after `since`, within the 14 days
    /// ([`CHANGE_HISTORY`]) before the snapshot time, in the order the API serves them.
    pub fn changes(&self, since: SystemTime) -> impl Iterator<Item = VulnerabilityChange<'_>> + '_ {
        self.change_events(ticks_of(since))
            .map(move |event| self.change_row(&event))
    }

    /// The changes at or after `since` (ticks), before their rows are made.
    pub(crate) fn change_events(&self, since: i64) -> impl Iterator<Item = ChangeEvent> + '_ {
        (0..self.installations.len())
            .flat_map(move |i| self.installation_changes(i))
            .filter(move |event| event.event.ticks() >= since)
    }

    /// The row of a change.
    pub(crate) fn change_row(&self, event: &ChangeEvent) -> VulnerabilityChange<'_> {
        VulnerabilityChange {
            row: self.vulnerability_row(
                event.installation,
                event.cve,
                event.version,
                event.first_seen,
                event.last_seen,
            ),
            status: event.status,
            event_timestamp: event.event,
        }
    }

    fn installation_changes(&self, i: usize) -> impl Iterator<Item = ChangeEvent> + '_ {
        let seed = self.seed;
        let installation = &self.installations[i];
        let software = installation.software;
        let window = self.snapshot_ticks() - HISTORY;
        let current = installation.exposed.iter().filter_map(move |&cve| {
            let (first_seen, last_seen) = self.current_times(i, cve);
            let (status, event) = if first_seen.ticks() >= window {
                (ChangeStatus::New, first_seen.ticks())
            } else {
                let hash = mix(seed, salt::UPDATED, i as u64, cve as u64);
                if unit(hash) >= UPDATED_SHARE {
                    return None;
                }
                let at = window + span(mix(hash, 0, 0, 0), last_seen.ticks() - window);
                (ChangeStatus::Updated, at)
            };
            Some(ChangeEvent {
                installation: i,
                cve,
                version: installation.version,
                status,
                first_seen,
                last_seen,
                event: Timestamp::from_ticks(event, first_seen.is_whole_second()),
            })
        });
        let kbs_fixed = self.kbs_of[software]
            .iter()
            .copied()
            .filter(move |k| !installation.missing_kbs.contains(k))
            .filter_map(move |k| {
                let hash = mix(seed, salt::FIXED_KB, i as u64, k as u64);
                (unit(hash) < FIXED_SHARE).then(|| (k, window + span(mix(hash, 0, 0, 0), HISTORY)))
            })
            .flat_map(move |(k, at)| {
                self.kbs[k]
                    .cves
                    .iter()
                    .copied()
                    .filter(move |&c| self.cves[c].software == software)
                    .map(move |c| self.fixed(i, c, installation.version, at))
            });
        let versions = self.software[software].versions.len();
        let hash = mix(seed, salt::FIXED_VERSION, i as u64, 0);
        let updated_from_oldest =
            (installation.version != 0 && versions > 1 && unit(hash) < FIXED_SHARE)
                .then(|| window + span(mix(hash, 0, 0, 0), HISTORY));
        let version_fixed = updated_from_oldest.into_iter().flat_map(move |at| {
            self.cves_without_kb[software]
                .iter()
                .map(move |&c| self.fixed(i, c, 0, at))
        });
        current.chain(kbs_fixed).chain(version_fixed)
    }

    /// Installation `i` stopped being exposed to `cve` (at `version`) at `at`.
    fn fixed(&self, i: usize, cve: usize, version: usize, at: i64) -> ChangeEvent {
        let whole = self.whole_second(i, cve);
        let ago = DAY
            + span(
                mix(self.seed, salt::FIXED_FIRST_SEEN, i as u64, cve as u64),
                89 * DAY,
            );
        let event = Timestamp::from_ticks(at, whole);
        ChangeEvent {
            installation: i,
            cve,
            version,
            status: ChangeStatus::Fixed,
            first_seen: Timestamp::from_ticks(at - ago, whole),
            last_seen: event,
            event,
        }
    }
}
