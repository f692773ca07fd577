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
//! ## Crate organization
//!
//! `openapi/defender-tvm.yaml` is the contract; `build.rs` generates the spec's types and a
//! client from it on every build. The hand-written facade around them is organised by concern,
//! in layers, each using only the ones below it (generated code included):
//!
//! `tenants` → `report` → `api` → `client` and `paging` → `generated` → `transport` → `auth` → `wire` →
//! `operations`, `types`, `cloud`, `error`.
//!
//! | where | what |
//! |---|---|
//! | `tenants/` | many tenants at once: [`Tenants`] (`mod.rs`: named clients, jobs across them), [`CombinedReport`] (`combined.rs`), the TOML file (`file.rs`, feature `tenants`) |
//! | `report/` | the estate report: [`Client::plan_missing_kbs_report`], [`ReportPlan`], [`Source`] (`mod.rs`); `calls.rs` (from one `getmissingkbs` per software, and device listings); `snapshot.rs` (from one via-files export, folded as its rows stream in); `deploy.rs` (the deploy plan) and `cumulative.rs` (which Windows updates contain which); `model.rs` ([`Report`]: rows, KB rollups, failures, resumable [`SoftwareResult`]s, the [`DeployPlan`]) |
//! | `api/` | the operations, as [`Client`] methods: `software.rs` (the Software family and [`Client::missing_kbs`], [`SoftwareQuery`]), `machines.rs` (device missing KBs), `vulnerabilities.rs` (vulnerabilities by machine and software, [`MachineVulnerabilityQuery`]), `exports.rs` (the export assessment APIs: JSON pages, [`ExportPages`], the via-files export calls), `export_files.rs` (reading a via-files export's files as one stream of rows, [`ExportRows`]) |
//! | `client/` | [`Client`] (`mod.rs`); `builder.rs` ([`ClientBuilder`]: cloud, credential, timeouts, retries, rate limit); `from_env.rs` (the one resolution of credentials from variables); `hooks.rs` (how generated calls enter the sending path) |
//! | `paging.rs` | [`Pager`]: one lazy stream for every collection; next links (same origin only, no loops), caps; a listing of one page collected without a stream |
//! | `generated.rs` | the generated client ([`generated`]), one builder per operation |
//! | `transport/` | the **one sending path** (`mod.rs`): token, rate limit, 401 refresh, retries, body read, response → [`Error`] (`response.rs`); `rate_limit.rs` ([`RateLimit`], one budget per endpoint class) |
//! | `auth/` | `credential.rs` ([`Credential`], [`AccessToken`]), `client_secret.rs` (Entra ID client credentials), `token_cache.rs` (reuse, renewal, single flight), `secret.rs` ([`Secret`]) |
//! | `wire/` | `retry.rs` ([`RetryPolicy`] and the one retry loop, for API calls and the token request), `body.rs` (bounded bodies, excerpts, `Retry-After`), `path_segment.rs` (ids that must stay one path segment) |
//! | `operations.rs` | each operation's id, permissions and budget class: the one table of them |
//! | `types/` | the value types ([`types`]): the spec's (`spec.rs`, generated), the export rows (`export.rs`: [`types::SoftwareVulnerability`], [`types::ExportTimestamp`], …), [`Severity`], [`StringList`], the filters ([`SoftwareFilter`], [`MachineVulnerabilityFilter`]) |
//! | `cloud.rs` | [`Cloud`]: the spec's `servers` by name |
//! | `error.rs` | [`Error`] and the payload of each variant |
//! | `mock.rs` | with feature `mock`, typed httpmock helpers ([`mock`]) |
//!
//! ## Features
//!
//! - `azure`: [`ClientBuilder::azure_credential`], any `azure_core` token credential.
//! - `mock`: [`mock`], progenitor's typed httpmock helpers for your tests.
//! - `tenants`: `Tenants::from_file`, a TOML file of tenants.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Nothing a caller or a server sends may panic the facade.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod auth;
mod client;
mod cloud;
mod error;
pub mod generated;
#[cfg(feature = "mock")]
pub mod mock;
mod operations;
mod paging;
mod report;
mod tenants;
mod transport;
pub mod types;
mod wire;

pub use api::export_files::{ExportProgress, ExportRows, ExportRowsOptions};
pub use api::exports::{ExportPages, MAX_CHANGES_AGE, SasValidHours, check_changes_since};
pub use api::software::SoftwareQuery;
pub use api::vulnerabilities::MachineVulnerabilityQuery;
pub use auth::{AccessToken, Credential, Secret};
pub use client::Client;
pub use client::builder::ClientBuilder;
pub use cloud::Cloud;
pub use error::{
    ApiError, AuthError, DecodeError, Error, ExportError, ExportErrorKind, InvalidInputError,
    PagingError, Permission, TimeoutError, TimeoutKind, TransportError,
};
pub use paging::{CollectItems, Page, Pager};
pub use report::{
    DeployPlan, DeployStep, DeviceDeploy, DeviceKbs, Failure, KbRollup, Priority, Progress, Report,
    ReportEvent, ReportOptions, ReportPlan, Row, Selection, SoftwareInfo, SoftwareResult, Source,
    default_priority,
};
/// HTTP status codes, as [`Error::status`] returns them (the `http` crate's type).
pub use reqwest::StatusCode;
#[cfg(feature = "tenants")]
pub use tenants::TenantsFile;
pub use tenants::{CombinedReport, CrossTenantKb, Tenant, TenantOutcome, TenantReport, Tenants};
pub use transport::rate_limit::RateLimit;
pub use types::{
    MachineVulnerabilityField, MachineVulnerabilityFilter, PublicProductFixDto, Severity,
    SoftwareField, SoftwareFilter, StringList,
};
pub use wire::retry::RetryPolicy;

// The README's examples compile as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
