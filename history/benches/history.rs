//! Benchmarks of the history store (see BENCHMARKS.md, "History"):
//!
//! 1. **Syncing a snapshot of about a million rows** from the demo tenant's via-files export
//!    over loopback (the tenant serves from a child process of its own):
//!    - `read`: the export read through the SDK, every row decoded, nothing stored;
//!    - `sync`: the same, each row recorded in a new store file (`Observation::from(&row)`,
//!      `SnapshotSync::add`, then `commit`), as `history sync` does;
//!    - `floor`: the same rows (a few columns, read into memory first, not timed) inserted into
//!      a plain SQLite table by one prepared INSERT in one transaction, with the store's
//!      pragmas (WAL, `synchronous = NORMAL`): what recording a row costs at the least; in the
//!      same child, `store alone`: the same rows from memory through `SnapshotSync::add` into
//!      a new store (the sync's storing without the read);
//!    - `pipelined`: the sync with reading and recording on two threads (public API only: the
//!      runtime's thread decodes, a second thread owns the store), to show what overlapping
//!      them gives;
//!    - then the same export synced again into the first store, under the next days'
//!      generated times (an unchanged snapshot: the steady state without changes).
//!
//!    Every read, sync and floor runs in a fresh child process (wall time, CPU time and peak
//!    resident memory, VmHWM, are its own), in rounds whose order rotates. Reported: rows a
//!    second, `sync / read` (median of the rounds' ratios), `(sync - read) / floor`, and peak
//!    memory. For profiling: `HISTORY_BENCH_ROLE=floor HISTORY_BENCH_ONLY_STORE=1` (with the
//!    serving child's variables) pauses a second before storing, for `perf record -p`;
//!    `HISTORY_BENCH_ROLE=begin HISTORY_BENCH_STORE=…` opens a store and begins a snapshot.
//! 2. **Size**: the store's bytes per open exposure after that sync (after
//!    `PRAGMA wal_checkpoint(TRUNCATE)`), the bytes an unchanged snapshot adds, and the bytes a
//!    realistic day adds (the timeline's, from part 3's builds).
//! 3. **Answers** (`changes`, `remediation`, `trend`) over the demo timeline replayed into a
//!    store file: 90 daily snapshots of 100,000 devices, and smaller stores to show how the
//!    cost grows with snapshots (20,000 devices after 30, 60 and 90 days) and with devices
//!    (10,000, 30,000 and 100,000 over 90 days). Stores are built once and kept in the target
//!    directory (`history-bench/`), named by their parameters; each answer runs in a child
//!    process of its own.
//!
//! ```text
//! cargo bench --bench history                # everything (the first run builds the stores)
//! cargo bench --bench history -- sync        # parts 1 and 2 only; `-- answers`: part 3 only
//! BENCH_QUICK=1 cargo bench --bench history  # small sizes, one round
//! ```
//!
//! Sizes (environment): `HISTORY_BENCH_ROWS` (rows of the synced snapshot, default 1,000,000),
//! `HISTORY_BENCH_ROUNDS` (3), `HISTORY_BENCH_REPEATS` (unchanged snapshots synced again, 3),
//! `HISTORY_BENCH_DEVICES` (the largest timeline, 100,000), `HISTORY_BENCH_DAYS` (90),
//! `HISTORY_BENCH_ANSWER_RUNS` (runs of each answer, median reported, 3),
//! `HISTORY_BENCH_REBUILD=1` (build the stores again).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use defender_tvm::ClientBuilder;
use defender_tvm::export::{ExportRowsOptions, SoftwareVulnerability};
use defender_tvm::types::Severity;
use defender_tvm_demo::DemoTenant;
use defender_tvm_demo::timeline::{Timeline, TimelineOptions, TimelineRow};
use defender_tvm_history::{By, Observation, Sla, Source, Store, schema};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

/// Vulnerability rows a device has in the demo tenant's estate at the pinned snapshot time,
/// about (24,302 devices make 1,564,609 rows): the first guess of the estate's size, which the
/// serving child then corrects to within 1% of the rows asked for.
const ROWS_PER_DEVICE: f64 = 64.4;

/// The demo tenant's snapshot (and the timeline's last day): 2026-11-30T06:00:00Z, pinned so
/// that every run reads the same rows.
const SNAPSHOT_SECONDS: u64 = 1_796_018_400;

/// The tenant name the store records.
const TENANT: &str = "contoso";

fn main() {
    match std::env::var("HISTORY_BENCH_ROLE").as_deref() {
        Ok("serve") => serve(),
        Ok("read") => print_json(&read_child()),
        Ok("sync") => print_json(&sync_child()),
        Ok("floor") => print_json(&floor_child()),
        Ok("build") => build_child(),
        Ok("answer") => print_json(&answer_child()),
        Ok("begin") => begin_child(),
        _ => {
            let config = Config::from_env();
            let only: Vec<String> = std::env::args()
                .skip(1)
                .filter(|a| !a.starts_with('-'))
                .collect();
            let wants = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
            println!(
                "# History benches ({} cores, {})\n",
                std::thread::available_parallelism().map_or(0, |n| n.get()),
                Utc::now().format("%Y-%m-%d")
            );
            if wants("sync") {
                sync_part(&config);
            }
            if wants("answers") {
                answers(&config);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration.

#[derive(Debug, Clone)]
struct Config {
    rows: usize,
    rounds: usize,
    repeats: usize,
    devices: usize,
    days: usize,
    answer_runs: usize,
    rebuild: bool,
}

fn env_usize(name: &str) -> Option<usize> {
    let value = std::env::var(name).ok()?;
    let value = value.replace(['_', ','], "");
    Some(
        value
            .parse()
            .unwrap_or_else(|e| panic!("{name}={value:?}: {e}")),
    )
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var_os("BENCH_QUICK").is_some();
        let d = |quick_value: usize, full: usize| if quick { quick_value } else { full };
        Config {
            rows: env_usize("HISTORY_BENCH_ROWS").unwrap_or(d(100_000, 1_000_000)),
            rounds: env_usize("HISTORY_BENCH_ROUNDS").unwrap_or(d(1, 3)).max(1),
            repeats: env_usize("HISTORY_BENCH_REPEATS").unwrap_or(d(2, 3)).max(1),
            devices: env_usize("HISTORY_BENCH_DEVICES").unwrap_or(d(10_000, 100_000)),
            days: env_usize("HISTORY_BENCH_DAYS").unwrap_or(d(30, 90)).max(3),
            answer_runs: env_usize("HISTORY_BENCH_ANSWER_RUNS")
                .unwrap_or(d(1, 3))
                .max(1),
            rebuild: std::env::var_os("HISTORY_BENCH_REBUILD").is_some(),
        }
    }
}

/// Where the bench keeps its files: `history-bench/` in the target directory.
fn work_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // target/release/deps/history-<hash>
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(std::env::temp_dir);
    let dir = target.join("history-bench");
    std::fs::create_dir_all(&dir).expect("the bench's folder");
    dir
}

fn remove_store(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring a child.

fn print_json<T: Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).expect("JSON"));
}

/// This process's CPU time so far (user + system), from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// The CPU time so far (user + system) of process `pid` (`self`: this one).
fn cpu_seconds_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime (fields 14 and 15; 12 and 13 after the name), 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}

/// This process's peak resident memory in MB, from `/proc/self/status` (VmHWM).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs this binary as a child in `role` with `envs`, and reads the JSON line it prints.
fn run_child<T: for<'de> Deserialize<'de>>(role: &str, envs: &[(String, String)]) -> T {
    let me = std::env::current_exe().expect("the bench knows its path");
    let output = Command::new(me)
        .env("HISTORY_BENCH_ROLE", role)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::inherit())
        .output()
        .expect("the child runs");
    assert!(output.status.success(), "the {role} child failed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{role}: {e}: {stdout}"))
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

fn range(values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.as_slice() {
        [] => String::new(),
        [only] => format!("{only:.2}"),
        [first, .., last] => format!("{:.2} ({first:.2}–{last:.2})", median(values)),
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

// ---------------------------------------------------------------------------------------------
// 1. Syncing a snapshot, and 2. size.

/// The serving child: a demo tenant of about `HISTORY_BENCH_SERVE_ROWS` vulnerability rows
/// (its device count corrected until the rows are within 1%), its variables, devices and rows
/// printed as one JSON line, served until standard input closes.
fn serve() {
    let target = env_usize("HISTORY_BENCH_SERVE_ROWS").unwrap_or(30_000);
    let rows_per_file = env_usize("HISTORY_BENCH_ROWS_PER_FILE")
        .unwrap_or(defender_tvm_demo::DEFAULT_ROWS_PER_FILE);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let mut devices = ((target as f64 / ROWS_PER_DEVICE).ceil() as usize).max(1);
        let mut attempts = 0;
        let (tenant, rows) = loop {
            let tenant = DemoTenant::builder()
                .devices(devices)
                .rows_per_file(rows_per_file)
                .snapshot_time(UNIX_EPOCH + Duration::from_secs(SNAPSHOT_SECONDS))
                .unlimited()
                .start()
                .await
                .expect("the demo tenant starts");
            let rows = tenant.truth().vulnerability_row_count();
            attempts += 1;
            let off = rows as f64 / target as f64;
            if (off - 1.0).abs() <= 0.01 || attempts == 6 {
                break (tenant, rows);
            }
            devices = ((devices as f64 / off).round() as usize).max(1);
        };
        let vars: Vec<(&str, String)> = tenant.vars().into_iter().collect();
        println!(
            "{}",
            serde_json::to_string(&(vars, tenant.truth().devices.len(), rows)).expect("JSON")
        );
        let _ = std::io::stdout().flush();
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            let _ = std::io::stdin().read_line(&mut sink);
        })
        .await
        .expect("waits for standard input to close");
    });
}

/// A client of the demo tenant whose variables are in the environment.
fn client() -> defender_tvm::Client {
    ClientBuilder::from_vars(|name| std::env::var(name).ok())
        .expect("the variables make a client")
        .build()
        .expect("a client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// What a read child measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Read {
    rows: u64,
    wall: f64,
    cpu: f64,
    peak_mb: f64,
}

fn read_child() -> Read {
    let runtime = runtime();
    let cpu = cpu_seconds();
    let started = Instant::now();
    let rows = runtime.block_on(async {
        let client = client();
        let mut rows = client
            .software_vulnerabilities_export_rows(ExportRowsOptions::new())
            .await
            .expect("the export");
        let mut n = 0u64;
        while let Some(row) = rows.try_next().await.expect("a row") {
            std::hint::black_box(&row);
            n += 1;
        }
        n
    });
    Read {
        rows,
        wall: started.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu,
        peak_mb: peak_rss_mb(),
    }
}

/// For profiling the start of a sync: opens the store at `HISTORY_BENCH_STORE`, begins a
/// snapshot a year after its last (loading the tenant's state) and drops it (nothing written).
fn begin_child() {
    let path = PathBuf::from(std::env::var("HISTORY_BENCH_STORE").expect("a store path"));
    let started = Instant::now();
    let mut store = Store::open(&path).expect("the store");
    let opened = started.elapsed().as_secs_f64();
    let last = store
        .snapshots(Some(TENANT))
        .expect("the snapshots")
        .last()
        .map(|s| s.generated_time)
        .expect("a snapshot");
    let started = Instant::now();
    let sync = store
        .begin_snapshot(TENANT, last + chrono::Duration::days(365), Source::Export)
        .expect("a sync");
    let begun = started.elapsed().as_secs_f64();
    drop(sync);
    eprintln!(
        "open {opened:.3} s, begin {begun:.3} s, peak {:.1} MB",
        peak_rss_mb()
    );
}

/// What a sync child measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Synced {
    rows: u64,
    wall: f64,
    cpu: f64,
    /// Of the wall time: opening the store (`Store::open`, its integrity check included),
    /// `begin_snapshot` (loading the tenant's state), and `commit` (closing what is gone, the
    /// snapshot's facts, the commit).
    open: f64,
    begin: f64,
    commit: f64,
    peak_mb: f64,
    open_exposures: u64,
    new: u64,
    fixed: u64,
    /// The store file after a checkpoint.
    file_bytes: u64,
}

/// Opens a store file with plain SQLite, checkpoints its log into it (truncating the log),
/// and returns the file's size.
fn checkpointed_size(path: &Path) -> u64 {
    let conn = rusqlite::Connection::open(path).expect("the store, with SQLite");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        let busy: i64 = row.get(0)?;
        assert_eq!(busy, 0, "the checkpoint was blocked");
        Ok(())
    })
    .expect("a checkpoint");
    drop(conn);
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn sync_child() -> Synced {
    let path = PathBuf::from(std::env::var("HISTORY_BENCH_STORE").expect("a store path"));
    let offset_days = env_usize("HISTORY_BENCH_DAY_OFFSET").unwrap_or(0) as i64;
    let pipelined = std::env::var_os("HISTORY_BENCH_PIPELINED").is_some();
    let runtime = runtime();
    let cpu = cpu_seconds();
    let started = Instant::now();
    let (summary, open, begin, commit) = if pipelined {
        pipelined_sync(&runtime, &path, offset_days)
    } else {
        runtime.block_on(async {
            let client = client();
            let opening = Instant::now();
            let mut store = Store::open(&path).expect("the store");
            let open = opening.elapsed().as_secs_f64();
            let mut rows = client
                .software_vulnerabilities_export_rows(ExportRowsOptions::new())
                .await
                .expect("the export");
            let time = rows.generated_time() + chrono::Duration::days(offset_days);
            let beginning = Instant::now();
            let mut sync = store
                .begin_snapshot(TENANT, time, Source::Export)
                .expect("a sync")
                .expect("a snapshot not stored yet");
            let begin = beginning.elapsed().as_secs_f64();
            while let Some(row) = rows.try_next().await.expect("a row") {
                sync.add(&Observation::from(&row)).expect("a row recorded");
            }
            let committing = Instant::now();
            let summary = sync.commit().expect("the commit");
            (summary, open, begin, committing.elapsed().as_secs_f64())
        })
    };
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let peak_mb = peak_rss_mb();
    Synced {
        rows: summary.rows,
        wall,
        cpu,
        open,
        begin,
        commit,
        peak_mb,
        open_exposures: summary.open_exposures,
        new: summary.counts.new,
        fixed: summary.counts.fixed,
        file_bytes: checkpointed_size(&path),
    }
}

/// Rows handed from the reading thread to the recording thread at a time, and batches in
/// flight at most.
const BATCH: usize = 512;
const BATCHES_IN_FLIGHT: usize = 4;

/// The sync with reading and recording on two threads, through the public API only: the
/// runtime's thread decodes the rows and sends them in batches over a bounded channel to a
/// thread that owns the store (a `SnapshotSync` is not `Send`: its thread opens the store
/// and begins the snapshot itself). What the command line could do (see BENCHMARKS.md).
fn pipelined_sync(
    runtime: &tokio::runtime::Runtime,
    path: &Path,
    offset_days: i64,
) -> (defender_tvm_history::Summary, f64, f64, f64) {
    std::thread::scope(|scope| {
        let (rows_out, rows_in) =
            std::sync::mpsc::sync_channel::<Vec<SoftwareVulnerability>>(BATCHES_IN_FLIGHT);
        let (time_out, time_in) = std::sync::mpsc::channel::<DateTime<Utc>>();
        let writer = scope.spawn(move || {
            let opening = Instant::now();
            let mut store = Store::open(path).expect("the store");
            let open = opening.elapsed().as_secs_f64();
            let time = time_in.recv().expect("the snapshot's time");
            let beginning = Instant::now();
            let mut sync = store
                .begin_snapshot(TENANT, time, Source::Export)
                .expect("a sync")
                .expect("a snapshot not stored yet");
            let begin = beginning.elapsed().as_secs_f64();
            for batch in rows_in {
                for row in &batch {
                    sync.add(&Observation::from(row)).expect("a row recorded");
                }
            }
            let committing = Instant::now();
            let summary = sync.commit().expect("the commit");
            (summary, open, begin, committing.elapsed().as_secs_f64())
        });
        runtime.block_on(async {
            let client = client();
            let mut rows = client
                .software_vulnerabilities_export_rows(ExportRowsOptions::new())
                .await
                .expect("the export");
            time_out
                .send(rows.generated_time() + chrono::Duration::days(offset_days))
                .expect("the recording thread waits");
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(row) = rows.try_next().await.expect("a row") {
                batch.push(row);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    rows_out
                        .send(full)
                        .expect("the recording thread takes rows");
                }
            }
            if !batch.is_empty() {
                rows_out
                    .send(batch)
                    .expect("the recording thread takes rows");
            }
            drop(rows_out);
        });
        writer.join().expect("the recording thread")
    })
}

/// What the floor child measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Floor {
    rows: u64,
    /// The plain INSERT loop and its commit.
    wall: f64,
    /// The same rows recorded into a new store from memory (no read): the sync's storing
    /// alone.
    store: f64,
}

/// A row as the floor child keeps it in memory: what the store reads of it.
struct Owned {
    device_id: String,
    device_name: Option<String>,
    rbac_group: Option<String>,
    vendor: String,
    name: String,
    version: Option<String>,
    cve_id: Option<String>,
    severity: Option<Severity>,
    exploited: bool,
    kb: Option<String>,
    first_seen: Option<DateTime<Utc>>,
}

impl Owned {
    fn of(row: &SoftwareVulnerability) -> Owned {
        let o = Observation::from(row);
        Owned {
            device_id: o.device_id.to_string(),
            device_name: o.device_name.map(str::to_string),
            rbac_group: o.rbac_group.map(str::to_string),
            vendor: o.software_vendor.to_string(),
            name: o.software_name.to_string(),
            version: o.software_version.map(str::to_string),
            cve_id: o.cve_id.map(str::to_string),
            severity: o.severity.cloned(),
            exploited: o.exploited,
            kb: o.kb.map(str::to_string),
            first_seen: o.first_seen,
        }
    }

    fn observation(&self) -> Observation<'_> {
        Observation {
            device_id: &self.device_id,
            device_name: self.device_name.as_deref(),
            rbac_group: self.rbac_group.as_deref(),
            software_vendor: &self.vendor,
            software_name: &self.name,
            software_version: self.version.as_deref(),
            cve_id: self.cve_id.as_deref(),
            severity: self.severity.as_ref(),
            exploited: self.exploited,
            kb: self.kb.as_deref(),
            first_seen: self.first_seen,
        }
    }
}

/// Reads the export into memory (not timed), then times the floor (a plain INSERT loop of a
/// few columns) and the store (`SnapshotSync::add` of every row into a new store) over them.
fn floor_child() -> Floor {
    let path = PathBuf::from(std::env::var("HISTORY_BENCH_STORE").expect("a store path"));
    let (rows, generated_time): (Vec<Owned>, DateTime<Utc>) = runtime().block_on(async {
        let client = client();
        let rows = client
            .software_vulnerabilities_export_rows(ExportRowsOptions::new())
            .await
            .expect("the export");
        let time = rows.generated_time();
        let rows = rows
            .map_ok(|row: SoftwareVulnerability| Owned::of(&row))
            .try_collect()
            .await
            .expect("every row");
        (rows, time)
    });
    let only_store = std::env::var_os("HISTORY_BENCH_ONLY_STORE").is_some();
    let mut wall = 0.0;
    if !only_store {
        remove_store(&path);
        let mut conn = rusqlite::Connection::open(&path).expect("a database");
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .expect("WAL");
        conn.pragma_update(None, "synchronous", "NORMAL")
            .expect("synchronous");
        conn.execute_batch(
            "CREATE TABLE rows (device_id TEXT NOT NULL, vendor TEXT NOT NULL, name TEXT NOT NULL,
                 version TEXT, cve_id TEXT, kb TEXT, first_seen INTEGER)",
        )
        .expect("the table");
        let started = Instant::now();
        let tx = conn.transaction().expect("a transaction");
        {
            let mut insert = tx
                .prepare("INSERT INTO rows VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .expect("the INSERT");
            for r in &rows {
                insert
                    .execute(rusqlite::params![
                        r.device_id,
                        r.vendor,
                        r.name,
                        r.version,
                        r.cve_id,
                        r.kb,
                        r.first_seen.map(|t| t.timestamp())
                    ])
                    .expect("a row inserted");
            }
        }
        tx.commit().expect("the commit");
        wall = started.elapsed().as_secs_f64();
        drop(conn);
        remove_store(&path);
    }
    if only_store {
        // For a profiler to attach to this process now (`perf record -p`).
        eprintln!("storing {} rows from memory", rows.len());
        std::thread::sleep(Duration::from_secs(1));
    }
    let started = Instant::now();
    {
        let mut store = Store::open(&path).expect("a new store");
        let mut sync = store
            .begin_snapshot(TENANT, generated_time, Source::Export)
            .expect("a sync")
            .expect("a new snapshot");
        for r in &rows {
            sync.add(&r.observation()).expect("a row recorded");
        }
        sync.commit().expect("the commit");
    }
    let store = started.elapsed().as_secs_f64();
    remove_store(&path);
    Floor {
        rows: rows.len() as u64,
        wall,
        store,
    }
}

/// The bytes of the pages of each table and index of a store.
fn bytes_by_table(path: &Path) -> Vec<(String, u64)> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the store, with SQLite");
    let mut stmt = conn
        .prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
        .expect("dbstat (SQLITE_ENABLE_DBSTAT_VTAB, on in the bundled SQLite)");
    stmt.query_map([], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u64)))
        .expect("dbstat")
        .collect::<Result<_, _>>()
        .expect("dbstat")
}

fn sync_part(config: &Config) {
    let dir = work_dir();
    // The demo tenant in a child process: its memory and CPU are not the reader's.
    let me = std::env::current_exe().expect("the bench knows its path");
    let started = Instant::now();
    let mut server: Child = Command::new(&me)
        .env("HISTORY_BENCH_ROLE", "serve")
        .env("HISTORY_BENCH_SERVE_ROWS", config.rows.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the serving child starts");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("the serving child prints its variables");
    let (vars, devices, estate_rows): (Vec<(String, String)>, usize, u64) =
        serde_json::from_str(&line).expect("the variables as JSON");
    println!(
        "## Syncing one snapshot: {} rows ({} devices), served via files over loopback \
         (demo tenant sized and started in {:.1?})\n",
        thousands(estate_rows),
        thousands(devices as u64),
        started.elapsed()
    );

    let store = |round: usize| dir.join(format!("sync-{round}.sqlite"));
    let floor_db = dir.join("floor.sqlite");
    let (mut reads, mut syncs, mut floors) = (Vec::new(), Vec::new(), Vec::new());
    let mut pipelined = Vec::new();
    // The serving child's CPU time during each read (the demo tenant makes and compresses the
    // files as it sends them, on the same two cores).
    let server_pid = server.id().to_string();
    let mut server_cpu = Vec::new();
    for round in 0..config.rounds {
        let mut order = ["read", "sync", "floor", "pipelined"];
        order.rotate_left(round % 4);
        for what in order {
            match what {
                "read" => {
                    let before = cpu_seconds_of(&server_pid);
                    reads.push(run_child::<Read>("read", &vars));
                    server_cpu.push(cpu_seconds_of(&server_pid) - before);
                }
                "sync" => {
                    remove_store(&store(round));
                    let mut envs = vars.clone();
                    envs.push((
                        "HISTORY_BENCH_STORE".into(),
                        store(round).display().to_string(),
                    ));
                    syncs.push(run_child::<Synced>("sync", &envs));
                    if round > 0 {
                        remove_store(&store(round));
                    }
                }
                "pipelined" => {
                    let path = dir.join("pipelined.sqlite");
                    remove_store(&path);
                    let mut envs = vars.clone();
                    envs.push(("HISTORY_BENCH_STORE".into(), path.display().to_string()));
                    envs.push(("HISTORY_BENCH_PIPELINED".into(), "1".into()));
                    pipelined.push(run_child::<Synced>("sync", &envs));
                    remove_store(&path);
                }
                _ => {
                    let mut envs = vars.clone();
                    envs.push(("HISTORY_BENCH_STORE".into(), floor_db.display().to_string()));
                    floors.push(run_child::<Floor>("floor", &envs));
                }
            }
        }
        eprintln!(
            "round {round}: read {:.2} s, sync {:.2} s, floor {:.2} s (store alone {:.2} s), \
             pipelined sync {:.2} s",
            reads[round].wall,
            syncs[round].wall,
            floors[round].wall,
            floors[round].store,
            pipelined[round].wall
        );
    }
    // Where the bytes are, from SQLite's `dbstat` table (after the first sync's checkpoint).
    let breakdown = bytes_by_table(&store(0));
    // The same export again into the first store, under the next days' times: unchanged
    // snapshots.
    let first_size = syncs[0].file_bytes;
    let mut again = Vec::new();
    for day in 1..=config.repeats {
        let mut envs = vars.clone();
        envs.push(("HISTORY_BENCH_STORE".into(), store(0).display().to_string()));
        envs.push(("HISTORY_BENCH_DAY_OFFSET".into(), day.to_string()));
        let synced: Synced = run_child("sync", &envs);
        eprintln!(
            "unchanged snapshot {day}: {:.2} s, new {}, fixed {}, file {} bytes",
            synced.wall, synced.new, synced.fixed, synced.file_bytes
        );
        again.push(synced);
    }
    drop(server.stdin.take());
    let _ = server.wait();
    remove_store(&store(0));

    let rows = reads[0].rows;
    assert!(
        reads.iter().all(|r| r.rows == rows)
            && syncs
                .iter()
                .chain(&again)
                .chain(&pipelined)
                .all(|s| s.rows == rows)
            && floors.iter().all(|f| f.rows == rows),
        "every child reads every row"
    );
    let per_s = |seconds: f64| format!("{:.0}", rows as f64 / seconds);
    let read_wall: Vec<f64> = reads.iter().map(|r| r.wall).collect();
    let sync_wall: Vec<f64> = syncs.iter().map(|s| s.wall).collect();
    let floor_wall: Vec<f64> = floors.iter().map(|f| f.wall).collect();
    let store_wall: Vec<f64> = floors.iter().map(|f| f.store).collect();
    let store_over_floor: Vec<f64> = floors.iter().map(|f| f.store / f.wall).collect();
    let read_plus_store: Vec<f64> = floors
        .iter()
        .zip(&reads)
        .map(|(f, r)| (r.wall + f.store) / r.wall)
        .collect();
    let again_wall: Vec<f64> = again.iter().map(|s| s.wall).collect();
    let ratio: Vec<f64> = syncs
        .iter()
        .zip(&reads)
        .map(|(s, r)| s.wall / r.wall)
        .collect();
    let cpu_ratio: Vec<f64> = syncs
        .iter()
        .zip(&reads)
        .map(|(s, r)| s.cpu / r.cpu)
        .collect();
    let over_floor: Vec<f64> = syncs
        .iter()
        .zip(&reads)
        .zip(&floors)
        .map(|((s, r), f)| (s.wall - r.wall) / f.wall)
        .collect();
    let again_ratio = median(&again_wall) / median(&read_wall);
    let rounds = config.rounds;
    println!(
        "{rounds} rounds (read, sync and floor each in a fresh child process, the order \
         rotating), medians; ratios are the median of the rounds' ratios (range)\n"
    );
    println!("| measure | value | goal |");
    println!("|---|---|---|");
    println!(
        "| read: export through the SDK, every row decoded | {:.2} s · {} rows/s · CPU {:.2} s | |",
        median(&read_wall),
        per_s(median(&read_wall)),
        median(&reads.iter().map(|r| r.cpu).collect::<Vec<_>>())
    );
    println!(
        "| the demo tenant's CPU while serving one read (its own process) | {:.2} s | |",
        median(&server_cpu)
    );
    println!(
        "| sync: read + record into a new store file | {:.2} s · {} rows/s · CPU {:.2} s · commit {:.2} s | |",
        median(&sync_wall),
        per_s(median(&sync_wall)),
        median(&syncs.iter().map(|s| s.cpu).collect::<Vec<_>>()),
        median(&syncs.iter().map(|s| s.commit).collect::<Vec<_>>())
    );
    println!(
        "| floor: plain prepared INSERT of the same rows, one transaction | {:.2} s · {} rows/s | |",
        median(&floor_wall),
        per_s(median(&floor_wall))
    );
    println!(
        "| store alone: the same rows from memory into a new store (`add` + `commit`, no read) | {:.2} s · {} rows/s · {} × floor | |",
        median(&store_wall),
        per_s(median(&store_wall)),
        range(&store_over_floor)
    );
    let r = median(&ratio);
    println!(
        "| **sync / read** (wall) | **{}** | ≤ 1.3 {} |",
        range(&ratio),
        if r <= 1.3 { "✅" } else { "❌" }
    );
    println!("| sync / read (CPU) | {} | |", range(&cpu_ratio));
    println!("| (sync − read) / floor | {} | |", range(&over_floor));
    println!(
        "| (read + store alone) / read: the ratio if storing never overlapped reading | {} | |",
        range(&read_plus_store)
    );
    let pipelined_ratio: Vec<f64> = pipelined
        .iter()
        .zip(&reads)
        .map(|(s, r)| s.wall / r.wall)
        .collect();
    println!(
        "| sync, pipelined (rows decoded on the runtime's thread, recorded on a second thread; public API only) | {:.2} s · {} rows/s · CPU {:.2} s · {} × read · peak {:.1} MB | |",
        median(&pipelined.iter().map(|s| s.wall).collect::<Vec<_>>()),
        per_s(median(
            &pipelined.iter().map(|s| s.wall).collect::<Vec<_>>()
        )),
        median(&pipelined.iter().map(|s| s.cpu).collect::<Vec<_>>()),
        range(&pipelined_ratio),
        median(&pipelined.iter().map(|s| s.peak_mb).collect::<Vec<_>>())
    );
    let peak = median(&syncs.iter().map(|s| s.peak_mb).collect::<Vec<_>>());
    println!(
        "| **peak RSS of the sync** (read alone) | **{peak:.1} MB** ({:.1} MB) | ≤ 128 MB {} |",
        median(&reads.iter().map(|r| r.peak_mb).collect::<Vec<_>>()),
        if peak <= 128.0 { "✅" } else { "❌" }
    );
    println!(
        "| unchanged snapshot synced again (steady state, no change) | {:.2} s · {} rows/s · {:.2} × read · open {:.2} s · begin {:.2} s · commit {:.2} s · peak {:.1} MB | |",
        median(&again_wall),
        per_s(median(&again_wall)),
        again_ratio,
        median(&again.iter().map(|s| s.open).collect::<Vec<_>>()),
        median(&again.iter().map(|s| s.begin).collect::<Vec<_>>()),
        median(&again.iter().map(|s| s.commit).collect::<Vec<_>>()),
        median(&again.iter().map(|s| s.peak_mb).collect::<Vec<_>>())
    );
    let open = syncs[0].open_exposures;
    let per_open = first_size as f64 / open as f64;
    println!(
        "| **bytes per open exposure** ({} open, file {} after a checkpoint) | **{per_open:.1}** | ≤ 64 {} |",
        thousands(open),
        mb(first_size),
        if per_open <= 64.0 { "✅" } else { "❌" }
    );
    let of = |name: &str| {
        breakdown
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, b)| *b)
            .sum::<u64>()
    };
    let known = ["exposures", "sqlite_autoindex_exposures_1", "spans"];
    let rest: u64 = breakdown
        .iter()
        .filter(|(n, _)| !known.contains(&n.as_str()))
        .map(|(_, b)| *b)
        .sum();
    let per = |bytes: u64| bytes as f64 / open as f64;
    println!(
        "| of which (pages, from `dbstat`): `exposures` · its UNIQUE (device, software, cve) index · `spans` · the rest (devices, names, snapshots) | {:.1} · {:.1} · {:.1} · {:.1} | |",
        per(of("exposures")),
        per(of("sqlite_autoindex_exposures_1")),
        per(of("spans")),
        per(rest)
    );
    let last = again.last().map_or(first_size, |s| s.file_bytes);
    let per_unchanged = (last as f64 - first_size as f64) / again.len() as f64;
    println!(
        "| **bytes added per unchanged snapshot** ({} synced again) | **{per_unchanged:.0}** | ≤ 4 KB {} |",
        again.len(),
        if per_unchanged <= 4096.0 {
            "✅"
        } else {
            "❌"
        }
    );
    println!();
}

// ---------------------------------------------------------------------------------------------
// 3. Answers over the timeline.

/// The timeline's last day: the demo tenant's snapshot day (2026-11-30).
fn timeline_end() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(SNAPSHOT_SECONDS + 6 * 3600)
}

/// A store replayed from a timeline: `devices` over its first `snapshots` of `days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spec {
    devices: usize,
    days: usize,
    snapshots: usize,
}

impl Spec {
    fn stem(&self) -> String {
        let mut stem = format!(
            "timeline-v{}-seed{}-d{}-days{}",
            schema::VERSION,
            defender_tvm_demo::DEFAULT_SEED,
            self.devices,
            self.days
        );
        if self.snapshots != self.days {
            stem.push_str(&format!("-first{}", self.snapshots));
        }
        stem
    }

    fn store(&self) -> PathBuf {
        work_dir().join(format!("{}.sqlite", self.stem()))
    }

    fn facts(&self) -> PathBuf {
        work_dir().join(format!("{}.json", self.stem()))
    }
}

/// One snapshot of a build.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Step {
    rows: u64,
    seconds: f64,
    /// The store's size after it (pages in use, the log's included).
    bytes: u64,
    open: u64,
    new: u64,
    fixed: u64,
}

/// How a store was built, kept beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Built {
    devices: usize,
    snapshots: usize,
    generate_seconds: f64,
    /// Syncing the snapshots (generating their rows included).
    sync_seconds: f64,
    rows: u64,
    file_bytes: u64,
    peak_mb: f64,
    steps: Vec<Step>,
}

/// The timeline's row as the store reads it: what `Observation::from` makes of the row the
/// export sends (checked against that on the first rows of each build), without the JSON.
fn observation<'a>(row: &'a TimelineRow<'a>) -> Observation<'a> {
    static SEVERITIES: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];
    Observation {
        device_id: row.device_id,
        device_name: Some(row.device_name),
        rbac_group: Some(row.rbac_group_name),
        software_vendor: row.software_vendor,
        software_name: row.software_name,
        software_version: Some(row.software_version),
        cve_id: row.cve_id.filter(|c| !c.is_empty()),
        severity: row.vulnerability_severity_level.map(|s| match s {
            "Critical" => &SEVERITIES[0],
            "High" => &SEVERITIES[1],
            "Medium" => &SEVERITIES[2],
            "Low" => &SEVERITIES[3],
            other => panic!("a severity the bench does not know: {other}"),
        }),
        exploited: matches!(
            row.exploitability_level,
            "ExploitIsPublic" | "ExploitIsVerified" | "ExploitIsInKit"
        ),
        kb: row.recommended_security_update_id.filter(|k| !k.is_empty()),
        first_seen: DateTime::from_timestamp(row.first_seen_timestamp.unix_seconds(), 0),
    }
}

/// Checks [`observation`] against the SDK's decoding of the same row's JSON.
fn check_observation(row: &TimelineRow<'_>) {
    let decoded: SoftwareVulnerability =
        serde_json::from_str(&row.to_json()).expect("the SDK reads the row");
    let mut expected = Observation::from(&decoded);
    let mut direct = observation(row);
    let seconds = |o: &Observation<'_>| o.first_seen.map(|t| t.timestamp());
    assert_eq!(seconds(&expected), seconds(&direct), "first seen: {row:?}");
    expected.first_seen = None;
    direct.first_seen = None;
    assert_eq!(expected, direct, "the bench reads a row as the SDK does");
}

/// The building child: replays `HISTORY_BENCH_BUILD_DEVICES` devices over
/// `HISTORY_BENCH_BUILD_DAYS` days into the spec's store, copying it after each of
/// `HISTORY_BENCH_BUILD_COPIES` snapshots (comma-separated), and writes each store's facts.
fn build_child() {
    let devices = env_usize("HISTORY_BENCH_BUILD_DEVICES").expect("devices");
    let days = env_usize("HISTORY_BENCH_BUILD_DAYS").expect("days");
    let copies: Vec<usize> = std::env::var("HISTORY_BENCH_BUILD_COPIES")
        .unwrap_or_default()
        .split(',')
        .filter_map(|c| c.parse().ok())
        .collect();
    let full = Spec {
        devices,
        days,
        snapshots: days,
    };
    let started = Instant::now();
    let timeline = Timeline::generate(
        TimelineOptions::default()
            .devices(devices)
            .days(days)
            .end(timeline_end()),
    );
    let generate_seconds = started.elapsed().as_secs_f64();
    let building = full.store().with_extension("building");
    remove_store(&building);
    let mut store = Store::open(&building).expect("a new store");
    // A second connection, to read the store's size after each snapshot.
    let side = rusqlite::Connection::open(&building).expect("the store, with SQLite");
    let size = || -> u64 {
        side.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |row| row.get::<_, i64>(0),
        )
        .expect("the size") as u64
    };
    let mut steps = Vec::new();
    let syncing = Instant::now();
    for s in 0..days {
        let snapshot_started = Instant::now();
        let time = DateTime::<Utc>::from(timeline.snapshot_time(s));
        let mut sync = store
            .begin_snapshot(TENANT, time, Source::Demo)
            .expect("a sync")
            .expect("a new snapshot");
        for (i, row) in timeline.rows(s).enumerate() {
            if i < 2_000 && s % 30 == 0 {
                check_observation(&row);
            }
            sync.add(&observation(&row)).expect("a row recorded");
        }
        let summary = sync.commit().expect("the commit");
        steps.push(Step {
            rows: summary.rows,
            seconds: snapshot_started.elapsed().as_secs_f64(),
            bytes: size(),
            open: summary.open_exposures,
            new: summary.counts.new + summary.counts.reopened,
            fixed: summary.counts.fixed,
        });
        if s % 10 == 9 {
            eprintln!(
                "  {devices} devices: snapshot {} of {days}, {} rows, {:.1} s so far",
                s + 1,
                summary.rows,
                started.elapsed().as_secs_f64()
            );
        }
        if copies.contains(&(s + 1)) {
            let spec = Spec {
                snapshots: s + 1,
                ..full
            };
            let bytes = checkpointed_size(&building);
            remove_store(&spec.store());
            std::fs::copy(&building, spec.store()).expect("a copy of the store");
            write_built(
                &spec,
                &Built {
                    devices,
                    snapshots: s + 1,
                    generate_seconds,
                    sync_seconds: syncing.elapsed().as_secs_f64(),
                    rows: steps.iter().map(|s| s.rows).sum(),
                    file_bytes: bytes,
                    peak_mb: peak_rss_mb(),
                    steps: steps.clone(),
                },
            );
        }
    }
    let sync_seconds = syncing.elapsed().as_secs_f64();
    drop(side);
    drop(store);
    let bytes = checkpointed_size(&building);
    remove_store(&full.store());
    std::fs::rename(&building, full.store()).expect("the store in place");
    write_built(
        &full,
        &Built {
            devices,
            snapshots: days,
            generate_seconds,
            sync_seconds,
            rows: steps.iter().map(|s| s.rows).sum(),
            file_bytes: bytes,
            peak_mb: peak_rss_mb(),
            steps,
        },
    );
}

fn write_built(spec: &Spec, built: &Built) {
    std::fs::write(spec.facts(), serde_json::to_string(built).expect("JSON"))
        .expect("the store's facts");
}

fn read_built(spec: &Spec) -> Option<Built> {
    if !spec.store().exists() {
        return None;
    }
    serde_json::from_slice(&std::fs::read(spec.facts()).ok()?).ok()
}

/// What an answer child measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Answered {
    /// Each run's seconds.
    runs: Vec<f64>,
    peak_mb: f64,
    /// What the answer holds (rows of changes, groups, points).
    size: String,
}

fn answer_child() -> Answered {
    let path = PathBuf::from(std::env::var("HISTORY_BENCH_STORE").expect("a store path"));
    let answer = std::env::var("HISTORY_BENCH_ANSWER").expect("an answer");
    let runs = env_usize("HISTORY_BENCH_ANSWER_RUNS").unwrap_or(1);
    let store = Store::open_existing(&path).expect("the store");
    let mut times = Vec::new();
    let mut size = String::new();
    for _ in 0..runs {
        let started = Instant::now();
        size = match answer.as_str() {
            "changes" => {
                let c = store.changes(None, None, None).expect("changes");
                format!(
                    "{} new, {} fixed, {} reopened, {} retired",
                    c.new.len(),
                    c.fixed.len(),
                    c.reopened.len(),
                    c.retired_devices.len()
                )
            }
            "remediation" => {
                let r = store
                    .remediation(None, None, None, Sla::default(), By::Severity)
                    .expect("remediation");
                let fixed: u64 = r.groups.iter().map(|g| g.fixed).sum();
                let open: u64 = r.groups.iter().map(|g| g.open).sum();
                format!("{} groups, {fixed} fixed, {open} open", r.groups.len())
            }
            "trend" => {
                let t = store.trend(None).expect("trend");
                format!("{} points", t.snapshots.len())
            }
            other => panic!("no answer {other}"),
        };
        times.push(started.elapsed().as_secs_f64());
    }
    Answered {
        runs: times,
        peak_mb: peak_rss_mb(),
        size,
    }
}

/// Counts of a store's tables.
fn counts(path: &Path) -> (u64, u64) {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the store, with SQLite");
    let count = |table: &str| -> u64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get::<_, i64>(0)
        })
        .expect("a count") as u64
    };
    (count("exposures"), count("spans"))
}

fn answers(config: &Config) {
    let (big, days) = (config.devices, config.days);
    let small = (big / 5).max(1);
    // By snapshots: `small` devices after a third, two thirds and all of the days (copies made
    // while building the whole). By devices: a tenth, three tenths and all of `big`.
    let by_snapshots = [days / 3, 2 * days / 3, days].map(|snapshots| Spec {
        devices: small,
        days,
        snapshots,
    });
    let by_devices = [big / 10, 3 * big / 10, big].map(|devices| Spec {
        devices: devices.max(1),
        days,
        snapshots: days,
    });
    println!("## Answers over the demo timeline ({days} daily snapshots)\n");
    // Build what is missing, one timeline at a time.
    let mut builds: Vec<(usize, Vec<usize>)> = Vec::new();
    for spec in by_snapshots.iter().chain(&by_devices) {
        if !config.rebuild && read_built(spec).is_some() {
            continue;
        }
        let copies = if spec.devices == small {
            vec![days / 3, 2 * days / 3]
        } else {
            vec![]
        };
        if !builds.iter().any(|(d, _)| *d == spec.devices) {
            builds.push((spec.devices, copies));
        }
    }
    for (devices, copies) in &builds {
        eprintln!("building the store of {devices} devices over {days} days …");
        let copies: Vec<String> = copies.iter().map(|c| c.to_string()).collect();
        let me = std::env::current_exe().expect("the bench knows its path");
        let status = Command::new(me)
            .env("HISTORY_BENCH_ROLE", "build")
            .env("HISTORY_BENCH_BUILD_DEVICES", devices.to_string())
            .env("HISTORY_BENCH_BUILD_DAYS", days.to_string())
            .env("HISTORY_BENCH_BUILD_COPIES", copies.join(","))
            .status()
            .expect("the building child runs");
        assert!(status.success(), "building the store of {devices} devices");
    }
    println!(
        "Each answer in a fresh child process, {} run(s), the median shown; the stores are \
         built once (build times: generating the timeline, then syncing every snapshot; the \
         rows made from the timeline directly, without JSON) and kept in `{}`.\n",
        config.answer_runs,
        work_dir().display()
    );
    // The table is printed whole at the end (progress goes to standard error meanwhile).
    let mut table = vec![
        "| devices | snapshots | rows synced | exposures | spans | file | built in: timeline + syncs (peak RSS) | `changes` | `remediation` | `trend` | answers' peak RSS | goal ≤ 1 s |".to_string(),
        "|---|---|---|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    let mut shown: Vec<Spec> = Vec::new();
    for spec in by_snapshots.iter().chain(&by_devices) {
        if shown.contains(spec) {
            continue;
        }
        shown.push(*spec);
        let built = read_built(spec).expect("the store was built");
        let (exposures, spans) = counts(&spec.store());
        let mut cells = Vec::new();
        let mut peaks = Vec::new();
        let mut all_met = true;
        for answer in ["changes", "remediation", "trend"] {
            let envs = [
                (
                    "HISTORY_BENCH_STORE".to_string(),
                    spec.store().display().to_string(),
                ),
                ("HISTORY_BENCH_ANSWER".to_string(), answer.to_string()),
                (
                    "HISTORY_BENCH_ANSWER_RUNS".to_string(),
                    config.answer_runs.to_string(),
                ),
            ];
            let answered: Answered = run_child("answer", &envs);
            let m = median(&answered.runs);
            all_met &= m <= 1.0;
            eprintln!(
                "{} devices, {} snapshots, {answer}: {:?} ({})",
                spec.devices, spec.snapshots, answered.runs, answered.size
            );
            cells.push(if m < 0.01 {
                format!("{:.2} ms", m * 1e3)
            } else {
                format!("{m:.3} s")
            });
            peaks.push(format!("{:.0}", answered.peak_mb));
        }
        table.push(format!(
            "| {} | {} | {} | {} | {} | {} | {:.1} s + {:.1} s ({:.0} MB) | {} | {} | {} | {} MB | {} |",
            thousands(spec.devices as u64),
            spec.snapshots,
            thousands(built.rows),
            thousands(exposures),
            thousands(spans),
            mb(built.file_bytes),
            built.generate_seconds,
            built.sync_seconds,
            built.peak_mb,
            cells[0],
            cells[1],
            cells[2],
            peaks.join(" · "),
            if all_met { "✅" } else { "❌" }
        ));
    }
    for line in table {
        println!("{line}");
    }
    println!();
    // A realistic day, from the largest build: the last third of its snapshots.
    let largest = by_devices[2];
    let built = read_built(&largest).expect("the largest store");
    let steps = &built.steps;
    let tail = &steps[steps.len() - steps.len() / 3..];
    let growth: Vec<f64> = steps
        .windows(2)
        .skip(steps.len() - tail.len() - 1)
        .map(|w| w[1].bytes as f64 - w[0].bytes as f64)
        .collect();
    let of = |f: &dyn Fn(&Step) -> f64| median(&tail.iter().map(f).collect::<Vec<_>>());
    let (rows, bytes) = (of(&|s| s.rows as f64), median(&growth));
    let (new, fixed) = (of(&|s| s.new as f64), of(&|s| s.fixed as f64));
    let seconds = of(&|s| s.seconds);
    println!(
        "A realistic day ({} devices, snapshots {} to {} of the timeline, medians): {} rows, {} \
         new or reopened and {} fixed, {} open exposures at the end. **{} added a snapshot** \
         ({:.1} bytes a new or fixed exposure; the store's pages in use, log included, after \
         each commit). Synced in {seconds:.2} s ({:.0} rows/s; rows made from the timeline, \
         no HTTP).\n",
        thousands(largest.devices as u64),
        steps.len() - tail.len() + 1,
        steps.len(),
        thousands(rows as u64),
        thousands(new as u64),
        thousands(fixed as u64),
        thousands(tail.last().map_or(0, |s| s.open)),
        mb(bytes as u64),
        bytes / (new + fixed),
        rows / seconds,
    );
}
