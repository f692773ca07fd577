//! The export assessment APIs: one snapshot of every device's software vulnerabilities or
//! software inventory, as JSON pages (`…ByMachine`, paged with next links) or as files
//! (`…Export`, signed links to GZIP files on blob storage; their rows are streamed by
//! `export_files.rs`). Each kind of call counts against its own budget (see
//! [`ClientBuilder::json_export_rate_limit`](crate::ClientBuilder::json_export_rate_limit) and
//! [`file_export_rate_limit`](crate::ClientBuilder::file_export_rate_limit)).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::{call, page};
use crate::client::Client;
use crate::error::Error;
use crate::operations::{
    EXPORT_SOFTWARE_INVENTORY, EXPORT_SOFTWARE_VULNERABILITIES, LIST_SOFTWARE_INVENTORY_BY_MACHINE,
    LIST_SOFTWARE_VULNERABILITIES_BY_MACHINE, LIST_SOFTWARE_VULNERABILITY_CHANGES_BY_MACHINE,
};
use crate::paging::Pager;
use crate::types::{
    ExportFiles, SoftwareInventory, SoftwareVulnerability, SoftwareVulnerabilityChange,
};

/// How a JSON export is paged.
///
/// ```
/// use defender_tvm::ExportPages;
///
/// // 200,000 rows a page (the most the service allows): fewer calls against the budget.
/// let pages = ExportPages::new().page_size(200_000);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportPages {
    page_size: Option<u32>,
}

impl ExportPages {
    /// The most rows a page may hold (`pageSize`), as the service documents.
    pub const MAX_PAGE_SIZE: u32 = 200_000;

    /// The service's paging (50,000 rows a page).
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows a page (`pageSize`, 1 to 200,000).
    pub fn page_size(mut self, rows: u32) -> Self {
        self.page_size = Some(rows);
        self
    }

    fn checked(self) -> Result<Option<NonZeroU32>, Error> {
        match self.page_size {
            None => Ok(None),
            Some(rows @ 1..=Self::MAX_PAGE_SIZE) => Ok(NonZeroU32::new(rows)),
            Some(rows) => Err(Error::invalid_input(format!(
                "pageSize is {rows}; the service takes 1 to {}",
                Self::MAX_PAGE_SIZE
            ))),
        }
    }
}

/// How long the links of a via-files export stay valid (`sasValidHours`, 1 to 6; default 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SasValidHours(u8);

impl SasValidHours {
    /// The most the service allows.
    pub const MAX: u8 = 6;

    /// `hours` hours, refused (as [`Error::InvalidInput`]) outside 1 to 6.
    pub fn new(hours: u8) -> Result<Self, Error> {
        if (1..=Self::MAX).contains(&hours) {
            Ok(Self(hours))
        } else {
            Err(Error::invalid_input(format!(
                "sasValidHours is {hours}; the service takes 1 to {}",
                Self::MAX
            )))
        }
    }

    /// The hours.
    pub fn hours(self) -> u8 {
        self.0
    }

    fn non_zero(self) -> NonZeroU32 {
        NonZeroU32::new(u32::from(self.0)).unwrap_or(NonZeroU32::MIN)
    }
}

impl Default for SasValidHours {
    fn default() -> Self {
        Self(1)
    }
}

/// How far back the delta export reaches, as the service documents.
pub const MAX_CHANGES_AGE: Duration = Duration::from_secs(14 * 24 * 3600);

impl Client {
    /// Every (device, software, vulnerability) of the current snapshot, as JSON pages:
    /// `GET /api/machines/SoftwareVulnerabilitiesByMachine`. Suited to estates under about
    /// 100,000 devices (above, [`software_vulnerabilities_export`](Self::software_vulnerabilities_export)).
    /// Counts against the JSON export budget. Needs `Vulnerability.Read.All` (or delegated
    /// `Vulnerability.Read`).
    ///
    /// ```no_run
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// use futures::TryStreamExt;
    ///
    /// let mut rows = client
    ///     .software_vulnerabilities_by_machine(defender_tvm::ExportPages::new())
    ///     .items();
    /// while let Some(row) = rows.try_next().await? {
    ///     if let (Some(kb), Some(cve)) = (&row.recommended_security_update_id, &row.cve_id) {
    ///         println!("{} misses KB{kb} ({cve})", row.device_id);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn software_vulnerabilities_by_machine(
        &self,
        pages: ExportPages,
    ) -> Pager<SoftwareVulnerability> {
        let op = &LIST_SOFTWARE_VULNERABILITIES_BY_MACHINE;
        let page_size = match pages.checked() {
            Ok(page_size) => page_size,
            Err(e) => return Pager::failed(e),
        };
        let mut request = self.builders().list_software_vulnerabilities_by_machine();
        if let Some(rows) = page_size {
            request = request.page_size(rows);
        }
        Pager::new(
            Arc::clone(self.transport()),
            op,
            page(self, op, request.send()),
        )
    }

    /// What changed since `since` (at most 14 days back): rows of the vulnerabilities export
    /// with what happened (`New`, `Fixed`, `Updated`) and when:
    /// `GET /api/machines/SoftwareVulnerabilityChangesByMachine`. A `since` in the future or
    /// more than 14 days back is refused before sending. Counts against the JSON export budget.
    /// Needs `Vulnerability.Read.All` (or delegated `Vulnerability.Read`).
    pub fn software_vulnerability_changes_by_machine(
        &self,
        since: DateTime<Utc>,
        pages: ExportPages,
    ) -> Pager<SoftwareVulnerabilityChange> {
        let op = &LIST_SOFTWARE_VULNERABILITY_CHANGES_BY_MACHINE;
        let page_size = match (check_changes_since(since), pages.checked()) {
            (Err(e), _) | (_, Err(e)) => return Pager::failed(e),
            (Ok(()), Ok(page_size)) => page_size,
        };
        let mut request = self
            .builders()
            .list_software_vulnerability_changes_by_machine()
            .since_time(since);
        if let Some(rows) = page_size {
            request = request.page_size(rows);
        }
        Pager::new(
            Arc::clone(self.transport()),
            op,
            page(self, op, request.send()),
        )
    }

    /// Every (device, installed software) of the current snapshot, as JSON pages:
    /// `GET /api/machines/SoftwareInventoryByMachine`. Counts against the JSON export budget.
    /// Needs `Software.Read.All` (or delegated `Software.Read`).
    pub fn software_inventory_by_machine(&self, pages: ExportPages) -> Pager<SoftwareInventory> {
        let op = &LIST_SOFTWARE_INVENTORY_BY_MACHINE;
        let page_size = match pages.checked() {
            Ok(page_size) => page_size,
            Err(e) => return Pager::failed(e),
        };
        let mut request = self.builders().list_software_inventory_by_machine();
        if let Some(rows) = page_size {
            request = request.page_size(rows);
        }
        Pager::new(
            Arc::clone(self.transport()),
            op,
            page(self, op, request.send()),
        )
    }

    /// The vulnerabilities snapshot's files: `GET /api/machines/SoftwareVulnerabilitiesExport`
    /// (signed links valid `valid` hours, and the snapshot's time). To read their rows, see
    /// [`software_vulnerabilities_export_rows`](Self::software_vulnerabilities_export_rows).
    /// Counts against the via-files export budget (5 calls a minute, 20 an hour). Needs
    /// `Vulnerability.Read.All` (or delegated `Vulnerability.Read`).
    pub async fn software_vulnerabilities_export(
        &self,
        valid: SasValidHours,
    ) -> Result<ExportFiles, Error> {
        let request = self
            .builders()
            .export_software_vulnerabilities()
            .sas_valid_hours(valid.non_zero())
            .send();
        call(self, &EXPORT_SOFTWARE_VULNERABILITIES, request).await
    }

    /// The inventory snapshot's files: `GET /api/machines/SoftwareInventoryExport`, as
    /// [`software_vulnerabilities_export`](Self::software_vulnerabilities_export). Needs
    /// `Software.Read.All` (or delegated `Software.Read`).
    pub async fn software_inventory_export(
        &self,
        valid: SasValidHours,
    ) -> Result<ExportFiles, Error> {
        let request = self
            .builders()
            .export_software_inventory()
            .sas_valid_hours(valid.non_zero())
            .send();
        call(self, &EXPORT_SOFTWARE_INVENTORY, request).await
    }
}

/// Refuses a `since` the delta export cannot take: in the future, or more than 14 days before
/// `now`.
/// Whether the delta export takes `since` now: the check
/// [`Client::software_vulnerability_changes_by_machine`] makes before sending, for a caller
/// that refuses a bad time earlier (a command line, before connecting). An
/// [`Error::InvalidInput`] when `since` is in the future or more than 14 days back.
///
/// ```
/// use chrono::{DateTime, Duration, Utc};
///
/// let now = DateTime::<Utc>::from(std::time::SystemTime::now());
/// assert!(defender_tvm::check_changes_since(now - Duration::days(3)).is_ok());
/// assert!(defender_tvm::check_changes_since(now - Duration::days(15)).is_err());
/// assert!(defender_tvm::check_changes_since(now + Duration::days(1)).is_err());
/// ```
pub fn check_changes_since(since: DateTime<Utc>) -> Result<(), Error> {
    check_since(since, DateTime::<Utc>::from(SystemTime::now()))
}

fn check_since(since: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Error> {
    if since > now {
        return Err(Error::invalid_input(format!(
            "sinceTime {since} is in the future"
        )));
    }
    let oldest = now - chrono::Duration::from_std(MAX_CHANGES_AGE).unwrap_or(chrono::Duration::MAX);
    if since < oldest {
        // To the second, rounded up: a time copied from the message is accepted.
        let oldest = (oldest + chrono::Duration::seconds(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        return Err(Error::invalid_input(format!(
            "sinceTime {since} is more than 14 days back; the delta export reaches back to {oldest}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_refused_in_the_future_and_beyond_14_days() {
        let now = DateTime::<Utc>::from(SystemTime::now());
        assert!(check_since(now, now).is_ok());
        assert!(check_since(now - chrono::Duration::days(14), now).is_ok());
        let late = check_since(now + chrono::Duration::seconds(1), now).unwrap_err();
        assert!(late.to_string().contains("in the future"), "{late}");
        let early = check_since(now - chrono::Duration::days(15), now).unwrap_err();
        assert!(early.to_string().contains("14 days"), "{early}");
    }

    #[test]
    fn page_sizes_and_link_lifetimes_are_checked() {
        assert_eq!(ExportPages::new().checked().unwrap(), None);
        assert_eq!(
            ExportPages::new().page_size(200_000).checked().unwrap(),
            NonZeroU32::new(200_000)
        );
        assert!(ExportPages::new().page_size(0).checked().is_err());
        assert!(ExportPages::new().page_size(200_001).checked().is_err());
        assert_eq!(SasValidHours::default().hours(), 1);
        assert!(SasValidHours::new(6).is_ok());
        assert!(SasValidHours::new(0).is_err());
        assert!(SasValidHours::new(7).is_err());
    }
}
