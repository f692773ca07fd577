//! The Software family of the API, and the device-level twin of missing KBs.
//!
//! Every id-taking method sends its id as exactly one path segment or refuses it unsent, like
//! [`Client::missing_kbs`]; every collection has a collecting method and a `_pages` stream.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::operation::{
    GET_MISSING_KBS_BY_MACHINE_ID, GET_SOFTWARE_BY_ID, LIST_MACHINES_BY_SOFTWARE, LIST_SOFTWARE,
    LIST_SOFTWARE_VERSION_DISTRIBUTION, LIST_VULNERABILITIES_BY_SOFTWARE, Operation,
};
use crate::paging::{ODataPage, Pager};
use crate::types::{
    MachineReference, PublicProductFixDto, Software, SoftwareVersionDistribution, Vulnerability,
};
use crate::{Client, Error, SoftwareFilter, path_segment};

/// The most items one request may ask for (`$top`), as the service documents.
pub const MAX_TOP: u32 = 10_000;

/// What [`Client::software`] lists: a filter, and either everything (paged) or one `$top` page.
///
/// ```
/// use defender_tvm::{SoftwareField, SoftwareFilter, SoftwareQuery};
///
/// // Every Microsoft software, fetched 10,000 at a time.
/// let all = SoftwareQuery::new().filter(SoftwareFilter::eq(SoftwareField::Vendor, "microsoft"));
/// // Only the first 50.
/// let first = SoftwareQuery::new().top(50);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoftwareQuery {
    filter: Option<SoftwareFilter>,
    top: Option<u32>,
    skip: Option<u64>,
    page_size: Option<u32>,
}

impl SoftwareQuery {
    /// Everything, unfiltered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only the software the filter selects (`$filter`).
    pub fn filter(mut self, filter: SoftwareFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// One request for at most `top` items (`$top`, at most 10,000) instead of everything. The
    /// service returns no next link for such a request.
    pub fn top(mut self, top: u32) -> Self {
        self.top = Some(top);
        self
    }

    /// Skip this many items first (`$skip`).
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = Some(skip);
        self
    }

    /// When listing everything, ask for this many items per request (1 to 10,000, default
    /// 10,000).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    fn check(&self) -> Result<(), Error> {
        if let Some(top) = self.top.filter(|&top| top > MAX_TOP) {
            return Err(Error::invalid_input(format!(
                "$top is {top}; the service allows at most {MAX_TOP} (list everything without \
                 top to page through all items)"
            )));
        }
        if let Some(skip) = self.skip.filter(|&skip| i64::try_from(skip).is_err()) {
            return Err(Error::invalid_input(format!(
                "$skip is {skip}; the service takes at most {}",
                i64::MAX
            )));
        }
        if let Some(size) = self.page_size.filter(|&s| s == 0 || s > MAX_TOP) {
            return Err(Error::invalid_input(format!(
                "the page size is {size}; it must be 1 to {MAX_TOP}"
            )));
        }
        Ok(())
    }
}

/// The first-page future of a generated call: `$request` builds the call on `$call`, the
/// generated client made here; it is sent, and its error mapped like every facade call.
macro_rules! generated_page {
    ($client:expr, $operation:expr, |$call:ident| $request:expr) => {{
        let $call = $client.generated();
        let operation: &'static Operation = $operation;
        let page: BoxFuture<'static, Result<_, Error>> = Box::pin(async move {
            match $request.send().await {
                Ok(page) => Ok(page.into_inner()),
                Err(e) => Err(progenitor_client::ClientInfo::inner(&$call)
                    .error(e, operation)
                    .await),
            }
        });
        page
    }};
}

impl Client {
    /// The software inventory: `GET /api/Software`, lazily.
    ///
    /// Without [`SoftwareQuery::top`] it lists **everything**, paging with `$top` and `$skip`
    /// (a `$top` request returns no next link, so next links cannot be relied on) until a page
    /// comes back empty. With `top` it sends one request for at most that many items. `$top` over
    /// 10,000 is refused before sending. Needs `Software.Read.All` (or delegated
    /// `Software.Read`).
    ///
    /// ```no_run
    /// use defender_tvm::{SoftwareField, SoftwareFilter, SoftwareQuery};
    ///
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// let query = SoftwareQuery::new().filter(SoftwareFilter::eq(SoftwareField::Vendor, "microsoft"));
    /// let microsoft = client.software(query).collect_items().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn software(&self, query: SoftwareQuery) -> Pager<Software> {
        if let Err(e) = query.check() {
            return Pager::failed(e);
        }
        let filter = query.filter.map(|f| f.as_str().to_owned());
        let shared = Arc::clone(&self.shared);
        let skip = query.skip;
        let Some(top) = query.top else {
            let client = self.clone();
            let page_size = query.page_size.unwrap_or(MAX_TOP);
            return Pager::by_skip(page_size, skip.unwrap_or(0), move |top, skip| {
                let filter = filter.clone();
                generated_page!(client, &LIST_SOFTWARE, |call| {
                    let request = call.list_software().top(top as i32).skip(skip as i64);
                    match filter {
                        Some(filter) => request.filter(filter),
                        None => request,
                    }
                })
            });
        };
        let first = generated_page!(self, &LIST_SOFTWARE, |call| {
            let mut request = call.list_software().top(top as i32);
            if let Some(skip) = skip {
                request = request.skip(skip as i64);
            }
            match filter {
                Some(filter) => request.filter(filter),
                None => request,
            }
        });
        Pager::new(shared, &LIST_SOFTWARE, first)
    }

    /// One software by id: `GET /api/Software/{Id}`. Needs `Software.Read.All` (or delegated
    /// `Software.Read`).
    pub async fn software_by_id(&self, software_id: &str) -> Result<Software, Error> {
        path_segment::check("software id", software_id)?;
        let id = software_id.to_owned();
        generated_page!(self, &GET_SOFTWARE_BY_ID, |call| call
            .get_software_by_id()
            .id(id))
        .await
    }

    /// The installed versions of a software and how many devices run each:
    /// `GET /api/Software/{Id}/distributions`. Needs `Software.Read.All` (or delegated
    /// `Software.Read`).
    pub async fn software_distributions(
        &self,
        software_id: &str,
    ) -> Result<Vec<SoftwareVersionDistribution>, Error> {
        self.software_distributions_pages(software_id)
            .collect_items()
            .await
    }

    /// [`software_distributions`](Self::software_distributions) as a lazy stream of pages.
    pub fn software_distributions_pages(
        &self,
        software_id: &str,
    ) -> Pager<SoftwareVersionDistribution> {
        let op = &LIST_SOFTWARE_VERSION_DISTRIBUTION;
        self.listing("software id", software_id, op, |id| {
            generated_page!(self, op, |call| call
                .list_software_version_distribution()
                .id(id))
        })
    }

    /// The vulnerabilities (CVEs) of a software: `GET /api/Software/{Id}/vulnerabilities`.
    /// Needs `Vulnerability.Read.All` (or delegated `Vulnerability.Read`).
    pub async fn software_vulnerabilities(
        &self,
        software_id: &str,
    ) -> Result<Vec<Vulnerability>, Error> {
        self.software_vulnerabilities_pages(software_id)
            .collect_items()
            .await
    }

    /// [`software_vulnerabilities`](Self::software_vulnerabilities) as a lazy stream of pages.
    pub fn software_vulnerabilities_pages(&self, software_id: &str) -> Pager<Vulnerability> {
        let op = &LIST_VULNERABILITIES_BY_SOFTWARE;
        self.listing("software id", software_id, op, |id| {
            generated_page!(self, op, |call| call
                .list_vulnerabilities_by_software()
                .id(id))
        })
    }

    /// The devices that have a software installed: `GET /api/Software/{Id}/machineReferences`.
    /// Needs `Software.Read.All` (or delegated `Software.Read`).
    pub async fn software_machines(
        &self,
        software_id: &str,
    ) -> Result<Vec<MachineReference>, Error> {
        self.software_machines_pages(software_id)
            .collect_items()
            .await
    }

    /// [`software_machines`](Self::software_machines) as a lazy stream of pages.
    pub fn software_machines_pages(&self, software_id: &str) -> Pager<MachineReference> {
        let op = &LIST_MACHINES_BY_SOFTWARE;
        self.listing("software id", software_id, op, |id| {
            generated_page!(self, op, |call| call.list_machines_by_software().id(id))
        })
    }

    /// The missing KBs of one device: `GET /api/machines/{machineId}/getmissingkbs`. Needs
    /// `Software.Read.All` (or delegated `Software.Read`).
    pub async fn machine_missing_kbs(
        &self,
        machine_id: &str,
    ) -> Result<Vec<PublicProductFixDto>, Error> {
        self.machine_missing_kbs_pages(machine_id)
            .collect_items()
            .await
    }

    /// [`machine_missing_kbs`](Self::machine_missing_kbs) as a lazy stream of pages.
    pub fn machine_missing_kbs_pages(&self, machine_id: &str) -> Pager<PublicProductFixDto> {
        let op = &GET_MISSING_KBS_BY_MACHINE_ID;
        self.listing("machine id", machine_id, op, |id| {
            generated_page!(self, op, |call| call
                .get_missing_kbs_by_machine_id()
                .machine_id(id))
        })
    }

    /// [`missing_kbs`](Self::missing_kbs) as a lazy stream of pages (see there).
    ///
    /// ```no_run
    /// use futures::TryStreamExt;
    ///
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// let mut kbs = client.missing_kbs_pages("microsoft-_-edge").items();
    /// while let Some(kb) = kbs.try_next().await? {
    ///     println!("KB{}", kb.id);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn missing_kbs_pages(&self, software_id: &str) -> Pager<PublicProductFixDto> {
        use crate::operation::GET_MISSING_KBS_BY_SOFTWARE_ID as OP;
        self.listing("software id", software_id, &OP, |id| {
            generated_page!(self, &OP, |call| call
                .get_missing_kbs_by_software_id()
                .id(id))
        })
    }

    /// A listing addressed by an id that must be one path segment (`what` names it in errors).
    fn listing<P: ODataPage>(
        &self,
        what: &str,
        id: &str,
        operation: &'static Operation,
        first: impl FnOnce(String) -> BoxFuture<'static, Result<P, Error>>,
    ) -> Pager<P::Item> {
        match path_segment::check(what, id) {
            Ok(()) => Pager::new(Arc::clone(&self.shared), operation, first(id.to_owned())),
            Err(e) => Pager::failed(e),
        }
    }
}
