//! The `snapshots` dataset: one row per stored snapshot, with the facts recorded when it was
//! synced, partitioned by tenant and the snapshot's date (UTC).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field};
use rusqlite::Connection;

use super::writer::{Partitions, parquet_error, text, timestamp};
use crate::answers::load::parse_time;
use crate::error::{Doing, Error};

/// The facts' columns, after `tenant`, `generated_time` and `source`, as the store names them.
const FACTS: [&str; 11] = [
    "rows",
    "devices",
    "open_exposures",
    "devices_exposed",
    "kbs_missing",
    "critical_open",
    "exploited_open",
    "new",
    "fixed",
    "reopened",
    "retired_devices",
];

/// A stored snapshot, as the export writes it.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) id: i64,
    pub(crate) tenant: i64,
    /// The snapshot's time, in microseconds since the epoch.
    pub(crate) micros: i64,
    /// Its date in UTC (`YYYY-MM-DD`): the partition.
    pub(crate) date: String,
    source: String,
    facts: [i64; 11],
}

/// The snapshots of the chosen tenants, in time order per tenant.
pub(crate) fn load(conn: &Connection, tenant: Option<i64>) -> Result<Vec<Snapshot>, Error> {
    let sql = format!(
        "SELECT id, tenant, generated_time, source, {} FROM snapshots
         WHERE ?1 IS NULL OR tenant = ?1 ORDER BY tenant, at, id",
        FACTS.join(", ")
    );
    let mut stmt = conn.prepare(&sql).doing("reading the snapshots")?;
    let mut rows = stmt.query([tenant]).doing("reading the snapshots")?;
    let mut out = Vec::new();
    let read = "reading a snapshot";
    while let Some(row) = rows.next().doing(read)? {
        let time = parse_time(&row.get::<_, String>(2).doing(read)?)?;
        let mut facts = [0i64; 11];
        for (i, fact) in facts.iter_mut().enumerate() {
            *fact = row.get(4 + i).doing(read)?;
        }
        out.push(Snapshot {
            id: row.get(0).doing(read)?,
            tenant: row.get(1).doing(read)?,
            micros: time.timestamp_micros(),
            date: time.format("%Y-%m-%d").to_string(),
            source: row.get(3).doing(read)?,
            facts,
        });
    }
    Ok(out)
}

/// Writes the snapshots under `root` (`…/snapshots`); `names` has each tenant's name and
/// folder (`tenant=…`) by id.
pub(crate) fn write(
    root: PathBuf,
    snapshots: &[Snapshot],
    names: &HashMap<i64, (String, String)>,
) -> Result<Partitions, Error> {
    let mut fields = vec![
        text("tenant", false),
        timestamp("generated_time", false),
        text("source", false),
    ];
    fields.extend(FACTS.iter().map(|f| Field::new(*f, DataType::Int64, false)));
    let mut out = Partitions::new(root, fields);
    let mut start = 0;
    while start < snapshots.len() {
        let first = &snapshots[start];
        let end = snapshots[start..]
            .iter()
            .position(|s| s.tenant != first.tenant || s.date != first.date)
            .map_or(snapshots.len(), |n| start + n);
        let Some((name, segment)) = names.get(&first.tenant) else {
            return Err(Error::Invalid(format!(
                "the store is inconsistent: snapshot {} names tenant {}, which it does not have",
                first.id, first.tenant
            )));
        };
        let batch = batch(&out, name, &snapshots[start..end])?;
        out.write(segment, &first.date, &batch)?;
        start = end;
    }
    out.finish()
}

/// One partition's rows as a batch.
fn batch(out: &Partitions, tenant: &str, rows: &[Snapshot]) -> Result<RecordBatch, Error> {
    let mut tenants = StringBuilder::new();
    let mut times = TimestampMicrosecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
    let mut sources = StringBuilder::new();
    let mut facts: Vec<Int64Builder> = FACTS
        .iter()
        .map(|_| Int64Builder::with_capacity(rows.len()))
        .collect();
    for row in rows {
        tenants.append_value(tenant);
        times.append_value(row.micros);
        sources.append_value(&row.source);
        for (builder, value) in facts.iter_mut().zip(row.facts) {
            builder.append_value(value);
        }
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(tenants.finish()),
        Arc::new(times.finish()),
        Arc::new(sources.finish()),
    ];
    columns.extend(facts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(out.schema(), columns)
        .map_err(|e| parquet_error(&PathBuf::from("snapshots"), e))
}
