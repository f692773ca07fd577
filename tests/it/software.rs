//! The Software family and the device-level missing KBs: exact requests, ids as one segment,
//! listing everything with `$top`/`$skip`, `$top` bounds, filter escaping on the wire, paging,
//! and decoding details (dates, unknown severities). Documented examples and error mapping of
//! every operation are covered by `spec_examples.rs`.

use crate::common::{TOKEN, client};
use defender_tvm::mock::MockServerExt;
use defender_tvm::{
    Error, SoftwareQuery,
    types::{Severity, SoftwareField, SoftwareFilter},
};
use futures::TryStreamExt;
use httpmock::MockServer;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

/// Calls the id-taking method `method` with `id`, returning what it decoded as JSON.
async fn call_with_id(
    client: &defender_tvm::Client,
    method: &str,
    id: &str,
) -> Result<Value, Error> {
    match method {
        "distributions" => client.software_distributions(id).await.map(|v| json!(v)),
        "vulnerabilities" => client.software_vulnerabilities(id).await.map(|v| json!(v)),
        "machineReferences" => client.software_machines(id).await.map(|v| json!(v)),
        "software" => client.software_by_id(id).await.map(|v| json!(v)),
        "machine" => client.machine_missing_kbs(id).await.map(|v| json!(v)),
        other => unreachable!("{other}"),
    }
}

/// `(method, path for id, a body the method decodes)`.
fn id_methods(id: &str) -> Vec<(&'static str, String, &'static str)> {
    let list = r#"{"value":[]}"#;
    vec![
        (
            "distributions",
            format!("/api/Software/{id}/distributions"),
            list,
        ),
        (
            "vulnerabilities",
            format!("/api/Software/{id}/vulnerabilities"),
            list,
        ),
        (
            "machineReferences",
            format!("/api/Software/{id}/machineReferences"),
            list,
        ),
        ("software", format!("/api/Software/{id}"), r#"{"id":"x"}"#),
        ("machine", format!("/api/machines/{id}/getmissingkbs"), list),
    ]
}

#[tokio::test]
async fn each_id_method_sends_exactly_the_documented_request() {
    for (method, path, body) in id_methods("microsoft-_-edge") {
        let server = MockServer::start_async().await;
        let mock = server.mock(|when, then| {
            when.method("GET")
                .path(path.as_str())
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("accept", "application/json")
                .header_missing("api-version");
            then.status(200).body(body);
        });

        call_with_id(&client(&server), method, "microsoft-_-edge")
            .await
            .unwrap();

        mock.assert_calls(1);
    }
}

#[tokio::test]
async fn each_id_method_sends_awkward_ids_as_one_intact_segment() {
    for id in ["a/b?c#d", "..hidden", "100% ü+", "notepad++"] {
        for (method, template, body) in id_methods("{}") {
            let server = MockServer::start_async().await;
            let (prefix, suffix) = template.split_once("{}").unwrap();
            let (prefix, suffix, expected) = (prefix.to_owned(), suffix.to_owned(), id.to_owned());
            let mock = server.mock(|when, then| {
                when.is_true(move |req| {
                    let path = req.uri().path().to_owned();
                    path.strip_prefix(&prefix)
                        .and_then(|rest| rest.strip_suffix(&suffix))
                        .filter(|segment| !segment.contains('/'))
                        .and_then(|segment| percent_decode_str(segment).decode_utf8().ok())
                        .is_some_and(|decoded| decoded == expected)
                });
                then.status(200).body(body);
            });

            let result = call_with_id(&client(&server), method, id).await;

            assert!(result.is_ok(), "{method} {id:?}: {result:?}");
            mock.assert_calls(1);
        }
    }
}

#[tokio::test]
async fn each_id_method_refuses_unsendable_ids_unsent() {
    let server = MockServer::start_async().await;
    let anything = server.mock(|when, then| {
        when.any_request();
        then.status(200);
    });
    for (method, _, _) in id_methods("x") {
        for id in ["", ".", "..", "a\\b"] {
            let err = call_with_id(&client(&server), method, id)
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::InvalidInput { .. }),
                "{method} {id:?}: {err:?}"
            );
        }
    }
    anything.assert_calls(0);
}

fn software(ids: std::ops::Range<u32>) -> Value {
    json!({ "value": ids.map(|i| json!({"id": format!("vendor-_-app{i}")})).collect::<Vec<_>>() })
}

#[tokio::test]
async fn listing_all_software_pages_with_top_and_skip_until_an_empty_page() {
    let server = MockServer::start_async().await;
    // A service that returns fewer items than asked (3 of 4) must not end the listing early.
    let pages = [(0, 0..3), (3, 3..6), (6, 6..7), (7, 7..7)];
    let mocks: Vec<_> = pages
        .iter()
        .map(|(skip, ids)| {
            let body = software(ids.clone());
            server.list_software(|when, then| {
                when.into_inner()
                    .query_param("$top", "4")
                    .query_param("$skip", skip.to_string())
                    .query_param_missing("$filter");
                then.into_inner().status(200).json_body(body);
            })
        })
        .collect();

    let ids: Vec<String> = client(&server)
        .software(SoftwareQuery::new().page_size(4))
        .items()
        .map_ok(|s| s.id)
        .try_collect()
        .await
        .unwrap();

    let expected: Vec<String> = (0..7).map(|i| format!("vendor-_-app{i}")).collect();
    assert_eq!(ids, expected);
    for mock in mocks {
        mock.assert_calls(1);
    }
}

#[tokio::test]
async fn listing_all_software_uses_pages_of_ten_thousand_by_default() {
    let server = MockServer::start_async().await;
    let first = server.list_software(|when, then| {
        when.into_inner()
            .query_param("$top", "10000")
            .query_param("$skip", "0");
        then.into_inner().status(200).json_body(software(0..2));
    });
    let last = server.list_software(|when, then| {
        when.into_inner()
            .query_param("$top", "10000")
            .query_param("$skip", "2");
        then.into_inner().status(200).json_body(software(0..0));
    });

    let all = client(&server)
        .software(SoftwareQuery::new())
        .collect_items()
        .await
        .unwrap();

    assert_eq!(all.len(), 2);
    first.assert_calls(1);
    last.assert_calls(1);
}

#[tokio::test]
async fn top_sends_one_request_and_skip_only_when_set() {
    let server = MockServer::start_async().await;
    let only_top = server.list_software(|when, then| {
        when.into_inner()
            .query_param("$top", "3")
            .query_param_missing("$skip");
        then.into_inner().status(200).json_body(software(0..3));
    });
    let with_skip = server.list_software(|when, then| {
        when.into_inner()
            .query_param("$top", "3")
            .query_param("$skip", "6");
        then.into_inner().status(200).json_body(software(6..9));
    });
    let client = client(&server);

    let first = client
        .software(SoftwareQuery::new().top(3))
        .collect_items()
        .await
        .unwrap();
    let third = client
        .software(SoftwareQuery::new().top(3).skip(6))
        .collect_items()
        .await
        .unwrap();

    assert_eq!((first.len(), third.len()), (3, 3));
    only_top.assert_calls(1);
    with_skip.assert_calls(1);
}

#[tokio::test]
async fn top_over_ten_thousand_and_bad_page_sizes_are_refused_unsent() {
    let server = MockServer::start_async().await;
    let anything = server.mock(|when, then| {
        when.any_request();
        then.status(200).body(r#"{"value":[]}"#);
    });
    let client = client(&server);

    for query in [
        SoftwareQuery::new().top(10_001),
        SoftwareQuery::new().page_size(0),
        SoftwareQuery::new().page_size(10_001),
        SoftwareQuery::new().skip(u64::MAX),
    ] {
        let err = client
            .software(query.clone())
            .collect_items()
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { .. }),
            "{query:?}: {err:?}"
        );
    }
    let err = client
        .software(SoftwareQuery::new().top(10_001))
        .collect_items()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 10000"), "{err}");
    anything.assert_calls(0);

    client
        .software(SoftwareQuery::new().top(10_000))
        .collect_items()
        .await
        .unwrap();
    anything.assert_calls(1);
}

#[tokio::test]
async fn filter_values_reach_the_service_quoted_and_escaped() {
    let nasty = "O'Reilly $top=1&x=#frag ü中 ' or 1 eq 1";
    let expected = "(vendor eq 'O''Reilly $top=1&x=#frag ü中 '' or 1 eq 1') and (name ne 'edge')";
    let server = MockServer::start_async().await;
    let mock = server.list_software(|when, then| {
        when.into_inner()
            .query_param("$filter", expected)
            .query_param("$top", "5")
            .query_param_missing("x");
        then.into_inner().status(200).json_body(software(0..1));
    });
    let filter = SoftwareFilter::eq(SoftwareField::Vendor, nasty)
        .and(SoftwareFilter::ne(SoftwareField::Name, "edge"));

    client(&server)
        .software(SoftwareQuery::new().filter(filter).top(5))
        .collect_items()
        .await
        .unwrap();

    mock.assert_calls(1);
}

#[tokio::test]
async fn a_raw_filter_is_sent_as_is() {
    let server = MockServer::start_async().await;
    let mock = server.list_software(|when, then| {
        when.into_inner()
            .query_param("$filter", "startswith(name,'edg')");
        then.into_inner().status(200).json_body(software(0..1));
    });

    client(&server)
        .software(
            SoftwareQuery::new()
                .filter(SoftwareFilter::raw_odata("startswith(name,'edg')"))
                .top(1),
        )
        .collect_items()
        .await
        .unwrap();

    mock.assert_calls(1);
}

#[tokio::test]
async fn collections_follow_next_links() {
    let server = MockServer::start_async().await;
    let next = server.url("/api/Software/microsoft-_-edge/distributions?$skiptoken=2");
    server.list_software_version_distribution(|when, then| {
        when.into_inner().query_param_missing("$skiptoken");
        then.into_inner().status(200).json_body(json!({
            "@odata.nextLink": next,
            "value": [{"version": "1.0", "installations": 3, "vulnerabilities": 1}]
        }));
    });
    server.list_software_version_distribution(|when, then| {
        when.into_inner().query_param("$skiptoken", "2");
        then.into_inner()
            .status(200)
            .json_body(json!({"value": [{"version": "2.0"}]}));
    });

    let versions = client(&server)
        .software_distributions("microsoft-_-edge")
        .await
        .unwrap();

    let versions: Vec<_> = versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(versions, ["1.0", "2.0"]);
}

#[tokio::test]
async fn vulnerabilities_decode_dates_and_unknown_severities() {
    let server = MockServer::start_async().await;
    server.list_vulnerabilities_by_software(|when, then| {
        when.id("microsoft-_-edge");
        then.into_inner().status(200).json_body(json!({"value": [
            {"id": "CVE-1", "severity": "Critical", "publishedOn": "2017-03-14T00:00:00Z",
             "updatedOn": "2019-10-03T00:03:00.123Z", "cvssV3": 9.8, "epss": 0.5},
            {"id": "CVE-2", "severity": "Unprecedented", "newField": [1]},
            {"id": "CVE-3", "severity": null, "publishedOn": null}
        ]}));
    });

    let vulns = client(&server)
        .software_vulnerabilities("microsoft-_-edge")
        .await
        .unwrap();

    assert_eq!(vulns[0].severity, Some(Severity::Critical));
    let published = vulns[0].published_on.unwrap();
    assert_eq!(published.to_rfc3339(), "2017-03-14T00:00:00+00:00");
    assert_eq!(vulns[0].cvss_v3, Some(9.8));
    assert_eq!(
        vulns[1].severity,
        Some(Severity::Other("Unprecedented".into()))
    );
    assert_eq!(vulns[2].severity, None);
    assert!(vulns[2].exploit_types.is_empty());
}
