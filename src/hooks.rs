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

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::StatusCode;

use crate::client::Shared;
use crate::generated::types::ODataError;
use crate::operation::Operation;
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
    /// A failure the generated code could not carry.
    failure: Mutex<Option<Error>>,
}

impl CallContext {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            last_status: AtomicU16::new(0),
            token: AtomicU64::new(0),
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

    /// Sends a prepared request; after a 401, refreshes the token and sends once more. A failed
    /// refresh is kept (see [`CallContext::error`]) and the 401 is returned.
    pub(crate) async fn send(
        &self,
        request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        let retry = request.try_clone();
        let response = self.execute(request).await?;
        let used: Generation = self.token.load(Ordering::Relaxed);
        let (Some(mut retry), StatusCode::UNAUTHORIZED, 1..) = (retry, response.status(), used)
        else {
            return Ok(response);
        };
        let refreshed = match self.shared.tokens.refresh_after_unauthorized(used).await {
            Ok(true) => self.prepare(&mut retry).await,
            Ok(false) => return Ok(response),
            Err(e) => Err(e),
        };
        match refreshed {
            Ok(()) => self.execute(retry).await,
            Err(e) => {
                self.keep(e);
                Ok(response)
            }
        }
    }

    async fn execute(&self, request: reqwest::Request) -> reqwest::Result<reqwest::Response> {
        let response = self.shared.http.execute(request).await?;
        self.last_status
            .store(response.status().as_u16(), Ordering::Relaxed);
        Ok(response)
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
        match self.take_failure() {
            Some(kept) => kept,
            None => {
                let status = StatusCode::from_u16(self.last_status.load(Ordering::Relaxed)).ok();
                Error::from_generated(error, status, operation).await
            }
        }
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
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner().send(request).await
    }
}
