//! The estate answer: which security updates are missing across the whole tenant, on how many
//! devices, fixing which CVEs, in priority order, within the service's budget, resumable.
//!
//! 1. **Plan** ([`Client::plan_missing_kbs_report`](crate::Client::plan_missing_kbs_report)):
//!    one full listing of the software inventory, the selection ([`Selection`]; by default only
//!    software with `weaknesses > 0`), the source ([`SourceChoice`], below), and the number of
//!    `getmissingkbs` calls and how long the client's rate limit makes them take, before any of
//!    them is made.
//! 2. **Run** ([`ReportPlan::run`]): from calls, exactly one `getmissingkbs` per selected
//!    software (retries aside), a bounded number at a time, under the client's one rate limit;
//!    with the devices option, one `machinesVulnerabilities` listing per KB found. Progress comes
//!    as [`ReportEvent`]s. A call that still fails goes into the report's [`Failure`]s and the
//!    rest go on; a sign-in failure or a 401 after the token refresh stops the run with that one
//!    error. Dropping the run's future stops it: no call starts after the drop.
//! 3. **Resume**: each finished software is a self-contained [`SoftwareResult`]; give the ones
//!    kept from an interrupted run to [`ReportOptions::resume`] and they are not asked again.
//! 4. **Deploy plan** ([`Report::deploy`], a [`DeployPlan`]): the KBs to deploy in priority
//!    order, the Windows cumulative updates of one series counted once as their newest (an older
//!    one is [`covered_by`](KbRollup::covered_by) it), and, with devices known, what each device
//!    needs ([`DeviceDeploy`]).
//!
//! ## Two sources
//!
//! [`SourceChoice::Calls`] asks the service about each software; [`SourceChoice::Export`] reads
//! one snapshot of the vulnerabilities export (one call, whatever the estate's size), which gives
//! each KB its exact devices, CVEs, severity, exploitability and age. [`SourceChoice::Auto`], the
//! default, takes the export when the calls would take longer or devices are asked for, and
//! falls back to the calls when the export is refused. The report records what it used
//! ([`Report::source`], a [`Source`]) and how old its data is ([`Report::data_as_of`]).
//!
//! ```no_run
//! # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
//! use defender_tvm::report::{ReportOptions, SourceChoice};
//!
//! let plan = client
//!     .plan_missing_kbs_report(ReportOptions::new().source(SourceChoice::Export))
//!     .await?;
//! let report = plan.finish().await?;
//! for step in &report.deploy.steps {
//!     println!("{}. KB{} on {} devices, {} CVEs", step.kb.rank, step.kb.id, step.kb.devices, step.kb.cves_addressed);
//! }
//! # Ok(())
//! # }
//! ```
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
