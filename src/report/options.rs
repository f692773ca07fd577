//! How to build an estate report: which software, how many calls at once, the devices, the
//! source, the priority order, and what an interrupted run already did.

use std::cmp::Ordering;
use std::sync::Arc;

use super::model::{KbRollup, SoftwareResult, default_priority};
use crate::error::Error;
use crate::types::filter::SoftwareFilter;

/// Which software a report asks about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection {
    /// Software with at least one weakness (the default; see [the guide](crate::report)).
    #[default]
    Vulnerable,
    /// Every software of the inventory.
    All,
    /// The software a filter selects (applied by the service to the listing).
    Filter(SoftwareFilter),
    /// These software ids.
    Ids(Vec<String>),
}

/// Where a report takes its data from (see [`ReportOptions::source`]); the report records what
/// was used as a [`Source`](super::Source).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceChoice {
    /// The export when the calls would take longer or devices are asked for, else the calls;
    /// the calls when the export is refused (the default).
    #[default]
    Auto,
    /// One `getmissingkbs` call per software (and `machinesVulnerabilities` for devices).
    Calls,
    /// One snapshot of the software vulnerabilities export (via files).
    Export,
}

/// A priority order for the report's KBs.
pub type Priority = Arc<dyn Fn(&KbRollup, &KbRollup) -> Ordering + Send + Sync>;

/// How to build an estate report.
///
/// ```
/// use defender_tvm::report::{ReportOptions, Selection};
///
/// let options = ReportOptions::new()
///     .selection(Selection::All)
///     .concurrency(4)
///     .devices(true);
/// ```
#[derive(Clone)]
pub struct ReportOptions {
    pub(super) selection: Selection,
    pub(super) concurrency: usize,
    pub(super) devices: bool,
    pub(super) resume: Vec<SoftwareResult>,
    pub(super) priority: Priority,
    pub(super) source: SourceChoice,
    pub(super) collapse_cumulative: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            selection: Selection::default(),
            concurrency: 8,
            devices: false,
            resume: Vec::new(),
            priority: Arc::new(default_priority),
            source: SourceChoice::Auto,
            collapse_cumulative: true,
        }
    }
}

impl std::fmt::Debug for ReportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportOptions")
            .field("selection", &self.selection)
            .field("concurrency", &self.concurrency)
            .field("devices", &self.devices)
            .field("resume", &self.resume.len())
            .field("source", &self.source)
            .field("collapse_cumulative", &self.collapse_cumulative)
            .finish_non_exhaustive()
    }
}

impl ReportOptions {
    /// The defaults: vulnerable software, 8 calls at a time, no device listings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Which software to ask about.
    pub fn selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }

    /// How many calls run at once (default 8; 0 is refused when the report is planned). The
    /// client's rate limit still decides when each may start.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Also list each KB's devices from `machinesVulnerabilities` (one listing per KB, needs
    /// `Vulnerability.Read.All`): each KB then has its exact distinct device ids, and the exact
    /// count replaces the estimate.
    pub fn devices(mut self, devices: bool) -> Self {
        self.devices = devices;
        self
    }

    /// Results kept from an interrupted run: those software are not asked again, and the report
    /// equals an uninterrupted run's. Records of software outside the selection are ignored.
    pub fn resume(mut self, done: impl IntoIterator<Item = SoftwareResult>) -> Self {
        self.resume.extend(done);
        self
    }

    /// Where the data comes from (default [`SourceChoice::Auto`]): [`SourceChoice::Calls`], one
    /// `getmissingkbs` per software; [`SourceChoice::Export`], one snapshot of the via-files export
    /// (needs `Vulnerability.Read.All`), which gives each KB's exact devices, CVEs, severity,
    /// exploitability and age; [`SourceChoice::Auto`], the export when the calls would take longer
    /// than the export call under the budgets or when devices are asked for (and no resumed
    /// results are given), else the calls — and the calls, after one
    /// [`super::ReportEvent::ExportRefused`], when the export is refused (403).
    pub fn source(mut self, source: SourceChoice) -> Self {
        self.source = source;
        self
    }

    /// Whether the deploy plan counts the Windows cumulative updates of one series once, as
    /// their newest (default `true`): the older ones are then marked
    /// [`covered_by`](KbRollup::covered_by) the newest, which carries the union of their
    /// devices and CVEs. The rule reads Microsoft's titles (`2025-08 Cumulative Update for
    /// Windows 11 Version 24H2 for x64-based Systems (KB…)`) for Windows 10, 11 and Server 2016
    /// or later; the README says its limits. `false`: every KB is a step of its own.
    pub fn collapse_cumulative(mut self, collapse: bool) -> Self {
        self.collapse_cumulative = collapse;
        self
    }

    /// Replaces the priority order of the KBs (default [`default_priority`]: public exploit
    /// first, then CVEs × devices, then KB id).
    pub fn priority(
        mut self,
        order: impl Fn(&KbRollup, &KbRollup) -> Ordering + Send + Sync + 'static,
    ) -> Self {
        self.priority = Arc::new(order);
        self
    }

    /// Refuses options no run can follow, when the report is planned.
    pub(super) fn check(&self) -> Result<(), Error> {
        if self.concurrency == 0 {
            return Err(Error::invalid_input(
                "report concurrency is 0: at least 1 call must run at a time",
            ));
        }
        Ok(())
    }
}
