//! The file origin: the export files as Azure Blob Storage serves them. No bearer token: the
//! link's signature is the credential. Every request is counted, and those that carried an
//! `Authorization` header apart. An unknown or mismatched signature, or an expired link, is a
//! 403 `AuthenticationFailed` in storage's XML; a valid link gets its file (after the file
//! faults): GZIP-compressed NDJSON, one row a line with PascalCase keys, generated and
//! compressed as it is sent.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use flate2::Compression;
use flate2::write::GzEncoder;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::faults::FileFault;
use super::links::{Check, Kind, STORAGE_VERSION};
use super::stream::{Chunks, streamed};
use super::{Answer, State, full};
use crate::estate::{Case, Cased, Entries};
use crate::time::{http_date, now_ticks, rfc3339_ticks};

/// How a file is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    /// All of it.
    Whole,
    /// About half of it, then the connection is cut.
    Cut,
    /// About half of its GZIP stream, without its end, in a body that ends cleanly.
    Truncated,
}

/// Answers one request to the file origin.
pub(crate) fn handle(state: &Arc<State>, request: Request<Incoming>) -> Answer {
    state.file_requests.fetch_add(1, Ordering::SeqCst);
    if request.headers().contains_key(AUTHORIZATION) {
        state
            .file_requests_with_authorization
            .fetch_add(1, Ordering::SeqCst);
    }
    if request.method() != Method::GET {
        return storage_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UnsupportedHttpVerb",
            "The resource doesn't support specified Http Verb.",
            None,
        );
    }
    let signature = request.uri().query().and_then(|query| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| *name == "sig")
            .map(|(_, value)| {
                percent_encoding::percent_decode_str(value)
                    .decode_utf8_lossy()
                    .into_owned()
            })
    });
    let now = now_ticks();
    let check = state
        .links
        .check(request.uri().path(), signature.as_deref(), now, |epoch| {
            state.faults.links_expired_at(epoch)
        });
    let (kind, part) = match check {
        Check::Valid { kind, part } => (kind, part),
        Check::Unknown => {
            return authentication_failed(
                "Signature did not match. String to sign used was r\n\n\n/blob/demo/exports\n\n\n\n\n\nb\n\n\n\n\n\n\n".to_owned(),
            );
        }
        Check::Expired { start, expiry } => {
            return authentication_failed(format!(
                "Signature not valid in the specified time frame: Start [{}] - Expiry [{}] - Current [{}]",
                http_date(start),
                http_date(expiry),
                http_date(now)
            ));
        }
    };
    let sending = match state.faults.next_file_fault() {
        FileFault::Fail => {
            return storage_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "Server encountered an internal error. Please try again after some time.",
                None,
            );
        }
        FileFault::Empty => return file_answer(full(bytes::Bytes::new())),
        FileFault::Expired => {
            return authentication_failed(format!(
                "Signature not valid in the specified time frame: Current [{}]",
                http_date(now)
            ));
        }
        FileFault::Cut => Sending::Cut,
        FileFault::Truncate => Sending::Truncated,
        FileFault::None => Sending::Whole,
    };
    let state = Arc::clone(state);
    let body = streamed(move |chunks| {
        let estate = &state.estate;
        let per_file = state.rows_per_file;
        let first = part.saturating_mul(per_file);
        let total = match kind {
            Kind::Vulnerabilities => estate.vulnerability_row_count(),
            Kind::Inventory => estate.installations.len(),
        };
        let rows = total.saturating_sub(first).min(per_file);
        match kind {
            Kind::Vulnerabilities => write_file(
                chunks,
                estate.vulnerability_rows_from(first).take(rows),
                rows,
                sending,
            ),
            Kind::Inventory => write_file(
                chunks,
                estate.inventory_rows_in(first..first + rows),
                rows,
                sending,
            ),
        }
    });
    file_answer(body.boxed())
}

/// Writes a file of `count` rows: GZIP (fast level) of one JSON object a line, PascalCase keys.
fn write_file<T: Entries>(
    chunks: &mut Chunks,
    rows: impl Iterator<Item = T>,
    count: usize,
    sending: Sending,
) -> io::Result<()> {
    let stop_at = match sending {
        Sending::Whole => usize::MAX,
        Sending::Cut | Sending::Truncated => count / 2,
    };
    let mut gzip = GzEncoder::new(&mut *chunks, Compression::fast());
    let mut line = Vec::with_capacity(4096);
    for row in rows.take(stop_at) {
        line.clear();
        serde_json::to_writer(&mut line, &Cased(&row, Case::Pascal)).map_err(io::Error::other)?;
        line.push(b'\n');
        gzip.write_all(&line)?;
    }
    match sending {
        Sending::Whole => gzip.finish().map(|_| ()),
        Sending::Cut => {
            gzip.flush()?;
            gzip.get_mut().cut();
            Ok(())
        }
        Sending::Truncated => {
            gzip.flush()?;
            gzip.get_mut().end();
            Ok(())
        }
    }
}

/// A 200 with a file body, as storage answers a blob download.
fn file_answer(body: super::Body) -> Answer {
    let mut answer = Response::new(body);
    let headers = answer.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        HeaderName::from_static("x-ms-blob-type"),
        HeaderValue::from_static("BlockBlob"),
    );
    storage_headers(&mut answer);
    answer
}

fn storage_headers(answer: &mut Answer) -> String {
    let request_id = request_id();
    let headers = answer.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static("x-ms-request-id"), value);
    }
    headers.insert(
        HeaderName::from_static("x-ms-version"),
        HeaderValue::from_static(STORAGE_VERSION),
    );
    request_id
}

/// A 403 `AuthenticationFailed` with its detail.
fn authentication_failed(detail: String) -> Answer {
    storage_error(
        StatusCode::FORBIDDEN,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        Some(detail),
    )
}

/// An error in storage's XML shape (`application/xml`), with `x-ms-error-code`.
fn storage_error(
    status: StatusCode,
    code: &'static str,
    message: &str,
    authentication_detail: Option<String>,
) -> Answer {
    let mut answer = Response::new(full(bytes::Bytes::new()));
    let request_id = storage_headers(&mut answer);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:{request_id}\nTime:{}</Message>",
        rfc3339_ticks(now_ticks())
    );
    if let Some(detail) = authentication_detail {
        xml.push_str(&format!(
            "<AuthenticationErrorDetail>{}</AuthenticationErrorDetail>",
            escape(&detail)
        ));
    }
    xml.push_str("</Error>");
    *answer.body_mut() = full(xml);
    *answer.status_mut() = status;
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    headers.insert(
        HeaderName::from_static("x-ms-error-code"),
        HeaderValue::from_static(code),
    );
    answer
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A storage request id: `8f0e5a1c-b01e-0042-5b3c-1a2b3c000000`.
fn request_id() -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:06x}000000",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u32(..0x100_0000)
    )
}
