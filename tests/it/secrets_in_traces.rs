//! Neither the client secret nor any token appears in logs, traces, `Debug` output or error
//! messages. The test binary's global subscriber (`common::traces`) captures everything the
//! client side emits at TRACE level (the crate's own events and those of reqwest and hyper, `log`
//! records included) while this test signs in, calls the API, gets a 401, and fails a sign-in;
//! then the capture is searched for this test's secret and token, which no other test uses.

use crate::common::traces;
use defender_tvm::mock::MockServerExt;
use defender_tvm::{Client, ClientBuilder};
use httpmock::MockServer;
use serde_json::json;

const SECRET: &str = "client-secret-Z9~leak";
const TOKEN: &str = "eyJ0eXAiOiJKV1Qi.leak-me-not";
const ID: &str = "microsoft-_-edge";

#[tokio::test]
async fn secrets_and_tokens_appear_in_no_trace_debug_or_error() {
    let capture = traces();

    let (login, api) = (
        MockServer::start_async().await,
        MockServer::start_async().await,
    );
    login.mock(|when, then| {
        when.method("POST").path("/tenant/oauth2/v2.0/token");
        then.status(200)
            .json_body(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN}));
    });
    api.get_missing_kbs_by_software_id(|when, then| {
        when.id(ID);
        then.into_inner().status(200).body(r#"{"value":[]}"#);
    });
    api.get_missing_kbs_by_software_id(|when, then| {
        when.id("refused");
        then.into_inner()
            .status(401)
            .body(r#"{"error":{"code":"Unauthorized","message":"Expired","target":"t"}}"#);
    });
    let builder = || {
        ClientBuilder::default()
            .base_url(api.base_url())
            .authority_host(login.base_url())
            .client_secret("tenant", "client-id", SECRET)
    };
    let client = builder().build().unwrap();
    let mut shown = format!("{:?} {client:?} {:?}", builder(), client.generated());

    client.missing_kbs(ID).await.unwrap();
    let unauthorized = client.missing_kbs("refused").await.unwrap_err();
    shown += &format!("{unauthorized} {unauthorized:?} {client:?}");

    let failing = MockServer::start_async().await;
    failing.mock(|when, then| {
        when.any_request();
        then.status(401).json_body(json!({
            "error": "invalid_client",
            "error_description": format!("AADSTS7000215: Invalid client secret {SECRET}"),
        }));
    });
    let refused = ClientBuilder::default()
        .base_url(api.base_url())
        .authority_host(failing.base_url())
        .client_secret("tenant", "client-id", SECRET)
        .build()
        .unwrap()
        .missing_kbs(ID)
        .await
        .unwrap_err();
    shown += &format!("{refused} {refused:?} {refused:#}");
    let bearer = Client::builder()
        .base_url(api.base_url())
        .bearer_token(TOKEN)
        .build()
        .unwrap();
    bearer.missing_kbs(ID).await.unwrap();
    shown += &format!("{bearer:?}");

    let traces = capture.text();
    assert!(
        traces.contains("acquired an access token"),
        "the capture works and holds the crate's events"
    );
    assert!(traces.contains("401"), "the 401 refresh was traced");
    for secret in [SECRET, TOKEN] {
        if let Some(line) = traces.lines().find(|l| l.contains(secret)) {
            panic!("{secret:?} leaked into traces: {line}");
        }
        assert!(
            !shown.contains(secret),
            "{secret:?} leaked into Debug/Display: {shown}"
        );
    }
}
