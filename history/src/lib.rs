//! # defender-tvm-history
//!
//! Every snapshot of a Defender tenant's vulnerabilities kept in one SQLite file, and the
//! answers vulnerability management is judged on: what changed, how fast fixes land, what is
//! past its deadline, whether exposure is going down.
//!
//! The service keeps no history (the export is the current snapshot, the change feed reaches
//! 14 days back); a store does.
//!
//! ## The unit: an exposure
//!
//! An exposure is a (device, software vendor and name, CVE) seen in a snapshot. The store keeps
//! it as spans of snapshots, opened when first seen and closed when gone, not as a copy of every
//! row of every snapshot: a snapshot in which nothing changed adds one row of facts.
//!
//! - **Fixed**: gone from a snapshot while its device is still in it (a device is in a snapshot
//!   when any of its rows is, rows without a CVE included). Fixed at that snapshot's time (or
//!   the change feed's event time), after the last snapshot that had it.
//! - **Still open**: the software version changed and the CVE remains; the device moved group.
//! - **Retired**: gone with its device (offboarded, or silent past the service's 30 days).
//!   Counted apart: neither open nor fixed.
//! - **Reopened**: fixed, then seen again: the same exposure, with a gap.
//! - Rows without a CVE are not exposures.
//!
//! Age starts at the service's `firstSeenTimestamp`, not at the first sync.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use defender_tvm_history::{Observation, Source, Store};
//!
//! let mut store = Store::in_memory()?;
//! let row = Observation {
//!     device_id: "d1",
//!     device_name: Some("ws-01"),
//!     rbac_group: Some("Finance"),
//!     software_vendor: "google",
//!     software_name: "chrome",
//!     software_version: Some("130.0"),
//!     cve_id: Some("CVE-2026-0001"),
//!     severity: None,
//!     exploited: false,
//!     kb: None,
//!     first_seen: None,
//! };
//! let monday = Utc.with_ymd_and_hms(2026, 11, 2, 6, 0, 0).unwrap();
//! store.sync_snapshot("contoso", monday, Source::Export, [row.clone()])?;
//! // A day later the device still sends its Chrome row, without the CVE: fixed.
//! let fixed = Observation { cve_id: None, software_version: Some("131.0"), ..row };
//! store.sync_snapshot("contoso", monday + chrono::Duration::days(1), Source::Export, [fixed])?;
//! # Ok::<(), defender_tvm_history::Error>(())
//! ```

#![warn(missing_docs)]

mod answers;
mod error;
#[cfg(feature = "parquet")]
pub mod export;
mod observation;
pub mod schema;
mod store;
mod sync;

pub use answers::changes::{Changes, ChangesOf, ExposureRow, RetiredDevice};
pub use answers::remediation::{Ages, By, Group, Remediation, Sla};
pub use answers::trend::{StoredSnapshot, Trend, TrendPoint};
pub use answers::window::When;
pub use error::Error;
#[cfg(feature = "parquet")]
pub use export::ExportSummary;
pub use observation::{Change, Happened, Observation};
pub use store::Store;
pub use sync::{Counts, SnapshotSync, Source, Summary, Synced};

/// The README's example, compiled as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
