//! A download's body as lines: GZIP-decoded a slice at a time as its chunks arrive, split at
//! each newline, each line decoded as a row (a line cut by the end of the stream names itself).

use std::io::Write;

use bytes::Bytes;
use flate2::write::MultiGzDecoder;
use serde::de::DeserializeOwned;

use super::DECODE_SLICE;
use super::file::{FileRows, Retry, Step};
use crate::error::{Error, ExportError, ExportErrorKind};

/// One download of a file, being decoded.
pub(super) struct Download {
    pub(super) response: reqwest::Response,
    /// Storage said the blob is still being copied (`x-ms-copy-status: pending`).
    pub(super) copy_pending: bool,
    /// Received bytes not yet decoded.
    pub(super) input: Bytes,
    pub(super) decoder: MultiGzDecoder<Vec<u8>>,
    /// Decoded bytes not yet read as lines, from `read` on (a line whose end has not arrived
    /// stays here until it does).
    pub(super) pending: Vec<u8>,
    pub(super) read: usize,
    /// The body ended (what `pending` holds is the last of it).
    pub(super) ended: bool,
    /// The GZIP stream was cut short or corrupt: the error, after the lines before it.
    pub(super) corrupt: Option<std::io::Error>,
    /// Compressed bytes received.
    pub(super) received: u64,
    /// Lines read (blank ones included, for line numbers).
    pub(super) lines: u64,
    /// Rows read in this download (the first `skip` were given by an earlier one).
    pub(super) rows: u64,
    pub(super) skip: u64,
}

impl<T: DeserializeOwned> FileRows<T> {
    /// Decodes the next slice of the received bytes. What the decoder writes out comes after
    /// this slice or a later one (it keeps its last output until then); the body's end takes
    /// the rest.
    pub(super) fn decode_slice(&mut self, mut download: Box<Download>) -> Step<T> {
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
    pub(super) fn end_of_body(&mut self, mut download: Box<Download>) -> Step<T> {
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
    pub(super) fn finish(&self, download: &mut Download) -> Step<T> {
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
    pub(super) fn corrupt(&self, e: std::io::Error, lines: u64) -> Error {
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
    pub(super) fn next_line(&mut self, download: &mut Download) -> Result<Option<T>, Error> {
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
    pub(super) fn line(
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
pub(super) fn not_gzip(first: &[u8]) -> Option<&'static str> {
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
    pub(super) fn take_output(&mut self) {
        self.pending.drain(..self.read);
        self.read = 0;
        self.pending.append(self.decoder.get_mut());
    }
}
