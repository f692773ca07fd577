//! Microsoft's documented example response of the vulnerabilities export (made valid JSON: see
//! `tests/corpus/README.md`) reads through the JSON pages and through a GZIP export file, rows
//! without a CVE included, every value as the example writes it; a row without its id or its
//! device id is not a row.

use defender_tvm::export::{ExploitabilityLevel, SoftwareVulnerability};
use defender_tvm::{
    Error,
    error::ExportErrorKind,
    export::{ExportPages, ExportRowsOptions},
    types::Severity,
};
use futures::TryStreamExt;
use httpmock::MockServer;
use serde_json::Value;

use crate::exports::{Storage, client, gzip, pascal};

const EXAMPLE: &str = include_str!("../corpus/exports/software_vulnerabilities_by_machine.json");

fn example_rows() -> Vec<Value> {
    let page: Value = serde_json::from_str(EXAMPLE).unwrap();
    page["value"].as_array().unwrap().clone()
}

/// What the example's rows say, written by hand from the file: (id suffix, CVE, severity,
/// CVSS, KB, update text, exploitability, disk paths).
fn assert_reads_as_the_example(rows: &[SoftwareVulnerability]) {
    assert_eq!(rows.len(), 4);
    let no_cve = [&rows[0], &rows[2]];
    for row in no_cve {
        assert!(row.id.ends_with("__"), "{}", row.id);
        assert_eq!(row.cve_id, None);
        assert_eq!(row.vulnerability_severity_level, None);
        assert_eq!(row.cvss_score, None);
        assert_eq!(row.recommended_security_update, None);
        assert_eq!(row.recommended_security_update_id, None);
        assert_eq!(row.recommended_security_update_url, None);
        assert_eq!(row.security_update_available, Some(false));
        assert_eq!(row.software_name.as_deref(), Some(".net_framework"));
        assert_eq!(row.software_version.as_deref(), Some("4.0.0.0"));
        assert!(row.disk_paths.is_empty() && row.registry_paths.is_empty());
    }
    assert_eq!(
        rows[0].device_id,
        "00044f612345bbe84f6b46a8dd4de8b2d6bf3e7f"
    );
    assert_eq!(
        rows[0]
            .first_seen_timestamp
            .map(|t| t.to_string())
            .as_deref(),
        Some("2020-12-30T11:07:15Z")
    );
    let kb = &rows[1];
    assert_eq!(kb.cve_id.as_deref(), Some("CVE-2020-16895"));
    assert_eq!(kb.cvss_score, Some(7.8));
    assert_eq!(kb.vulnerability_severity_level, Some(Severity::Critical));
    assert_eq!(
        kb.recommended_security_update_id.as_deref(),
        Some("4580390")
    );
    assert_eq!(
        kb.recommended_security_update.as_deref(),
        Some("October 2020 Security Updates")
    );
    assert_eq!(kb.software_vendor.as_deref(), Some("microsoft"));
    assert_eq!(kb.os_platform.as_deref(), Some("Windows10"));
    let chrome = &rows[3];
    assert_eq!(chrome.cvss_score, Some(8.8), "a CVSS score sent as text");
    assert_eq!(chrome.vulnerability_severity_level, Some(Severity::High));
    assert_eq!(
        chrome.exploitability_level,
        Some(ExploitabilityLevel::ExploitIsPublic)
    );
    assert_eq!(chrome.recommended_security_update_id, None);
    assert_eq!(chrome.disk_paths.len(), 1);
    assert!(chrome.disk_paths[0].ends_with("chrome.exe"));
    assert_eq!(chrome.registry_paths.len(), 1);
}

#[tokio::test]
async fn the_documented_example_reads_through_the_json_pages() {
    let api = MockServer::start_async().await;
    api.mock(|when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesByMachine");
        then.status(200)
            .header("content-type", "application/json")
            .body(EXAMPLE);
    });
    let rows = client(&api)
        .software_vulnerabilities_by_machine(ExportPages::new())
        .await
        .unwrap();
    assert_reads_as_the_example(&rows);
}

#[tokio::test]
async fn the_documented_example_reads_through_an_export_file_in_pascal_case() {
    let server = Storage::start().await;
    server.export_answers(&[server.link("part-0.json.gz", "a")]);
    let lines: Vec<String> = example_rows()
        .iter()
        .map(|row| pascal(row).to_string())
        .collect();
    server.serves("part-0.json.gz", "a", gzip(&lines));
    let rows: Vec<SoftwareVulnerability> = client(&server.api)
        .software_vulnerabilities_export_rows(ExportRowsOptions::new())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_reads_as_the_example(&rows);
}

#[tokio::test]
async fn a_row_without_its_id_or_device_id_is_a_malformed_line() {
    for missing in ["Id", "DeviceId"] {
        let server = Storage::start().await;
        server.export_answers(&[server.link("part-0.json.gz", "a")]);
        let mut lines: Vec<Value> = example_rows().iter().map(pascal).collect();
        lines[1].as_object_mut().unwrap().remove(missing);
        let lines: Vec<String> = lines.iter().map(Value::to_string).collect();
        server.serves("part-0.json.gz", "a", gzip(&lines));
        let error = client(&server.api)
            .software_vulnerabilities_export_rows(ExportRowsOptions::new())
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        let Error::Export(export) = &error else {
            panic!("not an export error: {error:?}");
        };
        assert_eq!(export.kind, ExportErrorKind::MalformedLine, "{missing}");
        assert_eq!(export.line, Some(2), "{missing}");
    }
}

#[tokio::test]
async fn a_row_with_only_its_id_and_device_id_is_a_row() {
    let row: SoftwareVulnerability =
        serde_json::from_str(r#"{"id":"d_v_n_1__","deviceId":"d","somethingNew":1}"#).unwrap();
    assert_eq!(row.device_id, "d");
    assert_eq!(row.software_vendor, None);
    assert_eq!(row.cve_id, None);
    let change: defender_tvm::export::SoftwareVulnerabilityChange =
        serde_json::from_str(r#"{"Id":"d_v_n_1__","DeviceId":"d"}"#).unwrap();
    assert_eq!(change.status, None);
    let inventory: defender_tvm::export::SoftwareInventory =
        serde_json::from_str(r#"{"Id":"d_v_n_1","DeviceId":"d","SoftwareName":null}"#).unwrap();
    assert_eq!(inventory.software_name, None);
}
