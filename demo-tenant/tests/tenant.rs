//! The demo tenant on the wire (with plain reqwest, not the crate's client) and its ground truth:
//! determinism, consistency, OData semantics, sign-in, budgets and 429s, faults, errors.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use defender_tvm_demo::{DemoTenant, Estate, Size};
use serde_json::Value;

async fn token(tenant: &DemoTenant, http: &reqwest::Client) -> String {
    let reply: Value = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            tenant.authority_host(),
            tenant.tenant_id()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", tenant.client_id()),
            ("client_secret", tenant.client_secret()),
            ("scope", "https://api.securitycenter.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["access_token"].as_str().unwrap().to_owned()
}

/// An HTTP client and a token the tenant issued.
async fn signed_in(tenant: &DemoTenant) -> (reqwest::Client, String) {
    let http = reqwest::Client::new();
    let token = token(tenant, &http).await;
    (http, token)
}

async fn get(tenant: &DemoTenant, http: &reqwest::Client, token: &str, path: &str) -> (u16, Value) {
    let response = http
        .get(format!("{}{path}", tenant.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[test]
fn the_same_seed_gives_the_same_estate_and_another_seed_another() {
    let size = Size {
        devices: 60,
        software: 40,
    };
    let (a, b, c) = (
        Estate::generate(7, size),
        Estate::generate(7, size),
        Estate::generate(8, size),
    );
    assert_eq!(a.devices, b.devices);
    assert_eq!(a.kbs, b.kbs);
    assert_eq!(a.installations, b.installations);
    assert_eq!(a.summaries(), b.summaries());
    assert_ne!(a.devices, c.devices);
}

#[test]
fn the_default_estate_has_the_documented_size_and_realistic_names() {
    let estate = Estate::generate(defender_tvm_demo::DEFAULT_SEED, Size::default());
    assert_eq!(estate.devices.len(), 500);
    assert_eq!(estate.software.len(), 150);
    // As the crate docs say.
    assert_eq!(estate.vulnerability_row_count(), 30_434);
    let with_a_cve = estate
        .vulnerability_rows()
        .filter(|row| row.cve_id.is_some())
        .count();
    assert_eq!(with_a_cve, 21_331);
    assert_eq!(estate.installations.len(), 11_421);
    let weak = estate
        .summaries()
        .iter()
        .filter(|s| s.weaknesses > 0)
        .count();
    assert!((35..=70).contains(&weak), "{weak} software with weaknesses");
    for id in [
        "microsoft-_-windows_11",
        "microsoft-_-.net_framework",
        "notepad_plus_plus-_-notepad++",
        "google-_-chrome",
    ] {
        assert!(estate.software_index(id).is_some(), "{id}");
    }
    assert!(
        estate
            .kbs
            .iter()
            .any(|kb| kb.name.contains("Cumulative Update for Windows 11"))
    );
    assert!(
        estate
            .devices
            .iter()
            .all(|d| d.computer_dns_name.ends_with(".contoso.com"))
    );
}

#[test]
fn the_ground_truth_is_internally_consistent() {
    let estate = Estate::generate(3, Size::default());
    let rows = estate.machine_vulnerabilities();
    for s in 0..estate.software.len() {
        let software = &estate.software[s];
        // A KB's machineMissedOn is the number of the software's devices that miss it, and those
        // devices are the distinct machines of its machinesVulnerabilities rows.
        for kb in estate.missing_kbs(s) {
            let k = estate.kbs.iter().position(|k| k.id == kb.id).unwrap();
            let missing: BTreeSet<usize> = estate
                .installations_of(s)
                .filter(|i| i.missing_kbs.contains(&k))
                .map(|i| i.device)
                .collect();
            assert_eq!(
                kb.machine_missed_on as usize,
                missing.len(),
                "{} KB{}",
                software.id,
                kb.id
            );
            assert_eq!(kb.cve_addressed as usize, estate.kbs[k].cves.len());
            let machines: BTreeSet<&str> = rows
                .iter()
                .filter(|r| r.fixing_kb_id.as_deref() == Some(kb.id.as_str()))
                .filter(|r| r.product_name == software.name && r.product_vendor == software.vendor)
                .map(|r| r.machine_id.as_str())
                .collect();
            assert_eq!(
                machines.len(),
                missing.len(),
                "{} KB{} rows",
                software.id,
                kb.id
            );
        }
        // weaknesses, exposedMachines, distributions and machine references agree.
        let summary = estate.summary(s);
        let vulnerabilities = estate.vulnerabilities(s);
        assert_eq!(
            summary.weaknesses as usize,
            vulnerabilities.len(),
            "{}",
            software.id
        );
        let exposed = estate
            .installations_of(s)
            .filter(|i| !i.exposed.is_empty())
            .count();
        assert_eq!(summary.exposed_machines as usize, exposed);
        let installed: i64 = estate.distributions(s).iter().map(|d| d.1).sum();
        assert_eq!(installed as usize, estate.machines_with(s).len());
        assert_eq!(summary.installed_machines, installed);
    }
    // A device's missing KBs are the union of its installations' missing KBs.
    for d in 0..estate.devices.len() {
        let union: BTreeSet<String> = estate
            .installations_on(d)
            .flat_map(|i| i.missing_kbs.iter().map(|&k| estate.kbs[k].id.clone()))
            .collect();
        let reported: BTreeSet<String> = estate
            .device_missing_kbs(d)
            .into_iter()
            .map(|kb| kb.id)
            .collect();
        assert_eq!(union, reported);
    }
}

#[tokio::test]
async fn sign_in_follows_entra_and_the_api_needs_a_token_it_issued() {
    let tenant = DemoTenant::start().await.unwrap();
    let http = reqwest::Client::new();
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        tenant.authority_host(),
        tenant.tenant_id()
    );

    let wrong: Value = http
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", tenant.client_id()),
            ("client_secret", "wrong"),
            ("scope", "https://api.securitycenter.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wrong["error"], "invalid_client");
    assert_eq!(wrong["error_codes"][0], 7_000_215);

    let (status, body) = get(&tenant, &http, "forged", "/api/Software").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "Unauthorized");

    let token = token(&tenant, &http).await;
    let (status, _) = get(&tenant, &http, &token, "/api/Software").await;
    assert_eq!(status, 200);
    assert_eq!(tenant.tokens_issued(), 1);
    assert_eq!(tenant.token_requests(), 2);
}

#[tokio::test]
async fn tokens_expire() {
    let tenant = DemoTenant::builder()
        .token_lifetime(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let (http, token) = signed_in(&tenant).await;
    assert_eq!(
        get(&tenant, &http, &token, "/api/Software?$top=1").await.0,
        200
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        get(&tenant, &http, &token, "/api/Software?$top=1").await.0,
        401
    );
}

#[tokio::test]
async fn collections_page_with_next_links_top_and_skip_like_the_service() {
    let tenant = DemoTenant::builder().page_size(40).start().await.unwrap();
    let (http, token) = signed_in(&tenant).await;

    // Next links until the end, every item once, in the truth's order.
    let mut ids = Vec::new();
    let mut link = format!("{}/api/Software", tenant.base_url());
    loop {
        let page: Value = http
            .get(&link)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned()),
        );
        match page["@odata.nextLink"].as_str() {
            Some(next) => link = next.to_owned(),
            None => break,
        }
    }
    let truth: Vec<String> = tenant
        .truth()
        .software
        .iter()
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(ids, truth);

    // $top: no next link; $skip shifts.
    let (_, page) = get(&tenant, &http, &token, "/api/Software?$top=5&$skip=3").await;
    assert!(page.get("@odata.nextLink").is_none());
    let got: Vec<&str> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        truth[3..8].iter().map(String::as_str).collect::<Vec<_>>()
    );

    // $top over 10,000 and unsupported options are 400s with an OData error.
    for bad in [
        "/api/Software?$top=10001",
        "/api/Software?$orderby=name",
        "/api/Software?$filter=startswith(name,'a')",
    ] {
        let (status, body) = get(&tenant, &http, &token, bad).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"]["code"], "BadRequest", "{bad}");
    }
}

#[tokio::test]
async fn filters_select_what_the_truth_says() {
    let tenant = DemoTenant::start().await.unwrap();
    let (http, token) = signed_in(&tenant).await;
    let filter =
        "$filter=(vendor eq 'microsoft' or vendor eq 'google') and name ne 'edge_chromium-based'";
    let (status, page) = get(&tenant, &http, &token, &format!("/api/Software?{filter}")).await;
    assert_eq!(status, 200);
    let got: BTreeSet<&str> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = tenant
        .truth()
        .software
        .iter()
        .filter(|s| {
            (s.vendor == "microsoft" || s.vendor == "google") && s.name != "edge_chromium-based"
        })
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(got, expected);

    let (_, page) = get(
        &tenant,
        &http,
        &token,
        "/api/Software?$filter=name eq 'notepad%2B%2B'",
    )
    .await;
    assert_eq!(page["value"][0]["id"], "notepad_plus_plus-_-notepad++");
}

#[tokio::test]
async fn budgets_answer_429_with_retry_after_and_calls_are_counted_by_operation() {
    let tenant = DemoTenant::builder()
        .budget(3, Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let (http, token) = signed_in(&tenant).await;
    for _ in 0..3 {
        assert_eq!(
            get(&tenant, &http, &token, "/api/Software?$top=1").await.0,
            200
        );
    }
    let response = http
        .get(format!(
            "{}/api/Software/microsoft-_-edge_chromium-based/getmissingkbs",
            tenant.base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_eq!(tenant.calls("list_software"), 3);
    assert_eq!(tenant.calls("get_missing_kbs_by_software_id"), 1);
    assert_eq!(tenant.throttled(), 1);
    assert_eq!(tenant.total_calls(), 4);
}

#[tokio::test]
async fn faults_happen_on_demand() {
    let tenant = DemoTenant::start().await.unwrap();
    let (http, token) = signed_in(&tenant).await;

    tenant.faults().fail_next(2);
    assert_eq!(
        get(&tenant, &http, &token, "/api/Software?$top=1").await.0,
        503
    );
    assert_eq!(
        get(&tenant, &http, &token, "/api/Software?$top=1").await.0,
        503
    );
    assert_eq!(
        get(&tenant, &http, &token, "/api/Software?$top=1").await.0,
        200
    );

    tenant.faults().drop_next(1);
    let dropped = http
        .get(format!("{}/api/Software?$top=1", tenant.base_url()))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(dropped.is_err(), "{dropped:?}");

    tenant.faults().vanish("google-_-chrome");
    let (status, body) = get(
        &tenant,
        &http,
        &token,
        "/api/Software/google-_-chrome/getmissingkbs",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "ResourceNotFound");
    assert!(body["error"]["target"].as_str().is_some());

    tenant.faults().refuse_tokens();
    assert_eq!(
        get(&tenant, &http, &token, "/api/Software?$top=1").await.0,
        401
    );

    tenant.faults().clear();
    tenant.faults().fail_every(2);
    let statuses: Vec<u16> = futures_statuses(&tenant, &http, &token, 4).await;
    assert_eq!(
        statuses.iter().filter(|&&s| s == 503).count(),
        2,
        "{statuses:?}"
    );
}

async fn futures_statuses(
    tenant: &DemoTenant,
    http: &reqwest::Client,
    token: &str,
    n: usize,
) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(get(tenant, http, token, "/api/Software?$top=1").await.0);
    }
    statuses
}

#[tokio::test]
async fn unknown_ids_are_404_resource_not_found() {
    let tenant = DemoTenant::start().await.unwrap();
    let (http, token) = signed_in(&tenant).await;
    for path in [
        "/api/Software/nobody-_-nothing",
        "/api/Software/nobody-_-nothing/getmissingkbs",
        "/api/machines/0000/getmissingkbs",
    ] {
        let (status, body) = get(&tenant, &http, &token, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "ResourceNotFound", "{path}");
    }
}

#[tokio::test]
async fn machines_vulnerabilities_filter_by_fixing_kb() {
    let tenant = DemoTenant::builder().page_size(500).start().await.unwrap();
    let (http, token) = signed_in(&tenant).await;
    let kb = &tenant.truth().kbs[0].id;
    let (status, page) = get(
        &tenant,
        &http,
        &token,
        &format!("/api/vulnerabilities/machinesVulnerabilities?$filter=fixingKbId eq '{kb}'"),
    )
    .await;
    assert_eq!(status, 200);
    let machines: BTreeSet<&str> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["machineId"].as_str().unwrap())
        .collect();
    let mut expected: BTreeMap<&str, ()> = BTreeMap::new();
    for row in tenant.truth().machine_vulnerabilities() {
        if row.fixing_kb_id.as_deref() == Some(kb.as_str()) {
            expected.insert(
                tenant
                    .truth()
                    .devices
                    .iter()
                    .find(|d| d.id == row.machine_id)
                    .unwrap()
                    .id
                    .as_str(),
                (),
            );
        }
    }
    assert_eq!(machines, expected.keys().copied().collect());
}

#[test]
fn every_kb_of_the_default_estate_is_titled_as_microsoft_titles_updates() {
    let estate = Estate::generate(defender_tvm_demo::DEFAULT_SEED, Size::default());
    // Product ids as the service sends them (`visual_studio_2022`, `edge_chromium-based`): they
    // name software, never an update.
    let raw_ids: Vec<&str> = estate
        .software
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| name.contains(['_', '-', '.', '+']))
        .collect();
    assert!(raw_ids.contains(&"visual_studio_2022"), "{raw_ids:?}");
    let mut titles = BTreeSet::new();
    for kb in &estate.kbs {
        let name = &kb.name;
        assert!(name.ends_with(&format!(" (KB{})", kb.id)), "{name}");
        assert!(!name.contains('_') && !name.contains("-_-"), "{name}");
        for raw in &raw_ids {
            assert!(!name.contains(raw), "{name} names the product id {raw}");
        }
        let month = name.len() > 8
            && name[..4].chars().all(|c| c.is_ascii_digit())
            && &name[4..5] == "-"
            && name[5..7].chars().all(|c| c.is_ascii_digit())
            && &name[7..8] == " ";
        assert!(
            month || name.starts_with("Security Update for "),
            "{name}: neither a monthly update nor a security update"
        );
        assert!(titles.insert(name.clone()), "two KBs titled {name}");
    }
    let visual_studio = estate
        .software_index("microsoft-_-visual_studio_2022")
        .unwrap();
    assert!(
        estate
            .kbs
            .iter()
            .filter(|kb| kb.products.contains(&visual_studio))
            .all(|kb| kb.name.contains("Microsoft Visual Studio 2022 version 17.")),
        "Visual Studio's updates are titled with its product name"
    );
}

/// The status and `Retry-After` (seconds) of one call of `tenant`.
async fn status_and_retry_after(
    tenant: &DemoTenant,
    http: &reqwest::Client,
    token: &str,
) -> (u16, Option<u64>) {
    let response = http
        .get(format!("{}/api/Software?$top=1", tenant.base_url()))
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
async fn retry_after_is_the_time_until_the_window_frees_to_the_second() {
    let tenant = DemoTenant::builder()
        .budget(3, Duration::from_secs(10))
        .start()
        .await
        .unwrap();
    let (http, token) = signed_in(&tenant).await;
    for _ in 0..3 {
        assert_eq!(status_and_retry_after(&tenant, &http, &token).await.0, 200);
    }

    // The first call frees its place 10 s after it arrived: just under 10 s from now, rounded
    // up to whole seconds.
    assert_eq!(
        status_and_retry_after(&tenant, &http, &token).await,
        (429, Some(10))
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // 1.2 s later: 8.8 s (and a little less), rounded up.
    assert_eq!(
        status_and_retry_after(&tenant, &http, &token).await,
        (429, Some(9))
    );
    assert_eq!(tenant.throttled(), 2);
}

#[tokio::test]
async fn an_hour_budget_added_with_and_budget_holds_when_the_shorter_window_frees() {
    let tenant = DemoTenant::builder()
        .budget(2, Duration::from_secs(1))
        .and_budget(3, Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let (http, token) = signed_in(&tenant).await;
    for _ in 0..2 {
        assert_eq!(status_and_retry_after(&tenant, &http, &token).await.0, 200);
    }
    // The one-second window is full: it frees within a second.
    assert_eq!(
        status_and_retry_after(&tenant, &http, &token).await,
        (429, Some(1))
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The third call of the hour fits; the fourth waits for the hour's first call to leave its
    // window, 3,600 s after it arrived (1.1 s and a little ago).
    assert_eq!(status_and_retry_after(&tenant, &http, &token).await.0, 200);
    assert_eq!(
        status_and_retry_after(&tenant, &http, &token).await,
        (429, Some(3599))
    );
    assert_eq!(tenant.throttled(), 2);
    assert_eq!(tenant.calls("list_software"), 5, "429s are calls too");
}

#[tokio::test]
async fn a_dropped_connection_is_not_counted_as_a_call() {
    let tenant = DemoTenant::start().await.unwrap();
    let (http, token) = signed_in(&tenant).await;
    tenant.faults().drop_next(1);

    let dropped = http
        .get(format!("{}/api/Software?$top=1", tenant.base_url()))
        .bearer_auth(&token)
        .send()
        .await;

    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(tenant.calls("list_software"), 0);
    assert_eq!(tenant.total_calls(), 0);
    assert_eq!(
        get(&tenant, &http, &token, "/api/Software?$top=1").await.0,
        200
    );
    assert_eq!(tenant.calls("list_software"), 1);
}

/// The token endpoint's answer to a form, as (status, `error`, first AADSTS code).
async fn sign_in_answer(
    tenant: &DemoTenant,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
    scope: &str,
) -> (u16, String, u64) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/{tenant_id}/oauth2/v2.0/token",
            tenant.authority_host()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let description = body["error_description"].as_str().unwrap_or_default();
    let code = body["error_codes"][0].as_u64().unwrap_or(0);
    assert!(
        description.starts_with(&format!("AADSTS{code}:")),
        "{description}"
    );
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
        code,
    )
}

#[tokio::test]
async fn the_token_endpoint_tells_each_sign_in_error_apart_as_entra_does() {
    let tenant = DemoTenant::start().await.unwrap();
    let (id, app, secret) = (
        tenant.tenant_id(),
        tenant.client_id(),
        tenant.client_secret(),
    );
    let scope = "https://api.securitycenter.microsoft.com/.default";

    assert_eq!(
        sign_in_answer(&tenant, "contoso-elsewhere", app, secret, scope).await,
        (400, "invalid_request".into(), 90002),
        "an unknown tenant"
    );
    assert_eq!(
        sign_in_answer(&tenant, id, "22222222-not-registered", secret, scope).await,
        (400, "unauthorized_client".into(), 700016),
        "an unknown application"
    );
    assert_eq!(
        sign_in_answer(
            &tenant,
            id,
            app,
            secret,
            "https://api.securitycenter.microsoft.com/Software.Read"
        )
        .await,
        (400, "invalid_scope".into(), 1002012),
        "a scope without /.default"
    );
    assert_eq!(tenant.tokens_issued(), 0);

    // Once the secret expires, the right secret is refused too, with the expiry's own code.
    tenant.faults().expire_secret();
    assert_eq!(
        sign_in_answer(&tenant, id, app, secret, scope).await,
        (401, "invalid_client".into(), 7000222),
        "an expired secret"
    );
    assert_eq!(tenant.tokens_issued(), 0);
    assert_eq!(tenant.token_requests(), 4);
}

#[tokio::test]
async fn a_denied_operation_answers_403_and_the_others_go_on() {
    let tenant = DemoTenant::start().await.unwrap();
    let (http, token) = signed_in(&tenant).await;
    tenant.faults().deny("list_machines_vulnerabilities");

    let (status, body) = get(
        &tenant,
        &http,
        &token,
        "/api/vulnerabilities/machinesVulnerabilities?$top=1",
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "Forbidden");
    assert_eq!(
        get(&tenant, &http, &token, "/api/Software?$top=1").await.0,
        200
    );
}

#[tokio::test]
async fn the_peak_of_calls_in_flight_is_kept_per_operation() {
    let tenant = DemoTenant::builder().unlimited().start().await.unwrap();
    let (http, token) = signed_in(&tenant).await;
    tenant.faults().slow(Duration::from_millis(300));

    // Five at once, then one alone.
    let one = || get(&tenant, &http, &token, "/api/Software?$top=1");
    tokio::join!(one(), one(), one(), one(), one());
    get(&tenant, &http, &token, "/api/Software/google-_-chrome").await;

    assert_eq!(tenant.peak_in_flight("list_software"), 5);
    assert_eq!(tenant.peak_in_flight("get_software_by_id"), 1);
    assert_eq!(tenant.peak_in_flight("get_missing_kbs_by_software_id"), 0);
}

#[tokio::test]
async fn an_issued_token_is_accepted_without_a_sign_in() {
    let tenant = DemoTenant::start().await.unwrap();
    let token = tenant.issue_token();

    let (status, _) = get(
        &tenant,
        &reqwest::Client::new(),
        &token,
        "/api/Software?$top=1",
    )
    .await;

    assert_eq!(status, 200);
    assert_eq!(tenant.token_requests(), 0);
    assert_eq!(tenant.tokens_issued(), 1);
}

/// getmissingkbs names, of a KB's products, those that at least one device misses it on (so
/// that a report from the export rows and one from getmissingkbs agree on products).
#[test]
fn missing_kbs_name_the_products_the_kb_is_missed_on() {
    let mut narrowed = 0;
    for seed in 0..40 {
        let estate = Estate::generate(
            seed,
            Size {
                devices: 3,
                software: 12,
            },
        );
        let mut missed_on: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for installation in &estate.installations {
            for &k in &installation.missing_kbs {
                missed_on
                    .entry(estate.kbs[k].id.as_str())
                    .or_default()
                    .insert(estate.software[installation.software].name.as_str());
            }
        }
        let device_kbs = (0..estate.devices.len()).flat_map(|d| estate.device_missing_kbs(d));
        let software_kbs = (0..estate.software.len()).flat_map(|s| estate.missing_kbs(s));
        for kb in device_kbs.chain(software_kbs) {
            let names: BTreeSet<&str> = kb.products_names.iter().map(String::as_str).collect();
            assert_eq!(names, missed_on[kb.id.as_str()], "seed {seed} KB{}", kb.id);
            let all = estate.kbs.iter().find(|k| k.id == kb.id).unwrap();
            narrowed += usize::from(names.len() < all.products.len());
        }
    }
    assert!(narrowed > 0, "no KB missed on only some of its products");
}

#[test]
fn windows_cumulative_updates_are_missed_newest_first_and_the_newest_on_the_most_devices() {
    let estate = Estate::generate(defender_tvm_demo::DEFAULT_SEED, Size::default());
    let mut series_seen = 0;
    for (s, software) in estate.software.iter().enumerate() {
        // The KBs of a Windows version, oldest first by the month their title starts with.
        let mut kbs: Vec<usize> = (0..estate.kbs.len())
            .filter(|&k| {
                estate.kbs[k].products == [s]
                    && estate.kbs[k].name.contains(" Cumulative Update for ")
                    && !estate.kbs[k].name.contains(".NET")
            })
            .collect();
        if kbs.len() < 2 {
            continue;
        }
        series_seen += 1;
        kbs.sort_by_key(|&k| estate.kbs[k].name[..7].to_owned());
        let mut missed_on = vec![0usize; kbs.len()];
        for installation in estate.installations.iter().filter(|i| i.software == s) {
            let missing: BTreeSet<usize> = installation
                .missing_kbs
                .iter()
                .copied()
                .filter(|k| kbs.contains(k))
                .collect();
            for (position, k) in kbs.iter().enumerate() {
                if missing.contains(k) {
                    missed_on[position] += 1;
                    // Missing one, the device misses every newer one of its version.
                    for newer in &kbs[position + 1..] {
                        assert!(
                            missing.contains(newer),
                            "{}: a device misses {} but not the newer {}",
                            software.name,
                            estate.kbs[*k].name,
                            estate.kbs[*newer].name
                        );
                    }
                }
            }
        }
        let newest = missed_on.last().copied().unwrap_or(0);
        assert!(
            missed_on.iter().all(|&n| n <= newest) && newest > 0,
            "{}: the newest is missing on the most devices: {missed_on:?}",
            software.name
        );
    }
    assert_eq!(series_seen, 4, "Windows 10, 11, Server 2019 and 2022");
}

#[test]
fn an_update_has_one_number_and_title_in_every_estate_as_in_every_real_tenant() {
    let a = Estate::generate(1, Size::default());
    let b = Estate::generate(2, Size::default());
    let titles = |e: &Estate| -> BTreeMap<String, String> {
        e.kbs
            .iter()
            .map(|k| (k.id.clone(), k.name.clone()))
            .collect()
    };
    let (ta, tb) = (titles(&a), titles(&b));
    let shared: Vec<&String> = ta.keys().filter(|id| tb.contains_key(*id)).collect();
    assert!(
        shared.len() >= 10,
        "KBs shared by two estates: {}",
        shared.len()
    );
    for id in shared {
        assert_eq!(ta[id], tb[id], "KB{id}");
    }
    for e in [&a, &b] {
        let ids: BTreeSet<&str> = e.kbs.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids.len(), e.kbs.len(), "one number per update");
    }
}
