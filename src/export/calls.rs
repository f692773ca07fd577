//! The export calls: the JSON pages, the changes since a time, and the via-files calls that
//! return the snapshot's links (their rows are read by `files.rs`).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::links::ExportFiles;
use super::rows::{SoftwareInventory, SoftwareVulnerability, SoftwareVulnerabilityChange};
use crate::api::{call, page};
use crate::client::Client;
use crate::error::Error;
use crate::operations::{
    EXPORT_SOFTWARE_INVENTORY, EXPORT_SOFTWARE_VULNERABILITIES, LIST_SOFTWARE_INVENTORY_BY_MACHINE,
    LIST_SOFTWARE_VULNERABILITIES_BY_MACHINE, LIST_SOFTWARE_VULNERABILITY_CHANGES_BY_MACHINE,
};
use crate::paging::Pager;
use crate::types;

crate::paging::odata_pages! {
    types::SoftwareVulnerabilityCollection => SoftwareVulnerability,
    types::SoftwareVulnerabilityChangeCollection => SoftwareVulnerabilityChange,
    types::SoftwareInventoryCollection => SoftwareInventory,
}

/// How a JSON export is paged.
///
/// ```
/// use defender_tvm::export::ExportPages;
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

/// When the changes export starts (`sinceTime`): a time at most 14 days back and not in the
/// future, checked when made.
///
/// ```
/// use chrono::{DateTime, Duration, Utc};
/// use defender_tvm::export::ChangesSince;
///
/// let now = DateTime::<Utc>::from(std::time::SystemTime::now());
/// assert!(ChangesSince::new(now - Duration::days(3)).is_ok());
/// assert!(ChangesSince::new(now - Duration::days(15)).is_err());
/// assert!(ChangesSince::new(now + Duration::days(1)).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChangesSince(DateTime<Utc>);

impl ChangesSince {
    /// How far back the changes export reaches, as the service documents.
    pub const MAX_AGE: Duration = Duration::from_secs(14 * 24 * 3600);

    /// `since`, refused (as [`Error::InvalidInput`]) when it is in the future or more than
    /// [`MAX_AGE`](Self::MAX_AGE) back.
    pub fn new(since: DateTime<Utc>) -> Result<Self, Error> {
        check_since(since, DateTime::<Utc>::from(SystemTime::now())).map(|()| Self(since))
    }

    /// The time.
    pub fn time(self) -> DateTime<Utc> {
        self.0
    }
}

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
    ///     .software_vulnerabilities_by_machine(defender_tvm::export::ExportPages::new())
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

    /// What changed since `since`: rows of the vulnerabilities export with what happened
    /// (`New`, `Fixed`, `Updated`) and when:
    /// `GET /api/machines/SoftwareVulnerabilityChangesByMachine`. Counts against the JSON export budget.
    /// Needs `Vulnerability.Read.All` (or delegated `Vulnerability.Read`).
    pub fn software_vulnerability_changes_by_machine(
        &self,
        since: ChangesSince,
        pages: ExportPages,
    ) -> Pager<SoftwareVulnerabilityChange> {
        let op = &LIST_SOFTWARE_VULNERABILITY_CHANGES_BY_MACHINE;
        let page_size = match pages.checked() {
            Ok(page_size) => page_size,
            Err(e) => return Pager::failed(e),
        };
        let mut request = self
            .builders()
            .list_software_vulnerability_changes_by_machine()
            .since_time(since.time());
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

/// Refuses a `since` the changes export cannot take: in the future, or more than 14 days
/// before `now`.
fn check_since(since: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Error> {
    if since > now {
        return Err(Error::invalid_input(format!(
            "sinceTime {since} is in the future"
        )));
    }
    let oldest =
        now - chrono::Duration::from_std(ChangesSince::MAX_AGE).unwrap_or(chrono::Duration::MAX);
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
