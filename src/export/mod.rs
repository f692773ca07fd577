//! The export assessment APIs: one snapshot of every device's software vulnerabilities or
//! software inventory, for estates too big to ask about one software at a time.
//!
//! ## Two forms of one snapshot
//!
//! - **JSON pages** (`…ByMachine`): the rows in pages of up to 200,000, followed by next links,
//!   as a [`Pager`](crate::Pager) ([`Client::software_vulnerabilities_by_machine`],
//!   [`Client::software_inventory_by_machine`], paged by [`ExportPages`]). Simple; for a small or
//!   medium estate.
//! - **Files** (`…Export`): one call returns signed links to GZIP files on blob storage
//!   ([`ExportFiles`]); [`Client::software_vulnerabilities_export_rows`] and
//!   [`Client::software_inventory_export_rows`] stream every row of them as [`ExportRows`], in
//!   bounded memory, a few files at a time ([`ExportRowsOptions`]), with [`ExportProgress`] as
//!   they go. For any estate; the only sane form for a big one.
//! - **Changes** since a time at most 14 days back ([`ChangesSince`]):
//!   [`Client::software_vulnerability_changes_by_machine`], each row a
//!   [`SoftwareVulnerabilityChange`].
//!
//! Each kind of call counts against its own budget (see
//! [`ClientBuilder::json_export_rate_limit`](crate::ClientBuilder::json_export_rate_limit) and
//! [`file_export_rate_limit`](crate::ClientBuilder::file_export_rate_limit)).
//!
//! ## Rows as the service sends them
//!
//! One type per kind of row ([`SoftwareVulnerability`], [`SoftwareInventory`]) reads both forms:
//! the pages' `camelCase` keys and the files' `PascalCase` ones. Timestamps are the service's
//! text (`2020-11-03 10:13:34.8476880`, read as UTC) in an [`ExportTimestamp`];
//! `exploitabilityLevel` keeps values it does not know ([`ExploitabilityLevel::Other`]). A row
//! without a CVE is software installed but exposed to no vulnerability: its `cve_id` is `None`.
//!
//! ## What reading the files survives
//!
//! Each file is downloaded from blob storage (another origin: no token is attached, and its link,
//! a secret, never reaches an error or a trace), GZIP-decoded as its chunks arrive, split into
//! lines, and each line decoded as a row; the rows of a file come in order. A download that fails
//! mid-way or stalls, a `200` with an empty body (the blob may still be being copied), or a link
//! that expired (`403`) is downloaded again, with fresh links (one export call for all the files)
//! when the link was refused, and reading goes on after the rows already given: no row is lost or
//! repeated. A file storage does not have (404), a body that is not GZIP, a GZIP stream that ends
//! early or a line that is not a row is an [`Error::Export`](crate::Error::Export) naming the file
//! and the line (never its link), each with its own
//! [`ExportErrorKind`](crate::error::ExportErrorKind).
//!
//! ```no_run
//! # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
//! use defender_tvm::export::ExportRowsOptions;
//! use futures::TryStreamExt;
//!
//! let mut rows = client
//!     .software_vulnerabilities_export_rows(ExportRowsOptions::new())
//!     .await?;
//! println!("snapshot of {}", rows.generated_time());
//! while let Some(row) = rows.try_next().await? {
//!     let cve = row.cve_id.as_deref().unwrap_or("no CVE: the software is installed");
//!     println!("{} {:?} {cve}", row.device_id, row.software_name);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`Client::software_vulnerabilities_by_machine`]: crate::Client::software_vulnerabilities_by_machine
//! [`Client::software_inventory_by_machine`]: crate::Client::software_inventory_by_machine
//! [`Client::software_vulnerabilities_export_rows`]: crate::Client::software_vulnerabilities_export_rows
//! [`Client::software_inventory_export_rows`]: crate::Client::software_inventory_export_rows
//! [`Client::software_vulnerability_changes_by_machine`]: crate::Client::software_vulnerability_changes_by_machine

mod calls;
mod files;
mod levels;
mod links;
mod rows;
mod timestamp;

pub use calls::{ChangesSince, ExportPages, SasValidHours};
pub use files::{ExportProgress, ExportProgressHandle, ExportRows, ExportRowsOptions};
pub use levels::{ChangeStatus, ExploitabilityLevel};
pub use links::{ExportFiles, SasUrl};
pub use rows::{SoftwareInventory, SoftwareVulnerability, SoftwareVulnerabilityChange};
pub use timestamp::ExportTimestamp;
