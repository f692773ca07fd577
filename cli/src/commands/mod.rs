//! One file per command: each runs its calls and hands a `Dataset` to `output.rs` (or, for
//! `export`, streams its rows itself).

pub mod calls;
pub mod completions;
pub mod export;
pub mod history;
pub mod report;
pub mod tenants;
