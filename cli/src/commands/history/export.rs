//! `history export`: the store (or the demo store) written as Parquet files into `--output DIR`
//! by the history crate (`Store::export_parquet`); what was written is said on standard error.

use defender_tvm_history::Store;

use super::store_error;
use crate::args::Global;
use crate::error::CliError;
use crate::exit::Exit;
use crate::terminal::Notices;

/// Writes the export into `--output` (the format was checked before: parquet, or none).
pub fn run(
    store: &Store,
    tenant: Option<&str>,
    global: &Global,
    notices: &Notices,
) -> Result<Exit, CliError> {
    let dir = output(global)?;
    let summary = store.export_parquet(dir, tenant).map_err(store_error)?;
    notices.say(format!(
        "exported {} ({}) into {}: {} exposure spans and {} snapshots in {} Parquet files, {}",
        plural(summary.tenants.len() as u64, "tenant"),
        summary.tenants.join(", "),
        summary.dir.display(),
        summary.exposure_spans,
        summary.snapshots,
        summary.files,
        size(summary.bytes)
    ));
    Ok(Exit::Done)
}

/// The folder to write into: `--output DIR`, which `history export` needs.
pub fn output(global: &Global) -> Result<&std::path::Path, CliError> {
    global.output.as_deref().ok_or_else(|| {
        CliError::Usage(
            "`history export` writes a folder of Parquet files: give it with --output DIR".into(),
        )
    })
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Bytes for a person: KB or MB, one decimal.
fn size(bytes: u64) -> String {
    let kb = bytes as f64 / 1024.0;
    if kb < 1024.0 {
        format!("{kb:.1} KB")
    } else {
        format!("{:.1} MB", kb / 1024.0)
    }
}
