//! A snapshot from the change feed: the tenant's last snapshot, with what the feed says changed
//! after it. Microsoft's recommended pattern: a full baseline now and then, the feed in between.
//!
//! Changes are taken exposure by exposure, in time order, a `Fixed` and a `New` of the same
//! exposure at the same time meaning it moved (a new version, another device group) and stays
//! open. The point recorded is the newest change's time; what the feed says before the last
//! snapshot (it answers from the start of the 6-hour window `sinceTime` falls in) is already
//! stored and skipped.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::TransactionBehavior;

use super::state::{Ending, Facts, Key, State};
use super::{Source, Summary, Synced, insert_snapshot, last, stored, tenant_id};
use crate::error::{Doing, Error};
use crate::observation::{Change, Happened};
use crate::store::{Store, busy_or};

/// How far back the change feed reaches.
const FEED_REACH: Duration = Duration::days(14);

/// Where an exposure ends up after the changes.
struct Outcome<'c> {
    last: &'c Change<'c>,
    /// When it went, if it did (and whether with its device).
    gone: Option<(DateTime<Utc>, bool)>,
}

impl Store {
    /// The time to ask the change feed from for `tenant` (its last snapshot's), checked
    /// against `now`: refused when the tenant has no snapshot ([`Error::NoBaseline`]) or the
    /// feed does not reach back to it (14 days: [`Error::TooOldForChanges`]), before anything
    /// is called.
    pub fn changes_since(&self, tenant: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
        let found: Option<String> = {
            use rusqlite::OptionalExtension;
            self.conn
                .query_row(
                    "SELECT s.generated_time FROM snapshots s JOIN tenants t ON t.id = s.tenant
                     WHERE t.name = ?1 ORDER BY s.at DESC, s.id DESC LIMIT 1",
                    [tenant],
                    |row| row.get(0),
                )
                .optional()
                .doing("reading the last snapshot")?
        };
        let Some(text) = found else {
            return Err(Error::NoBaseline {
                tenant: tenant.to_string(),
            });
        };
        let last = DateTime::parse_from_rfc3339(&text)
            .map_err(|e| {
                Error::Invalid(format!(
                    "the store holds a snapshot time it cannot read ({text}): {e}"
                ))
            })?
            .with_timezone(&Utc);
        let oldest = now - FEED_REACH;
        if last < oldest {
            return Err(Error::TooOldForChanges {
                tenant: tenant.to_string(),
                last,
                oldest,
            });
        }
        Ok(last)
    }

    /// Records, as one snapshot at the newest change's time, the tenant's last snapshot with
    /// `changes` applied (the feed's rows since [`Store::changes_since`]). One transaction.
    pub fn apply_changes(&mut self, tenant: &str, changes: &[Change<'_>]) -> Result<Synced, Error> {
        let path = self.path().to_path_buf();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| busy_or(&path, e, "starting a sync"))?;
        let tenant_id = tenant_id(&tx, tenant)?;
        let Some(previous) = last(&tx, tenant_id)? else {
            return Err(Error::NoBaseline {
                tenant: tenant.to_string(),
            });
        };
        let mut after: Vec<&Change<'_>> = changes
            .iter()
            .filter(|c| c.at > previous.generated_time)
            .collect();
        let Some(point) = after.iter().map(|c| c.at).max() else {
            return Ok(Synced::NoChanges);
        };
        if stored(&tx, tenant_id, point)? {
            return Ok(Synced::AlreadyStored {
                generated_time: point,
            });
        }
        // Time order; at one time, a `Fixed` before the `New` that replaces it.
        after.sort_by_key(|c| {
            (
                c.at,
                c.happened != Happened::Fixed && c.happened != Happened::Offboarded,
            )
        });
        let snapshot = insert_snapshot(&tx, tenant_id, point, Source::Changes)?;
        let mut state = State::load(
            &tx,
            tenant_id,
            snapshot,
            point.timestamp(),
            Some(previous.at),
        )?;
        // Every device of the last snapshot is still there unless the feed says it left.
        for index in 0..state.devices.len() {
            if state.devices[index].open_span.is_some() {
                state.devices[index].present = true;
            }
        }
        let mut outcomes: HashMap<Key, Outcome<'_>> = HashMap::new();
        let mut offboarded: HashMap<usize, bool> = HashMap::new();
        for change in &after {
            let row = &change.observation;
            let Some(cve) = row.cve_id else { continue };
            let device = match change.happened {
                Happened::New | Happened::Updated => {
                    state.device(&tx, row.device_id, row.device_name, row.rbac_group)?
                }
                Happened::Fixed | Happened::Offboarded => match state.device_index(row.device_id) {
                    Some(device) => device,
                    // A fix on a device the store never had: nothing to close.
                    None => continue,
                },
            };
            match change.happened {
                Happened::Offboarded => {
                    offboarded.insert(device, true);
                }
                Happened::New => {
                    offboarded.insert(device, false);
                }
                _ => {}
            }
            let facts = facts(&state, device, change, cve);
            let key = state.key(&tx, &facts)?;
            let gone = match change.happened {
                Happened::Fixed => Some((change.at, false)),
                Happened::Offboarded => Some((change.at, true)),
                Happened::New | Happened::Updated => None,
            };
            outcomes.insert(key, Outcome { last: change, gone });
        }
        for (key, outcome) in &outcomes {
            match outcome.gone {
                Some((at, with_device)) => {
                    let ending = if with_device {
                        Ending::Retired
                    } else {
                        Ending::Fixed(at.timestamp())
                    };
                    state.close(&tx, *key, ending)?;
                }
                None => {
                    let row = &outcome.last.observation;
                    let cve = row.cve_id.unwrap_or_default();
                    let facts = facts(&state, key.0 as usize, outcome.last, cve);
                    state.present(&tx, *key, &facts)?;
                }
            }
        }
        for (device, left) in offboarded {
            if left {
                state.devices[device].present = false;
                // What the feed did not close of a device that left leaves with it.
                let rest: Vec<Key> = state
                    .open
                    .keys()
                    .filter(|key| key.0 as usize == device)
                    .copied()
                    .collect();
                for key in rest {
                    state.close(&tx, key, Ending::Retired)?;
                }
            }
        }
        state.retire_absent_devices(&tx)?;
        let rows = after.len() as u64;
        state.record(&tx, rows)?;
        let summary = Summary {
            tenant: tenant.to_string(),
            generated_time: point,
            rows,
            open_exposures: state.open.len() as u64,
            counts: state.counts,
        };
        tx.commit().doing("committing the snapshot")?;
        Ok(Synced::Stored(summary))
    }
}

fn facts<'c>(state: &State, device: usize, change: &'c Change<'c>, cve: &'c str) -> Facts<'c> {
    Facts::of(&change.observation, device, cve, state.at)
}
