//! The crate's one error type, and the payloads of its variants.
//!
//! Every failure is one kind a caller can match on: the service answered with an error status
//! ([`Error::Api`]), signing in failed ([`Error::Auth`]), a response could not be decoded
//! ([`Error::Decode`]), the request did not complete ([`Error::Transport`]) or ran out of time
//! ([`Error::Timeout`]), a listing could not be followed safely ([`Error::Paging`]), or the input
//! was refused before anything was sent ([`Error::InvalidInput`]). Each variant wraps a
//! `#[non_exhaustive]` struct, so fields can be added without breaking callers. Messages say what
//! to do next; none contains a token or secret.
//!
//! As `std::error::Error` has it, an error's `Display` describes its own layer only and
//! [`source`](std::error::Error::source) gives the cause (a serde error, a connection failure):
//! print the chain to see both, each once, as the command line does.
//!
//! Every variant's payload is here, to match on and read (the status, the MDE error code, the
//! tracking id, the attempts made); [`Error::status`] and [`Error::code`] read the common ones.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

/// Everything that can go wrong when calling the API.
///
/// ```
/// # async fn run(client: defender_tvm::Client) {
/// use defender_tvm::{Error, StatusCode};
///
/// match client.missing_kbs("microsoft-_-edge").await {
///     Ok(kbs) => println!("{} missing KBs", kbs.len()),
///     Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => println!("no such software"),
///     Err(e) if e.code() == Some("TooManyRequests") => println!("slow down: {e}"),
///     Err(Error::Auth(auth)) => eprintln!("check the app registration: {auth}"),
///     Err(e) => eprintln!("{e}"),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with an error status (4xx, 5xx, or a status the contract does not
    /// list).
    Api(Box<ApiError>),
    /// No access token could be obtained: Entra ID refused the sign-in (wrong secret, unknown
    /// tenant, missing consent, ...), the token endpoint was unreachable, or a credential failed.
    Auth(Box<AuthError>),
    /// A response arrived, but its body is not what the contract describes.
    Decode(Box<DecodeError>),
    /// The request did not complete: connection, TLS, or reading the body failed.
    Transport(Box<TransportError>),
    /// A time limit set on the builder ran out.
    Timeout(Box<TimeoutError>),
    /// A listing could not be followed safely: a next link that is not a URL, leaves the API
    /// origin, or repeats (the service would loop forever), or a cap set on the pager.
    Paging(PagingError),
    /// The caller's input (or configuration) was refused before anything was sent.
    InvalidInput(InvalidInputError),
    /// A via-files export could not be read: a file could not be downloaded whole after retries
    /// and fresh links, its GZIP stream is truncated, a line is not a row, or the snapshot changed
    /// while it was read. Names the file and the line, never the file's link.
    Export(Box<ExportError>),
    /// A local file the caller named could not be read (a tenants file, a secret file): the
    /// path, and the I/O error as the cause.
    File(Box<FileError>),
}

/// A local file that could not be read ([`Error::File`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct FileError {
    /// What the file is, for example `the tenants file`.
    pub what: String,
    /// Its path, as given.
    pub path: std::path::PathBuf,
    source: std::io::Error,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {} {}", self.what, self.path.display())
    }
}

/// What went wrong reading a via-files export ([`Error::Export`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExportErrorKind {
    /// The file could not be downloaded whole, after the retries and fresh links allowed, or
    /// storage refused it.
    Download,
    /// Storage has no such file (404).
    NotFound,
    /// No data arrived within the client's request timeout, on each download allowed.
    Stalled,
    /// Storage answered 200 with an empty body on each download allowed (a blob still being
    /// copied, or a zero-byte blob).
    Empty,
    /// The body is not GZIP (an HTML error page served with a 200, for example).
    NotGzip,
    /// The file's GZIP stream ends before its end.
    Truncated,
    /// A line of the file is not a row.
    MalformedLine,
    /// The service made a new snapshot while this one was read: its files are gone.
    SnapshotChanged,
}

/// A via-files export that could not be read ([`Error::Export`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct ExportError {
    /// What went wrong.
    pub kind: ExportErrorKind,
    /// The file's name (the last segment of its link's path, never the link, which is a
    /// secret), for example `part-00003.json.gz`.
    pub file: String,
    /// The line at fault (from 1), when one is.
    pub line: Option<u64>,
    /// How many times the file was downloaded.
    pub attempts: u32,
    /// What was found, in words.
    pub message: String,
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The permissions an operation needs, as Microsoft's documentation names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Permission {
    /// The application permission, for example `Software.Read.All`.
    pub application: &'static str,
    /// The delegated permission, for example `Software.Read`.
    pub delegated: &'static str,
}

impl Permission {
    pub(crate) const fn new(application: &'static str, delegated: &'static str) -> Self {
        Self {
            application,
            delegated,
        }
    }
}

/// An error status from the service, with the MDE error body when there was one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The MDE error code, for example `ResourceNotFound` or `TooManyRequests`.
    pub code: Option<String>,
    /// The MDE error message.
    pub message: Option<String>,
    /// The MDE tracking id of the request (`error.target`): quote it to Microsoft support.
    pub target: Option<String>,
    /// How long the service asked to wait (`Retry-After`, in seconds or as an HTTP date).
    pub retry_after: Option<Duration>,
    /// The start of the body when it was not an MDE error body (at most 200 bytes).
    pub body_excerpt: Option<String>,
    /// The `operationId` of the call that failed.
    pub operation: &'static str,
    /// How many times the request was sent (retries included).
    pub attempts: u32,
    /// Why the client stopped retrying early, when it did (a `Retry-After` over the cap).
    pub gave_up: Option<String>,
    /// The permissions the operation needs (named in the advice for 403).
    pub permission: Permission,
}

/// Signing in failed: what Entra ID (or the credential) said, never the secret.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthError {
    /// The HTTP status of the token endpoint's reply, when there was one.
    pub status: Option<StatusCode>,
    /// The OAuth error (`invalid_client`, `unauthorized_client`, `invalid_request`, ...), or a
    /// short name of what failed (`token_endpoint_unreachable`, `azure_credential_failed`, ...).
    pub error: String,
    /// Entra's `error_description` (with any echo of the secret redacted).
    pub description: Option<String>,
    /// The AADSTS error code, for example 7000215 (invalid client secret).
    pub aadsts: Option<u32>,
    /// Entra's trace id, to quote to Microsoft support.
    pub trace_id: Option<String>,
    /// Entra's correlation id, to quote to Microsoft support.
    pub correlation_id: Option<String>,
    /// Whether the failure was transient (429, 5xx, a dropped connection, a reply cut short)
    /// and was retried until the sign-in retry policy ran out of attempts.
    pub transient: bool,
    /// How many token requests were made (retries included; 1 when not retried).
    pub attempts: u32,
    /// Why retrying stopped before the policy's attempts ran out, when it did (the token
    /// endpoint asked to wait longer than the policy's `max_retry_after`).
    pub gave_up: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// A response body that is not what the contract describes.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeError {
    /// The `operationId` of the call whose response failed to decode.
    pub operation: &'static str,
    /// The HTTP status of the response.
    pub status: Option<StatusCode>,
    /// The start of the body (at most 200 bytes, lossily decoded), to see what came instead.
    pub excerpt: String,
    /// Where in the body decoding failed, as a path (for example `value[3].cveSupportability`).
    pub path: Option<String>,
    /// The position of the failing item in the page's `value`, when an item failed.
    pub item: Option<usize>,
    /// The `id` of the failing item, when it has one.
    pub item_id: Option<String>,
    source: serde_json::Error,
}

/// A request that did not complete: the connection failed or was closed, or the body could not
/// be read whole.
///
/// The underlying `reqwest` error is reachable through [`std::error::Error::source`], not as a
/// field: this crate's public types do not depend on `reqwest`'s (see the crate's CHANGELOG).
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// The `operationId` of the call (or `token_request` for sign-in).
    pub operation: &'static str,
    /// How many times the request was sent (retries included).
    pub attempts: u32,
    source: reqwest::Error,
}

/// Which time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// [`ClientBuilder::connect_timeout`](crate::ClientBuilder::connect_timeout).
    Connect,
    /// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout): the whole request, body
    /// included.
    Request,
}

impl TimeoutKind {
    /// The builder method that sets this limit.
    pub fn setting(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect_timeout",
            TimeoutKind::Request => "timeout",
        }
    }
}

/// A time limit set on the builder ran out.
#[derive(Debug)]
#[non_exhaustive]
pub struct TimeoutError {
    /// The `operationId` of the call.
    pub operation: &'static str,
    /// Which limit.
    pub kind: TimeoutKind,
    /// The limit that ran out, if one was set.
    pub limit: Option<Duration>,
    /// How many times the request was sent (a connect timeout is retried; a request timeout is
    /// not).
    pub attempts: u32,
    source: reqwest::Error,
}

/// A listing that could not be followed safely.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PagingError {
    /// What was wrong (a next link that is not a URL, leaves the API origin or repeats; a cap).
    pub message: String,
}

/// Input or configuration refused before anything was sent.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvalidInputError {
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Error {
    /// A local file that could not be read.
    #[cfg_attr(not(feature = "tenants"), allow(dead_code))]
    pub(crate) fn file(
        what: impl Into<String>,
        path: &std::path::Path,
        source: std::io::Error,
    ) -> Self {
        Error::File(Box::new(FileError {
            what: what.into(),
            path: path.to_owned(),
            source,
        }))
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInputError {
            message: message.into(),
        })
    }

    pub(crate) fn paging(message: impl Into<String>) -> Self {
        Error::Paging(PagingError {
            message: message.into(),
        })
    }

    pub(crate) fn decode(
        operation: &'static str,
        status: Option<StatusCode>,
        excerpt: String,
        source: serde_json::Error,
    ) -> Self {
        Error::Decode(Box::new(DecodeError {
            operation,
            status,
            excerpt,
            path: None,
            item: None,
            item_id: None,
            source,
        }))
    }

    /// Adds where a decode error happened.
    pub(crate) fn at(
        mut self,
        path: Option<String>,
        item: Option<usize>,
        item_id: Option<String>,
    ) -> Self {
        if let Error::Decode(decode) = &mut self {
            decode.path = path;
            decode.item = item;
            decode.item_id = item_id;
        }
        self
    }

    pub(crate) fn transport(
        operation: &'static str,
        attempts: u32,
        source: reqwest::Error,
    ) -> Self {
        Error::Transport(Box::new(TransportError {
            operation,
            attempts,
            source,
        }))
    }

    pub(crate) fn timeout(
        operation: &'static str,
        kind: TimeoutKind,
        limit: Option<Duration>,
        attempts: u32,
        source: reqwest::Error,
    ) -> Self {
        Error::Timeout(Box::new(TimeoutError {
            operation,
            kind,
            limit,
            attempts,
            source,
        }))
    }

    /// The HTTP status of the response that caused the error, if a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::Decode(decode) => decode.status,
            // Storage's status, when a download was refused (a 404, a 403 past fresh links).
            Error::Export(export) => export
                .source
                .as_deref()
                .and_then(|e| e.downcast_ref::<Error>())
                .and_then(Error::status),
            Error::Auth(_)
            | Error::Transport(_)
            | Error::Timeout(_)
            | Error::Paging(_)
            | Error::InvalidInput(_)
            | Error::File(_) => None,
        }
    }

    /// The MDE error code (`error.code`), for example `ResourceNotFound`.
    pub fn code(&self) -> Option<&str> {
        self.api().and_then(|api| api.code.as_deref())
    }

    /// The MDE tracking id (`error.target`) to quote to Microsoft support.
    pub fn target(&self) -> Option<&str> {
        self.api().and_then(|api| api.target.as_deref())
    }

    /// How long the service asked to wait before retrying (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(|api| api.retry_after)
    }

    /// The service's error details, for [`Error::Api`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// Takes the `reqwest` error out of a transport or timeout error (for the generated client's
    /// hooks, which must hand one back).
    pub(crate) fn into_reqwest(self) -> Result<reqwest::Error, Error> {
        match self {
            Error::Transport(e) => Ok(e.source),
            Error::Timeout(e) => Ok(e.source),
            other => Err(other),
        }
    }
}

impl ExportError {
    pub(crate) fn new(
        kind: ExportErrorKind,
        file: &str,
        line: Option<u64>,
        attempts: u32,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            file: file.to_owned(),
            line,
            attempts,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "export file {}", self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        write!(f, ": {}", self.message)?;
        if self.attempts > 1 {
            write!(f, " (after {} downloads)", self.attempts)?;
        }
        Ok(())
    }
}

impl AuthError {
    /// A sign-in failure named `error`; for your own [`crate::Credential`] implementations.
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            status: None,
            error: error.into(),
            description: None,
            aadsts: None,
            trace_id: None,
            correlation_id: None,
            transient: false,
            attempts: 1,
            gave_up: None,
            source: None,
        }
    }

    /// Adds a human-readable description. It must not contain a secret.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds the underlying error. Its message must not contain a secret.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// What to check, for the AADSTS codes a misconfigured application meets most.
    fn advice(&self) -> Option<&'static str> {
        Some(match self.aadsts? {
            7000215 => "the client secret is wrong (use the secret's value, not its id)",
            7000222 => "the client secret has expired; create a new one",
            700016 => {
                "the application (client id) is not found in this tenant; check the client and tenant ids"
            }
            90002 | 900023 => "the tenant is not found; check the tenant id and the cloud",
            500011 => "the Defender API is not found in this tenant; check the cloud and the scope",
            65001 | 650057 => {
                "the application lacks admin consent for the Defender API permissions"
            }
            70011 | 1002012 => "the scope is invalid; check the cloud and the scope",
            _ => return None,
        })
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sign-in failed: {}", self.error)?;
        if let Some(code) = self.aadsts {
            write!(f, " (AADSTS{code})")?;
        }
        if let Some(status) = self.status {
            write!(f, " [token endpoint answered {status}]")?;
        }
        match (&self.gave_up, self.transient) {
            (Some(why), _) => write!(
                f,
                " (a transient failure, after {} attempts; {why})",
                self.attempts
            )?,
            (None, true) => write!(
                f,
                " (a transient failure; gave up after {} attempts)",
                self.attempts
            )?,
            (None, false) => {}
        }
        if let Some(advice) = self.advice() {
            write!(f, ": {advice}")?;
        }
        if let Some(description) = &self.description {
            write!(f, "; {description}")?;
        }
        if let Some(trace) = &self.trace_id {
            write!(f, " (trace id {trace}")?;
            match &self.correlation_id {
                Some(correlation) => write!(f, ", correlation id {correlation})")?,
                None => write!(f, ")")?,
            }
        }
        Ok(())
    }
}

impl ApiError {
    /// What the status means for the caller, and what to do about it.
    fn advice(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.status;
        match status {
            StatusCode::UNAUTHORIZED => write!(
                f,
                "{status}: the access token is invalid or expired; get a new token"
            ),
            StatusCode::FORBIDDEN => write!(
                f,
                "{status}: the token is valid but the application lacks the permission `{}` \
                 (or delegated `{}`) that {} needs; grant it and give admin consent",
                self.permission.application, self.permission.delegated, self.operation
            ),
            StatusCode::TOO_MANY_REQUESTS => match self.retry_after {
                Some(wait) => write!(
                    f,
                    "{status}: rate limited; retry after {} seconds",
                    wait.as_secs()
                ),
                None => write!(f, "{status}: rate limited; wait before retrying"),
            },
            StatusCode::NOT_FOUND => write!(f, "{status}: not found (check the id)"),
            StatusCode::BAD_REQUEST => write!(f, "{status}: the service refused the request"),
            s if s.is_server_error() => write!(f, "{status}: the service failed; retry later"),
            s => write!(f, "unexpected response {s}"),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed with ", self.operation)?;
        self.advice(f)?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if let Some(message) = &self.message {
            write!(f, " {message}")?;
        }
        if let Some(target) = &self.target {
            write!(f, " (tracking id {target})")?;
        }
        if let Some(excerpt) = &self.body_excerpt {
            write!(f, " (body: {excerpt:?})")?;
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        if let Some(why) = &self.gave_up {
            write!(f, "; {why}")?;
        }
        Ok(())
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode the response of {}", self.operation)?;
        if let Some(status) = self.status {
            write!(f, " ({status})")?;
        }
        if let Some(path) = &self.path {
            write!(f, " at `{path}`")?;
        }
        match (self.item, &self.item_id) {
            (Some(item), Some(id)) => write!(f, " (item {item}, id {id:?})")?,
            (Some(item), None) => write!(f, " (item {item})")?,
            _ => {}
        }
        write!(f, "; body starts with {:?}", self.excerpt)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} did not complete", self.operation)?;
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let which = match self.kind {
            TimeoutKind::Connect => "connect",
            TimeoutKind::Request => "request",
        };
        write!(f, "{}: the {which} timeout", self.operation)?;
        if let Some(limit) = self.limit {
            write!(f, " ({} ms)", limit.as_millis())?;
        }
        if self.attempts > 1 {
            write!(f, " on each of {} attempts", self.attempts)?;
        }
        write!(
            f,
            " ran out; raise it with `ClientBuilder::{}` if the service is slow",
            self.kind.setting()
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(api) => api.fmt(f),
            Error::Auth(auth) => auth.fmt(f),
            Error::Decode(decode) => decode.fmt(f),
            Error::Transport(transport) => transport.fmt(f),
            Error::Timeout(timeout) => timeout.fmt(f),
            Error::Paging(paging) => write!(f, "cannot follow the listing: {}", paging.message),
            Error::InvalidInput(input) => write!(f, "invalid input: {}", input.message),
            Error::Export(export) => export.fmt(f),
            Error::File(file) => file.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Decode(decode) => Some(&decode.source),
            Error::Transport(transport) => Some(&transport.source),
            Error::Timeout(timeout) => Some(&timeout.source),
            Error::Auth(auth) => auth.source.as_deref().map(|e| e as _),
            Error::Export(export) => export.source.as_deref().map(|e| e as _),
            Error::File(file) => Some(&file.source),
            Error::Api(_) | Error::Paging(_) | Error::InvalidInput(_) => None,
        }
    }
}

impl From<Box<AuthError>> for Error {
    fn from(auth: Box<AuthError>) -> Self {
        Error::Auth(auth)
    }
}

impl From<AuthError> for Error {
    fn from(auth: AuthError) -> Self {
        Error::Auth(Box::new(auth))
    }
}
