//! Contract tests of `Client::missing_kbs` (`GET /api/Software/{Id}/getmissingkbs`) against
//! httpmock servers, written with the typed mocks generated from the spec.

use crate::common::{TOKEN, client};
use defender_tvm::Error;
use defender_tvm::mock::MockServerExt;
use defender_tvm::types::{PublicProductFixDto, PublicProductFixDtoCollection};
use httpmock::MockServer;

fn page(value: Vec<PublicProductFixDto>) -> PublicProductFixDtoCollection {
    PublicProductFixDtoCollection {
        odata_count: None,
        odata_context: None,
        odata_next_link: None,
        value,
    }
}

/// A page whose `@odata.nextLink` points at `next`.
fn linked(value: Vec<PublicProductFixDto>, next: &str) -> PublicProductFixDtoCollection {
    PublicProductFixDtoCollection {
        odata_count: None,
        odata_next_link: Some(next.to_owned().into()),
        ..page(value)
    }
}

fn kb(id: &str) -> PublicProductFixDto {
    PublicProductFixDto {
        os_build: None,
        id: id.to_owned(),
        name: Some(format!("Update {id}")),
        products_names: vec!["edge".to_owned()],
        url: None,
        machine_missed_on: 1,
        cve_addressed: 2,
    }
}

#[tokio::test]
async fn request_is_exactly_right() {
    let server = MockServer::start_async().await;
    let mock = server.get_missing_kbs_by_software_id(|when, then| {
        when.id("microsoft-_-edge")
            .into_inner()
            .path("/api/Software/microsoft-_-edge/getmissingkbs")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("accept", "application/json")
            .header(
                "user-agent",
                concat!("defender-tvm/", env!("CARGO_PKG_VERSION")),
            )
            .header_missing("api-version")
            // An empty body: nothing announces one.
            .header_missing("content-type")
            .header_missing("content-length")
            .header_missing("transfer-encoding");
        then.ok(&page(vec![]));
    });

    client(&server)
        .missing_kbs("microsoft-_-edge")
        .await
        .unwrap();

    mock.assert();
}

#[tokio::test]
async fn unknown_extra_fields_are_ignored() {
    let server = MockServer::start_async().await;
    server.get_missing_kbs_by_software_id(|when, then| {
        when.id("microsoft-_-edge");
        then.into_inner().status(200).body(
            r#"{"@odata.context":"x","@odata.count":1,"newEnvelopeField":{"a":1},
                "value":[{"id":"1","machineMissedOn":3,"cveAddressed":4,
                          "severity":"High","releaseDate":"2020-03-10","nested":[1,2]}]}"#,
        );
    });

    let kbs = client(&server)
        .missing_kbs("microsoft-_-edge")
        .await
        .unwrap();

    assert_eq!(kbs.len(), 1);
    assert_eq!(kbs[0].id, "1");
    assert_eq!(kbs[0].machine_missed_on, 3);
}

#[tokio::test]
async fn empty_value_array_decodes_to_no_items() {
    let server = MockServer::start_async().await;
    server.get_missing_kbs_by_software_id(|when, then| {
        when.id("microsoft-_-edge");
        then.into_inner().status(200).body(r#"{"value":[]}"#);
    });

    let kbs = client(&server)
        .missing_kbs("microsoft-_-edge")
        .await
        .unwrap();

    assert!(kbs.is_empty());
}

#[tokio::test]
async fn optional_fields_may_be_absent_or_null() {
    let server = MockServer::start_async().await;
    server.get_missing_kbs_by_software_id(|when, then| {
        when.id("microsoft-_-edge");
        then.into_inner().status(200).body(
            r#"{"value":[{"id":"1","machineMissedOn":0,"cveAddressed":0},
                         {"id":"2","name":null,"url":null,"machineMissedOn":0,"cveAddressed":0}]}"#,
        );
    });

    let kbs = client(&server)
        .missing_kbs("microsoft-_-edge")
        .await
        .unwrap();

    assert_eq!(kbs.len(), 2);
    for kb in &kbs {
        assert_eq!(kb.name, None);
        assert_eq!(kb.url, None);
        assert!(kb.products_names.is_empty());
    }
}

#[tokio::test]
async fn a_missing_required_field_is_a_decode_error_naming_it() {
    let server = MockServer::start_async().await;
    server.get_missing_kbs_by_software_id(|when, then| {
        when.id("microsoft-_-edge");
        then.into_inner()
            .status(200)
            .body(r#"{"value":[{"id":"1","machineMissedOn":0}]}"#);
    });

    let err = client(&server)
        .missing_kbs("microsoft-_-edge")
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let text = crate::common::chain(&err);
    assert!(text.contains("cveAddressed"), "{text}");
    assert!(
        !err.to_string().contains("cveAddressed"),
        "the cause is not in Display: {err}"
    );
}

#[tokio::test]
async fn next_link_to_another_origin_is_refused_and_never_called() {
    let server = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let stolen = elsewhere.mock(|when, then| {
        when.any_request();
        then.status(200).body(r#"{"value":[]}"#);
    });
    let link = elsewhere.url("/api/Software/microsoft-_-edge/getmissingkbs?page=2");
    server.get_missing_kbs_by_software_id(|when, then| {
        when.id("microsoft-_-edge");
        then.ok(&linked(vec![kb("1")], &link));
    });

    let err = client(&server)
        .missing_kbs("microsoft-_-edge")
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Paging { .. }), "{err:?}");
    assert!(err.to_string().contains("leaves the API origin"), "{err}");
    stolen.assert_calls(0);
}

#[tokio::test]
async fn a_next_link_seen_before_stops_with_an_error() {
    let server = MockServer::start_async().await;
    let again = server.url("/api/Software/microsoft-_-edge/getmissingkbs?$skiptoken=2");
    let looping = server.get_missing_kbs_by_software_id(|when, then| {
        when.into_inner().query_param("$skiptoken", "2");
        then.ok(&linked(vec![kb("2")], &again));
    });
    server.get_missing_kbs_by_software_id(|when, then| {
        when.into_inner().query_param_missing("$skiptoken");
        then.ok(&linked(vec![kb("1")], &again));
    });

    let err = client(&server)
        .missing_kbs("microsoft-_-edge")
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Paging { .. }), "{err:?}");
    assert!(err.to_string().contains("came back again"), "{err}");
    looping.assert_calls(1);
}
