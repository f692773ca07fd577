//! Whatever the software id, the request reaches `/api/Software/<id as one segment>/getmissingkbs`
//! with the id intact, or is refused before anything is sent.

use crate::common::client;
use defender_tvm::Error;
use defender_tvm::mock::MockServerExt;
use defender_tvm::types::PublicProductFixDtoCollection;
use httpmock::MockServer;
use percent_encoding::percent_decode_str;

/// The id carried by a raw request path, if the path is exactly
/// `/api/Software/<one segment>/getmissingkbs`.
fn id_of(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["", "api", "Software", id, "getmissingkbs"] => {
            percent_decode_str(id).decode_utf8().ok().map(Into::into)
        }
        _ => None,
    }
}

#[tokio::test]
async fn ids_with_reserved_and_non_ascii_characters_travel_as_one_intact_segment() {
    let ids = [
        "microsoft-_-edge",
        "notepad_plus_plus-_-notepad++",
        "microsoft-_-.net_framework",
        ".hidden",
        "...",
        "a/b",
        "../../api/machines",
        "what?x=1",
        "frag#ment",
        "100%",
        "%2e%2e",
        "%2F",
        "with space",
        "tab\there",
        "line\nbreak",
        "quote\"and'apostrophe",
        "semi;colon,comma=eq&amp",
        "microsoft-_-édge",
        "中文软件",
        "emoji-🦀",
        "[brackets]{braces}|pipe^caret`tick",
        "<angle>",
    ];
    for id in ids {
        let server = MockServer::start_async().await;
        let expected = id.to_owned();
        let mock = server.get_missing_kbs_by_software_id(|when, then| {
            // The generated `when.id(..)` builds a regex from the raw id, which cannot express
            // these ids; match the decoded segment instead.
            when.into_inner()
                .is_true(move |req| id_of(req.uri().path()).as_deref() == Some(&*expected));
            then.ok(&PublicProductFixDtoCollection {
                odata_count: None,
                odata_context: None,
                odata_next_link: None,
                value: vec![],
            });
        });

        let result = client(&server).missing_kbs(id).await;

        assert!(result.is_ok(), "{id:?}: {result:?}");
        mock.assert_calls(1);
    }
}

#[tokio::test]
async fn ids_that_cannot_stay_one_segment_are_refused_before_sending() {
    let server = MockServer::start_async().await;
    let anything = server.mock(|when, then| {
        when.any_request();
        then.status(200).body(r#"{"value":[]}"#);
    });
    let client = client(&server);

    for id in ["", ".", "..", "a\\b", "..\\..\\api", "\\"] {
        let err = client.missing_kbs(id).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{id:?}: {err:?}");
        assert!(err.to_string().contains("software id"), "{err}");
    }

    anything.assert_calls(0);
}
