//! Benchmarks of the facade against a hand-written `reqwest` + `serde_json` baseline, against a
//! minimal hyper server on 127.0.0.1 started here (not httpmock, whose own cost would hide the
//! client's). See BENCHMARKS.md for what each measures and the goals.
//!
//! `cargo bench --bench facade` runs everything (about a minute); `BENCH_QUICK=1` a short pass.

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use defender_tvm::{Client, ClientBuilder, RateLimit, RetryPolicy};
use futures::{StreamExt, TryStreamExt};
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;

// ---------------------------------------------------------------------------------------------
// Memory: a counting allocator (current and peak bytes in use). The only `unsafe` of the
// repository: a `GlobalAlloc` cannot be written without it; it forwards to `System` unchanged.

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak growth in bytes over what was in use when `run` started.
async fn peak_growth<F: Future<Output = ()>>(run: F) -> usize {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    run.await;
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

// ---------------------------------------------------------------------------------------------
// The server.

const TOKEN: &str = "bench-token";
const PAGE_ITEMS: usize = 5_000;
const LARGE_ITEMS: usize = 50_000;
const LIMIT_CALLS: usize = 100;
const LIMIT_WINDOW: Duration = Duration::from_secs(1);

struct Server {
    addr: SocketAddr,
    example: Bytes,
    large: Bytes,
    /// The pages of the 10-page and the 100-page listings.
    ten_pages: Vec<Bytes>,
    pages: Vec<Bytes>,
    token_requests: AtomicUsize,
}

fn fix(i: usize) -> serde_json::Value {
    serde_json::json!({
        "id": format!("{}", 4_540_000 + i),
        "name": "March 2020 Security Updates",
        "productsNames": ["edge", "windows 10"],
        "url": format!("https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB{}", 4_540_000 + i),
        "machineMissedOn": 240,
        "cveAddressed": 14
    })
}

fn page_body(items: usize, next: Option<String>) -> Bytes {
    let mut page = serde_json::json!({
        "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Collection(microsoft.windowsDefenderATP.api.PublicProductFixDto)",
        "value": (0..items).map(fix).collect::<Vec<_>>(),
    });
    if let Some(next) = next {
        page["@odata.nextLink"] = next.into();
    }
    Bytes::from(serde_json::to_vec(&page).unwrap())
}

impl Server {
    async fn start() -> Arc<Server> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listing = |id: &str, n: usize| -> Vec<Bytes> {
            (0..n)
                .map(|k| {
                    let next = (k + 1 < n).then(|| {
                        format!(
                            "http://{addr}/api/Software/{id}/getmissingkbs?page={}",
                            k + 1
                        )
                    });
                    page_body(PAGE_ITEMS, next)
                })
                .collect()
        };
        let server = Arc::new(Server {
            addr,
            example: page_body(1, None),
            large: page_body(LARGE_ITEMS, None),
            ten_pages: listing("ten-pages", 10),
            pages: listing("pages", 100),
            token_requests: AtomicUsize::new(0),
        });
        let serving = Arc::clone(&server);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let server = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let server = Arc::clone(&server);
                        async move { Ok::<_, Infallible>(server.answer(request)) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        server
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn answer(&self, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let ok = |body: &Bytes| Response::new(Full::new(body.clone()));
        let path = request.uri().path();
        let query = request.uri().query().unwrap_or("");
        match path {
            "/api/Software/small/getmissingkbs" => ok(&self.example),
            "/api/Software/large/getmissingkbs" => ok(&self.large),
            "/api/Software/pages/getmissingkbs" | "/api/Software/ten-pages/getmissingkbs" => {
                let k: usize = query
                    .strip_prefix("page=")
                    .and_then(|k| k.parse().ok())
                    .unwrap_or(0);
                let pages = if path.contains("ten-pages") {
                    &self.ten_pages
                } else {
                    &self.pages
                };
                ok(&pages[k])
            }
            "/tenant/oauth2/v2.0/token" => {
                self.token_requests.fetch_add(1, Ordering::Relaxed);
                ok(&Bytes::from(format!(
                    r#"{{"token_type":"Bearer","expires_in":3599,"access_token":"{TOKEN}"}}"#
                )))
            }
            _ => {
                let mut response = Response::new(Full::new(Bytes::new()));
                *response.status_mut() = StatusCode::NOT_FOUND;
                response
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The baseline: a hand-written GET and decode into an equivalent hand-written struct.

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawPage {
    #[serde(rename = "@odata.context")]
    context: Option<String>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    value: Vec<RawFix>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct RawFix {
    id: String,
    name: Option<String>,
    #[serde(default)]
    products_names: Vec<String>,
    url: Option<String>,
    machine_missed_on: i64,
    cve_addressed: i64,
}

async fn raw_get(http: &reqwest::Client, url: &str) -> RawPage {
    let body = http
        .get(url)
        .header(reqwest::header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Measuring.

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Seconds per call of `a` and `b`, `calls` calls a batch, `rounds` rounds, the order of the two
/// batches alternating each round. Returns (median a, median b, median of per-round a/b).
async fn interleaved<A, B, FA, FB>(rounds: usize, calls: usize, a: A, b: B) -> (f64, f64, f64)
where
    A: Fn() -> FA,
    B: Fn() -> FB,
    FA: Future<Output = ()>,
    FB: Future<Output = ()>,
{
    async fn batch<F: Future<Output = ()>>(calls: usize, f: &impl Fn() -> F) -> f64 {
        let start = Instant::now();
        for _ in 0..calls {
            f().await;
        }
        start.elapsed().as_secs_f64() / calls as f64
    }
    // Warm both paths (connections, caches, the token).
    batch(calls.min(50), &a).await;
    batch(calls.min(50), &b).await;
    let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (x, y) = if round % 2 == 0 {
            let x = batch(calls, &a).await;
            (x, batch(calls, &b).await)
        } else {
            let y = batch(calls, &b).await;
            (batch(calls, &a).await, y)
        };
        ta.push(x);
        tb.push(y);
        ratios.push(x / y);
    }
    (median(&mut ta), median(&mut tb), median(&mut ratios))
}

fn sdk(server: &Server) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .rate_limit(RateLimit::disabled())
        .build()
        .unwrap()
}

fn us(seconds: f64) -> String {
    format!("{:.1} µs", seconds * 1e6)
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let server = Server::start().await;
    let raw_http = reqwest::Client::new();
    let mut rows: Vec<[String; 4]> = Vec::new();

    // 1. Per-call overhead.
    {
        let client = sdk(&server);
        let url = format!("{}/api/Software/small/getmissingkbs", server.base_url());
        let (rounds, calls) = if quick { (5, 50) } else { (31, 300) };
        let (s, r, ratio) = interleaved(
            rounds,
            calls,
            || async { client.missing_kbs("small").await.map(drop).unwrap() },
            || async {
                raw_get(&raw_http, &url).await;
            },
        )
        .await;
        rows.push([
            "1. per-call `missing_kbs` (documented example)".into(),
            format!("SDK {} · raw {}", us(s), us(r)),
            format!("{ratio:.3}"),
            "ratio ≤ 1.05".into(),
        ]);
        // The noise floor of this machine: the same comparison with raw on both sides.
        let (a, b, ratio) = interleaved(
            rounds,
            calls,
            || async {
                raw_get(&raw_http, &url).await;
            },
            || async {
                raw_get(&raw_http, &url).await;
            },
        )
        .await;
        rows.push([
            "1'. control: raw vs raw, same rounds".into(),
            format!("{} · {}", us(a), us(b)),
            format!("{ratio:.3}"),
            "≈ 1.00 (noise floor)".into(),
        ]);
    }

    if std::env::var_os("BENCH_PER_CALL_ONLY").is_some() {
        print_rows(rows);
        return;
    }

    // 2. A large response: decode alone, end to end, and peak memory.
    {
        let body = server.large.clone();
        let rounds = if quick { 3 } else { 15 };
        let (s, r, ratio) = interleaved(
            rounds,
            1,
            || async {
                let page: defender_tvm::types::PublicProductFixDtoCollection =
                    serde_json::from_slice(&body).unwrap();
                assert_eq!(page.value.len(), LARGE_ITEMS);
            },
            || async {
                let page: RawPage = serde_json::from_slice(&body).unwrap();
                assert_eq!(page.value.len(), LARGE_ITEMS);
            },
        )
        .await;
        rows.push([
            format!(
                "2a. decode {} items ({}): generated type vs hand-written struct",
                LARGE_ITEMS,
                mb(body.len())
            ),
            format!("SDK {:.1} ms · raw {:.1} ms", s * 1e3, r * 1e3),
            format!("{ratio:.3}"),
            "ratio ≤ 1.05".into(),
        ]);
        let client = sdk(&server);
        let url = format!("{}/api/Software/large/getmissingkbs", server.base_url());
        let (s, r, ratio) = interleaved(
            rounds,
            1,
            || async {
                assert_eq!(
                    client.missing_kbs("large").await.unwrap().len(),
                    LARGE_ITEMS
                )
            },
            || async { assert_eq!(raw_get(&raw_http, &url).await.value.len(), LARGE_ITEMS) },
        )
        .await;
        rows.push([
            "2b. the same over HTTP: `missing_kbs` vs reqwest GET + decode".into(),
            format!("SDK {:.1} ms · raw {:.1} ms", s * 1e3, r * 1e3),
            format!("{ratio:.3}"),
            "(context)".into(),
        ]);
        let sdk_peak = peak_growth(async {
            client.missing_kbs("large").await.unwrap();
        })
        .await;
        let raw_peak = peak_growth(async {
            raw_get(&raw_http, &url).await;
        })
        .await;
        rows.push([
            "2c. peak memory of one large call / body size".into(),
            format!(
                "SDK {} · raw {} · body {}",
                mb(sdk_peak),
                mb(raw_peak),
                mb(body.len())
            ),
            format!("{:.2}×", sdk_peak as f64 / body.len() as f64),
            "≤ 3×".into(),
        ]);
    }

    // 3. Paging memory: 10 vs 100 pages of 5,000 items, consumed item by item.
    {
        let client = sdk(&server);
        let mut growth = Vec::new();
        for (id, pages) in [("ten-pages", 10), ("pages", 100)] {
            let peak = peak_growth(async {
                let count = client
                    .missing_kbs(id)
                    .items()
                    .try_fold(0usize, |n, _| async move { Ok(n + 1) })
                    .await
                    .unwrap();
                assert_eq!(count, pages * PAGE_ITEMS);
            })
            .await;
            growth.push(peak);
        }
        let page = server.pages[0].len();
        rows.push([
            format!(
                "3. paging peak memory, 10 vs 100 pages × {PAGE_ITEMS} items (page {})",
                mb(page)
            ),
            format!("10 pages {} · 100 pages {}", mb(growth[0]), mb(growth[1])),
            format!(
                "{:.2} pages · 100/10 = {:.2}",
                growth[1] as f64 / page as f64,
                growth[1] as f64 / growth[0] as f64
            ),
            "≤ ~2 pages, flat".into(),
        ]);
    }

    // 4. Token reuse: client credentials vs a static token.
    {
        let secret = Client::builder()
            .base_url(server.base_url())
            .authority_host(server.base_url())
            .client_secret("tenant", "client", "secret")
            .rate_limit(RateLimit::disabled())
            .build()
            .unwrap();
        let fixed = sdk(&server);
        let (rounds, calls) = if quick { (4, 100) } else { (20, 500) };
        let (s, f, ratio) = interleaved(
            rounds,
            calls,
            || async { secret.missing_kbs("small").await.map(drop).unwrap() },
            || async { fixed.missing_kbs("small").await.map(drop).unwrap() },
        )
        .await;
        let total = rounds * calls + calls.min(50);
        rows.push([
            format!("4. {total} calls with client credentials vs a static token"),
            format!(
                "credentials {} · static {} · token requests {}",
                us(s),
                us(f),
                server.token_requests.load(Ordering::Relaxed)
            ),
            format!("{ratio:.3}"),
            "1 token request, ratio ≤ 1.05".into(),
        ]);
    }

    // 5. Limiter efficiency against the demo tenant's own 429s (last but the report: it leaves
    // many connections closing behind it): the tenant's budget is 100 calls per second, counted
    // at arrival, and the client's rate limit is the same; 1,000 calls at concurrency 16.
    {
        let calls = if quick { 300 } else { 1000 };
        let tenant = defender_tvm_demo::DemoTenant::builder()
            .devices(100)
            .software(20)
            .budget(LIMIT_CALLS as u32, LIMIT_WINDOW)
            .start()
            .await
            .unwrap();
        let client = ClientBuilder::from_vars(|name| tenant.var(name))
            .unwrap()
            .rate_limit(RateLimit::new(LIMIT_CALLS as u32, LIMIT_WINDOW))
            .retry(RetryPolicy::disabled())
            .build()
            .unwrap();
        let start = Instant::now();
        let failures = futures::stream::iter(0..calls)
            .map(|_| client.missing_kbs("microsoft-_-windows_11").collect_items())
            .buffer_unordered(16)
            .filter(|r| futures::future::ready(r.is_err()))
            .count()
            .await;
        let elapsed = start.elapsed().as_secs_f64();
        // The first window's budget starts at once; the rest can go no faster than the budget.
        let ideal = ((calls - LIMIT_CALLS) / LIMIT_CALLS) as f64 * LIMIT_WINDOW.as_secs_f64();
        rows.push([
            format!(
                "5. limiter: {calls} calls, concurrency 16, demo tenant's budget {LIMIT_CALLS}/s"
            ),
            format!(
                "{elapsed:.2} s (ideal {ideal:.0} s) · 429s {} · failed calls {failures}",
                tenant.throttled()
            ),
            format!("{:.1}% of budget rate", 100.0 * ideal / elapsed),
            "≥ 95%, zero 429s".into(),
        ]);
    }

    // 6. The estate report against the demo tenant, its budget scaled to 100 calls per second
    // and 1,500 per 15 s, the client's rate limit set to the same.
    {
        let (small, large) = if quick { (100, 200) } else { (250, 500) };
        let mut peaks = Vec::new();
        for software in [small, large] {
            let tenant = defender_tvm_demo::DemoTenant::builder()
                .software(software)
                .devices(300)
                .budget(100, Duration::from_secs(1))
                .and_budget(1500, Duration::from_secs(15))
                .start()
                .await
                .unwrap();
            let limit =
                RateLimit::new(100, Duration::from_secs(1)).window(1500, Duration::from_secs(15));
            let client = ClientBuilder::from_vars(|name| tenant.var(name))
                .unwrap()
                .rate_limit(limit.clone())
                .build()
                .unwrap();
            let options = defender_tvm::report::ReportOptions::new()
                .selection(defender_tvm::report::Selection::All)
                .concurrency(16);
            let plan = client.plan_missing_kbs_report(options).await.unwrap();
            let calls = plan.calls();
            // The plan's listing took budget too: the ideal is every call of the run starting
            // as early as the windows allow, counted from the same state (a fresh client of the
            // same limit gives that estimate for listing + run).
            let listing = tenant.total_calls() as usize;
            let ideal = limit
                .minimum_duration((listing + calls) as u64)
                .as_secs_f64();
            let base = CURRENT.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            let start = Instant::now();
            let report = plan.finish().await.unwrap();
            let elapsed = start.elapsed().as_secs_f64();
            let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
            let held = CURRENT.load(Ordering::Relaxed).saturating_sub(base);
            let beyond = peak.saturating_sub(held);
            peaks.push(beyond);
            rows.push([
                format!("6. report: {calls} software, budget 100/s and 1,500/15 s, concurrency 16"),
                format!(
                    "{elapsed:.2} s (ideal {ideal:.2} s) · 429s {} · KBs {} · peak beyond the report {}",
                    tenant.throttled(),
                    report.kbs.len(),
                    mb(beyond)
                ),
                format!("{:.3} × ideal", elapsed / ideal.max(f64::EPSILON)),
                "≤ 1.05 × ideal, zero 429s".into(),
            ]);
        }
        rows.push([
            format!("6'. report memory beyond the report, {large} vs {small} software"),
            format!("{} vs {}", mb(peaks[1]), mb(peaks[0])),
            format!("{:.2}", peaks[1] as f64 / peaks[0].max(1) as f64),
            "flat (≈ 1)".into(),
        ]);
    }

    print_rows(rows);
}

fn print_rows(rows: Vec<[String; 4]>) {
    println!("| bench | measured (medians) | figure | goal |");
    println!("|---|---|---|---|");
    for [a, b, c, d] in rows {
        println!("| {a} | {b} | {c} | {d} |");
    }
}
