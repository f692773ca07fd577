//! Recording a snapshot: a full one ([`Store::begin_snapshot`], then a row at a time), or the
//! changes since the last one ([`Store::apply_changes`]). Each is one transaction: the store is
//! as it was before, or has the whole snapshot.
//!
//! The rules (the crate's guide tells them in full): an exposure gone while its device is still
//! in the snapshot is **fixed**; gone with its device, **retired**; seen again after a fix,
//! **reopened** (one exposure, a new span); a new version or device group keeps it open.

mod changes;
mod state;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::error::{Doing, Error};
use crate::observation::Observation;
use crate::store::{Store, busy_or};
use state::{Ending, Facts, State};

pub use state::Counts;

/// Where a snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The software vulnerabilities export.
    Export,
    /// The change feed, applied to the previous snapshot.
    Changes,
    /// The demo tenant's timeline, replayed.
    Demo,
}

impl Source {
    /// `export`, `changes` or `demo`, as the store writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Export => "export",
            Source::Changes => "changes",
            Source::Demo => "demo",
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synced {
    /// The snapshot was stored.
    Stored(Summary),
    /// The tenant already has a snapshot of that time: nothing was written.
    AlreadyStored {
        /// The snapshot's time.
        generated_time: DateTime<Utc>,
    },
    /// The change feed had nothing after the last snapshot: nothing was written.
    NoChanges,
}

/// A stored snapshot's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The tenant.
    pub tenant: String,
    /// The snapshot's time.
    pub generated_time: DateTime<Utc>,
    /// Rows read.
    pub rows: u64,
    /// Open exposures after it.
    pub open_exposures: u64,
    /// What changed since the tenant's previous snapshot.
    pub counts: Counts,
}

/// A full snapshot being recorded: [`SnapshotSync::add`] each row, then
/// [`SnapshotSync::commit`]. Dropped without a commit, nothing of it is stored.
pub struct SnapshotSync<'s> {
    tx: Transaction<'s>,
    state: State,
    tenant: String,
    generated_time: DateTime<Utc>,
    rows: u64,
}

impl std::fmt::Debug for SnapshotSync<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotSync")
            .field("tenant", &self.tenant)
            .field("generated_time", &self.generated_time)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// A tenant's last snapshot.
struct Last {
    at: i64,
    generated_time: DateTime<Utc>,
}

impl Store {
    /// Starts recording the snapshot of `tenant` taken at `generated_time` (the export's
    /// `generatedTime`), or `None` when the tenant already has it (the same snapshot is stored
    /// once). Waits for another sync to finish, up to a few seconds, then gives up
    /// ([`Error::Busy`]).
    ///
    /// Refused: a snapshot older than the tenant's last ([`Error::OlderThanLast`]).
    pub fn begin_snapshot(
        &mut self,
        tenant: &str,
        generated_time: DateTime<Utc>,
        source: Source,
    ) -> Result<Option<SnapshotSync<'_>>, Error> {
        let path = self.path().to_path_buf();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| busy_or(&path, e, "starting a sync"))?;
        let tenant_id = tenant_id(&tx, tenant)?;
        if stored(&tx, tenant_id, generated_time)? {
            return Ok(None);
        }
        let last = last(&tx, tenant_id)?;
        if let Some(last) = &last
            && last.generated_time > generated_time
        {
            return Err(Error::OlderThanLast {
                tenant: tenant.to_string(),
                snapshot: generated_time,
                last: last.generated_time,
            });
        }
        let snapshot = insert_snapshot(&tx, tenant_id, generated_time, source)?;
        let state = State::load(
            &tx,
            tenant_id,
            snapshot,
            generated_time.timestamp(),
            last.map(|l| l.at),
        )?;
        Ok(Some(SnapshotSync {
            tx,
            state,
            tenant: tenant.to_string(),
            generated_time,
            rows: 0,
        }))
    }

    /// Records one whole snapshot from its rows, in one transaction: a shorthand for
    /// [`Store::begin_snapshot`], [`SnapshotSync::add`] and [`SnapshotSync::commit`].
    pub fn sync_snapshot<'r>(
        &mut self,
        tenant: &str,
        generated_time: DateTime<Utc>,
        source: Source,
        rows: impl IntoIterator<Item = Observation<'r>>,
    ) -> Result<Synced, Error> {
        let Some(mut sync) = self.begin_snapshot(tenant, generated_time, source)? else {
            return Ok(Synced::AlreadyStored { generated_time });
        };
        for row in rows {
            sync.add(&row)?;
        }
        sync.commit().map(Synced::Stored)
    }
}

impl SnapshotSync<'_> {
    /// Records one row of the snapshot.
    pub fn add(&mut self, row: &Observation<'_>) -> Result<(), Error> {
        self.rows += 1;
        let state = &mut self.state;
        let device = state.device(&self.tx, row.device_id, row.device_name, row.rbac_group)?;
        let Some(cve) = row.cve_id else {
            return Ok(());
        };
        let facts = Facts::of(row, device, cve, state.at);
        let key = state.key(&self.tx, &facts)?;
        state.present(&self.tx, key, &facts)
    }

    /// Rows added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Closes what the snapshot no longer has (fixed, or retired with its device), records the
    /// snapshot's facts and commits.
    pub fn commit(mut self) -> Result<Summary, Error> {
        let state = &mut self.state;
        let gone: Vec<_> = state
            .open
            .iter()
            .filter(|(_, open)| !open.seen)
            .map(|(key, _)| *key)
            .collect();
        for key in gone {
            let ending = if state.devices[key.0 as usize].present {
                Ending::Fixed(state.at)
            } else {
                Ending::Retired
            };
            state.close(&self.tx, key, ending)?;
        }
        state.retire_absent_devices(&self.tx)?;
        state.record(&self.tx, self.rows)?;
        let summary = Summary {
            tenant: self.tenant,
            generated_time: self.generated_time,
            rows: self.rows,
            open_exposures: state.open.len() as u64,
            counts: state.counts,
        };
        self.tx.commit().doing("committing the snapshot")?;
        Ok(summary)
    }
}

/// The tenant's id, added when new.
fn tenant_id(tx: &Transaction<'_>, tenant: &str) -> Result<i64, Error> {
    tx.execute("INSERT OR IGNORE INTO tenants (name) VALUES (?1)", [tenant])
        .doing("adding the tenant")?;
    tx.query_row("SELECT id FROM tenants WHERE name = ?1", [tenant], |row| {
        row.get(0)
    })
    .doing("reading the tenant")
}

/// `generated_time` as the store writes it.
pub(crate) fn time_text(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn stored(tx: &Transaction<'_>, tenant: i64, generated_time: DateTime<Utc>) -> Result<bool, Error> {
    tx.query_row(
        "SELECT 1 FROM snapshots WHERE tenant = ?1 AND generated_time = ?2",
        params![tenant, time_text(generated_time)],
        |_| Ok(()),
    )
    .optional()
    .doing("looking for the snapshot")
    .map(|found| found.is_some())
}

fn last(tx: &Transaction<'_>, tenant: i64) -> Result<Option<Last>, Error> {
    let found: Option<(i64, String)> = tx
        .query_row(
            "SELECT at, generated_time FROM snapshots WHERE tenant = ?1 ORDER BY at DESC, id DESC LIMIT 1",
            [tenant],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .doing("reading the last snapshot")?;
    let Some((at, text)) = found else {
        return Ok(None);
    };
    let generated_time = DateTime::parse_from_rfc3339(&text)
        .map_err(|e| {
            Error::Invalid(format!(
                "the store holds a snapshot time it cannot read ({text}): {e}"
            ))
        })?
        .with_timezone(&Utc);
    Ok(Some(Last { at, generated_time }))
}

fn insert_snapshot(
    tx: &Transaction<'_>,
    tenant: i64,
    generated_time: DateTime<Utc>,
    source: Source,
) -> Result<i64, Error> {
    tx.execute(
        "INSERT INTO snapshots (tenant, generated_time, at, source, synced_at, rows, devices,
             open_exposures, devices_exposed, kbs_missing, critical_open, exploited_open, new,
             fixed, reopened, retired_devices)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
        params![
            tenant,
            time_text(generated_time),
            generated_time.timestamp(),
            source.as_str(),
            Utc::now().timestamp()
        ],
    )
    .doing("adding the snapshot")?;
    Ok(tx.last_insert_rowid())
}
