//! The Software family of the API: the inventory, one software, its versions, vulnerabilities,
//! devices, and its missing KBs (the crate's core operation).
//!
//! Every id-taking method sends its id as exactly one path segment or refuses it unsent; every
//! collection operation returns a [`Pager`] (`.await` it for every item).

use std::sync::Arc;

use super::{call, listing, page};
use crate::client::Client;
use crate::error::Error;
use crate::operations::{
    GET_MISSING_KBS_BY_SOFTWARE_ID, GET_SOFTWARE_BY_ID, LIST_MACHINES_BY_SOFTWARE, LIST_SOFTWARE,
    LIST_SOFTWARE_VERSION_DISTRIBUTION, LIST_VULNERABILITIES_BY_SOFTWARE,
};
use crate::paging::Pager;
use crate::types::filter::SoftwareFilter;
use crate::types::{
    MachineReference, PublicProductFixDto, Software, SoftwareVersionDistribution, Vulnerability,
};
use crate::wire::path_segment;

/// What [`Client::software`] lists: a filter, and either everything (paged) or one `$top` page.
///
/// ```
/// use defender_tvm::{SoftwareQuery, types::{SoftwareField, SoftwareFilter}};
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
    /// The most items one request may ask for (`$top`), as the service documents.
    pub const MAX_TOP: u32 = 10_000;

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
        check_top_and_skip(self.top, self.skip)?;
        if let Some(size) = self.page_size.filter(|&s| s == 0 || s > Self::MAX_TOP) {
            return Err(Error::invalid_input(format!(
                "the page size is {size}; it must be 1 to {}",
                Self::MAX_TOP
            )));
        }
        Ok(())
    }
}

/// Refuses, unsent, a `$top` over [`SoftwareQuery::MAX_TOP`] or a `$skip` the service cannot
/// take (over `i64::MAX`), for every query with those options.
pub(crate) fn check_top_and_skip(top: Option<u32>, skip: Option<u64>) -> Result<(), Error> {
    if let Some(top) = top.filter(|&top| top > SoftwareQuery::MAX_TOP) {
        return Err(Error::invalid_input(format!(
            "$top is {top}; the service allows at most {} (leave top unset to list \
             everything)",
            SoftwareQuery::MAX_TOP
        )));
    }
    if let Some(skip) = skip.filter(|&skip| i64::try_from(skip).is_err()) {
        return Err(Error::invalid_input(format!(
            "$skip is {skip}; the service takes at most {}",
            i64::MAX
        )));
    }
    Ok(())
}

impl Client {
    /// The missing KBs (security updates) of a software: `GET /api/Software/{Id}/getmissingkbs`.
    /// `.await` the pager for every KB, or stream them (see [`Pager`]).
    ///
    /// Needs the application permission `Software.Read.All` (or delegated `Software.Read`).
    /// The id is sent as exactly one path segment, percent-encoded; an id that cannot be (empty,
    /// `.`, `..`, or containing `\`) is refused with [`Error::InvalidInput`] before anything is
    /// sent.
    ///
    /// ```no_run
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// let kbs = client.missing_kbs("microsoft-_-edge").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn missing_kbs(&self, software_id: &str) -> Pager<PublicProductFixDto> {
        let op = &GET_MISSING_KBS_BY_SOFTWARE_ID;
        listing(self, "software id", software_id, op, |id| {
            page(
                self,
                op,
                self.builders()
                    .get_missing_kbs_by_software_id()
                    .id(id)
                    .send(),
            )
        })
    }

    /// The software inventory: `GET /api/Software`, lazily.
    ///
    /// Without [`SoftwareQuery::top`] it lists **everything**, paging with `$top` and `$skip`
    /// (a `$top` request returns no next link, so next links cannot be relied on) until a page
    /// comes back empty. With `top` it sends one request for at most that many items. `$top` over
    /// [`SoftwareQuery::MAX_TOP`] is refused before sending. Needs `Software.Read.All` (or
    /// delegated `Software.Read`).
    ///
    /// ```no_run
    /// use defender_tvm::{SoftwareQuery, types::{SoftwareField, SoftwareFilter}};
    ///
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// let query = SoftwareQuery::new().filter(SoftwareFilter::eq(SoftwareField::Vendor, "microsoft"));
    /// let microsoft = client.software(query).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn software(&self, query: SoftwareQuery) -> Pager<Software> {
        if let Err(e) = query.check() {
            return Pager::failed(e);
        }
        let op = &LIST_SOFTWARE;
        let filter = query.filter.map(|f| f.as_str().to_owned());
        let Some(top) = query.top else {
            let client = self.clone();
            let page_size = query.page_size.unwrap_or(SoftwareQuery::MAX_TOP);
            let skip = query.skip.unwrap_or(0);
            return Pager::by_skip(page_size, skip, move |top, skip| {
                let request = client
                    .builders()
                    .list_software()
                    .top(top as i32)
                    .skip(skip as i64);
                match &filter {
                    Some(filter) => call(&client, op, request.filter(filter.clone()).send()),
                    None => call(&client, op, request.send()),
                }
            });
        };
        let mut request = self.builders().list_software().top(top as i32);
        if let Some(skip) = query.skip {
            request = request.skip(skip as i64);
        }
        let first = match filter {
            Some(filter) => page(self, op, request.filter(filter).send()),
            None => page(self, op, request.send()),
        };
        Pager::new(Arc::clone(self.transport()), op, first)
    }

    /// One software by id: `GET /api/Software/{Id}`. Needs `Software.Read.All` (or delegated
    /// `Software.Read`).
    pub async fn software_by_id(&self, software_id: &str) -> Result<Software, Error> {
        path_segment::check("software id", software_id)?;
        let request = self.builders().get_software_by_id().id(software_id).send();
        call(self, &GET_SOFTWARE_BY_ID, request).await
    }

    /// The installed versions of a software and how many devices run each:
    /// `GET /api/Software/{Id}/distributions`. Needs `Software.Read.All` (or delegated
    /// `Software.Read`).
    pub fn software_distributions(&self, software_id: &str) -> Pager<SoftwareVersionDistribution> {
        let op = &LIST_SOFTWARE_VERSION_DISTRIBUTION;
        listing(self, "software id", software_id, op, |id| {
            page(
                self,
                op,
                self.builders()
                    .list_software_version_distribution()
                    .id(id)
                    .send(),
            )
        })
    }

    /// The vulnerabilities (CVEs) of a software: `GET /api/Software/{Id}/vulnerabilities`.
    /// Needs `Vulnerability.Read.All` (or delegated `Vulnerability.Read`).
    pub fn software_vulnerabilities(&self, software_id: &str) -> Pager<Vulnerability> {
        let op = &LIST_VULNERABILITIES_BY_SOFTWARE;
        listing(self, "software id", software_id, op, |id| {
            page(
                self,
                op,
                self.builders()
                    .list_vulnerabilities_by_software()
                    .id(id)
                    .send(),
            )
        })
    }

    /// The devices that have a software installed: `GET /api/Software/{Id}/machineReferences`.
    /// Needs `Software.Read.All` (or delegated `Software.Read`).
    pub fn software_machines(&self, software_id: &str) -> Pager<MachineReference> {
        let op = &LIST_MACHINES_BY_SOFTWARE;
        listing(self, "software id", software_id, op, |id| {
            page(
                self,
                op,
                self.builders().list_machines_by_software().id(id).send(),
            )
        })
    }
}
