//! The answers: the stored snapshots and the trend (`trend.rs`), what changed between two
//! snapshots (`changes.rs`), how fast fixes land and what is past its SLA (`remediation.rs`),
//! the times they are asked about (`window.rs`), and what they all read (`load.rs`).

pub(crate) mod changes;
pub(crate) mod load;
mod open;
pub(crate) mod remediation;
pub(crate) mod trend;
pub(crate) mod window;
