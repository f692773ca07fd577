//! Benchmark of many tenants at once (see BENCHMARKS.md, "Many tenants"): the same work per
//! tenant (the estate report from calls on a demo tenant of 300 devices and 150 software)
//! under the service's budgets scaled down (each tenant its own: 20 calls a second), for 1, 3
//! and 10 tenants asked at once. Reported: wall time of N tenants against one (goal ≤ 1.2 for
//! 10), the 429s the tenants answered (goal 0), and the reader's peak memory per tenant.
//!
//! The demo tenants serve from a child process; each run reads in a fresh child process, so
//! its peak resident memory (VmHWM) is the client's alone.
//!
//! `cargo bench --bench tenants` (about a minute); `BENCH_QUICK=1` one round.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use defender_tvm::{
    ClientBuilder, RateLimit,
    report::{ReportOptions, SourceChoice},
    tenants::Tenants,
};
use defender_tvm_demo::DemoTenant;
use serde::{Deserialize, Serialize};

const COUNTS: [usize; 3] = [1, 3, 10];
/// Each tenant's budget (and its client's limit): 20 calls a second.
const CALLS: u32 = 20;
const PER: Duration = Duration::from_secs(1);

fn main() {
    match std::env::var("TENANTS_BENCH_ROLE").as_deref() {
        Ok("serve") => serve(),
        Ok("read") => read(),
        _ => compare(std::env::var_os("BENCH_QUICK").is_some()),
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Run {
    wall: f64,
    peak_rss_mb: f64,
    kbs: usize,
    failed: usize,
}

fn compare(quick: bool) {
    let me = std::env::current_exe().expect("the bench knows its path");
    let rounds = if quick { 1 } else { 3 };
    println!(
        "## Many tenants ({rounds} rounds; each tenant 300 devices, 150 software, its own budget of {CALLS} calls per {PER:?})\n"
    );
    println!("| tenants | wall time (median) | N / 1 | 429s | peak RSS | per tenant beyond one |");
    println!("|---|---|---|---|---|---|");
    let mut base: Option<Run> = None;
    for count in COUNTS {
        let mut server = Command::new(&me)
            .env("TENANTS_BENCH_ROLE", "serve")
            .env("TENANTS_BENCH_COUNT", count.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the serving child starts");
        let mut line = String::new();
        BufReader::new(server.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the serving child prints the tenants' variables");
        let mut runs: Vec<Run> = (0..rounds)
            .map(|round| {
                // Each round's client starts with a fresh budget: the tenants' window must have
                // forgotten the previous round's calls, or they would answer 429.
                if round > 0 {
                    std::thread::sleep(PER + Duration::from_millis(500));
                }
                let output = Command::new(&me)
                    .env("TENANTS_BENCH_ROLE", "read")
                    .env("TENANTS_BENCH_VARS", line.trim())
                    .output()
                    .expect("the reading child runs");
                assert!(
                    output.status.success(),
                    "{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                serde_json::from_slice(&output.stdout).expect("the run's figures")
            })
            .collect();
        drop(server.stdin.take());
        // The tenants' own count of the 429s they answered, over every round.
        let served = server.wait_with_output().expect("the serving child ends");
        let throttled: u64 = String::from_utf8_lossy(&served.stderr)
            .lines()
            .find_map(|l| l.strip_prefix("throttled "))
            .and_then(|n| n.trim().parse().ok())
            .expect("the serving child says its 429s");
        runs.sort_by(|a, b| a.wall.total_cmp(&b.wall));
        let median = runs[runs.len() / 2];
        assert_eq!(median.failed, 0, "no tenant failed");
        let one = *base.get_or_insert(median);
        let per_tenant = if count > 1 {
            format!(
                "{:.2} MB",
                (median.peak_rss_mb - one.peak_rss_mb) / (count - 1) as f64
            )
        } else {
            "—".to_owned()
        };
        println!(
            "| {count} | {:.2} s | {:.3} | {throttled} | {:.1} MB | {per_tenant} |",
            median.wall,
            median.wall / one.wall,
            median.peak_rss_mb,
        );
    }
    println!();
}

/// The serving child: `TENANTS_BENCH_COUNT` demo tenants, their variables as one JSON line
/// (a list of name → variables), served until standard input closes; then it says on standard
/// error how many 429s the tenants answered.
fn serve() {
    let count: usize = std::env::var("TENANTS_BENCH_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let mut tenants = Vec::new();
        for i in 0..count {
            tenants.push(
                DemoTenant::builder()
                    .seed(100 + i as u64)
                    .devices(300)
                    .budget(CALLS, PER)
                    .start()
                    .await
                    .expect("a demo tenant starts"),
            );
        }
        let vars: Vec<Vec<(&str, String)>> = tenants.iter().map(|t| t.vars().to_vec()).collect();
        println!("{}", serde_json::to_string(&vars).expect("JSON"));
        let _ = std::io::stdout().flush();
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            let _ = std::io::stdin().read_line(&mut sink);
        })
        .await
        .expect("waits for standard input to close");
        let throttled: u64 = tenants.iter().map(DemoTenant::throttled).sum();
        eprintln!("throttled {throttled}");
    });
}

/// The reading child: every tenant's report at once, its figures as JSON.
fn read() {
    let vars: Vec<Vec<(String, String)>> =
        serde_json::from_str(&std::env::var("TENANTS_BENCH_VARS").expect("the tenants' variables"))
            .expect("the variables as JSON");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let started = Instant::now();
    let combined = runtime.block_on(async {
        let mut tenants = Tenants::new();
        for (i, vars) in vars.iter().enumerate() {
            let client = ClientBuilder::from_vars(|name| {
                vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            })
            .expect("the variables make a client")
            .rate_limit(RateLimit::new(CALLS, PER))
            .build()
            .expect("a client");
            tenants = tenants.with(format!("t{i}"), client).expect("unique names");
        }
        let count = tenants.len();
        tenants
            .report(
                count,
                |_| ReportOptions::new().source(SourceChoice::Calls),
                |_, _| {},
            )
            .await
    });
    let run = Run {
        wall: started.elapsed().as_secs_f64(),
        peak_rss_mb: peak_rss_mb(),
        kbs: combined.kbs.len(),
        failed: combined.failed().count(),
    };
    println!("{}", serde_json::to_string(&run).expect("JSON"));
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
