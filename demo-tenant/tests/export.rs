//! The export assessment APIs on the wire (plain reqwest): JSON pages and their paging, the
//! change feed's `sinceTime` bounds, the export calls and their links, the files (GZIP NDJSON,
//! PascalCase, every row once, the truth's rows), budgets per class, file faults, expired links,
//! and that no token travels to the file origin.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use defender_tvm_demo::{ChangeStatus, DemoTenant, DemoTenantBuilder};
use serde_json::Value;

/// 2026-01-10T12:00:00Z.
fn pinned_snapshot() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_768_046_400)
}

/// A small tenant with a pinned snapshot and no budgets.
fn small() -> DemoTenantBuilder {
    DemoTenant::builder()
        .devices(40)
        .software(60)
        .snapshot_time(pinned_snapshot())
        .unlimited()
}

async fn get(tenant: &DemoTenant, token: &str, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", tenant.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every row of a JSON export, following next links from `path`; and how many pages it took.
async fn all_pages(tenant: &DemoTenant, token: &str, path: &str) -> (Vec<Value>, usize) {
    let http = reqwest::Client::new();
    let mut rows = Vec::new();
    let mut pages = 0;
    let mut link = format!("{}{path}", tenant.base_url());
    loop {
        let response = http.get(&link).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{link}");
        let page: Value = response.json().await.unwrap();
        pages += 1;
        assert!(page["@odata.context"].as_str().is_some());
        rows.extend(page["value"].as_array().unwrap().iter().cloned());
        match page["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(tenant.base_url()), "{next}");
                link = next.to_owned();
            }
            None => break,
        }
    }
    (rows, pages)
}

/// The export call's links.
async fn export_links(tenant: &DemoTenant, token: &str, operation: &str) -> Vec<String> {
    let (status, body) = get(tenant, token, &format!("/api/machines/{operation}")).await;
    assert_eq!(status, 200, "{body}");
    body["exportFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|url| url.as_str().unwrap().to_owned())
        .collect()
}

/// A file's rows: the body must be GZIP of lines that each end with `\n`.
fn ndjson_rows(body: &[u8]) -> Vec<Value> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(body)
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.is_empty() || text.ends_with('\n'));
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Downloads a file (no token) and returns its rows.
async fn file_rows(url: &str) -> Vec<Value> {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    ndjson_rows(&response.bytes().await.unwrap())
}

fn key_set(row: &Value) -> BTreeSet<String> {
    row.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn json_pages_follow_next_links_through_every_row_in_the_truths_order() {
    let tenant = small().start().await.unwrap();
    let token = tenant.issue_token();
    let truth: Vec<String> = tenant
        .truth()
        .vulnerability_rows()
        .map(|row| row.id)
        .collect();
    assert!(truth.len() > 1000, "{}", truth.len());

    let (rows, pages) = all_pages(
        &tenant,
        &token,
        "/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=500",
    )
    .await;

    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, truth);
    assert_eq!(pages, truth.len().div_ceil(500));
    assert_eq!(
        tenant.calls("list_software_vulnerabilities_by_machine"),
        pages as u64
    );
    // camelCase keys, typed values.
    let row = &rows[0];
    for key in [
        "deviceId",
        "deviceName",
        "rbacGroupName",
        "rbacGroupId",
        "osPlatform",
        "osVersion",
        "osArchitecture",
        "softwareVendor",
        "softwareName",
        "softwareVersion",
        "cveId",
        "cvssScore",
        "vulnerabilitySeverityLevel",
        "recommendedSecurityUpdate",
        "recommendedSecurityUpdateId",
        "recommendedSecurityUpdateUrl",
        "securityUpdateAvailable",
        "exploitabilityLevel",
        "firstSeenTimestamp",
        "lastSeenTimestamp",
        "diskPaths",
        "registryPaths",
        "recommendationReference",
        "endOfSupportStatus",
        "endOfSupportDate",
        "cveBatchTitle",
    ] {
        assert!(row.get(key).is_some(), "{key} missing from {row}");
    }
    assert!(
        key_set(row)
            .iter()
            .all(|k| k.starts_with(char::is_lowercase))
    );
    // A row with a CVE has its score; a row without one (a software installed, nothing open:
    // id ending in `__`) has `null`s, as Microsoft's example shows.
    for row in &rows {
        if row["cveId"].is_null() {
            assert!(row["id"].as_str().unwrap().ends_with("__"), "{row}");
            assert!(row["cvssScore"].is_null() && row["vulnerabilitySeverityLevel"].is_null());
            assert!(row["recommendedSecurityUpdateId"].is_null(), "{row}");
        } else {
            assert!(row["cvssScore"].is_f64(), "{row}");
        }
    }
    assert!(
        rows.iter().any(|row| row["cveId"].is_null()),
        "rows without a CVE"
    );
    assert!(row["diskPaths"].is_array());
    assert!(row["osVersion"].as_str().unwrap().starts_with("10.0."));
    // The service's row time format: a space, 7 fractional digits or none, no offset.
    for row in &rows {
        for key in ["firstSeenTimestamp", "lastSeenTimestamp"] {
            let time = row[key].as_str().unwrap();
            assert!(time.len() == 19 || time.len() == 27, "{time}");
            assert_eq!(&time[10..11], " ", "{time}");
        }
    }
    assert!(
        rows.iter()
            .any(|r| r["lastSeenTimestamp"].as_str().unwrap().len() == 19)
    );
    assert!(
        rows.iter()
            .any(|r| r["lastSeenTimestamp"].as_str().unwrap().len() == 27)
    );
}

#[tokio::test]
async fn page_size_and_top_are_bounded_and_top_suppresses_the_next_link() {
    let tenant = small().start().await.unwrap();
    let token = tenant.issue_token();
    let path = "/api/machines/SoftwareVulnerabilitiesByMachine";

    let (status, page) = get(&tenant, &token, &format!("{path}?$top=7")).await;
    assert_eq!(status, 200);
    assert_eq!(page["value"].as_array().unwrap().len(), 7);
    assert!(page.get("@odata.nextLink").is_none());

    // The default page (50,000) holds this whole estate: no next link.
    let (status, page) = get(&tenant, &token, path).await;
    assert_eq!(status, 200);
    assert_eq!(
        page["value"].as_array().unwrap().len(),
        tenant.truth().vulnerability_row_count()
    );
    assert!(page.get("@odata.nextLink").is_none());

    let (status, _) = get(&tenant, &token, &format!("{path}?pageSize=200000")).await;
    assert_eq!(status, 200);
    for bad in [
        "pageSize=0",
        "pageSize=200001",
        "pageSize=many",
        "$top=200001",
        "$filter=cveId eq 'x'",
        "sinceTime=2026-01-01T00:00:00Z",
        "pageSize=5&pageSize=6",
    ] {
        let (status, body) = get(&tenant, &token, &format!("{path}?{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"]["code"], "BadRequest", "{bad}");
        assert!(body["error"]["message"].as_str().is_some(), "{bad}");
    }
}

#[tokio::test]
async fn inventory_pages_hold_one_row_per_installation() {
    let tenant = small().start().await.unwrap();
    let token = tenant.issue_token();
    let (rows, _) = all_pages(
        &tenant,
        &token,
        "/api/machines/SoftwareInventoryByMachine?pageSize=300",
    )
    .await;
    let truth = tenant.truth();
    assert_eq!(rows.len(), truth.installations.len());
    for (row, installation) in rows.iter().zip(&truth.installations) {
        let device = &truth.devices[installation.device];
        let software = &truth.software[installation.software];
        assert_eq!(row["deviceId"], device.id.as_str());
        assert_eq!(row["softwareName"], software.name.as_str());
        assert_eq!(
            row["softwareVersion"],
            software.versions[installation.version].as_str()
        );
        assert_eq!(row["numberOfWeaknesses"], installation.exposed.len());
        assert!(row["softwareFirstSeenTimestamp"].as_str().is_some());
    }
    assert_eq!(
        tenant.calls("list_software_inventory_by_machine"),
        truth.installations.len().div_ceil(300) as u64
    );
}

#[tokio::test]
async fn changes_need_a_since_time_within_the_14_days_before_the_snapshot() {
    let tenant = small().start().await.unwrap();
    let token = tenant.issue_token();
    assert_eq!(tenant.generated_time(), "2026-01-10T12:00:00Z");
    let path = "/api/machines/SoftwareVulnerabilityChangesByMachine";
    for bad in [
        "",
        "?sinceTime=",
        "?sinceTime=last-week",
        "?sinceTime=2999-01-01T00:00:00Z",
        // 14 days and a second before the snapshot.
        "?sinceTime=2025-12-27T11:59:59Z",
        "?sinceTime=2026-01-01T00:00:00Z&$orderby=cveId",
    ] {
        let (status, body) = get(&tenant, &token, &format!("{path}{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"]["code"], "BadRequest", "{bad}");
    }
    // Exactly 14 days before; an offset; a time after the snapshot but not in the future.
    for good in [
        "2025-12-27T12:00:00Z",
        "2026-01-05T14:00:00%2B02:00",
        "2026-01-11T00:00:00Z",
    ] {
        let (status, body) = get(&tenant, &token, &format!("{path}?sinceTime={good}")).await;
        assert_eq!(status, 200, "{good}: {body}");
    }
}

#[tokio::test]
async fn changes_are_new_fixed_and_updated_events_at_or_after_since_time() {
    let tenant = small().start().await.unwrap();
    let token = tenant.issue_token();
    let truth = tenant.truth();
    let window = truth.snapshot_time() - defender_tvm_demo::CHANGE_HISTORY;
    let all: Vec<_> = truth.changes(window).collect();
    let current: BTreeMap<String, _> = truth
        .vulnerability_rows()
        .map(|row| (row.id.clone(), row))
        .collect();
    let count = |status| all.iter().filter(|c| c.status == status).count();
    assert!(
        count(ChangeStatus::New) > 10,
        "{}",
        count(ChangeStatus::New)
    );
    assert!(
        count(ChangeStatus::Fixed) > 10,
        "{}",
        count(ChangeStatus::Fixed)
    );
    assert!(
        count(ChangeStatus::Updated) > 3,
        "{}",
        count(ChangeStatus::Updated)
    );
    for change in &all {
        assert!(change.event_timestamp.to_system_time() >= window);
        assert!(change.event_timestamp.to_system_time() <= truth.snapshot_time());
        match change.status {
            ChangeStatus::New => {
                assert_eq!(change.event_timestamp, change.row.first_seen_timestamp);
                assert_eq!(current.get(&change.row.id), Some(&change.row));
            }
            ChangeStatus::Updated => {
                assert!(change.row.first_seen_timestamp.to_system_time() < window);
                assert_eq!(current.get(&change.row.id), Some(&change.row));
            }
            ChangeStatus::Fixed => {
                assert!(!current.contains_key(&change.row.id), "{}", change.row.id);
                assert_eq!(change.row.last_seen_timestamp, change.event_timestamp);
                assert!(change.row.first_seen_timestamp < change.event_timestamp);
            }
        }
    }

    // On the wire, since 5 days before the snapshot, paged.
    let since = truth.snapshot_time() - Duration::from_secs(5 * 86_400);
    let expected: Vec<(String, &str, String)> = truth
        .changes(since)
        .map(|c| (c.row.id, c.status.as_str(), c.event_timestamp.to_string()))
        .collect();
    assert!(expected.len() < all.len());
    let (rows, pages) = all_pages(
        &tenant,
        &token,
        "/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=2026-01-05T12:00:00Z&pageSize=40",
    )
    .await;
    assert!(pages > 1);
    let got: Vec<(String, &str, String)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap(),
                r["eventTimestamp"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(rows.iter().all(|r| r.get("cveId").is_some()));
}

#[tokio::test]
async fn the_default_snapshot_is_the_start_truncated_to_the_hour() {
    let before = SystemTime::now();
    let tenant = DemoTenant::builder().devices(5).start().await.unwrap();
    let snapshot = tenant.snapshot_time();
    assert!(snapshot <= before);
    assert!(before.duration_since(snapshot).unwrap() < Duration::from_secs(3600));
    let seconds = snapshot.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(seconds % 3600, 0);
    assert!(tenant.generated_time().ends_with(":00:00Z"));
    for row in tenant.truth().vulnerability_rows() {
        assert!(row.last_seen_timestamp.to_system_time() < snapshot);
        assert!(row.first_seen_timestamp <= row.last_seen_timestamp);
    }
}

#[tokio::test]
async fn export_calls_answer_fresh_sas_links_and_the_generated_time() {
    let tenant = small().rows_per_file(1000).start().await.unwrap();
    let token = tenant.issue_token();
    let (status, body) = get(
        &tenant,
        &token,
        "/api/machines/SoftwareVulnerabilitiesExport?sasValidHours=6",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["generatedTime"], "2026-01-10T12:00:00Z");
    let files = body["exportFiles"].as_array().unwrap();
    let rows = tenant.truth().vulnerability_row_count();
    assert_eq!(files.len(), rows.div_ceil(1000));
    for (n, file) in files.iter().enumerate() {
        let url = file.as_str().unwrap();
        let prefix = format!("{}/exports/", tenant.files_base_url());
        assert!(url.starts_with(&prefix), "{url}");
        assert!(
            url.contains(&format!("/part-{n:05}.json.gz?sv=2020-08-04&se=")),
            "{url}"
        );
        assert!(url.contains("&sr=b&sp=r&sig="), "{url}");
    }
    assert_ne!(tenant.files_base_url(), tenant.base_url());

    let again = export_links(&tenant, &token, "SoftwareVulnerabilitiesExport").await;
    assert_ne!(again[0], files[0].as_str().unwrap(), "fresh signatures");
    let inventory = export_links(&tenant, &token, "SoftwareInventoryExport").await;
    assert_eq!(
        inventory.len(),
        tenant.truth().installations.len().div_ceil(1000)
    );

    for bad in [
        "sasValidHours=0",
        "sasValidHours=7",
        "sasValidHours=one",
        "pageSize=10",
    ] {
        let (status, body) = get(
            &tenant,
            &token,
            &format!("/api/machines/SoftwareInventoryExport?{bad}"),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"]["code"], "BadRequest", "{bad}");
    }
    assert_eq!(tenant.calls("export_software_vulnerabilities"), 2);
    assert_eq!(tenant.calls("export_software_inventory"), 5);
    assert_eq!(tenant.file_requests(), 0);
}

#[tokio::test]
async fn files_hold_every_row_once_as_pascal_case_gzip_ndjson_and_need_no_token() {
    let tenant = small().rows_per_file(400).start().await.unwrap();
    let token = tenant.issue_token();
    let links = export_links(&tenant, &token, "SoftwareVulnerabilitiesExport").await;
    assert!(links.len() > 2, "{}", links.len());

    let mut rows = Vec::new();
    for link in &links {
        let file = file_rows(link).await;
        assert!(file.len() <= 400);
        rows.extend(file);
    }
    let truth = tenant.truth();
    assert_eq!(rows.len(), truth.vulnerability_row_count());
    let ids: Vec<&str> = rows.iter().map(|r| r["Id"].as_str().unwrap()).collect();
    let truth_ids: Vec<String> = truth.vulnerability_rows().map(|r| r.id).collect();
    assert_eq!(ids, truth_ids);
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "every row once");

    // The files' rows are the JSON pages' rows, keys in PascalCase.
    let (status, page) = get(
        &tenant,
        &token,
        "/api/machines/SoftwareVulnerabilitiesByMachine?$top=700",
    )
    .await;
    assert_eq!(status, 200);
    for (json, file) in page["value"].as_array().unwrap().iter().zip(&rows) {
        let recased: BTreeMap<String, Value> = json
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (format!("{}{}", k[..1].to_uppercase(), &k[1..]), v.clone()))
            .collect();
        let file: BTreeMap<String, Value> = file
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(recased, file);
    }
    assert!(rows[0].get("RecommendedSecurityUpdateId").is_some());
    assert!(rows[0].get("DeviceId").is_some());

    // Downloads are not API calls; none carried a token.
    assert_eq!(tenant.total_calls(), 2);
    assert_eq!(tenant.file_requests(), links.len() as u64);
    assert_eq!(tenant.file_requests_with_authorization(), 0);
    // A client that sends its token there is seen (and the file is served all the same).
    let response = reqwest::Client::new()
        .get(&links[0])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(tenant.file_requests_with_authorization(), 1);
    assert_eq!(tenant.total_calls(), 2);
}

/// (device, vendor, product, version, CVE): what identifies a vulnerability row.
type RowKey<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// A row recommends KB `k` exactly when its installation misses `k` and its CVE is one of `k`'s
/// CVEs for the installation's software: so the devices of the rows recommending `k` are the
/// devices missing `k`.
#[tokio::test]
async fn rows_recommend_a_kb_exactly_where_the_raw_installations_miss_it() {
    let tenant = DemoTenant::builder()
        .devices(100)
        .snapshot_time(pinned_snapshot())
        .unlimited()
        .start()
        .await
        .unwrap();
    let token = tenant.issue_token();
    let mut rows = Vec::new();
    for link in export_links(&tenant, &token, "SoftwareVulnerabilitiesExport").await {
        rows.extend(file_rows(&link).await);
    }
    let truth = tenant.truth();
    assert_eq!(rows.len(), truth.vulnerability_row_count());

    // From the raw installations: per KB, the devices missing it, and the
    // (device, vendor, product, version, CVE) rows that its misses leave open.
    let mut missing: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut open: BTreeMap<&str, BTreeSet<RowKey>> = BTreeMap::new();
    for installation in &truth.installations {
        let device = truth.devices[installation.device].id.as_str();
        let software = &truth.software[installation.software];
        for &k in &installation.missing_kbs {
            let kb = &truth.kbs[k];
            missing.entry(kb.id.as_str()).or_default().insert(device);
            for &c in &kb.cves {
                if truth.cves[c].software == installation.software {
                    open.entry(kb.id.as_str()).or_default().insert((
                        device,
                        software.vendor.as_str(),
                        software.name.as_str(),
                        software.versions[installation.version].as_str(),
                        truth.cves[c].id.as_str(),
                    ));
                }
            }
        }
    }
    let mut recommending: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut recommended: BTreeMap<&str, BTreeSet<RowKey>> = BTreeMap::new();
    for row in &rows {
        if let Some(kb) = row["RecommendedSecurityUpdateId"].as_str() {
            recommending
                .entry(kb)
                .or_default()
                .insert(row["DeviceId"].as_str().unwrap());
            recommended.entry(kb).or_default().insert((
                row["DeviceId"].as_str().unwrap(),
                row["SoftwareVendor"].as_str().unwrap(),
                row["SoftwareName"].as_str().unwrap(),
                row["SoftwareVersion"].as_str().unwrap(),
                row["CveId"].as_str().unwrap(),
            ));
            let title = row["RecommendedSecurityUpdate"].as_str().unwrap();
            assert!(title.ends_with(&format!("(KB{kb})")), "{title}");
            assert!(
                row["RecommendedSecurityUpdateUrl"]
                    .as_str()
                    .unwrap()
                    .ends_with(kb)
            );
        } else {
            assert!(row["RecommendedSecurityUpdateUrl"].is_null());
        }
    }
    assert!(missing.len() > 10);
    assert_eq!(recommending, missing);
    assert_eq!(recommended, open);

    // And getmissingkbs names the products the KB is missing on, as the rows do.
    for (s, software) in truth.software.iter().enumerate() {
        for kb in truth.missing_kbs(s) {
            let products: BTreeSet<&str> = rows
                .iter()
                .filter(|r| r["RecommendedSecurityUpdateId"] == kb.id.as_str())
                .map(|r| r["SoftwareName"].as_str().unwrap())
                .collect();
            let names: BTreeSet<&str> = kb.products_names.iter().map(String::as_str).collect();
            assert_eq!(names, products, "{} KB{}", software.id, kb.id);
        }
    }
}

#[tokio::test]
async fn inventory_files_hold_one_row_per_installation() {
    let tenant = small().rows_per_file(250).start().await.unwrap();
    let token = tenant.issue_token();
    let mut rows = Vec::new();
    for link in export_links(&tenant, &token, "SoftwareInventoryExport").await {
        rows.extend(file_rows(&link).await);
    }
    let truth = tenant.truth();
    assert_eq!(rows.len(), truth.installations.len());
    let weaknesses: u64 = rows
        .iter()
        .map(|r| r["NumberOfWeaknesses"].as_u64().unwrap())
        .sum();
    let with_a_cve = truth
        .vulnerability_rows()
        .filter(|row| row.cve_id.is_some())
        .count();
    assert_eq!(weaknesses as usize, with_a_cve);
    let ids: Vec<&str> = rows.iter().map(|r| r["Id"].as_str().unwrap()).collect();
    let truth_ids: Vec<String> = truth.inventory_rows().map(|r| r.id).collect();
    assert_eq!(ids, truth_ids);
    assert!(rows[0].get("SoftwareFirstSeenTimestamp").is_some());
}

#[tokio::test]
async fn an_estate_without_rows_still_exports_one_empty_file() {
    let tenant = small().devices(0).start().await.unwrap();
    let token = tenant.issue_token();
    let links = export_links(&tenant, &token, "SoftwareVulnerabilitiesExport").await;
    assert_eq!(links.len(), 1);
    assert!(file_rows(&links[0]).await.is_empty());
}

/// The status and `Retry-After` of a call.
async fn status_and_retry_after(
    tenant: &DemoTenant,
    token: &str,
    path: &str,
) -> (u16, Option<u64>) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", tenant.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let wait = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (response.status().as_u16(), wait)
}

#[tokio::test]
async fn each_class_of_operations_has_its_own_budget() {
    let tenant = DemoTenant::builder()
        .devices(10)
        .budget(2, Duration::from_secs(100))
        .json_export_budget(2, Duration::from_secs(40))
        .file_export_budget(1, Duration::from_secs(20))
        .start()
        .await
        .unwrap();
    let token = tenant.issue_token();
    let general = "/api/Software?$top=1";
    let json = "/api/machines/SoftwareInventoryByMachine?$top=1";
    let files = "/api/machines/SoftwareInventoryExport";

    for _ in 0..2 {
        assert_eq!(
            status_and_retry_after(&tenant, &token, general).await.0,
            200
        );
    }
    assert_eq!(
        status_and_retry_after(&tenant, &token, general).await,
        (429, Some(100))
    );
    // The general budget is spent; the JSON exports' is not.
    for _ in 0..2 {
        assert_eq!(status_and_retry_after(&tenant, &token, json).await.0, 200);
    }
    assert_eq!(
        status_and_retry_after(&tenant, &token, json).await,
        (429, Some(40))
    );
    // Both spent; the file exports' is not.
    assert_eq!(status_and_retry_after(&tenant, &token, files).await.0, 200);
    assert_eq!(
        status_and_retry_after(&tenant, &token, files).await,
        (429, Some(20))
    );
    assert_eq!(tenant.throttled(), 3);
    assert_eq!(tenant.calls("list_software"), 3);
    assert_eq!(tenant.calls("list_software_inventory_by_machine"), 3);
    assert_eq!(tenant.calls("export_software_inventory"), 2);
}

#[tokio::test]
async fn the_service_budgets_hold_by_default_and_unlimited_lifts_every_class() {
    let limited = DemoTenant::builder().devices(5).start().await.unwrap();
    let token = limited.issue_token();
    for _ in 0..5 {
        let path = "/api/machines/SoftwareVulnerabilitiesExport";
        assert_eq!(status_and_retry_after(&limited, &token, path).await.0, 200);
    }
    let (status, wait) =
        status_and_retry_after(&limited, &token, "/api/machines/SoftwareInventoryExport").await;
    assert_eq!((status, wait), (429, Some(60)));

    let unlimited = DemoTenant::builder()
        .devices(5)
        .unlimited()
        .start()
        .await
        .unwrap();
    let token = unlimited.issue_token();
    for n in 0..31 {
        let path = if n % 2 == 0 {
            "/api/machines/SoftwareInventoryByMachine?$top=1"
        } else {
            "/api/machines/SoftwareVulnerabilitiesExport"
        };
        assert_eq!(
            status_and_retry_after(&unlimited, &token, path).await.0,
            200
        );
    }
    assert_eq!(unlimited.throttled(), 0);
}

#[tokio::test]
async fn export_calls_need_a_token_and_can_be_denied() {
    let tenant = small().start().await.unwrap();
    let (status, body) = get(
        &tenant,
        "forged",
        "/api/machines/SoftwareVulnerabilitiesExport",
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "Unauthorized");
    tenant
        .faults()
        .deny("list_software_vulnerabilities_by_machine");
    let token = tenant.issue_token();
    let (status, _) = get(
        &tenant,
        &token,
        "/api/machines/SoftwareVulnerabilitiesByMachine",
    )
    .await;
    assert_eq!(status, 403);
}

/// The body of a download as far as it goes, and whether it ended with an error.
async fn download(url: &str) -> (u16, Vec<u8>, bool) {
    let mut response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return (status, body, false),
            Err(_) => return (status, body, true),
        }
    }
}

#[tokio::test]
async fn file_faults_happen_on_demand() {
    let tenant = small().rows_per_file(1000).start().await.unwrap();
    let token = tenant.issue_token();
    let links = export_links(&tenant, &token, "SoftwareVulnerabilitiesExport").await;
    let link = &links[0];
    let (status, whole, failed) = download(link).await;
    assert_eq!((status, failed), (200, false));
    assert_eq!(ndjson_rows(&whole).len(), 1000);

    tenant.faults().fail_file_next(1);
    let response = reqwest::get(link).await.unwrap();
    assert_eq!(response.status().as_u16(), 500);
    assert_eq!(response.headers()["content-type"], "application/xml");
    let xml = response.text().await.unwrap();
    assert!(xml.contains("<Code>InternalError</Code>"), "{xml}");

    tenant.faults().cut_file_next(1);
    let (status, cut, failed) = download(link).await;
    assert_eq!(status, 200);
    assert!(failed, "a cut download ends with an error");
    assert!(
        !cut.is_empty() && cut.len() < whole.len(),
        "{} of {}",
        cut.len(),
        whole.len()
    );

    tenant.faults().empty_file_next(1);
    let (status, empty, failed) = download(link).await;
    assert_eq!((status, empty.len(), failed), (200, 0, false));

    tenant.faults().truncate_file_next(1);
    let (status, truncated, failed) = download(link).await;
    assert_eq!((status, failed), (200, false), "the body ends cleanly");
    assert!(!truncated.is_empty() && truncated.len() < whole.len());
    let mut text = Vec::new();
    let decoded = flate2::read::GzDecoder::new(truncated.as_slice()).read_to_end(&mut text);
    assert!(decoded.is_err(), "the GZIP stream is truncated");
    assert!(!text.is_empty(), "what came decodes as far as it goes");

    // Each fault was for one download; clear() removes pending ones.
    assert_eq!(download(link).await.1, whole);
    tenant.faults().fail_file_next(3);
    tenant.faults().clear();
    assert_eq!(download(link).await.1, whole);
    assert_eq!(tenant.file_requests(), 7);
    assert_eq!(tenant.total_calls(), 1);
}

#[tokio::test]
async fn expired_and_unknown_links_are_refused_as_storage_refuses_them() {
    let tenant = small().rows_per_file(300).start().await.unwrap();
    let token = tenant.issue_token();
    let old = export_links(&tenant, &token, "SoftwareInventoryExport").await;
    assert_eq!(download(&old[0]).await.0, 200);

    tenant.faults().expire_links();
    let response = reqwest::get(&old[0]).await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(response.headers()["content-type"], "application/xml");
    assert_eq!(
        response.headers()["x-ms-error-code"],
        "AuthenticationFailed"
    );
    let xml = response.text().await.unwrap();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request."),
        "{xml}"
    );
    assert!(xml.contains("\nRequestId:"), "{xml}");
    assert!(
        xml.contains(
            "<AuthenticationErrorDetail>Signature not valid in the specified time frame: Start ["
        ),
        "{xml}"
    );
    assert!(
        xml.contains("] - Expiry [") && xml.contains("] - Current ["),
        "{xml}"
    );

    // Fresh links work; clear() does not revive the expired ones.
    let fresh = export_links(&tenant, &token, "SoftwareInventoryExport").await;
    assert_eq!(download(&fresh[0]).await.0, 200);
    tenant.faults().clear();
    assert_eq!(download(&old[0]).await.0, 403);

    // A forged signature, or a signature used for another file, is refused too.
    let forged = format!("{}&sig=forged", fresh[0].split("&sig=").next().unwrap());
    let response = reqwest::get(&forged).await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("AuthenticationFailed")
    );
    assert!(fresh.len() > 1);
    {
        let sig = fresh[1].split("&sig=").nth(1).unwrap();
        let other = format!("{}&sig={sig}", fresh[0].split("&sig=").next().unwrap());
        assert_eq!(reqwest::get(&other).await.unwrap().status().as_u16(), 403);
    }
}

#[tokio::test]
async fn files_are_sent_as_they_are_made_and_a_client_may_stop_reading() {
    let tenant = DemoTenant::builder()
        .devices(80)
        .unlimited()
        .start()
        .await
        .unwrap();
    let token = tenant.issue_token();
    let links = export_links(&tenant, &token, "SoftwareVulnerabilitiesExport").await;
    let mut response = reqwest::get(&links[0]).await.unwrap();
    // No length up front: the body is made as it is sent.
    assert!(response.headers().get("content-length").is_none());
    let first = response.chunk().await.unwrap().unwrap();
    assert_eq!(&first[..2], &[0x1f, 0x8b], "a GZIP stream");
    drop(response);
    // The tenant goes on serving.
    let (status, body, failed) = download(&links[0]).await;
    assert_eq!((status, failed), (200, false));
    assert_eq!(
        ndjson_rows(&body).len(),
        tenant.truth().vulnerability_row_count()
    );
}

#[test]
fn the_same_seed_size_and_snapshot_give_the_same_rows() {
    let size = defender_tvm_demo::Size {
        devices: 30,
        software: 50,
    };
    let a = defender_tvm_demo::Estate::generate_at(9, size, pinned_snapshot());
    let b = defender_tvm_demo::Estate::generate_at(9, size, pinned_snapshot());
    let later = defender_tvm_demo::Estate::generate_at(
        9,
        size,
        pinned_snapshot() + Duration::from_secs(86_400),
    );
    let rows = |e: &defender_tvm_demo::Estate| {
        e.vulnerability_rows()
            .map(|r| serde_json::to_value(&r).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&a), rows(&b));
    let changes = |e: &defender_tvm_demo::Estate| {
        e.changes(UNIX_EPOCH)
            .map(|c| serde_json::to_value(&c).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(changes(&a), changes(&b));
    // Another snapshot moves the times, not the rows.
    let ids =
        |e: &defender_tvm_demo::Estate| e.vulnerability_rows().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&later));
    assert_ne!(rows(&a), rows(&later));
    // Rows can be made from any index on.
    let all: Vec<String> = ids(&a);
    for first in [
        0,
        1,
        17,
        all.len() / 2,
        all.len() - 1,
        all.len(),
        all.len() + 5,
    ] {
        let from: Vec<String> = a.vulnerability_rows_from(first).map(|r| r.id).collect();
        assert_eq!(from, all[first.min(all.len())..], "{first}");
    }
}
