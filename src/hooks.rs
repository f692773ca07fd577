//! The facade's side of progenitor's `ClientHooks`: what happens to every request the generated
//! client sends.
//!
//! - `pre`: drop progenitor's `api-version` header, a Dropshot convention that is not part of
//!   this API's contract;
//! - `exec`: send through the client's one sending path (which attaches the token, only for the
//!   API origin), and note the response status for error reporting (the generated client forgets
//!   it when a body fails to decode).

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::StatusCode;

use crate::client::Shared;
use crate::generated;

/// State for one call through the generated client: the client's shared configuration, and
/// what the call learned on the way.
#[derive(Debug)]
pub struct CallContext {
    shared: Arc<Shared>,
    last_status: AtomicU16,
}

impl CallContext {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            last_status: AtomicU16::new(0),
        }
    }

    /// The status of the last response this call received, if any.
    pub(crate) fn last_status(&self) -> Option<StatusCode> {
        StatusCode::from_u16(self.last_status.load(Ordering::Relaxed)).ok()
    }
}

/// A clone (the generated client derives `Clone`) shares the configuration and starts with what
/// the original had learned.
impl Clone for CallContext {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            last_status: AtomicU16::new(self.last_status.load(Ordering::Relaxed)),
        }
    }
}

impl ClientHooks<CallContext> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        request.headers_mut().remove("api-version");
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let response = self.inner().shared.send(request).await?;
        self.inner()
            .last_status
            .store(response.status().as_u16(), Ordering::Relaxed);
        Ok(response)
    }
}
