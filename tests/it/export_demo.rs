//! The export facade against the demo tenant: every row of each export (JSON pages, via files,
//! inventory, the change feed) equals the tenant's ground truth, every field of it; file faults (a failed
//! download, a cut body, an empty 200, expired links) change nothing in the rows; a truncated
//! file is an error naming the file; no token goes to the file origin; a client whose budgets
//! match the tenant's receives no 429 while it mixes calls of every class.

use std::time::Duration;

use chrono::{DateTime, Utc};
use defender_tvm::export::{SoftwareInventory, SoftwareVulnerability};
use defender_tvm::{
    Client, Error, RateLimit, RetryPolicy,
    error::ExportErrorKind,
    export::{ExportPages, ExportRowsOptions},
};
use defender_tvm_demo::{DemoTenant, DemoTenantBuilder, InventoryRow, Timestamp, VulnerabilityRow};
use futures::TryStreamExt;

use crate::exports::{Inventory, inventory_fields};

fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

fn client_for(tenant: &DemoTenant) -> Client {
    crate::common::signed_in_to(tenant)
        .retry(quick())
        .rate_limit(RateLimit::disabled())
        .json_export_rate_limit(RateLimit::disabled())
        .file_export_rate_limit(RateLimit::disabled())
        .build()
        .unwrap()
}

/// A tenant of a few thousand rows in files of at most 150 rows.
fn small() -> DemoTenantBuilder {
    DemoTenant::builder()
        .devices(60)
        .software(40)
        .rows_per_file(150)
        .unlimited()
}

fn utc(time: std::time::SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(time)
}

/// Every field of a vulnerability row, as plain values: from the library's row, or mapped by
/// hand from the truth's.
#[derive(Debug, Clone, PartialEq)]
struct Vulnerability {
    id: String,
    device_id: String,
    device_name: Option<String>,
    rbac_group_name: Option<String>,
    rbac_group_id: Option<i64>,
    os_platform: Option<String>,
    os_version: Option<String>,
    os_architecture: Option<String>,
    software_vendor: Option<String>,
    software_name: Option<String>,
    software_version: Option<String>,
    cve_id: Option<String>,
    cvss_score: Option<f64>,
    vulnerability_severity_level: Option<String>,
    recommended_security_update: Option<String>,
    recommended_security_update_id: Option<String>,
    recommended_security_update_url: Option<String>,
    security_update_available: Option<bool>,
    exploitability_level: Option<String>,
    first_seen_timestamp: Option<DateTime<Utc>>,
    last_seen_timestamp: Option<DateTime<Utc>>,
    disk_paths: Vec<String>,
    registry_paths: Vec<String>,
    recommendation_reference: Option<String>,
    cve_batch_title: Option<String>,
    end_of_support_status: Option<String>,
    end_of_support_date: Option<DateTime<Utc>>,
}

/// How many fields [`Vulnerability`] has: every field of `SoftwareVulnerability`.
const VULNERABILITY_FIELDS: usize = 27;

/// A row time of the truth, as an instant (to its 100 ns tick).
fn instant(time: Timestamp) -> DateTime<Utc> {
    utc(time.to_system_time())
}

/// A time the tenant writes as text, as the service writes row times (read here with chrono,
/// not the library).
fn service_text_time(text: &str) -> DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("the tenant wrote {text:?}: {e}"))
        .and_utc()
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_owned)
}

/// A truth row, field by field (every field named: a new one does not compile until mapped).
fn truth_vulnerability(row: &VulnerabilityRow<'_>) -> Vulnerability {
    let VulnerabilityRow {
        id,
        device_id,
        device_name,
        rbac_group_name,
        rbac_group_id,
        os_platform,
        os_version,
        os_architecture,
        software_vendor,
        software_name,
        software_version,
        cve_id,
        cvss_score,
        vulnerability_severity_level,
        recommended_security_update,
        recommended_security_update_id,
        recommended_security_update_url,
        security_update_available,
        exploitability_level,
        first_seen_timestamp,
        last_seen_timestamp,
        disk_paths,
        registry_paths,
        recommendation_reference,
        end_of_support_status,
        end_of_support_date,
        cve_batch_title,
    } = row;
    Vulnerability {
        id: id.clone(),
        device_id: (*device_id).to_owned(),
        device_name: Some((*device_name).to_owned()),
        rbac_group_name: Some((*rbac_group_name).to_owned()),
        rbac_group_id: Some(*rbac_group_id),
        os_platform: Some((*os_platform).to_owned()),
        os_version: Some(os_version.clone()),
        os_architecture: Some((*os_architecture).to_owned()),
        software_vendor: Some((*software_vendor).to_owned()),
        software_name: Some((*software_name).to_owned()),
        software_version: Some((*software_version).to_owned()),
        cve_id: owned(*cve_id),
        cvss_score: *cvss_score,
        vulnerability_severity_level: owned(*vulnerability_severity_level),
        recommended_security_update: owned(*recommended_security_update),
        recommended_security_update_id: owned(*recommended_security_update_id),
        recommended_security_update_url: owned(*recommended_security_update_url),
        security_update_available: Some(*security_update_available),
        exploitability_level: Some((*exploitability_level).to_owned()),
        first_seen_timestamp: Some(instant(*first_seen_timestamp)),
        last_seen_timestamp: Some(instant(*last_seen_timestamp)),
        disk_paths: disk_paths.to_vec(),
        registry_paths: registry_paths.to_vec(),
        recommendation_reference: owned(*recommendation_reference),
        cve_batch_title: owned(*cve_batch_title),
        end_of_support_status: owned(*end_of_support_status),
        end_of_support_date: end_of_support_date.map(service_text_time),
    }
}

/// A row the library decoded, field by field.
fn vulnerability(row: &SoftwareVulnerability) -> Vulnerability {
    let keys = serde_json::to_value(row)
        .unwrap()
        .as_object()
        .unwrap()
        .len();
    assert_eq!(
        keys, VULNERABILITY_FIELDS,
        "a field the comparison does not know"
    );
    let time = |t: Option<defender_tvm::export::ExportTimestamp>| t.map(|t| t.as_utc());
    Vulnerability {
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
        cve_id: row.cve_id.clone(),
        cvss_score: row.cvss_score,
        vulnerability_severity_level: row
            .vulnerability_severity_level
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        recommended_security_update: row.recommended_security_update.clone(),
        recommended_security_update_id: row.recommended_security_update_id.clone(),
        recommended_security_update_url: row.recommended_security_update_url.clone(),
        security_update_available: row.security_update_available,
        exploitability_level: row
            .exploitability_level
            .as_ref()
            .map(|l| l.as_str().to_owned()),
        first_seen_timestamp: time(row.first_seen_timestamp),
        last_seen_timestamp: time(row.last_seen_timestamp),
        disk_paths: row.disk_paths.clone(),
        registry_paths: row.registry_paths.clone(),
        recommendation_reference: row.recommendation_reference.clone(),
        cve_batch_title: row.cve_batch_title.clone(),
        end_of_support_status: row.end_of_support_status.clone(),
        end_of_support_date: time(row.end_of_support_date),
    }
}

/// Rows in one order, whatever order they came in (a row that comes twice stays twice).
fn sorted<T: std::fmt::Debug>(mut rows: Vec<T>) -> Vec<T> {
    rows.sort_by_cached_key(|row| format!("{row:?}"));
    rows
}

/// The truth's vulnerability rows, every field.
fn truth_vulnerabilities(tenant: &DemoTenant) -> Vec<Vulnerability> {
    sorted(
        tenant
            .truth()
            .vulnerability_rows()
            .map(|row| truth_vulnerability(&row))
            .collect(),
    )
}

fn vulnerabilities(rows: &[SoftwareVulnerability]) -> Vec<Vulnerability> {
    sorted(rows.iter().map(vulnerability).collect())
}

/// A truth inventory row, field by field (every field named).
fn truth_inventory_row(row: &InventoryRow<'_>) -> Inventory {
    let InventoryRow {
        id,
        device_id,
        device_name,
        rbac_group_name,
        rbac_group_id,
        os_platform,
        os_version,
        os_architecture,
        software_vendor,
        software_name,
        software_version,
        number_of_weaknesses,
        disk_paths,
        registry_paths,
        software_first_seen_timestamp,
        end_of_support_status,
        end_of_support_date,
    } = row;
    Inventory {
        id: id.clone(),
        device_id: (*device_id).to_owned(),
        device_name: Some((*device_name).to_owned()),
        rbac_group_name: Some((*rbac_group_name).to_owned()),
        rbac_group_id: Some(*rbac_group_id),
        os_platform: Some((*os_platform).to_owned()),
        os_version: Some(os_version.clone()),
        os_architecture: Some((*os_architecture).to_owned()),
        software_vendor: Some((*software_vendor).to_owned()),
        software_name: Some((*software_name).to_owned()),
        software_version: Some((*software_version).to_owned()),
        number_of_weaknesses: Some(*number_of_weaknesses as i64),
        disk_paths: disk_paths.to_vec(),
        registry_paths: registry_paths.to_vec(),
        software_first_seen_timestamp: Some(instant(*software_first_seen_timestamp)),
        end_of_support_status: owned(*end_of_support_status),
        end_of_support_date: end_of_support_date.map(service_text_time),
    }
}

fn inventory_of(rows: &[SoftwareInventory]) -> Vec<Inventory> {
    sorted(rows.iter().map(inventory_fields).collect())
}

fn truth_inventory(tenant: &DemoTenant) -> Vec<Inventory> {
    sorted(
        tenant
            .truth()
            .inventory_rows()
            .map(|row| truth_inventory_row(&row))
            .collect(),
    )
}

/// Every row of the via-files vulnerabilities export, and the progress at its end.
async fn file_rows(
    client: &Client,
    options: ExportRowsOptions,
) -> Result<
    (
        Vec<SoftwareVulnerability>,
        defender_tvm::export::ExportProgress,
    ),
    Error,
> {
    let mut rows = client.software_vulnerabilities_export_rows(options).await?;
    let mut all = Vec::new();
    while let Some(row) = rows.try_next().await? {
        all.push(row);
    }
    Ok((all, rows.progress()))
}

#[tokio::test]
async fn every_export_gives_the_truths_rows_once_each() {
    let tenant = small().start().await.unwrap();
    let client = client_for(&tenant);
    let want = truth_vulnerabilities(&tenant);
    assert!(
        want.len() > 1_000,
        "the tenant has {} vulnerability rows: too few to cross files and pages",
        want.len()
    );
    assert!(
        want.iter()
            .any(|row| row.cve_id.is_none() && row.id.ends_with("__")),
        "rows without a CVE are among them"
    );

    let (rows, progress) = file_rows(&client, ExportRowsOptions::new()).await.unwrap();
    assert_eq!(vulnerabilities(&rows), want, "via files");
    let files = want.len().div_ceil(150);
    assert_eq!(progress.files_total, files);
    assert_eq!(progress.files_done, files);
    assert_eq!(progress.rows, want.len() as u64);
    assert_eq!(progress.downloads_repeated, 0);
    assert_eq!(progress.link_renewals, 0);

    let pages = client
        .software_vulnerabilities_by_machine(ExportPages::new().page_size(700))
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(vulnerabilities(&pages), want, "JSON pages");
    assert_eq!(
        tenant.calls("list_software_vulnerabilities_by_machine") as usize,
        want.len().div_ceil(700)
    );

    let inventory = truth_inventory(&tenant);
    let mut files = client
        .software_inventory_export_rows(ExportRowsOptions::new())
        .await
        .unwrap();
    let mut got = Vec::new();
    while let Some(row) = files.try_next().await.unwrap() {
        got.push(row);
    }
    assert_eq!(inventory_of(&got), inventory, "inventory via files");
    let pages = client
        .software_inventory_by_machine(ExportPages::new())
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(inventory_of(&pages), inventory, "inventory pages");

    // The files went to the file origin, never with a token; the export calls were two.
    assert!(tenant.file_requests() >= files.progress().files_total as u64);
    assert_eq!(tenant.file_requests_with_authorization(), 0);
    assert_eq!(tenant.calls("export_software_vulnerabilities"), 1);
    assert_eq!(tenant.calls("export_software_inventory"), 1);
}

#[tokio::test]
async fn the_stream_carries_the_snapshots_time_and_rows_read_the_services_timestamps() {
    let tenant = small().start().await.unwrap();
    let client = client_for(&tenant);
    let rows = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new())
        .await
        .unwrap();
    assert_eq!(rows.generated_time(), utc(tenant.snapshot_time()));
    let rows: Vec<SoftwareVulnerability> = rows.try_collect().await.unwrap();
    let first_seen: Vec<_> = rows
        .iter()
        .filter_map(|row| row.first_seen_timestamp)
        .collect();
    assert_eq!(first_seen.len(), rows.len(), "every row has its first seen");
    assert!(
        first_seen
            .iter()
            .all(|t| t.as_utc() <= utc(tenant.snapshot_time())),
        "first seen is never after the snapshot"
    );
}

#[tokio::test]
async fn the_change_feed_gives_the_truths_changes_since_the_time_asked() {
    // The default snapshot is the tenant's start (to the hour): within the 14 days the client
    // accepts.
    let tenant = small().start().await.unwrap();
    let client = client_for(&tenant);
    let since = tenant.snapshot_time() - Duration::from_secs(3 * 24 * 3600);
    // Every field of each change's row, its status and its time (to the tick).
    let want: Vec<(Vulnerability, String, DateTime<Utc>)> = sorted(
        tenant
            .truth()
            .changes(since)
            .map(|change| {
                (
                    truth_vulnerability(&change.row),
                    change.status.as_str().to_owned(),
                    instant(change.event_timestamp),
                )
            })
            .collect(),
    );
    assert!(!want.is_empty(), "the tenant has changes in three days");

    let got = client
        .software_vulnerability_changes_by_machine(
            defender_tvm::export::ChangesSince::new(utc(since)).unwrap(),
            ExportPages::new().page_size(50),
        )
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let got = sorted(
        got.iter()
            .map(|change| {
                (
                    vulnerability(&change.vulnerability),
                    change.status.as_ref().map_or("", |s| s.as_str()).to_owned(),
                    change
                        .event_timestamp
                        .map_or(DateTime::<Utc>::UNIX_EPOCH, |t| t.as_utc()),
                )
            })
            .collect(),
    );
    assert_eq!(got, want);
}

#[tokio::test]
async fn file_faults_change_nothing_in_the_rows_and_are_counted() {
    let tenant = small().start().await.unwrap();
    let client = client_for(&tenant);
    let want = truth_vulnerabilities(&tenant);
    let options = ExportRowsOptions::new().concurrency(1);

    let files = want.len().div_ceil(150) as u64;

    // A 500 before any byte is retried by the client's retry policy, as any call; a body cut
    // mid-way and an empty 200 are downloads made again by the export reader. Each fault costs
    // one more download, and no row.
    type Fault = fn(&DemoTenant);
    let faults: [(Fault, &str, u64); 3] = [
        (|t| t.faults().fail_file_next(1), "a failed download", 0),
        (|t| t.faults().cut_file_next(1), "a cut body", 1),
        (|t| t.faults().empty_file_next(1), "an empty 200", 1),
    ];
    for (fault, name, repeated) in faults {
        let before = tenant.file_requests();
        fault(&tenant);
        let (rows, progress) = file_rows(&client, options).await.unwrap();
        assert_eq!(vulnerabilities(&rows), want, "{name}");
        assert_eq!(tenant.file_requests() - before, files + 1, "{name}");
        assert_eq!(progress.downloads_repeated, repeated, "{name}");
        assert_eq!(progress.link_renewals, 0, "{name}");
    }
}

#[tokio::test]
async fn links_that_expire_mid_read_are_renewed_and_reading_goes_on_from_the_file_that_failed() {
    let tenant = small().start().await.unwrap();
    let client = client_for(&tenant);
    let want = truth_vulnerabilities(&tenant);

    let mut rows = client
        .software_vulnerabilities_export_rows(ExportRowsOptions::new().concurrency(1))
        .await
        .unwrap();
    // A handle reads where reading stands from elsewhere (a display), as the stream goes.
    let handle = rows.progress_handle();
    let mut got = Vec::new();
    // Read into the third file, then every link issued so far expires.
    while got.len() < 2 * 150 + 10 {
        got.push(rows.try_next().await.unwrap().unwrap());
    }
    assert_eq!(handle.clone().get().rows, 2 * 150 + 10);
    tenant.faults().expire_links();
    while let Some(row) = rows.try_next().await.unwrap() {
        got.push(row);
    }
    assert_eq!(vulnerabilities(&got), want);
    let progress = rows.progress();
    assert_eq!(progress.link_renewals, 1, "{progress:?}");
    assert_eq!(
        handle.get(),
        progress,
        "the handle reads the stream's own counters"
    );
    assert_eq!(progress.rows, got.len() as u64);
    assert_eq!(tenant.calls("export_software_vulnerabilities"), 2);
    assert_eq!(tenant.file_requests_with_authorization(), 0);
}

#[tokio::test]
async fn a_truncated_file_is_an_error_naming_the_file_never_its_link() {
    let tenant = small().rows_per_file(100_000).start().await.unwrap();
    let client = client_for(&tenant);
    tenant.faults().truncate_file_next(1);
    let error = file_rows(&client, ExportRowsOptions::new().downloads(1))
        .await
        .unwrap_err();
    let Error::Export(export) = &error else {
        panic!("not an export error: {error:?}");
    };
    assert_eq!(export.kind, ExportErrorKind::Truncated, "{error}");
    let text = format!("{error} {error:?}");
    assert!(text.contains(".json.gz"), "names the file: {text}");
    assert!(!text.contains("sig="), "shows no signature: {text}");
    assert!(
        !text.contains(tenant.files_base_url()),
        "shows no link: {text}"
    );
}

#[tokio::test]
async fn a_client_with_the_tenants_budgets_receives_no_429_mixing_every_class() {
    let per = Duration::from_secs(2);
    let tenant = small()
        .budget(6, per)
        .json_export_budget(3, per)
        .file_export_budget(1, per)
        .start()
        .await
        .unwrap();
    let client = crate::common::signed_in_to(&tenant)
        .retry(RetryPolicy::disabled())
        .rate_limit(RateLimit::new(6, per))
        .json_export_rate_limit(RateLimit::new(3, per))
        .file_export_rate_limit(RateLimit::new(1, per))
        .build()
        .unwrap();

    let general = async {
        for _ in 0..8 {
            client
                .software_by_id("microsoft-_-windows_11")
                .await
                .unwrap();
        }
    };
    let json = async {
        client
            .software_vulnerabilities_by_machine(ExportPages::new().page_size(300))
            .items()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
    };
    let files = async {
        for _ in 0..2 {
            client
                .software_inventory_export(Default::default())
                .await
                .unwrap();
        }
    };
    let ((), pages, ()) = tokio::join!(general, json, files);
    assert_eq!(vulnerabilities(&pages), truth_vulnerabilities(&tenant));
    assert_eq!(tenant.throttled(), 0);
    assert!(tenant.calls("list_software_vulnerabilities_by_machine") > 3);
}

#[tokio::test]
async fn zero_files_at_a_time_or_zero_downloads_are_refused_before_the_export_call() {
    let tenant = DemoTenant::builder().devices(5).start().await.unwrap();
    let client = crate::common::demo_client(&tenant);
    for (options, says) in [
        (ExportRowsOptions::new().concurrency(0), "concurrency is 0"),
        (ExportRowsOptions::new().downloads(0), "downloads is 0"),
    ] {
        let error = client
            .software_vulnerabilities_export_rows(options)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
        assert!(error.to_string().contains(says), "{error}");
    }
    assert_eq!(tenant.total_calls(), 0);
}
