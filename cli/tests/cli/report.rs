//! `report`: its output is the library's report, its flags choose what it asks, every line meant
//! for a person reaches standard error (a terminal or not), and its exit codes.

use std::collections::BTreeSet;

use defender_tvm::{
    report::{Report, ReportOptions, Selection},
    types::{SoftwareField, SoftwareFilter},
};
use defender_tvm_demo::DemoTenant;

use crate::{against, command, library_client, library_report, run, tempdir, text, without_time};

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
async fn the_default_output_is_a_table_of_every_kb_in_priority_order_with_a_footer() {
    let expected = library_report().await;

    let output = run(&mut command(), &["report", "--demo"]).await;

    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "rank",
            "kb",
            "name",
            "devices",
            "cves_addressed",
            "public_exploit",
            "products",
            "covered_by"
        ]
    );
    let rows: Vec<&str> = lines.by_ref().take(expected.kbs.len()).collect();
    for (row, kb) in rows.iter().zip(&expected.kbs) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[0], kb.rank.to_string(), "{row}");
        assert_eq!(cells[1], format!("KB{}", kb.id), "{row}");
        assert!(row.contains(kb.name.as_deref().unwrap()), "{row}");
    }
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "{} missing KBs across {} software; {} to deploy (newest Windows cumulative \
                 updates only)",
                expected.kbs.len(),
                expected.software_count,
                expected.deploy.steps.len()
            )
            .as_str()
        )
    );
    assert_eq!(lines.next(), None);
}

/// A demo tenant for many runs: the default estate without the service's budget (each run's
/// client keeps to its own rate limit).
async fn unlimited() -> DemoTenant {
    DemoTenant::builder().unlimited().start().await.unwrap()
}

/// A demo tenant where `microsoft-_-windows_11` vanished and every KB's device listing is
/// refused (403): a report with `--devices` is partial on both counts.
async fn tenant_with_failures() -> DemoTenant {
    let tenant = unlimited().await;
    tenant.faults().vanish("microsoft-_-windows_11");
    tenant.faults().deny("list_machines_vulnerabilities");
    tenant
}

#[tokio::test]
async fn every_line_for_a_person_reaches_standard_error_redirected_to_a_file() {
    let tenant = tenant_with_failures().await;
    let dir = tempdir();
    let log = dir.join("run.log");

    // As `report --devices 2>run.log` in a cron job: standard error is a file, no -q.
    let data = dir.join("report.json");
    let status = against(&tenant, tenant.client_secret())
        .args([
            "report",
            "--source",
            "calls",
            "--devices",
            "--format",
            "json",
        ])
        .stdout(std::fs::File::create(&data).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .status()
        .await
        .unwrap();

    assert_eq!(status.code(), Some(4));
    let report: Report = serde_json::from_slice(&std::fs::read(&data).unwrap()).unwrap();
    let kbs = report.kbs.len();
    let stderr = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].starts_with("plan: 150 software listed, 63 selected"),
        "{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("plan: {kbs} device listings, at least "))),
        "{stderr}"
    );
    assert!(
        lines.iter().any(
            |l| l.starts_with("warning: microsoft-_-windows_11 failed: ") && l.contains("404")
        ),
        "{stderr}"
    );
    let listing_warnings = lines
        .iter()
        .filter(|l| l.starts_with("warning: ") && l.contains("403"))
        .count();
    assert_eq!(
        listing_warnings, kbs,
        "one warning per refused listing: {stderr}"
    );
    assert!(
        lines.last().unwrap().starts_with(&format!(
            "warning: partial report: 1 of 63 software failed (microsoft-_-windows_11), and \
             the device listings of {kbs} KBs failed (KB"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "no terminal codes in a file");
}

#[tokio::test]
async fn a_partial_report_ends_with_one_line_on_standard_error_in_every_format() {
    let tenant = unlimited().await;
    tenant.faults().vanish("microsoft-_-windows_11");
    tenant.faults().vanish("microsoft-_-office");
    for format in ["table", "json", "ndjson", "csv", "html"] {
        let output = run(
            &mut against(&tenant, tenant.client_secret()),
            &["report", "--format", format],
        )
        .await;

        assert_eq!(output.status.code(), Some(4), "{format}");
        let stderr = text(&output.stderr);
        assert_eq!(
            stderr.lines().last(),
            Some(
                "warning: partial report: 2 of 63 software failed (microsoft-_-office, \
                 microsoft-_-windows_11); what they hold is missing from it"
            ),
            "{format}: {stderr}"
        );
        let quiet = run(
            &mut against(&tenant, tenant.client_secret()),
            &["report", "-q", "--format", format],
        )
        .await;
        assert_eq!(quiet.status.code(), Some(4), "{format}");
        assert!(
            quiet.stderr.is_empty(),
            "{format}: -q: {}",
            text(&quiet.stderr)
        );
    }
}

#[tokio::test]
async fn fail_on_missing_exits_3_and_a_partial_report_exits_4_with_its_failures_in_every_record_format()
 {
    let missing = run(
        &mut command(),
        &["report", "--demo", "-q", "--fail-on-missing"],
    )
    .await;
    assert_eq!(missing.status.code(), Some(3));

    let tenant = unlimited().await;
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

    let ndjson = run(
        &mut against(&tenant, tenant.client_secret()),
        &["report", "-q", "--format", "ndjson"],
    )
    .await;
    assert_eq!(ndjson.status.code(), Some(4));
    let failures: Vec<serde_json::Value> = text(&ndjson.stdout)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|record| record["record"] == "failure")
        .collect();
    assert_eq!(failures.len(), 1, "{}", text(&ndjson.stdout));
    assert_eq!(failures[0]["id"], "microsoft-_-windows_11");
    assert_eq!(failures[0]["operation"], "get_missing_kbs_by_software_id");
    assert_eq!(failures[0]["status"], 404);
    assert_eq!(failures[0]["code"], "ResourceNotFound");
}

/// The JSON report of the binary run on `tenant` with `flags`.
async fn report_of(tenant: &DemoTenant, flags: &[&str]) -> Report {
    let mut args = vec!["report", "-q", "--format", "json"];
    args.extend(flags);
    let output = run(&mut against(tenant, tenant.client_secret()), &args).await;
    assert!(
        output.status.success(),
        "{flags:?}: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn the_selection_flags_choose_the_software_the_report_asks_about() {
    // 60 software: every one of them fits the client's budget of 100 calls a minute.
    let tenant = DemoTenant::builder()
        .software(60)
        .unlimited()
        .start()
        .await
        .unwrap();
    let truth = tenant.truth();
    let vulnerable = truth
        .summaries()
        .iter()
        .filter(|s| s.weaknesses > 0)
        .count();

    let by_vendor = report_of(&tenant, &["--vendor", "google", "--vendor", "mozilla"]).await;
    let expected = library_client(&tenant)
        .plan_missing_kbs_report(
            ReportOptions::new().selection(Selection::Filter(
                SoftwareFilter::eq(SoftwareField::Vendor, "google")
                    .or(SoftwareFilter::eq(SoftwareField::Vendor, "mozilla")),
            )),
        )
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    assert_eq!(by_vendor.software_count, 2);
    assert_eq!(without_time(by_vendor), without_time(expected));

    let ids = ["microsoft-_-office", "microsoft-_-edge_chromium-based"];
    let by_id = report_of(&tenant, &["--software", ids[0], "--software", ids[1]]).await;
    assert_eq!(by_id.software_count, 2);
    let asked: BTreeSet<&str> = by_id.rows.iter().map(|r| r.software.id.as_str()).collect();
    assert_eq!(asked, ids.into_iter().collect());

    let all = report_of(&tenant, &["--all-software"]).await;
    assert_eq!(all.software_count, 60);
    let default = report_of(&tenant, &[]).await;
    assert_eq!(default.software_count, vulnerable);
    assert!(vulnerable < 60);

    let exact = report_of(&tenant, &["--source", "calls", "--devices"]).await;
    assert!(!default.kbs.iter().any(|kb| kb.devices_exact));
    assert!(
        exact
            .kbs
            .iter()
            .all(|kb| kb.devices_exact && kb.device_ids.is_some()),
        "--devices lists every KB's devices"
    );
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
async fn fail_on_missing_exits_0_when_nothing_is_missing() {
    // Chrome's updates are not KBs: nothing is missing.
    let output = run(
        &mut command(),
        &[
            "report",
            "--demo",
            "-q",
            "--software",
            "google-_-chrome",
            "--fail-on-missing",
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("0 missing KBs across 1 software"));
}

#[tokio::test]
async fn the_plan_says_what_will_be_called_and_quiet_says_nothing() {
    let output = run(&mut command(), &["report", "--demo", "--format", "json"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(
        stderr.lines().nth(1),
        Some(
            "plan: 150 software listed, 63 selected, 0 resumed from the checkpoint; source: \
             calls, 63 getmissingkbs calls, at least 0 s under the rate limit"
        ),
        "{stderr}"
    );

    let quiet = run(
        &mut command(),
        &["report", "--demo", "-q", "--format", "json"],
    )
    .await;
    assert!(quiet.status.success());
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
    assert!(!quiet.stdout.is_empty());
}
