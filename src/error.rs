//! The crate's one error type.
//!
//! Every failure is one kind a caller can match on: the service answered with an error status
//! ([`Error::Api`]), signing in failed ([`Error::Auth`]), a response could not be decoded
//! ([`Error::Decode`]), the request did not complete ([`Error::Transport`]), a listing could not be
//! followed safely ([`Error::Paging`]), or the input was refused before anything was sent
//! ([`Error::InvalidInput`]). Messages say what to do next; none contains a token or secret.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::generated::types::ODataError;
use crate::operation::Operation;

/// How many bytes of an unexpected body an error keeps (and reads, at most).
const EXCERPT_BYTES: usize = 200;
/// How much of an error body is read to look for the OData error inside.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Everything that can go wrong when calling the API.
///
/// ```
/// # async fn run(client: defender_tvm::Client) {
/// use defender_tvm::Error;
/// use reqwest::StatusCode;
///
/// match client.missing_kbs("microsoft-_-edge").await {
///     Ok(kbs) => println!("{} missing KBs", kbs.len()),
///     Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => println!("no such software"),
///     Err(e) if e.code() == Some("TooManyRequests") => println!("slow down: {e}"),
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
    Decode {
        /// The HTTP status of the response, when known.
        status: Option<StatusCode>,
        /// The start of the body (at most 200 bytes, lossily decoded), to see what came instead.
        excerpt: String,
        /// What the decoder found wrong.
        source: serde_json::Error,
    },
    /// The request did not complete: connection, TLS, or reading the body failed.
    Transport(reqwest::Error),
    /// A time limit set on the builder ran out.
    Timeout {
        /// Which limit: [`ClientBuilder::connect_timeout`](crate::ClientBuilder::connect_timeout)
        /// (`"connect"`) or [`ClientBuilder::timeout`](crate::ClientBuilder::timeout) (`"request"`).
        which: &'static str,
        /// The limit that ran out, if one was set.
        limit: Option<Duration>,
        /// What reqwest reported.
        source: reqwest::Error,
    },
    /// A listing could not be followed safely: a next link that is not a URL, leaves the API
    /// origin, or repeats (the service would loop forever).
    Paging {
        /// What was wrong with the next link.
        message: String,
    },
    /// The caller's input (or configuration) was refused before anything was sent.
    InvalidInput {
        /// What is wrong and how to fix it.
        message: String,
    },
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
    permission: (&'static str, &'static str),
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
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
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
        if let Some(advice) = self.advice() {
            write!(f, ": {advice}")?;
        }
        if let Some(description) = &self.description {
            write!(f, "; {description}")?;
        }
        if let Some(source) = &self.source {
            write!(f, "; {source}")?;
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

impl Error {
    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    /// The HTTP status of the response that caused the error, if a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::Decode { status, .. } => *status,
            Error::Transport(e) => e.status(),
            Error::Timeout { .. } => None,
            Error::Auth(_) | Error::Paging { .. } | Error::InvalidInput { .. } => None,
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

    /// Maps what the generated client returned into this error.
    ///
    /// `status` is the status of the last response the call received (the generated client
    /// drops it when a body fails to decode).
    pub(crate) async fn from_generated(
        error: progenitor_client::Error<ODataError>,
        status: Option<StatusCode>,
        operation: &'static Operation,
    ) -> Self {
        use progenitor_client::Error as E;
        match error {
            E::ErrorResponse(response) => {
                let status = response.status();
                let retry_after = retry_after(response.headers());
                let detail = response.into_inner().error;
                Error::Api(Box::new(ApiError {
                    status,
                    code: Some(detail.code),
                    message: Some(detail.message),
                    target: detail.target,
                    retry_after,
                    body_excerpt: None,
                    operation: operation.id,
                    attempts: 1,
                    gave_up: None,
                    permission: operation.permission,
                }))
            }
            E::UnexpectedResponse(response) => Error::from_response(response, operation).await,
            E::InvalidResponsePayload(body, source) => Error::decode(status, &body, source),
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                Error::Transport(e)
            }
            E::InvalidRequest(message) | E::Custom(message) => Error::InvalidInput { message },
        }
    }

    pub(crate) fn decode(
        status: Option<StatusCode>,
        body: &[u8],
        source: serde_json::Error,
    ) -> Self {
        Error::Decode {
            status,
            excerpt: excerpt(body),
            source,
        }
    }

    /// An error response read here rather than by the generated code (a status the contract
    /// does not list, or a next-link page): keep its status, and its MDE error body if it has
    /// one, else an excerpt.
    pub(crate) async fn from_response(
        response: reqwest::Response,
        operation: &'static Operation,
    ) -> Self {
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = match read_limited(response, ERROR_BODY_LIMIT).await {
            Ok(body) => body,
            Err(e) => return Error::Transport(e),
        };
        let (code, message, target, body_excerpt) =
            match serde_json::from_slice::<ODataError>(&body) {
                Ok(e) => (
                    Some(e.error.code),
                    Some(e.error.message),
                    e.error.target,
                    None,
                ),
                Err(_) => (None, None, None, Some(excerpt(&body))),
            };
        Error::Api(Box::new(ApiError {
            status,
            code,
            message,
            target,
            retry_after,
            body_excerpt,
            operation: operation.id,
            attempts: 1,
            gave_up: None,
            permission: operation.permission,
        }))
    }
}

impl ApiError {
    /// The application permission the failed operation needs (for example `Software.Read.All`).
    pub fn application_permission(&self) -> &'static str {
        self.permission.0
    }

    /// The delegated permission the failed operation needs (for example `Software.Read`).
    pub fn delegated_permission(&self) -> &'static str {
        self.permission.1
    }

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
                self.permission.0, self.permission.1, self.operation
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(api) => api.fmt(f),
            Error::Auth(auth) => auth.fmt(f),
            Error::Decode {
                status,
                excerpt,
                source,
            } => {
                write!(f, "cannot decode the response")?;
                if let Some(status) = status {
                    write!(f, " ({status})")?;
                }
                write!(f, ": {source}; body starts with {excerpt:?}")
            }
            Error::Transport(e) => write!(f, "the request did not complete: {e}"),
            Error::Timeout { which, limit, .. } => {
                write!(f, "the {which} timeout")?;
                if let Some(limit) = limit {
                    write!(f, " ({} ms)", limit.as_millis())?;
                }
                let setting = if *which == "connect" {
                    "connect_timeout"
                } else {
                    "timeout"
                };
                write!(
                    f,
                    " ran out; raise it with `ClientBuilder::{setting}` if the service is slow"
                )
            }
            Error::Paging { message } => write!(f, "cannot follow the listing: {message}"),
            Error::InvalidInput { message } => write!(f, "invalid input: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Decode { source, .. } => Some(source),
            Error::Transport(e) | Error::Timeout { source: e, .. } => Some(e),
            Error::Auth(auth) => auth.source.as_deref().map(|e| e as _),
            Error::Api(_) | Error::Paging { .. } | Error::InvalidInput { .. } => None,
        }
    }
}

/// `Retry-After` as seconds or an HTTP date (a date in the past means "now").
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The start of a body, lossily decoded, cut at a character boundary.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_BYTES)]);
    let mut text = text.trim_end_matches('\u{FFFD}').to_string();
    if body.len() > EXCERPT_BYTES {
        text.push('…');
    }
    text
}

/// Reads at most `limit` bytes of a body (an error body can be anything a proxy sends).
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())]);
        if body.len() >= limit {
            break;
        }
    }
    Ok(body)
}
