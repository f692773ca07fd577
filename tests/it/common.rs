//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use defender_tvm::types::PublicProductFixDto;
use defender_tvm::{Client, RateLimit, RetryPolicy};
use httpmock::MockServer;

/// The bearer token every test client uses; tests assert it never leaks.
pub const TOKEN: &str = "test-token-7f3a9c";

/// A client for the mock server, authenticated with [`TOKEN`]. Retries and the client-side rate
/// limit are off: these tests pin one request's mapping (`tests/retries.rs` tests retries).
pub fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .retry(RetryPolicy::disabled())
        .rate_limit(RateLimit::disabled())
        .build()
        .expect("a loopback base URL and a token make a valid client")
}

/// The raw path the service is called on for a software id that needs no encoding.
pub fn missing_kbs_path(id: &str) -> String {
    format!("/api/Software/{id}/getmissingkbs")
}

/// A missing KB with only its id set to something meaningful.
pub fn kb(id: &str) -> PublicProductFixDto {
    PublicProductFixDto {
        os_build: None,
        id: id.to_owned(),
        name: None,
        products_names: vec![],
        url: None,
        machine_missed_on: 1,
        cve_addressed: 1,
    }
}

/// Everything a tracing subscriber writes, for tests that read traces.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// What was captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The tracing output of this test binary: one global subscriber (scoped subscribers race with
/// tracing's callsite cache when tests run in parallel), capturing everything the client side
/// emits at TRACE level (the crate's events, reqwest's and hyper's, `log` records included).
/// httpmock's own events are left out: they are the servers' side, which receives secrets and
/// tokens by design. Tests that read events run their calls in [`span`] and read back only that
/// span's events.
pub fn traces() -> &'static Capture {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    static TRACES: OnceLock<Capture> = OnceLock::new();
    TRACES.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        let client_side = Targets::new()
            .with_default(LevelFilter::TRACE)
            .with_target("httpmock", LevelFilter::OFF);
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || writer.clone()),
            )
            .with(client_side)
            .try_init()
            .expect("the only subscriber of the test binary");
        capture
    })
}

/// A span for the calls of test `name`.
pub fn span(name: &'static str) -> tracing::Span {
    traces();
    tracing::info_span!("test", name)
}

/// The events of test `name`'s span whose line contains `message`.
pub fn events(name: &str, message: &str) -> Vec<String> {
    let marker = format!("test{{name=\"{name}\"}}");
    traces()
        .text()
        .lines()
        .filter(|line| line.contains(&marker) && line.contains(message))
        .map(str::to_owned)
        .collect()
}

/// A loopback address where every connection is refused, and which no other test can take while
/// the returned socket lives: the port is bound (so nothing else can bind it) but not listening.
pub fn refusing_address() -> (tokio::net::TcpSocket, String) {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("a free port");
    let port = socket.local_addr().expect("bound").port();
    (socket, format!("http://127.0.0.1:{port}"))
}

/// The API, answering `missing_kbs` of `microsoft-_-edge` with no items for requests that carry
/// `token` (httpmock answers 404 to the others).
pub fn api_accepting<'a>(api: &'a httpmock::MockServer, token: &str) -> httpmock::Mock<'a> {
    use defender_tvm::mock::MockServerExt;
    api.get_missing_kbs_by_software_id(|when, then| {
        when.id("microsoft-_-edge")
            .into_inner()
            .header("authorization", format!("Bearer {token}"));
        then.into_inner().status(200).body(r#"{"value":[]}"#);
    })
}

/// A client builder signed in to a demo tenant with its application's secret.
pub fn signed_in_to(tenant: &defender_tvm_demo::DemoTenant) -> defender_tvm::ClientBuilder {
    defender_tvm::ClientBuilder::from_vars(|name| tenant.var(name))
        .expect("the demo tenant gives every variable")
}

/// A client of a demo tenant with quick retries and no client-side rate limit (the tests that
/// use it are about what is asked, not about pacing).
pub fn demo_client(tenant: &defender_tvm_demo::DemoTenant) -> Client {
    signed_in_to(tenant)
        .retry(
            defender_tvm::RetryPolicy::default()
                .initial_backoff(std::time::Duration::from_millis(5))
                .max_backoff(std::time::Duration::from_millis(20)),
        )
        .rate_limit(defender_tvm::RateLimit::disabled())
        .build()
        .unwrap()
}

/// The whole report of `client` with `options`, planned and run.
pub async fn report_of(
    client: &Client,
    options: defender_tvm::report::ReportOptions,
) -> defender_tvm::report::Report {
    client
        .plan_missing_kbs_report(options)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap()
}

/// An error and its causes, each once, as the command line prints them (`Display` describes a
/// layer; `source()` gives the next).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
