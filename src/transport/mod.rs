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
use crate::error::{Permission, TimeoutKind};
use crate::wire::body::{read_limited, retry_after};
use crate::wire::retry::{Attempt, Ran, RetryPolicy, innermost_cause, is_transient};
use rate_limit::Limiter;

/// How much of an error body is read to look for the OData error inside.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// What the sending path knows about an operation that the generated code does not carry: its
/// `operationId` and the permissions it needs (see `api/operations.rs`).
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) id: &'static str,
    pub(crate) permission: Permission,
}

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
    limiter: Limiter,
    timeouts: Timeouts,
}

/// The final response of a request, its body read whole.
#[derive(Debug)]
pub(crate) struct Fetched {
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
        limiter: Limiter,
        timeouts: Timeouts,
    ) -> Self {
        Self {
            http,
            api_origin,
            tokens,
            retry,
            limiter,
            timeouts,
        }
    }

    /// Scheme, host and port of the API: the only origin a token (or a next link) may go to.
    pub(crate) fn api_origin(&self) -> &url::Origin {
        &self.api_origin
    }

    /// How long calls are waiting on the client-side rate limit, if they are.
    pub(crate) fn rate_limit_wait(&self) -> Option<Duration> {
        self.limiter.blocked_for()
    }

    /// How long `calls` calls take at the least under the client-side rate limit.
    pub(crate) fn rate_limit_estimate(&self, calls: u64) -> Duration {
        self.limiter.estimate(calls)
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
        request.headers_mut().remove("api-version");
        let Ran {
            outcome,
            attempts,
            gave_up,
        } = self
            .retry
            .run(operation.id, (request, false), |(request, refreshed)| {
                self.attempt(request, refreshed, headers)
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
        headers: Headers,
    ) -> Attempt<(reqwest::Request, bool), Result<Result<Fetched, reqwest::Error>, Error>> {
        loop {
            let token = match self.tokens.authorize(&mut request).await {
                Ok(token) => token,
                Err(e) => return Attempt::Done(Err(e)),
            };
            // A request whose body cannot be replayed is sent once (none of this API's).
            let replay = request.try_clone();
            let permit = self.limiter.acquire().await;
            let outcome = self.exchange_once(request, headers).await;
            // The response has arrived: the call counts as completed now.
            drop(permit);
            let Some(replay) = replay else {
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
                            request = replay;
                            continue;
                        }
                        Ok(false) => Attempt::Done(Ok(Ok(fetched))),
                        Err(e) => Attempt::Done(Err(e)),
                    }
                }
                Ok(fetched) if RetryPolicy::is_retryable(fetched.status) => Attempt::Transient {
                    status: Some(fetched.status),
                    cause: None,
                    retry_after: retry_after(&fetched.headers),
                    outcome: Ok(Ok(fetched)),
                    again: (replay, refreshed),
                },
                Err(e) if is_transient(&e) => Attempt::Transient {
                    status: None,
                    cause: Some(innermost_cause(&e)),
                    retry_after: None,
                    outcome: Ok(Err(e)),
                    again: (replay, refreshed),
                },
                other => Attempt::Done(Ok(other)),
            };
        }
    }

    /// One exchange: the response and its whole body (an error body read up to a limit).
    async fn exchange_once(
        &self,
        request: reqwest::Request,
        keep: Headers,
    ) -> Result<Fetched, reqwest::Error> {
        let response = self.http.execute(request).await?;
        let status = response.status();
        let headers = match keep {
            Headers::WhenNotSuccess if status.is_success() => HeaderMap::new(),
            _ => response.headers().clone(),
        };
        let body = if status.is_success() {
            response.bytes().await?
        } else {
            Bytes::from(read_limited(response, ERROR_BODY_LIMIT).await?)
        };
        Ok(Fetched {
            status,
            headers,
            body,
            attempts: 1,
            gave_up: None,
        })
    }

    /// A failure to get a response, telling a timeout (and which one) from other failures.
    fn transport_error(&self, e: reqwest::Error, operation: &Operation, attempts: u32) -> Error {
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

/// Which responses keep their headers in [`Fetched`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Headers {
    /// Every response (a raw generated call hands them back).
    Always,
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
