//! The pager: a lazy stream of pages or items, following next links, with optional caps.

use crate::common::{TOKEN, client, kb};
use defender_tvm::Error;
use defender_tvm::mock::MockServerExt;
use defender_tvm::types::PublicProductFixDtoCollection;
use futures::{StreamExt, TryStreamExt};
use httpmock::{Mock, MockServer};

const ID: &str = "microsoft-_-edge";

/// Serves a listing whose pages hold `pages[i]`; returns one mock per page.
fn listing<'a>(server: &'a MockServer, pages: &[&[&str]]) -> Vec<Mock<'a>> {
    let link = |n: usize| server.url(format!("/api/Software/{ID}/getmissingkbs?$skiptoken={n}"));
    pages
        .iter()
        .enumerate()
        .map(|(i, ids)| {
            let body = PublicProductFixDtoCollection {
                odata_count: None,
                odata_context: None,
                odata_next_link: (i + 1 < pages.len()).then(|| link(i + 1).into()),
                value: ids.iter().map(|id| kb(id)).collect(),
            };
            server.get_missing_kbs_by_software_id(|when, then| {
                // Every page, next links included, carries the token.
                let when = when
                    .into_inner()
                    .header("authorization", format!("Bearer {TOKEN}"));
                match i {
                    0 => when.query_param_missing("$skiptoken"),
                    n => when.query_param("$skiptoken", n.to_string()),
                };
                then.ok(&body);
            })
        })
        .collect()
}

#[tokio::test]
async fn three_pages_stream_every_item_in_order_exactly_once() {
    let server = MockServer::start_async().await;
    let mocks = listing(&server, &[&["1", "2"], &["3"], &["4", "5"]]);

    let ids: Vec<String> = client(&server)
        .missing_kbs(ID)
        .items()
        .map_ok(|kb| kb.id)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    for mock in mocks {
        mock.assert_calls(1);
    }
}

#[tokio::test]
async fn pages_come_whole_with_their_next_links() {
    let server = MockServer::start_async().await;
    listing(&server, &[&["1", "2"], &["3"]]);

    let pages: Vec<_> = client(&server).missing_kbs(ID).try_collect().await.unwrap();

    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].items.len(), 2);
    assert!(
        pages[0]
            .next_link
            .as_deref()
            .unwrap()
            .ends_with("$skiptoken=1")
    );
    assert_eq!(pages[1].next_link, None);
}

#[tokio::test]
async fn empty_pages_are_followed_through() {
    let server = MockServer::start_async().await;
    listing(&server, &[&[], &["1"], &[], &[], &["2"], &[]]);

    let kbs = client(&server).missing_kbs(ID).await.unwrap();

    let ids: Vec<_> = kbs.iter().map(|kb| kb.id.as_str()).collect();
    assert_eq!(ids, ["1", "2"]);
}

#[tokio::test]
async fn the_stream_fetches_nothing_until_polled_and_one_page_at_a_time() {
    let server = MockServer::start_async().await;
    let mocks = listing(&server, &[&["1"], &["2"], &["3"]]);
    let mut items = client(&server).missing_kbs(ID).items().boxed();

    mocks[0].assert_calls(0);
    assert_eq!(items.next().await.unwrap().unwrap().id, "1");
    mocks[0].assert_calls(1);
    mocks[1].assert_calls(0);
    assert_eq!(items.next().await.unwrap().unwrap().id, "2");
    mocks[2].assert_calls(0);
}

#[tokio::test]
async fn max_pages_ends_with_an_error_without_requesting_the_page_beyond() {
    let server = MockServer::start_async().await;
    let mocks = listing(&server, &[&["1"], &["2"], &["3"]]);

    let results: Vec<_> = client(&server).missing_kbs(ID).max_pages(2).collect().await;

    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok());
    let Err(err @ Error::Paging { .. }) = &results[2] else {
        panic!("expected Error::Paging, got {:?}", results[2]);
    };
    assert!(err.to_string().contains("more than 2 pages"), "{err}");
    mocks[2].assert_calls(0);
}

#[tokio::test]
async fn max_pages_equal_to_the_listing_is_no_error() {
    let server = MockServer::start_async().await;
    listing(&server, &[&["1"], &["2"]]);

    let kbs = client(&server)
        .missing_kbs(ID)
        .max_pages(2)
        .collect_items()
        .await
        .unwrap();

    assert_eq!(kbs.len(), 2);
}

#[tokio::test]
async fn max_items_ends_with_an_error_when_a_page_crosses_it() {
    let server = MockServer::start_async().await;
    let mocks = listing(&server, &[&["1", "2"], &["3", "4"], &["5"]]);

    let err = client(&server)
        .missing_kbs(ID)
        .max_items(3)
        .collect_items()
        .await
        .unwrap_err();

    assert!(err.to_string().contains("more than 3 items"), "{err}");
    mocks[2].assert_calls(0);
}

#[tokio::test]
async fn a_bad_id_fails_the_stream_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let anything = server.mock(|when, then| {
        when.any_request();
        then.status(200);
    });

    let first = client(&server)
        .missing_kbs("..")
        .items()
        .boxed()
        .next()
        .await;

    assert!(
        matches!(first, Some(Err(Error::InvalidInput { .. }))),
        "{first:?}"
    );
    anything.assert_calls(0);
}

#[tokio::test]
async fn a_next_link_that_is_not_an_absolute_url_ends_the_listing_with_a_paging_error() {
    let server = MockServer::start_async().await;
    server.get_missing_kbs_by_software_id(|when, then| {
        when.into_inner().query_param_missing("$skiptoken");
        then.into_inner()
            .status(200)
            .body(r#"{"@odata.nextLink":"/api/Software/x/getmissingkbs?$skiptoken=2","value":[]}"#);
    });

    let err = client(&server).missing_kbs(ID).await.unwrap_err();

    let Error::Paging(paging) = &err else {
        panic!("expected Error::Paging, got {err:?}")
    };
    assert!(paging.message.contains("not an absolute URL"), "{err}");
}

#[tokio::test]
async fn an_error_status_on_a_next_link_page_is_an_api_error_whatever_its_body() {
    for (status, body) in [(404, "<html>Not Found</html>"), (429, ""), (500, "oops")] {
        let server = MockServer::start_async().await;
        let first = PublicProductFixDtoCollection {
            odata_count: None,
            odata_context: None,
            odata_next_link: Some(
                server
                    .url(format!("/api/Software/{ID}/getmissingkbs?$skiptoken=2"))
                    .into(),
            ),
            value: vec![kb("1")],
        };
        server.get_missing_kbs_by_software_id(|when, then| {
            when.into_inner().query_param_missing("$skiptoken");
            then.ok(&first);
        });
        server.mock(|when, then| {
            when.query_param("$skiptoken", "2");
            then.status(status).body(body);
        });

        let err = client(&server).missing_kbs(ID).await.unwrap_err();

        let api = err
            .api()
            .unwrap_or_else(|| panic!("{status}: expected Error::Api, got {err:?}"));
        assert_eq!(api.status.as_u16(), status);
        assert_eq!(api.operation, "get_missing_kbs_by_software_id");
        assert_eq!(api.body_excerpt.as_deref(), Some(body));
    }
}
