//! Per-call state is per call: concurrent calls on one client, or on one shared
//! `client.generated()`, never see each other's status, attempts or failures.

use std::time::Duration;

use defender_tvm::mock::MockServerExt;
use defender_tvm::{Client, RateLimit, RetryPolicy};
use httpmock::MockServer;
use reqwest::StatusCode;

use crate::common::{TOKEN, missing_kbs_path};

const OK_BODY: &str = r#"{"value":[{"id":"1","machineMissedOn":1,"cveAddressed":1}]}"#;
const GONE_BODY: &str =
    r#"{"error":{"code":"ResourceNotFound","message":"gone","target":"t-404"}}"#;

/// `ok` answers one KB, `gone` 404, `busy` 503 every time (slowly, so calls overlap).
fn serve(server: &MockServer) {
    server.mock(|when, then| {
        when.path(missing_kbs_path("ok"));
        then.status(200)
            .delay(Duration::from_millis(20))
            .body(OK_BODY);
    });
    server.mock(|when, then| {
        when.path(missing_kbs_path("gone"));
        then.status(404)
            .delay(Duration::from_millis(20))
            .body(GONE_BODY);
    });
    server.mock(|when, then| {
        when.path(missing_kbs_path("busy"));
        then.status(503).delay(Duration::from_millis(5)).body("");
    });
}

fn retrying_client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
        )
        .rate_limit(RateLimit::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn concurrent_generated_calls_on_one_generated_client_keep_their_own_outcome() {
    let server = MockServer::start_async().await;
    serve(&server);
    let raw = retrying_client(&server).generated();

    let calls = (0..20).map(|i| {
        let raw = raw.clone();
        let id = ["ok", "gone", "busy"][i % 3];
        async move {
            let outcome = raw.get_missing_kbs_by_software_id().id(id).send().await;
            (id, outcome)
        }
    });
    for (id, outcome) in futures::future::join_all(calls).await {
        match (id, outcome) {
            ("ok", Ok(page)) => assert_eq!(page.into_inner().value.len(), 1),
            ("gone", Err(progenitor_client::Error::ErrorResponse(e))) => {
                assert_eq!(e.status(), StatusCode::NOT_FOUND);
                assert_eq!(e.into_inner().error.target.as_deref(), Some("t-404"));
            }
            ("busy", Err(e)) => assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE)),
            (id, outcome) => panic!("{id}: unexpected {outcome:?}"),
        }
    }
}

#[tokio::test]
async fn concurrent_facade_calls_report_their_own_status_and_attempts() {
    let server = MockServer::start_async().await;
    serve(&server);
    let client = retrying_client(&server);

    let calls = (0..30).map(|i| {
        let client = client.clone();
        let id = ["ok", "gone", "busy"][i % 3];
        async move { (id, client.missing_kbs(id).await) }
    });
    for (id, outcome) in futures::future::join_all(calls).await {
        match id {
            "ok" => assert_eq!(outcome.unwrap().len(), 1),
            "gone" => {
                let err = outcome.unwrap_err();
                let api = err.api().expect("an API error");
                assert_eq!(api.status, StatusCode::NOT_FOUND);
                assert_eq!(api.attempts, 1, "404 is never retried: {err}");
                assert_eq!(err.target(), Some("t-404"));
                assert!(api.gave_up.is_none());
            }
            _ => {
                let err = outcome.unwrap_err();
                let api = err.api().expect("an API error");
                assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE);
                assert_eq!(api.attempts, 3, "{err}");
                assert_eq!(err.target(), None);
            }
        }
    }
}

#[tokio::test]
async fn a_sign_in_failure_of_a_raw_call_is_a_custom_error_with_the_message() {
    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    login.mock(|when, then| {
        when.any_request();
        then.status(401).json_body(serde_json::json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
        }));
    });
    let served = api.get_missing_kbs_by_software_id(|when, then| {
        when.id("ok");
        then.into_inner().status(200).body(OK_BODY);
    });
    let raw = Client::builder()
        .base_url(api.base_url())
        .authority_host(login.base_url())
        .client_secret("tenant", "client", "wrong-secret")
        .build()
        .unwrap()
        .generated();

    let err = raw
        .get_missing_kbs_by_software_id()
        .id("ok")
        .send()
        .await
        .unwrap_err();

    let progenitor_client::Error::Custom(message) = &err else {
        panic!("expected Error::Custom, got {err:?}")
    };
    assert!(message.contains("AADSTS7000215"), "{message}");
    served.assert_calls(0);
}
