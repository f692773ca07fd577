//! Running a report: the plan (the selection, the calls it will take), then the run from the
//! chosen source, with progress events.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::model::{Failure, FailureKind, Report, SoftwareInfo, SoftwareResult, Source};
use super::options::{ReportOptions, Selection, SourceChoice};
use super::{calls, deploy, snapshot};
use crate::api::software::SoftwareQuery;
use crate::client::Client;
use crate::error::Error;
use crate::operations::Budget;

/// Where a run stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Software finished (resumed ones included) and failed.
    pub software_done: usize,
    /// Software selected.
    pub software_total: usize,
    /// Calls made so far by this run (retries not counted).
    pub calls: u64,
    /// Failures so far.
    pub failures: usize,
    /// KBs whose devices were listed (devices option).
    pub devices_done: usize,
    /// KBs whose devices will be listed (devices option; 0 until the KBs are known).
    pub devices_total: usize,
    /// How long calls are waiting on the client's rate limit now, if they are.
    pub rate_limit_wait: Option<Duration>,
}

/// What happened in a run, for progress displays and checkpoints.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReportEvent<'a> {
    /// A software finished: keep `result` to resume later.
    SoftwareDone {
        /// Its self-contained result.
        result: &'a SoftwareResult,
        /// Where the run stands.
        progress: Progress,
    },
    /// A software (or a KB's device listing) failed after retries; the run goes on.
    Failed {
        /// What failed.
        failure: &'a Failure,
        /// Where the run stands.
        progress: Progress,
    },
    /// The KBs are known: this many device listings follow, taking at least this long.
    DevicesPlanned {
        /// How many listings.
        listings: usize,
        /// How long the rate limit makes them take at the least.
        estimate: Duration,
    },
    /// A KB's devices were listed.
    DevicesDone {
        /// The KB.
        kb_id: &'a str,
        /// Where the run stands.
        progress: Progress,
    },
    /// The export was refused (403: the application lacks `Vulnerability.Read.All`); with
    /// [`SourceChoice::Auto`] the report goes on from calls.
    ExportRefused {
        /// The refusal.
        error: &'a Error,
    },
    /// Reading the export: files and rows so far.
    Export {
        /// Where reading stands.
        progress: crate::export::ExportProgress,
    },
    /// A second passed (for displays of waits and elapsed time).
    Tick {
        /// Where the run stands.
        progress: Progress,
    },
}

/// A planned report: the selection is known and no `getmissingkbs` call is made yet.
#[derive(Debug)]
pub struct ReportPlan {
    client: Client,
    options: ReportOptions,
    selected: Vec<SoftwareInfo>,
    done: BTreeMap<String, SoftwareResult>,
    listed: usize,
    /// The source chosen: calls or the export.
    source: Source,
}

impl ReportPlan {
    /// The selected software, in the inventory's order.
    pub fn software(&self) -> &[SoftwareInfo] {
        &self.selected
    }

    /// How many software the inventory listing returned.
    pub fn listed(&self) -> usize {
        self.listed
    }

    /// How many selected software are already done (resumed).
    pub fn resumed(&self) -> usize {
        self.done.len()
    }

    /// How many `getmissingkbs` calls the run will make: one per selected software not resumed.
    pub fn calls(&self) -> usize {
        self.selected.len() - self.done.len()
    }

    /// Where the run takes its data from: [`Source::Calls`] or [`Source::Export`] (with
    /// [`SourceChoice::Auto`], what was chosen; the run may still go back to calls when the export is
    /// refused).
    pub fn source(&self) -> Source {
        self.source
    }

    /// Whether the run lists each KB's devices too (their count is known once the KBs are; see
    /// [`ReportEvent::DevicesPlanned`]).
    pub fn lists_devices(&self) -> bool {
        self.options.devices
    }

    /// How long the client's rate limit makes the `getmissingkbs` calls take at the least (for
    /// example 1,200 calls at 100 a minute: 11 minutes).
    pub fn estimated_duration(&self) -> Duration {
        self.client.rate_limit_estimate(self.calls() as u64)
    }

    /// Runs the plan, calling `on_event` as it goes; see [the guide](crate::report).
    pub async fn run(self, on_event: impl FnMut(ReportEvent<'_>)) -> Result<Report, Error> {
        let ReportPlan {
            client,
            options,
            selected,
            done,
            source,
            ..
        } = self;
        let mut phase = Phase {
            client: client.clone(),
            ticks: tokio::time::interval(Duration::from_secs(1)),
            progress: Progress {
                software_done: done.len(),
                software_total: selected.len(),
                ..Progress::default()
            },
            failures: Vec::new(),
            on_event,
        };
        phase.ticks.tick().await;
        let mut report = run_source(&client, &options, &selected, done, source, &mut phase).await?;
        deploy::plan(
            &mut report,
            options.collapse_cumulative,
            options.priority.as_ref(),
        );
        Ok(report)
    }

    /// Runs the plan without progress events.
    pub async fn finish(self) -> Result<Report, Error> {
        self.run(|_| {}).await
    }
}

/// The report from the chosen source: the export (then, for [`SourceChoice::Auto`], calls when it is
/// refused) or calls.
async fn run_source<F: FnMut(ReportEvent<'_>)>(
    client: &Client,
    options: &ReportOptions,
    selected: &[SoftwareInfo],
    done: BTreeMap<String, SoftwareResult>,
    source: Source,
    phase: &mut Phase<F>,
) -> Result<Report, Error> {
    if source == Source::Export {
        match snapshot::run(client, options, selected, phase).await {
            Ok(report) => return Ok(report),
            // Auto: without the export's permission, the calls still work.
            Err(e)
                if options.source == SourceChoice::Auto
                    && e.status() == Some(reqwest::StatusCode::FORBIDDEN) =>
            {
                (phase.on_event)(ReportEvent::ExportRefused { error: &e });
            }
            Err(e) => return Err(e),
        }
    }
    calls::run(client, options, selected, done, phase).await
}

impl Client {
    /// Plans the estate report: one full listing of the software inventory and the selection;
    /// no `getmissingkbs` call yet. See [`ReportPlan`] to show or refuse the plan and to run it.
    ///
    /// ```no_run
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// let plan = client.plan_missing_kbs_report(defender_tvm::report::ReportOptions::new()).await?;
    /// println!("{} calls, at least {:?}", plan.calls(), plan.estimated_duration());
    /// let report = plan.finish().await?;
    /// for kb in report.kbs.iter().take(10) {
    ///     println!("{}. KB{} on {} devices", kb.rank, kb.id, kb.devices);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn plan_missing_kbs_report(
        &self,
        options: ReportOptions,
    ) -> Result<ReportPlan, Error> {
        options.check()?;
        let query = match &options.selection {
            Selection::Filter(filter) => SoftwareQuery::new().filter(filter.clone()),
            _ => SoftwareQuery::new(),
        };
        let inventory = self.software(query).collect_items().await?;
        let listed = inventory.len();
        let selected: Vec<SoftwareInfo> = match &options.selection {
            Selection::Vulnerable => inventory
                .iter()
                .filter(|s| s.weaknesses.unwrap_or(0) > 0)
                .map(SoftwareInfo::from_listing)
                .collect(),
            Selection::All | Selection::Filter(_) => {
                inventory.iter().map(SoftwareInfo::from_listing).collect()
            }
            Selection::Ids(ids) => {
                let by_id: BTreeMap<&str, _> =
                    inventory.iter().map(|s| (s.id.as_str(), s)).collect();
                let mut seen = BTreeSet::new();
                ids.iter()
                    .filter(|id| seen.insert(id.as_str()))
                    .map(|id| match by_id.get(id.as_str()) {
                        Some(software) => SoftwareInfo::from_listing(software),
                        None => SoftwareInfo::unlisted(id),
                    })
                    .collect()
            }
        };
        let wanted: BTreeSet<&str> = selected.iter().map(|s| s.id.as_str()).collect();
        let done: BTreeMap<String, SoftwareResult> = options
            .resume
            .iter()
            .filter(|r| wanted.contains(r.software.id.as_str()))
            .map(|r| (r.software.id.clone(), r.clone()))
            .collect();
        let source = match options.source {
            SourceChoice::Calls => Source::Calls,
            SourceChoice::Export => Source::Export,
            // The export is one call; the calls are one per software, under the budget.
            SourceChoice::Auto if done.is_empty() => {
                let calls = (selected.len() as u64).saturating_add(1);
                let export = self.budget_estimate(Budget::FileExport, 1);
                if options.devices || self.rate_limit_estimate(calls) > export {
                    Source::Export
                } else {
                    Source::Calls
                }
            }
            SourceChoice::Auto => Source::Calls,
        };
        Ok(ReportPlan {
            client: self.clone(),
            options,
            selected,
            done,
            listed,
            source,
        })
    }
}

/// The state both phases of a run (missing KBs, then devices) share: progress, failures, the
/// caller's event handler and the one-second ticks.
pub(super) struct Phase<F> {
    /// The client, for how long calls wait on its rate limit.
    client: Client,
    pub(super) ticks: tokio::time::Interval,
    pub(super) progress: Progress,
    pub(super) failures: Vec<Failure>,
    pub(super) on_event: F,
}

impl<F: FnMut(ReportEvent<'_>)> Phase<F> {
    /// The next finished call of `calls` (counted), with a [`ReportEvent::Tick`] each second
    /// while waiting.
    pub(super) async fn next<S: futures::Stream + Unpin>(
        &mut self,
        calls: &mut S,
    ) -> Option<S::Item> {
        loop {
            tokio::select! {
                next = calls.next() => {
                    self.progress.rate_limit_wait = self.client.rate_limit_wait();
                    if next.is_some() {
                        self.progress.calls += 1;
                    }
                    return next;
                }
                _ = self.ticks.tick() => {
                    self.progress.rate_limit_wait = self.client.rate_limit_wait();
                    (self.on_event)(ReportEvent::Tick { progress: self.progress });
                }
            }
        }
    }

    /// A call that failed after retries: kept as a failure, or, when every other call would
    /// fail the same way, the run's one error.
    pub(super) fn failed(
        &mut self,
        id: &str,
        kind: FailureKind,
        error: Error,
    ) -> Result<(), Error> {
        if is_fatal(&error) {
            return Err(error);
        }
        let failure = Failure::of(id, kind, &error);
        self.progress.failures += 1;
        (self.on_event)(ReportEvent::Failed {
            failure: &failure,
            progress: self.progress,
        });
        self.failures.push(failure);
        Ok(())
    }
}

/// Errors that stop the whole run: signing in failed, or the service refused the token even
/// after a refresh. Every other call would fail the same way.
fn is_fatal(error: &Error) -> bool {
    match error {
        Error::Auth(_) => true,
        Error::Api(api) => api.status == reqwest::StatusCode::UNAUTHORIZED,
        _ => false,
    }
}

/// Now, to the second (a report's `generated_at`).
pub(super) fn now() -> DateTime<Utc> {
    let now = DateTime::<Utc>::from(std::time::SystemTime::now());
    chrono::SubsecRound::trunc_subsecs(now, 0)
}
