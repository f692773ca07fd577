//! Every failure of `missing_kbs` maps to the right `Error`, with context and advice, and
//! nothing a server sends makes the client panic.

use crate::common::{TOKEN, client};
use defender_tvm::Error;
use defender_tvm::mock::MockServerExt;
use defender_tvm::types::{ODataError, ODataErrorDetail};
use httpmock::MockServer;
use reqwest::StatusCode;
use std::time::Duration;

const ID: &str = "microsoft-_-edge";

fn odata_error(code: &str, message: &str, target: &str) -> ODataError {
    ODataError {
        error: ODataErrorDetail {
            code: code.to_owned(),
            message: message.to_owned(),
            target: Some(target.to_owned()),
        },
    }
}

/// Serves one raw response for the operation and returns what `missing_kbs` made of it.
async fn error_for(status: u16, headers: &[(&str, &str)], body: &str) -> Error {
    let server = MockServer::start_async().await;
    server.get_missing_kbs_by_software_id(|when, then| {
        when.id(ID);
        let mut then = then.into_inner().status(status);
        for (name, value) in headers {
            then = then.header(*name, *value);
        }
        then.body(body);
    });
    client(&server).missing_kbs(ID).await.unwrap_err()
}

/// Checks status, code, message and tracking id of an `Error::Api`.
fn assert_api(err: &Error, status: StatusCode, code: &str, message: &str, target: &str) {
    let api = err
        .api()
        .unwrap_or_else(|| panic!("expected Error::Api, got {err:?}"));
    assert_eq!(err.status(), Some(status));
    assert_eq!(err.code(), Some(code));
    assert_eq!(api.message.as_deref(), Some(message));
    assert_eq!(err.target(), Some(target));
    let text = err.to_string();
    for part in [code, message, target] {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
    assert!(!text.contains(TOKEN) && !format!("{err:?}").contains(TOKEN));
}

#[tokio::test]
async fn each_documented_error_status_maps_to_an_api_error_with_code_message_and_target() {
    let cases = [
        (400, "InvalidInput", "The request is invalid."),
        (401, "Unauthorized", "Authorization has been denied."),
        (403, "Forbidden", "Missing application roles."),
        (404, "ResourceNotFound", "Software x was not found."),
        (429, "TooManyRequests", "Rate limit is exceeded."),
        (500, "InternalServerError", "Retry the operation."),
    ];
    for (status, code, message) in cases {
        let server = MockServer::start_async().await;
        let body = odata_error(code, message, "43f4cb08-8fac-4b65-9db1-745c2ae65f3a");
        server.get_missing_kbs_by_software_id(|when, then| {
            when.id(ID);
            match status {
                400 => then.bad_request(&body),
                401 => then.unauthorized(&body),
                403 => then.forbidden(&body),
                404 => then.not_found(&body),
                429 => then.too_many_requests(&body),
                _ => then.internal_server_error(&body),
            };
        });

        let err = client(&server).missing_kbs(ID).await.unwrap_err();

        assert_api(
            &err,
            StatusCode::from_u16(status).unwrap(),
            code,
            message,
            "43f4cb08-8fac-4b65-9db1-745c2ae65f3a",
        );
    }
}

#[tokio::test]
async fn unauthorized_says_the_token_is_invalid_or_expired() {
    let body = r#"{"error":{"code":"Unauthorized","message":"Denied","target":"t-401"}}"#;
    let err = error_for(401, &[], body).await;
    assert!(
        err.to_string().contains("token is invalid or expired"),
        "{err}"
    );
}

#[tokio::test]
async fn forbidden_names_the_missing_permissions() {
    let body = r#"{"error":{"code":"Forbidden","message":"Denied","target":"t-403"}}"#;
    let err = error_for(403, &[], body).await;
    let text = err.to_string();
    assert!(text.contains("Software.Read.All"), "{text}");
    assert!(text.contains("Software.Read`"), "{text}");
    let api = err.api().unwrap();
    assert_eq!(api.permission.application, "Software.Read.All");
    assert_eq!(api.permission.delegated, "Software.Read");
}

#[tokio::test]
async fn too_many_requests_says_when_to_retry() {
    let body = r#"{"error":{"code":"TooManyRequests","message":"Slow down","target":"t-429"}}"#;
    let err = error_for(429, &[("retry-after", "17")], body).await;
    assert_eq!(err.retry_after(), Some(Duration::from_secs(17)));
    assert!(err.to_string().contains("retry after 17 seconds"), "{err}");
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_understood() {
    let at = std::time::SystemTime::now() + Duration::from_secs(120);
    let date = httpdate::fmt_http_date(at);
    let body = r#"{"error":{"code":"TooManyRequests","message":"Slow down","target":"t"}}"#;
    let err = error_for(429, &[("retry-after", &date)], body).await;
    let wait = err.retry_after().expect("a Retry-After date");
    assert!(
        wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
        "{wait:?}"
    );
}

#[tokio::test]
async fn an_error_status_with_a_non_json_body_keeps_its_status() {
    let err = error_for(500, &[], "<html>upstream failed</html>").await;
    let api = err
        .api()
        .unwrap_or_else(|| panic!("expected Error::Api, got {err:?}"));
    assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(api.code, None);
    assert_eq!(
        api.body_excerpt.as_deref(),
        Some("<html>upstream failed</html>")
    );
    assert!(
        err.to_string().contains("<html>upstream failed</html>"),
        "{err}"
    );
}

#[tokio::test]
async fn an_html_404_from_a_gateway_is_an_api_error() {
    let err = error_for(404, &[], "<html><body>Not Found</body></html>").await;
    let api = err
        .api()
        .unwrap_or_else(|| panic!("expected Error::Api, got {err:?}"));
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(err.code(), None);
    assert!(
        err.to_string().contains("not found (check the id)"),
        "{err}"
    );
}

#[tokio::test]
async fn an_empty_429_with_retry_after_is_an_api_error_with_the_wait_and_advice() {
    // The client's retries are off here; with retries on, the wait is over the cap (see
    // retries.rs) and the error says the client gave up.
    let err = error_for(429, &[("retry-after", "100000")], "").await;
    let api = err
        .api()
        .unwrap_or_else(|| panic!("expected Error::Api, got {err:?}"));
    assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(100_000)));
    assert_eq!(err.code(), None);
    assert_eq!(api.body_excerpt.as_deref(), Some(""));
    assert!(
        err.to_string()
            .contains("rate limited; retry after 100000 seconds"),
        "{err}"
    );
}

#[tokio::test]
async fn a_status_the_contract_does_not_list_is_an_api_error_with_an_excerpt() {
    let err = error_for(502, &[], "Bad gateway from the proxy").await;
    let api = err.api().expect("Error::Api");
    assert_eq!(api.status, StatusCode::BAD_GATEWAY);
    assert_eq!(api.code, None);
    assert_eq!(
        api.body_excerpt.as_deref(),
        Some("Bad gateway from the proxy")
    );
}

#[tokio::test]
async fn a_status_the_contract_does_not_list_still_yields_the_mde_error_body() {
    let body = r#"{"error":{"code":"ServiceUnavailable","message":"Try later","target":"t-503"}}"#;
    let err = error_for(503, &[("retry-after", "5")], body).await;
    assert_api(
        &err,
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        "Try later",
        "t-503",
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(5)));
}

#[tokio::test]
async fn a_non_json_success_body_is_a_decode_error_with_status_and_excerpt() {
    let err = error_for(200, &[], "<html>Sign in to continue</html>").await;
    match &err {
        Error::Decode(decode) => {
            assert_eq!(decode.status, Some(StatusCode::OK));
            assert_eq!(decode.excerpt, "<html>Sign in to continue</html>");
            assert_eq!(decode.operation, "get_missing_kbs_by_software_id");
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn a_truncated_body_is_a_decode_error_not_a_panic() {
    let err = error_for(200, &[], r#"{"value":[{"id":"4540673","machineMi"#).await;
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("4540673"), "{err}");
}

#[tokio::test]
async fn a_long_body_excerpt_is_cut_at_a_character_boundary() {
    let body = "é".repeat(1000);
    let err = error_for(200, &[], &body).await;
    let Error::Decode(decode) = &err else {
        panic!("expected Error::Decode, got {err:?}")
    };
    let excerpt = &decode.excerpt;
    assert!(excerpt.ends_with('…'));
    assert!(excerpt.len() <= 200 + '…'.len_utf8(), "{}", excerpt.len());
    assert!(excerpt.trim_end_matches('…').chars().all(|c| c == 'é'));
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    // Bound but not listening: connections are refused, and no other test can take it.
    let (_held, refusing) = crate::common::refusing_address();
    let client = defender_tvm::Client::builder()
        .base_url(&refusing)
        .bearer_token(TOKEN)
        .retry(defender_tvm::RetryPolicy::disabled())
        .build()
        .unwrap();

    let err = client.missing_kbs(ID).await.unwrap_err();

    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(err.status(), None);
}
