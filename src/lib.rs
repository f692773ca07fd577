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
//! ## Layout
//! - [`generated`]: the client progenitor generates from `openapi/defender-tvm.yaml` at build
//!   time (builders, and the spec's types, re-exported as [`types`]);
//! - the facade: [`Client`] and [`ClientBuilder`] (configuration, authentication, paging),
//!   [`Error`] (one error type), [`Cloud`] (where requests go);
//! - [`mock`] (feature `mock`): typed httpmock helpers generated from the same spec.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Nothing a caller or a server sends may panic the facade.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod client_secret;
mod cloud;
mod credential;
mod error;
mod from_env;
pub mod generated {
    //! The client progenitor generates from `openapi/defender-tvm.yaml` at build time.
    //!
    //! Nothing here is written by hand: `build.rs` writes it into `OUT_DIR` on every build where
    //! the spec changed. It stays public for power users who want the raw builders
    //! (see [`crate::Client::generated`]); every request it sends still goes through the facade's
    //! hooks (authentication, response bookkeeping).
    #![allow(
        missing_docs,
        unused_qualifications,
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        clippy::expect_used
    )]

    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}
mod filter;
mod hooks;
#[cfg(feature = "mock")]
pub mod mock;
mod operation;
mod paging;
mod path_segment;
mod rate_limit;
mod retry;
mod secret;
mod severity;
mod software;
mod token_cache;

pub use client::{Client, ClientBuilder};
pub use cloud::Cloud;
pub use credential::{AccessToken, Credential};
pub use error::{ApiError, AuthError, Error};
pub use filter::{SoftwareField, SoftwareFilter};
pub use generated::types;
pub use generated::types::PublicProductFixDto;
pub use hooks::CallContext;
pub use paging::{Page, Pager};
pub use rate_limit::RateLimit;
/// HTTP status codes, as [`Error::status`] returns them.
pub use reqwest::StatusCode;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use severity::Severity;
pub use software::{MAX_TOP, SoftwareQuery};

// The README's examples compile as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
