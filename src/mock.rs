//! Typed [httpmock](https://docs.rs/httpmock) helpers generated from the spec (feature `mock`).
//!
//! Each operation gets a `When`/`Then` pair that speaks the spec's own types, so a mock cannot
//! drift from the contract:
//!
//! ```no_run
//! use defender_tvm::mock::MockServerExt;
//! use defender_tvm::types::{PublicProductFixDto, PublicProductFixDtoCollection};
//!
//! let server = httpmock::MockServer::start();
//! server.get_missing_kbs_by_software_id(|when, then| {
//!     when.id("microsoft-_-edge");
//!     then.ok(&PublicProductFixDtoCollection {
//!         odata_context: None,
//!         odata_count: None,
//!         odata_next_link: None,
//!         value: vec![],
//!     });
//! });
//! ```
//!
//! Known limit of the generated path matcher (progenitor 0.15): `When::id(..)` builds a regular
//! expression from the raw value, so ids with regex metacharacters (`notepad++`) or characters
//! that travel percent-encoded need `into_inner()` and an exact `path(..)` match instead.
#![cfg_attr(docsrs, doc(cfg(feature = "mock")))]
#![allow(
    missing_docs,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used
)]

include!(concat!(env!("OUT_DIR"), "/mock.rs"));
