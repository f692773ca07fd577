//! Authentication against httpmock servers standing in for Entra ID and the API: the token
//! request, caching, single flight, renewal, 401 handling, sign-in errors, redirects, `from_vars`
//! and `azure_core` credentials.

use std::collections::HashMap;

use crate::common::api_accepting;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use defender_tvm::mock::MockServerExt;
use defender_tvm::{AccessToken, Client, ClientBuilder, Cloud, Credential, Error, Secret};
use futures::future::BoxFuture;
use httpmock::{Mock, MockServer};
use serde_json::json;

const TENANT: &str = "contoso-tenant";
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "client-secret-Qx8~zz";
const ID: &str = "microsoft-_-edge";

/// Entra ID's token endpoint for [`TENANT`], issuing `token` for `expires_in` seconds.
fn token_endpoint<'a>(login: &'a MockServer, token: &str, expires_in: u64) -> Mock<'a> {
    login.mock(|when, then| {
        when.method("POST")
            .path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(200).json_body(json!({
            "token_type": "Bearer",
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": token,
        }));
    })
}

/// A client that signs in at `login` with the client secret and calls `api`.
fn secret_client(login: &MockServer, api: &MockServer) -> Client {
    ClientBuilder::default()
        .base_url(api.base_url())
        .authority_host(login.base_url())
        .client_secret(TENANT, CLIENT_ID, SECRET)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_token_request_is_the_client_credentials_grant() {
    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    let token = login.mock(|when, then| {
        when.method("POST")
            .path(format!("/{TENANT}/oauth2/v2.0/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header_missing("authorization")
            .form_urlencoded_tuple("grant_type", "client_credentials")
            .form_urlencoded_tuple("client_id", CLIENT_ID)
            .form_urlencoded_tuple("client_secret", SECRET)
            .form_urlencoded_tuple("scope", "https://api.securitycenter.microsoft.com/.default");
        then.status(200)
            .json_body(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "t-1"}));
    });
    let calls = api_accepting(&api, "t-1");

    secret_client(&login, &api).missing_kbs(ID).await.unwrap();

    token.assert_calls(1);
    calls.assert_calls(1);
}

#[tokio::test]
async fn the_scope_and_sign_in_host_follow_the_cloud() {
    assert_eq!(
        Cloud::Global.authority_host(),
        "https://login.microsoftonline.com"
    );
    assert_eq!(
        Cloud::Gcc.authority_host(),
        "https://login.microsoftonline.com"
    );
    assert_eq!(
        Cloud::GccHigh.authority_host(),
        "https://login.microsoftonline.us"
    );
    assert_eq!(
        Cloud::Dod.authority_host(),
        "https://login.microsoftonline.us"
    );
    assert_eq!(
        Cloud::Europe.scope(),
        "https://api.securitycenter.microsoft.com/.default"
    );

    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    let token = login.mock(|when, then| {
        when.form_urlencoded_tuple(
            "scope",
            "https://api-gov.securitycenter.microsoft.us/.default",
        );
        then.status(200)
            .json_body(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "gov"}));
    });
    api_accepting(&api, "gov");
    let client = ClientBuilder::default()
        .cloud(Cloud::GccHigh)
        .base_url(api.base_url())
        .authority_host(login.base_url())
        .client_secret(TENANT, CLIENT_ID, SECRET)
        .build()
        .unwrap();

    client.missing_kbs(ID).await.unwrap();

    token.assert_calls(1);
}

#[tokio::test]
async fn a_token_is_reused_across_calls_and_clones() {
    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    let token = token_endpoint(&login, "t-1", 3599);
    let calls = api_accepting(&api, "t-1");
    let client = secret_client(&login, &api);

    for _ in 0..20 {
        client.missing_kbs(ID).await.unwrap();
        client.clone().missing_kbs(ID).await.unwrap();
    }

    token.assert_calls(1);
    calls.assert_calls(40);
}

#[tokio::test]
async fn an_expired_token_is_renewed_before_the_next_call() {
    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    // Issued already expired: each call must ask again.
    let token = token_endpoint(&login, "t-1", 0);
    api_accepting(&api, "t-1");
    let client = secret_client(&login, &api);

    for _ in 0..3 {
        client.missing_kbs(ID).await.unwrap();
    }

    token.assert_calls(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_calls_with_an_empty_cache_cause_one_token_request() {
    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    // A slow token endpoint: the 50 calls start long before the first token arrives.
    let token = login.mock(|when, then| {
        when.method("POST")
            .path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(200)
            .delay(Duration::from_millis(500))
            .json_body(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "t-1"}));
    });
    let calls = api_accepting(&api, "t-1");
    let client = secret_client(&login, &api);

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.missing_kbs(ID).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    token.assert_calls(1);
    calls.assert_calls(50);
}

/// A credential that waits at a gate before handing out its one token, and counts the calls that
/// reached the token cache.
#[derive(Debug, Default)]
struct Gated {
    gate: tokio::sync::Notify,
    asked: AtomicUsize,
}

impl Credential for Gated {
    fn get_token<'a>(&'a self, _scope: &'a str) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move {
            self.asked.fetch_add(1, Ordering::SeqCst);
            self.gate.notified().await;
            Ok(AccessToken::new(
                Secret::new("t-1"),
                Some(SystemTime::now() + Duration::from_secs(3600)),
            ))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_waiting_on_a_token_request_in_flight_share_it() {
    let api = MockServer::start_async().await;
    let calls = api_accepting(&api, "t-1");
    let gated = Arc::new(Gated::default());
    let client = Client::builder()
        .base_url(api.base_url())
        .credential(Arc::clone(&gated) as Arc<dyn Credential>)
        .rate_limit(defender_tvm::RateLimit::disabled())
        .build()
        .unwrap();
    let started = Arc::new(AtomicUsize::new(0));

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (client, started) = (client.clone(), Arc::clone(&started));
            tokio::spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                client.missing_kbs(ID).await
            })
        })
        .collect();
    // The gate stays shut until every call has started: all of them find the request in flight.
    while started.load(Ordering::SeqCst) < 50 || gated.asked.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    gated.gate.notify_one();
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    assert_eq!(gated.asked.load(Ordering::SeqCst), 1);
    calls.assert_calls(50);
}

/// A credential that hands out `token-1`, `token-2`, ... and counts how often it was asked.
#[derive(Debug, Default)]
struct Counting {
    issued: AtomicUsize,
}

impl Credential for Counting {
    fn get_token<'a>(&'a self, _scope: &'a str) -> BoxFuture<'a, Result<AccessToken, Error>> {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move {
            Ok(AccessToken::new(
                Secret::new(format!("token-{n}")),
                Some(SystemTime::now() + Duration::from_secs(3600)),
            ))
        })
    }
}

fn counting_client(api: &MockServer) -> (Client, Arc<Counting>) {
    let counting = Arc::new(Counting::default());
    let client = Client::builder()
        .base_url(api.base_url())
        .credential(Arc::clone(&counting) as Arc<dyn Credential>)
        .build()
        .unwrap();
    (client, counting)
}

fn api_refusing<'a>(api: &'a MockServer, token: &str) -> Mock<'a> {
    api.get_missing_kbs_by_software_id(|when, then| {
        when.id(ID)
            .into_inner()
            .header("authorization", format!("Bearer {token}"));
        then.unauthorized(
            &serde_json::from_value(json!({
                "error": {"code": "Unauthorized", "message": "Token expired", "target": "t-401"}
            }))
            .unwrap(),
        );
    })
}

#[tokio::test]
async fn a_401_drops_the_token_and_retries_once_with_a_fresh_one() {
    let api = MockServer::start_async().await;
    let refused = api_refusing(&api, "token-1");
    let accepted = api_accepting(&api, "token-2");
    let (client, credential) = counting_client(&api);

    client.missing_kbs(ID).await.unwrap();
    client.missing_kbs(ID).await.unwrap();

    refused.assert_calls(1);
    accepted.assert_calls(2);
    assert_eq!(credential.issued.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_401s_share_one_refresh() {
    let api = MockServer::start_async().await;
    // Slow 401s: every call is sent with the first token before any refusal comes back.
    let refused = api.get_missing_kbs_by_software_id(|when, then| {
        when.id(ID)
            .into_inner()
            .header("authorization", "Bearer token-1");
        then.into_inner()
            .status(401)
            .delay(Duration::from_millis(300))
            .body(r#"{"error":{"code":"Unauthorized","message":"Token expired"}}"#);
    });
    let accepted = api_accepting(&api, "token-2");
    let (client, credential) = counting_client(&api);
    client.software_by_id("warm").await.ok(); // the first token, fetched before the race

    let results = futures::future::join_all((0..20).map(|_| {
        let client = client.clone();
        async move { client.missing_kbs(ID).await }
    }))
    .await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    refused.assert_calls(20);
    accepted.assert_calls(20);
    assert_eq!(
        credential.issued.load(Ordering::SeqCst),
        2,
        "one first token and exactly one refresh"
    );
}

#[tokio::test]
async fn a_401_refreshes_once_even_with_retries_off() {
    let api = MockServer::start_async().await;
    let refused = api_refusing(&api, "token-1");
    let accepted = api_accepting(&api, "token-2");
    let counting = Arc::new(Counting::default());
    let client = Client::builder()
        .base_url(api.base_url())
        .credential(Arc::clone(&counting) as Arc<dyn Credential>)
        .retry(defender_tvm::RetryPolicy::disabled())
        .build()
        .unwrap();

    client.missing_kbs(ID).await.unwrap();

    refused.assert_calls(1);
    accepted.assert_calls(1);
}

#[tokio::test]
async fn the_scope_can_be_overridden() {
    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    let token = login.mock(|when, then| {
        when.form_urlencoded_tuple("scope", "api://custom-resource/.default");
        then.status(200)
            .json_body(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "t-1"}));
    });
    api_accepting(&api, "t-1");
    let client = ClientBuilder::default()
        .base_url(api.base_url())
        .authority_host(login.base_url())
        .scope("api://custom-resource/.default")
        .client_secret(TENANT, CLIENT_ID, SECRET)
        .build()
        .unwrap();

    client.missing_kbs(ID).await.unwrap();

    token.assert_calls(1);
}

#[test]
fn gcc_high_and_dod_sign_in_at_the_us_host_without_an_override() {
    for cloud in [Cloud::GccHigh, Cloud::Dod] {
        let client = ClientBuilder::default()
            .cloud(cloud)
            .client_secret(TENANT, CLIENT_ID, SECRET)
            .build()
            .unwrap();
        // Nothing can be sent from here (no network): the token URL the credential holds shows
        // in the client's Debug output, without the secret.
        let shown = format!("{client:?}");
        assert!(
            shown.contains(&format!(
                "token_url: \"https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/token\""
            )),
            "{cloud}: {shown}"
        );
        assert!(!shown.contains(SECRET));
    }
}

#[tokio::test]
async fn an_expired_secret_gets_its_advice_and_entras_description() {
    let err = sign_in_error(
        401,
        r#"{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app '11111111' are expired.","error_codes":[7000222]}"#,
    )
    .await;
    let auth = auth(&err);
    assert_eq!(auth.aadsts, Some(7000222));
    assert_eq!(
        auth.description.as_deref(),
        Some("AADSTS7000222: The provided client secret keys for app '11111111' are expired.")
    );
    let text = err.to_string();
    assert!(
        text.contains("the client secret has expired; create a new one"),
        "{text}"
    );
    assert!(
        text.contains("keys for app '11111111' are expired"),
        "{text}"
    );
}

#[tokio::test]
async fn a_second_401_is_returned_as_an_error() {
    let api = MockServer::start_async().await;
    let first = api_refusing(&api, "token-1");
    let second = api_refusing(&api, "token-2");
    let (client, credential) = counting_client(&api);

    let err = client.missing_kbs(ID).await.unwrap_err();

    assert_eq!(err.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    assert!(err.to_string().contains("invalid or expired"), "{err}");
    first.assert_calls(1);
    second.assert_calls(1);
    assert_eq!(credential.issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_static_token_refused_with_401_is_not_sent_again() {
    let api = MockServer::start_async().await;
    let refused = api_refusing(&api, "static");
    let client = Client::builder()
        .base_url(api.base_url())
        .bearer_token("static")
        .build()
        .unwrap();

    let err = client.missing_kbs(ID).await.unwrap_err();

    assert_eq!(err.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    refused.assert_calls(1);
}

/// Serves a token-endpoint failure and returns the client's error; the API must not be called.
async fn sign_in_error(status: u16, body: &str) -> Error {
    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    login.mock(|when, then| {
        when.method("POST");
        then.status(status).body(body);
    });
    let never = api.mock(|when, then| {
        when.any_request();
        then.status(200);
    });

    let err = secret_client(&login, &api)
        .missing_kbs(ID)
        .await
        .unwrap_err();

    never.assert_calls(0);
    let shown = format!("{err} {err:?} {err:#}");
    assert!(!shown.contains(SECRET), "the secret leaked: {shown}");
    err
}

fn auth(err: &Error) -> &defender_tvm::error::AuthError {
    match err {
        Error::Auth(auth) => auth,
        other => panic!("expected Error::Auth, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_secret_surfaces_entras_error_aadsts_code_and_ids() {
    let body = json!({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 0d1f\r\nCorrelation ID: 9c2e\r\nTimestamp: 2026-11-23 10:00:00Z",
        "error_codes": [7000215],
        "timestamp": "2026-11-23 10:00:00Z",
        "trace_id": "0d1f-trace",
        "correlation_id": "9c2e-correlation",
    });
    let err = sign_in_error(401, &body.to_string()).await;

    let auth = auth(&err);
    assert_eq!(auth.error, "invalid_client");
    assert_eq!(auth.aadsts, Some(7000215));
    assert_eq!(auth.status, Some(reqwest::StatusCode::UNAUTHORIZED));
    assert_eq!(auth.trace_id.as_deref(), Some("0d1f-trace"));
    assert_eq!(auth.correlation_id.as_deref(), Some("9c2e-correlation"));
    let text = err.to_string();
    for part in [
        "invalid_client",
        "AADSTS7000215",
        "client secret is wrong",
        "0d1f-trace",
    ] {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
    assert_eq!(
        err.status(),
        None,
        "status() is the API's, not the token endpoint's"
    );
}

#[tokio::test]
async fn an_unknown_tenant_and_an_unknown_app_are_told_apart() {
    let tenant = sign_in_error(
        400,
        r#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'contoso-tenant' not found."}"#,
    )
    .await;
    assert_eq!(auth(&tenant).aadsts, Some(90002));
    assert!(
        tenant.to_string().contains("tenant is not found"),
        "{tenant}"
    );

    let app = sign_in_error(
        400,
        r#"{"error":"unauthorized_client","error_description":"AADSTS700016: Application not found.","error_codes":[700016]}"#,
    )
    .await;
    assert_eq!(auth(&app).aadsts, Some(700016));
    assert!(
        app.to_string()
            .contains("application (client id) is not found"),
        "{app}"
    );

    let consent = sign_in_error(
        400,
        r#"{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented."}"#,
    )
    .await;
    assert!(consent.to_string().contains("admin consent"), "{consent}");
}

#[tokio::test]
async fn an_echo_of_the_secret_in_a_sign_in_error_is_redacted() {
    let body = json!({
        "error": "invalid_client",
        "error_description": format!("AADSTS7000215: secret {SECRET} is invalid"),
    });
    let err = sign_in_error(401, &body.to_string()).await;
    assert!(err.to_string().contains("<redacted>"), "{err}");
}

#[tokio::test]
async fn token_endpoint_replies_that_are_not_entra_json_are_auth_errors() {
    let gateway = sign_in_error(502, "<html>Bad gateway</html>").await;
    assert_eq!(
        auth(&gateway).status,
        Some(reqwest::StatusCode::BAD_GATEWAY)
    );
    assert!(gateway.to_string().contains("Bad gateway"), "{gateway}");

    let no_token = sign_in_error(200, r#"{"token_type":"Bearer","expires_in":3599}"#).await;
    assert_eq!(auth(&no_token).error, "invalid_token_reply");

    let empty = sign_in_error(200, r#"{"expires_in":3599,"access_token":""}"#).await;
    assert_eq!(auth(&empty).error, "invalid_token_reply");
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_an_auth_error() {
    // Bound but not listening: connections are refused, and no other test can take it.
    let (_held, refusing) = crate::common::refusing_address();
    let api = MockServer::start_async().await;
    let client = ClientBuilder::default()
        .base_url(api.base_url())
        .authority_host(&refusing)
        .client_secret(TENANT, CLIENT_ID, SECRET)
        .sign_in_retry(defender_tvm::RetryPolicy::disabled())
        .build()
        .unwrap();

    let err = client.missing_kbs(ID).await.unwrap_err();

    assert_eq!(auth(&err).error, "token_endpoint_unreachable");
    assert!(!format!("{err:?}").contains(SECRET));
}

#[tokio::test]
async fn a_redirect_to_another_origin_carries_no_token() {
    let (api, elsewhere) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    let target = elsewhere.url("/landing");
    api.get_missing_kbs_by_software_id(|when, then| {
        when.id(ID);
        then.into_inner()
            .status(307)
            .header("location", target.as_str());
    });
    let without_token = elsewhere.mock(|when, then| {
        when.path("/landing").header_missing("authorization");
        then.status(200).body(r#"{"value":[]}"#);
    });
    let with_token = elsewhere.mock(|when, then| {
        when.path("/landing").header_exists("authorization");
        then.status(200).body(r#"{"value":[]}"#);
    });
    let client = Client::builder()
        .base_url(api.base_url())
        .bearer_token("static-token")
        .build()
        .unwrap();

    let _ = client.missing_kbs(ID).await;

    without_token.assert_calls(1);
    with_token.assert_calls(0);
}

#[test]
fn from_vars_names_each_missing_variable() {
    let all = [
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_CLIENT_SECRET", SECRET),
    ];
    for (missing, _) in all {
        let vars: HashMap<_, _> = all
            .into_iter()
            .filter(|(name, _)| *name != missing)
            .collect();
        let err =
            ClientBuilder::from_vars(|name| vars.get(name).map(|v| v.to_string())).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert!(
            text.starts_with(&format!("invalid input: {missing} not set")),
            "{text}"
        );
        assert!(!text.contains(SECRET), "{text}");
    }

    let none = ClientBuilder::from_vars(|_| None).unwrap_err().to_string();
    assert!(
        none.contains("AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET not set")
            && none.contains("DEFENDER_TVM_BEARER_TOKEN"),
        "{none}"
    );

    let blank = ClientBuilder::from_vars(|name| {
        Some(
            if name == "AZURE_CLIENT_SECRET" {
                " "
            } else {
                "x"
            }
            .into(),
        )
    });
    assert!(
        blank
            .unwrap_err()
            .to_string()
            .contains("AZURE_CLIENT_SECRET not set")
    );
}

#[tokio::test]
async fn from_vars_sends_a_bearer_token_when_no_client_secret_variable_is_set() {
    let api = MockServer::start_async().await;
    let calls = api_accepting(&api, "env-bearer-token");
    let vars = HashMap::from([
        ("DEFENDER_TVM_BEARER_TOKEN", "env-bearer-token".to_owned()),
        ("DEFENDER_TVM_BASE_URL", api.base_url()),
    ]);

    let client = ClientBuilder::from_vars(|name| vars.get(name).cloned())
        .unwrap()
        .build()
        .unwrap();
    client.missing_kbs(ID).await.unwrap();

    calls.assert_calls(1);
    // A client-secret variable set means that way was meant: the others are asked for.
    let mixed = HashMap::from([
        ("DEFENDER_TVM_BEARER_TOKEN", "env-bearer-token"),
        ("AZURE_CLIENT_ID", CLIENT_ID),
    ]);
    let err = ClientBuilder::from_vars(|name| mixed.get(name).map(|v| v.to_string()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("AZURE_TENANT_ID, AZURE_CLIENT_SECRET not set"),
        "{err}"
    );
    assert!(!err.contains("env-bearer-token"), "{err}");
}

#[test]
fn from_vars_reads_the_cloud_and_refuses_an_unknown_one() {
    let vars = |cloud: &'static str| {
        move |name: &str| match name {
            "DEFENDER_TVM_CLOUD" => Some(cloud.to_owned()),
            "AZURE_AUTHORITY_HOST" | "DEFENDER_TVM_BASE_URL" => None,
            _ => Some("x".to_owned()),
        }
    };
    let client = ClientBuilder::from_vars(vars("gcc-high"))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        client.base_url(),
        "https://api-gov.securitycenter.microsoft.us"
    );
    let err = ClientBuilder::from_vars(vars("atlantis"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("DEFENDER_TVM_CLOUD") && err.contains("atlantis"),
        "{err}"
    );
}

#[tokio::test]
async fn from_vars_signs_in_at_the_authority_host_and_calls_the_base_url() {
    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    let token = token_endpoint(&login, "env-token", 3599);
    let calls = api_accepting(&api, "env-token");
    let vars = HashMap::from([
        ("AZURE_TENANT_ID", TENANT.to_owned()),
        ("AZURE_CLIENT_ID", CLIENT_ID.to_owned()),
        ("AZURE_CLIENT_SECRET", SECRET.to_owned()),
        ("AZURE_AUTHORITY_HOST", format!("{}/", login.base_url())),
        ("DEFENDER_TVM_BASE_URL", api.base_url()),
    ]);

    let client = ClientBuilder::from_vars(|name| vars.get(name).cloned())
        .unwrap()
        .build()
        .unwrap();
    client.missing_kbs(ID).await.unwrap();

    token.assert_calls(1);
    calls.assert_calls(1);
}

#[test]
fn a_plain_http_authority_host_is_refused_unless_loopback() {
    let err = ClientBuilder::default()
        .authority_host("http://login.example")
        .client_secret(TENANT, CLIENT_ID, SECRET)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("authority host"), "{err}");
    let bad_tenant = ClientBuilder::default()
        .client_secret("..", CLIENT_ID, SECRET)
        .build()
        .unwrap_err();
    assert!(bad_tenant.to_string().contains("tenant id"), "{bad_tenant}");
}

/// An `azure_core` credential standing in for `azure_identity`'s, recording the scopes asked.
#[derive(Debug, Default)]
struct FakeAzureCredential {
    scopes: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl azure_core::credentials::TokenCredential for FakeAzureCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        self.scopes
            .lock()
            .unwrap()
            .extend(scopes.iter().map(|s| s.to_string()));
        Ok(azure_core::credentials::AccessToken::new(
            "azure-token",
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

#[tokio::test]
async fn an_azure_core_credential_is_asked_for_the_cloud_scope_and_cached() {
    let api = MockServer::start_async().await;
    let calls = api_accepting(&api, "azure-token");
    let credential = Arc::new(FakeAzureCredential::default());
    let client = Client::builder()
        .cloud(Cloud::Gcc)
        .base_url(api.base_url())
        .azure_credential(credential.clone())
        .build()
        .unwrap();

    client.missing_kbs(ID).await.unwrap();
    client.missing_kbs(ID).await.unwrap();

    calls.assert_calls(2);
    assert_eq!(
        *credential.scopes.lock().unwrap(),
        ["https://api-gcc.securitycenter.microsoft.us/.default"]
    );
}
