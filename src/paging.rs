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
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::operations::Operation;
use crate::transport::response::decode;
use crate::transport::{Fetched, Transport};
use crate::types;

/// One page of an OData collection, as the generated types model it.
pub(crate) trait ODataPage: DeserializeOwned + Send + 'static {
    /// The item type of the collection.
    type Item: Send + 'static;
    /// The page's items and its next link.
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

/// Each generated collection type is a page of its item type (the export's collections are
/// declared with their rows, in `export/calls.rs`).
macro_rules! odata_pages {
    ($($collection:ty => $item:ty),* $(,)?) => {$(
        impl $crate::paging::ODataPage for $collection {
            type Item = $item;
            fn into_parts(self) -> (Vec<Self::Item>, Option<String>) {
                (self.value, self.odata_next_link.map(String::from))
            }
        }
    )*};
}

pub(crate) use odata_pages;

odata_pages! {
    types::PublicProductFixDtoCollection => types::PublicProductFixDto,
    types::SoftwareCollection => types::Software,
    types::SoftwareVersionDistributionCollection => types::SoftwareVersionDistribution,
    types::VulnerabilityCollection => types::Vulnerability,
    types::MachineReferenceCollection => types::MachineReference,
    types::PublicAssetVulnerabilityDtoCollection => types::PublicAssetVulnerabilityDto,
}

/// A page's items and its next link.
type Parts<T> = (Vec<T>, Option<String>);

/// The first page of a listing of pages of type `P`, being fetched: its items and next link.
/// (`P` says how the listing's next pages decode.)
pub(crate) struct First<P: ODataPage> {
    page: BoxFuture<'static, Result<Parts<P::Item>, Error>>,
    decode: PhantomData<fn() -> P>,
}

impl<P: ODataPage> First<P> {
    pub(crate) fn new(page: BoxFuture<'static, Result<Parts<P::Item>, Error>>) -> Self {
        Self {
            page,
            decode: PhantomData,
        }
    }
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
    pages: Pages<T>,
}

/// A listing not yet polled, or its stream of pages.
enum Pages<T> {
    /// The first page is still to come; collecting a listing of one page (most are) needs no
    /// stream at all.
    Start(Start<T>),
    /// The pages, as a stream.
    Stream(BoxStream<'static, Result<Page<T>, Error>>),
}

/// The first page of a next-link listing and what it takes to follow its next links.
struct Start<T> {
    first: BoxFuture<'static, Result<Parts<T>, Error>>,
    transport: Arc<Transport>,
    operation: &'static Operation,
    /// Decodes a next page as the listing's page type.
    decode: fn(&Fetched, &Operation) -> Result<Parts<T>, Error>,
}

impl<T: Send + 'static> Start<T> {
    /// The whole listing as a stream of pages.
    fn into_stream(self) -> BoxStream<'static, Result<Page<T>, Error>> {
        let Start {
            first,
            transport,
            operation,
            decode,
        } = self;
        stream::once(first)
            .map_ok(move |(items, next_link)| {
                let rest = match &next_link {
                    Some(link) => follow(Arc::clone(&transport), operation, decode, link.clone()),
                    None => stream::empty().boxed(),
                };
                stream::once(futures::future::ready(Ok(Page { items, next_link }))).chain(rest)
            })
            .try_flatten()
            .boxed()
    }
}

/// The pages after the first, from `link` on, each next link checked before it is followed.
fn follow<T: Send + 'static>(
    transport: Arc<Transport>,
    operation: &'static Operation,
    decode: fn(&Fetched, &Operation) -> Result<Parts<T>, Error>,
    link: String,
) -> BoxStream<'static, Result<Page<T>, Error>> {
    let start = (Some(link), HashSet::new());
    stream::try_unfold(start, move |(next, mut seen)| {
        let transport = Arc::clone(&transport);
        async move {
            let Some(link) = next else {
                return Ok(None);
            };
            let url = check_next_link(&transport, &link, &mut seen)?;
            let fetched = fetch(&transport, url, operation).await?;
            let (items, next_link) = decode(&fetched, operation)?;
            let next = next_link.clone();
            Ok(Some((Page { items, next_link }, (next, seen))))
        }
    })
    .boxed()
}

/// A next page decoded as page type `P`, as its parts.
fn decode_parts<P: ODataPage>(
    fetched: &Fetched,
    operation: &Operation,
) -> Result<Parts<P::Item>, Error> {
    decode::<P>(fetched, operation).map(ODataPage::into_parts)
}

impl<T: Send + 'static> Pager<T> {
    /// A listing whose first page `first` yields; next links are sent through `transport`.
    pub(crate) fn new<P>(
        transport: Arc<Transport>,
        operation: &'static Operation,
        first: First<P>,
    ) -> Self
    where
        P: ODataPage<Item = T>,
    {
        Self {
            pages: Pages::Start(Start {
                first: first.page,
                transport,
                operation,
                decode: decode_parts::<P>,
            }),
        }
    }

    /// The pages as a stream, started if not yet.
    fn into_stream(self) -> BoxStream<'static, Result<Page<T>, Error>> {
        match self.pages {
            Pages::Start(start) => start.into_stream(),
            Pages::Stream(pages) => pages,
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
            pages: Pages::Stream(pages.boxed()),
        }
    }

    /// A listing that fails at once (refused input), sending nothing.
    pub(crate) fn failed(error: Error) -> Self {
        Self {
            pages: Pages::Stream(stream::once(async move { Err(error) }).boxed()),
        }
    }

    /// The listing's items, one by one (pages are still fetched lazily, one at a time).
    pub fn items(self) -> impl Stream<Item = Result<T, Error>> + Send + 'static {
        self.into_stream()
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Every item of the listing, in order (what `.await` on the pager gives). A listing of one
    /// page (most are) is its first page's items, with no stream set up.
    pub fn collect_items(self) -> CollectItems<T> {
        CollectItems {
            state: match self.pages {
                Pages::Start(start) => Collecting::First(start),
                Pages::Stream(pages) => Collecting::Rest {
                    items: Vec::new(),
                    pages,
                },
            },
        }
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
            pages: self.into_stream(),
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
            pages: Pages::Stream(pages.boxed()),
        }
    }
}

/// `.await` on a pager collects every item ([`Pager::collect_items`]).
impl<T: Send + 'static> IntoFuture for Pager<T> {
    type Output = Result<Vec<T>, Error>;
    type IntoFuture = CollectItems<T>;

    fn into_future(self) -> Self::IntoFuture {
        self.collect_items()
    }
}

/// Every item of a listing, in order: the future of `.await` on a [`Pager`] (or of
/// [`Pager::collect_items`]).
#[must_use = "a future does nothing unless awaited"]
pub struct CollectItems<T> {
    state: Collecting<T>,
}

enum Collecting<T> {
    /// The first page is coming.
    First(Start<T>),
    /// Pages after the first are coming.
    Rest {
        items: Vec<T>,
        pages: BoxStream<'static, Result<Page<T>, Error>>,
    },
    /// The result was given.
    Done,
}

impl<T: Send + 'static> Future for CollectItems<T> {
    type Output = Result<Vec<T>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match &mut self.state {
                Collecting::First(start) => {
                    let (items, next_link) = match start.first.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(e)) => {
                            self.state = Collecting::Done;
                            return Poll::Ready(Err(e));
                        }
                        Poll::Ready(Ok(parts)) => parts,
                    };
                    let Some(link) = next_link else {
                        // One page: its items are the listing's.
                        self.state = Collecting::Done;
                        return Poll::Ready(Ok(items));
                    };
                    let pages = follow(
                        Arc::clone(&start.transport),
                        start.operation,
                        start.decode,
                        link,
                    );
                    self.state = Collecting::Rest { items, pages };
                }
                Collecting::Rest { items, pages } => match pages.as_mut().poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(page))) => items.extend(page.items),
                    Poll::Ready(Some(Err(e))) => {
                        self.state = Collecting::Done;
                        return Poll::Ready(Err(e));
                    }
                    Poll::Ready(None) => {
                        let items = std::mem::take(items);
                        self.state = Collecting::Done;
                        return Poll::Ready(Ok(items));
                    }
                },
                Collecting::Done => {
                    return Poll::Ready(Err(Error::paging(
                        "the listing was already collected (polled after it finished)",
                    )));
                }
            }
        }
    }
}

// Nothing in it is pinned in place: the futures and streams it polls are boxed.
impl<T> Unpin for CollectItems<T> {}

impl<T> std::fmt::Debug for CollectItems<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CollectItems")
    }
}

impl<T: Send + 'static> Stream for Pager<T> {
    type Item = Result<Page<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match &mut self.pages {
                Pages::Stream(pages) => return pages.poll_next_unpin(cx),
                Pages::Start(_) => {
                    let placeholder = Pages::Stream(stream::empty().boxed());
                    let Pages::Start(start) = std::mem::replace(&mut self.pages, placeholder)
                    else {
                        continue;
                    };
                    self.pages = Pages::Stream(start.into_stream());
                }
            }
        }
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

/// GETs one page by URL, through the one sending path.
async fn fetch(
    transport: &Transport,
    url: Url,
    operation: &'static Operation,
) -> Result<Fetched, Error> {
    let mut request = reqwest::Request::new(reqwest::Method::GET, url);
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    transport.send(request, operation).await
}
