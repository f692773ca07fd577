//! OData paging, one pager for every collection of the API.
//!
//! A listing is a lazy stream of pages: the first comes from the generated call, each next one
//! from the previous page's `@odata.nextLink`, fetched only when the stream is polled, decoded into
//! the same generated type, so memory stays at about one page. A next link is followed only
//! when it points at the API origin (the token must not travel anywhere else); a link seen before
//! in the same listing stops it with an error instead of looping forever. Each page fetch goes
//! through the client's one sending path (rate limit, token, retries), so a retried page is
//! fetched again whole: no item is lost or repeated.

use std::collections::HashSet;
use std::future::IntoFuture;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::transport::response::decode;
use crate::transport::{Operation, Transport};
use crate::types;

/// One page of an OData collection, as the generated types model it.
pub(crate) trait ODataPage: DeserializeOwned + Send + 'static {
    /// The item type of the collection.
    type Item: Send + 'static;
    /// The page's items and its next link.
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

/// Each generated collection type is a page of its item type.
macro_rules! odata_pages {
    ($($collection:ident => $item:ident),* $(,)?) => {$(
        impl ODataPage for types::$collection {
            type Item = types::$item;
            fn into_parts(self) -> (Vec<Self::Item>, Option<String>) {
                (self.value, self.odata_next_link.map(String::from))
            }
        }
    )*};
}

odata_pages! {
    PublicProductFixDtoCollection => PublicProductFixDto,
    SoftwareCollection => Software,
    SoftwareVersionDistributionCollection => SoftwareVersionDistribution,
    VulnerabilityCollection => Vulnerability,
    MachineReferenceCollection => MachineReference,
    PublicAssetVulnerabilityDtoCollection => PublicAssetVulnerabilityDto,
}

/// One page of a listing.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Page<T> {
    /// The page's items, in the service's order.
    pub items: Vec<T>,
    /// The `@odata.nextLink` of the page: more items follow when it is present.
    pub next_link: Option<String>,
}

/// A listing: what every collection operation of the client returns.
///
/// - `.await` it (or call [`collect_items`](Pager::collect_items)) for every item, in order;
/// - [`items`](Pager::items) streams the items, one page in memory at a time;
/// - as a [`Stream`] itself it yields the [`Page`]s, fetched as it is polled.
///
/// A pager is [`IntoFuture`], not a `Future`: where a combinator wants a future (`join_all`,
/// `buffer_unordered`, `.instrument(..)`), pass `pager.collect_items()` (or
/// `pager.into_future()`).
///
/// ```no_run
/// use futures::TryStreamExt;
///
/// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
/// // Everything at once.
/// let kbs = client.missing_kbs("microsoft-_-edge").await?;
/// // Or as a stream, with a guard against an unexpectedly long listing.
/// let mut kbs = client.missing_kbs("microsoft-_-edge").max_pages(1_000).items();
/// while let Some(kb) = kbs.try_next().await? {
///     println!("KB{}", kb.id);
/// }
/// # Ok(())
/// # }
/// ```
/// [`max_pages`](Pager::max_pages) and
/// [`max_items`](Pager::max_items) guard against listings larger than expected.
#[must_use = "a pager fetches nothing until it is polled"]
pub struct Pager<T> {
    pages: BoxStream<'static, Result<Page<T>, Error>>,
}

impl<T: Send + 'static> Pager<T> {
    /// A listing whose first page `first` yields; next links are sent through `transport`.
    pub(crate) fn new<P>(
        transport: Arc<Transport>,
        operation: &'static Operation,
        first: BoxFuture<'static, Result<P, Error>>,
    ) -> Self
    where
        P: ODataPage<Item = T>,
    {
        enum Next<P> {
            First(BoxFuture<'static, Result<P, Error>>),
            Link(String),
            Done,
        }
        let start = (Next::First(first), HashSet::new());
        let pages = stream::try_unfold(start, move |(next, mut seen)| {
            let transport = Arc::clone(&transport);
            async move {
                let page: P = match next {
                    Next::Done => return Ok(None),
                    Next::First(first) => first.await?,
                    Next::Link(link) => {
                        let url = check_next_link(&transport, &link, &mut seen)?;
                        fetch(&transport, url, operation).await?
                    }
                };
                let (items, next_link) = page.into_parts();
                let next = match &next_link {
                    Some(link) => Next::Link(link.clone()),
                    None => Next::Done,
                };
                Ok(Some((Page { items, next_link }, (next, seen))))
            }
        });
        Self {
            pages: pages.boxed(),
        }
    }

    /// A listing paged with `$top` and `$skip` instead of next links: `fetch(top, skip)` gets
    /// each page, starting at `skip`, `page_size` items at a time. It ends at the first empty
    /// page, not at the first short one, so a service that returns fewer items than asked per
    /// page (a server-side cap) still yields everything; the cost is one request at the end.
    /// Next links in these pages are not followed (the `$skip` sequence already covers them).
    pub(crate) fn by_skip<P, F>(page_size: u32, skip: u64, fetch: F) -> Self
    where
        P: ODataPage<Item = T>,
        F: Fn(u32, u64) -> BoxFuture<'static, Result<P, Error>> + Send + 'static,
    {
        let pages = stream::try_unfold(Some(skip), move |skip| {
            let page = skip.map(|skip| (skip, fetch(page_size, skip)));
            async move {
                let Some((skip, page)) = page else {
                    return Ok(None);
                };
                let (items, _) = page.await?.into_parts();
                let next = (!items.is_empty()).then(|| skip + items.len() as u64);
                let page = Page {
                    items,
                    next_link: None,
                };
                Ok(Some((page, next)))
            }
        });
        Self {
            pages: pages.boxed(),
        }
    }

    /// A listing that fails at once (refused input), sending nothing.
    pub(crate) fn failed(error: Error) -> Self {
        Self {
            pages: stream::once(async move { Err(error) }).boxed(),
        }
    }

    /// The listing's items, one by one (pages are still fetched lazily, one at a time).
    pub fn items(self) -> impl Stream<Item = Result<T, Error>> + Send + 'static {
        self.pages
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Every item of the listing, in order.
    pub async fn collect_items(self) -> Result<Vec<T>, Error> {
        let mut pages = self.pages;
        let mut items = Vec::new();
        while let Some(page) = pages.try_next().await? {
            items.extend(page.items);
        }
        Ok(items)
    }

    /// Ends the listing with [`Error::Paging`] instead of fetching more than `cap` pages.
    pub fn max_pages(self, cap: usize) -> Self {
        self.capped(
            move |pages, _| pages > cap,
            format!("more than {cap} pages"),
        )
    }

    /// Ends the listing with [`Error::Paging`] when it holds more than `cap` items (the page that
    /// crosses the cap is not yielded).
    pub fn max_items(self, cap: usize) -> Self {
        self.capped(
            move |_, items| items > cap,
            format!("more than {cap} items"),
        )
    }

    /// Stops with an error when `over(pages, items)` holds for the counts so far; a page that
    /// would cross a page cap is never requested.
    fn capped(
        self,
        over: impl Fn(usize, usize) -> bool + Send + Sync + 'static,
        what: String,
    ) -> Self {
        struct State<T> {
            pages: BoxStream<'static, Result<Page<T>, Error>>,
            counts: (usize, usize),
            more: bool,
        }
        let start = State {
            pages: self.pages,
            counts: (0, 0),
            more: true,
        };
        let cap = Arc::new((over, what));
        let pages = stream::unfold(Some(start), move |state| {
            let cap = Arc::clone(&cap);
            async move {
                let (over, what) = &*cap;
                let exceeded =
                    || Error::paging(format!("the listing has {what}, the cap set on the pager"));
                let mut state = state?;
                let (pages, items) = state.counts;
                if state.more && over(pages + 1, items) {
                    return Some((Err(exceeded()), None));
                }
                match state.pages.next().await? {
                    Ok(page) => {
                        state.counts = (pages + 1, items + page.items.len());
                        state.more = page.next_link.is_some();
                        if over(state.counts.0, state.counts.1) {
                            return Some((Err(exceeded()), None));
                        }
                        Some((Ok(page), Some(state)))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        });
        Self {
            pages: pages.boxed(),
        }
    }
}

/// `.await` on a pager collects every item ([`Pager::collect_items`]).
impl<T: Send + 'static> IntoFuture for Pager<T> {
    type Output = Result<Vec<T>, Error>;
    type IntoFuture = BoxFuture<'static, Result<Vec<T>, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.collect_items())
    }
}

impl<T> Stream for Pager<T> {
    type Item = Result<Page<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.pages.poll_next_unpin(cx)
    }
}

impl<T> std::fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pager")
    }
}

/// Refuses a next link that is not a URL, leaves the API origin, or was seen before.
fn check_next_link(
    transport: &Transport,
    link: &str,
    seen: &mut HashSet<String>,
) -> Result<Url, Error> {
    let url = Url::parse(link).map_err(|e| {
        Error::paging(format!(
            "the next link {link:?} is not an absolute URL ({e})"
        ))
    })?;
    let origin = transport.api_origin();
    if url.origin() != *origin {
        return Err(Error::paging(format!(
            "the next link {link:?} leaves the API origin {}; refusing to send the token there",
            origin.ascii_serialization()
        )));
    }
    if !seen.insert(url.as_str().to_owned()) {
        return Err(Error::paging(format!(
            "the next link {link:?} came back again; stopping instead of looping"
        )));
    }
    Ok(url)
}

/// GETs one page by URL, through the one sending path, decoded like a generated call's page.
async fn fetch<P: DeserializeOwned>(
    transport: &Transport,
    url: Url,
    operation: &'static Operation,
) -> Result<P, Error> {
    let mut request = reqwest::Request::new(reqwest::Method::GET, url);
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    let fetched = transport.send(request, operation).await?;
    decode(&fetched, operation)
}
