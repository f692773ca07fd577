//! Sign-in survives transient failures: the client-secret token request is retried on 429, 5xx,
//! a dropped connection and a reply cut short, within its own policy; errors that retrying cannot
//! fix are not retried; single flight holds across the retries; a failed renewal ahead of expiry
//! keeps using the still-valid token.

use std::time::{Duration, Instant};

use defender_tvm::{Client, ClientBuilder, Error, RateLimit, RetryPolicy};
use httpmock::MockServer;
use tracing::Instrument;

use crate::common::{api_accepting, events, span};
use crate::flaky::{Act, Flaky};

const ID: &str = "microsoft-_-edge";
const SECRET: &str = "sign-in-retry-secret~Q";

fn token(access_token: &str, expires_in: u64) -> Act {
    Act::Answer(
        200,
        format!(
            r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"{access_token}"}}"#
        ),
    )
}

fn unavailable() -> Act {
    Act::Answer(
        503,
        r#"{"error":"temporarily_unavailable","error_description":"AADSTS50196: The server is temporarily unavailable.","error_codes":[50196]}"#
            .to_owned(),
    )
}

fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(10))
}

fn client(login: &Flaky, api: &MockServer, sign_in: RetryPolicy) -> Client {
    ClientBuilder::default()
        .base_url(api.base_url())
        .authority_host(&login.base_url)
        .client_secret("tenant", "client-id", SECRET)
        .sign_in_retry(sign_in)
        .retry(RetryPolicy::disabled())
        .rate_limit(RateLimit::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_503_from_the_token_endpoint_is_retried_once_and_the_call_succeeds() {
    const TEST: &str = "sign_in_503_once";
    let login = Flaky::start(vec![unavailable(), token("t-1", 3599)]).await;
    let api = MockServer::start_async().await;
    let calls = api_accepting(&api, "t-1");

    client(&login, &api, quick(4))
        .missing_kbs(ID)
        .collect_items()
        .instrument(span(TEST))
        .await
        .unwrap();

    assert_eq!(login.requests(), 2);
    calls.assert_calls(1);
    // The one retry loop's event, as for API calls.
    let retries = events(TEST, "retrying after a transient failure");
    assert_eq!(retries.len(), 1, "{retries:?}");
    for part in [
        "operation=\"token_request\"",
        "attempt=1",
        "status=503",
        "wait_ms=",
    ] {
        assert!(retries[0].contains(part), "{} lacks {part}", retries[0]);
    }
    assert!(!retries[0].contains(SECRET));
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_for_then_retried() {
    let login = Flaky::start(vec![
        Act::AnswerWith(
            429,
            vec![("retry-after".into(), "1".into())],
            r#"{"error":"temporarily_unavailable"}"#.into(),
        ),
        token("t-1", 3599),
    ])
    .await;
    let api = MockServer::start_async().await;
    let calls = api_accepting(&api, "t-1");
    let started = Instant::now();

    client(&login, &api, RetryPolicy::standard())
        .missing_kbs(ID)
        .await
        .unwrap();

    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(login.requests(), 2);
    calls.assert_calls(1);
}

#[tokio::test]
async fn a_connection_dropped_or_a_reply_cut_short_is_retried_once() {
    let reply = r#"{"token_type":"Bearer","expires_in":3599,"access_token":"t-1"}"#;
    for failure in [Act::Drop, Act::CutBody(200, reply.into())] {
        let login = Flaky::start(vec![failure.clone(), token("t-1", 3599)]).await;
        let api = MockServer::start_async().await;
        let calls = api_accepting(&api, "t-1");

        client(&login, &api, quick(4))
            .missing_kbs(ID)
            .await
            .unwrap_or_else(|e| panic!("{failure:?}: {e}"));

        assert_eq!(login.requests(), 2, "{failure:?}");
        calls.assert_calls(1);
    }
}

#[tokio::test]
async fn a_token_endpoint_always_503_fails_after_the_policys_attempts_saying_it_was_transient() {
    let login = Flaky::start(vec![unavailable()]).await;
    let api = MockServer::start_async().await;
    let calls = api_accepting(&api, "never");

    let err = client(&login, &api, quick(3))
        .missing_kbs(ID)
        .await
        .unwrap_err();

    let Error::Auth(auth) = &err else {
        panic!("expected Error::Auth, got {err:?}")
    };
    assert!(auth.transient);
    assert_eq!(auth.attempts, 3);
    assert_eq!(auth.aadsts, Some(50196));
    assert_eq!(login.requests(), 3);
    calls.assert_calls(0);
    let text = err.to_string();
    assert!(
        text.contains("transient") && text.contains("3 attempts"),
        "{text}"
    );
    assert!(!text.contains(SECRET));
}

#[tokio::test]
async fn invalid_client_is_not_retried() {
    let login = Flaky::start(vec![Act::Answer(
        401,
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#
            .into(),
    )])
    .await;
    let api = MockServer::start_async().await;

    let err = client(&login, &api, quick(4))
        .missing_kbs(ID)
        .await
        .unwrap_err();

    let Error::Auth(auth) = &err else {
        panic!("expected Error::Auth, got {err:?}")
    };
    assert_eq!(auth.aadsts, Some(7000215));
    assert!(!auth.transient);
    assert_eq!(auth.attempts, 1);
    assert_eq!(login.requests(), 1);
}

#[tokio::test]
async fn other_4xx_from_the_token_endpoint_are_not_retried() {
    for (status, body) in [
        (
            400,
            r#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found."}"#,
        ),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented."}"#,
        ),
        (404, "not found"),
    ] {
        let login = Flaky::start(vec![Act::Answer(status, body.into())]).await;
        let api = MockServer::start_async().await;

        let err = client(&login, &api, quick(4))
            .missing_kbs(ID)
            .await
            .unwrap_err();

        assert!(matches!(err, Error::Auth(_)), "{err:?}");
        assert_eq!(login.requests(), 1, "{status} {body}");
    }
}

#[tokio::test]
async fn fifty_concurrent_calls_share_one_token_request_across_its_retry() {
    let login = Flaky::start(vec![unavailable(), token("t-1", 3599)]).await;
    let api = MockServer::start_async().await;
    let calls = api_accepting(&api, "t-1");
    let client = client(&login, &api, quick(4));

    let results = futures::future::join_all((0..50).map(|_| {
        let client = client.clone();
        async move { client.missing_kbs(ID).await }
    }))
    .await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(login.requests(), 2, "one failed and one retried request");
    calls.assert_calls(50);
}

#[tokio::test]
async fn a_failed_renewal_ahead_of_expiry_keeps_using_the_still_valid_token() {
    // A 4 s token is renewed after 2 s (half its lifetime); every renewal fails.
    let login = Flaky::start(vec![token("t-1", 4), unavailable()]).await;
    let api = MockServer::start_async().await;
    let calls = api_accepting(&api, "t-1");
    let client = client(&login, &api, quick(2));

    client.missing_kbs(ID).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    client.missing_kbs(ID).await.unwrap();
    // The failed renewal is not tried again on every call: the next try is 30 s away.
    client.missing_kbs(ID).await.unwrap();

    calls.assert_calls(3);
    assert_eq!(
        login.requests(),
        1 + 2,
        "the first token, then one renewal of 2 attempts"
    );
}

#[tokio::test]
async fn every_transient_status_of_the_token_endpoint_is_retried() {
    // The one list of retryable statuses, as for API calls.
    for status in [408, 429, 500, 502, 503, 504] {
        let login = Flaky::start(vec![
            Act::Answer(status, r#"{"error":"temporarily_unavailable"}"#.into()),
            token("t-1", 3599),
        ])
        .await;
        let api = MockServer::start_async().await;
        let calls = api_accepting(&api, "t-1");

        client(&login, &api, quick(4))
            .missing_kbs(ID)
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));

        assert_eq!(
            login.requests(),
            2,
            "{status}: one failed and one retried request"
        );
        calls.assert_calls(1);
    }
}

#[tokio::test]
async fn a_sign_in_retry_after_beyond_the_cap_is_not_waited_for() {
    let login = Flaky::start(vec![
        Act::AnswerWith(
            429,
            vec![("retry-after".into(), "3600".into())],
            r#"{"error":"temporarily_unavailable"}"#.into(),
        ),
        token("t-1", 3599),
    ])
    .await;
    let api = MockServer::start_async().await;
    let calls = api_accepting(&api, "t-1");

    // The standard policy waits at most 120 s: an hour is not waited for (the guard only stops
    // the test from hanging for an hour if it were).
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        client(&login, &api, RetryPolicy::standard()).missing_kbs(ID),
    )
    .await
    .expect("the client gives up instead of waiting an hour")
    .unwrap_err();

    let Error::Auth(auth) = &err else {
        panic!("expected Error::Auth, got {err:?}")
    };
    assert_eq!(auth.status.map(|s| s.as_u16()), Some(429));
    assert!(auth.transient);
    assert_eq!(login.requests(), 1);
    let text = err.to_string();
    assert!(
        text.contains("3600 s") && text.contains("max_retry_after of 120 s"),
        "{text}"
    );
    calls.assert_calls(0);
}
