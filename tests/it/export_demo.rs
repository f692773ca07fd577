//! The export facade against the demo tenant: every row of each export (JSON pages, via files,
//! inventory, the change feed) equals the tenant's ground truth; file faults (a failed
//! download, a cut body, an empty 200, expired links) change nothing in the rows; a truncated
//! file is an error naming the file; no token goes to the file origin; a client whose budgets
//! match the tenant's receives no 429 while it mixes calls of every class.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use defender_tvm::types::{SoftwareInventory, SoftwareVulnerability};
use defender_tvm::{
    Client, Error, ExportErrorKind, ExportPages, ExportRowsOptions, RateLimit, RetryPolicy,
};
use defender_tvm_demo::{DemoTenant, DemoTenantBuilder};
use futures::TryStreamExt;

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

/// What a vulnerability row says, as comparable text: id, KB id, first seen (Unix seconds).
type RowKey = (String, Option<String>, Option<i64>);

fn utc(time: std::time::SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(time)
}

/// The truth's vulnerability rows, keyed, with how often each appears.
fn truth_vulnerabilities(tenant: &DemoTenant) -> BTreeMap<RowKey, usize> {
    let mut rows = BTreeMap::new();
    for row in tenant.truth().vulnerability_rows() {
        let key = (
            row.id.clone(),
            row.recommended_security_update_id.map(str::to_owned),
            Some(row.first_seen_timestamp.unix_seconds()),
        );
        *rows.entry(key).or_insert(0) += 1;
    }
    rows
}

fn keyed_vulnerabilities(rows: &[SoftwareVulnerability]) -> BTreeMap<RowKey, usize> {
    let mut keyed = BTreeMap::new();
    for row in rows {
        let key = (
            row.id.clone(),
            row.recommended_security_update_id.clone(),
            row.first_seen_timestamp.map(|t| t.as_utc().timestamp()),
        );
        *keyed.entry(key).or_insert(0) += 1;
    }
    keyed
}

fn keyed_inventory(rows: &[SoftwareInventory]) -> BTreeMap<String, usize> {
    let mut keyed = BTreeMap::new();
    for row in rows {
        *keyed.entry(row.id.clone()).or_insert(0) += 1;
    }
    keyed
}

fn truth_inventory(tenant: &DemoTenant) -> BTreeMap<String, usize> {
    let mut rows = BTreeMap::new();
    for row in tenant.truth().inventory_rows() {
        *rows.entry(row.id.clone()).or_insert(0) += 1;
    }
    rows
}

/// Every row of the via-files vulnerabilities export, and the progress at its end.
async fn file_rows(
    client: &Client,
    options: ExportRowsOptions,
) -> Result<(Vec<SoftwareVulnerability>, defender_tvm::ExportProgress), Error> {
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

    let (rows, progress) = file_rows(&client, ExportRowsOptions::new()).await.unwrap();
    assert_eq!(keyed_vulnerabilities(&rows), want, "via files");
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
    assert_eq!(keyed_vulnerabilities(&pages), want, "JSON pages");
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
    assert_eq!(keyed_inventory(&got), inventory, "inventory via files");
    let pages = client
        .software_inventory_by_machine(ExportPages::new())
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(keyed_inventory(&pages), inventory, "inventory pages");

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
    let want: BTreeMap<(String, String, i64), usize> =
        tenant
            .truth()
            .changes(since)
            .fold(BTreeMap::new(), |mut all, change| {
                let key = (
                    change.row.id.clone(),
                    change.status.as_str().to_owned(),
                    change.event_timestamp.unix_seconds(),
                );
                *all.entry(key).or_insert(0) += 1;
                all
            });
    assert!(!want.is_empty(), "the tenant has changes in three days");

    let got = client
        .software_vulnerability_changes_by_machine(utc(since), ExportPages::new().page_size(50))
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let got = got.iter().fold(BTreeMap::new(), |mut all, change| {
        let key = (
            change.vulnerability.id.clone(),
            change.status.as_ref().map_or("", |s| s.as_str()).to_owned(),
            change.event_timestamp.map_or(0, |t| t.as_utc().timestamp()),
        );
        *all.entry(key).or_insert(0) += 1;
        all
    });
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
        assert_eq!(keyed_vulnerabilities(&rows), want, "{name}");
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
    let mut got = Vec::new();
    // Read into the third file, then every link issued so far expires.
    while got.len() < 2 * 150 + 10 {
        got.push(rows.try_next().await.unwrap().unwrap());
    }
    tenant.faults().expire_links();
    while let Some(row) = rows.try_next().await.unwrap() {
        got.push(row);
    }
    assert_eq!(keyed_vulnerabilities(&got), want);
    let progress = rows.progress();
    assert_eq!(progress.link_renewals, 1, "{progress:?}");
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
    assert_eq!(
        keyed_vulnerabilities(&pages),
        truth_vulnerabilities(&tenant)
    );
    assert_eq!(tenant.throttled(), 0);
    assert!(tenant.calls("list_software_vulnerabilities_by_machine") > 3);
}
