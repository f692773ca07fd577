//! `report`: the estate report, its progress display, and the lines it says to a person (the
//! plan, warnings, the summary of a partial report). Data goes out through `output.rs`.

use std::time::Duration;

use defender_tvm::{
    Client,
    report::{
        FailureKind, Report, ReportEvent, ReportOptions, ReportPlan, Selection, Source,
        SourceChoice,
    },
    types::{SoftwareField, SoftwareFilter},
};
use indicatif::ProgressBar;

use crate::args::{By, Global, ReportArgs, SourceArg};
use crate::checkpoint::Checkpoint;
use crate::datasets;
use crate::error::CliError;
use crate::exit::Exit;
use crate::output;
use crate::terminal::{self, Notices};

/// Plans and runs the report, writes it, and says how it ended.
pub async fn run(client: &Client, global: &Global, args: &ReportArgs) -> Result<Exit, CliError> {
    let (mut checkpoint, done) = match &args.checkpoint {
        Some(path) => {
            let (checkpoint, done) = Checkpoint::open(path)?;
            (Some(checkpoint), done)
        }
        None => (None, Vec::new()),
    };
    let options = options(args).resume(done);
    let plan = client.plan_missing_kbs_report(options).await?;
    let mut notices = Notices::new(global, &ProgressBar::hidden());
    match plan.source() {
        Source::Export => notices.say(format_args!(
            "plan: {} software listed, {} selected; source: the export (one snapshot, read from \
             its files: exact devices, CVEs, exploitability and age for every KB)",
            plan.listed(),
            plan.software().len(),
        )),
        _ => notices.say(format_args!(
            "plan: {} software listed, {} selected, {} resumed from the checkpoint; source: \
             calls, {} getmissingkbs calls{}, at least {} under the rate limit",
            plan.listed(),
            plan.software().len(),
            plan.resumed(),
            plan.calls(),
            if plan.lists_devices() {
                " (then one device listing per KB found)"
            } else {
                ""
            },
            duration(plan.estimated_duration())
        )),
    }
    // Drawn once the plan is said.
    let bar = progress_bar(global, &plan);
    notices.above(&bar);
    let mut write_error = None;
    let running = plan.run(|event| {
        let progress = match &event {
            ReportEvent::SoftwareDone { result, progress } => {
                if let Some(checkpoint) = checkpoint.as_mut()
                    && let Err(e) = checkpoint.append(result)
                {
                    write_error.get_or_insert(e);
                }
                Some(*progress)
            }
            ReportEvent::Failed { failure, progress } => {
                notices.say(format_args!(
                    "warning: {} failed: {}",
                    failure.id, failure.error
                ));
                Some(*progress)
            }
            ReportEvent::DevicesPlanned { listings, estimate } => {
                notices.say(format_args!(
                    "plan: {listings} device listings, at least {} under the rate limit",
                    duration(*estimate)
                ));
                // Count and length first: a draw in between never shows the software's
                // count as device listings.
                bar.set_position(0);
                bar.set_length(*listings as u64);
                bar.set_prefix("device listings");
                None
            }
            ReportEvent::DevicesDone { progress, .. } | ReportEvent::Tick { progress } => {
                Some(*progress)
            }
            ReportEvent::ExportRefused { error } => {
                notices.say(format_args!(
                    "warning: the export was refused ({error}); going on with one call per \
                     software"
                ));
                None
            }
            ReportEvent::Export { progress } => {
                bar.set_position(progress.files_done as u64);
                bar.set_length(progress.files_total as u64);
                bar.set_prefix("export files");
                bar.set_message(format!("{} rows", progress.rows));
                None
            }
            _ => None,
        };
        if let Some(progress) = progress {
            let position = if progress.devices_total > 0 {
                progress.devices_done
            } else {
                progress.software_done
            };
            bar.set_position(position as u64);
            let mut message = Vec::new();
            if let Some(wait) = progress.rate_limit_wait {
                message.push(format!("waiting on the rate limit {}", duration(wait)));
            }
            if progress.failures > 0 {
                message.push(format!("{} failed", progress.failures));
            }
            bar.set_message(message.join(", "));
        }
    });
    let report = tokio::select! {
        report = running => report,
        _ = tokio::signal::ctrl_c() => {
            bar.abandon_with_message("interrupted");
            return Err(CliError::Interrupted);
        }
    };
    bar.finish_and_clear();
    if let Some(e) = write_error {
        return Err(e);
    }
    let report = report?;
    let exit = terminal::report_exit(report.partial, !report.kbs.is_empty(), args.fail_on_missing);
    if let Some(when) = &report.data_as_of {
        notices.say(format_args!(
            "data: the export snapshot of {}",
            crate::formats::words::rfc3339(when)
        ));
    }
    let closing = report.partial.then(|| partial_line(&report));
    let data = match args.by {
        By::Kb => datasets::report(report),
        By::Device => datasets::devices(report),
    };
    output::emit(&data, global)?;
    if let Some(line) = closing {
        notices.say(line);
    }
    Ok(exit)
}

/// The report's options as the flags say (what to resume aside).
pub fn options(args: &ReportArgs) -> ReportOptions {
    ReportOptions::new()
        .source(match args.source {
            SourceArg::Calls => SourceChoice::Calls,
            SourceArg::Export => SourceChoice::Export,
            SourceArg::Auto => SourceChoice::Auto,
        })
        .selection(selection(args))
        .concurrency(usize::from(args.concurrency))
        .devices(args.devices || args.by == By::Device)
        .collapse_cumulative(!args.no_collapse)
}

/// Which software the flags select: `--all-software`, `--software`, `--vendor`, else those with
/// weaknesses.
fn selection(args: &ReportArgs) -> Selection {
    if args.all_software {
        Selection::All
    } else if !args.software.is_empty() {
        Selection::Ids(args.software.clone())
    } else if let Some(filter) = args
        .vendor
        .iter()
        .map(|v| SoftwareFilter::eq(SoftwareField::Vendor, v))
        .reduce(SoftwareFilter::or)
    {
        Selection::Filter(filter)
    } else {
        Selection::Vulnerable
    }
}

/// The progress bar of the software calls (hidden unless progress is shown).
fn progress_bar(global: &Global, plan: &ReportPlan) -> ProgressBar {
    let bar = terminal::bar(
        global,
        Some(plan.software().len() as u64),
        "{spinner} {pos}/{len} {prefix} [{bar:30}] {elapsed_precise} ETA {eta} {msg}",
    );
    bar.set_prefix("software");
    bar.set_position(plan.resumed() as u64);
    bar
}

/// The last line of a partial report on standard error, in every format: how many software
/// (and KBs' device listings) failed, and the first few ids.
fn partial_line(report: &Report) -> String {
    let (software, listings): (
        Vec<&defender_tvm::report::Failure>,
        Vec<&defender_tvm::report::Failure>,
    ) = report
        .failures
        .iter()
        .partition(|f| f.kind != FailureKind::DeviceListing);
    let mut parts = Vec::new();
    if !software.is_empty() {
        parts.push(format!(
            "{} of {} software failed ({})",
            software.len(),
            report.software_count,
            first_ids(&software, "")
        ));
    }
    if !listings.is_empty() {
        parts.push(format!(
            "the device listings of {} KBs failed ({})",
            listings.len(),
            first_ids(&listings, "KB")
        ));
    }
    format!(
        "warning: partial report: {}; what they hold is missing from it",
        parts.join(", and ")
    )
}

/// The first few failures' ids, and how many more.
fn first_ids(failures: &[&defender_tvm::report::Failure], prefix: &str) -> String {
    const SHOWN: usize = 5;
    let mut ids: Vec<String> = failures
        .iter()
        .take(SHOWN)
        .map(|f| format!("{prefix}{}", f.id))
        .collect();
    if failures.len() > SHOWN {
        ids.push(format!("and {} more", failures.len() - SHOWN));
    }
    ids.join(", ")
}

/// A duration as a person reads it: seconds, minutes and seconds, or hours and minutes.
fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::{duration, partial_line};
    use std::time::Duration;

    #[test]
    fn durations_read_in_seconds_minutes_or_hours() {
        let text = |s| duration(Duration::from_secs(s));
        assert_eq!(text(0), "0 s");
        assert_eq!(text(59), "59 s");
        assert_eq!(text(60), "1 min 0 s");
        assert_eq!(text(3599), "59 min 59 s");
        assert_eq!(text(3600), "1 h 0 min");
        assert_eq!(text(4 * 3600 + 25 * 60 + 59), "4 h 25 min");
    }

    fn partial(failures: &[(&str, &str)]) -> defender_tvm::report::Report {
        let failures: Vec<serde_json::Value> = failures
            .iter()
            .map(|(id, operation)| {
                serde_json::json!({"id": id, "operation": operation, "status": 404,
                    "code": "ResourceNotFound", "error": "gone"})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "generated_at": "2026-11-30T00:00:00Z", "partial": true, "software_count": 40,
            "rows": [], "kbs": [], "failures": failures,
        }))
        .unwrap()
    }

    #[test]
    fn the_partial_line_names_five_ids_and_counts_the_rest() {
        let five: Vec<String> = (1..=5).map(|n| format!("s-{n}")).collect();
        let calls: Vec<(&str, &str)> = five
            .iter()
            .map(|id| (id.as_str(), "get_missing_kbs_by_software_id"))
            .collect();
        assert_eq!(
            partial_line(&partial(&calls)),
            "warning: partial report: 5 of 40 software failed (s-1, s-2, s-3, s-4, s-5); what \
             they hold is missing from it"
        );
        let mut six = calls.clone();
        six.push(("s-6", "get_missing_kbs_by_software_id"));
        assert_eq!(
            partial_line(&partial(&six)),
            "warning: partial report: 6 of 40 software failed (s-1, s-2, s-3, s-4, s-5, and 1 \
             more); what they hold is missing from it"
        );
        assert_eq!(
            partial_line(&partial(&[("5044284", "list_machines_vulnerabilities")])),
            "warning: partial report: the device listings of 1 KBs failed (KB5044284); what \
             they hold is missing from it"
        );
    }
}
