//! How every request of the crate is sent: generated calls through progenitor's `ClientHooks`,
//! next-link pages directly, both with the same two steps of [`CallContext`]:
//!
//! - [`CallContext::prepare`]: drop progenitor's `api-version` header (a Dropshot convention, not
//!   part of this API's contract) and attach the token, only for the API origin;
//! - [`CallContext::send`]: send; after a 401, get a fresh token and send once more, unless the
//!   fresh token is the refused one (a static token).
//!
//! The generated code can only report failures as its own error type, so a typed failure (a
//! sign-in error) is kept in the context and [`CallContext::error`] puts it back.

use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::StatusCode;

use crate::client::Shared;
use crate::generated::types::ODataError;
use crate::operation::Operation;
use crate::retry::{Decision, RetryPolicy};
use crate::token_cache::Generation;
use crate::{Error, generated};

/// State for one call: the client's shared configuration, and what the call learned on the way.
/// It is the generated client's inner value (see [`crate::Client::generated`]).
#[derive(Debug)]
pub struct CallContext {
    shared: Arc<Shared>,
    /// The status of the last response received (0: none yet).
    last_status: AtomicU16,
    /// The generation of the token attached by the last `prepare` (0: none).
    token: AtomicU64,
    /// How many attempts the last `send` made.
    attempts: AtomicU32,
    /// Why the last `send` stopped retrying, when the error should say so.
    note: Mutex<Option<String>>,
    /// A failure the generated code could not carry.
    failure: Mutex<Option<Error>>,
}

impl CallContext {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            last_status: AtomicU16::new(0),
            token: AtomicU64::new(0),
            attempts: AtomicU32::new(0),
            note: Mutex::new(None),
            failure: Mutex::new(None),
        }
    }

    /// Makes a request ready to send: no `api-version` header, the token for the API origin.
    pub(crate) async fn prepare(&self, request: &mut reqwest::Request) -> Result<(), Error> {
        request.headers_mut().remove("api-version");
        let generation = self.shared.tokens.authorize(request).await?;
        self.token.store(generation.unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }

    /// Sends a prepared request, within the client's rate limit:
    /// - after a 401, refreshes the token and sends once more (not counted as an attempt);
    /// - after a retryable status or a connection failure, waits as the retry policy says and
    ///   sends again, up to its attempts; each retry is a tracing event.
    ///
    /// The last response (or transport error) is returned; why the call stopped retrying, and a
    /// failed token refresh, are kept for [`CallContext::error`].
    pub(crate) async fn send(
        &self,
        mut request: reqwest::Request,
        operation: &str,
    ) -> reqwest::Result<reqwest::Response> {
        let policy = self.shared.retry;
        let mut attempt = 1;
        let mut refreshed = false;
        loop {
            let replay = request.try_clone();
            let permit = self.shared.limiter.acquire().await;
            let outcome = self.execute(request).await;
            // The response has arrived: the call counts as completed now.
            drop(permit);
            self.attempts.store(attempt, Ordering::Relaxed);
            // A request whose body cannot be replayed is sent once (none of this API's).
            let Some(mut next) = replay else {
                return outcome;
            };
            let (status, retry_after) = match &outcome {
                Ok(response) if response.status() == StatusCode::UNAUTHORIZED && !refreshed => {
                    refreshed = true;
                    match self.refresh_token(&mut next).await {
                        Ok(true) => {
                            request = next;
                            continue;
                        }
                        Ok(false) => return outcome,
                        Err(e) => {
                            self.keep(e);
                            return outcome;
                        }
                    }
                }
                Ok(response) if RetryPolicy::is_retryable(response.status()) => (
                    Some(response.status().as_u16()),
                    crate::error::retry_after(response.headers()),
                ),
                Err(e) if e.is_connect() => (None, None),
                _ => return outcome,
            };
            match policy.decide(attempt, retry_after) {
                Decision::Stop => return outcome,
                Decision::WaitTooLong { asked, cap } => {
                    self.note(format!(
                        "the service asked to wait {} s, more than the retry policy's \
                         max_retry_after of {} s; gave up",
                        asked.as_secs(),
                        cap.as_secs()
                    ));
                    return outcome;
                }
                Decision::RetryAfter(wait) => {
                    // Renew the token if needed before waiting (waits are far shorter than the
                    // renewal margin).
                    if let Err(e) = self.prepare(&mut next).await {
                        self.keep(e);
                        return outcome;
                    }
                    tracing::warn!(
                        operation,
                        status,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "retrying after a transient failure"
                    );
                    drop(outcome);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    request = next;
                }
            }
        }
    }

    /// After a 401: a fresh token on `request`, if one differs from the refused token.
    async fn refresh_token(&self, request: &mut reqwest::Request) -> Result<bool, Error> {
        let used: Generation = self.token.load(Ordering::Relaxed);
        if used == 0 || !self.shared.tokens.refresh_after_unauthorized(used).await? {
            return Ok(false);
        }
        self.prepare(request).await?;
        Ok(true)
    }

    async fn execute(&self, request: reqwest::Request) -> reqwest::Result<reqwest::Response> {
        let response = self.shared.http.execute(request).await?;
        self.last_status
            .store(response.status().as_u16(), Ordering::Relaxed);
        Ok(response)
    }

    fn note(&self, why: String) {
        if let Ok(mut note) = self.note.lock() {
            *note = Some(why);
        }
    }

    fn keep(&self, error: Error) {
        if let Ok(mut failure) = self.failure.lock() {
            *failure = Some(error);
        }
    }

    /// The failure kept while sending, if any.
    pub(crate) fn take_failure(&self) -> Option<Error> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }

    /// The facade's error for what a generated call returned: a kept failure first, else the
    /// generated error with the status the call saw.
    pub(crate) async fn error(
        &self,
        error: progenitor_client::Error<ODataError>,
        operation: &'static Operation,
    ) -> Error {
        if let Some(kept) = self.take_failure() {
            return kept;
        }
        let error = match error {
            // Sending or reading the body: a timeout says which limit ran out.
            progenitor_client::Error::CommunicationError(e)
            | progenitor_client::Error::ResponseBodyError(e) => self.shared.transport_error(e),
            other => {
                let status = StatusCode::from_u16(self.last_status.load(Ordering::Relaxed)).ok();
                Error::from_generated(other, status, operation).await
            }
        };
        self.annotate(error)
    }

    /// Adds what the sending learned (attempts, why it gave up) to an API error.
    pub(crate) fn annotate(&self, mut error: Error) -> Error {
        if let Error::Api(api) = &mut error {
            api.attempts = self.attempts.load(Ordering::Relaxed).max(1);
            api.gave_up = self.note.lock().ok().and_then(|mut n| n.take());
        }
        error
    }
}

/// A clone (the generated client derives `Clone`) shares the configuration and starts afresh.
impl Clone for CallContext {
    fn clone(&self) -> Self {
        Self::new(Arc::clone(&self.shared))
    }
}

impl ClientHooks<CallContext> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        self.inner().prepare(request).await.map_err(|e| {
            let message = e.to_string();
            self.inner().keep(e);
            progenitor_client::Error::Custom(message)
        })
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner().send(request, info.operation_id).await
    }
}
