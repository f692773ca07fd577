//! Transient transport failures are retried like a 503, within the retry policy, for generated
//! calls and next-link pages alike: a connection closed before the response, a body cut short.
//! A body that arrives whole but is not JSON is a decode error, sent once.

use std::time::Duration;

use defender_tvm::{Client, Error, RateLimit, RetryPolicy};
use tracing::Instrument;

use crate::common::{TOKEN, events, span};
use crate::flaky::{Act, Flaky};

const ID: &str = "microsoft-_-edge";
const ONE_KB: &str = r#"{"value":[{"id":"4540673","machineMissedOn":240,"cveAddressed":14}]}"#;

fn client(server: &Flaky, attempts: u32) -> Client {
    Client::builder()
        .base_url(&server.base_url)
        .bearer_token(TOKEN)
        .retry(
            RetryPolicy::default()
                .max_attempts(attempts)
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(10)),
        )
        .rate_limit(RateLimit::disabled())
        .build()
        .unwrap()
}

fn ok() -> Act {
    Act::Answer(200, ONE_KB.to_owned())
}

fn retry_events(test: &str) -> Vec<String> {
    events(test, "retrying after a transient failure")
}

#[tokio::test]
async fn a_connection_dropped_before_the_response_or_a_body_cut_short_is_retried_once() {
    for (test, failure) in [
        ("a_connection_dropped_once", Act::Drop),
        (
            "a_body_cut_short_once",
            Act::CutBody(200, ONE_KB.to_owned()),
        ),
    ] {
        let server = Flaky::start(vec![failure, ok()]).await;

        let kbs = client(&server, 4)
            .missing_kbs(ID)
            .collect_items()
            .instrument(span(test))
            .await
            .unwrap_or_else(|e| panic!("{test}: {e}"));

        assert_eq!(kbs.len(), 1, "{test}");
        assert_eq!(server.requests(), 2, "{test}");
        assert_retried_once(test);
    }
}

/// Test `test`'s span holds one retry event, with the operation, a cause and no token.
fn assert_retried_once(test: &str) {
    let retries = retry_events(test);
    assert_eq!(retries.len(), 1, "{retries:?}");
    for part in [
        "operation=\"get_missing_kbs_by_software_id\"",
        "cause=",
        "attempt=1",
        "wait_ms=",
    ] {
        assert!(retries[0].contains(part), "{} lacks {part}", retries[0]);
    }
    assert!(!retries[0].contains(TOKEN));
}

#[tokio::test]
async fn a_connection_always_dropped_or_a_body_always_cut_fails_after_the_policys_attempts() {
    for failure in [Act::Drop, Act::CutBody(200, ONE_KB.to_owned())] {
        let server = Flaky::start(vec![failure.clone()]).await;

        let err = client(&server, 3).missing_kbs(ID).await.unwrap_err();

        let Error::Transport(transport) = &err else {
            panic!("{failure:?}: expected Error::Transport, got {err:?}")
        };
        assert_eq!(transport.attempts, 3, "{failure:?}");
        assert_eq!(server.requests(), 3, "{failure:?}");
        let text = err.to_string();
        assert!(text.contains("after 3 attempts"), "{text}");
        let source = std::error::Error::source(&err).expect("the last failure is the cause");
        assert!(
            !text.contains(&source.to_string()),
            "the cause once: {text}"
        );
    }
}

#[tokio::test]
async fn a_whole_body_that_is_not_json_is_a_decode_error_sent_once() {
    let server = Flaky::start(vec![Act::Answer(200, "<html>maintenance</html>".into())]).await;

    let err = client(&server, 4).missing_kbs(ID).await.unwrap_err();

    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_next_link_page_cut_short_is_fetched_again_and_every_item_comes_once() {
    let page = |ids: &[&str], next: Option<u32>| {
        let items: Vec<String> = ids
            .iter()
            .map(|id| format!(r#"{{"id":"{id}","machineMissedOn":1,"cveAddressed":1}}"#))
            .collect();
        let link = next.map(|n| {
            format!(
                r#""@odata.nextLink":"{{base}}/api/Software/{ID}/getmissingkbs?$skiptoken={n}","#
            )
        });
        format!(
            r#"{{{}"value":[{}]}}"#,
            link.unwrap_or_default(),
            items.join(",")
        )
    };
    let server = Flaky::start(vec![
        Act::Answer(200, page(&["1", "2"], Some(2))),
        Act::CutBody(200, page(&["3", "4"], Some(3))),
        Act::Answer(200, page(&["3", "4"], Some(3))),
        Act::Answer(200, page(&["5"], None)),
    ])
    .await;

    let kbs = client(&server, 4).missing_kbs(ID).await.unwrap();

    let ids: Vec<_> = kbs.iter().map(|kb| kb.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    assert_eq!(server.requests(), 4);
    let targets = server.paths();
    assert!(targets[1].ends_with("$skiptoken=2"), "{targets:?}");
    assert_eq!(
        targets[1], targets[2],
        "the cut page is fetched again: {targets:?}"
    );
}
