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

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::capture;

    /// [`capture`] relies on progenitor reaching the `pre` hook on a builder's first poll, with
    /// nothing awaited before it. A progenitor that awaits anything first would make every
    /// facade call fail with "did not hand over its request": this test names the assumption
    /// for each operation, so such an update fails here first.
    #[test]
    fn every_generated_builder_hands_over_its_request_on_the_first_poll() {
        let client = crate::Client::builder()
            .bearer_token("eyJ0eXAi.test")
            .build()
            .unwrap();
        let g = client.builders();
        let one = NonZeroU32::MIN;
        let since = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let built = [
            (
                "/api/Software/s-1/getmissingkbs",
                capture(g.get_missing_kbs_by_software_id().id("s-1").send()),
            ),
            ("/api/Software", capture(g.list_software().send())),
            (
                "/api/Software/s-1",
                capture(g.get_software_by_id().id("s-1").send()),
            ),
            (
                "/api/Software/s-1/distributions",
                capture(g.list_software_version_distribution().id("s-1").send()),
            ),
            (
                "/api/Software/s-1/vulnerabilities",
                capture(g.list_vulnerabilities_by_software().id("s-1").send()),
            ),
            (
                "/api/Software/s-1/machineReferences",
                capture(g.list_machines_by_software().id("s-1").send()),
            ),
            (
                "/api/machines/m-1/getmissingkbs",
                capture(g.get_missing_kbs_by_machine_id().machine_id("m-1").send()),
            ),
            (
                "/api/vulnerabilities/machinesVulnerabilities",
                capture(g.list_machines_vulnerabilities().send()),
            ),
            (
                "/api/machines/SoftwareVulnerabilitiesByMachine",
                capture(
                    g.list_software_vulnerabilities_by_machine()
                        .page_size(one)
                        .send(),
                ),
            ),
            (
                "/api/machines/SoftwareVulnerabilityChangesByMachine",
                capture(
                    g.list_software_vulnerability_changes_by_machine()
                        .since_time(since)
                        .send(),
                ),
            ),
            (
                "/api/machines/SoftwareInventoryByMachine",
                capture(g.list_software_inventory_by_machine().send()),
            ),
            (
                "/api/machines/SoftwareVulnerabilitiesExport",
                capture(
                    g.export_software_vulnerabilities()
                        .sas_valid_hours(one)
                        .send(),
                ),
            ),
            (
                "/api/machines/SoftwareInventoryExport",
                capture(g.export_software_inventory().sas_valid_hours(one).send()),
            ),
        ];
        assert_eq!(
            built.len(),
            crate::operations::ALL.len(),
            "every API operation"
        );
        for (path, request) in built {
            let request = request.unwrap_or_else(|e| {
                panic!("{path}: {e}: the generated code no longer reaches `pre` at once")
            });
            assert_eq!(request.url().path(), path);
        }
    }
}
