//! The `exposures` dataset: one row per span of an exposure (open from a snapshot until the
//! first snapshot without it), with the exposure's names, partitioned by tenant and the date
//! (UTC) of the snapshot that opened the span. Rows are read from the store in partition order
//! and written a batch at a time, so memory stays flat however large the store.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field};
use rusqlite::{Connection, Row};

use super::snapshots::Snapshot;
use super::writer::{Partitions, parquet_error, text, timestamp};
use crate::error::{Doing, Error};

/// Rows per batch handed to the writer.
const BATCH: usize = 64 * 1024;

/// Every span of the chosen tenants, in partition order (tenant, then the opening snapshot),
/// with whether the span before it ended fixed.
const SPANS: &str = "
SELECT d.tenant, d.device_id, d.name, d.rbac_group, s.vendor, s.name, v.version, c.cve_id,
       c.severity, c.exploited, e.kb, e.first_seen, sp.opened, sp.closed, sp.ended,
       sp.fixed_after, sp.fixed_at,
       coalesce((SELECT p.ended FROM spans p
                 WHERE p.exposure = sp.exposure AND p.opened < sp.opened
                 ORDER BY p.opened DESC LIMIT 1) = 'fixed', 0)
FROM spans sp
JOIN exposures e ON e.id = sp.exposure
JOIN devices d ON d.id = e.device
JOIN software s ON s.id = e.software
JOIN cves c ON c.id = e.cve
LEFT JOIN versions v ON v.id = e.version
WHERE ?1 IS NULL OR d.tenant = ?1
ORDER BY d.tenant, sp.opened, sp.exposure";

/// The columns.
fn fields() -> Vec<Field> {
    vec![
        text("tenant", false),
        text("device_id", false),
        text("device_name", true),
        text("rbac_group", true),
        text("software_vendor", false),
        text("software_name", false),
        text("software_version", true),
        text("cve_id", false),
        text("severity", true),
        Field::new("exploited", DataType::Boolean, false),
        text("kb", true),
        timestamp("first_seen", false),
        timestamp("opened_at", false),
        timestamp("closed_at", true),
        text("ended", true),
        timestamp("fixed_after", true),
        timestamp("fixed_at", true),
        Field::new("reopened", DataType::Boolean, false),
    ]
}

/// The columns being filled for one batch.
struct Columns {
    tenant: StringBuilder,
    device_id: StringBuilder,
    device_name: StringBuilder,
    rbac_group: StringBuilder,
    software_vendor: StringBuilder,
    software_name: StringBuilder,
    software_version: StringBuilder,
    cve_id: StringBuilder,
    severity: StringBuilder,
    exploited: BooleanBuilder,
    kb: StringBuilder,
    first_seen: TimestampMicrosecondBuilder,
    opened_at: TimestampMicrosecondBuilder,
    closed_at: TimestampMicrosecondBuilder,
    ended: StringBuilder,
    fixed_after: TimestampMicrosecondBuilder,
    fixed_at: TimestampMicrosecondBuilder,
    reopened: BooleanBuilder,
    rows: usize,
}

fn time_column() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

impl Columns {
    fn new() -> Columns {
        Columns {
            tenant: StringBuilder::new(),
            device_id: StringBuilder::new(),
            device_name: StringBuilder::new(),
            rbac_group: StringBuilder::new(),
            software_vendor: StringBuilder::new(),
            software_name: StringBuilder::new(),
            software_version: StringBuilder::new(),
            cve_id: StringBuilder::new(),
            severity: StringBuilder::new(),
            exploited: BooleanBuilder::new(),
            kb: StringBuilder::new(),
            first_seen: time_column(),
            opened_at: time_column(),
            closed_at: time_column(),
            ended: StringBuilder::new(),
            fixed_after: time_column(),
            fixed_at: time_column(),
            reopened: BooleanBuilder::new(),
            rows: 0,
        }
    }

    /// Adds the span `row` of the query (its snapshots' times looked up in `times`).
    fn push(
        &mut self,
        tenant: &str,
        row: &Row<'_>,
        times: &HashMap<i64, &Snapshot>,
    ) -> Result<(), Error> {
        let read = "reading a span";
        let text = |i: usize| row.get::<_, Option<String>>(i).doing(read);
        let seconds = |i: usize| -> Result<Option<i64>, Error> {
            row.get::<_, Option<i64>>(i)
                .doing(read)?
                .map(micros)
                .transpose()
        };
        self.tenant.append_value(tenant);
        self.device_id.append_option(text(1)?);
        self.device_name.append_option(text(2)?);
        self.rbac_group.append_option(text(3)?);
        self.software_vendor.append_option(text(4)?);
        self.software_name.append_option(text(5)?);
        self.software_version.append_option(text(6)?);
        self.cve_id.append_option(text(7)?);
        self.severity.append_option(text(8)?);
        self.exploited
            .append_value(row.get::<_, i64>(9).doing(read)? != 0);
        self.kb.append_option(text(10)?);
        self.first_seen.append_option(seconds(11)?);
        let opened: i64 = row.get(12).doing(read)?;
        self.opened_at.append_value(snapshot(times, opened)?.micros);
        let closed = match row.get::<_, Option<i64>>(13).doing(read)? {
            Some(id) => Some(snapshot(times, id)?.micros),
            None => None,
        };
        self.closed_at.append_option(closed);
        self.ended.append_option(text(14)?);
        self.fixed_after.append_option(seconds(15)?);
        self.fixed_at.append_option(seconds(16)?);
        self.reopened
            .append_value(row.get::<_, i64>(17).doing(read)? != 0);
        self.rows += 1;
        Ok(())
    }

    /// The batch, the builders emptied for the next one.
    fn finish(&mut self, out: &Partitions) -> Result<RecordBatch, Error> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.tenant.finish()),
            Arc::new(self.device_id.finish()),
            Arc::new(self.device_name.finish()),
            Arc::new(self.rbac_group.finish()),
            Arc::new(self.software_vendor.finish()),
            Arc::new(self.software_name.finish()),
            Arc::new(self.software_version.finish()),
            Arc::new(self.cve_id.finish()),
            Arc::new(self.severity.finish()),
            Arc::new(self.exploited.finish()),
            Arc::new(self.kb.finish()),
            Arc::new(self.first_seen.finish()),
            Arc::new(self.opened_at.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.ended.finish()),
            Arc::new(self.fixed_after.finish()),
            Arc::new(self.fixed_at.finish()),
            Arc::new(self.reopened.finish()),
        ];
        self.rows = 0;
        RecordBatch::try_new(out.schema(), columns)
            .map_err(|e| parquet_error(&PathBuf::from("exposures"), e))
    }
}

/// Seconds since the epoch as microseconds.
fn micros(seconds: i64) -> Result<i64, Error> {
    seconds.checked_mul(1_000_000).ok_or_else(|| {
        Error::Invalid(format!(
            "the store holds a time out of range ({seconds} seconds since the epoch)"
        ))
    })
}

/// The snapshot `id`, which a span names.
fn snapshot<'a>(times: &HashMap<i64, &'a Snapshot>, id: i64) -> Result<&'a Snapshot, Error> {
    times.get(&id).copied().ok_or_else(|| {
        Error::Invalid(format!(
            "the store is inconsistent: a span names snapshot {id}, which it does not have"
        ))
    })
}

/// Writes every span of the chosen tenants under `root` (`…/exposures`); `names` has each
/// tenant's name and folder (`tenant=…`) by id.
pub(crate) fn write(
    conn: &Connection,
    root: PathBuf,
    tenant: Option<i64>,
    snapshots: &[Snapshot],
    names: &HashMap<i64, (String, String)>,
) -> Result<Partitions, Error> {
    let times: HashMap<i64, &Snapshot> = snapshots.iter().map(|s| (s.id, s)).collect();
    let mut out = Partitions::new(root, fields());
    let mut columns = Columns::new();
    // The partition the rows in `columns` belong to: tenant id and opening snapshot's date.
    let mut current: Option<(i64, String)> = None;
    let mut stmt = conn.prepare(SPANS).doing("reading the spans")?;
    let mut rows = stmt.query([tenant]).doing("reading the spans")?;
    while let Some(row) = rows.next().doing("reading a span")? {
        let tenant: i64 = row.get(0).doing("reading a span")?;
        let opened: i64 = row.get(12).doing("reading a span")?;
        let date = &snapshot(&times, opened)?.date;
        let same = current
            .as_ref()
            .is_some_and(|(t, d)| *t == tenant && d == date);
        if !same || columns.rows >= BATCH {
            flush(&mut out, &mut columns, current.as_ref(), names)?;
            current = Some((tenant, date.clone()));
        }
        let Some((name, _)) = names.get(&tenant) else {
            return Err(Error::Invalid(format!(
                "the store is inconsistent: a device names tenant {tenant}, which it does not have"
            )));
        };
        columns.push(name, row, &times)?;
    }
    flush(&mut out, &mut columns, current.as_ref(), names)?;
    out.finish()
}

/// Writes the rows gathered so far into their partition.
fn flush(
    out: &mut Partitions,
    columns: &mut Columns,
    partition: Option<&(i64, String)>,
    names: &HashMap<i64, (String, String)>,
) -> Result<(), Error> {
    let Some((tenant, date)) = partition else {
        return Ok(());
    };
    if columns.rows == 0 {
        return Ok(());
    }
    let segment = names
        .get(tenant)
        .map_or("", |(_, segment)| segment.as_str());
    let batch = columns.finish(out)?;
    out.write(segment, date, &batch)
}
