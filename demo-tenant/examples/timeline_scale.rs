//! Measures the timeline at scale: generates a tenant of `DEVICES` devices (default 100,000)
//! over `DAYS` daily snapshots (default 90), then streams the rows of every `EVERY`-th snapshot
//! (default 1: all) and the change feed into it, counting rows and the bytes of their export-file
//! lines (PascalCase JSON, made and dropped one at a time, never kept), and prints sizes and
//! times. With `truth` last, it also builds the truth and prints the days to fix by severity
//! (test sizes: the truth holds every exposure). Run it in release under `/usr/bin/time -v` to
//! see the peak memory:
//!
//! ```text
//! cargo build --release -p defender-tvm-demo --example timeline_scale
//! /usr/bin/time -v target/release/examples/timeline_scale 100000 90 10
//! target/release/examples/timeline_scale 2000 120 1 truth
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

use defender_tvm_demo::timeline::{Case, Timeline, TimelineOptions, percentile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let devices: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let days: usize = args.next().map_or(Ok(90), |a| a.parse())?;
    let every: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let truth = args.next().as_deref() == Some("truth");

    let started = Instant::now();
    let timeline = Timeline::generate(TimelineOptions::default().devices(devices).days(days));
    println!(
        "{devices} devices, {days} snapshots ({} to {}): generated in {:.2?}",
        timeline.generated_time(0),
        timeline.generated_time(days - 1),
        started.elapsed()
    );
    let (mut rows, mut bytes, mut changes) = (0u64, 0u64, 0u64);
    let mut statuses: BTreeMap<&str, u64> = BTreeMap::new();
    let started = Instant::now();
    for s in (0..timeline.snapshots()).step_by(every.max(1)) {
        let before = rows;
        for row in timeline.rows(s) {
            rows += 1;
            bytes += row.to_json_line(Case::Pascal).len() as u64 + 1;
        }
        let mut day = 0;
        for change in timeline.changes_iter(s.saturating_sub(1), s) {
            changes += 1;
            day += 1;
            *statuses.entry(change.status.as_str()).or_default() += 1;
        }
        println!(
            "snapshot {s}: {} rows ({:.1} a device), {day} changes since the one before",
            rows - before,
            (rows - before) as f64 / devices.max(1) as f64
        );
    }
    println!(
        "streamed {rows} rows ({:.1} MB of file lines) and {changes} changes {statuses:?} in {:.2?}",
        bytes as f64 / 1e6,
        started.elapsed()
    );
    if truth {
        let started = Instant::now();
        let truth = timeline.truth();
        println!(
            "truth: {} exposures, {} upgrades, built in {:.2?}",
            truth.exposures.len(),
            truth.upgrades.len(),
            started.elapsed()
        );
        let last = timeline.snapshots() - 1;
        for severity in ["Critical", "High", "Medium", "Low"] {
            let days = truth.days_to_fix(Some(severity), 0, last);
            println!(
                "{severity}: {} fixes, median {:.1} days, 90th percentile {:.1}",
                days.len(),
                percentile(&days, 0.5).unwrap_or(f64::NAN),
                percentile(&days, 0.9).unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}
