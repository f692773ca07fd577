//! Reading a via-files export: every row of its files as one stream, in bounded memory (what it
//! survives: the module documentation of [`crate::export`]).

use std::io::Write;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use flate2::write::MultiGzDecoder;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use serde::de::DeserializeOwned;

use super::calls::SasValidHours;
use super::links::{ExportFiles, SasUrl};
use super::rows::{SoftwareInventory, SoftwareVulnerability};
use crate::client::Client;
use crate::error::{Error, ExportError, ExportErrorKind};
use crate::operations::DOWNLOAD_EXPORT_FILE;
use crate::transport::Headers;

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

/// The rows of a via-files export, as a stream (see the module documentation), with the
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

/// The export's links, renewed (once for all the files) when storage refuses them.
struct Links {
    client: Client,
    kind: Kind,
    valid: SasValidHours,
    generated_time: DateTime<Utc>,
    /// The links, and how many times they were renewed.
    current: tokio::sync::Mutex<(u64, Vec<SasUrl>)>,
    counters: Arc<Counters>,
}

impl Links {
    /// File `index`'s link now, and the links' generation.
    async fn get(&self, index: usize) -> Option<(u64, SasUrl)> {
        let current = self.current.lock().await;
        current.1.get(index).map(|url| (current.0, url.clone()))
    }

    /// Fresh links, unless they were renewed since generation `seen` (then those). A new
    /// snapshot in between is an error: its files are not this one's.
    async fn renew(&self, seen: u64, file: &str) -> Result<(), Error> {
        let mut current = self.current.lock().await;
        if current.0 != seen {
            return Ok(());
        }
        let fresh = self.kind.export(&self.client, self.valid).await?;
        self.counters.link_renewals.fetch_add(1, Ordering::Relaxed);
        if fresh.generated_time != self.generated_time
            || fresh.export_files.len() != current.1.len()
        {
            return Err(Error::Export(Box::new(ExportError::new(
                ExportErrorKind::SnapshotChanged,
                file,
                None,
                1,
                format!(
                    "the service made a new snapshot ({}, {} files) while this one ({}, {} \
                     files) was read; read the export again",
                    fresh.generated_time,
                    fresh.export_files.len(),
                    self.generated_time,
                    current.1.len()
                ),
            ))));
        }
        *current = (seen + 1, fresh.export_files);
        Ok(())
    }
}

/// One file being read: its download, its decoder, and how many of its rows were given.
struct FileRows<T> {
    links: Arc<Links>,
    index: usize,
    /// The file's name (for errors and traces: never its link).
    name: String,
    downloads: u32,
    /// Downloads made so far.
    attempts: u32,
    /// The links' generation of the last download's link.
    generation: u64,
    /// The current download, if one is open (boxed: it moves out and back at every row).
    open: Option<Box<Download>>,
    /// Rows given from this file, over all its downloads.
    given: u64,
    row: PhantomData<fn() -> T>,
}

/// One download of a file, being decoded.
struct Download {
    response: reqwest::Response,
    /// Storage said the blob is still being copied (`x-ms-copy-status: pending`).
    copy_pending: bool,
    /// Received bytes not yet decoded.
    input: Bytes,
    decoder: MultiGzDecoder<Vec<u8>>,
    /// Decoded bytes not yet read as lines, from `read` on (a line whose end has not arrived
    /// stays here until it does).
    pending: Vec<u8>,
    read: usize,
    /// The body ended (what `pending` holds is the last of it).
    ended: bool,
    /// The GZIP stream was cut short or corrupt: the error, after the lines before it.
    corrupt: Option<std::io::Error>,
    /// Compressed bytes received.
    received: u64,
    /// Lines read (blank ones included, for line numbers).
    lines: u64,
    /// Rows read in this download (the first `skip` were given by an earlier one).
    rows: u64,
    skip: u64,
}

/// What one step of reading a file came to.
enum Step<T> {
    /// A row.
    Row(T),
    /// Nothing yet: more bytes arrived or a download started.
    More,
    /// The file's end.
    End,
    /// A failure that another download cannot mend.
    Fatal(Error),
    /// A failed download: download again, with fresh links if `renew`, after a wait if
    /// `why` asks for one.
    Again {
        why: Retry,
        error: Option<Box<dyn std::error::Error + Send + Sync>>,
        renew: bool,
    },
}

/// Why a file is downloaded again, and what it is reported as once its downloads run out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// The download failed (a status past the sending path's retries, a link refused, a body
    /// cut mid-way): [`ExportErrorKind::Download`].
    Failed,
    /// No data arrived within the client's request timeout: [`ExportErrorKind::Stalled`].
    Stalled(Duration),
    /// A `200` with an empty body (storage may still be copying the blob): after a wait,
    /// [`ExportErrorKind::Empty`].
    Empty {
        /// `x-ms-copy-status: pending`: the blob is still being copied.
        copy_pending: bool,
    },
}

impl Retry {
    /// What the file is reported as when its downloads run out, and in what words.
    fn exhausted(self) -> (ExportErrorKind, String) {
        match self {
            Retry::Failed => (
                ExportErrorKind::Download,
                "could not be downloaded whole".to_owned(),
            ),
            Retry::Stalled(idle) => (
                ExportErrorKind::Stalled,
                format!(
                    "no data arrived for {} ms (the client's request timeout) on its last download",
                    idle.as_millis()
                ),
            ),
            Retry::Empty {
                copy_pending: false,
            } => (
                ExportErrorKind::Empty,
                "storage answered 200 with an empty body each time".to_owned(),
            ),
            Retry::Empty { copy_pending: true } => (
                ExportErrorKind::Empty,
                "storage answered 200 with an empty body each time: the blob was still being \
                 copied (x-ms-copy-status: pending)"
                    .to_owned(),
            ),
        }
    }

    /// In a trace event's words.
    fn reason(self) -> &'static str {
        match self {
            Retry::Failed => "the download failed",
            Retry::Stalled(_) => "no data arrived within the request timeout",
            Retry::Empty {
                copy_pending: false,
            } => "storage answered 200 with an empty body",
            Retry::Empty { copy_pending: true } => {
                "storage answered 200 with an empty body: the blob is still being copied \
                 (x-ms-copy-status: pending)"
            }
        }
    }
}

impl<T: DeserializeOwned> FileRows<T> {
    fn new(links: Arc<Links>, index: usize, downloads: u32) -> Self {
        Self {
            links,
            index,
            name: format!("file {}", index + 1),
            downloads,
            attempts: 0,
            generation: 0,
            open: None,
            given: 0,
            row: PhantomData,
        }
    }

    /// The next row of the file, or `None` after its end.
    async fn next_row(&mut self) -> Result<Option<T>, Error> {
        loop {
            let step = match self.open.take() {
                None => self.open_download().await,
                Some(mut download) => match self.next_line(&mut download) {
                    Ok(Some(row)) => {
                        self.open = Some(download);
                        Step::Row(row)
                    }
                    Ok(None) if !download.input.is_empty() => self.decode_slice(download),
                    Ok(None) if download.ended => self.finish(&mut download),
                    Ok(None) => self.read_chunk(download).await,
                    Err(error) => Step::Fatal(error),
                },
            };
            match step {
                Step::Row(row) => {
                    let counters = &self.links.counters;
                    counters.rows.fetch_add(1, Ordering::Relaxed);
                    return Ok(Some(row));
                }
                Step::More => {}
                Step::End => {
                    let counters = &self.links.counters;
                    counters.files_done.fetch_add(1, Ordering::Relaxed);
                    return Ok(None);
                }
                Step::Fatal(error) => return Err(error),
                Step::Again { why, error, renew } => {
                    if self.attempts >= self.downloads {
                        let (kind, message) = why.exhausted();
                        return Err(self.failure(kind, None, &message, error));
                    }
                    let counters = &self.links.counters;
                    counters.downloads_repeated.fetch_add(1, Ordering::Relaxed);
                    // An empty body is not a failure of the link: storage may still be copying
                    // the blob. Wait as the retry policy would before the next download.
                    let wait = match why {
                        Retry::Empty { .. } => self.links.client.transport().backoff(self.attempts),
                        Retry::Failed | Retry::Stalled(_) => Duration::ZERO,
                    };
                    tracing::warn!(
                        file = %self.name,
                        attempt = self.attempts,
                        renew,
                        reason = why.reason(),
                        error = error.as_ref().map(|e| e.to_string()),
                        wait_ms = wait.as_millis() as u64,
                        "downloading an export file again"
                    );
                    tokio::time::sleep(wait).await;
                    if renew {
                        self.links.renew(self.generation, &self.name).await?;
                    }
                }
            }
        }
    }

    /// An [`Error::Export`] about this file.
    fn failure(
        &self,
        kind: ExportErrorKind,
        line: Option<u64>,
        message: &str,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        let mut error = ExportError::new(kind, &self.name, line, self.attempts, message);
        error.source = source;
        Error::Export(Box::new(error))
    }

    /// Starts a download of the file, to go on after the rows already given.
    async fn open_download(&mut self) -> Step<T> {
        let Some((generation, url)) = self.links.get(self.index).await else {
            return Step::Fatal(self.failure(
                ExportErrorKind::SnapshotChanged,
                None,
                "the export has no such file any more",
                None,
            ));
        };
        self.name = url.file_name().to_owned();
        self.generation = generation;
        self.attempts += 1;
        let mut request = reqwest::Request::new(reqwest::Method::GET, url.expose().clone());
        *request.timeout_mut() = Some(DOWNLOAD_LIMIT);
        let transport = self.links.client.transport();
        let op = &DOWNLOAD_EXPORT_FILE;
        match transport.exchange(request, op, Headers::StreamBody).await {
            Ok(fetched) => match fetched.unread {
                Some(response) => {
                    let copy_pending = response
                        .headers()
                        .get("x-ms-copy-status")
                        .is_some_and(|status| status.as_bytes().eq_ignore_ascii_case(b"pending"));
                    self.open = Some(Box::new(Download {
                        copy_pending,
                        response,
                        input: Bytes::new(),
                        decoder: MultiGzDecoder::new(Vec::new()),
                        pending: Vec::new(),
                        read: 0,
                        ended: false,
                        corrupt: None,
                        received: 0,
                        lines: 0,
                        rows: 0,
                        skip: self.given,
                    }));
                    Step::More
                }
                None => {
                    let status = fetched.status;
                    let error = crate::transport::response::api_error(&fetched, op);
                    if status == reqwest::StatusCode::FORBIDDEN {
                        // The link expired (`AuthenticationFailed`): fresh links.
                        Step::Again {
                            why: Retry::Failed,
                            error: Some(Box::new(error)),
                            renew: true,
                        }
                    } else if status.is_server_error() || status.as_u16() == 429 {
                        Step::Again {
                            why: Retry::Failed,
                            error: Some(Box::new(error)),
                            renew: false,
                        }
                    } else if status == reqwest::StatusCode::NOT_FOUND {
                        Step::Fatal(self.failure(
                            ExportErrorKind::NotFound,
                            None,
                            "storage has no such file (404): the snapshot may have been replaced",
                            Some(Box::new(error)),
                        ))
                    } else {
                        Step::Fatal(self.failure(
                            ExportErrorKind::Download,
                            None,
                            &format!("storage refused the download ({status})"),
                            Some(Box::new(error)),
                        ))
                    }
                }
            },
            // The sending path's own retries ran out.
            Err(error) => Step::Again {
                why: Retry::Failed,
                error: Some(Box::new(error)),
                renew: false,
            },
        }
    }

    /// Receives the download's next chunk (decoded a slice at a time).
    async fn read_chunk(&mut self, mut download: Box<Download>) -> Step<T> {
        let chunk = match self.links.client.request_timeout() {
            Some(idle) => match tokio::time::timeout(idle, download.response.chunk()).await {
                Ok(chunk) => chunk,
                Err(elapsed) => {
                    return Step::Again {
                        why: Retry::Stalled(idle),
                        error: Some(Box::new(elapsed)),
                        renew: false,
                    };
                }
            },
            None => download.response.chunk().await,
        };
        let chunk: Bytes = match chunk {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return self.end_of_body(download),
            Err(e) => {
                // Cut mid-way: the same link may serve again.
                let error = self.links.client.transport().file_error(e, self.attempts);
                return Step::Again {
                    why: Retry::Failed,
                    error: Some(Box::new(error)),
                    renew: false,
                };
            }
        };
        if download.received == 0
            && let Some(what) = not_gzip(&chunk)
        {
            return Step::Fatal(self.failure(
                ExportErrorKind::NotGzip,
                None,
                &format!("is not GZIP: {what}"),
                None,
            ));
        }
        download.received += chunk.len() as u64;
        download.input = chunk;
        self.open = Some(download);
        Step::More
    }

    /// Decodes the next slice of the received bytes. What the decoder writes out comes after
    /// this slice or a later one (it keeps its last output until then); the body's end takes
    /// the rest.
    fn decode_slice(&mut self, mut download: Box<Download>) -> Step<T> {
        let slice = download
            .input
            .split_to(DECODE_SLICE.min(download.input.len()));
        if let Err(e) = download.decoder.write_all(&slice) {
            // Corrupt: the whole lines before it are given, then the error (see `finish`).
            download.corrupt = Some(e);
            download.ended = true;
            download.input.clear();
        }
        download.take_output();
        self.open = Some(download);
        Step::More
    }

    /// The body's end: a body that was empty is downloaded again; else the last bytes (a last
    /// line without its newline is a line too). A GZIP stream that ends early gives the whole
    /// lines it holds, then is an error naming the first line that did not arrive whole.
    fn end_of_body(&mut self, mut download: Box<Download>) -> Step<T> {
        if download.received == 0 {
            return Step::Again {
                why: Retry::Empty {
                    copy_pending: download.copy_pending,
                },
                error: None,
                renew: false,
            };
        }
        // What the decoder holds comes out first, whole lines before a cut included.
        let finished = download
            .decoder
            .flush()
            .and_then(|()| download.decoder.try_finish());
        download.take_output();
        match finished {
            Err(e) => download.corrupt = Some(e),
            Ok(()) => {
                if download.pending.len() > download.read && download.pending.last() != Some(&b'\n')
                {
                    download.pending.push(b'\n');
                }
            }
        }
        download.ended = true;
        self.open = Some(download);
        Step::More
    }

    /// Every whole line of the download read: the file's end, unless its GZIP stream was cut
    /// (the next line is at fault) or it holds fewer rows than were already given from it.
    fn finish(&self, download: &mut Download) -> Step<T> {
        if let Some(e) = download.corrupt.take() {
            return Step::Fatal(self.corrupt(e, download.lines));
        }
        if download.rows < download.skip {
            return Step::Fatal(self.failure(
                ExportErrorKind::SnapshotChanged,
                None,
                &format!(
                    "holds {} rows now, fewer than the {} already read from it",
                    download.rows, download.skip
                ),
                None,
            ));
        }
        Step::End
    }

    /// A GZIP stream that is cut short or corrupt.
    fn corrupt(&self, e: std::io::Error, lines: u64) -> Error {
        let error = ExportError::new(
            ExportErrorKind::Truncated,
            &self.name,
            Some(lines + 1),
            self.attempts,
            "the GZIP stream is cut short or corrupt",
        )
        .with_source(e);
        Error::Export(Box::new(error))
    }

    /// The next row among the whole lines the download holds, or `None` when it needs more
    /// bytes.
    fn next_line(&mut self, download: &mut Download) -> Result<Option<T>, Error> {
        loop {
            let rest = &download.pending[download.read..];
            let Some(end) = memchr::memchr(b'\n', rest) else {
                return Ok(None);
            };
            let start = download.read;
            download.read += end + 1;
            let row = self.line(download, start, start + end)?;
            if row.is_some() {
                return Ok(row);
            }
        }
    }

    /// One line, `pending[start..end]`: a row (unless an earlier download gave it), or nothing
    /// when blank.
    fn line(
        &mut self,
        download: &mut Download,
        start: usize,
        end: usize,
    ) -> Result<Option<T>, Error> {
        download.lines += 1;
        let line = &download.pending[start..end];
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        download.rows += 1;
        if download.rows <= download.skip {
            return Ok(None);
        }
        match serde_json::from_slice::<T>(line) {
            Ok(row) => {
                self.given += 1;
                Ok(Some(row))
            }
            Err(e) => {
                let error = ExportError::new(
                    ExportErrorKind::MalformedLine,
                    &self.name,
                    Some(download.lines),
                    self.attempts,
                    "the line is not a row",
                )
                .with_source(e);
                Err(Error::Export(Box::new(error)))
            }
        }
    }
}

/// What the first bytes of a body are, when they are not a GZIP stream's (`1f 8b`): an HTML or
/// XML page (an error page served with a 200), or other bytes. The bytes themselves are not
/// shown: an error page may echo the request, and its link is a secret.
fn not_gzip(first: &[u8]) -> Option<&'static str> {
    const MAGIC: [u8; 2] = [0x1f, 0x8b];
    let n = first.len().min(2);
    if first[..n] == MAGIC[..n] {
        return None;
    }
    let text = first.trim_ascii_start();
    Some(if text.first() == Some(&b'<') {
        "it is an HTML or XML page (an error page?)"
    } else if text.first() == Some(&b'{') {
        "it is JSON, not compressed"
    } else {
        "its first bytes are not a GZIP header"
    })
}

impl Download {
    /// Moves what the decoder wrote into `pending`, after dropping the lines already read
    /// (the decoder keeps its buffer's allocation, and `pending` its own).
    fn take_output(&mut self) {
        self.pending.drain(..self.read);
        self.read = 0;
        self.pending.append(self.decoder.get_mut());
    }
}
