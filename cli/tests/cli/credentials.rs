//! Where the binary signs in and sends calls (the environment, its flags, `--demo`), and how it
//! fails: usage and refused input exit 2, one `error:` line, the cause chain and tracing only
//! with `-v`, no colour codes where standard error is not a terminal.

use defender_tvm_demo::DemoTenant;
use httpmock::MockServer;

use crate::{command, run, text, with_token};

#[tokio::test]
async fn usage_errors_and_missing_credentials_exit_2() {
    let bad = run(&mut command(), &["report", "--no-such-flag"]).await;
    assert_eq!(bad.status.code(), Some(2));

    let missing = run(&mut command(), &["report"]).await;
    assert_eq!(missing.status.code(), Some(2));
    let stderr = text(&missing.stderr);
    for part in [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "DEFENDER_TVM_BEARER_TOKEN",
        "--demo",
    ] {
        assert!(stderr.contains(part), "{stderr}");
    }
    assert!(missing.stdout.is_empty());

    let help = run(&mut command(), &["--help"]).await;
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("Exit codes"));
}

#[tokio::test]
async fn input_the_library_refuses_before_sending_exits_2() {
    let tenant = DemoTenant::start().await.unwrap();
    let output = run(
        &mut with_token(tenant.base_url(), &tenant.issue_token()),
        &["software", "list", "--top", "20000"],
    )
    .await;

    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stderr).lines().collect::<Vec<_>>(),
        [
            "error: invalid input: $top is 20000; the service allows at most 10000 (leave top unset to list everything)"
        ]
    );
    assert_eq!(tenant.total_calls(), 0, "nothing was sent");
}

#[tokio::test]
async fn a_bearer_token_from_the_environment_is_sent_without_signing_in() {
    let tenant = DemoTenant::start().await.unwrap();
    let output = run(
        &mut with_token(tenant.base_url(), &tenant.issue_token()),
        &["-q", "--format", "json", "software", "list", "--top", "3"],
    )
    .await;

    assert!(output.status.success(), "{}", text(&output.stderr));
    let items: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 3);
    assert_eq!(tenant.token_requests(), 0, "no sign-in");
    assert_eq!(tenant.calls("list_software"), 1);
}

#[tokio::test]
async fn the_cloud_and_base_url_flags_win_over_the_environment() {
    let tenant = DemoTenant::start().await.unwrap();
    let args = ["-q", "software", "get", "google-_-chrome"];

    // The environment names a cloud that does not exist and an API where nothing listens.
    let mut broken = command();
    broken
        .env("DEFENDER_TVM_BEARER_TOKEN", tenant.issue_token())
        .env("DEFENDER_TVM_CLOUD", "atlantis")
        .env("DEFENDER_TVM_BASE_URL", "http://127.0.0.1:9");
    let refused = run(&mut broken, &args).await;
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("atlantis"));

    let mut flags = vec!["--cloud", "europe", "--base-url", tenant.base_url()];
    flags.extend(args);
    let mut fixed = command();
    fixed
        .env("DEFENDER_TVM_BEARER_TOKEN", tenant.issue_token())
        .env("DEFENDER_TVM_CLOUD", "atlantis")
        .env("DEFENDER_TVM_BASE_URL", "http://127.0.0.1:9");
    let output = run(&mut fixed, &flags).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(tenant.calls("get_software_by_id"), 1);

    let unknown = run(
        &mut with_token(tenant.base_url(), "t"),
        &["--cloud", "atlantis", "software", "list"],
    )
    .await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("atlantis"),
        "{}",
        text(&unknown.stderr)
    );
}

/// A server whose software listing does not decode: an error with a cause chain.
async fn undecodable() -> MockServer {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method("GET").path("/api/Software");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"value": [{"id": 42}]}"#);
    });
    server
}

#[tokio::test]
async fn an_error_prints_its_cause_once_and_verbose_adds_tracing_without_colour_codes() {
    let server = undecodable().await;

    let plain = run(
        &mut with_token(&server.base_url(), "t"),
        &["software", "list"],
    )
    .await;
    assert_eq!(plain.status.code(), Some(1));
    let stderr = text(&plain.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "the error, then its cause: {stderr}");
    assert!(lines[0].starts_with("error: cannot decode"), "{stderr}");
    assert!(
        lines[1].starts_with("  caused by: invalid type"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("invalid type").count(), 1, "once: {stderr}");

    let verbose = run(
        &mut with_token(&server.base_url(), "t"),
        &["-vv", "software", "list"],
    )
    .await;
    assert_eq!(verbose.status.code(), Some(1));
    let stderr = text(&verbose.stderr);
    assert_eq!(stderr.matches("\n  caused by: ").count(), 1, "{stderr}");
    assert!(stderr.contains("DEBUG"), "tracing output: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a redirect: {stderr:?}"
    );
}

#[tokio::test]
async fn one_v_is_info_and_two_are_debug() {
    let tenant = DemoTenant::start().await.unwrap();
    // Without -v: no tracing output, even for a retried 503.
    tenant.faults().fail_next(1);
    let quiet = run(
        &mut with_token(tenant.base_url(), &tenant.issue_token()),
        &["software", "get", "google-_-chrome"],
    )
    .await;
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));

    tenant.faults().fail_next(1);
    let info = run(
        &mut with_token(tenant.base_url(), &tenant.issue_token()),
        &["-v", "software", "get", "google-_-chrome"],
    )
    .await;
    assert!(info.status.success(), "{}", text(&info.stderr));
    let stderr = text(&info.stderr);
    // The retried 503 is a warning: shown; debug events are not.
    assert!(
        stderr.contains("WARN") && stderr.contains("retrying"),
        "{stderr}"
    );
    assert!(!stderr.contains("DEBUG"), "{stderr}");
}
