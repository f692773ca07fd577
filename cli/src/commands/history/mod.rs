//! `history`: the store's location (`--store`, `DEFENDER_TVM_STORE`, or the platform's data
//! directory; with `--demo`, a demo store apart, filled by replaying the demo timeline), and the
//! dispatch to syncing (`sync.rs`), the answers as datasets (`answers.rs`), the report page
//! (`page.rs`) and the Parquet export (`export.rs`).

pub mod answers;
pub mod demo;
pub mod export;
pub mod page;
pub mod sync;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use defender_tvm_history::{Store, When};

use crate::args::{Global, HistoryCommand, HistoryWindow};
use crate::error::CliError;
use crate::exit::Exit;
use crate::output;
use crate::terminal::Notices;

/// The store file of a real tenant: `--store`, else `history.sqlite` in the data directory.
pub fn store_path(global: &Global) -> Result<PathBuf, CliError> {
    if let Some(path) = &global.store {
        return Ok(path.clone());
    }
    let dirs = directories::ProjectDirs::from("", "", "defender-tvm").ok_or_else(|| {
        CliError::Usage(
            "no data directory is known for this user; give the store with --store FILE \
             (or DEFENDER_TVM_STORE)"
                .into(),
        )
    })?;
    Ok(dirs.data_dir().join("history.sqlite"))
}

/// Opens the store to write to it, making its folder when it is the default one.
pub fn open_for_sync(path: &PathBuf) -> Result<Store, CliError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError::Io(format!("cannot make {}: {e}", parent.display())))?;
    }
    Store::open(path).map_err(store_error)
}

/// A store error as the command line reports it.
pub fn store_error(error: defender_tvm_history::Error) -> CliError {
    match error {
        defender_tvm_history::Error::Invalid(message) => CliError::Usage(message),
        // A folder that is not an export's was given: the user's to change.
        e @ defender_tvm_history::Error::NotAnExport { .. } => CliError::Usage(e.to_string()),
        defender_tvm_history::Error::Export(e) => CliError::Api(e),
        other => CliError::Io(other.to_string()),
    }
}

/// The one tenant the answers are narrowed to (`--tenant NAME`), if any.
pub fn tenant(global: &Global) -> Result<Option<&str>, CliError> {
    match global.tenant.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.as_str())),
        _ => Err(CliError::Usage(
            "history answers take one --tenant (or none: across every tenant of the store)".into(),
        )),
    }
}

/// A window's times, read against `now`.
pub fn window(
    window: &HistoryWindow,
    now: DateTime<Utc>,
) -> Result<(Option<When>, Option<When>), CliError> {
    let read = |text: &Option<String>| {
        text.as_deref()
            .map(|t| When::parse(t, now))
            .transpose()
            .map_err(store_error)
    };
    let (since, until) = (read(&window.since)?, read(&window.until)?);
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        return Err(CliError::Usage(format!(
            "--since ({}) is after --until ({})",
            since.time().to_rfc3339(),
            until.time().to_rfc3339()
        )));
    }
    Ok((since, until))
}

/// A question, read from the arguments.
enum Question {
    Snapshots,
    Changes((Option<When>, Option<When>), crate::args::ChangesBy),
    Remediation(
        (Option<When>, Option<When>),
        defender_tvm_history::Sla,
        crate::args::RemediationBy,
    ),
    Trend,
    Report(defender_tvm_history::Sla),
    Export,
}

/// Runs a `history` command.
pub async fn run(
    command: &HistoryCommand,
    global: &Global,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Exit, CliError> {
    let notices = Notices::new(global, &indicatif::ProgressBar::hidden());
    if let HistoryCommand::Sync { delta } = command {
        return sync::run(*delta, global, env, &notices).await;
    }
    // What was asked is read before the store is opened (or the demo store filled).
    let now = Utc::now();
    let tenant = tenant(global)?;
    let sla = |text: &str| {
        text.parse::<defender_tvm_history::Sla>()
            .map_err(store_error)
    };
    let question = match command {
        HistoryCommand::Changes { window: w, by } => Question::Changes(window(w, now)?, *by),
        HistoryCommand::Remediation {
            window: w,
            sla: s,
            by,
        } => Question::Remediation(window(w, now)?, sla(s)?, *by),
        HistoryCommand::Report { sla: s } => Question::Report(sla(s)?),
        HistoryCommand::Snapshots => Question::Snapshots,
        HistoryCommand::Trend => Question::Trend,
        HistoryCommand::Export => {
            export::output(global)?;
            Question::Export
        }
        HistoryCommand::Sync { .. } => return Ok(Exit::Usage),
    };
    let store = if global.demo || global.demo_tenants.is_some() {
        demo::store(global, &notices)?
    } else {
        let path = store_path(global)?;
        Store::open_existing(&path).map_err(store_error)?
    };
    let data = match question {
        Question::Snapshots => answers::snapshots(&store, tenant)?,
        Question::Changes((since, until), by) => {
            answers::changes(&store, tenant, since, until, by)?
        }
        Question::Remediation((since, until), sla, by) => {
            answers::remediation(&store, tenant, since, until, sla, by)?
        }
        Question::Trend => answers::trend(&store, tenant)?,
        Question::Report(sla) => return page::run(&store, tenant, sla, global),
        Question::Export => return export::run(&store, tenant, global, &notices),
    };
    output::emit(&data, global)?;
    Ok(Exit::Done)
}
