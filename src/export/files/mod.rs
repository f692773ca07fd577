//! Reading a via-files export: every row of its files as one stream, in bounded memory (what it
//! survives: the module documentation of [`crate::export`]).

mod file;
mod gzip_lines;
mod renewal;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, Stream, StreamExt};
use serde::de::DeserializeOwned;

use file::FileRows;
use renewal::Links;

use super::calls::SasValidHours;
use super::links::ExportFiles;
use super::rows::{SoftwareInventory, SoftwareVulnerability};
use crate::client::Client;
use crate::error::Error;

/// How long a download may take in all: as long as a link may be valid. (A download that stalls
/// is stopped sooner: each chunk must arrive within the client's request timeout.)
const DOWNLOAD_LIMIT: Duration = Duration::from_secs(6 * 3600);

/// How much of a received chunk is decoded at a time. The HTTP stack hands over chunks of up to
/// a few hundred kilobytes on a fast link, and NDJSON inflates tenfold or more: decoding a
/// slice at a time, with its lines read in between, keeps a file's decoded bytes to about this
/// much times the compression ratio, whatever the chunks' size.
const DECODE_SLICE: usize = 8 * 1024;

/// How a via-files export is read.
///
/// ```
/// use defender_tvm::export::{ExportRowsOptions, SasValidHours};
///
/// let options = ExportRowsOptions::new()
///     .concurrency(8)
///     .valid(SasValidHours::new(2).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportRowsOptions {
    valid: SasValidHours,
    concurrency: usize,
    downloads: u32,
}

impl Default for ExportRowsOptions {
    fn default() -> Self {
        Self {
            valid: SasValidHours::default(),
            concurrency: 4,
            downloads: 4,
        }
    }
}

impl ExportRowsOptions {
    /// Links valid 1 hour, 4 files at a time, 4 downloads of a file at most.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long the links stay valid (fresh ones are asked for when they expire).
    pub fn valid(mut self, valid: SasValidHours) -> Self {
        self.valid = valid;
        self
    }

    /// How many files are read at once (default 4; 0 is refused when reading starts).
    pub fn concurrency(mut self, files: usize) -> Self {
        self.concurrency = files;
        self
    }

    /// How many times a file is downloaded at most, the first included (default 4; 0 is
    /// refused when reading starts).
    pub fn downloads(mut self, downloads: u32) -> Self {
        self.downloads = downloads;
        self
    }

    /// Refuses options no reading can follow, before the export call.
    fn check(&self) -> Result<(), Error> {
        if self.concurrency == 0 {
            return Err(Error::invalid_input(
                "export concurrency is 0: at least 1 file must be read at a time",
            ));
        }
        if self.downloads == 0 {
            return Err(Error::invalid_input(
                "export downloads is 0: each file must be downloaded at least once",
            ));
        }
        Ok(())
    }
}

/// Where reading an export stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportProgress {
    /// Files read to their end.
    pub files_done: usize,
    /// Files in the export.
    pub files_total: usize,
    /// Rows given so far.
    pub rows: u64,
    /// Downloads that failed after their response began (a cut body, an empty 200, a 403 of an
    /// expired link) and were made again. A download refused before its body (a 500, a
    /// failed connection) is retried by the client's [`RetryPolicy`](crate::RetryPolicy), as
    /// any call is, and not counted here.
    pub downloads_repeated: u64,
    /// Export calls made for fresh links.
    pub link_renewals: u64,
}

/// The rows of a via-files export, as a stream (see [the guide](crate::export)), with the
/// snapshot's time and where reading stands.
#[must_use = "a stream does nothing unless polled"]
pub struct ExportRows<T> {
    generated_time: DateTime<Utc>,
    counters: Arc<Counters>,
    rows: BoxStream<'static, Result<T, Error>>,
}

impl<T> ExportRows<T> {
    /// When the snapshot was made.
    pub fn generated_time(&self) -> DateTime<Utc> {
        self.generated_time
    }

    /// Where reading stands.
    pub fn progress(&self) -> ExportProgress {
        self.counters.progress()
    }

    /// A handle that reads where reading stands, for another task (a progress display) while
    /// this stream is polled elsewhere.
    pub fn progress_handle(&self) -> ExportProgressHandle {
        ExportProgressHandle(Arc::clone(&self.counters))
    }
}

/// Reads where an [`ExportRows`] stands, from anywhere (see [`ExportRows::progress_handle`]).
#[derive(Debug, Clone)]
pub struct ExportProgressHandle(Arc<Counters>);

impl ExportProgressHandle {
    /// Where reading stands now.
    pub fn get(&self) -> ExportProgress {
        self.0.progress()
    }
}

impl<T> Stream for ExportRows<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rows.poll_next_unpin(cx)
    }
}

impl<T> std::fmt::Debug for ExportRows<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportRows")
            .field("generated_time", &self.generated_time)
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Every row of the software vulnerabilities snapshot, read from the via-files export: one
    /// export call (the via-files budget), then the files, streamed (see [`crate::export`]).
    /// Needs `Vulnerability.Read.All`
    /// (or delegated `Vulnerability.Read`).
    ///
    /// ```no_run
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// use futures::TryStreamExt;
    ///
    /// let mut rows = client
    ///     .software_vulnerabilities_export_rows(defender_tvm::export::ExportRowsOptions::new())
    ///     .await?;
    /// println!("snapshot of {}", rows.generated_time());
    /// while let Some(row) = rows.try_next().await? {
    ///     let cve = row.cve_id.as_deref().unwrap_or("no CVE: the software is installed");
    ///     println!("{} {:?} {cve}", row.device_id, row.software_name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn software_vulnerabilities_export_rows(
        &self,
        options: ExportRowsOptions,
    ) -> Result<ExportRows<SoftwareVulnerability>, Error> {
        read(self, Kind::Vulnerabilities, options).await
    }

    /// Every row of the software inventory snapshot, read from the via-files export, as
    /// [`software_vulnerabilities_export_rows`](Self::software_vulnerabilities_export_rows)
    /// reads the vulnerabilities. Needs `Software.Read.All` (or delegated `Software.Read`).
    pub async fn software_inventory_export_rows(
        &self,
        options: ExportRowsOptions,
    ) -> Result<ExportRows<SoftwareInventory>, Error> {
        read(self, Kind::Inventory, options).await
    }
}

/// Which export.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Vulnerabilities,
    Inventory,
}

impl Kind {
    async fn export(self, client: &Client, valid: SasValidHours) -> Result<ExportFiles, Error> {
        match self {
            Kind::Vulnerabilities => client.software_vulnerabilities_export(valid).await,
            Kind::Inventory => client.software_inventory_export(valid).await,
        }
    }
}

async fn read<T: DeserializeOwned + Send + 'static>(
    client: &Client,
    kind: Kind,
    options: ExportRowsOptions,
) -> Result<ExportRows<T>, Error> {
    options.check()?;
    let files = kind.export(client, options.valid).await?;
    let total = files.export_files.len();
    let counters = Arc::new(Counters {
        files_total: total,
        ..Counters::default()
    });
    let generated_time = files.generated_time;
    let links = Arc::new(Links {
        client: client.clone(),
        kind,
        valid: options.valid,
        generated_time,
        current: tokio::sync::Mutex::new((0, files.export_files)),
        counters: Arc::clone(&counters),
    });
    let downloads = options.downloads;
    let rows = stream::iter(0..total)
        .map(move |index| {
            // Boxed: the state moves in and out of the stream at every row.
            let file = Box::new(FileRows::<T>::new(Arc::clone(&links), index, downloads));
            stream::try_unfold(file, |mut file| async move {
                Ok(file.next_row().await?.map(|row| (row, file)))
            })
            .boxed()
        })
        .flatten_unordered(options.concurrency)
        .boxed();
    Ok(ExportRows {
        generated_time,
        counters,
        rows,
    })
}

/// The counters behind [`ExportProgress`].
#[derive(Debug, Default)]
struct Counters {
    files_total: usize,
    files_done: AtomicUsize,
    rows: AtomicU64,
    downloads_repeated: AtomicU64,
    link_renewals: AtomicU64,
}

impl Counters {
    fn progress(&self) -> ExportProgress {
        ExportProgress {
            files_done: self.files_done.load(Ordering::Relaxed),
            files_total: self.files_total,
            rows: self.rows.load(Ordering::Relaxed),
            downloads_repeated: self.downloads_repeated.load(Ordering::Relaxed),
            link_renewals: self.link_renewals.load(Ordering::Relaxed),
        }
    }
}
