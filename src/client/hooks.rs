//! How generated calls enter the one sending path, through progenitor's `ClientHooks`.
//!
//! The generated client's inner value is the client's [`Transport`], with no per-call state in
//! it: concurrent calls on one generated client never see each other's outcome.
//!
//! - **Facade calls** use the generated builders only to build the request (path encoding,
//!   query parameters): [`capture`] runs the builder's `send()` with a slot for its request (a
//!   thread-local one: building is synchronous, so nothing else runs on the thread meanwhile),
//!   the `pre` hook moves the built request into it and stops the generated code there, and the
//!   facade sends the request through [`Transport::send`] and decodes the body itself.
//! - **Raw calls** (`Client::generated()` used directly) are sent by the `exec` hook through
//!   [`Transport::exchange`] and handed back to the generated code as a response rebuilt from
//!   the body already read. A failure that is not a `reqwest` error (a sign-in failure) travels
//!   to the `post` hook in the response's extensions, which returns it as
//!   `progenitor_client::Error::Custom` with its message.

use std::cell::RefCell;
use std::future::Future;

use futures::FutureExt;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

use crate::error::{Error, Permission};
use crate::generated;
use crate::operations::{self, Budget, Operation};
use crate::transport::{Headers, Transport};

thread_local! {
    /// While [`capture`] runs a facade call's generated builder on this thread: the slot for the
    /// request it builds. `None` at any other time, so a raw call's `pre` hook sees no slot.
    static CAPTURED: RefCell<Option<Option<reqwest::Request>>> = const { RefCell::new(None) };
}

/// A capture in progress on this thread; ends it however the builder ends (a panic included).
struct Capturing;

impl Capturing {
    fn start() -> Self {
        CAPTURED.with(|slot| *slot.borrow_mut() = Some(None));
        Capturing
    }

    /// The request the builder handed over, if it did.
    fn take(&self) -> Option<reqwest::Request> {
        CAPTURED.with(|slot| slot.borrow_mut().as_mut().and_then(Option::take))
    }
}

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURED.with(|slot| *slot.borrow_mut() = None);
    }
}

/// Runs a generated call's `send()` only up to the request it would send, and returns that
/// request. Building is synchronous (the `pre` hook completes at once), so one poll suffices and
/// the request is ready when this returns. A builder that cannot build one (a missing or invalid
/// parameter) is [`Error::InvalidInput`].
#[inline(always)]
pub(crate) fn capture<T, E: std::fmt::Debug>(
    send: impl Future<Output = Result<T, progenitor_client::Error<E>>>,
) -> Result<reqwest::Request, Error> {
    // Pinned where it stands: the generated future is large, and moving it costs.
    let mut send = std::pin::pin!(send);
    let capturing = Capturing::start();
    let outcome = send.as_mut().now_or_never();
    let captured = (capturing.take(), outcome);
    drop(capturing);
    match captured {
        (Some(request), _) => Ok(request),
        (None, Some(Err(progenitor_client::Error::InvalidRequest(message)))) => {
            Err(Error::invalid_input(message))
        }
        (None, Some(Err(other))) => Err(Error::invalid_input(format!(
            "cannot build the request: {other}"
        ))),
        (None, _) => Err(Error::invalid_input(
            "the generated builder did not hand over its request",
        )),
    }
}

/// A raw call's failure that the generated code cannot carry, on its way from `exec` to `post`.
#[derive(Clone)]
struct RawFailure(Arc<str>);

/// Raw calls report no permission (their errors are progenitor's, which do not advise).
const UNKNOWN: Permission = Permission::new("(see the operation's documentation)", "(see there)");

impl ClientHooks<Arc<Transport>> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let captured = CAPTURED.with(|slot| match slot.borrow_mut().as_mut() {
            Some(place) => {
                let placeholder =
                    reqwest::Request::new(reqwest::Method::GET, request.url().clone());
                *place = Some(std::mem::replace(request, placeholder));
                true
            }
            None => false,
        });
        if captured {
            // A facade call: the request is taken, the generated code stops here.
            Err(progenitor_client::Error::Custom(String::new()))
        } else {
            Ok(())
        }
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        // The table's entry (its budget), else an operation of the general budget.
        let unknown = Operation {
            id: info.operation_id,
            permission: UNKNOWN,
            budget: Budget::General,
        };
        let operation = operations::by_id(info.operation_id).unwrap_or(&unknown);
        match self
            .inner()
            .exchange(request, operation, Headers::Always)
            .await
        {
            Ok(fetched) => {
                let mut response = http::Response::new(fetched.body);
                *response.status_mut() = fetched.status;
                *response.headers_mut() = fetched.headers;
                Ok(response.into())
            }
            Err(error) => match error.into_reqwest() {
                Ok(reqwest_error) => Err(reqwest_error),
                Err(other) => {
                    let mut response = http::Response::new(bytes::Bytes::new());
                    *response.status_mut() = reqwest::StatusCode::UNAUTHORIZED;
                    response
                        .extensions_mut()
                        .insert(RawFailure(other.to_string().into()));
                    Ok(response.into())
                }
            },
        }
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        match result
            .as_ref()
            .ok()
            .and_then(|r| r.extensions().get::<RawFailure>())
        {
            Some(RawFailure(message)) => Err(progenitor_client::Error::Custom(message.to_string())),
            None => Ok(()),
        }
    }
}
