//! `export`: every row of the snapshot in each format and each way of reading it, the inventory
//! and the changes, what it says on standard error, its refusals before connecting; and
//! `report --source`: the library's report from the export, the fallback to calls when the
//! export is refused.

use std::collections::BTreeMap;
use std::time::Duration;

use defender_tvm::report::{Report, ReportOptions, Source, SourceChoice};
use defender_tvm_demo::DemoTenant;
use serde_json::Value;

use crate::{against, command, library_client, run, text, without_time};

/// A tenant whose export spans several files.
async fn tenant() -> DemoTenant {
    DemoTenant::builder()
        .devices(80)
        .software(50)
        .rows_per_file(500)
        .unlimited()
        .start()
        .await
        .unwrap()
}

/// A vulnerability row as comparable text: device, software, version, CVE, KB.
type Key = (String, String, String, String, String);

fn truth(tenant: &DemoTenant) -> BTreeMap<Key, usize> {
    let mut all = BTreeMap::new();
    for row in tenant.truth().vulnerability_rows() {
        let key = (
            row.device_id.to_owned(),
            row.software_name.to_owned(),
            row.software_version.to_owned(),
            row.cve_id.unwrap_or_default().to_owned(),
            row.recommended_security_update_id
                .unwrap_or_default()
                .to_owned(),
        );
        *all.entry(key).or_insert(0) += 1;
    }
    all
}

fn keyed_json(rows: &[Value]) -> BTreeMap<Key, usize> {
    let mut all = BTreeMap::new();
    for row in rows {
        let field = |name: &str| row[name].as_str().unwrap_or_default().to_owned();
        let key = (
            field("deviceId"),
            field("softwareName"),
            field("softwareVersion"),
            field("cveId"),
            field("recommendedSecurityUpdateId"),
        );
        *all.entry(key).or_insert(0) += 1;
    }
    all
}

fn keyed_csv(text: &str) -> (Vec<String>, BTreeMap<Key, usize>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let columns = [
        at("device_id"),
        at("software_name"),
        at("software_version"),
        at("cve_id"),
        at("recommended_security_update_id"),
    ];
    let mut all = BTreeMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        let key = (
            record[columns[0]].to_owned(),
            record[columns[1]].to_owned(),
            record[columns[2]].to_owned(),
            record[columns[3]].to_owned(),
            record[columns[4]].to_owned(),
        );
        *all.entry(key).or_insert(0) += 1;
    }
    (header, all)
}

fn ndjson(bytes: &[u8]) -> Vec<Value> {
    text(bytes)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON record a line"))
        .collect()
}

#[tokio::test]
async fn export_writes_every_row_once_in_each_format_and_each_way_of_reading() {
    let tenant = tenant().await;
    let want = truth(&tenant);
    let secret = tenant.client_secret();

    let files = run(&mut against(&tenant, secret), &["export"]).await;
    assert!(files.status.success(), "{}", text(&files.stderr));
    let rows = ndjson(&files.stdout);
    assert_eq!(keyed_json(&rows), want, "ndjson via files");
    let stderr = text(&files.stderr);
    let file_count = want.values().sum::<usize>().div_ceil(500);
    assert!(
        stderr.contains(&format!(
            "export: the software vulnerabilities snapshot of {} ({file_count} files)",
            chrono::DateTime::<chrono::Utc>::from(tenant.snapshot_time())
        )),
        "{stderr}"
    );
    // The rows without a CVE (software installed, nothing open) pass through, `null` in JSON,
    // and the summary counts them.
    let without_cve = tenant
        .truth()
        .vulnerability_rows()
        .filter(|row| row.cve_id.is_none())
        .count();
    assert!(without_cve > 0, "the demo tenant serves rows without a CVE");
    let nulls: Vec<&Value> = rows.iter().filter(|row| row["cveId"].is_null()).collect();
    assert_eq!(nulls.len(), without_cve);
    assert!(nulls.iter().all(|row| {
        row["id"].as_str().unwrap().ends_with("__")
            && row["vulnerabilitySeverityLevel"].is_null()
            && row["recommendedSecurityUpdateId"].is_null()
    }));
    assert!(
        stderr.contains(&format!(
            "export: {} rows, {without_cve} of them software without a vulnerability (no CVE)",
            rows.len()
        )),
        "{stderr}"
    );

    let pages = run(&mut against(&tenant, secret), &["export", "--via", "json"]).await;
    assert!(pages.status.success(), "{}", text(&pages.stderr));
    assert_eq!(keyed_json(&ndjson(&pages.stdout)), want, "ndjson via pages");

    let csv = run(
        &mut against(&tenant, secret),
        &["export", "--format", "csv"],
    )
    .await;
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let (header, rows) = keyed_csv(&text(&csv.stdout));
    assert_eq!(rows, want, "csv");
    assert_eq!(
        header,
        [
            "device_id",
            "device_name",
            "rbac_group_name",
            "os_platform",
            "os_version",
            "software_vendor",
            "software_name",
            "software_version",
            "cve_id",
            "cvss_score",
            "severity",
            "exploitability_level",
            "recommended_security_update_id",
            "recommended_security_update",
            "first_seen",
            "last_seen"
        ]
    );

    let json = run(
        &mut against(&tenant, secret),
        &["export", "-q", "--format", "json", "--concurrency", "2"],
    )
    .await;
    assert!(json.status.success(), "{}", text(&json.stderr));
    let document: Value = serde_json::from_slice(&json.stdout).expect("one JSON document");
    assert_eq!(
        keyed_json(document.as_array().unwrap()),
        want,
        "json via files"
    );
    assert_eq!(text(&json.stderr), "", "-q: nothing for a person");
    assert_eq!(tenant.file_requests_with_authorization(), 0);
}

#[tokio::test]
async fn export_reads_the_inventory_and_the_changes() {
    let tenant = tenant().await;
    let secret = tenant.client_secret();

    let inventory = run(
        &mut against(&tenant, secret),
        &["export", "--inventory", "-q"],
    )
    .await;
    assert!(inventory.status.success(), "{}", text(&inventory.stderr));
    let mut got: Vec<String> = ndjson(&inventory.stdout)
        .iter()
        .map(|row| row["id"].as_str().unwrap().to_owned())
        .collect();
    let mut want: Vec<String> = tenant.truth().inventory_rows().map(|r| r.id).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    let since = tenant.snapshot_time() - Duration::from_secs(2 * 24 * 3600);
    let since_text = chrono::DateTime::<chrono::Utc>::from(since)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let changes = run(
        &mut against(&tenant, secret),
        &["export", "--changes-since", &since_text, "--format", "csv"],
    )
    .await;
    assert!(changes.status.success(), "{}", text(&changes.stderr));
    let mut reader = csv::Reader::from_reader(changes.stdout.as_slice());
    let header = reader.headers().unwrap().clone();
    let last: Vec<&str> = header.iter().skip(header.len() - 2).collect();
    assert_eq!(last, ["status", "event_time"]);
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for record in reader.records() {
        *got.entry(record.unwrap()[header.len() - 2].to_owned())
            .or_insert(0) += 1;
    }
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for change in tenant.truth().changes(since) {
        *want.entry(change.status.as_str().to_owned()).or_insert(0) += 1;
    }
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[tokio::test]
async fn file_faults_change_nothing_in_the_output() {
    let tenant = tenant().await;
    let want = truth(&tenant);
    tenant.faults().cut_file_next(1);
    tenant.faults().empty_file_next(1);

    let output = run(
        &mut against(&tenant, tenant.client_secret()),
        &["export", "--concurrency", "1"],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(keyed_json(&ndjson(&output.stdout)), want);
}

#[tokio::test]
async fn export_refuses_what_it_cannot_do_before_connecting() {
    // A time the changes export takes: only the pairing with `--via files` is wrong.
    let yesterday = (chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        - chrono::Duration::days(1))
    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (args, says) in [
        (
            vec!["export", "--demo", "--format", "table"],
            "export writes ndjson, csv or json",
        ),
        (
            vec!["export", "--demo", "--format", "html"],
            "export writes ndjson, csv or json",
        ),
        (
            vec![
                "export",
                "--demo",
                "--via",
                "files",
                "--changes-since",
                &yesterday,
            ],
            "--changes-since reads JSON pages only",
        ),
        (
            vec!["export", "--demo", "--changes-since", "yesterday"],
            "not an RFC 3339 time",
        ),
        (
            vec![
                "export",
                "--demo",
                "--changes-since",
                "2020-01-01T00:00:00Z",
            ],
            "more than 14 days back",
        ),
        (
            vec![
                "export",
                "--demo",
                "--changes-since",
                "2999-01-01T00:00:00Z",
            ],
            "is in the future",
        ),
        (
            vec![
                "export",
                "--demo",
                "--inventory",
                "--changes-since",
                &yesterday,
            ],
            "cannot be used with",
        ),
    ] {
        let output = run(&mut command(), &args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("embedded demo tenant"),
            "{args:?} refused before connecting: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn a_change_feed_older_than_14_days_is_refused_before_sending() {
    let tenant = tenant().await;
    let output = run(
        &mut against(&tenant, tenant.client_secret()),
        &["export", "--changes-since", "2020-01-01T00:00:00Z"],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("more than 14 days back"), "{stderr}");
    assert_eq!(
        tenant.calls("list_software_vulnerability_changes_by_machine"),
        0
    );
}

#[tokio::test]
async fn report_source_export_is_the_librarys_report_from_the_export() {
    let tenant = tenant().await;
    let output = run(
        &mut against(&tenant, tenant.client_secret()),
        &["report", "--source", "export", "--format", "json"],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Report = serde_json::from_slice(&output.stdout).unwrap();
    let expected = library_client(&tenant)
        .plan_missing_kbs_report(ReportOptions::new().source(SourceChoice::Export))
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    assert_eq!(report.source, Source::Export);
    assert!(report.data_as_of.is_some());
    assert_eq!(without_time(report), without_time(expected));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("the export snapshot of"),
        "says where the data comes from: {stderr}"
    );

    // The CSV of the report carries the export's columns.
    let csv = run(
        &mut against(&tenant, tenant.client_secret()),
        &["report", "-q", "--source", "export", "--format", "csv"],
    )
    .await;
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
    let header = reader.headers().unwrap().clone();
    for column in [
        "cve_ids",
        "severity",
        "cvss",
        "exploitability",
        "first_seen",
    ] {
        assert!(header.iter().any(|h| h == column), "{column}: {header:?}");
    }
}

#[tokio::test]
async fn a_refused_export_is_one_warning_naming_the_permission_and_the_report_comes_from_calls() {
    let tenant = tenant().await;
    tenant.faults().deny("export_software_vulnerabilities");
    let output = run(
        &mut against(&tenant, tenant.client_secret()),
        &["report", "--devices", "--format", "json"],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Report = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report.source, Source::Calls);
    let stderr = text(&output.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("Vulnerability.Read.All"), "{stderr}");

    // Asked for the export alone, the refusal is the run's error.
    let output = run(
        &mut against(&tenant, tenant.client_secret()),
        &["report", "--source", "export"],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("Vulnerability.Read.All"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn a_via_files_read_at_trace_level_shows_no_link_nor_signature_even_when_renewing() {
    let tenant = tenant().await;
    let secret = tenant.client_secret();
    // The first download meets an expired link, a cut body and an empty 200: the warnings of a
    // renewal and of downloads made again are traced, as is everything reqwest and hyper say.
    tenant.faults().cut_file_next(1);
    tenant.faults().empty_file_next(1);
    tenant.faults().expire_file_next(1);
    let out = run(
        against(&tenant, secret).env("RUST_LOG", "trace"),
        &["-vv", "export", "--concurrency", "1"],
    )
    .await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let again: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("downloading an export file again"))
        .collect();
    assert_eq!(
        again.len(),
        3,
        "a cut body, an empty 200, an expired link: {again:?}"
    );
    assert!(again.iter().any(|l| l.contains("renew=true")), "{again:?}");
    assert!(stderr.contains("TRACE"), "trace level: {stderr}");
    assert_eq!(
        tenant.calls("export_software_vulnerabilities"),
        2,
        "renewed once"
    );
    for leak in ["sig=", "sig%3D", tenant.files_base_url(), secret] {
        assert!(!stderr.contains(leak), "{leak:?} in the trace");
    }
    let rows = ndjson(&out.stdout);
    assert_eq!(keyed_json(&rows), truth(&tenant), "every row once");
}
