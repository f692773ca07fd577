//! Behaviour the README promises about the client-side rate limit and time limits, through a
//! real client: clones share one limit; the default timeouts, `None`, and which limit fired
//! (connect, or the request while its body was being read).

use std::time::{Duration, Instant};

use defender_tvm::{Client, Error, RateLimit, RetryPolicy, error::TimeoutKind};
use httpmock::MockServer;

use crate::common::TOKEN;
use crate::flaky::{Act, Flaky};

const ID: &str = "microsoft-_-edge";

fn limited(server: &MockServer, limit: RateLimit) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .retry(RetryPolicy::disabled())
        .rate_limit(limit)
        .build()
        .unwrap()
}

#[tokio::test]
async fn clones_share_one_rate_limit() {
    let server = MockServer::start_async().await;
    let calls = server.mock(|when, then| {
        when.any_request();
        then.status(200).body(r#"{"value":[]}"#);
    });
    // 2 calls per 300 ms window, shared: 6 calls over two clones need at least two further
    // windows (a limit per clone would let each clone's 3 calls through in one).
    let client = limited(&server, RateLimit::new(2, Duration::from_millis(300)));
    let other = client.clone();
    let started = Instant::now();

    let (a, b) = tokio::join!(
        async {
            for _ in 0..3 {
                client.missing_kbs(ID).await.unwrap();
            }
        },
        async {
            for _ in 0..3 {
                other.missing_kbs(ID).await.unwrap();
            }
        }
    );
    let ((), ()) = (a, b);

    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    calls.assert_calls(6);
}

#[tokio::test]
async fn a_disabled_rate_limit_does_not_wait() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.any_request();
        then.status(200).body(r#"{"value":[]}"#);
    });
    // 101 calls: one more than the standard budget's minute, so a limit left on (standard or
    // any other) would hold the last call for about a minute; the guard fails long before.
    let client = limited(&server, RateLimit::disabled());
    let hourly = limited(&server, RateLimit::new(1, Duration::from_secs(3600)));

    let all = async {
        for _ in 0..101 {
            client.missing_kbs(ID).await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(30), all)
        .await
        .expect("101 calls with the limit disabled never wait for a budget");
    hourly.missing_kbs(ID).await.unwrap();
    let second = tokio::time::timeout(
        Duration::from_millis(300),
        hourly.missing_kbs(ID).collect_items(),
    )
    .await;
    assert!(
        second.is_err(),
        "the second hourly call waits for the budget"
    );
}

#[test]
fn the_default_timeouts_are_10_s_to_connect_and_60_s_per_request_and_none_means_no_limit() {
    let default = Client::builder().bearer_token(TOKEN).build().unwrap();
    let shown = format!("{default:?}");
    assert!(
        shown.contains("Timeouts { connect: Some(10s), request: Some(60s) }"),
        "{shown}"
    );
    let unlimited = Client::builder()
        .bearer_token(TOKEN)
        .connect_timeout(None)
        .timeout(None)
        .build()
        .unwrap();
    let shown = format!("{unlimited:?}");
    assert!(
        shown.contains("Timeouts { connect: None, request: None }"),
        "{shown}"
    );
}

#[tokio::test]
async fn no_request_timeout_lets_a_slow_answer_through() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.any_request();
        then.status(200)
            .delay(Duration::from_millis(300))
            .body(r#"{"value":[]}"#);
    });
    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .timeout(None)
        .build()
        .unwrap();

    client.missing_kbs(ID).await.unwrap();
}

#[tokio::test]
async fn a_body_that_stalls_ends_with_the_request_timeout_not_retried() {
    let server = Flaky::start(vec![Act::StallBody(
        200,
        r#"{"value":[{"id":"1","machineMissedOn":1,"cveAddressed":1}]}"#.into(),
    )])
    .await;
    let client = Client::builder()
        .base_url(&server.base_url)
        .bearer_token(TOKEN)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();

    let err = client.missing_kbs(ID).await.unwrap_err();

    let Error::Timeout(timeout) = &err else {
        panic!("expected Error::Timeout, got {err:?}")
    };
    assert_eq!(timeout.kind, TimeoutKind::Request);
    assert_eq!(timeout.limit, Some(Duration::from_millis(300)));
    assert_eq!(server.requests(), 1, "a request timeout is not retried");
}

/// An address where connecting hangs until the client's connect limit, every time: a listener
/// whose accept queue is full, so the kernel drops further connection attempts. Keep the second
/// value (the listener and the connections that fill its queue) alive meanwhile.
async fn hanging_address() -> (
    std::net::SocketAddr,
    (tokio::net::TcpListener, Vec<tokio::net::TcpStream>),
) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = socket.local_addr().unwrap();
    let listener = socket.listen(0).unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(address),
        )
        .await
        {
            Ok(Ok(stream)) => fillers.push(stream),
            _ => break,
        }
    }
    (address, (listener, fillers))
}

#[tokio::test]
async fn a_connection_that_cannot_be_made_in_time_is_a_connect_timeout() {
    let (address, _full) = hanging_address().await;
    let client = Client::builder()
        .base_url(format!("http://{address}"))
        .bearer_token(TOKEN)
        .connect_timeout(Duration::from_millis(200))
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();

    let err = client.missing_kbs(ID).await.unwrap_err();

    let Error::Timeout(timeout) = &err else {
        panic!("expected Error::Timeout, got {err:?}")
    };
    assert_eq!(timeout.kind, TimeoutKind::Connect);
    assert_eq!(timeout.limit, Some(Duration::from_millis(200)));
    assert!(err.to_string().contains("connect_timeout"), "{err}");
}

#[tokio::test]
async fn a_connect_timeout_is_retried_as_a_failed_connection_is() {
    let (address, _full) = hanging_address().await;
    let client = Client::builder()
        .base_url(format!("http://{address}"))
        .bearer_token(TOKEN)
        .connect_timeout(Duration::from_millis(100))
        // The standard policy (4 attempts), with short waits.
        .retry(
            RetryPolicy::standard()
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();

    let err = client.missing_kbs(ID).await.unwrap_err();

    let Error::Timeout(timeout) = &err else {
        panic!("expected Error::Timeout, got {err:?}")
    };
    assert_eq!(timeout.kind, TimeoutKind::Connect);
    assert_eq!(timeout.attempts, 4, "a connect timeout is retried");
    assert!(err.to_string().contains("4 attempts"), "{err}");
}
