//! One dataset's files: rows arrive in batches sorted by partition (tenant, then date), and each
//! partition becomes `tenant=…/date=…/part-0.parquet`, snappy-compressed.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::folder::io_error;
use crate::error::Error;

/// Rows per row group: DuckDB and Spark read row groups in parallel, and a writer holds one in
/// memory before it is flushed.
const ROW_GROUP: usize = 256 * 1024;

/// A timestamp column: microseconds, adjusted to UTC (Parquet `TIMESTAMP(MICROS, true)`).
pub(crate) fn timestamp(name: &str, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        nullable,
    )
}

/// A text column.
pub(crate) fn text(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

/// The files of one dataset being written.
pub(crate) struct Partitions {
    root: PathBuf,
    schema: SchemaRef,
    open: Option<Open>,
    /// How many files each partition has had, by its path (a partition met again, which sorted
    /// rows never do, gets a `part-1` instead of overwriting `part-0`).
    parts: std::collections::HashMap<PathBuf, u32>,
    /// Files written.
    pub(crate) files: u64,
    /// Their bytes.
    pub(crate) bytes: u64,
    /// Rows written.
    pub(crate) rows: u64,
}

/// The partition being written.
struct Open {
    segment: String,
    date: String,
    path: PathBuf,
    writer: ArrowWriter<BufWriter<File>>,
}

impl Partitions {
    /// A dataset written under `root` (a dataset's folder in the staging folder).
    pub(crate) fn new(root: PathBuf, fields: Vec<Field>) -> Partitions {
        Partitions {
            root,
            schema: Arc::new(Schema::new(fields)),
            open: None,
            parts: Default::default(),
            files: 0,
            bytes: 0,
            rows: 0,
        }
    }

    /// The dataset's columns.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Writes `batch` into the partition (`segment`: `tenant=…`; `date`: `YYYY-MM-DD`).
    pub(crate) fn write(
        &mut self,
        segment: &str,
        date: &str,
        batch: &RecordBatch,
    ) -> Result<(), Error> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let same = self
            .open
            .as_ref()
            .is_some_and(|open| open.segment == segment && open.date == date);
        if !same {
            self.close()?;
            self.open = Some(self.start(segment, date)?);
        }
        if let Some(open) = &mut self.open {
            open.writer
                .write(batch)
                .map_err(|e| parquet_error(&open.path, e))?;
            self.rows += batch.num_rows() as u64;
        }
        Ok(())
    }

    /// Closes the last file.
    pub(crate) fn finish(mut self) -> Result<Partitions, Error> {
        self.close()?;
        Ok(self)
    }

    fn start(&mut self, segment: &str, date: &str) -> Result<Open, Error> {
        let folder = self.root.join(segment).join(format!("date={date}"));
        fs::create_dir_all(&folder).map_err(io_error(&folder, "making a partition's folder"))?;
        let part = self.parts.entry(folder.clone()).or_insert(0);
        let path = folder.join(format!("part-{part}.parquet"));
        *part += 1;
        let file = File::create(&path).map_err(io_error(&path, "creating a Parquet file"))?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .set_created_by(format!(
                "defender-tvm-history {} (parquet-rs)",
                env!("CARGO_PKG_VERSION")
            ))
            .build();
        let writer = ArrowWriter::try_new(BufWriter::new(file), self.schema(), Some(properties))
            .map_err(|e| parquet_error(&path, e))?;
        Ok(Open {
            segment: segment.to_string(),
            date: date.to_string(),
            path,
            writer,
        })
    }

    fn close(&mut self) -> Result<(), Error> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let file = open
            .writer
            .into_inner()
            .map_err(|e| parquet_error(&open.path, e))?;
        let file = file
            .into_inner()
            .map_err(|e| io_error(&open.path, "writing a Parquet file")(e.into_error()))?;
        file.sync_all()
            .map_err(io_error(&open.path, "writing a Parquet file"))?;
        let size = file
            .metadata()
            .map_err(io_error(&open.path, "writing a Parquet file"))?
            .len();
        self.files += 1;
        self.bytes += size;
        Ok(())
    }
}

/// A `parquet` (or `arrow`) error writing `path`.
pub(crate) fn parquet_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}
