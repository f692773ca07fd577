//! With `--demo` (or `--demo-tenants N`), `history` answers from a demo store: the demo
//! tenant's timeline of daily snapshots (offline demo data), replayed into the store through
//! the same decoding and sync as a real export. Without `--store`, the demo store is a file of
//! its own in the temporary directory (never the real store), kept for the day, so a second
//! command answers at once; a replay cut short goes on where it stopped (stored snapshots are
//! skipped).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use defender_tvm::export::SoftwareVulnerability;
use defender_tvm_demo::DEFAULT_SEED;
use defender_tvm_demo::timeline::{Timeline, TimelineOptions};
use defender_tvm_history::{Observation, Source, Store};

use super::{open_for_sync, store_error};
use crate::args::Global;
use crate::error::CliError;
use crate::terminal::{self, Notices};

/// Days of the demo timeline.
const DAYS: usize = 120;

/// The demo tenants' names and timelines: `demo` alone, or `demo-1` … `demo-N`, seeds and
/// sizes apart.
fn tenants(global: &Global) -> Vec<(String, TimelineOptions)> {
    let count = global.demo_tenants.map_or(1, usize::from);
    (0..count)
        .map(|i| {
            let name = if global.demo_tenants.is_some() {
                format!("demo-{}", i + 1)
            } else {
                "demo".to_string()
            };
            let options = TimelineOptions::default()
                .seed(DEFAULT_SEED + i as u64)
                .devices(300 + (i * 150) % 450)
                .days(DAYS);
            (name, options)
        })
        .collect()
}

/// The demo store: `--store`, else a file of the day in the temporary directory.
fn path(global: &Global, today: DateTime<Utc>) -> PathBuf {
    global.store.clone().unwrap_or_else(|| {
        std::env::temp_dir().join("defender-tvm-demo").join(format!(
            "history-{}-{}.sqlite",
            today.format("%Y-%m-%d"),
            global.demo_tenants.unwrap_or(1)
        ))
    })
}

/// Opens the demo store, replaying what it lacks of the demo timelines first.
pub fn store(global: &Global, notices: &Notices) -> Result<Store, CliError> {
    let today = Utc::now();
    let path = path(global, today);
    let mut store = open_for_sync(&path)?;
    let stored = store.snapshots(None).map_err(store_error)?;
    for (name, options) in tenants(global) {
        let have = stored.iter().filter(|s| s.tenant == name).count();
        let timeline = Timeline::generate(options);
        if have >= timeline.snapshots() {
            continue;
        }
        notices.say(format!(
            "filling the demo store {} by replaying the demo tenant's {}-day timeline ({name}: \
             offline demo data, not a real tenant)",
            path.display(),
            timeline.snapshots()
        ));
        replay(&mut store, &name, &timeline, global)?;
    }
    notices.say(format!(
        "using the demo store {} (offline demo data, not a real tenant)",
        path.display()
    ));
    Ok(store)
}

/// Records each snapshot of the timeline, each row decoded from the JSON the export sends.
fn replay(
    store: &mut Store,
    tenant: &str,
    timeline: &Timeline,
    global: &Global,
) -> Result<(), CliError> {
    let bar = terminal::bar(
        global,
        Some(timeline.snapshots() as u64),
        "{msg} [{bar:30}] {pos}/{len} snapshots",
    );
    bar.set_message(format!("{tenant}: replaying"));
    for snapshot in 0..timeline.snapshots() {
        let time = DateTime::<Utc>::from(timeline.snapshot_time(snapshot));
        let Some(mut sync) = store
            .begin_snapshot(tenant, time, Source::Demo)
            .map_err(store_error)?
        else {
            bar.inc(1);
            continue;
        };
        for row in timeline.rows(snapshot) {
            let json = row.to_json();
            let row: SoftwareVulnerability = serde_json::from_str(&json).map_err(|e| {
                CliError::Io(format!(
                    "the demo timeline wrote a row the SDK cannot read: {e}"
                ))
            })?;
            sync.add(&Observation::from(&row)).map_err(store_error)?;
        }
        sync.commit().map_err(store_error)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}
