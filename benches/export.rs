//! Benchmarks of the export path (see BENCHMARKS.md, "Exports"):
//!
//! 1. **Rows via files**: every row of a via-files vulnerabilities export from the demo tenant,
//!    through `Client::software_vulnerabilities_export_rows`, against a hand-written loop over
//!    the same files (reqwest, `flate2`, a line split and `serde_json` into the same row type),
//!    at about 100 MB and about 1 GB of NDJSON. The demo tenant serves from a child process, and
//!    each read runs in a fresh child process of its own, so its peak resident memory (VmHWM)
//!    is the reader's alone. Reported: rows a second of wall time and of the reader's CPU time
//!    (user + system), their ratios to the loop's, and the peak memory.
//! 2. **Report sources**: the estate report from the export against the report from calls on an
//!    estate of 3,000 vulnerable software, under the service's budgets scaled down 600 times
//!    (100 calls per 100 ms and 1,500 per 6 s; JSON exports 30 and 1,000; files 5 and 20), with
//!    the client's limits set the same: wall time and calls made.
//!
//! `cargo bench --bench export` runs both (a few minutes); `BENCH_QUICK=1` a short pass (100 MB,
//! one round, a smaller estate for the sources); `cargo bench --bench export -- rows` or
//! `-- sources` one part.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use defender_tvm::export::SoftwareVulnerability;
use defender_tvm::report::SourceChoice;
use defender_tvm::{ClientBuilder, RateLimit, export::ExportRowsOptions, report::ReportOptions};
use defender_tvm_demo::DemoTenant;
use flate2::write::MultiGzDecoder;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;

/// About 1,215 bytes of NDJSON a row in the demo tenant (rows a device vary with its size): 1,700
/// devices make 74,732 rows (about 90 MB), 22,000 devices 905,281 rows (about 1.1 GB). With each,
/// rows a file such that the export has [`FILES`] files.
const SIZES: [(&str, usize, usize); 2] = [("100 MB", 1_700, 9_400), ("1 GB", 22_000, 113_200)];

/// Files in the export at either size (so as many are in flight at once at both, and peak
/// memory compares the reader's, not the files' count).
const FILES: usize = 8;

/// Files read at once, by the client and the loop alike.
const CONCURRENCY: usize = 4;

fn main() {
    match std::env::var("EXPORT_BENCH_ROLE").as_deref() {
        Ok("serve") => serve(),
        Ok("read") => read_once(),
        _ => {
            let quick = std::env::var_os("BENCH_QUICK").is_some();
            let only: Vec<String> = std::env::args()
                .skip(1)
                .filter(|a| !a.starts_with('-'))
                .collect();
            let wants = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
            if wants("rows") {
                rows_via_files(quick);
            }
            if wants("sources") {
                report_sources(quick);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Rows via files.

/// What one read measured, as the reading child prints it.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
struct Read {
    rows: u64,
    /// Decompressed bytes (the loop counts them; the client's are the same files).
    bytes: u64,
    wall: f64,
    cpu: f64,
    peak_rss_mb: f64,
}

fn rows_via_files(quick: bool) {
    let me = std::env::current_exe().expect("the bench knows its path");
    let rounds = if quick { 1 } else { 5 };
    let sizes = if quick { &SIZES[..1] } else { &SIZES[..] };
    println!(
        "## Rows via files ({rounds} rounds, the loop and the client alternating, {FILES} files, {CONCURRENCY} at a time)\n"
    );
    println!(
        "| size | rows | NDJSON | loop rows/s (wall) | client rows/s (wall) | wall ratio, median of rounds (range) | loop rows/s (CPU) | client rows/s (CPU) | CPU ratio, median (range) | loop peak RSS | client peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for &(name, devices, rows_per_file) in sizes {
        // The demo tenant in a child process: its memory and CPU are not the reader's.
        let mut server = Command::new(&me)
            .env("EXPORT_BENCH_ROLE", "serve")
            .env("EXPORT_BENCH_DEVICES", devices.to_string())
            .env("EXPORT_BENCH_ROWS_PER_FILE", rows_per_file.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the serving child starts");
        let mut line = String::new();
        BufReader::new(server.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the serving child prints its variables");
        let vars: Vec<(String, String)> =
            serde_json::from_str(&line).expect("the variables as JSON");

        let mut loops = Vec::new();
        let mut clients = Vec::new();
        for round in 0..rounds {
            for mode in if round % 2 == 0 {
                ["loop", "client"]
            } else {
                ["client", "loop"]
            } {
                let output = Command::new(&me)
                    .env("EXPORT_BENCH_ROLE", "read")
                    .env("EXPORT_BENCH_MODE", mode)
                    .envs(vars.iter().map(|(k, v)| (k, v)))
                    .output()
                    .expect("the reading child runs");
                assert!(
                    output.status.success(),
                    "{mode}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let read: Read =
                    serde_json::from_slice(&output.stdout).expect("the read's figures as JSON");
                if mode == "loop" {
                    loops.push(read);
                } else {
                    clients.push(read);
                }
            }
        }
        drop(server.stdin.take());
        let _ = server.wait();

        assert!(
            loops
                .iter()
                .chain(&clients)
                .all(|r| r.rows == loops[0].rows),
            "every read gives every row: {loops:?} {clients:?}"
        );
        let median = |reads: &[Read], f: &dyn Fn(&Read) -> f64| {
            let mut v: Vec<f64> = reads.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let rows = loops[0].rows as f64;
        let loop_wall = rows / median(&loops, &|r| r.wall);
        let client_wall = rows / median(&clients, &|r| r.wall);
        let loop_cpu = rows / median(&loops, &|r| r.cpu);
        let client_cpu = rows / median(&clients, &|r| r.cpu);
        // The ratio of each round (client to loop, in rows a second: above 1, the client is
        // faster), their median and range: the machine's noise shows as the range.
        let ratios = |f: &dyn Fn(&Read) -> f64| {
            let mut v: Vec<f64> = loops
                .iter()
                .zip(&clients)
                .map(|(l, c)| f(l) / f(c))
                .collect();
            v.sort_by(f64::total_cmp);
            format!("{:.2} ({:.2}–{:.2})", v[v.len() / 2], v[0], v[v.len() - 1])
        };
        println!(
            "| {name} | {} | {:.0} MB | {:.0} | {:.0} | {} | {:.0} | {:.0} | {} | {:.1} MB | {:.1} MB |",
            loops[0].rows,
            loops[0].bytes as f64 / 1e6,
            loop_wall,
            client_wall,
            ratios(&|r| r.wall),
            loop_cpu,
            client_cpu,
            ratios(&|r| r.cpu),
            median(&loops, &|r| r.peak_rss_mb),
            median(&clients, &|r| r.peak_rss_mb),
        );
    }
    println!();
}

/// The serving child: a demo tenant of `EXPORT_BENCH_DEVICES` devices, its variables printed
/// as one JSON line, served until standard input closes.
fn serve() {
    let devices: usize = std::env::var("EXPORT_BENCH_DEVICES")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(1_700);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let rows_per_file: usize = std::env::var("EXPORT_BENCH_ROWS_PER_FILE")
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(100_000);
        let tenant = DemoTenant::builder()
            .devices(devices)
            .rows_per_file(rows_per_file)
            .unlimited()
            .start()
            .await
            .expect("the demo tenant starts");
        let mut vars: Vec<(&str, String)> = tenant.vars().into_iter().collect();
        vars.push(("EXPORT_BENCH_TOKEN", tenant.issue_token()));
        println!("{}", serde_json::to_string(&vars).expect("JSON"));
        let _ = std::io::stdout().flush();
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            let _ = std::io::stdin().read_line(&mut sink);
        })
        .await
        .expect("waits for standard input to close");
    });
}

/// The reading child: one read, client or loop, its figures printed as JSON.
fn read_once() {
    let mode = std::env::var("EXPORT_BENCH_MODE").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let (rows, bytes) = runtime.block_on(async {
        let client = ClientBuilder::from_vars(|name| std::env::var(name).ok())
            .expect("the variables make a client")
            .build()
            .expect("a client");
        match mode.as_str() {
            "client" => {
                let rows = client
                    .software_vulnerabilities_export_rows(
                        ExportRowsOptions::new().concurrency(CONCURRENCY),
                    )
                    .await
                    .expect("the export");
                let count = rows
                    .try_fold(0u64, |n, row| {
                        std::hint::black_box(&row);
                        async move { Ok(n + 1) }
                    })
                    .await
                    .expect("every row");
                (count, 0)
            }
            _ => hand_written_loop().await,
        }
    });
    let read = Read {
        rows,
        bytes,
        wall: started.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu_before,
        peak_rss_mb: peak_rss_mb(),
    };
    println!("{}", serde_json::to_string(&read).expect("JSON"));
}

/// The baseline: the export call, then the files, `CONCURRENCY` at a time, each streamed
/// through `flate2`, split into lines, each line decoded with `serde_json` into the same row
/// type. Rows are counted, as the client's are. Returns rows and decompressed bytes.
async fn hand_written_loop() -> (u64, u64) {
    let base = std::env::var("DEFENDER_TVM_BASE_URL").expect("the base URL");
    let http = reqwest::Client::new();
    // A token the tenant issued (the client signs in with the secret; one token request is
    // nothing next to the files).
    let token = std::env::var("EXPORT_BENCH_TOKEN").expect("a token");
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Export {
        export_files: Vec<String>,
    }
    let export: Export = http
        .get(format!("{base}/api/machines/SoftwareVulnerabilitiesExport"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the export call")
        .json()
        .await
        .expect("the export's links");
    futures::stream::iter(export.export_files)
        .map(|link| {
            let http = http.clone();
            async move {
                let mut response = http
                    .get(link)
                    .send()
                    .await
                    .expect("a download")
                    .error_for_status()
                    .expect("a file");
                let mut decoder = MultiGzDecoder::new(Vec::new());
                let mut partial: Vec<u8> = Vec::new();
                let (mut rows, mut bytes) = (0u64, 0u64);
                let lines = |partial: &mut Vec<u8>, rows: &mut u64| {
                    let mut start = 0;
                    while let Some(end) = partial[start..].iter().position(|&b| b == b'\n') {
                        let line = &partial[start..start + end];
                        if !line.is_empty() {
                            let row: SoftwareVulnerability =
                                serde_json::from_slice(line).expect("a row");
                            std::hint::black_box(&row);
                            *rows += 1;
                        }
                        start += end + 1;
                    }
                    partial.drain(..start);
                };
                while let Some(chunk) = response.chunk().await.expect("a chunk") {
                    decoder.write_all(&chunk).expect("GZIP");
                    let out = decoder.get_mut();
                    bytes += out.len() as u64;
                    partial.append(out);
                    lines(&mut partial, &mut rows);
                }
                let mut out = decoder.finish().expect("the GZIP end");
                bytes += out.len() as u64;
                partial.append(&mut out);
                if !partial.is_empty() && partial.last() != Some(&b'\n') {
                    partial.push(b'\n');
                }
                lines(&mut partial, &mut rows);
                (rows, bytes)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .fold((0, 0), |(r, b), (rows, bytes)| async move {
            (r + rows, b + bytes)
        })
        .await
}

/// This process's CPU time so far (user + system), from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name; 100 ticks a
    // second on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// This process's peak resident memory, from `/proc/self/status` (VmHWM).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

// ---------------------------------------------------------------------------------------------
// 2. Report sources.

fn report_sources(quick: bool) {
    // A quarter of the demo tenant's software is vulnerable, whatever its devices: 12,000
    // software give about 3,000 vulnerable ones.
    let software = if quick { 2_400 } else { 12_000 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let scale = 600;
        let minute = Duration::from_secs(60) / scale;
        let hour = Duration::from_secs(3600) / scale;
        let tenant = DemoTenant::builder()
            .devices(500)
            .software(software)
            .budget(100, minute)
            .and_budget(1_500, hour)
            .json_export_budget(30, minute)
            .and_json_export_budget(1_000, hour)
            .file_export_budget(5, minute)
            .and_file_export_budget(20, hour)
            .start()
            .await
            .expect("the demo tenant starts");
        let client = ClientBuilder::from_vars(|name| tenant.var(name))
            .expect("the demo tenant's variables")
            .rate_limit(RateLimit::new(100, minute).window(1_500, hour))
            .json_export_rate_limit(RateLimit::new(30, minute).window(1_000, hour))
            .file_export_rate_limit(RateLimit::new(5, minute).window(20, hour))
            .build()
            .expect("a client");

        println!(
            "## Report sources (budgets scaled down {scale}×: a minute is {minute:?}, an hour {hour:?})\n"
        );
        println!("| source | software asked | KBs | wall time | calls made | 429s |");
        println!("|---|---|---|---|---|---|");
        let mut walls = Vec::new();
        for (name, options) in [
            ("calls", ReportOptions::new().source(SourceChoice::Calls)),
            (
                "calls, devices",
                ReportOptions::new().source(SourceChoice::Calls).devices(true),
            ),
            ("export", ReportOptions::new().source(SourceChoice::Export)),
        ] {
            let calls_before = tenant.total_calls();
            let throttled_before = tenant.throttled();
            let started = Instant::now();
            let plan = client
                .plan_missing_kbs_report(options)
                .await
                .expect("the plan");
            let asked = plan.software().len();
            let report = plan.finish().await.expect("the report");
            let wall = started.elapsed();
            walls.push(wall);
            println!(
                "| {name} | {asked} | {} | {:.2} s | {} | {} |",
                report.kbs.len(),
                wall.as_secs_f64(),
                tenant.total_calls() - calls_before,
                tenant.throttled() - throttled_before,
            );
        }
        println!(
            "\nexport / calls wall time: {:.3}; export / calls with devices: {:.3}\n",
            walls[2].as_secs_f64() / walls[0].as_secs_f64(),
            walls[2].as_secs_f64() / walls[1].as_secs_f64()
        );
    });
}
