//! `history sync`: the export snapshot (via files) or, with `--delta`, the change feed since the
//! store's last snapshot, recorded in one transaction per tenant. Ctrl-C (or any failure) before
//! the commit stores nothing of that tenant's snapshot.

use chrono::Utc;
use defender_tvm::Client;
use defender_tvm::export::{ChangesSince, ExportPages, ExportRowsOptions};
use defender_tvm_history::{Change, Observation, Source, Store, Synced};
use futures::TryStreamExt;

use super::{demo, open_for_sync, store_error, store_path};
use crate::args::Global;
use crate::connect;
use crate::error::CliError;
use crate::exit::Exit;
use crate::terminal::{self, Notices};

/// Syncs the tenant, each tenant of `--tenants`, or replays the demo timeline.
pub async fn run(
    delta: bool,
    global: &Global,
    env: &dyn Fn(&str) -> Option<String>,
    notices: &Notices,
) -> Result<Exit, CliError> {
    if global.demo || global.demo_tenants.is_some() {
        if delta {
            return Err(CliError::Usage(
                "with --demo, `history sync` replays the demo timeline's snapshots; --delta is \
                 for a real tenant's change feed"
                    .into(),
            ));
        }
        demo::store(global, notices)?;
        return Ok(Exit::Done);
    }
    let path = store_path(global)?;
    let mut store = open_for_sync(&path)?;
    notices.say(format!("history store: {}", path.display()));
    if global.tenants.is_some() {
        let many = crate::commands::tenants::connect(global, env).await?;
        let mut failed = 0;
        for tenant in many.tenants().iter() {
            match one(
                &mut store,
                tenant.name(),
                tenant.client(),
                delta,
                global,
                notices,
            )
            .await
            {
                Ok(()) => {}
                Err(CliError::Interrupted) => return Err(CliError::Interrupted),
                Err(e) => {
                    failed += 1;
                    notices.say(format!("{}: not synced: {e}", tenant.name()));
                }
            }
        }
        return Ok(if failed > 0 {
            Exit::Partial
        } else {
            Exit::Done
        });
    }
    let connection = connect::connect(global, env).await?;
    // One tenant: named by --tenant, else its directory id, else `default` (a bearer token).
    let name = match global.tenant.as_slice() {
        [] => env("AZURE_TENANT_ID").unwrap_or_else(|| "default".to_string()),
        [one] => one.clone(),
        _ => {
            return Err(CliError::Usage(
                "one tenant is synced under one name: give one --tenant (or --tenants FILE)".into(),
            ));
        }
    };
    one(
        &mut store,
        &name,
        &connection.client,
        delta,
        global,
        notices,
    )
    .await?;
    Ok(Exit::Done)
}

/// Syncs one tenant, stopping (and storing nothing) at Ctrl-C.
async fn one(
    store: &mut Store,
    tenant: &str,
    client: &Client,
    delta: bool,
    global: &Global,
    notices: &Notices,
) -> Result<(), CliError> {
    let work = async {
        if delta {
            changes(store, tenant, client, notices).await
        } else {
            snapshot(store, tenant, client, global, notices).await
        }
    };
    tokio::select! {
        outcome = work => outcome,
        _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
    }
}

async fn snapshot(
    store: &mut Store,
    tenant: &str,
    client: &Client,
    global: &Global,
    notices: &Notices,
) -> Result<(), CliError> {
    let mut rows = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new())
        .await?;
    let generated_time = rows.generated_time();
    let Some(mut sync) = store
        .begin_snapshot(tenant, generated_time, Source::Export)
        .map_err(store_error)?
    else {
        notices.say(format!(
            "{tenant}: the snapshot of {} is already stored",
            generated_time.to_rfc3339()
        ));
        return Ok(());
    };
    let bar = terminal::bar(global, None, "{spinner} {msg} {pos} rows ({per_sec})");
    bar.set_message(format!(
        "{tenant}: recording the snapshot of {}",
        generated_time.to_rfc3339()
    ));
    while let Some(row) = rows.try_next().await? {
        sync.add(&Observation::from(&row)).map_err(store_error)?;
        bar.inc(1);
    }
    let summary = sync.commit().map_err(store_error)?;
    bar.finish_and_clear();
    let c = summary.counts;
    notices.say(format!(
        "{tenant}: stored the snapshot of {}: {} rows, {} open exposures; since the previous: \
         {} new, {} fixed, {} reopened, {} devices retired",
        generated_time.to_rfc3339(),
        summary.rows,
        summary.open_exposures,
        c.new,
        c.fixed,
        c.reopened,
        c.retired_devices
    ));
    Ok(())
}

async fn changes(
    store: &mut Store,
    tenant: &str,
    client: &Client,
    notices: &Notices,
) -> Result<(), CliError> {
    // Refused before any call when the feed does not reach back to the last snapshot.
    let since = store
        .changes_since(tenant, Utc::now())
        .map_err(store_error)?;
    let since = ChangesSince::new(since)?;
    let rows: Vec<_> = client
        .software_vulnerability_changes_by_machine(since, ExportPages::new())
        .items()
        .try_collect()
        .await?;
    let changes: Vec<Change<'_>> = rows.iter().filter_map(Change::from_row).collect();
    let unread = rows.len() - changes.len();
    if unread > 0 {
        notices.say(format!(
            "{tenant}: {unread} change rows without a CVE, a known status or a time were not applied"
        ));
    }
    match store.apply_changes(tenant, &changes).map_err(store_error)? {
        Synced::Stored(summary) => {
            let c = summary.counts;
            notices.say(format!(
                "{tenant}: applied {} changes since {}: {} new, {} fixed, {} reopened, {} devices retired",
                summary.rows,
                since.time().to_rfc3339(),
                c.new,
                c.fixed,
                c.reopened,
                c.retired_devices
            ));
        }
        Synced::NoChanges => notices.say(format!(
            "{tenant}: no changes since {}",
            since.time().to_rfc3339()
        )),
        Synced::AlreadyStored { generated_time } => notices.say(format!(
            "{tenant}: the changes up to {} are already stored",
            generated_time.to_rfc3339()
        )),
        _ => {}
    }
    Ok(())
}
