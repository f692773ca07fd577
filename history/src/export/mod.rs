//! The store as Parquet files (feature `parquet`), in the Hive-style folders DuckDB, Spark,
//! Azure Data Explorer external tables, Fabric and Databricks read as they are:
//!
//! ```text
//! DIR/
//!   _defender_tvm_export.json                        what marks DIR as an export
//!   exposures/tenant=<name>/date=<YYYY-MM-DD>/part-0.parquet
//!   snapshots/tenant=<name>/date=<YYYY-MM-DD>/part-0.parquet
//! ```
//!
//! - **`exposures`**: one row per *span* of an exposure (open from the snapshot that saw it
//!   first, or again after a fix, until the first snapshot without it), in the folder of the
//!   date (UTC) of the snapshot that opened it. A span's folder never changes, so a later
//!   export rewrites each row in place. The SLA table reads each exposure's last span (the
//!   latest `opened_at` of its tenant, device, software and CVE): open when `closed_at` is
//!   null, fixed when `ended` is `fixed`, retired otherwise.
//! - **`snapshots`**: one row per snapshot, with the facts the trend reads, in the folder of
//!   its date (UTC).
//!
//! The columns, their types and how to query them with each engine are in the repository's
//! README ("Past one machine: Parquet"). Times are Parquet `TIMESTAMP(MICROS)` adjusted to
//! UTC; compression is snappy.
//!
//! The tenant's name is percent-encoded into its folder (see [`Store::export_parquet`]); the
//! `tenant` column holds it as it is. How the folder is written and replaced is in
//! [`Store::export_parquet`] too.

mod exposures;
mod folder;
mod segment;
mod snapshots;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::answers::load;
use crate::error::{Doing, Error};
use crate::store::Store;
use folder::Folder;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportSummary {
    /// The folder.
    pub dir: PathBuf,
    /// The tenants exported, by name, in the store's order.
    pub tenants: Vec<String>,
    /// Rows of `exposures` (spans).
    pub exposure_spans: u64,
    /// Rows of `snapshots`.
    pub snapshots: u64,
    /// Parquet files written.
    pub files: u64,
    /// Their size in bytes.
    pub bytes: u64,
}

impl Store {
    /// Writes the store's exposures and snapshots as Parquet files into `dir` (made when
    /// missing), partitioned `tenant=<name>/date=<YYYY-MM-DD>/part-0.parquet`; `tenant` narrows
    /// it to one tenant. The layout is in the [module's documentation](crate::export).
    ///
    /// - **Tenant names in paths**: a name is the service's or a user's, so its folder is
    ///   `tenant=` and the name percent-encoded: ASCII letters, digits, `-` and `_` are kept,
    ///   and `.` unless it ends the name or another `.` follows it; every other byte of its
    ///   UTF-8 is `%XX`. A folder name is never `..`, never holds `/` or `\`, and decodes back
    ///   to the name (DuckDB's `hive_partitioning` decodes it). An empty name, one too long
    ///   for a folder name (over 255 bytes encoded), and two names that differ only in case
    ///   (one folder on Windows and macOS) are refused ([`Error::Invalid`]).
    /// - **The folder**: empty, missing, or a previous export (it holds
    ///   `_defender_tvm_export.json`); anything else is refused before a byte is written
    ///   ([`Error::NotAnExport`]). The export is written whole into a hidden staging folder
    ///   inside `dir`, then each exported tenant's folders are swapped in, one rename each: a
    ///   reader sees a tenant's previous export or this one, never a mix. Tenants the export
    ///   does not write are left as they are, so several stores can export into one folder.
    ///   What a killed export left is removed by the next one; two exports into one folder at
    ///   once are not supported.
    /// - **Consistency**: the store is read in one read transaction: a sync committing
    ///   meanwhile is not seen.
    pub fn export_parquet(&self, dir: &Path, tenant: Option<&str>) -> Result<ExportSummary, Error> {
        let tx = self
            .conn
            .unchecked_transaction()
            .doing("starting to read the store")?;
        let tenant_id = load::tenant(&tx, tenant)?;
        let tenants = tenants(&tx, tenant_id)?;
        let snapshots = snapshots::load(&tx, tenant_id)?;
        let folder = Folder::prepare(dir)?;
        let written = (|| {
            let snapshot_files =
                snapshots::write(folder.staging.join("snapshots"), &snapshots, &tenants)?;
            let exposure_files = exposures::write(
                &tx,
                folder.staging.join("exposures"),
                tenant_id,
                &snapshots,
                &tenants,
            )?;
            Ok::<_, Error>((snapshot_files, exposure_files))
        })();
        let (snapshot_files, exposure_files) = match written {
            Ok(files) => files,
            Err(e) => {
                // The error that stopped the export is the one to tell.
                let _ = folder.discard();
                return Err(e);
            }
        };
        let mut order: Vec<(i64, String, String)> = tenants
            .into_iter()
            .map(|(id, (name, segment))| (id, name, segment))
            .collect();
        order.sort();
        let segments: Vec<String> = order.iter().map(|(_, _, s)| s.clone()).collect();
        folder.publish(&segments)?;
        Ok(ExportSummary {
            dir: dir.to_path_buf(),
            tenants: order.into_iter().map(|(_, name, _)| name).collect(),
            exposure_spans: exposure_files.rows,
            snapshots: snapshot_files.rows,
            files: snapshot_files.files + exposure_files.files,
            bytes: snapshot_files.bytes + exposure_files.bytes,
        })
    }
}

/// The chosen tenants' names and folders (`tenant=…`), by id; refused when two folders would
/// be one on a file system that ignores case.
fn tenants(
    conn: &rusqlite::Connection,
    tenant: Option<i64>,
) -> Result<HashMap<i64, (String, String)>, Error> {
    let mut stmt = conn
        .prepare("SELECT id, name FROM tenants WHERE ?1 IS NULL OR id = ?1 ORDER BY id")
        .doing("reading the tenants")?;
    let rows = stmt
        .query_map([tenant], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })
        .doing("reading the tenants")?;
    let mut out = HashMap::new();
    let mut folded: HashMap<String, String> = HashMap::new();
    for row in rows {
        let (id, name) = row.doing("reading a tenant")?;
        let segment = segment::tenant_segment(&name)?;
        if let Some(other) = folded.insert(segment.to_ascii_lowercase(), name.clone()) {
            return Err(Error::Invalid(format!(
                "the tenants {other:?} and {name:?} differ only in case: their folders would be \
                 one on Windows and macOS; export each one alone, into a folder of its own"
            )));
        }
        out.insert(id, (name, segment));
    }
    Ok(out)
}
