//! One file being read: its downloads, what each failure leads to (download again, with fresh
//! links or after a wait, or give up with its own error), and the rows already given, so a
//! new download goes on after them.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use flate2::write::MultiGzDecoder;
use serde::de::DeserializeOwned;

use super::DOWNLOAD_LIMIT;
use super::gzip_lines::{Download, not_gzip};
use super::renewal::Links;
use crate::error::{Error, ExportError, ExportErrorKind};
use crate::operations::DOWNLOAD_EXPORT_FILE;
use crate::transport::Headers;

/// One file being read: its download, its decoder, and how many of its rows were given.
pub(super) struct FileRows<T> {
    pub(super) links: Arc<Links>,
    pub(super) index: usize,
    /// The file's name (for errors and traces: never its link).
    pub(super) name: String,
    pub(super) downloads: u32,
    /// Downloads made so far.
    pub(super) attempts: u32,
    /// The links' generation of the last download's link.
    pub(super) generation: u64,
    /// The current download, if one is open (boxed: it moves out and back at every row).
    pub(super) open: Option<Box<Download>>,
    /// Rows given from this file, over all its downloads.
    pub(super) given: u64,
    pub(super) row: PhantomData<fn() -> T>,
}

/// What one step of reading a file came to.
pub(super) enum Step<T> {
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
pub(super) enum Retry {
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
    pub(super) fn exhausted(self) -> (ExportErrorKind, String) {
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
    pub(super) fn reason(self) -> &'static str {
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
    pub(super) fn new(links: Arc<Links>, index: usize, downloads: u32) -> Self {
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
    pub(super) async fn next_row(&mut self) -> Result<Option<T>, Error> {
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
    pub(super) fn failure(
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
    pub(super) async fn open_download(&mut self) -> Step<T> {
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
    pub(super) async fn read_chunk(&mut self, mut download: Box<Download>) -> Step<T> {
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
}
