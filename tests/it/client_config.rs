//! Building a client: base URLs, clouds, the token, and what never shows in output.

use crate::common::{TOKEN, client};
use defender_tvm::mock::MockServerExt;
use defender_tvm::{Client, Cloud, Error, Secret};
use httpmock::MockServer;

fn build(base_url: &str) -> Result<Client, Error> {
    Client::builder()
        .base_url(base_url)
        .bearer_token(TOKEN)
        .build()
}

fn assert_invalid_input(result: Result<Client, Error>, mentions: &str) {
    match result {
        Err(err @ Error::InvalidInput { .. }) => {
            let text = err.to_string();
            assert!(text.contains(mentions), "{text:?} lacks {mentions:?}");
            assert!(!text.contains(TOKEN), "{text:?} leaks the token");
        }
        other => panic!("expected Error::InvalidInput, got {other:?}"),
    }
}

#[test]
fn client_is_send_sync_clone_and_errors_fit_any_error_handler() {
    fn client_traits<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}
    fn error_traits<T: Send + Sync + std::error::Error + 'static>() {}
    client_traits::<Client>();
    error_traits::<Error>();
}

#[test]
fn each_cloud_maps_to_its_server_in_the_spec() {
    let spec = include_str!("../../openapi/defender-tvm.yaml");
    for &cloud in Cloud::ALL {
        assert!(
            spec.contains(&format!("- url: {}\n", cloud.base_url())),
            "{cloud} → {} is not a server of the spec",
            cloud.base_url()
        );
        assert_eq!(cloud.name().parse::<Cloud>().unwrap(), cloud);
        let client = Client::builder()
            .cloud(cloud)
            .bearer_token(TOKEN)
            .build()
            .unwrap();
        assert_eq!(client.base_url(), cloud.base_url());
    }
    assert_eq!(
        Client::builder()
            .bearer_token(TOKEN)
            .build()
            .unwrap()
            .base_url(),
        "https://api.security.microsoft.com"
    );
    assert_eq!("GCC_High".parse::<Cloud>().unwrap(), Cloud::GccHigh);
    assert!(
        "mars"
            .parse::<Cloud>()
            .unwrap_err()
            .to_string()
            .contains("gcc-high")
    );
}

#[test]
fn base_url_overrides_the_cloud_and_loses_its_trailing_slash() {
    let client = Client::builder()
        .cloud(Cloud::Europe)
        .base_url("https://proxy.example/defender/")
        .bearer_token(TOKEN)
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "https://proxy.example/defender");
}

#[test]
fn plain_http_is_refused_unless_loopback_or_allowed() {
    assert_invalid_input(build("http://api.security.microsoft.com"), "unencrypted");
    assert_invalid_input(build("http://10.1.2.3:8080"), "unencrypted");
    for loopback in [
        "http://127.0.0.1:1234",
        "http://127.8.9.10",
        "http://[::1]:80",
        "http://localhost:9",
    ] {
        assert!(build(loopback).is_ok(), "{loopback}");
    }
    let allowed = Client::builder()
        .base_url("http://proxy.internal")
        .bearer_token(TOKEN)
        .allow_http(true)
        .build();
    assert!(allowed.is_ok());
}

#[test]
fn malformed_base_urls_are_refused() {
    assert_invalid_input(build("not a url"), "is not a URL");
    assert_invalid_input(build("ftp://api.security.microsoft.com"), "https");
    assert_invalid_input(
        build("https://api.security.microsoft.com/?x=1"),
        "query or fragment",
    );
    assert_invalid_input(
        build("https://api.security.microsoft.com/#top"),
        "query or fragment",
    );
}

#[test]
fn a_base_url_with_credentials_is_refused_without_echoing_them() {
    let err = build("https://user:hunter2@api.security.microsoft.com").unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
    let err = build("https://user:hunter2@[broken").unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn a_missing_empty_or_malformed_token_is_refused_without_echoing_it() {
    let none = Client::builder().build();
    assert_invalid_input(none, "bearer_token");
    let empty = Client::builder().bearer_token("  ").build();
    assert_invalid_input(empty, "empty");
    let broken = Client::builder()
        .bearer_token(format!("{TOKEN}\r\nX-Evil: 1"))
        .build();
    assert_invalid_input(broken, "cannot carry");
}

#[test]
fn the_token_never_shows_in_debug_or_display() {
    let token = Secret::new(TOKEN);
    assert!(!format!("{token:?} {token}").contains(TOKEN));
    assert_eq!(token.secret(), TOKEN);

    let client = Client::builder().bearer_token(TOKEN).build().unwrap();
    let debug = format!("{client:?} {client:#?} {:?}", client.generated());
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}

#[tokio::test]
async fn the_generated_client_sends_through_the_same_hooks() {
    let server = MockServer::start_async().await;
    let mock = server.get_missing_kbs_by_software_id(|when, then| {
        when.id("microsoft-_-edge")
            .into_inner()
            .header("authorization", format!("Bearer {TOKEN}"))
            .header_missing("api-version");
        then.into_inner().status(200).body(r#"{"value":[]}"#);
    });

    let page = client(&server)
        .generated()
        .get_missing_kbs_by_software_id()
        .id("microsoft-_-edge")
        .send()
        .await
        .unwrap();

    assert!(page.value.is_empty());
    mock.assert();
}

#[test]
fn a_rate_limit_budget_of_zero_calls_or_a_zero_window_is_refused_when_building() {
    use std::time::Duration;

    use defender_tvm::RateLimit;
    let minute = Duration::from_secs(60);
    for (which, limit) in [
        ("general", RateLimit::new(0, minute)),
        ("general", RateLimit::new(10, Duration::ZERO)),
        ("general", RateLimit::standard().window(5, Duration::ZERO)),
    ] {
        let built = Client::builder()
            .bearer_token(TOKEN)
            .rate_limit(limit.clone())
            .build();
        assert_invalid_input(built, which);
    }
    let json = Client::builder()
        .bearer_token(TOKEN)
        .json_export_rate_limit(RateLimit::new(0, minute))
        .build();
    assert_invalid_input(json, "JSON export");
    let files = Client::builder()
        .bearer_token(TOKEN)
        .file_export_rate_limit(RateLimit::new(1, Duration::ZERO))
        .build();
    assert_invalid_input(files, "file export");
    // The off switch and real budgets build.
    for limit in [RateLimit::disabled(), RateLimit::new(1, minute)] {
        assert!(
            Client::builder()
                .bearer_token(TOKEN)
                .rate_limit(limit)
                .build()
                .is_ok()
        );
    }
    // An unchecked budget of zero still answers arithmetic without panicking.
    assert_eq!(
        RateLimit::new(0, minute).minimum_duration(10),
        Duration::ZERO
    );
}
