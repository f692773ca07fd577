//! The export assessment APIs on hand-written answers: rows in both casings and the service's
//! timestamp text decode to one type; JSON pages follow next links; each kind of call waits on its
//! own budget only; the via-files export streams GZIP lines, sends no token to storage, renews
//! expired links and goes on without losing or repeating a row, and names the file and line
//! (never the link) when a file is cut or a line is not a row.

use std::io::Write;
use std::time::Duration;

use defender_tvm::export::{
    ChangeStatus, ChangesSince, ExploitabilityLevel, SoftwareVulnerability,
};
use defender_tvm::{
    Client, Error, RateLimit, RetryPolicy,
    error::ExportErrorKind,
    export::{ExportPages, ExportRowsOptions},
    types::Severity,
};
use futures::TryStreamExt;
use httpmock::MockServer;
use serde_json::{Value, json};

use crate::common::TOKEN;

pub(crate) fn client(api: &MockServer) -> Client {
    Client::builder()
        .base_url(api.base_url())
        .bearer_token(TOKEN)
        .retry(
            RetryPolicy::default()
                .max_attempts(2)
                .initial_backoff(Duration::from_millis(1)),
        )
        .rate_limit(RateLimit::disabled())
        .json_export_rate_limit(RateLimit::disabled())
        .file_export_rate_limit(RateLimit::disabled())
        .build()
        .unwrap()
}

/// A row as the JSON pages send it (camelCase).
fn camel_row(device: &str, cve: &str, kb: Option<&str>) -> Value {
    json!({
        "id": format!("{device}_microsoft_windows_11_10.0.26100_{cve}"),
        "deviceId": device,
        "deviceName": "ws-fin-0001.contoso.com",
        "rbacGroupName": "Finance",
        "rbacGroupId": 4400,
        "osPlatform": "Windows11",
        "osVersion": "10.0.26100",
        "osArchitecture": "x64",
        "softwareVendor": "microsoft",
        "softwareName": "windows_11",
        "softwareVersion": "10.0.26100.2033",
        "cveId": cve,
        "cvssScore": 8.8,
        "vulnerabilitySeverityLevel": "High",
        "recommendedSecurityUpdate": kb.map(|kb| format!("2025-10 Cumulative Update (KB{kb})")),
        "recommendedSecurityUpdateId": kb,
        "recommendedSecurityUpdateUrl": null,
        "securityUpdateAvailable": kb.is_some(),
        "exploitabilityLevel": "ExploitIsPublic",
        "firstSeenTimestamp": "2020-11-03 10:13:34.8476880",
        "lastSeenTimestamp": "2025-10-06 10:43:58",
        "diskPaths": ["C:\\Windows\\System32\\ntoskrnl.exe"],
        "registryPaths": null,
        "recommendationReference": "va-_-microsoft-_-windows_11",
        "cveBatchTitle": "2025-10 Security Updates",
        "endOfSupportStatus": "EOS Version",
        "endOfSupportDate": "2026-10-13 00:00:00",
        "somethingNew": {"nested": true}
    })
}

/// The same row with PascalCase keys, as the files send it.
pub(crate) fn pascal(row: &Value) -> Value {
    let Value::Object(map) = row else {
        panic!("a row is an object")
    };
    Value::Object(
        map.iter()
            .map(|(key, value)| {
                let mut chars = key.chars();
                let first = chars.next().unwrap().to_ascii_uppercase();
                (std::iter::once(first).chain(chars).collect(), value.clone())
            })
            .collect(),
    )
}

/// `lines` as a GZIP file body.
pub(crate) fn gzip(lines: &[String]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for line in lines {
        encoder.write_all(line.as_bytes()).unwrap();
        encoder.write_all(b"\n").unwrap();
    }
    encoder.finish().unwrap()
}

#[tokio::test]
async fn json_pages_decode_what_the_service_sends_and_follow_next_links() {
    let api = MockServer::start_async().await;
    let second = format!(
        "{}/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=2&$skiptoken=2",
        api.base_url()
    );
    let linux = json!({
        "id": "dev-linux_red_hat_openssl_3.0.7_TVM-0001-00000000",
        "deviceId": "dev-linux",
        "softwareVendor": "red_hat",
        "softwareName": "openssl",
        "cveId": "TVM-0001-00000000",
        "recommendedSecurityUpdateId": "RHSA-2024:9315",
        "exploitabilityLevel": "ExploitIsRumoured",
        "vulnerabilitySeverityLevel": "Severe",
        "firstSeenTimestamp": "2025-10-06T10:43:58Z"
    });
    let first = api.mock(|when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesByMachine")
            .query_param("pageSize", "2")
            .query_param_missing("$skiptoken");
        then.status(200).json_body(json!({
            "value": [camel_row("dev-1", "CVE-2025-1", Some("5044284")), linux],
            "@odata.nextLink": second,
        }));
    });
    let last = api.mock(|when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesByMachine")
            .query_param("$skiptoken", "2");
        then.status(200)
            .json_body(json!({"value": [camel_row("dev-2", "CVE-2025-2", None)]}));
    });

    let rows: Vec<SoftwareVulnerability> = client(&api)
        .software_vulnerabilities_by_machine(ExportPages::new().page_size(2))
        .await
        .unwrap();

    first.assert_calls(1);
    last.assert_calls(1);
    assert_eq!(rows.len(), 3);
    let windows = &rows[0];
    assert_eq!(windows.device_id, "dev-1");
    assert_eq!(
        windows.recommended_security_update_id.as_deref(),
        Some("5044284")
    );
    assert_eq!(windows.vulnerability_severity_level, Some(Severity::High));
    assert_eq!(
        windows.exploitability_level,
        Some(ExploitabilityLevel::ExploitIsPublic)
    );
    assert_eq!(windows.cvss_score, Some(8.8));
    assert_eq!(
        windows.first_seen_timestamp.unwrap().to_string(),
        "2020-11-03T10:13:34.847688Z"
    );
    assert_eq!(
        windows.last_seen_timestamp.unwrap().to_string(),
        "2025-10-06T10:43:58Z"
    );
    assert!(windows.registry_paths.is_empty(), "null reads as empty");
    let linux = &rows[1];
    assert_eq!(linux.cve_id.as_deref(), Some("TVM-0001-00000000"));
    assert_eq!(
        linux.recommended_security_update_id.as_deref(),
        Some("RHSA-2024:9315")
    );
    assert_eq!(
        linux.exploitability_level,
        Some(ExploitabilityLevel::Other("ExploitIsRumoured".into()))
    );
    assert_eq!(linux.device_name, None);
    assert_eq!(rows[2].recommended_security_update_id, None);
}

#[tokio::test]
async fn a_row_reads_the_same_from_either_casing() {
    let row = camel_row("dev-1", "CVE-2025-1", Some("5044284"));
    let from_page: SoftwareVulnerability = serde_json::from_value(row.clone()).unwrap();
    let from_file: SoftwareVulnerability = serde_json::from_value(pascal(&row)).unwrap();
    assert_eq!(from_page, from_file);
    // A row without a required column is an error that names it.
    let mut missing = row;
    missing.as_object_mut().unwrap().remove("deviceId");
    let err = serde_json::from_value::<SoftwareVulnerability>(missing).unwrap_err();
    assert!(err.to_string().contains("deviceId"), "{err}");
}

/// Every field of an inventory row, as plain values (from the library's row, or written by hand
/// or from the demo tenant's truth).
#[derive(Debug, PartialEq)]
pub(crate) struct Inventory {
    pub(crate) id: String,
    pub(crate) device_id: String,
    pub(crate) device_name: Option<String>,
    pub(crate) rbac_group_name: Option<String>,
    pub(crate) rbac_group_id: Option<i64>,
    pub(crate) os_platform: Option<String>,
    pub(crate) os_version: Option<String>,
    pub(crate) os_architecture: Option<String>,
    pub(crate) software_vendor: Option<String>,
    pub(crate) software_name: Option<String>,
    pub(crate) software_version: Option<String>,
    pub(crate) number_of_weaknesses: Option<i64>,
    pub(crate) disk_paths: Vec<String>,
    pub(crate) registry_paths: Vec<String>,
    pub(crate) software_first_seen_timestamp: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) end_of_support_status: Option<String>,
    pub(crate) end_of_support_date: Option<chrono::DateTime<chrono::Utc>>,
}

/// How many fields [`Inventory`] has: every field of `SoftwareInventory`.
const INVENTORY_FIELDS: usize = 17;

pub(crate) fn inventory_fields(row: &defender_tvm::export::SoftwareInventory) -> Inventory {
    let keys = serde_json::to_value(row)
        .unwrap()
        .as_object()
        .unwrap()
        .len();
    assert_eq!(
        keys, INVENTORY_FIELDS,
        "a field the comparison does not know"
    );
    Inventory {
        id: row.id.clone(),
        device_id: row.device_id.clone(),
        device_name: row.device_name.clone(),
        rbac_group_name: row.rbac_group_name.clone(),
        rbac_group_id: row.rbac_group_id,
        os_platform: row.os_platform.clone(),
        os_version: row.os_version.clone(),
        os_architecture: row.os_architecture.clone(),
        software_vendor: row.software_vendor.clone(),
        software_name: row.software_name.clone(),
        software_version: row.software_version.clone(),
        number_of_weaknesses: row.number_of_weaknesses,
        disk_paths: row.disk_paths.clone(),
        registry_paths: row.registry_paths.clone(),
        software_first_seen_timestamp: row.software_first_seen_timestamp.map(|t| t.as_utc()),
        end_of_support_status: row.end_of_support_status.clone(),
        end_of_support_date: row.end_of_support_date.map(|t| t.as_utc()),
    }
}

#[tokio::test]
async fn every_inventory_field_reads_from_the_files_pascal_case_and_the_pages_camel_case() {
    use chrono::TimeZone;
    // The row by hand, each field its own value; then the same row as each form sends it.
    let want = || Inventory {
        id: "dev-7_adobe_acrobat_24.001".to_owned(),
        device_id: "dev-7".to_owned(),
        device_name: Some("ws-hr-0007.contoso.com".to_owned()),
        rbac_group_name: Some("Human resources".to_owned()),
        rbac_group_id: Some(4401),
        os_platform: Some("Windows10".to_owned()),
        os_version: Some("10.0.19045".to_owned()),
        os_architecture: Some("x86".to_owned()),
        software_vendor: Some("adobe".to_owned()),
        software_name: Some("acrobat".to_owned()),
        software_version: Some("24.001".to_owned()),
        number_of_weaknesses: Some(3),
        disk_paths: vec!["C:\\Program Files\\Adobe\\Acrobat.exe".to_owned()],
        registry_paths: vec!["HKEY_LOCAL_MACHINE\\SOFTWARE\\Adobe\\Acrobat".to_owned()],
        software_first_seen_timestamp: Some(
            chrono::Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap()
                + chrono::Duration::nanoseconds(678_901_200),
        ),
        end_of_support_status: Some("EOS Version".to_owned()),
        end_of_support_date: Some(chrono::Utc.with_ymd_and_hms(2026, 10, 13, 0, 0, 0).unwrap()),
    };
    let pascal_line = r#"{"Id": "dev-7_adobe_acrobat_24.001", "DeviceId": "dev-7",
        "DeviceName": "ws-hr-0007.contoso.com", "RbacGroupName": "Human resources",
        "RbacGroupId": 4401, "OsPlatform": "Windows10", "OsVersion": "10.0.19045",
        "OsArchitecture": "x86", "SoftwareVendor": "adobe", "SoftwareName": "acrobat",
        "SoftwareVersion": "24.001", "NumberOfWeaknesses": 3,
        "DiskPaths": ["C:\\Program Files\\Adobe\\Acrobat.exe"],
        "RegistryPaths": ["HKEY_LOCAL_MACHINE\\SOFTWARE\\Adobe\\Acrobat"],
        "SoftwareFirstSeenTimestamp": "2025-01-02 03:04:05.6789012",
        "EndOfSupportStatus": "EOS Version", "EndOfSupportDate": "2026-10-13 00:00:00"}"#
        .replace('\n', " ");
    let camel_page = r#"{"value": [{"id": "dev-7_adobe_acrobat_24.001", "deviceId": "dev-7",
        "deviceName": "ws-hr-0007.contoso.com", "rbacGroupName": "Human resources",
        "rbacGroupId": 4401, "osPlatform": "Windows10", "osVersion": "10.0.19045",
        "osArchitecture": "x86", "softwareVendor": "adobe", "softwareName": "acrobat",
        "softwareVersion": "24.001", "numberOfWeaknesses": 3,
        "diskPaths": ["C:\\Program Files\\Adobe\\Acrobat.exe"],
        "registryPaths": ["HKEY_LOCAL_MACHINE\\SOFTWARE\\Adobe\\Acrobat"],
        "softwareFirstSeenTimestamp": "2025-01-02 03:04:05.6789012",
        "endOfSupportStatus": "EOS Version", "endOfSupportDate": "2026-10-13 00:00:00"}]}"#;
    let server = Storage::start().await;
    let link = server.link("inventory-0.json.gz", "inv");
    server.api.mock(move |when, then| {
        when.path("/api/machines/SoftwareInventoryExport");
        then.status(200).json_body(json!({
            "exportFiles": [link],
            "generatedTime": "2026-11-30T06:00:00Z",
        }));
    });
    server.api.mock(|when, then| {
        when.path("/api/machines/SoftwareInventoryByMachine");
        then.status(200).body(camel_page);
    });
    server.serves("inventory-0.json.gz", "inv", gzip(&[pascal_line]));
    let client = client(&server.api);

    let from_file: Vec<defender_tvm::export::SoftwareInventory> = client
        .software_inventory_export_rows(ExportRowsOptions::new())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let from_page = client
        .software_inventory_by_machine(ExportPages::new())
        .collect_items()
        .await
        .unwrap();

    let fields = |rows: &[defender_tvm::export::SoftwareInventory]| -> Vec<Inventory> {
        rows.iter().map(inventory_fields).collect()
    };
    assert_eq!(fields(&from_file), [want()], "PascalCase, from a file");
    assert_eq!(fields(&from_page), [want()], "camelCase, from a page");
}

#[tokio::test]
async fn changes_carry_their_status_and_time_and_refuse_a_since_out_of_reach() {
    let api = MockServer::start_async().await;
    let mut fixed = camel_row("dev-1", "CVE-2025-1", Some("5044284"));
    fixed["status"] = json!("Fixed");
    fixed["eventTimestamp"] = json!("2026-11-29 06:00:00.1234567");
    let mut moved = pascal(&camel_row("dev-2", "CVE-2025-2", None));
    moved["Status"] = json!("Moved");
    let since = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        - chrono::Duration::days(3);
    let changes = api.mock(|when, then| {
        when.path("/api/machines/SoftwareVulnerabilityChangesByMachine")
            .query_param_exists("sinceTime");
        then.status(200).json_body(json!({"value": [fixed, moved]}));
    });
    let client = client(&api);

    let rows = client
        .software_vulnerability_changes_by_machine(
            ChangesSince::new(since).unwrap(),
            ExportPages::new(),
        )
        .await
        .unwrap();

    changes.assert_calls(1);
    assert_eq!(rows[0].status, Some(ChangeStatus::Fixed));
    assert_eq!(
        rows[0].event_timestamp.unwrap().to_string(),
        "2026-11-29T06:00:00.123456700Z"
    );
    assert_eq!(rows[0].vulnerability.device_id, "dev-1");
    assert_eq!(rows[1].status, Some(ChangeStatus::Other("Moved".into())));

    // Refused when made: nothing to send.
    let too_old = ChangesSince::new(since - chrono::Duration::days(12)).unwrap_err();
    assert!(matches!(too_old, Error::InvalidInput(_)), "{too_old:?}");
    assert!(too_old.to_string().contains("14 days"), "{too_old}");
    changes.assert_calls(1);
}

#[tokio::test]
async fn each_kind_of_call_waits_on_its_own_budget_only() {
    let api = MockServer::start_async().await;
    api.mock(|when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesByMachine");
        then.status(200).json_body(json!({"value": []}));
    });
    api.mock(|when, then| {
        when.path("/api/Software");
        then.status(200).json_body(json!({"value": []}));
    });
    // One JSON export call a minute; the general budget is the service's.
    let client = Client::builder()
        .base_url(api.base_url())
        .bearer_token(TOKEN)
        .json_export_rate_limit(RateLimit::new(1, Duration::from_secs(60)))
        .build()
        .unwrap();
    client
        .software_vulnerabilities_by_machine(ExportPages::new())
        .await
        .unwrap();

    // The general budget is untouched: a listing goes at once.
    tokio::time::timeout(
        Duration::from_secs(5),
        client
            .software(defender_tvm::SoftwareQuery::new().top(1))
            .collect_items(),
    )
    .await
    .expect("a general call does not wait on the export budget")
    .unwrap();
    // A second export call waits for the minute to pass.
    let waited = tokio::time::timeout(
        Duration::from_millis(300),
        client
            .software_vulnerabilities_by_machine(ExportPages::new())
            .collect_items(),
    )
    .await;
    assert!(waited.is_err(), "the export budget is spent for a minute");
}

/// An export server: the API (answering the export call with links to `files` on `storage`,
/// which serves `bodies`).
pub(crate) struct Storage {
    pub(crate) api: MockServer,
    storage: MockServer,
}

impl Storage {
    pub(crate) async fn start() -> Self {
        Self {
            api: MockServer::start_async().await,
            storage: MockServer::start_async().await,
        }
    }

    pub(crate) fn link(&self, name: &str, sig: &str) -> String {
        format!(
            "{}/exports/snap/{name}?sv=2020-08-04&se=2026-12-01T00%3A00%3A00Z&sr=b&sp=r&sig={sig}",
            self.storage.base_url()
        )
    }

    pub(crate) fn export_answers(&self, links: &[String]) -> httpmock::Mock<'_> {
        let links = links.to_vec();
        self.api.mock(move |when, then| {
            when.path("/api/machines/SoftwareVulnerabilitiesExport");
            then.status(200).json_body(json!({
                "exportFiles": links,
                "generatedTime": "2026-11-30T06:00:00Z",
            }));
        })
    }

    pub(crate) fn serves(&self, name: &str, sig: &str, body: Vec<u8>) -> httpmock::Mock<'_> {
        let path = format!("/exports/snap/{name}");
        let sig = sig.to_owned();
        self.storage.mock(move |when, then| {
            when.path(path.as_str())
                .query_param("sig", sig.as_str())
                .header_missing("authorization");
            then.status(200).body(body);
        })
    }
}

pub(crate) fn file_lines(from: usize, count: usize) -> Vec<String> {
    (from..from + count)
        .map(|n| {
            pascal(&camel_row(
                &format!("dev-{n}"),
                &format!("CVE-2025-{n}"),
                Some("5044284"),
            ))
            .to_string()
        })
        .collect()
}

pub(crate) async fn all_rows(client: &Client) -> Result<Vec<SoftwareVulnerability>, Error> {
    client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new().concurrency(2))
        .await?
        .try_collect()
        .await
}

#[tokio::test]
async fn file_rows_stream_from_gzip_lines_with_no_token_sent_to_storage() {
    let server = Storage::start().await;
    let export = server.export_answers(&[
        server.link("part-0.json.gz", "a"),
        server.link("part-1.json.gz", "b"),
    ]);
    let first = server.serves("part-0.json.gz", "a", gzip(&file_lines(0, 300)));
    let second = server.serves("part-1.json.gz", "b", gzip(&file_lines(300, 200)));
    let client = client(&server.api);

    let rows = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new())
        .await
        .unwrap();
    assert_eq!(
        rows.generated_time().to_rfc3339(),
        "2026-11-30T06:00:00+00:00"
    );
    let rows: Vec<SoftwareVulnerability> = rows.try_collect().await.unwrap();

    export.assert_calls(1);
    first.assert_calls(1);
    second.assert_calls(1);
    let mut devices: Vec<String> = rows.iter().map(|r| r.device_id.clone()).collect();
    devices.sort();
    let mut expected: Vec<String> = (0..500).map(|n| format!("dev-{n}")).collect();
    expected.sort();
    assert_eq!(devices, expected, "every row exactly once");
    // The rows of one file come in order.
    let first_file: Vec<&str> = rows
        .iter()
        .filter(|r| {
            r.device_id
                .trim_start_matches("dev-")
                .parse::<usize>()
                .unwrap()
                < 300
        })
        .map(|r| r.device_id.as_str())
        .collect();
    assert_eq!(first_file.first(), Some(&"dev-0"));
    assert_eq!(first_file.last(), Some(&"dev-299"));
}

#[tokio::test]
async fn an_expired_link_is_renewed_and_reading_goes_on_without_a_lost_or_repeated_row() {
    let server = Storage::start().await;
    // The first links: the file's link has expired (403 from storage).
    let mut first_export = server.export_answers(&[server.link("part-0.json.gz", "old")]);
    let expired = server.storage.mock(|when, then| {
        when.path("/exports/snap/part-0.json.gz").query_param("sig", "old");
        then.status(403)
            .header("content-type", "application/xml")
            .body("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message><AuthenticationErrorDetail>Signature not valid in the specified time frame</AuthenticationErrorDetail></Error>");
    });
    let client = client(&server.api);
    let rows = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new())
        .await
        .unwrap();
    // Fresh links from here on.
    first_export.delete();
    let renewed = server.export_answers(&[server.link("part-0.json.gz", "new")]);
    let fresh = server.serves("part-0.json.gz", "new", gzip(&file_lines(0, 50)));

    let rows: Vec<SoftwareVulnerability> = rows.try_collect().await.unwrap();

    expired.assert_calls(1);
    renewed.assert_calls(1);
    fresh.assert_calls(1);
    assert_eq!(rows.len(), 50);
}

#[tokio::test]
async fn a_download_cut_mid_way_is_made_again_and_skips_the_rows_already_given() {
    let body = gzip(&file_lines(0, 2_000));
    let flaky = crate::flaky::Flaky::start(vec![
        crate::flaky::Act::CutBytes(200, body.clone()),
        crate::flaky::Act::Bytes(200, body),
    ])
    .await;
    let api = MockServer::start_async().await;
    let link = format!(
        "{}/exports/snap/part-0.json.gz?sig=s3cr3t-sig",
        flaky.base_url
    );
    api.mock(|when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesExport");
        then.status(200).json_body(json!({
            "exportFiles": [link],
            "generatedTime": "2026-11-30T06:00:00Z",
        }));
    });
    let client = client(&api);

    let rows = all_rows(&client).await.unwrap();

    assert_eq!(flaky.requests(), 2);
    let devices: Vec<String> = rows.iter().map(|r| r.device_id.clone()).collect();
    let expected: Vec<String> = (0..2_000).map(|n| format!("dev-{n}")).collect();
    assert_eq!(devices, expected, "in order, none lost, none repeated");
}

#[tokio::test]
async fn an_empty_200_is_downloaded_again_not_read_as_no_rows() {
    let server = Storage::start().await;
    server.export_answers(&[server.link("part-0.json.gz", "a")]);
    let empty = server.storage.mock(|when, then| {
        when.path("/exports/snap/part-0.json.gz");
        then.status(200).body("").up_to_n_times(1);
    });
    let whole = server.serves("part-0.json.gz", "a", gzip(&file_lines(0, 10)));

    let rows = all_rows(&client(&server.api)).await.unwrap();

    empty.assert_calls(1);
    whole.assert_calls(1);
    assert_eq!(rows.len(), 10);
}

#[tokio::test]
async fn a_truncated_gzip_stream_or_a_line_that_is_not_a_row_names_the_file_and_line() {
    let server = Storage::start().await;
    server.export_answers(&[server.link("part-7.json.gz", "secret-signature")]);
    let whole = gzip(&file_lines(0, 100));
    let cut = whole[..whole.len() - 20].to_vec();
    let cut_copy = cut.clone();
    server.serves("part-7.json.gz", "secret-signature", cut);

    let err = all_rows(&client(&server.api)).await.unwrap_err();

    let Error::Export(export) = &err else {
        panic!("expected Error::Export, got {err:?}")
    };
    assert_eq!(export.kind, ExportErrorKind::Truncated);
    assert_eq!(export.file, "part-7.json.gz");
    // The line at fault is the first that did not arrive whole: count, by hand, the whole lines
    // the cut stream decodes to.
    let mut decoded = Vec::new();
    let _ = std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(&cut_copy[..]),
        &mut decoded,
    );
    let whole_lines = decoded.iter().filter(|&&b| b == b'\n').count() as u64;
    assert!(whole_lines > 0 && whole_lines < 100, "{whole_lines}");
    assert_eq!(export.line, Some(whole_lines + 1));
    let text = err.to_string();
    assert!(text.contains("part-7.json.gz"), "{text}");
    assert!(
        !text.contains("secret-signature") && !text.contains("sig="),
        "{text}"
    );
    assert!(!format!("{err:?}").contains("secret-signature"));

    let server = Storage::start().await;
    server.export_answers(&[server.link("part-2.json.gz", "secret-signature")]);
    let mut lines = file_lines(0, 5);
    lines[3] = "{\"DeviceId\": 42".to_owned();
    server.serves("part-2.json.gz", "secret-signature", gzip(&lines));

    let err = all_rows(&client(&server.api)).await.unwrap_err();

    let Error::Export(export) = &err else {
        panic!("expected Error::Export, got {err:?}")
    };
    assert_eq!(export.kind, ExportErrorKind::MalformedLine);
    assert_eq!(
        (export.file.as_str(), export.line),
        ("part-2.json.gz", Some(4))
    );
    assert!(err.to_string().contains("part-2.json.gz line 4"), "{err}");
}

#[tokio::test]
async fn export_links_never_show_in_debug_or_errors() {
    let server = Storage::start().await;
    server.export_answers(&[server.link("part-0.json.gz", "top-secret-sig")]);
    let files = client(&server.api)
        .software_vulnerabilities_export(defender_tvm::export::SasValidHours::default())
        .await
        .unwrap();
    let shown = format!("{files:?}");
    assert!(
        shown.contains("part-0.json.gz") && !shown.contains("top-secret-sig"),
        "{shown}"
    );
    // The row stream shows the snapshot's time and where reading stands, never a link.
    let rows = client(&server.api)
        .software_vulnerabilities_export_rows(ExportRowsOptions::new())
        .await
        .unwrap();
    let shown = format!("{rows:?}");
    assert!(
        shown.starts_with("ExportRows")
            && shown.contains("2026-11-30T06:00:00Z")
            && shown.contains("files_total: 1")
            && !shown.contains("top-secret-sig"),
        "{shown}"
    );

    // Storage unreachable after the export call: the transport error names no link.
    let (_held, refusing) = crate::common::refusing_address();
    let api = MockServer::start_async().await;
    let link = format!("{refusing}/exports/part-0.json.gz?sig=top-secret-sig");
    api.mock(|when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesExport");
        then.status(200).json_body(json!({
            "exportFiles": [link],
            "generatedTime": "2026-11-30T06:00:00Z",
        }));
    });
    let err = all_rows(&client(&api)).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        matches!(&err, Error::Export(e) if e.kind == ExportErrorKind::Download),
        "{err:?}"
    );
    assert!(
        !text.contains("top-secret-sig") && !text.contains("sig="),
        "{text}"
    );
}

#[tokio::test]
async fn the_links_are_asked_for_the_hours_chosen() {
    let server = Storage::start().await;
    let links = [server.link("part-0.json.gz", "a")];
    let three_hours = server.api.mock(move |when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesExport")
            .query_param("sasValidHours", "3");
        then.status(200).json_body(json!({
            "exportFiles": links,
            "generatedTime": "2026-11-30T06:00:00Z",
        }));
    });
    server.serves("part-0.json.gz", "a", gzip(&file_lines(0, 5)));

    let options =
        ExportRowsOptions::new().valid(defender_tvm::export::SasValidHours::new(3).unwrap());
    let rows: Vec<SoftwareVulnerability> = client(&server.api)
        .software_vulnerabilities_export_rows(options)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();

    three_hours.assert_calls(1);
    assert_eq!(rows.len(), 5);
}

#[tokio::test]
async fn one_file_at_a_time_gives_every_row_of_a_file_before_the_next_file() {
    let server = Storage::start().await;
    server.export_answers(&[
        server.link("part-0.json.gz", "a"),
        server.link("part-1.json.gz", "b"),
        server.link("part-2.json.gz", "c"),
    ]);
    // The first file is the slowest to answer: read at once, the others' rows would come first.
    let body = gzip(&file_lines(0, 100));
    server.storage.mock(move |when, then| {
        when.path("/exports/snap/part-0.json.gz");
        then.status(200)
            .delay(Duration::from_millis(300))
            .body(body);
    });
    server.serves("part-1.json.gz", "b", gzip(&file_lines(100, 100)));
    server.serves("part-2.json.gz", "c", gzip(&file_lines(200, 100)));

    let rows: Vec<SoftwareVulnerability> = client(&server.api)
        .software_vulnerabilities_export_rows(ExportRowsOptions::new().concurrency(1))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();

    let devices: Vec<String> = rows.iter().map(|r| r.device_id.clone()).collect();
    let expected: Vec<String> = (0..300).map(|n| format!("dev-{n}")).collect();
    assert_eq!(devices, expected, "the files in their order, each whole");
}

#[tokio::test]
async fn a_file_is_downloaded_at_most_the_times_allowed() {
    let body = gzip(&file_lines(0, 2_000));
    let flaky = crate::flaky::Flaky::start(vec![
        crate::flaky::Act::CutBytes(200, body.clone()),
        crate::flaky::Act::CutBytes(200, body.clone()),
        crate::flaky::Act::Bytes(200, body),
    ])
    .await;
    let api = MockServer::start_async().await;
    let link = format!("{}/exports/snap/part-0.json.gz?sig=s3cr3t", flaky.base_url);
    api.mock(|when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesExport");
        then.status(200).json_body(json!({
            "exportFiles": [link],
            "generatedTime": "2026-11-30T06:00:00Z",
        }));
    });
    let client = client(&api);

    let read: Result<Vec<SoftwareVulnerability>, Error> = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new().downloads(2))
        .await
        .unwrap()
        .try_collect()
        .await;

    let Err(Error::Export(error)) = read else {
        panic!("two cut downloads of two allowed: {read:?}");
    };
    assert_eq!(error.kind, ExportErrorKind::Download);
    assert_eq!(error.file, "part-0.json.gz");
    assert_eq!(error.attempts, 2);
    assert_eq!(flaky.requests(), 2, "no third download");
}

#[tokio::test]
async fn fresh_links_of_a_new_snapshot_are_an_error_not_a_mix_of_two_snapshots() {
    let server = Storage::start().await;
    let mut first_export = server.export_answers(&[server.link("part-0.json.gz", "old")]);
    server.storage.mock(|when, then| {
        when.path("/exports/snap/part-0.json.gz")
            .query_param("sig", "old");
        then.status(403)
            .body("<Error><Code>AuthenticationFailed</Code></Error>");
    });
    let client = client(&server.api);
    let rows = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new())
        .await
        .unwrap();
    // The renewal answers the same number of files, of a newer snapshot.
    first_export.delete();
    let link = server.link("part-0.json.gz", "new");
    server.api.mock(move |when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesExport");
        then.status(200).json_body(json!({
            "exportFiles": [link],
            "generatedTime": "2026-11-30T12:00:00Z",
        }));
    });
    let newer = server.serves("part-0.json.gz", "new", gzip(&file_lines(0, 5)));

    let read: Result<Vec<SoftwareVulnerability>, Error> = rows.try_collect().await;

    let Err(Error::Export(error)) = read else {
        panic!("a new snapshot mid-read: {read:?}");
    };
    assert_eq!(error.kind, ExportErrorKind::SnapshotChanged);
    newer.assert_calls(0);
}

/// How long a test waits for a read that should end at once: past it, the read hangs (an
/// answer held forever), which is the failure, not a slow machine.
const HANGS: Duration = Duration::from_secs(30);

#[tokio::test]
async fn files_whose_links_expired_together_are_renewed_with_one_export_call() {
    use crate::flaky::{Act, Flaky};
    // Storage holds its answers to the expired links until both files have asked with theirs:
    // each file meets its expired link before either can renew.
    let both = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let expired = Act::Gate(
        both,
        Box::new(Act::Answer(
            403,
            "<Error><Code>AuthenticationFailed</Code></Error>".to_owned(),
        )),
    );
    let storage = Flaky::start(vec![Act::ByTarget(vec![
        ("sig=old".to_owned(), expired),
        (
            "part-0.json.gz?sig=new".to_owned(),
            Act::Bytes(200, gzip(&file_lines(0, 10))),
        ),
        (
            "part-1.json.gz?sig=new".to_owned(),
            Act::Bytes(200, gzip(&file_lines(10, 10))),
        ),
    ])])
    .await;
    let api = MockServer::start_async().await;
    let export = |sig: &str| {
        let links: Vec<String> = (0..2)
            .map(|n| {
                format!(
                    "{}/exports/snap/part-{n}.json.gz?sig={sig}{n}",
                    storage.base_url
                )
            })
            .collect();
        move |when: httpmock::When, then: httpmock::Then| {
            when.path("/api/machines/SoftwareVulnerabilitiesExport");
            then.status(200).json_body(json!({
                "exportFiles": links,
                "generatedTime": "2026-11-30T06:00:00Z",
            }));
        }
    };
    let mut first_export = api.mock(export("old"));
    let client = client(&api);
    let rows = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new().concurrency(2))
        .await
        .unwrap();
    first_export.delete();
    let renewal = api.mock(export("new"));

    let read = async {
        let mut rows = rows;
        let mut all = Vec::new();
        while let Some(row) = rows.try_next().await.unwrap() {
            all.push(row);
        }
        (all, rows.progress())
    };
    let (rows, progress) = tokio::time::timeout(HANGS, read)
        .await
        .expect("both files ask with their expired link at once");

    let mut devices = devices_of(&rows);
    devices.sort_by_key(|d| d.trim_start_matches("dev-").parse::<usize>().unwrap());
    let expected: Vec<String> = (0..20).map(|n| format!("dev-{n}")).collect();
    assert_eq!(devices, expected, "every row once");
    let mut asked: Vec<String> = storage
        .paths()
        .into_iter()
        .map(|path| path.rsplit('/').next().unwrap().to_owned())
        .collect();
    asked.sort();
    assert_eq!(
        asked,
        [
            "part-0.json.gz?sig=new0",
            "part-0.json.gz?sig=old0",
            "part-1.json.gz?sig=new1",
            "part-1.json.gz?sig=old1",
        ]
    );
    renewal.assert_calls(1);
    assert_eq!(progress.link_renewals, 1);
    assert_eq!(progress.downloads_repeated, 2);
}

/// A server with one export file served by `acts` in turn, and a client reading it.
pub(crate) async fn one_flaky_file(
    acts: Vec<crate::flaky::Act>,
) -> (crate::flaky::Flaky, MockServer, Client) {
    let flaky = crate::flaky::Flaky::start(acts).await;
    let api = MockServer::start_async().await;
    let link = format!("{}/exports/snap/part-0.json.gz?sig=s3cr3t", flaky.base_url);
    api.mock(|when, then| {
        when.path("/api/machines/SoftwareVulnerabilitiesExport");
        then.status(200).json_body(json!({
            "exportFiles": [link],
            "generatedTime": "2026-11-30T06:00:00Z",
        }));
    });
    let client = client(&api);
    (flaky, api, client)
}

fn devices_of(rows: &[SoftwareVulnerability]) -> Vec<String> {
    rows.iter().map(|r| r.device_id.clone()).collect()
}

#[tokio::test]
async fn storage_errors_past_the_retries_are_downloaded_again_and_a_404_is_not() {
    use crate::flaky::Act;
    let body = gzip(&file_lines(0, 30));
    // The client tries each download twice: two 503s end the first download, the second
    // meets a 429 then the file.
    let (flaky, _api, client) = one_flaky_file(vec![
        Act::Answer(503, String::new()),
        Act::Answer(503, String::new()),
        Act::Answer(429, String::new()),
        Act::Bytes(200, body),
    ])
    .await;
    let rows = all_rows(&client).await.unwrap();
    assert_eq!(devices_of(&rows).len(), 30);
    assert_eq!(flaky.requests(), 4);

    let (flaky, _api, client) = one_flaky_file(vec![
        Act::Answer(404, String::new()),
        Act::Bytes(200, gzip(&file_lines(0, 30))),
    ])
    .await;
    let err = all_rows(&client).await.unwrap_err();
    assert_eq!(
        err.status(),
        Some(defender_tvm::StatusCode::NOT_FOUND),
        "{err:?}"
    );
    assert_eq!(flaky.requests(), 1, "a 404 is not downloaded again");
}

#[tokio::test]
async fn a_429_from_storage_past_the_retries_is_downloaded_again() {
    use crate::flaky::Act;
    // The client tries each download twice: two 429s end the first download; the second
    // download gets the file.
    let (flaky, _api, client) = one_flaky_file(vec![
        Act::Answer(429, String::new()),
        Act::Answer(429, String::new()),
        Act::Bytes(200, gzip(&file_lines(0, 30))),
    ])
    .await;

    let rows = all_rows(&client).await.unwrap();

    let expected: Vec<String> = (0..30).map(|n| format!("dev-{n}")).collect();
    assert_eq!(devices_of(&rows), expected);
    assert_eq!(flaky.requests(), 3);
}

/// A client of `api` whose request timeout is `idle` (for an export file: how long each chunk of
/// its body may take to come).
fn impatient(api: &MockServer, idle: Duration) -> Client {
    Client::builder()
        .base_url(api.base_url())
        .bearer_token(TOKEN)
        .timeout(idle)
        .retry(RetryPolicy::disabled())
        .rate_limit(RateLimit::disabled())
        .json_export_rate_limit(RateLimit::disabled())
        .file_export_rate_limit(RateLimit::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_download_whose_next_chunk_never_comes_is_made_again_from_where_it_stopped() {
    use crate::flaky::Act;
    let body = gzip(&file_lines(0, 2_000));
    // Half the body, then nothing (the connection stays open); then the whole file.
    let (flaky, api, _) = one_flaky_file(vec![
        Act::StallBytes(200, body.clone()),
        Act::Bytes(200, body),
    ])
    .await;
    let client = impatient(&api, Duration::from_secs(1));

    let read = async {
        let mut rows = client
            .software_vulnerabilities_export_rows(ExportRowsOptions::new())
            .await
            .unwrap();
        let mut all = Vec::new();
        while let Some(row) = rows.try_next().await.unwrap() {
            all.push(row);
        }
        (all, rows.progress())
    };
    let (rows, progress) = tokio::time::timeout(HANGS, read)
        .await
        .expect("a stalled download is given up after the request timeout");

    let expected: Vec<String> = (0..2_000).map(|n| format!("dev-{n}")).collect();
    assert_eq!(
        devices_of(&rows),
        expected,
        "in order, none lost, none repeated"
    );
    assert_eq!(flaky.requests(), 2);
    assert_eq!(progress.downloads_repeated, 1);
}

#[tokio::test]
async fn a_file_whose_every_download_stalls_is_a_stalled_export_error() {
    use crate::flaky::Act;
    let body = gzip(&file_lines(0, 2_000));
    let (flaky, api, _) = one_flaky_file(vec![Act::StallBytes(200, body)]).await;
    let client = impatient(&api, Duration::from_secs(1));

    let read = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new().downloads(2))
        .await
        .unwrap()
        .try_collect::<Vec<_>>();
    let error = tokio::time::timeout(HANGS, read)
        .await
        .expect("a stalled download is given up after the request timeout")
        .unwrap_err();

    assert!(
        !matches!(error, Error::InvalidInput(_)),
        "not a usage error: {error:?}"
    );
    let Error::Export(export) = &error else {
        panic!("expected Error::Export, got {error:?}")
    };
    assert_eq!(export.kind, ExportErrorKind::Stalled, "{error}");
    assert_eq!(export.file, "part-0.json.gz");
    assert_eq!(export.attempts, 2);
    assert_eq!(flaky.requests(), 2);
    let text = crate::common::chain(&error);
    assert!(!text.contains("s3cr3t"), "{text}");
}

#[tokio::test]
async fn a_last_line_without_its_newline_is_a_row() {
    let lines = file_lines(0, 3);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(lines.join("\n").as_bytes()).unwrap();
    let body = encoder.finish().unwrap();
    let (_flaky, _api, client) = one_flaky_file(vec![crate::flaky::Act::Bytes(200, body)]).await;

    let rows = all_rows(&client).await.unwrap();

    assert_eq!(devices_of(&rows), ["dev-0", "dev-1", "dev-2"]);
}

#[tokio::test]
async fn a_download_cut_after_its_last_row_is_made_again_and_gives_no_row_twice() {
    use crate::flaky::Act;
    // Two GZIP members: the rows, then a long run of blank lines that does not compress well,
    // so that half the body holds every row and the cut falls in the blanks.
    let mut body = gzip(&file_lines(0, 10));
    let mut noise = fastrand::Rng::with_seed(7);
    let blanks: Vec<String> = (0..20_000)
        .map(|_| {
            (0..noise.usize(1..8))
                .map(|_| if noise.bool() { ' ' } else { '\t' })
                .collect()
        })
        .collect();
    body.extend(gzip(&blanks));
    let (flaky, _api, client) = one_flaky_file(vec![
        Act::CutBytes(200, body.clone()),
        Act::Bytes(200, body),
    ])
    .await;

    let rows = all_rows(&client).await.unwrap();

    assert_eq!(flaky.requests(), 2);
    let expected: Vec<String> = (0..10).map(|n| format!("dev-{n}")).collect();
    assert_eq!(devices_of(&rows), expected);
}

#[tokio::test]
async fn a_file_that_comes_back_shorter_than_what_was_read_is_a_changed_snapshot() {
    use crate::flaky::Act;
    let (flaky, _api, client) = one_flaky_file(vec![
        Act::CutBytes(200, gzip(&file_lines(0, 4_000))),
        Act::Bytes(200, gzip(&file_lines(0, 5))),
    ])
    .await;

    let err = all_rows(&client).await.unwrap_err();

    assert_eq!(flaky.requests(), 2);
    let Error::Export(error) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(error.kind, ExportErrorKind::SnapshotChanged, "{err}");
}
