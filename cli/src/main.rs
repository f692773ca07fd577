//! `defender-tvm`: the estate report and every Software call of the `defender-tvm` library from a
//! terminal. Data goes to standard output (or `--output`), everything else (plan, banner,
//! progress, warnings, errors) to standard error, so `defender-tvm report --format json > r.json`
//! is a clean document.
//!
//! - `main.rs`: parses the arguments, sets up logs, dispatches, and turns the outcome into an
//!   exit code; `args.rs`: the arguments; `exit.rs`: the exit codes, which `--help` lists;
//!   `error.rs`: how the command line fails;
//! - `connect.rs`: credentials (the library's resolution) or `--demo`;
//! - `report.rs`: the estate report, its progress and its lines for a person;
//!   `checkpoint.rs`: resumable reports;
//! - `export.rs`: an export snapshot's rows, streamed out;
//! - `calls.rs`: every other command, one library call each;
//! - `history/`: the history store: `sync.rs`, `answers.rs`, `page.rs`, `demo.rs`;
//! - `completions.rs`: `completions` and `man`, from the arguments alone;
//! - `datasets.rs`: results as datasets (columns, rows, JSON); `render.rs`: table, JSON, NDJSON,
//!   CSV, HTML; `output.rs`: where the data goes.
#![forbid(unsafe_code)]
// Nothing a user or a server sends may panic the command line.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod args;
mod checkpoint;
mod commands;
mod connect;
mod datasets;
mod error;
mod exit;
mod formats;
mod output;
mod terminal;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command, Format, TenantsCommand};
use commands::{calls, completions, export, history, report, tenants};
use error::CliError;
use exit::Exit;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap's errors are usage errors; --help and --version are not errors.
            let exit = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Done
            };
            return exit.into();
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
            return Exit::Failed.into();
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(exit) => exit.into(),
        Err(error) => {
            // Each layer says what it is about once; its causes follow, one a line.
            eprintln!("error: {error}");
            if let CliError::Api(error) = &error {
                let mut cause = std::error::Error::source(error);
                while let Some(inner) = cause {
                    eprintln!("  caused by: {inner}");
                    cause = inner.source();
                }
            }
            error.exit().into()
        }
    }
}

/// Connects and runs the command.
async fn run(cli: Cli) -> Result<Exit, CliError> {
    let global = &cli.global;
    if let Some(format) = global.format
        && !format.written_by(&cli.command)
    {
        return Err(CliError::Usage(if format == Format::Parquet {
            "--format parquet is `history export`'s alone (a folder of Parquet files); this \
             command writes table, json, ndjson, csv, html or markdown"
                .into()
        } else {
            "`history export` writes parquet only (a folder of files: --output DIR); the \
             answers as CSV or JSON are `history trend`, `remediation` and `changes`"
                .into()
        }));
    }
    // From the arguments' definitions alone: no credentials, no network, whatever else is set.
    match &cli.command {
        Command::Completions { shell } => return completions::completions(*shell, global),
        Command::Man { dir } => return completions::man(dir.as_deref(), global),
        _ => {}
    }
    if let Command::Export(args) = &cli.command {
        export::check(global, args)?;
    }
    let env = |name: &str| std::env::var(name).ok();
    if let Command::History(command) = &cli.command {
        return history::run(command, global, &env).await;
    }
    if global.many_tenants() || !global.tenant.is_empty() {
        if !matches!(&cli.command, Command::Report(_) | Command::Tenants(_)) {
            return Err(CliError::Usage(
                "across tenants, only `report`, `tenants check` and `history` run; run the others against \
                 one tenant, without --tenants"
                    .into(),
            ));
        }
        let many = tenants::connect(global, &env).await?;
        return match &cli.command {
            Command::Report(args) => tenants::report(&many, global, args).await,
            Command::Tenants(TenantsCommand::Check) => tenants::check(&many, global).await,
            _ => Ok(Exit::Usage),
        };
    }
    if let Command::Tenants(_) = &cli.command {
        return Err(CliError::Usage(
            "`tenants check` needs --tenants FILE (or --demo-tenants N)".into(),
        ));
    }
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
    let data = match &cli.command {
        Command::Report(args) => return report::run(client, global, args).await,
        Command::Export(args) => return export::run(client, global, args).await,
        Command::MissingKbs { software_id } => calls::missing_kbs(client, software_id).await?,
        Command::MachineMissingKbs { machine_id } => {
            calls::machine_missing_kbs(client, machine_id).await?
        }
        Command::Software(command) => calls::software(client, command).await?,
        // Answered above.
        Command::Tenants(_)
        | Command::History(_)
        | Command::Completions { .. }
        | Command::Man { .. } => {
            return Ok(Exit::Usage);
        }
    };
    output::emit(&data, global)?;
    Ok(Exit::Done)
}

/// Whether tracing output on standard error is coloured: only on a terminal, never with
/// `NO_COLOR` set to anything but the empty string (<https://no-color.org>).
fn colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|value| value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::colour;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        assert!(colour(true, None));
        assert!(!colour(false, None));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, Some(OsStr::new("1"))));
        // NO_COLOR set to the empty string does not count (no-color.org).
        assert!(colour(true, Some(OsStr::new(""))));
    }
}
