//! OData paging: every collection of this API is a page with `value` and, when more items
//! follow, an absolute `@odata.nextLink`.
//!
//! A next link is followed only when it points at the API origin (the token must not travel
//! anywhere else), and a link seen before in the same listing stops the listing with an error
//! instead of looping forever.

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};
use serde::de::DeserializeOwned;

use crate::Error;
use crate::client::Shared;
use crate::generated::types;
use crate::hooks::CallContext;
use crate::operation::Operation;

/// One page of an OData collection, as the generated types model it.
pub(crate) trait ODataPage: DeserializeOwned {
    /// The item type of the collection.
    type Item;
    /// The page's items and its next link.
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

impl ODataPage for types::PublicProductFixDtoCollection {
    type Item = types::PublicProductFixDto;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>) {
        (self.value, self.odata_next_link.map(String::from))
    }
}

/// All items of a listing, starting from its first page.
pub(crate) async fn collect<P: ODataPage>(
    shared: &Arc<Shared>,
    first: P,
    operation: &'static Operation,
) -> Result<Vec<P::Item>, Error> {
    let (mut items, mut next) = first.into_parts();
    let mut seen = HashSet::new();
    while let Some(link) = next {
        let url = check_next_link(shared, &link, &mut seen)?;
        let page: P = fetch(shared, url, operation).await?;
        let (more, link) = page.into_parts();
        items.extend(more);
        next = link;
    }
    Ok(items)
}

/// Refuses a next link that is not a URL, leaves the API origin, or was seen before.
fn check_next_link(shared: &Shared, link: &str, seen: &mut HashSet<String>) -> Result<Url, Error> {
    let url = Url::parse(link).map_err(|e| Error::Paging {
        message: format!("the next link {link:?} is not an absolute URL ({e})"),
    })?;
    if url.origin() != shared.api_origin {
        return Err(Error::Paging {
            message: format!(
                "the next link {link:?} leaves the API origin {}; refusing to send the token there",
                shared.api_origin.ascii_serialization()
            ),
        });
    }
    if !seen.insert(url.as_str().to_owned()) {
        return Err(Error::Paging {
            message: format!("the next link {link:?} came back again; stopping instead of looping"),
        });
    }
    Ok(url)
}

/// GETs one page by URL, with the same sending path and error mapping as generated calls.
async fn fetch<P: DeserializeOwned>(
    shared: &Arc<Shared>,
    url: Url,
    operation: &'static Operation,
) -> Result<P, Error> {
    let context = CallContext::new(Arc::clone(shared));
    let mut request = reqwest::Request::new(reqwest::Method::GET, url);
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    context.prepare(&mut request).await?;
    let sent = context.send(request).await;
    if let Some(failure) = context.take_failure() {
        return Err(failure);
    }
    let response = sent.map_err(Error::Transport)?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::from_response(response, operation).await);
    }
    let body = response.bytes().await.map_err(Error::Transport)?;
    serde_json::from_slice(&body).map_err(|source| Error::decode(Some(status), &body, source))
}
