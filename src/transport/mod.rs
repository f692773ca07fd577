//! The one sending path: every request of the crate, generated call or next-link page, goes
//! through [`Transport::send`], from request to `Result`:
//!
//! 1. drop progenitor's `api-version` header (a Dropshot convention, not this API's);
//! 2. per attempt: the token (for the API origin only), a place in the client-side rate limit,
//!    the exchange, and the whole body read (so a body cut short is an attempt that failed);
//! 3. after a 401, a fresh token and one more attempt, outside the retry budget (unless the fresh
//!    token is the refused one, as a static token always is);
//! 4. after a retryable status or a transient transport failure (a connection failed, closed or
//!    reset before the response, a body cut short), a wait as the [`RetryPolicy`] says, and
//!    another attempt, in the one retry loop ([`RetryPolicy::run`], which the token request uses
//!    too); a failure that exhausts the attempts says how many were made and what the last one
//!    was;
//! 5. the final response: a 2xx is returned with its body; any other status becomes
//!    [`Error::Api`] (`response.rs`), whatever its body.
//!
//! [`response`] turns bodies into values or errors; [`rate_limit`] is the client-side limiter.
//! (How the generated client enters this path: `client/hooks.rs`.)

pub(crate) mod rate_limit;
pub(crate) mod response;

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::auth::token_cache::TokenCache;
use crate::error::Error;
use crate::error::TimeoutKind;
use crate::operations::{Budget, Operation};
use crate::wire::body::{read_limited, retry_after};
use crate::wire::retry::{Attempt, Ran, RetryPolicy, innermost_cause, is_transient};
use rate_limit::Limiters;

/// The header progenitor adds to every generated request (a Dropshot convention, not this API's).
const API_VERSION: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("api-version");

/// How much of an error body is read to look for the OData error inside.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The client's time limits, kept to say which one ran out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) connect: Option<Duration>,
    pub(crate) request: Option<Duration>,
}

/// Everything a request needs on its way, shared by all clones of a client.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    api_origin: url::Origin,
    tokens: TokenCache,
    retry: RetryPolicy,
    limiters: Limiters,
    timeouts: Timeouts,
}

/// The final response of a request, its body read whole.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// A 2xx response whose body was left to the caller to stream ([`Headers::StreamBody`]).
    pub(crate) unread: Option<reqwest::Response>,
    /// Where an error response came from (to send the request again, if need be).
    pub(crate) url: Option<reqwest::Url>,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// How many times the request was sent (retries included, a 401 refresh not).
    pub(crate) attempts: u32,
    /// Why the path stopped retrying early, when it did.
    pub(crate) gave_up: Option<String>,
}

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        api_origin: url::Origin,
        tokens: TokenCache,
        retry: RetryPolicy,
        limiters: Limiters,
        timeouts: Timeouts,
    ) -> Self {
        Self {
            http,
            api_origin,
            tokens,
            retry,
            limiters,
            timeouts,
        }
    }

    /// Scheme, host and port of the API: the only origin a token (or a next link) may go to.
    pub(crate) fn api_origin(&self) -> &url::Origin {
        &self.api_origin
    }

    /// How long calls are waiting on the client-side rate limit (any budget), if they are.
    pub(crate) fn rate_limit_wait(&self) -> Option<Duration> {
        self.limiters.blocked_for()
    }

    /// How long `calls` calls counted against `budget` take at the least under the client-side
    /// rate limit.
    pub(crate) fn rate_limit_estimate(&self, budget: Budget, calls: u64) -> Duration {
        self.limiters
            .of(budget)
            .map_or(Duration::ZERO, |limiter| limiter.estimate(calls))
    }

    /// Sends `request` for `operation` and returns its 2xx response, body read; any other final
    /// status is [`Error::Api`].
    pub(crate) async fn send(
        &self,
        request: reqwest::Request,
        operation: &Operation,
    ) -> Result<Fetched, Error> {
        let fetched = self
            .exchange(request, operation, Headers::WhenNotSuccess)
            .await?;
        if fetched.status.is_success() {
            Ok(fetched)
        } else {
            Err(response::api_error(&fetched, operation))
        }
    }

    /// Sends `request` (see the module documentation) and returns its final response, whatever
    /// the status; errors are failures to get one. `headers` says when the response headers are
    /// kept (a 2xx body decoded by the facade needs none: not copying them is per-call work
    /// saved).
    pub(crate) async fn exchange(
        &self,
        mut request: reqwest::Request,
        operation: &Operation,
        headers: Headers,
    ) -> Result<Fetched, Error> {
        request.headers_mut().remove(API_VERSION);
        let Ran {
            outcome,
            attempts,
            gave_up,
        } = self
            .retry
            .run(operation.id, (request, false), |(request, refreshed)| {
                self.attempt(request, refreshed, operation.budget, headers)
            })
            .await;
        match outcome? {
            Ok(fetched) => Ok(fetched.after(attempts, gave_up)),
            Err(e) => Err(self.transport_error(e, operation, attempts)),
        }
    }

    /// One attempt: the token, a place in the rate limit, the exchange; after a 401, one fresh
    /// token and one more exchange within the attempt (outside the retry budget, once per call:
    /// `refreshed` says whether it happened). A transient failure hands back the request to
    /// send again.
    async fn attempt(
        &self,
        mut request: reqwest::Request,
        mut refreshed: bool,
        budget: Budget,
        headers: Headers,
    ) -> Attempt<(reqwest::Request, bool), Result<Result<Fetched, reqwest::Error>, Error>> {
        loop {
            let token = match self.tokens.authorize(&mut request).await {
                Ok(token) => token,
                Err(e) => return Attempt::Done(Err(e)),
            };
            // What it takes to send it again, if need be (none of this API's requests has a body
            // that cannot be replayed).
            let replay = Replay::of(&request);
            let permit = match self.limiters.of(budget) {
                Some(limiter) => Some(limiter.acquire().await),
                None => None,
            };
            let outcome = match self.http.execute(request).await {
                Ok(response) => Self::read(response, headers).await,
                Err(e) => Err(e),
            };
            // The response has arrived: the call counts as completed now.
            drop(permit);
            // Only a 401 (the first), a retryable status or a transient failure is sent again.
            let again_to = match &outcome {
                Ok(fetched)
                    if (fetched.status == StatusCode::UNAUTHORIZED && !refreshed)
                        || RetryPolicy::is_retryable(fetched.status) =>
                {
                    fetched.url.as_ref()
                }
                Err(e) if is_transient(e) => e.url(),
                _ => None,
            };
            let Some(again) = again_to.and_then(|url| replay.request(url)) else {
                return Attempt::Done(Ok(outcome));
            };
            return match outcome {
                Ok(fetched) if fetched.status == StatusCode::UNAUTHORIZED && !refreshed => {
                    refreshed = true;
                    let Some(used) = token else {
                        return Attempt::Done(Ok(Ok(fetched)));
                    };
                    match self.tokens.refresh_after_unauthorized(used).await {
                        Ok(true) => {
                            request = again;
                            continue;
                        }
                        Ok(false) => Attempt::Done(Ok(Ok(fetched))),
                        Err(e) => Attempt::Done(Err(e)),
                    }
                }
                Ok(fetched) => Attempt::Transient {
                    status: Some(fetched.status),
                    cause: None,
                    retry_after: retry_after(&fetched.headers),
                    outcome: Ok(Ok(fetched)),
                    again: (again, refreshed),
                },
                Err(e) => Attempt::Transient {
                    status: None,
                    cause: Some(innermost_cause(&e)),
                    retry_after: None,
                    outcome: Ok(Err(e)),
                    again: (again, refreshed),
                },
            };
        }
    }

    /// A response with its whole body (an error body read up to a limit).
    async fn read(response: reqwest::Response, keep: Headers) -> Result<Fetched, reqwest::Error> {
        let status = response.status();
        let headers = match keep {
            Headers::WhenNotSuccess if status.is_success() => HeaderMap::new(),
            _ => response.headers().clone(),
        };
        if status.is_success() && matches!(keep, Headers::StreamBody) {
            return Ok(Fetched {
                unread: Some(response),
                url: None,
                status,
                headers,
                body: Bytes::new(),
                attempts: 1,
                gave_up: None,
            });
        }
        let (url, body) = if status.is_success() {
            // A body cut short names its URL (to be sent again).
            (None, response.bytes().await?)
        } else {
            // A response that may be sent again keeps its URL.
            let url = response.url().clone();
            let body = read_limited(response, ERROR_BODY_LIMIT)
                .await
                .map_err(|e| e.with_url(url.clone()))?;
            (Some(url), Bytes::from(body))
        };
        Ok(Fetched {
            unread: None,
            url,
            status,
            headers,
            body,
            attempts: 1,
            gave_up: None,
        })
    }

    /// The client's request timeout, if one is set.
    pub(crate) fn request_timeout(&self) -> Option<Duration> {
        self.timeouts.request
    }

    /// How long the retry policy waits after attempt number `attempt` (from 1) failed: for
    /// waits outside the sending path (an export file's empty body).
    pub(crate) fn backoff(&self, attempt: u32) -> std::time::Duration {
        self.retry.backoff(attempt.max(1))
    }

    /// A failure while an export file's body streamed in (after `attempts` downloads).
    pub(crate) fn file_error(&self, e: reqwest::Error, attempts: u32) -> Error {
        self.transport_error(e, &crate::operations::DOWNLOAD_EXPORT_FILE, attempts)
    }

    /// A failure to get a response, telling a timeout (and which one) from other failures.
    fn transport_error(&self, e: reqwest::Error, operation: &Operation, attempts: u32) -> Error {
        // A request outside the API (an export file) has a signed link: never in an error.
        let e = match operation.budget {
            Budget::None => e.without_url(),
            _ => e,
        };
        if !e.is_timeout() {
            return Error::transport(operation.id, attempts, e);
        }
        let (kind, limit) = if e.is_connect() {
            (TimeoutKind::Connect, self.timeouts.connect)
        } else {
            (TimeoutKind::Request, self.timeouts.request)
        };
        Error::timeout(operation.id, kind, limit, attempts, e)
    }
}

/// What it takes to send a request again. A request of this crate (a GET with `Accept`, and
/// `Authorization`, which each attempt sets anew) is rebuilt from its URL only when it must be
/// sent again, so a call that succeeds copies nothing; any other request is copied before it is
/// sent. (After a redirect the URL is the one the response came from.)
enum Replay {
    Rebuild {
        method: reqwest::Method,
        accept: Option<reqwest::header::HeaderValue>,
    },
    Copy(Option<reqwest::Request>),
}

impl Replay {
    fn of(request: &reqwest::Request) -> Replay {
        let headers = request.headers();
        let plain = request.body().is_none()
            && request.timeout().is_none()
            && headers.len() <= 2
            && headers.keys().all(|name| {
                name == reqwest::header::ACCEPT || name == reqwest::header::AUTHORIZATION
            });
        if plain {
            Replay::Rebuild {
                method: request.method().clone(),
                accept: headers.get(reqwest::header::ACCEPT).cloned(),
            }
        } else {
            Replay::Copy(request.try_clone())
        }
    }

    /// The request to send again, if it can be.
    fn request(self, url: &reqwest::Url) -> Option<reqwest::Request> {
        match self {
            Replay::Rebuild { method, accept } => {
                let mut request = reqwest::Request::new(method, url.clone());
                if let Some(accept) = accept {
                    request
                        .headers_mut()
                        .insert(reqwest::header::ACCEPT, accept);
                }
                Some(request)
            }
            Replay::Copy(request) => request,
        }
    }
}

/// Which responses keep their headers in [`Fetched`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Headers {
    /// Every response (a raw generated call hands them back).
    Always,
    /// Error statuses only, and a 2xx body is not read: the response is handed back to be
    /// streamed (export files).
    StreamBody,
    /// Error statuses only (`Retry-After`); a 2xx is decoded from its body alone.
    WhenNotSuccess,
}

impl Fetched {
    fn after(mut self, attempts: u32, gave_up: Option<String>) -> Self {
        self.attempts = attempts;
        self.gave_up = gave_up;
        self
    }
}
