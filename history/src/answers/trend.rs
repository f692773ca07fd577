//! The stored snapshots, and the trend: per snapshot, the facts recorded when it was synced.
//! Across tenants, the trend adds up, at each snapshot time, every tenant's latest snapshot by
//! then (new and fixed: the tenants' snapshots since the previous time).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::load::{self, parse_time};
use crate::error::{Doing, Error};
use crate::store::Store;

/// A stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredSnapshot {
    /// The tenant.
    pub tenant: String,
    /// Its time (the export's `generatedTime`).
    pub generated_time: DateTime<Utc>,
    /// `export`, `changes` or `demo`.
    pub source: String,
    /// Rows read.
    pub rows: u64,
    /// Devices in it.
    pub devices: u64,
    /// Open exposures after it.
    pub open_exposures: u64,
}

/// One point of the trend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TrendPoint {
    /// The snapshot's time.
    pub generated_time: DateTime<Utc>,
    /// Open exposures.
    pub open_exposures: u64,
    /// Devices with at least one open exposure.
    pub devices_exposed: u64,
    /// Distinct recommended updates of the open exposures.
    pub kbs_missing: u64,
    /// Open exposures of critical severity.
    pub critical_open: u64,
    /// Open exposures with a known exploit.
    pub exploited_open: u64,
    /// Exposures first seen since the previous snapshot (reopened ones included).
    pub new: u64,
    /// Exposures fixed since the previous snapshot.
    pub fixed: u64,
}

/// The trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trend {
    /// Oldest first.
    pub snapshots: Vec<TrendPoint>,
}

impl Store {
    /// The stored snapshots, oldest first; `tenant` narrows them to one tenant.
    pub fn snapshots(&self, tenant: Option<&str>) -> Result<Vec<StoredSnapshot>, Error> {
        let tenant_id = load::tenant(&self.conn, tenant)?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.name, s.generated_time, s.source, s.rows, s.devices, s.open_exposures
                 FROM snapshots s JOIN tenants t ON t.id = s.tenant
                 WHERE ?1 IS NULL OR s.tenant = ?1 ORDER BY s.at, t.name",
            )
            .doing("reading the snapshots")?;
        let rows = stmt
            .query_map([tenant_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            })
            .doing("reading the snapshots")?;
        let mut out = Vec::new();
        for row in rows {
            let (tenant, time, source, rows, devices, open) = row.doing("reading a snapshot")?;
            out.push(StoredSnapshot {
                tenant,
                generated_time: parse_time(&time)?,
                source,
                rows: rows as u64,
                devices: devices as u64,
                open_exposures: open as u64,
            });
        }
        Ok(out)
    }

    /// The trend, oldest first; `tenant` narrows it to one tenant, else it adds up the tenants.
    pub fn trend(&self, tenant: Option<&str>) -> Result<Trend, Error> {
        let tenant_id = load::tenant(&self.conn, tenant)?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT tenant, generated_time, open_exposures, devices_exposed, kbs_missing,
                        critical_open, exploited_open, new + reopened, fixed
                 FROM snapshots WHERE ?1 IS NULL OR tenant = ?1 ORDER BY at, id",
            )
            .doing("reading the trend")?;
        let rows = stmt
            .query_map([tenant_id], |row| {
                let n = |i: usize| row.get::<_, i64>(i).map(|v| v as u64);
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    [n(2)?, n(3)?, n(4)?, n(5)?, n(6)?, n(7)?, n(8)?],
                ))
            })
            .doing("reading the trend")?;
        // Each tenant's latest facts, and the points in time order.
        let mut latest: BTreeMap<i64, [u64; 5]> = BTreeMap::new();
        let mut points: Vec<TrendPoint> = Vec::new();
        for row in rows {
            let (tenant, time, facts) = row.doing("reading a trend point")?;
            let time = parse_time(&time)?;
            latest.insert(tenant, [facts[0], facts[1], facts[2], facts[3], facts[4]]);
            let mut sum = [0u64; 5];
            for facts in latest.values() {
                for (total, value) in sum.iter_mut().zip(facts) {
                    *total += value;
                }
            }
            let point = match points.last_mut() {
                Some(last) if last.generated_time == time => last,
                _ => {
                    points.push(TrendPoint {
                        generated_time: time,
                        ..TrendPoint::default()
                    });
                    let Some(last) = points.last_mut() else {
                        continue;
                    };
                    last
                }
            };
            point.open_exposures = sum[0];
            point.devices_exposed = sum[1];
            point.kbs_missing = sum[2];
            point.critical_open = sum[3];
            point.exploited_open = sum[4];
            point.new += facts[5];
            point.fixed += facts[6];
        }
        Ok(Trend { snapshots: points })
    }
}
