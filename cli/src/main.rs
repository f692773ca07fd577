//! `defender-tvm`: the estate report and every Software call of the `defender-tvm` library from a
//! terminal. Data goes to standard output (or `--output`), everything else (plan, banner,
//! progress, warnings, errors) to standard error, so `defender-tvm report --format json > r.json`
//! is a clean document.
//!
//! - `args.rs`: the arguments; `connect.rs`: credentials or `--demo`;
//! - `datasets.rs`: results as rows and JSON; `render.rs`: table, JSON, NDJSON, CSV, HTML;
//! - `checkpoint.rs`: resumable reports; `failure.rs`: errors and exit codes.
#![forbid(unsafe_code)]
// Nothing a user or a server sends may panic the command line.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod args;
mod checkpoint;
mod connect;
mod datasets;
mod failure;
mod render;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use defender_tvm::{
    Client, ReportEvent, ReportOptions, Selection, SoftwareField, SoftwareFilter, SoftwareQuery,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use args::{Cli, Command, Format, Global, ReportArgs, SoftwareCommand};
use failure::Failure;
use render::Dataset;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap: 2 for usage errors, 0 for --help and --version.
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    if cli.global.verbose > 0 {
        let level = if cli.global.verbose > 1 {
            "debug"
        } else {
            "info"
        };
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(colour(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            ))
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let verbose = cli.global.verbose > 0;
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {failure}");
            if verbose && let Failure::Api(error) = &failure {
                let mut cause = std::error::Error::source(error);
                while let Some(inner) = cause {
                    eprintln!("  caused by: {inner}");
                    cause = inner.source();
                }
            }
            ExitCode::from(failure.code())
        }
    }
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    let global = &cli.global;
    let env = |name: &str| std::env::var(name).ok();
    let connection = connect::connect(global, &env).await?;
    if let Some(demo) = &connection.demo
        && !global.quiet
    {
        eprintln!(
            "using the embedded demo tenant at {} (offline demo data, not a real tenant)",
            demo.base_url()
        );
    }
    let client = &connection.client;
    let (data, code) = match &cli.command {
        Command::Report(args) => report(client, global, args).await?,
        Command::MissingKbs { software_id } => (
            datasets::missing_kbs(
                format!("Missing KBs of {software_id}"),
                client.missing_kbs(software_id).await?,
            ),
            0,
        ),
        Command::MachineMissingKbs { machine_id } => (
            datasets::missing_kbs(
                format!("Missing KBs of device {machine_id}"),
                client.machine_missing_kbs(machine_id).await?,
            ),
            0,
        ),
        Command::Software(command) => (software(client, command).await?, 0),
    };
    emit(&data, global)?;
    if let Some(report) = &data.report
        && report.partial
        && !global.quiet
    {
        eprintln!("{}", partial_line(report));
    }
    Ok(code)
}

async fn software(client: &Client, command: &SoftwareCommand) -> Result<Dataset, Failure> {
    Ok(match command {
        SoftwareCommand::List { vendor, name, top } => {
            let filters = [
                vendor
                    .as_deref()
                    .map(|v| SoftwareFilter::eq(SoftwareField::Vendor, v)),
                name.as_deref()
                    .map(|n| SoftwareFilter::eq(SoftwareField::Name, n)),
            ];
            let mut query = SoftwareQuery::new();
            if let Some(filter) = filters.into_iter().flatten().reduce(SoftwareFilter::and) {
                query = query.filter(filter);
            }
            if let Some(top) = top {
                query = query.top(*top);
            }
            datasets::software("Software inventory".into(), client.software(query).await?)
        }
        SoftwareCommand::Get { software_id } => datasets::software(
            format!("Software {software_id}"),
            vec![client.software_by_id(software_id).await?],
        ),
        SoftwareCommand::Vulnerabilities { software_id } => datasets::vulnerabilities(
            format!("Vulnerabilities of {software_id}"),
            client.software_vulnerabilities(software_id).await?,
        ),
        SoftwareCommand::Machines { software_id } => datasets::machines(
            format!("Devices with {software_id}"),
            client.software_machines(software_id).await?,
        ),
        SoftwareCommand::Distributions { software_id } => datasets::distributions(
            format!("Versions of {software_id}"),
            client.software_distributions(software_id).await?,
        ),
    })
}

async fn report(
    client: &Client,
    global: &Global,
    args: &ReportArgs,
) -> Result<(Dataset, u8), Failure> {
    let selection = if args.all_software {
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
    };
    let (mut checkpoint, done) = match &args.checkpoint {
        Some(path) => {
            let (checkpoint, done) = checkpoint::Checkpoint::open(path)?;
            (Some(checkpoint), done)
        }
        None => (None, Vec::new()),
    };
    let options = ReportOptions::new()
        .selection(selection)
        .concurrency(usize::from(args.concurrency))
        .devices(args.devices)
        .resume(done);
    let plan = client.plan_missing_kbs_report(options).await?;
    let mut notices = Notices {
        quiet: global.quiet,
        bar: ProgressBar::hidden(),
    };
    notices.say(format_args!(
        "plan: {} software listed, {} selected, {} resumed from the checkpoint; {} getmissingkbs \
             calls{}, at least {} under the rate limit",
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
    ));
    // Drawn once the plan is said.
    let bar = progress_bar(global, &plan);
    notices.bar = bar.clone();
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
                bar.set_prefix("device listings");
                bar.set_length(*listings as u64);
                bar.set_position(0);
                None
            }
            ReportEvent::DevicesDone { progress, .. } | ReportEvent::Tick { progress } => {
                Some(*progress)
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
            return Err(Failure::Interrupted);
        }
    };
    bar.finish_and_clear();
    if let Some(e) = write_error {
        return Err(e);
    }
    let report = report?;
    let code = if report.partial {
        4
    } else if args.fail_on_missing && !report.kbs.is_empty() {
        3
    } else {
        0
    };
    Ok((datasets::report(report), code))
}

/// The progress bar: drawn on standard error when it is a terminal, unless `-q` or
/// `--no-progress`; hidden otherwise.
fn progress_bar(global: &Global, plan: &defender_tvm::ReportPlan) -> ProgressBar {
    if global.quiet || global.no_progress || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(plan.software().len() as u64),
        ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {pos}/{len} {prefix} [{bar:30}] {elapsed_precise} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix("software");
    bar.set_position(plan.resumed() as u64);
    bar
}

/// Lines meant for a person (the plan, warnings, the summary of failures): on standard error
/// unless `-q`, whether it is a terminal or a file; printed above the progress bar when one is
/// drawn (only the bar itself is terminal-only).
struct Notices {
    quiet: bool,
    bar: ProgressBar,
}

impl Notices {
    fn say(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }
}

/// The last line of a partial report on standard error, in every format: how many software
/// (and KBs' device listings) failed, and the first few ids.
fn partial_line(report: &defender_tvm::Report) -> String {
    let (software, listings): (Vec<&defender_tvm::Failure>, Vec<&defender_tvm::Failure>) = report
        .failures
        .iter()
        .partition(|f| f.operation != "list_machines_vulnerabilities");
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
fn first_ids(failures: &[&defender_tvm::Failure], prefix: &str) -> String {
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

/// Whether tracing output on standard error is coloured: only on a terminal, never with
/// `NO_COLOR` set to anything but the empty string (<https://no-color.org>).
fn colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|value| value.is_empty())
}

/// Writes the data to `--output` or standard output.
fn emit(data: &Dataset, global: &Global) -> Result<(), Failure> {
    match &global.output {
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())))?;
            render::write(data, global.format, &mut file, None)
                .and_then(|()| file.flush())
                .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())))
        }
        None => {
            let stdout = std::io::stdout();
            let width = if global.format == Format::Table && stdout.is_terminal() {
                Some(terminal_width())
            } else {
                None
            };
            let mut out = stdout.lock();
            match render::write(data, global.format, &mut out, width).and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                // A closed pipe (`| head`) is not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Failure::Io(format!("cannot write the output: {e}"))),
            }
        }
    }
}

fn terminal_width() -> u16 {
    comfy_table::Table::new().width().unwrap_or(120)
}

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
    use super::{colour, duration, partial_line};
    use std::ffi::OsStr;
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

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        assert!(colour(true, None));
        assert!(!colour(false, None));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, Some(OsStr::new("1"))));
        // NO_COLOR set to the empty string does not count (no-color.org).
        assert!(colour(true, Some(OsStr::new(""))));
    }

    fn partial(failures: &[(&str, &str)]) -> defender_tvm::Report {
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
