//! Instruction counts per call, for `valgrind --tool=callgrind` (repeatable on a noisy machine,
//! unlike wall-clock time). Runs `N` calls of one path against an in-process hyper server on
//! 127.0.0.1, on one thread: `sdk` is `client.missing_kbs(..)`, `raw` a hand-written reqwest GET
//! plus a `serde_json` decode into the same generated type, to a URL built once; `raw-alike` the
//! same hand-written GET doing the work any correct client does per call too: the URL built from
//! the id (percent-encoded), and the facade's default timeouts (connect 10 s, request 60 s). See
//! BENCHMARKS.md for the commands:
//! the per-call figure is the difference between a run of 1,100 and a run of 100 calls, / 1,000.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response, body::Incoming};

const BODY: &str = r#"{"@odata.context":"https://api.securitycenter.microsoft.com/api/$metadata#Collection(microsoft.windowsDefenderATP.api.PublicProductFixDto)","value":[{"id":"4540673","name":"March 2020 Security Updates","productsNames":["edge"],"url":"https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB4540673","machineMissedOn":240,"cveAddressed":14}]}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; the mode and count come from the environment.
    let mode = std::env::var("PER_CALL_MODE").unwrap_or_else(|_| "sdk".into());
    let calls: usize = std::env::var("PER_CALL_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = service_fn(|_: Request<Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                        BODY.as_bytes(),
                    ))))
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    let base = format!("http://{addr}");
    let sdk = defender_tvm::Client::builder()
        .base_url(&base)
        .bearer_token("token")
        .rate_limit(defender_tvm::RateLimit::disabled())
        .build()
        .unwrap();
    let raw = if mode == "raw-alike" {
        reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap()
    } else {
        reqwest::Client::new()
    };
    let prebuilt = format!("{base}/api/Software/small/getmissingkbs");
    for _ in 0..calls {
        let items = if mode == "sdk" {
            sdk.missing_kbs("small").await.unwrap().len()
        } else {
            let request = if mode == "raw-alike" {
                let id = percent_encoding::utf8_percent_encode(
                    "small",
                    percent_encoding::NON_ALPHANUMERIC,
                );
                raw.get(format!("{base}/api/Software/{id}/getmissingkbs"))
            } else {
                raw.get(&prebuilt)
            };
            let body = request
                .header("authorization", "Bearer token")
                .header("accept", "application/json")
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let page: defender_tvm::types::PublicProductFixDtoCollection =
                serde_json::from_slice(&body).unwrap();
            page.value.len()
        };
        assert_eq!(items, 1);
    }
    println!("{mode}: {calls} calls");
}
