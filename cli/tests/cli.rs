//! The built `defender-tvm` binary, run as a user would: against `--demo`, or against a demo
//! tenant this test starts and points the binary at through the environment.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use defender_tvm::{Client, Report, ReportOptions};
use defender_tvm_demo::DemoTenant;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_defender-tvm");

/// The binary with no credentials in its environment.
fn command() -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_AUTHORITY_HOST",
        "DEFENDER_TVM_CLOUD",
        "DEFENDER_TVM_BASE_URL",
        "DEFENDER_TVM_BEARER_TOKEN",
        "RUST_LOG",
    ] {
        command.env_remove(name);
    }
    command.kill_on_drop(true);
    command
}

/// The binary signed in to `tenant` through the library's variables.
fn against(tenant: &DemoTenant, secret: &str) -> Command {
    let mut command = command();
    command
        .env("AZURE_TENANT_ID", tenant.tenant_id())
        .env("AZURE_CLIENT_ID", tenant.client_id())
        .env("AZURE_CLIENT_SECRET", secret)
        .env("AZURE_AUTHORITY_HOST", tenant.authority_host())
        .env("DEFENDER_TVM_BASE_URL", tenant.base_url());
    command
}

async fn run(command: &mut Command, args: &[&str]) -> Output {
    command.args(args).output().await.expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn without_time(mut report: Report) -> Report {
    report.generated_at = String::new();
    report
}

/// What the library reports for the default demo tenant.
async fn library_report() -> Report {
    let tenant = DemoTenant::start().await.unwrap();
    let client = Client::builder()
        .base_url(tenant.base_url())
        .authority_host(tenant.authority_host())
        .client_secret(
            tenant.tenant_id(),
            tenant.client_id(),
            tenant.client_secret(),
        )
        .build()
        .unwrap();
    client
        .plan_missing_kbs_report(ReportOptions::new())
        .await
        .unwrap()
        .finish()
        .await
        .unwrap()
}

#[tokio::test]
async fn report_json_is_the_librarys_report_and_stdout_holds_only_data() {
    let output = run(&mut command(), &["report", "--demo", "--format", "json"]).await;

    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Report =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(without_time(report), without_time(library_report().await));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("embedded demo tenant"), "{stderr}");
    assert!(stderr.contains("plan:"), "{stderr}");
    // Standard error is not a terminal here: the banner and the plan, no progress bar.
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
}

#[tokio::test]
async fn report_csv_and_ndjson_parse_back() {
    let expected = library_report().await;

    let csv_out = run(&mut command(), &["report", "--demo", "--format", "csv"]).await;
    assert!(csv_out.status.success());
    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "rank",
            "kb",
            "name",
            "devices",
            "devices_exact",
            "cves_addressed",
            "public_exploit",
            "products",
            "software_ids",
            "url"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), expected.kbs.len());
    for (record, kb) in records.iter().zip(&expected.kbs) {
        assert_eq!(&record[1], format!("KB{}", kb.id));
        assert_eq!(record[3].parse::<i64>().unwrap(), kb.devices);
    }

    let nd = run(&mut command(), &["report", "--demo", "--format", "ndjson"]).await;
    assert!(nd.status.success());
    let lines: Vec<serde_json::Value> = text(&nd.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON record a line"))
        .collect();
    let kbs = lines.iter().filter(|l| l["record"] == "kb").count();
    let rows = lines.iter().filter(|l| l["record"] == "row").count();
    assert_eq!((kbs, rows), (expected.kbs.len(), expected.rows.len()));
}

#[tokio::test]
async fn report_html_is_one_page_with_a_chart_and_escaped_values() {
    let dir = tempdir();
    let page = dir.join("report.html");
    let output = run(
        &mut command(),
        &[
            "report",
            "--demo",
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
        ],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty(), "data went to the file");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "a chart");
    assert!(html.contains("Missing KBs"), "a summary");
    assert!(!html.contains("<script"), "no script");
    assert!(
        !html.contains("http-equiv") && !html.contains("<link"),
        "no external assets"
    );
    // Names with markup characters are text: Office's product is shown, escaped where needed.
    assert!(html.contains("Microsoft 365 Apps"));
}

#[tokio::test]
async fn every_command_answers_on_the_demo_tenant() {
    let tenant_truth = DemoTenant::start().await.unwrap();
    let device = tenant_truth.truth().devices[0].id.clone();
    for args in [
        vec!["missing-kbs", "microsoft-_-windows_11"],
        vec!["machine-missing-kbs", device.as_str()],
        vec!["software", "list", "--vendor", "microsoft"],
        vec!["software", "list", "--top", "5"],
        vec!["software", "get", "notepad_plus_plus-_-notepad++"],
        vec!["software", "vulnerabilities", "google-_-chrome"],
        vec!["software", "machines", "microsoft-_-office"],
        vec![
            "software",
            "distributions",
            "microsoft-_-edge_chromium-based",
        ],
    ] {
        let mut all = vec!["--demo", "-q", "--format", "json"];
        all.extend(args.iter().copied());
        let output = run(&mut command(), &all).await;
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(
            json.as_array().is_some_and(|a| !a.is_empty()),
            "{args:?}: {json}"
        );
        assert!(output.stderr.is_empty(), "{args:?}: -q keeps stderr quiet");
    }
}

#[tokio::test]
async fn usage_errors_and_missing_credentials_exit_2() {
    let bad = run(&mut command(), &["report", "--no-such-flag"]).await;
    assert_eq!(bad.status.code(), Some(2));

    let missing = run(&mut command(), &["report"]).await;
    assert_eq!(missing.status.code(), Some(2));
    let stderr = text(&missing.stderr);
    for part in [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "--demo",
    ] {
        assert!(stderr.contains(part), "{stderr}");
    }
    assert!(missing.stdout.is_empty());

    let help = run(&mut command(), &["--help"]).await;
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("Exit codes"));
}

#[tokio::test]
async fn fail_on_missing_exits_3_and_a_partial_report_exits_4() {
    let missing = run(
        &mut command(),
        &["report", "--demo", "-q", "--fail-on-missing"],
    )
    .await;
    assert_eq!(missing.status.code(), Some(3));

    let tenant = DemoTenant::start().await.unwrap();
    tenant.faults().vanish("microsoft-_-windows_11");
    let partial = run(
        &mut against(&tenant, tenant.client_secret()),
        &["report", "-q", "--fail-on-missing", "--format", "json"],
    )
    .await;
    assert_eq!(partial.status.code(), Some(4), "{}", text(&partial.stderr));
    let report: Report = serde_json::from_slice(&partial.stdout).unwrap();
    assert!(report.partial);
    assert_eq!(report.failures[0].id, "microsoft-_-windows_11");
}

#[tokio::test]
async fn a_wrong_secret_exits_1_with_the_aadsts_code_and_without_the_secret() {
    let tenant = DemoTenant::start().await.unwrap();
    let secret = "wrong-secret-Zq9~do-not-print";
    let output = run(&mut against(&tenant, secret), &["report", "-v"]).await;

    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: ") || stderr.contains("\nerror: "),
        "{stderr}"
    );
    assert!(stderr.contains("AADSTS7000215"), "{stderr}");
    assert!(
        !stderr.contains(secret) && !text(&output.stdout).contains(secret),
        "{stderr}"
    );
    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), 0);
}

#[tokio::test]
async fn a_killed_run_resumes_from_its_checkpoint_without_asking_again() {
    let dir = tempdir();
    let checkpoint = dir.join("checkpoint.jsonl");
    let tenant = DemoTenant::start().await.unwrap();
    tenant.faults().slow(Duration::from_millis(100));
    let args = [
        "report",
        "-q",
        "--format",
        "json",
        "--concurrency",
        "1",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    let mut first = against(&tenant, tenant.client_secret())
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a few software are in the checkpoint.
    wait_for_lines(&checkpoint, 4).await;
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    tenant.faults().clear();
    let kept = checkpoint_lines(&checkpoint);
    assert!(kept >= 4, "{kept}");
    let asked_before = tenant.calls("get_missing_kbs_by_software_id");

    let second = run(&mut against(&tenant, tenant.client_secret()), &args).await;

    assert!(second.status.success(), "{}", text(&second.stderr));
    let report: Report = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(
        without_time(report.clone()),
        without_time(library_report().await)
    );
    let asked_after = tenant.calls("get_missing_kbs_by_software_id") - asked_before;
    assert_eq!(
        asked_after as usize,
        report.software_count - kept,
        "no finished software is asked again"
    );
}

#[tokio::test]
async fn ctrl_c_stops_promptly_with_130_and_leaves_a_consistent_checkpoint() {
    let dir = tempdir();
    let checkpoint = dir.join("checkpoint.jsonl");
    let tenant = DemoTenant::start().await.unwrap();
    tenant.faults().slow(Duration::from_millis(100));
    let args = [
        "report",
        "-q",
        "--concurrency",
        "1",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    let mut child = against(&tenant, tenant.client_secret())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_lines(&checkpoint, 2).await;
    let pid = child.id().unwrap().to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(interrupted.success());

    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("stops promptly")
        .unwrap();

    assert_eq!(status.code(), Some(130));
    let text = std::fs::read_to_string(&checkpoint).unwrap();
    let records: Vec<defender_tvm::SoftwareResult> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("every checkpoint line is whole"))
        .collect();
    assert!(records.len() >= 2);
    // The tenant counts calls on arrival: nothing arrives after the interrupt.
    let asked = tenant.calls("get_missing_kbs_by_software_id");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        tenant.calls("get_missing_kbs_by_software_id"),
        asked,
        "no call after the interrupt"
    );
}

/// The whole lines a checkpoint holds.
fn checkpoint_lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count())
        .unwrap_or(0)
}

/// Waits (at most 12 s) until the checkpoint holds `n` lines.
async fn wait_for_lines(path: &std::path::Path, n: usize) {
    for _ in 0..600 {
        if checkpoint_lines(path) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A fresh folder under the target directory.
fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "defender-tvm-cli-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
