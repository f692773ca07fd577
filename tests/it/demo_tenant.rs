//! The client against a whole offline tenant (`defender-tvm-demo`): every facade method returns
//! what the tenant's ground truth says, listings page through everything, and a client whose rate
//! limit matches the tenant's budget never receives a 429.

use std::collections::BTreeMap;
use std::time::Duration;

use defender_tvm::{
    Client, RateLimit, RetryPolicy, SoftwareQuery,
    types::{SoftwareField, SoftwareFilter},
};
use defender_tvm_demo::DemoTenant;

/// A client signed in to `tenant` with its application's secret.
fn client_for(tenant: &DemoTenant) -> Client {
    crate::common::signed_in_to(tenant)
        .rate_limit(RateLimit::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_facade_method_returns_what_the_truth_says() {
    let tenant = DemoTenant::builder().unlimited().start().await.unwrap();
    let client = client_for(&tenant);
    let truth = tenant.truth();

    let listed = client.software(SoftwareQuery::new()).await.unwrap();
    let summaries = truth.summaries();
    assert_eq!(listed.len(), summaries.len());
    for (got, want) in listed.iter().zip(&summaries) {
        assert_eq!(got.id, want.id);
        assert_eq!(got.weaknesses, Some(want.weaknesses));
        assert_eq!(got.exposed_machines, Some(want.exposed_machines));
        assert_eq!(got.public_exploit, Some(want.public_exploit));
    }

    for s in [
        "microsoft-_-windows_11",
        "microsoft-_-office",
        "notepad_plus_plus-_-notepad++",
    ] {
        let index = truth.software_index(s).unwrap();
        let one = client.software_by_id(s).await.unwrap();
        assert_eq!(
            one.vendor.as_deref(),
            Some(truth.software[index].vendor.as_str())
        );

        let kbs = client.missing_kbs(s).await.unwrap();
        let want = truth.missing_kbs(index);
        assert_eq!(kbs.len(), want.len(), "{s}");
        for (got, want) in kbs.iter().zip(&want) {
            assert_eq!(got.id, want.id);
            assert_eq!(got.machine_missed_on, want.machine_missed_on);
            assert_eq!(got.cve_addressed, want.cve_addressed);
            assert_eq!(
                got.products_names.as_slice(),
                want.products_names.as_slice()
            );
        }

        let distributions = client.software_distributions(s).await.unwrap();
        let want = truth.distributions(index);
        let got: Vec<(String, i64)> = distributions
            .iter()
            .map(|d| (d.version.clone(), d.installations.unwrap_or(0)))
            .collect();
        let want: Vec<(String, i64)> = want.iter().map(|d| (d.0.clone(), d.1)).collect();
        assert_eq!(got, want, "{s}");

        let vulnerabilities = client.software_vulnerabilities(s).await.unwrap();
        let want: BTreeMap<&str, i64> = truth
            .vulnerabilities(index)
            .iter()
            .map(|(cve, exposed)| (cve.id.as_str(), *exposed))
            .collect();
        let got: BTreeMap<&str, i64> = vulnerabilities
            .iter()
            .map(|v| (v.id.as_str(), v.exposed_machines.unwrap_or(0)))
            .collect();
        assert_eq!(got, want, "{s}");

        let machines = client.software_machines(s).await.unwrap();
        assert_eq!(machines.len(), truth.machines_with(index).len(), "{s}");
    }

    let device = &truth.devices[0];
    let kbs = client.machine_missing_kbs(&device.id).await.unwrap();
    let want: Vec<String> = truth
        .device_missing_kbs(0)
        .into_iter()
        .map(|kb| kb.id)
        .collect();
    let got: Vec<String> = kbs.into_iter().map(|kb| kb.id).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn listing_everything_pages_through_the_whole_inventory_in_order() {
    let tenant = DemoTenant::builder()
        .software(1_200)
        .devices(60)
        .page_size(500)
        .unlimited()
        .start()
        .await
        .unwrap();
    let client = client_for(&tenant);

    let everything = client
        .software(SoftwareQuery::new().page_size(250))
        .await
        .unwrap();
    let ids: Vec<&str> = everything.iter().map(|s| s.id.as_str()).collect();
    let truth: Vec<&str> = tenant
        .truth()
        .software
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, truth);
    // 1,200 items at 250 a page: 5 pages and the empty one that ends the listing.
    assert_eq!(tenant.calls("list_software"), 6);

    let microsoft = client
        .software(
            SoftwareQuery::new().filter(SoftwareFilter::eq(SoftwareField::Vendor, "microsoft")),
        )
        .await
        .unwrap();
    assert!(!microsoft.is_empty());
    assert!(
        microsoft
            .iter()
            .all(|s| s.vendor.as_deref() == Some("microsoft"))
    );
}

#[tokio::test]
async fn a_client_limited_to_the_tenants_budget_never_receives_a_429() {
    // The service's budget scaled down: 10 calls per 500 ms.
    let tenant = DemoTenant::builder()
        .budget(10, Duration::from_millis(500))
        .start()
        .await
        .unwrap();
    let client = crate::common::signed_in_to(&tenant)
        .rate_limit(RateLimit::new(10, Duration::from_millis(500)))
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    let ids: Vec<String> = tenant
        .truth()
        .software
        .iter()
        .take(30)
        .map(|s| s.id.clone())
        .collect();

    let results = futures::future::join_all(ids.iter().map(|id| {
        let client = client.clone();
        async move { client.missing_kbs(id).await }
    }))
    .await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(tenant.throttled(), 0);
    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), 30);
}

#[tokio::test]
async fn retries_ride_out_the_tenants_faults() {
    let tenant = DemoTenant::builder().unlimited().start().await.unwrap();
    let client = crate::common::signed_in_to(&tenant)
        .retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(10)),
        )
        .sign_in_retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    tenant.faults().fail_sign_in_next(1);
    tenant.faults().fail_next(1);
    tenant.faults().drop_next(1);

    let kbs = client.missing_kbs("microsoft-_-windows_11").await.unwrap();

    let index = tenant
        .truth()
        .software_index("microsoft-_-windows_11")
        .unwrap();
    assert_eq!(kbs.len(), tenant.truth().missing_kbs(index).len());
    assert_eq!(tenant.token_requests(), 2);
}
