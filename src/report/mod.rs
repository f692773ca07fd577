//! The estate answer: which security updates are missing across the whole tenant, on how many
//! devices, fixing which CVEs, in priority order, within the service's budget, resumable.
//!
//! 1. **Plan** ([`Client::plan_missing_kbs_report`](crate::Client::plan_missing_kbs_report)): one full listing of the software inventory,
//!    the selection ([`Selection`]; by default only software with `weaknesses > 0`), and the
//!    number of `getmissingkbs` calls and how long the client's rate limit makes them take,
//!    before any of them is made.
//! 2. **Run** ([`ReportPlan::run`]): exactly one `getmissingkbs` per selected software (retries
//!    aside), a bounded number at a time, under the client's one rate limit; with the devices
//!    option, one `machinesVulnerabilities` listing per KB found. Progress comes as
//!    [`ReportEvent`]s. A software whose call still fails goes into the report's failures and
//!    the rest go on; a sign-in failure or a 401 after the token refresh stops the run with that
//!    one error. Dropping the run's future stops it: no call starts after the drop.
//! 3. **Resume**: each finished software is a self-contained [`SoftwareResult`]; give the ones
//!    kept from an interrupted run to [`ReportOptions::resume`] and they are not asked again.
//! 4. **Deploy plan** ([`Report::deploy`], `deploy.rs`): the KBs to deploy in priority order,
//!    Windows cumulative updates of one series counted once as their newest (`cumulative.rs`
//!    has the rule and its limits), and, with devices known, what each device needs.
//!
//! Decision: by default a software with no weakness is not asked about. A security update is
//! missing only where a vulnerability is open, so such a software has none to report; the cost
//! is that a KB the service lists for a software while reporting zero weaknesses for it (a
//! lagging count) is not seen. [`Selection::All`] asks about every software instead.

mod calls;
mod cumulative;
mod deploy;
mod model;
mod options;
mod run;
mod snapshot;

pub use model::{
    DeployPlan, DeployStep, DeviceDeploy, Failure, FailureKind, KbRollup, Report, Row,
    SoftwareInfo, SoftwareResult, Source, default_priority,
};
pub use options::{Priority, ReportOptions, Selection, SourceChoice};
pub use run::{Progress, ReportEvent, ReportPlan};
