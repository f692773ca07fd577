//! # defender-tvm
//!
//! A Rust client for the Microsoft Defender Vulnerability Management (TVM) API: which security
//! updates are missing, where, and what they fix.
//!
//! ```no_run
//! # async fn run() -> Result<(), defender_tvm::Error> {
//! let client = defender_tvm::Client::builder()
//!     .bearer_token(std::env::var("DEFENDER_TVM_BEARER_TOKEN").unwrap_or_default())
//!     .build()?;
//! for kb in client.missing_kbs("microsoft-_-edge").await? {
//!     println!("KB{}: {} devices, {} CVEs", kb.id, kb.machine_missed_on, kb.cve_addressed);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Where things are
//!
//! - The crate root: the [`Client`] and its [`ClientBuilder`] (cloud, credential, timeouts,
//!   [`RetryPolicy`], [`RateLimit`]), signing in ([`Credential`], [`AccessToken`], [`Secret`]),
//!   the one [`Error`], and [`Pager`], the lazy stream every listing returns.
//! - [`report`]: the estate report (every missing KB across the tenant, in priority order,
//!   within the budget, resumable) and the deploy plan.
//! - [`export`]: the export assessment APIs, their rows, and the via-files export read as one
//!   stream of rows.
//! - [`tenants`]: many tenants at once, their combined report, and the tenants file.
//! - [`types`]: the API's value types (generated from the OpenAPI contract) and the filters and
//!   queries that build requests.
//! - [`error`]: the payload of each [`Error`] variant.
//! - [`paging`]: how listings are paged.
//! - `generated` (feature `generated`, outside semver): the raw generated builders, for what the
//!   facade does not cover.
//!
//! ## Features
//!
//! - `azure`: [`ClientBuilder::azure_credential`], any `azure_core` token credential.
//! - `mock`: [`mock`], progenitor's typed httpmock helpers for your tests.
//! - `tenants`: [`tenants::TenantsFile`], a TOML file of tenants.
//! - `generated`: the module `generated` and `Client::generated`, progenitor's raw builders.
//!   **Outside semver**: they follow progenitor and the spec, and expose `reqwest` and
//!   `progenitor_client` types, so any release may change them.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Nothing a caller or a server sends may panic the facade.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod auth;
mod client;
mod cloud;
pub mod error;
pub mod export;
#[cfg(feature = "generated")]
pub mod generated;
#[cfg(not(feature = "generated"))]
mod generated;
#[cfg(feature = "mock")]
pub mod mock;
mod operations;
pub mod paging;
pub mod report;
pub mod tenants;
mod transport;
pub mod types;
mod wire;

pub use api::software::SoftwareQuery;
pub use api::vulnerabilities::DeviceVulnerabilityQuery;
pub use auth::{AccessToken, Credential, Secret};
pub use client::Client;
pub use client::builder::ClientBuilder;
pub use cloud::Cloud;
pub use error::Error;
pub use paging::Pager;
/// HTTP status codes, as [`Error::status`] returns them (the `http` crate's type).
pub use reqwest::StatusCode;
pub use transport::rate_limit::RateLimit;
pub use wire::retry::RetryPolicy;

// The README's examples compile as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
