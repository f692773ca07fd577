//! The built `defender-tvm` binary, run as a user would: against `--demo`, against a demo tenant
//! this test starts and points the binary at through the environment, or against a test server
//! for answers the demo tenant never gives. One binary, a module per concern.

mod completions;
mod credentials;
mod deploy;
mod export;
mod formats;
mod history;
mod hostile;
mod interrupt;
mod output;
mod report;
mod tenants;
mod terminal;
mod truth;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use defender_tvm::{
    Client, ClientBuilder,
    report::{Report, ReportOptions},
};
use defender_tvm_demo::DemoTenant;
use tokio::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_defender-tvm");

/// The variables the binary reads for credentials, colour and logs: removed from every run's
/// environment, then set as a test needs.
pub const READ: [&str; 10] = [
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_AUTHORITY_HOST",
    "DEFENDER_TVM_CLOUD",
    "DEFENDER_TVM_BASE_URL",
    "DEFENDER_TVM_BEARER_TOKEN",
    "RUST_LOG",
    "NO_COLOR",
    "DEFENDER_TVM_STORE",
];

/// The binary with no credentials (and no colour or log settings) in its environment.
pub fn command() -> Command {
    let mut command = Command::new(BIN);
    for name in READ {
        command.env_remove(name);
    }
    command.kill_on_drop(true);
    command
}

/// The binary signed in to `tenant` through the library's variables.
pub fn against(tenant: &DemoTenant, secret: &str) -> Command {
    let mut command = command();
    command
        .envs(tenant.vars())
        .env("AZURE_CLIENT_SECRET", secret);
    command
}

/// The binary given a bearer token for the API at `base_url`.
pub fn with_token(base_url: &str, token: &str) -> Command {
    let mut command = command();
    command
        .env("DEFENDER_TVM_BEARER_TOKEN", token)
        .env("DEFENDER_TVM_BASE_URL", base_url);
    command
}

pub async fn run(command: &mut Command, args: &[&str]) -> Output {
    command.args(args).output().await.expect("the binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn without_time(mut report: Report) -> Report {
    report.generated_at = chrono::DateTime::UNIX_EPOCH;
    report
}

/// A client of the library signed in to `tenant`.
pub fn library_client(tenant: &DemoTenant) -> Client {
    ClientBuilder::from_vars(|name| tenant.var(name))
        .unwrap()
        .build()
        .unwrap()
}

/// What the library reports for the default demo tenant.
pub async fn library_report() -> Report {
    let tenant = DemoTenant::start().await.unwrap();
    library_client(&tenant)
        .plan_missing_kbs_report(ReportOptions::new())
        .await
        .unwrap()
        .finish()
        .await
        .unwrap()
}

/// Waits (at most 12 s) until `done` holds.
pub async fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the condition never held");
}

/// The whole lines a checkpoint holds.
pub fn checkpoint_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count())
        .unwrap_or(0)
}

/// A fresh folder under the system's temporary folder.
pub fn tempdir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "defender-tvm-cli-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
