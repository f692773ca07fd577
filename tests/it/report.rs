//! The estate report against the demo tenant: its rollup equals the one computed from the
//! tenant's raw installations and CVEs; it makes exactly the planned calls, at the planned
//! concurrency; faults do not change it; a vanished software or a refused device listing makes it
//! partial and the rest finishes; a sign-in failure, at planning or mid-run, is one error; resume
//! asks nothing twice; the priority order; exact device counts; progress as it goes; and, on a
//! hand-written answer, rows in order.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use defender_tvm::report::SourceChoice;
use defender_tvm::{
    Client, Error, RateLimit, RetryPolicy,
    report::{FailureKind, Report, ReportEvent, ReportOptions, Selection},
    types::{SoftwareField, SoftwareFilter},
};
use defender_tvm_demo::DemoTenant;

/// The options of a report from calls (what these tests are about; `report_export.rs` tests
/// the report from the export).
fn calls() -> ReportOptions {
    ReportOptions::new().source(SourceChoice::Calls)
}

fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

fn client_for(tenant: &DemoTenant, limit: RateLimit) -> Client {
    crate::common::signed_in_to(tenant)
        .retry(quick())
        .rate_limit(limit)
        .build()
        .unwrap()
}

async fn small_tenant() -> DemoTenant {
    DemoTenant::builder()
        .devices(120)
        .software(60)
        .unlimited()
        .start()
        .await
        .unwrap()
}

/// A KB as the report should roll it up.
#[derive(Debug, PartialEq, Default)]
struct Expected {
    name: Option<String>,
    url: Option<String>,
    products: Vec<String>,
    software_ids: Vec<String>,
    cves: i64,
    devices: i64,
    public_exploit: bool,
}

/// The rollup the tenant's raw tables imply, computed without the summaries and answers the
/// server derives from them: a software is asked about when one of its installations is exposed
/// to a CVE (it has weaknesses); it has a public exploit when one of those CVEs has; each KB an
/// installation misses counts that device once for that software.
fn truth_rollup(tenant: &DemoTenant) -> BTreeMap<String, Expected> {
    let truth = tenant.truth();
    let mut open: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); truth.software.len()];
    for installation in &truth.installations {
        open[installation.software].extend(installation.exposed.iter().copied());
    }
    let mut rollup: BTreeMap<String, Expected> = BTreeMap::new();
    for installation in &truth.installations {
        let cves = &open[installation.software];
        if cves.is_empty() {
            continue;
        }
        let software = &truth.software[installation.software];
        for &k in &installation.missing_kbs {
            let kb = &truth.kbs[k];
            let entry = rollup.entry(kb.id.clone()).or_default();
            entry.name = Some(kb.name.clone());
            entry.url = Some(kb.url.clone());
            entry.products = kb
                .products
                .iter()
                .map(|&p| truth.software[p].name.clone())
                .collect();
            entry.products.sort();
            if !entry.software_ids.contains(&software.id) {
                entry.software_ids.push(software.id.clone());
                entry.software_ids.sort();
            }
            entry.cves = kb.cves.len() as i64;
            entry.devices += 1;
            entry.public_exploit |= cves.iter().any(|&c| truth.cves[c].public_exploit);
        }
    }
    rollup
}

fn rollup_of(report: &Report) -> BTreeMap<String, Expected> {
    report
        .kbs
        .iter()
        .map(|kb| {
            (
                kb.id.clone(),
                Expected {
                    name: kb.name.clone(),
                    url: kb.url.clone(),
                    products: kb.products.clone(),
                    software_ids: kb.software_ids.clone(),
                    cves: kb.cves_addressed,
                    devices: kb.devices,
                    public_exploit: kb.public_exploit,
                },
            )
        })
        .collect()
}

/// The software the raw tables say are vulnerable (an installation exposed to a CVE).
fn vulnerable(tenant: &DemoTenant) -> BTreeSet<String> {
    let truth = tenant.truth();
    truth
        .installations
        .iter()
        .filter(|i| !i.exposed.is_empty())
        .map(|i| truth.software[i.software].id.clone())
        .collect()
}

use crate::common::report_of;

/// A report with its timestamp blanked, to compare runs.
fn comparable(mut report: Report) -> Report {
    report.generated_at = chrono::DateTime::UNIX_EPOCH;
    report
}

#[tokio::test]
async fn the_rollup_equals_the_truth_and_the_calls_equal_the_plan() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());

    let plan = client.plan_missing_kbs_report(calls()).await.unwrap();
    let vulnerable = vulnerable(&tenant);
    assert_eq!(plan.listed(), 60, "the whole inventory was listed");
    assert!(!plan.lists_devices());
    assert_eq!(plan.calls(), vulnerable.len());
    let selected: BTreeSet<String> = plan.software().iter().map(|s| s.id.clone()).collect();
    assert_eq!(selected, vulnerable);
    assert_eq!(
        tenant.calls("get_missing_kbs_by_software_id"),
        0,
        "nothing before the run"
    );
    let mut done = 0;
    let report = plan
        .run(|event| {
            if let ReportEvent::SoftwareDone { progress, .. } = event {
                done += 1;
                assert_eq!(progress.software_total, vulnerable.len());
            }
        })
        .await
        .unwrap();

    assert_eq!(done, vulnerable.len());
    assert_eq!(
        tenant.calls("get_missing_kbs_by_software_id") as usize,
        vulnerable.len()
    );
    assert!(!report.partial);
    assert_eq!(report.software_count, vulnerable.len());
    let expected = truth_rollup(&tenant);
    assert!(
        expected.values().any(|kb| kb.public_exploit)
            && expected.values().any(|kb| !kb.public_exploit),
        "the estate has KBs with and without a public exploit"
    );
    assert!(expected.values().any(|kb| kb.products.len() > 1));
    assert_eq!(rollup_of(&report), expected);
    assert!(
        report
            .kbs
            .iter()
            .all(|kb| !kb.devices_exact && kb.device_ids.is_none()),
        "without the devices option, counts are sums and no device is listed"
    );
    assert_eq!(report.devices(), None);
    assert_eq!(
        report.cves_addressed(),
        expected.values().map(|kb| kb.cves).sum::<i64>()
    );
    // One row per (software, KB), in that order.
    let rows: Vec<(String, String)> = report
        .rows
        .iter()
        .map(|r| (r.software.id.clone(), r.kb_id.clone()))
        .collect();
    let mut truth_rows: Vec<(String, String)> = expected
        .iter()
        .flat_map(|(kb, e)| e.software_ids.iter().map(|s| (s.clone(), kb.clone())))
        .collect();
    truth_rows.sort();
    assert_eq!(rows, truth_rows);

    // Serializable: a JSON round trip gives the same report.
    let json = serde_json::to_string(&report).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[tokio::test]
async fn kbs_come_in_priority_order_and_the_order_can_be_replaced() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());

    let report = report_of(&client, calls()).await;

    for pair in report.kbs.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let weight = |kb: &defender_tvm::report::KbRollup| kb.cves_addressed * kb.devices;
        assert!(
            (a.public_exploit, weight(a), std::cmp::Reverse(&a.id))
                >= (b.public_exploit, weight(b), std::cmp::Reverse(&b.id)),
            "{} before {}",
            a.id,
            b.id
        );
    }
    let ranks: Vec<usize> = report.kbs.iter().map(|kb| kb.rank).collect();
    assert_eq!(ranks, (1..=report.kbs.len()).collect::<Vec<_>>());

    let by_id = report_of(&client, calls().priority(|a, b| a.id.cmp(&b.id))).await;
    let ids: Vec<&str> = by_id.kbs.iter().map(|kb| kb.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

#[tokio::test]
async fn injected_503s_and_429s_do_not_change_the_report() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let clean = report_of(&client, calls()).await;

    let faulty = DemoTenant::builder()
        .devices(120)
        .software(60)
        .budget(15, Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    faulty.faults().fail_every(5);
    let retrying = crate::common::signed_in_to(&faulty)
        .retry(
            quick()
                .max_attempts(8)
                .max_retry_after(Duration::from_secs(5)),
        )
        .rate_limit(RateLimit::disabled())
        .build()
        .unwrap();
    let report = report_of(&retrying, calls()).await;

    assert!(faulty.throttled() > 0, "the budget was hit");
    assert_eq!(comparable(report), comparable(clean));
}

#[tokio::test]
async fn a_vanished_software_makes_a_partial_report_and_every_other_software_finishes() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let clean = report_of(&client, calls()).await;
    // One call at a time: the first software fails, and all the others still come after it.
    let plan = client
        .plan_missing_kbs_report(calls().concurrency(1))
        .await
        .unwrap();
    let gone = plan.software()[0].id.clone();
    let calls = plan.calls() as u64;
    let asked_before = tenant.calls("get_missing_kbs_by_software_id");
    tenant.faults().vanish(&gone);

    let report = plan.finish().await.unwrap();

    assert!(report.partial);
    assert_eq!(report.failures.len(), 1);
    let failure = &report.failures[0];
    assert_eq!(failure.id, gone);
    assert_eq!(failure.kind, FailureKind::MissingKbs);
    assert_eq!(failure.status, Some(404));
    assert_eq!(failure.code.as_deref(), Some("ResourceNotFound"));
    assert!(failure.error.contains("404"), "{}", failure.error);
    assert_eq!(
        tenant.calls("get_missing_kbs_by_software_id") - asked_before,
        calls,
        "every software was asked"
    );
    let others: Vec<_> = clean
        .rows
        .iter()
        .filter(|row| row.software.id != gone)
        .cloned()
        .collect();
    assert!(!others.is_empty());
    assert_eq!(report.rows, others, "every other software's rows are there");
}

#[tokio::test]
async fn a_sign_in_failure_is_one_error_and_no_missing_kbs_call() {
    let tenant = small_tenant().await;
    let client = crate::common::signed_in_to(&tenant)
        .client_secret(tenant.tenant_id(), tenant.client_id(), "wrong-secret")
        .build()
        .unwrap();

    let err = client.plan_missing_kbs_report(calls()).await.unwrap_err();

    assert!(matches!(err, defender_tvm::Error::Auth(_)), "{err:?}");
    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), 0);
}

#[tokio::test]
async fn a_token_refused_mid_run_stops_the_run_with_one_error() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let plan = client
        .plan_missing_kbs_report(calls().concurrency(1))
        .await
        .unwrap();
    // From here on the service refuses every token, fresh ones included.
    tenant.faults().refuse_tokens();

    let err = plan.finish().await.unwrap_err();

    assert_eq!(err.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    // The first software's call, and its one retry after the token refresh; then the run stops.
    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), 2);
    assert_eq!(tenant.tokens_issued(), 2, "the first token and one refresh");
}

#[tokio::test]
async fn resuming_after_k_of_n_equals_the_uninterrupted_report_and_asks_only_n_minus_k() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let mut kept = Vec::new();
    let full = client
        .plan_missing_kbs_report(calls())
        .await
        .unwrap()
        .run(|event| {
            if let ReportEvent::SoftwareDone { result, .. } = event
                && kept.len() < 7
            {
                kept.push(result.clone());
            }
        })
        .await
        .unwrap();
    let n = tenant.calls("get_missing_kbs_by_software_id");

    let resumed = client
        .plan_missing_kbs_report(calls().resume(kept.clone()))
        .await
        .unwrap();
    assert_eq!(resumed.resumed(), 7);
    assert_eq!(resumed.calls() as u64, n - 7);
    let mut done = Vec::new();
    let report = resumed
        .run(|event| {
            if let ReportEvent::SoftwareDone { progress, .. } = event {
                done.push(progress.software_done);
            }
        })
        .await
        .unwrap();

    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), n + (n - 7));
    assert_eq!(comparable(report), comparable(full));
    // Progress counts the resumed software as done from the start.
    assert_eq!(done, (8..=n as usize).collect::<Vec<_>>());
}

#[tokio::test]
async fn ids_are_asked_once_each_even_when_the_inventory_does_not_list_them() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let ids = [
        "microsoft-_-windows_11",
        "nobody-_-nothing",
        "microsoft-_-windows_11",
    ];

    let plan = client
        .plan_missing_kbs_report(calls().selection(Selection::Ids(ids.map(str::to_owned).to_vec())))
        .await
        .unwrap();

    let selected: Vec<&str> = plan.software().iter().map(|s| s.id.as_str()).collect();
    assert_eq!(selected, ["microsoft-_-windows_11", "nobody-_-nothing"]);
    let listed = &plan.software()[0];
    assert_eq!(listed.vendor.as_deref(), Some("microsoft"));
    assert!(listed.weaknesses.is_some());
    let unlisted = &plan.software()[1];
    assert_eq!(
        (&unlisted.name, &unlisted.vendor, unlisted.weaknesses),
        (&None, &None, None),
        "what the inventory does not list is not made up"
    );
    let report = plan.finish().await.unwrap();
    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), 2);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].id, "nobody-_-nothing");
}

#[tokio::test]
async fn a_report_says_when_it_was_made_and_options_show_what_they_hold() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let before = std::time::SystemTime::now();

    let report = report_of(&client, calls()).await;

    let made = std::time::SystemTime::from(report.generated_at);
    // To the second: within a second of the run.
    assert!(
        made + Duration::from_secs(1) >= before,
        "{}",
        report.generated_at
    );
    assert!(
        made <= std::time::SystemTime::now(),
        "{}",
        report.generated_at
    );
    assert_eq!(report.generated_at.timestamp_subsec_nanos(), 0);
    // Serialized as RFC 3339 in UTC, to the second.
    let json = serde_json::to_value(&report).unwrap();
    let text = json["generated_at"].as_str().unwrap();
    assert_eq!(text.len(), "2026-11-30T16:05:09Z".len(), "{text}");
    assert!(text.ends_with('Z'), "{text}");

    let options = ReportOptions::new()
        .source(SourceChoice::Calls)
        .selection(Selection::All)
        .concurrency(3)
        .devices(true);
    assert_eq!(
        format!("{options:?}"),
        "ReportOptions { selection: All, concurrency: 3, devices: true, resume: 0, source: Calls, \
         collapse_cumulative: true, .. }"
    );
}

#[tokio::test]
async fn dropping_the_run_starts_no_further_call() {
    let tenant = DemoTenant::builder()
        .devices(120)
        .software(60)
        .unlimited()
        .start()
        .await
        .unwrap();
    tenant.faults().slow(Duration::from_millis(50));
    let client = client_for(&tenant, RateLimit::disabled());
    let plan = client
        .plan_missing_kbs_report(calls().selection(Selection::All).concurrency(2))
        .await
        .unwrap();
    let total = plan.calls() as u64;

    let stopped = tokio::time::timeout(Duration::from_millis(120), plan.finish()).await;
    assert!(stopped.is_err(), "the run was still going");
    let at_drop = tenant.calls("get_missing_kbs_by_software_id");
    tokio::time::sleep(Duration::from_millis(200)).await;

    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), at_drop);
    assert!(at_drop < total, "{at_drop} of {total}");
}

#[tokio::test]
async fn the_devices_option_gives_each_kb_its_exact_devices() {
    let tenant = DemoTenant::builder()
        .devices(120)
        .software(60)
        .unlimited()
        .start()
        .await
        .unwrap();
    let client = client_for(&tenant, RateLimit::disabled());
    let plan = client
        .plan_missing_kbs_report(calls().devices(true))
        .await
        .unwrap();
    assert!(plan.lists_devices());
    let mut planned = None;
    let report = plan
        .run(|event| {
            if let ReportEvent::DevicesPlanned { listings, .. } = event {
                planned = Some(listings);
            }
        })
        .await
        .unwrap();

    let truth = tenant.truth();
    let mut exact: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for installation in &truth.installations {
        for &kb in &installation.missing_kbs {
            exact
                .entry(truth.kbs[kb].id.clone())
                .or_default()
                .insert(truth.devices[installation.device].id.clone());
        }
    }
    assert_eq!(planned, Some(report.kbs.len()));
    // One listing per KB (each fits one page of the tenant's 10,000).
    assert_eq!(
        tenant.calls("list_machines_vulnerabilities") as usize,
        report.kbs.len()
    );
    for kb in &report.kbs {
        let want = &exact[&kb.id];
        assert!(kb.devices_exact);
        assert_eq!(kb.devices as usize, want.len(), "KB{}", kb.id);
        let got: BTreeSet<String> = kb.device_ids.clone().unwrap().into_iter().collect();
        assert_eq!(&got, want, "KB{}", kb.id);
    }
    let all: BTreeSet<&str> = exact.values().flatten().map(String::as_str).collect();
    assert_eq!(report.devices(), Some(all));
}

#[tokio::test]
async fn the_plan_says_how_long_the_budget_makes_the_calls_take() {
    let tenant = DemoTenant::builder()
        .devices(200)
        .software(150)
        .unlimited()
        .start()
        .await
        .unwrap();
    let client = client_for(&tenant, RateLimit::new(10, Duration::from_secs(60)));
    let plan = client
        .plan_missing_kbs_report(calls().selection(Selection::All))
        .await
        .unwrap();

    assert_eq!(plan.calls(), 150);
    // 150 calls at 10 a minute: the last starts after 14 minutes.
    assert_eq!(plan.estimated_duration(), Duration::from_secs(14 * 60));
}

#[tokio::test]
async fn progress_says_when_calls_wait_on_the_rate_limit_and_for_how_long() {
    let tenant = small_tenant().await;
    // 6 calls a 2 s window: the listing takes one, so the run's later calls wait about 2 s.
    let client = client_for(&tenant, RateLimit::new(6, Duration::from_secs(2)));
    let plan = client
        .plan_missing_kbs_report(
            calls().selection(Selection::Ids(
                tenant
                    .truth()
                    .software
                    .iter()
                    .take(8)
                    .map(|s| s.id.clone())
                    .collect(),
            )),
        )
        .await
        .unwrap();
    let mut longest = Duration::ZERO;
    let mut ticks = 0;

    plan.run(|event| {
        let progress = match event {
            ReportEvent::Tick { progress } => {
                ticks += 1;
                progress
            }
            ReportEvent::SoftwareDone { progress, .. } => progress,
            _ => return,
        };
        if let Some(wait) = progress.rate_limit_wait {
            longest = longest.max(wait);
        }
    })
    .await
    .unwrap();

    assert!(ticks >= 1, "a tick while waiting");
    assert!(
        longest > Duration::ZERO && longest <= Duration::from_secs(2),
        "{longest:?}"
    );
}

#[tokio::test]
async fn a_sign_in_that_fails_mid_run_stops_the_run_with_that_one_error() {
    // Tokens live 1 s; the secret expires after the plan, before the run.
    let tenant = DemoTenant::builder()
        .devices(120)
        .software(60)
        .unlimited()
        .token_lifetime(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let client = client_for(&tenant, RateLimit::disabled());
    let plan = client.plan_missing_kbs_report(calls()).await.unwrap();
    tenant.faults().expire_secret();
    // The plan's token expires (the time passing is the point, not a synchronisation).
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let err = plan.finish().await.unwrap_err();

    let Error::Auth(auth) = &err else {
        panic!("expected the sign-in error, got {err:?}")
    };
    assert_eq!(auth.aadsts, Some(7000222));
    assert_eq!(tenant.tokens_issued(), 1, "the plan's token only");
    assert_eq!(
        tenant.calls("get_missing_kbs_by_software_id"),
        0,
        "nothing is sent without a valid token"
    );
}

#[tokio::test]
async fn a_refused_device_listing_is_a_failure_and_the_report_is_partial() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let without = report_of(&client, calls()).await;
    tenant.faults().deny("list_machines_vulnerabilities");

    let report = report_of(&client, calls().devices(true)).await;

    assert!(report.partial);
    let failed: Vec<&str> = report.failures.iter().map(|f| f.id.as_str()).collect();
    let mut kbs: Vec<&str> = without.kbs.iter().map(|kb| kb.id.as_str()).collect();
    kbs.sort();
    assert_eq!(failed, kbs, "one failure per KB, by KB id");
    for failure in &report.failures {
        assert_eq!(failure.kind, FailureKind::DeviceListing);
        assert_eq!(failure.status, Some(403));
        assert_eq!(failure.code.as_deref(), Some("Forbidden"));
    }
    // The KBs themselves are all there, with the estimate instead of the exact count.
    let mut kbs_only = comparable(report);
    kbs_only.partial = false;
    kbs_only.failures.clear();
    assert_eq!(kbs_only, comparable(without));
}

#[tokio::test]
async fn the_run_keeps_the_planned_number_of_calls_in_flight() {
    for (concurrency, options) in [
        (8, calls().devices(true)),
        (3, calls().devices(true).concurrency(3)),
    ] {
        let tenant = small_tenant().await;
        // Each answer takes 150 ms: the next call of a slot starts only when one finishes.
        tenant.faults().slow(Duration::from_millis(150));
        let client = client_for(&tenant, RateLimit::disabled());

        let report = report_of(&client, options).await;

        assert!(report.kbs.len() > 8 && report.software_count > 8);
        assert_eq!(
            tenant.peak_in_flight("get_missing_kbs_by_software_id"),
            concurrency
        );
        assert_eq!(
            tenant.peak_in_flight("list_machines_vulnerabilities"),
            concurrency
        );
    }
}

#[tokio::test]
async fn a_filter_selects_the_software_the_service_lists_for_it() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let filter = SoftwareFilter::eq(SoftwareField::Vendor, "microsoft");

    let plan = client
        .plan_missing_kbs_report(calls().selection(Selection::Filter(filter)))
        .await
        .unwrap();

    let microsoft: Vec<&str> = tenant
        .truth()
        .software
        .iter()
        .filter(|s| s.vendor == "microsoft")
        .map(|s| s.id.as_str())
        .collect();
    let selected: Vec<&str> = plan.software().iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        selected, microsoft,
        "every software the filter lists, weak or not"
    );
    assert_eq!(plan.listed(), microsoft.len());
}

#[tokio::test]
async fn progress_counts_each_software_call_failure_and_listing() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let plan = client
        .plan_missing_kbs_report(calls().concurrency(1).devices(true))
        .await
        .unwrap();
    let total = plan.calls();
    let (first, second) = (plan.software()[0].id.clone(), plan.software()[1].id.clone());
    tenant.faults().vanish(&first);
    tenant.faults().vanish(&second);
    let mut seen = Vec::new();

    let report = plan
        .run(|event| match event {
            ReportEvent::SoftwareDone { progress, .. } | ReportEvent::Failed { progress, .. } => {
                seen.push(("software", progress));
            }
            ReportEvent::DevicesDone { progress, .. } => seen.push(("devices", progress)),
            _ => {}
        })
        .await
        .unwrap();

    let software: Vec<_> = seen
        .iter()
        .filter(|(what, _)| *what == "software")
        .collect();
    assert_eq!(software.len(), total);
    for (n, (_, progress)) in software.iter().enumerate() {
        assert_eq!(progress.software_done, n + 1);
        assert_eq!(progress.software_total, total);
        assert_eq!(progress.calls, n as u64 + 1);
        // The two vanished software come first (one call at a time, in the plan's order).
        assert_eq!(progress.failures, (n + 1).min(2));
    }
    let devices: Vec<_> = seen.iter().filter(|(what, _)| *what == "devices").collect();
    assert_eq!(devices.len(), report.kbs.len());
    for (n, (_, progress)) in devices.iter().enumerate() {
        assert_eq!(progress.devices_done, n + 1);
        assert_eq!(progress.devices_total, report.kbs.len());
        assert_eq!(progress.calls, (total + n + 1) as u64);
    }
}

/// A hand-written estate on a test server: two software whose missing KBs come in no particular
/// order, one KB shared, one answer without a name or link.
#[tokio::test]
async fn rows_come_by_software_then_kb_whatever_order_the_service_answers_in() {
    let server = httpmock::MockServer::start_async().await;
    let json = |body: serde_json::Value| body.to_string();
    server.mock(|when, then| {
        when.path("/api/Software").query_param("$skip", "0");
        then.status(200).body(json(serde_json::json!({"value": [
            {"id": "zeta-_-viewer", "weaknesses": 1, "publicExploit": false},
            {"id": "alpha-_-agent", "weaknesses": 4, "publicExploit": true},
            {"id": "beta-_-sync", "weaknesses": 0, "publicExploit": true},
        ]})));
    });
    server.mock(|when, then| {
        when.path("/api/Software");
        then.status(200).body(r#"{"value": []}"#);
    });
    let kb = |id: &str, name: Option<&str>, products: &[&str], devices: i64, cves: i64| {
        serde_json::json!({
            "id": id,
            "name": name,
            "url": name.map(|_| format!("https://catalog.example/KB{id}")),
            "productsNames": products,
            "machineMissedOn": devices,
            "cveAddressed": cves,
        })
    };
    server.mock(|when, then| {
        when.path("/api/Software/zeta-_-viewer/getmissingkbs");
        then.status(200).body(json(serde_json::json!({"value": [
            kb("5003", None, &["viewer"], 2, 1),
            kb("5001", Some("Update 5001"), &["viewer"], 1, 9),
        ]})));
    });
    server.mock(|when, then| {
        when.path("/api/Software/alpha-_-agent/getmissingkbs");
        then.status(200).body(json(serde_json::json!({"value": [
            kb("5003", Some("Update 5003"), &["agent"], 5, 3),
            kb("5002", Some("Update 5002"), &["agent"], 1, 1),
        ]})));
    });
    let client = crate::common::client(&server);

    let report = report_of(&client, calls()).await;

    let rows: Vec<(&str, &str)> = report
        .rows
        .iter()
        .map(|r| (r.software.id.as_str(), r.kb_id.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("alpha-_-agent", "5002"),
            ("alpha-_-agent", "5003"),
            ("zeta-_-viewer", "5001"),
            ("zeta-_-viewer", "5003"),
        ]
    );
    assert_eq!(report.software_count, 2, "beta has no weakness");
    // KB5003: both software's rows; the name and link of the row that has them; devices summed;
    // the larger CVE count; alpha's public exploit. The KBs of alpha (public exploit) go first,
    // 5003 (3 CVEs on 7 devices) before 5002 (1 on 1), then zeta's 5001 (9 on 1, no exploit).
    let ids: Vec<&str> = report.kbs.iter().map(|kb| kb.id.as_str()).collect();
    assert_eq!(ids, ["5003", "5002", "5001"]);
    let shared = &report.kbs[0];
    assert_eq!(shared.rank, 1);
    assert_eq!(shared.name.as_deref(), Some("Update 5003"));
    assert_eq!(
        shared.url.as_deref(),
        Some("https://catalog.example/KB5003")
    );
    assert_eq!(shared.products, ["agent", "viewer"]);
    assert_eq!(shared.software_ids, ["alpha-_-agent", "zeta-_-viewer"]);
    assert_eq!((shared.devices, shared.cves_addressed), (7, 3));
    assert!(shared.public_exploit);
    assert!(report.kbs[1].public_exploit && !report.kbs[2].public_exploit);
    let ranks: Vec<usize> = report.kbs.iter().map(|kb| kb.rank).collect();
    assert_eq!(ranks, [1, 2, 3]);
    assert_eq!(report.cves_addressed(), 3 + 9 + 1);
}

#[tokio::test]
async fn a_concurrency_of_zero_is_refused_when_the_report_is_planned_before_any_call() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let error = client
        .plan_missing_kbs_report(calls().concurrency(0))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error:?}");
    assert!(error.to_string().contains("concurrency is 0"), "{error}");
    assert_eq!(
        tenant.total_calls(),
        0,
        "refused before the inventory listing"
    );
}
