//! The spec's types, as progenitor generates them from `openapi/defender-tvm.yaml`.
//!
//! Nothing here is written by hand: `build.rs` writes it into `OUT_DIR` on every build where the
//! spec changed. Shape these types through the spec and `build.rs`'s settings, never here.
#![allow(
    missing_docs,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used
)]

include!(concat!(env!("OUT_DIR"), "/types.rs"));
