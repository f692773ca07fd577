//! Vulnerabilities by machine and software: one row per (device, CVE, software version), with the
//! KB that fixes it. Filtering on `fixingKbId` gives the devices that miss a KB.

use std::sync::Arc;

use super::page;
use super::software::check_top_and_skip;
use crate::client::Client;
use crate::error::Error;
use crate::operations::LIST_MACHINES_VULNERABILITIES;
use crate::paging::Pager;
use crate::types::PublicAssetVulnerabilityDto;
use crate::types::filter::DeviceVulnerabilityFilter;

/// What [`Client::machines_vulnerabilities`] lists: a filter, and either everything (following
/// next links) or one `$top` page.
///
/// ```
/// use defender_tvm::{DeviceVulnerabilityQuery, types::{DeviceVulnerabilityField, DeviceVulnerabilityFilter}};
///
/// // Every device that misses KB5031356.
/// let missing = DeviceVulnerabilityQuery::new().filter(DeviceVulnerabilityFilter::eq(
///     DeviceVulnerabilityField::FixingKbId,
///     "5031356",
/// ));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceVulnerabilityQuery {
    filter: Option<DeviceVulnerabilityFilter>,
    top: Option<u32>,
    skip: Option<u64>,
}

impl DeviceVulnerabilityQuery {
    /// Every row, unfiltered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only the rows the filter selects (`$filter`).
    pub fn filter(mut self, filter: DeviceVulnerabilityFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// One request for at most `top` rows (`$top`, at most [`SoftwareQuery::MAX_TOP`](crate::SoftwareQuery::MAX_TOP)) instead of
    /// everything; the service returns no next link for it.
    pub fn top(mut self, top: u32) -> Self {
        self.top = Some(top);
        self
    }

    /// Skip this many rows first (`$skip`).
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = Some(skip);
        self
    }

    fn check(&self) -> Result<(), Error> {
        check_top_and_skip(self.top, self.skip)
    }
}

impl Client {
    /// Vulnerabilities by machine and software: `GET /api/vulnerabilities/machinesVulnerabilities`,
    /// lazily. Without [`DeviceVulnerabilityQuery::top`] it follows the listing's next links to
    /// the end. Needs `Vulnerability.Read.All` (or delegated `Vulnerability.Read`).
    ///
    /// ```no_run
    /// use std::collections::BTreeSet;
    /// use defender_tvm::{DeviceVulnerabilityQuery, types::{DeviceVulnerabilityField, DeviceVulnerabilityFilter}};
    ///
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// let filter = DeviceVulnerabilityFilter::eq(DeviceVulnerabilityField::FixingKbId, "5031356");
    /// let rows = client.machines_vulnerabilities(DeviceVulnerabilityQuery::new().filter(filter)).await?;
    /// let devices: BTreeSet<_> = rows.into_iter().filter_map(|row| row.machine_id).collect();
    /// println!("KB5031356 is missing on {} devices", devices.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn machines_vulnerabilities(
        &self,
        query: DeviceVulnerabilityQuery,
    ) -> Pager<PublicAssetVulnerabilityDto> {
        if let Err(e) = query.check() {
            return Pager::failed(e);
        }
        let op = &LIST_MACHINES_VULNERABILITIES;
        let mut request = self.builders().list_machines_vulnerabilities();
        if let Some(top) = query.top {
            request = request.top(top as i32);
        }
        if let Some(skip) = query.skip {
            request = request.skip(skip as i64);
        }
        let first = match query.filter {
            Some(filter) => page(self, op, request.filter(filter.as_str().to_owned()).send()),
            None => page(self, op, request.send()),
        };
        Pager::new(Arc::clone(self.transport()), op, first)
    }
}
