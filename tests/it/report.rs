//! The estate report against the demo tenant: its rollup equals the one computed from the
//! tenant's ground truth; it makes exactly the planned calls; faults do not change it; a vanished
//! software makes it partial; a sign-in failure is one error; resume asks nothing twice; the
//! priority order; exact device counts.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use defender_tvm::{Client, RateLimit, Report, ReportEvent, ReportOptions, RetryPolicy, Selection};
use defender_tvm_demo::DemoTenant;

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

/// The rollup the truth implies for the vulnerable software: (KB, devices, CVEs, exploit,
/// software ids), by KB id.
fn truth_rollup(tenant: &DemoTenant) -> BTreeMap<String, (i64, i64, bool, Vec<String>)> {
    let truth = tenant.truth();
    let mut rollup: BTreeMap<String, (i64, i64, bool, Vec<String>)> = BTreeMap::new();
    for (s, summary) in truth.summaries().iter().enumerate() {
        if summary.weaknesses == 0 {
            continue;
        }
        for kb in truth.missing_kbs(s) {
            let entry = rollup.entry(kb.id.clone()).or_default();
            entry.0 += kb.machine_missed_on;
            entry.1 = entry.1.max(kb.cve_addressed);
            entry.2 |= summary.public_exploit;
            entry.3.push(summary.id.clone());
        }
    }
    for entry in rollup.values_mut() {
        entry.3.sort();
    }
    rollup
}

fn rollup_of(report: &Report) -> BTreeMap<String, (i64, i64, bool, Vec<String>)> {
    report
        .kbs
        .iter()
        .map(|kb| {
            (
                kb.id.clone(),
                (
                    kb.devices,
                    kb.cves_addressed,
                    kb.public_exploit,
                    kb.software_ids.clone(),
                ),
            )
        })
        .collect()
}

/// The whole report of `client` with `options`, planned and run.
async fn report_of(client: &Client, options: ReportOptions) -> Report {
    client
        .plan_missing_kbs_report(options)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap()
}

/// A report with its timestamp blanked, to compare runs.
fn comparable(mut report: Report) -> Report {
    report.generated_at = String::new();
    report
}

#[tokio::test]
async fn the_rollup_equals_the_truth_and_the_calls_equal_the_plan() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());

    let plan = client
        .plan_missing_kbs_report(ReportOptions::new())
        .await
        .unwrap();
    let vulnerable = tenant
        .truth()
        .summaries()
        .iter()
        .filter(|s| s.weaknesses > 0)
        .count();
    assert_eq!(plan.calls(), vulnerable);
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
                assert_eq!(progress.software_total, vulnerable);
            }
        })
        .await
        .unwrap();

    assert_eq!(done, vulnerable);
    assert_eq!(
        tenant.calls("get_missing_kbs_by_software_id") as usize,
        vulnerable
    );
    assert!(!report.partial);
    assert_eq!(rollup_of(&report), truth_rollup(&tenant));
    let rows: usize = report.rows.len();
    let truth_rows: usize = tenant
        .truth()
        .summaries()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.weaknesses > 0)
        .map(|(i, _)| tenant.truth().missing_kbs(i).len())
        .sum();
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

    let report = report_of(&client, ReportOptions::new()).await;

    for pair in report.kbs.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let weight = |kb: &defender_tvm::KbRollup| kb.cves_addressed * kb.devices;
        assert!(
            (a.public_exploit, weight(a), std::cmp::Reverse(&a.id))
                >= (b.public_exploit, weight(b), std::cmp::Reverse(&b.id)),
            "{} before {}",
            a.id,
            b.id
        );
        assert_eq!(a.rank + 1, b.rank);
    }

    let by_id = report_of(
        &client,
        ReportOptions::new().priority(|a, b| a.id.cmp(&b.id)),
    )
    .await;
    let ids: Vec<&str> = by_id.kbs.iter().map(|kb| kb.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

#[tokio::test]
async fn injected_503s_and_429s_do_not_change_the_report() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let clean = report_of(&client, ReportOptions::new()).await;

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
    let report = report_of(&retrying, ReportOptions::new()).await;

    assert!(faulty.throttled() > 0, "the budget was hit");
    assert_eq!(comparable(report), comparable(clean));
}

#[tokio::test]
async fn a_vanished_software_makes_a_partial_report_with_exactly_that_failure() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let plan = client
        .plan_missing_kbs_report(ReportOptions::new())
        .await
        .unwrap();
    let gone = plan.software()[0].id.clone();
    tenant.faults().vanish(&gone);

    let report = plan.finish().await.unwrap();

    assert!(report.partial);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].id, gone);
    assert_eq!(report.failures[0].status, Some(404));
    assert_eq!(report.failures[0].code.as_deref(), Some("ResourceNotFound"));
    assert!(report.rows.iter().all(|row| row.software.id != gone));
}

#[tokio::test]
async fn a_sign_in_failure_is_one_error_and_no_missing_kbs_call() {
    let tenant = small_tenant().await;
    let client = Client::builder()
        .base_url(tenant.base_url())
        .authority_host(tenant.authority_host())
        .client_secret(tenant.tenant_id(), tenant.client_id(), "wrong-secret")
        .build()
        .unwrap();

    let err = client
        .plan_missing_kbs_report(ReportOptions::new())
        .await
        .unwrap_err();

    assert!(matches!(err, defender_tvm::Error::Auth(_)), "{err:?}");
    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), 0);
}

#[tokio::test]
async fn a_token_refused_mid_run_stops_the_run_with_one_error() {
    let tenant = small_tenant().await;
    let client = client_for(&tenant, RateLimit::disabled());
    let plan = client
        .plan_missing_kbs_report(ReportOptions::new().concurrency(1))
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
        .plan_missing_kbs_report(ReportOptions::new())
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
        .plan_missing_kbs_report(ReportOptions::new().resume(kept.clone()))
        .await
        .unwrap();
    assert_eq!(resumed.resumed(), 7);
    assert_eq!(resumed.calls() as u64, n - 7);
    let report = resumed.finish().await.unwrap();

    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), n + (n - 7));
    assert_eq!(comparable(report), comparable(full));
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
        .plan_missing_kbs_report(ReportOptions::new().concurrency(2))
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
        .plan_missing_kbs_report(ReportOptions::new().devices(true))
        .await
        .unwrap();
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
        .plan_missing_kbs_report(ReportOptions::new().selection(Selection::All))
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
            ReportOptions::new().selection(Selection::Ids(
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
