//! The API's operations as [`Client`](crate::Client) methods, and the types their inputs and
//! outputs need beyond the generated ones.
//!
//! - [`software`]: the Software family and its missing KBs; [`SoftwareQuery`];
//! - [`machines`]: the device-level missing KBs;
//! - [`vulnerabilities`]: vulnerabilities by machine and software ([`DeviceVulnerabilityQuery`](crate::DeviceVulnerabilityQuery)).
//!
//! The export calls are in [`crate::export`], which builds on the helpers here.
//!
//! Each operation's id, permissions and budget are in the one table, `operations.rs`.
//!
//! Each method builds its request with the generated builder, sends it through the one sending
//! path and decodes the body ([`call`]); every collection operation returns a
//! [`Pager`](crate::Pager).

pub(crate) mod machines;
pub(crate) mod software;
pub(crate) mod vulnerabilities;

use std::future::Future;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::client::hooks::capture;
use crate::error::Error;
use crate::operations::Operation;
use crate::paging::{First, ODataPage, Pager};
use crate::transport::response::decode;
use crate::wire::path_segment;

/// One request: `build` is a generated builder's `send()`, used only to build the request; it
/// is sent through the client's sending path and its body decoded as the builder's type `T`.
#[inline(always)]
pub(crate) fn call<T, E, F>(
    client: &Client,
    operation: &'static Operation,
    build: F,
) -> BoxFuture<'static, Result<T, Error>>
where
    T: DeserializeOwned + Send + 'static,
    E: std::fmt::Debug,
    F: Future<Output = Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>>,
{
    // Built now (the builder borrows the client; the request does not), sent when awaited.
    let request = capture(build);
    let transport = std::sync::Arc::clone(client.transport());
    Box::pin(async move {
        let fetched = transport.send(request?, operation).await?;
        decode(&fetched, operation)
    })
}

/// The first page of a listing: like [`call`], as the page's items and next link.
#[inline(always)]
pub(crate) fn page<P, E, F>(client: &Client, operation: &'static Operation, build: F) -> First<P>
where
    P: ODataPage,
    E: std::fmt::Debug,
    F: Future<Output = Result<progenitor_client::ResponseValue<P>, progenitor_client::Error<E>>>,
{
    let request = capture(build);
    let transport = std::sync::Arc::clone(client.transport());
    First::new(Box::pin(async move {
        let fetched = transport.send(request?, operation).await?;
        decode::<P>(&fetched, operation).map(ODataPage::into_parts)
    }))
}

/// A listing addressed by an id that must be one path segment (`what` names it in errors);
/// `first` makes its first page from the checked id.
#[inline(always)]
pub(crate) fn listing<P: ODataPage>(
    client: &Client,
    what: &str,
    id: &str,
    operation: &'static Operation,
    first: impl FnOnce(&str) -> First<P>,
) -> Pager<P::Item> {
    match path_segment::check(what, id) {
        Ok(()) => Pager::new(
            std::sync::Arc::clone(client.transport()),
            operation,
            first(id),
        ),
        Err(e) => Pager::failed(e),
    }
}
