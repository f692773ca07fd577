//! Retries: 429 after `Retry-After` (seconds or HTTP date, capped), transient 5xx and connection
//! failures with backoff, other statuses never, bounded attempts, a retried page in the middle of
//! a listing, timeouts, and a tracing event per retry that never holds the token.

use std::time::{Duration, Instant, SystemTime};

use crate::common::{TOKEN, events, kb, span};
use defender_tvm::mock::MockServerExt;
use defender_tvm::types::PublicProductFixDtoCollection;
use defender_tvm::{Client, Error, RateLimit, RetryPolicy, error::TimeoutKind};
use httpmock::MockServer;
use reqwest::StatusCode;
use tracing::Instrument;

const ID: &str = "microsoft-_-edge";
const OK_BODY: &str = r#"{"value":[]}"#;

/// The retry events of test `name`'s span.
fn retries(name: &str) -> Vec<String> {
    events(name, "retrying after a transient failure")
}

fn client(server: &MockServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .retry(policy)
        .rate_limit(RateLimit::disabled())
        .build()
        .unwrap()
}

/// Retries without meaningful waits, for tests about what is retried rather than when.
fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .initial_backoff(Duration::from_millis(1))
}

/// The operation answers `status` (with `headers`) `times` times, then 200.
fn failing_then_ok<'a>(
    server: &'a MockServer,
    status: u16,
    headers: &[(&str, &str)],
    times: usize,
) -> (httpmock::Mock<'a>, httpmock::Mock<'a>) {
    let failing = server.get_missing_kbs_by_software_id(|when, then| {
        when.id(ID);
        let mut then = then.into_inner().status(status).up_to_n_times(times);
        for (name, value) in headers {
            then = then.header(*name, *value);
        }
        then.body(format!(
            r#"{{"error":{{"code":"E{status}","message":"try again","target":"t"}}}}"#
        ));
    });
    let ok = server.get_missing_kbs_by_software_id(|when, then| {
        when.id(ID);
        then.into_inner().status(200).body(OK_BODY);
    });
    (failing, ok)
}

#[tokio::test]
async fn a_429_with_retry_after_seconds_waits_that_long_then_succeeds() {
    const TEST: &str = "a_429_with_retry_after_seconds";
    let server = MockServer::start_async().await;
    let (limited, ok) = failing_then_ok(&server, 429, &[("retry-after", "2")], 1);
    let started = Instant::now();

    client(&server, RetryPolicy::default())
        .missing_kbs(ID)
        .collect_items()
        .instrument(span(TEST))
        .await
        .unwrap();

    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    limited.assert_calls(1);
    ok.assert_calls(1);
    let retries = retries(TEST);
    assert_eq!(retries.len(), 1, "{retries:?}");
    for part in [
        "operation=\"get_missing_kbs_by_software_id\"",
        "status=429",
        "attempt=1",
        "wait_ms=2000",
    ] {
        assert!(retries[0].contains(part), "{} lacks {part}", retries[0]);
    }
    assert!(!retries[0].contains(TOKEN));
}

#[tokio::test]
async fn a_retry_after_http_date_in_the_past_is_retried_at_once() {
    const TEST: &str = "a_retry_after_http_date_in_the_past";
    let server = MockServer::start_async().await;
    let date = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
    let (limited, ok) = failing_then_ok(&server, 429, &[("retry-after", &date)], 1);

    client(&server, RetryPolicy::default())
        .missing_kbs(ID)
        .collect_items()
        .instrument(span(TEST))
        .await
        .unwrap();

    limited.assert_calls(1);
    ok.assert_calls(1);
    let retries = retries(TEST);
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert!(retries[0].contains("wait_ms=0"), "{}", retries[0]);
}

#[tokio::test]
async fn a_retry_after_http_date_an_hour_ahead_is_read_as_about_an_hour() {
    // Far enough ahead that a slow machine cannot blur it: the wait is read from the date
    // (exactly, relative to a fixed clock, in `http::body`'s unit test), and being over the
    // policy's cap, ends the call with an error that names it.
    let server = MockServer::start_async().await;
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    let (limited, _ok) = failing_then_ok(&server, 429, &[("retry-after", &date)], 1);
    let policy = RetryPolicy::default().max_retry_after(Duration::from_secs(60));

    let err = client(&server, policy).missing_kbs(ID).await.unwrap_err();

    let asked = err
        .retry_after()
        .expect("the wait the date asked for")
        .as_secs();
    assert!((3500..=3600).contains(&asked), "{asked}");
    assert!(err.to_string().contains("max_retry_after of 60 s"), "{err}");
    limited.assert_calls(1);
}

#[tokio::test]
async fn a_retry_after_over_the_cap_gives_up_with_an_error_that_says_so() {
    let server = MockServer::start_async().await;
    let (limited, ok) = failing_then_ok(&server, 429, &[("retry-after", "3600")], 1);
    let policy = RetryPolicy::default().max_retry_after(Duration::from_secs(60));

    let err = client(&server, policy).missing_kbs(ID).await.unwrap_err();

    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    let text = err.to_string();
    assert!(
        text.contains("3600 s") && text.contains("max_retry_after of 60 s"),
        "{text}"
    );
    limited.assert_calls(1);
    ok.assert_calls(0);
}

#[tokio::test]
async fn a_503_twice_then_200_succeeds() {
    let server = MockServer::start_async().await;
    let (unavailable, ok) = failing_then_ok(&server, 503, &[], 2);

    client(&server, quick(4)).missing_kbs(ID).await.unwrap();

    unavailable.assert_calls(2);
    ok.assert_calls(1);
}

#[tokio::test]
async fn each_transient_status_is_retried() {
    for status in [408, 429, 500, 502, 503, 504] {
        let server = MockServer::start_async().await;
        let (failing, ok) = failing_then_ok(&server, status, &[], 1);

        client(&server, quick(2)).missing_kbs(ID).await.unwrap();

        failing.assert_calls(1);
        ok.assert_calls(1);
    }
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    for status in [400, 403, 404, 409] {
        let server = MockServer::start_async().await;
        let (failing, ok) = failing_then_ok(&server, status, &[], 1);

        let err = client(&server, quick(4)).missing_kbs(ID).await.unwrap_err();

        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        failing.assert_calls(1);
        ok.assert_calls(0);
    }
}

#[tokio::test]
async fn exhausted_attempts_give_an_error_carrying_the_last_status() {
    let server = MockServer::start_async().await;
    let (unavailable, _) = failing_then_ok(&server, 503, &[], 100);

    let err = client(&server, quick(3)).missing_kbs(ID).await.unwrap_err();

    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.code(), Some("E503"));
    assert_eq!(err.api().unwrap().attempts, 3);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
    unavailable.assert_calls(3);
}

#[tokio::test]
async fn connection_failures_are_retried_with_backoff() {
    const TEST: &str = "connection_failures";
    // Bound but not listening: connections are refused, and no other test can take it.
    let (_held, refusing) = crate::common::refusing_address();
    let client = Client::builder()
        .base_url(&refusing)
        .bearer_token(TOKEN)
        .retry(
            RetryPolicy::default()
                .max_attempts(4)
                .initial_backoff(Duration::from_millis(40))
                .max_backoff(Duration::from_secs(1)),
        )
        .build()
        .unwrap();

    let err = client
        .missing_kbs(ID)
        .collect_items()
        .instrument(span(TEST))
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    let waits: Vec<u64> = retries(TEST)
        .iter()
        .map(|line| {
            line.split("wait_ms=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .expect("a wait_ms field")
        })
        .collect();
    assert_eq!(waits.len(), 3, "three retries after the first attempt");
    // Exponential backoff with equal jitter: 40 ms doubling, each wait in [full / 2, full].
    for (i, wait) in waits.iter().enumerate() {
        let full = 40 << i;
        assert!(
            (full / 2..=full).contains(wait),
            "retry {i}: {wait} ms of {full}"
        );
    }
}

fn page(ids: &[&str], next: Option<String>) -> PublicProductFixDtoCollection {
    PublicProductFixDtoCollection {
        odata_count: None,
        odata_context: None,
        odata_next_link: next.map(Into::into),
        value: ids.iter().map(|id| kb(id)).collect(),
    }
}

#[tokio::test]
async fn a_503_on_page_2_of_3_still_yields_every_item_exactly_once() {
    let server = MockServer::start_async().await;
    let link = |n: u32| server.url(format!("/api/Software/{ID}/getmissingkbs?$skiptoken={n}"));
    server.get_missing_kbs_by_software_id(|when, then| {
        when.into_inner().query_param_missing("$skiptoken");
        then.ok(&page(&["1", "2"], Some(link(2))));
    });
    let unavailable = server.get_missing_kbs_by_software_id(|when, then| {
        when.into_inner().query_param("$skiptoken", "2");
        then.into_inner().status(503).up_to_n_times(1);
    });
    let second = server.get_missing_kbs_by_software_id(|when, then| {
        when.into_inner().query_param("$skiptoken", "2");
        then.ok(&page(&["3", "4"], Some(link(3))));
    });
    server.get_missing_kbs_by_software_id(|when, then| {
        when.into_inner().query_param("$skiptoken", "3");
        then.ok(&page(&["5"], None));
    });

    let kbs = client(&server, quick(3)).missing_kbs(ID).await.unwrap();

    let ids: Vec<_> = kbs.iter().map(|kb| kb.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    unavailable.assert_calls(1);
    second.assert_calls(1);
}

#[tokio::test]
async fn a_request_timeout_is_an_error_that_says_which_timeout_fired() {
    let server = MockServer::start_async().await;
    let slow = server.get_missing_kbs_by_software_id(|when, then| {
        when.id(ID);
        then.into_inner()
            .status(200)
            .body(OK_BODY)
            .delay(Duration::from_secs(5));
    });
    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let err = client.missing_kbs(ID).await.unwrap_err();

    match &err {
        Error::Timeout(timeout) => {
            assert_eq!(timeout.kind, TimeoutKind::Request);
            assert_eq!(timeout.limit, Some(Duration::from_millis(200)));
        }
        other => panic!("expected Error::Timeout, got {other:?}"),
    }
    assert!(
        err.to_string().contains("request timeout (200 ms) ran out"),
        "{err}"
    );
    slow.assert_calls(1);
}

#[tokio::test]
async fn a_request_sent_again_is_the_same_request_with_its_query_and_headers() {
    // A filtered listing answers 503 once: the retry carries the same path, query, `Accept` and
    // token (the request is rebuilt from the failure, not copied before it is sent).
    let server = MockServer::start_async().await;
    let filter = "vendor eq 'microsoft'";
    let failing = server.mock(|when, then| {
        when.method("GET")
            .path("/api/Software")
            .query_param("$filter", filter)
            .query_param("$top", "10")
            .header("accept", "application/json")
            .header("authorization", format!("Bearer {TOKEN}"));
        then.status(503).up_to_n_times(1).body("{}");
    });
    let ok = server.mock(|when, then| {
        when.method("GET")
            .path("/api/Software")
            .query_param("$filter", filter)
            .query_param("$top", "10")
            .header("accept", "application/json")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header_missing("api-version");
        then.status(200)
            .body(r#"{"value":[{"id":"microsoft-_-edge"}]}"#);
    });
    let query = defender_tvm::SoftwareQuery::new()
        .filter(defender_tvm::types::SoftwareFilter::eq(
            defender_tvm::types::SoftwareField::Vendor,
            "microsoft",
        ))
        .top(10);

    let items = client(&server, quick(3)).software(query).await.unwrap();

    assert_eq!(items.len(), 1);
    failing.assert_calls(1);
    ok.assert_calls(1);
}
