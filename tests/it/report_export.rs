//! The estate report from one export snapshot, against the demo tenant: it gives the same KBs,
//! products, software and devices as the report from calls with devices, for a selection too
//! (a KB of a selected software keeps every device and product it reaches); its CVE ids, severity,
//! CVSS, exploitability, age and per-device counts equal those computed by hand from the
//! tenant's raw rows; it makes one export call and no per-software call; the automatic source
//! picks it when devices are asked for, and goes back to calls with one event when the export
//! is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use defender_tvm::report::SourceChoice;
use defender_tvm::{
    Client, RateLimit,
    report::{Report, ReportEvent, ReportOptions, Selection, Source},
};
use defender_tvm::{export::ExploitabilityLevel, types::Severity};
use defender_tvm_demo::DemoTenant;

use crate::common::demo_client;

async fn tenant() -> DemoTenant {
    DemoTenant::builder()
        .devices(120)
        .software(60)
        .rows_per_file(400)
        .unlimited()
        .start()
        .await
        .unwrap()
}

/// The report and the events of its run.
async fn run(client: &Client, options: ReportOptions) -> (Report, Vec<String>) {
    let plan = client.plan_missing_kbs_report(options).await.unwrap();
    let mut events = Vec::new();
    let report = plan
        .run(|event| match event {
            ReportEvent::ExportRefused { error } => events.push(format!("refused {error}")),
            ReportEvent::Export { .. } => events.push("export".to_owned()),
            _ => {}
        })
        .await
        .unwrap();
    (report, events)
}

/// Per KB: products, software ids, device ids.
type Reach = BTreeMap<String, (Vec<String>, Vec<String>, Vec<String>)>;

fn reach(report: &Report) -> Reach {
    report
        .kbs
        .iter()
        .map(|kb| {
            (
                kb.id.clone(),
                (
                    kb.products.clone(),
                    kb.software_ids.clone(),
                    kb.device_ids.clone().expect("devices are known"),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn both_sources_give_the_same_kbs_products_software_and_devices() {
    let tenant = tenant().await;
    let client = demo_client(&tenant);

    let (from_calls, _) = run(
        &client,
        ReportOptions::new()
            .source(SourceChoice::Calls)
            .devices(true),
    )
    .await;
    let calls_made = tenant.total_calls();
    let listings = tenant.calls("list_software");
    let missing_kbs_calls = tenant.calls("get_missing_kbs_by_software_id");
    let (from_export, events) =
        run(&client, ReportOptions::new().source(SourceChoice::Export)).await;

    assert!(from_calls.kbs.len() > 10, "{} KBs", from_calls.kbs.len());
    assert_eq!(reach(&from_export), reach(&from_calls));
    let devices = |report: &Report| -> BTreeMap<String, i64> {
        report
            .kbs
            .iter()
            .map(|kb| (kb.id.clone(), kb.devices))
            .collect()
    };
    assert_eq!(devices(&from_export), devices(&from_calls));
    assert!(from_export.kbs.iter().all(|kb| kb.devices_exact));
    let ranks: Vec<usize> = from_export.kbs.iter().map(|kb| kb.rank).collect();
    assert_eq!(ranks, (1..=from_export.kbs.len()).collect::<Vec<_>>());
    assert_eq!(from_export.software_count, from_calls.software_count);
    assert!(!from_export.partial);

    // Rows per (software, KB): the same pairs, with the devices of that software.
    let pairs = |report: &Report| -> BTreeMap<(String, String), i64> {
        report
            .rows
            .iter()
            .map(|r| ((r.software.id.clone(), r.kb_id.clone()), r.devices))
            .collect()
    };
    assert_eq!(pairs(&from_export), pairs(&from_calls));

    // The export: one listing of the software (the selection), one export call, no other.
    assert_eq!(from_export.source, Source::Export);
    assert_eq!(from_calls.source, Source::Calls);
    let export_calls = tenant.total_calls() - calls_made;
    assert_eq!(tenant.calls("export_software_vulnerabilities"), 1);
    assert_eq!(
        export_calls,
        1 + tenant.calls("list_software") - listings,
        "the export report called {export_calls} times"
    );
    assert_eq!(
        tenant.calls("get_missing_kbs_by_software_id"),
        missing_kbs_calls
    );
    assert!(events.iter().any(|e| e == "export"), "{events:?}");
    assert_eq!(tenant.file_requests_with_authorization(), 0);
}

/// What the raw rows say about one KB.
#[derive(Debug, Default, PartialEq)]
struct Detail {
    cve_ids: BTreeSet<String>,
    severity: Option<String>,
    cvss: Option<f64>,
    exploitability: Option<String>,
    first_seen: Option<i64>,
}

fn rank_of_severity(severity: &str) -> u8 {
    match severity {
        "Low" => 1,
        "Medium" => 2,
        "High" => 3,
        "Critical" => 4,
        other => panic!("the tenant wrote severity {other}"),
    }
}

fn rank_of_exploitability(level: &str) -> u8 {
    match level {
        "NoExploit" => 1,
        "ExploitIsPublic" => 2,
        "ExploitIsVerified" => 3,
        "ExploitIsInKit" => 4,
        other => panic!("the tenant wrote exploitability {other}"),
    }
}

#[tokio::test]
async fn each_kbs_cves_severity_exploitability_and_age_and_each_devices_count_are_the_raw_rows() {
    let tenant = tenant().await;
    let client = demo_client(&tenant);
    let (report, _) = run(&client, ReportOptions::new().source(SourceChoice::Export)).await;
    assert_eq!(
        report.data_as_of,
        Some(DateTime::<Utc>::from(tenant.snapshot_time()))
    );

    // By hand from the raw rows: only rows whose update is a KB number.
    let mut want: BTreeMap<String, Detail> = BTreeMap::new();
    let mut per_device: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in tenant.truth().vulnerability_rows() {
        // Rows without a CVE only say a software is installed: no KB, not in the report.
        let (Some(kb), Some(cve), Some(severity), Some(cvss)) = (
            row.recommended_security_update_id,
            row.cve_id,
            row.vulnerability_severity_level,
            row.cvss_score,
        ) else {
            continue;
        };
        let detail = want.entry(kb.to_owned()).or_default();
        detail.cve_ids.insert(cve.to_owned());
        if detail
            .severity
            .as_deref()
            .is_none_or(|s| rank_of_severity(s) < rank_of_severity(severity))
        {
            detail.severity = Some(severity.to_owned());
        }
        detail.cvss = Some(detail.cvss.map_or(cvss, |c| c.max(cvss)));
        let level = row.exploitability_level;
        if detail
            .exploitability
            .as_deref()
            .is_none_or(|l| rank_of_exploitability(l) < rank_of_exploitability(level))
        {
            detail.exploitability = Some(level.to_owned());
        }
        let seen = row.first_seen_timestamp.unix_seconds();
        detail.first_seen = Some(detail.first_seen.map_or(seen, |s| s.min(seen)));
        per_device
            .entry(row.device_id.to_owned())
            .or_default()
            .insert(kb.to_owned());
    }

    let got: BTreeMap<String, Detail> = report
        .kbs
        .iter()
        .map(|kb| {
            (
                kb.id.clone(),
                Detail {
                    cve_ids: kb.cve_ids.iter().cloned().collect(),
                    severity: kb.severity.as_ref().map(|s| s.as_str().to_owned()),
                    cvss: kb.cvss,
                    exploitability: kb.exploitability.as_ref().map(|l| l.as_str().to_owned()),
                    first_seen: kb.first_seen.map(|t| t.timestamp()),
                },
            )
        })
        .collect();
    assert_eq!(got, want);
    for kb in &report.kbs {
        assert_eq!(kb.cves_addressed as usize, kb.cve_ids.len(), "KB{}", kb.id);
        assert_eq!(
            kb.public_exploit,
            kb.exploitability
                .as_ref()
                .is_some_and(|l| *l > ExploitabilityLevel::NoExploit),
            "KB{}: public exploit is its worst CVE's",
            kb.id
        );
    }
    assert!(
        report
            .kbs
            .iter()
            .any(|kb| kb.severity == Some(Severity::Critical)),
        "the tenant has critical KBs"
    );

    // Per device: how many distinct KBs it misses, in the deploy plan's devices.
    let want_devices: BTreeMap<String, usize> = per_device
        .into_iter()
        .map(|(device, kbs)| (device, kbs.len()))
        .collect();
    let got_devices: BTreeMap<String, usize> = report
        .deploy
        .devices
        .iter()
        .map(|d| (d.device_id.clone(), d.missing))
        .collect();
    assert_eq!(got_devices, want_devices);
    let truth = tenant.truth();
    assert_eq!(report.device_names.len(), want_devices.len());
    for device in &report.deploy.devices {
        let index = truth.device_index(&device.device_id).unwrap();
        assert_eq!(
            device.device_name.as_deref(),
            Some(truth.devices[index].computer_dns_name.as_str())
        );
    }
}

#[tokio::test]
async fn a_selection_keeps_only_its_software() {
    let tenant = tenant().await;
    let client = demo_client(&tenant);
    let ids = vec![
        "microsoft-_-windows_11".to_owned(),
        "microsoft-_-office".to_owned(),
    ];
    let options = || ReportOptions::new().selection(Selection::Ids(ids.clone()));
    let (from_export, _) = run(&client, options().source(SourceChoice::Export)).await;
    let (from_calls, _) = run(&client, options().source(SourceChoice::Calls).devices(true)).await;
    assert_eq!(reach(&from_export), reach(&from_calls));
    let software: BTreeSet<&str> = from_export
        .kbs
        .iter()
        .flat_map(|kb| kb.software_ids.iter().map(String::as_str))
        .collect();
    assert!(!software.is_empty());
    assert!(
        software.iter().all(|s| ids.iter().any(|id| id == s)),
        "{software:?}"
    );
    assert!(
        from_export
            .rows
            .iter()
            .all(|row| ids.contains(&row.software.id)),
        "rows only for the selected software"
    );
    assert_eq!(from_export.rows.len(), from_calls.rows.len());
    // Per device, only the selection's KBs count: exactly the devices they reach.
    let reached: BTreeSet<&str> = from_export
        .kbs
        .iter()
        .flat_map(|kb| kb.device_ids.iter().flatten().map(String::as_str))
        .collect();
    let counted: BTreeSet<&str> = from_export
        .deploy
        .devices
        .iter()
        .map(|d| d.device_id.as_str())
        .collect();
    assert_eq!(counted, reached);
    assert!(from_export.deploy.devices.iter().all(|d| d.missing > 0));
    let named: BTreeSet<&str> = from_export
        .device_names
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        named, reached,
        "names of the devices the selection reaches only"
    );
}

#[tokio::test]
async fn auto_takes_the_export_for_devices_and_the_calls_for_a_few_software() {
    let tenant = tenant().await;
    let client = demo_client(&tenant);
    let plan = client
        .plan_missing_kbs_report(ReportOptions::new().devices(true))
        .await
        .unwrap();
    assert_eq!(plan.source(), Source::Export);
    let plan = client
        .plan_missing_kbs_report(ReportOptions::new())
        .await
        .unwrap();
    assert_eq!(
        plan.source(),
        Source::Calls,
        "{} calls take no time without a budget",
        plan.calls()
    );

    // Under a budget of 10 calls a minute, 60 calls take minutes; the export is one call.
    let budgeted = crate::common::signed_in_to(&tenant)
        .rate_limit(RateLimit::new(10, Duration::from_secs(60)))
        .build()
        .unwrap();
    let plan = budgeted
        .plan_missing_kbs_report(ReportOptions::new().selection(Selection::All))
        .await
        .unwrap();
    assert!(plan.calls() > 10, "{} calls", plan.calls());
    assert_eq!(plan.source(), Source::Export);
    // Under the service's budget (100 a minute), the same calls go at once: calls.
    let standard = crate::common::signed_in_to(&tenant).build().unwrap();
    let plan = standard
        .plan_missing_kbs_report(ReportOptions::new().selection(Selection::All))
        .await
        .unwrap();
    assert!(plan.calls() < 100, "{} calls", plan.calls());
    assert_eq!(plan.source(), Source::Calls);

    // Resuming calls already made stays with the calls.
    let mut resumed = Vec::new();
    client
        .plan_missing_kbs_report(ReportOptions::new().source(SourceChoice::Calls))
        .await
        .unwrap()
        .run(|event| {
            if let ReportEvent::SoftwareDone { result, .. } = event
                && resumed.is_empty()
            {
                resumed.push(result.clone());
            }
        })
        .await
        .unwrap();
    let plan = client
        .plan_missing_kbs_report(ReportOptions::new().devices(true).resume(resumed))
        .await
        .unwrap();
    assert_eq!(plan.source(), Source::Calls);
}

#[tokio::test]
async fn a_refused_export_goes_back_to_calls_with_one_event_naming_the_permission() {
    let tenant = tenant().await;
    let client = demo_client(&tenant);
    tenant.faults().deny("export_software_vulnerabilities");

    let (report, events) = run(&client, ReportOptions::new().devices(true)).await;
    assert_eq!(report.source, Source::Calls);
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0].contains("Vulnerability.Read.All"),
        "the event names the permission: {}",
        events[0]
    );
    let (expected, _) = run(
        &client,
        ReportOptions::new()
            .source(SourceChoice::Calls)
            .devices(true),
    )
    .await;
    assert_eq!(reach(&report), reach(&expected));

    // Asked for the export alone, the refusal is the run's error.
    let plan = client
        .plan_missing_kbs_report(ReportOptions::new().source(SourceChoice::Export))
        .await
        .unwrap();
    let error = plan.finish().await.unwrap_err();
    assert_eq!(error.status(), Some(defender_tvm::StatusCode::FORBIDDEN));
}

/// A hand-written export of one software: four KBs, their rows in KB order, which the priority
/// order is not.
#[tokio::test]
async fn the_kbs_from_the_export_come_in_the_priority_order() {
    let server = crate::exports::Storage::start().await;
    server.api.mock(|when, then| {
        when.path("/api/Software").query_param("$skip", "0");
        then.status(200).json_body(serde_json::json!({"value": [
            {"id": "microsoft-_-windows_11", "weaknesses": 8, "publicExploit": true},
        ]}));
    });
    server.api.mock(|when, then| {
        when.path("/api/Software");
        then.status(200).json_body(serde_json::json!({"value": []}));
    });
    server.export_answers(&[server.link("part-0.json.gz", "a")]);
    let row = |device: &str, cve: &str, kb: &str, exploit: &str| {
        serde_json::json!({
            "Id": format!("{device}_microsoft_windows_11_10.0.26100_{cve}"),
            "DeviceId": device,
            "SoftwareVendor": "microsoft",
            "SoftwareName": "windows_11",
            "CveId": cve,
            "RecommendedSecurityUpdate": format!("Update (KB{kb})"),
            "RecommendedSecurityUpdateId": kb,
            "ExploitabilityLevel": exploit,
        })
        .to_string()
    };
    let lines = [
        // KB5001: 1 CVE on 1 device.
        row("d1", "CVE-1", "5001", "NoExploit"),
        // KB5002: 2 CVEs on 3 devices (6).
        row("d1", "CVE-2a", "5002", "NoExploit"),
        row("d2", "CVE-2a", "5002", "NoExploit"),
        row("d3", "CVE-2b", "5002", "NoExploit"),
        // KB5003: 1 CVE on 1 device, with a public exploit.
        row("d2", "CVE-3", "5003", "ExploitIsPublic"),
        // KB5004: 2 CVEs on 3 devices (6, as KB5002).
        row("d4", "CVE-4a", "5004", "NoExploit"),
        row("d5", "CVE-4b", "5004", "NoExploit"),
        row("d6", "CVE-4a", "5004", "NoExploit"),
    ];
    server.serves("part-0.json.gz", "a", crate::exports::gzip(&lines));
    let client = crate::exports::client(&server.api);
    let options = || {
        ReportOptions::new()
            .source(SourceChoice::Export)
            .selection(Selection::Ids(vec!["microsoft-_-windows_11".to_owned()]))
    };
    let ids =
        |report: &Report| -> Vec<String> { report.kbs.iter().map(|kb| kb.id.clone()).collect() };

    let report = crate::common::report_of(&client, options()).await;

    // By hand: the exploit first; then 6 before 1 (CVEs × devices); 5002 and 5004 tie on 6,
    // then by id.
    assert_eq!(ids(&report), ["5003", "5002", "5004", "5001"]);
    let ranks: Vec<usize> = report.kbs.iter().map(|kb| kb.rank).collect();
    assert_eq!(ranks, [1, 2, 3, 4]);
    let figures: Vec<(i64, i64)> = report
        .kbs
        .iter()
        .map(|kb| (kb.cves_addressed, kb.devices))
        .collect();
    assert_eq!(figures, [(1, 1), (2, 3), (2, 3), (1, 1)]);

    // The order asked for, not the default one: by KB id, highest first.
    let report =
        crate::common::report_of(&client, options().priority(|a, b| b.id.cmp(&a.id))).await;
    assert_eq!(ids(&report), ["5004", "5003", "5002", "5001"]);
}
