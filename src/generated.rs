//! The client progenitor generates from `openapi/defender-tvm.yaml` at build time: one builder
//! per operation. Its types are [`crate::types`] (also reachable as `generated::types`).
//!
//! Nothing here is written by hand: `build.rs` writes it into `OUT_DIR` on every build where the
//! spec changed. With feature `generated` it is public, **outside semver**, for power users who
//! want the raw builders (`Client::generated`); every request it sends still goes through the
//! facade's one sending path. Its inner value is the client's transport, which users
//! cannot build: a generated client comes only from a configured [`crate::Client`].
#![allow(
    missing_docs,
    // Without the `generated` feature, what only users would call is unused.
    dead_code,
    unused_imports,
    unused_qualifications,
    private_interfaces,
    private_bounds,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used
)]

include!(concat!(env!("OUT_DIR"), "/client.rs"));
