//! The API's value types, in one place: the spec's types, generated from
//! `openapi/defender-tvm.yaml` ([`PublicProductFixDto`], [`Software`], [`Vulnerability`], …),
//! and the hand-written ones they use or that build requests.
//!
//! - the spec's types, generated from the contract and never edited: what each operation returns
//!   ([`PublicProductFixDto`], [`Software`], …) and its collection pages;
//! - [`Severity`], a severity that keeps values it does not know;
//! - [`StringList`], a list the service may send as one string;
//! - typed OData `$filter`s ([`SoftwareFilter`], [`DeviceVulnerabilityFilter`]).
//!
//! The export APIs' rows are in [`crate::export`].
//!
//! Nothing here sends a request: the generated client and the facade's operations use these
//! types, never the other way round.

pub(crate) mod filter;
pub(crate) mod open_enum;
pub(crate) mod severity;
mod spec;
pub(crate) mod string_list;

pub use filter::{
    DeviceVulnerabilityField, DeviceVulnerabilityFilter, SoftwareField, SoftwareFilter,
};
pub use severity::Severity;
pub use spec::*;
pub use string_list::StringList;
