//! The HTTP side: two hyper servers on 127.0.0.1 (two ports), one answering the token endpoint
//! and the API from the estate, the other serving the export files as blob storage would. This
//! file accepts connections, counts calls (by operation, and how many are answered at once) and
//! sends each API request where it goes, in the order the service checks them: faults, the
//! token, the budget of the operation's class, the permission, then the operation.
//!
//! - `faults.rs`: faults on demand ([`Faults`]);
//! - `budget.rs`: the service's budgets and `Retry-After`;
//! - `token.rs`: the token endpoint and the tokens it issued;
//! - `api.rs`: the API's routes, collections and JSON. Adding an operation is one route there and
//!   one function building its items from the estate;
//! - `export.rs`: the export assessment operations (JSON pages of rows, export file links);
//! - `links.rs`: the export files' SAS links;
//! - `files.rs`: the file origin (storage's answers and errors, file faults);
//! - `stream.rs`: bodies made as they are sent (the export pages and files).

mod api;
mod budget;
mod export;
mod faults;
mod files;
mod links;
mod stream;
mod token;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::Value;

use crate::estate::Estate;
use budget::Budget;
use faults::Fault;
pub use faults::Faults;
use links::Links;
use token::Tokens;
pub(crate) use token::{CLIENT_ID, CLIENT_SECRET, TENANT_ID};

/// The budgets of each class of operations, as `(calls, per)` windows (none: unlimited).
#[derive(Debug, Clone)]
pub(crate) struct Budgets {
    /// Every operation but the exports.
    pub(crate) general: Vec<(u32, Duration)>,
    /// The three `…ByMachine` JSON exports.
    pub(crate) json_export: Vec<(u32, Duration)>,
    /// The two `…Export` calls (export via files).
    pub(crate) file_export: Vec<(u32, Duration)>,
}

/// How the tenant is set up, apart from its estate.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Items on a page of a collection listed without `$top`.
    pub(crate) page_size: usize,
    /// How long issued tokens are valid.
    pub(crate) token_lifetime: Duration,
    /// The budgets.
    pub(crate) budgets: Budgets,
    /// Rows in an export file.
    pub(crate) rows_per_file: usize,
}

/// Which server a connection came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The token endpoint and the API.
    Api,
    /// The export files.
    Files,
}

/// Everything the server shares between connections.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) estate: Estate,
    base_url: String,
    files_base_url: String,
    page_size: usize,
    rows_per_file: usize,
    pub(crate) tokens: Tokens,
    budget: Budget,
    json_export_budget: Budget,
    file_export_budget: Budget,
    links: Links,
    pub(crate) file_requests: AtomicU64,
    pub(crate) file_requests_with_authorization: AtomicU64,
    /// Per operation: calls answered (counted on arrival).
    counts: Mutex<BTreeMap<&'static str, u64>>,
    /// Per operation: calls being answered now, and the most at once so far.
    in_flight: Mutex<BTreeMap<&'static str, (u64, u64)>>,
    pub(crate) throttled: AtomicU64,
    tracking: AtomicU64,
    pub(crate) faults: Faults,
    /// `GET /api/Software`'s items, built on first use.
    software_listing: OnceLock<Vec<Value>>,
    /// `machinesVulnerabilities`' items, built on first use.
    rows_listing: OnceLock<Vec<Value>>,
}

/// A lock that a panicked holder does not poison for the others.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl State {
    pub(crate) fn new(
        estate: Estate,
        base_url: String,
        files_base_url: String,
        settings: Settings,
    ) -> Self {
        Self {
            estate,
            base_url,
            files_base_url,
            page_size: settings.page_size,
            rows_per_file: settings.rows_per_file.max(1),
            tokens: Tokens::new(settings.token_lifetime),
            budget: Budget::new(settings.budgets.general),
            json_export_budget: Budget::new(settings.budgets.json_export),
            file_export_budget: Budget::new(settings.budgets.file_export),
            links: Links::default(),
            file_requests: AtomicU64::new(0),
            file_requests_with_authorization: AtomicU64::new(0),
            counts: Mutex::new(BTreeMap::new()),
            in_flight: Mutex::new(BTreeMap::new()),
            throttled: AtomicU64::new(0),
            tracking: AtomicU64::new(0),
            faults: Faults::default(),
            software_listing: OnceLock::new(),
            rows_listing: OnceLock::new(),
        }
    }

    pub(crate) fn calls(&self, operation: &str) -> u64 {
        lock(&self.counts).get(operation).copied().unwrap_or(0)
    }

    pub(crate) fn total_calls(&self) -> u64 {
        lock(&self.counts).values().sum()
    }

    fn count(&self, operation: &'static str) {
        *lock(&self.counts).entry(operation).or_default() += 1;
    }

    pub(crate) fn peak_in_flight(&self, operation: &str) -> u64 {
        lock(&self.in_flight)
            .get(operation)
            .map_or(0, |&(_, peak)| peak)
    }

    /// Marks a call of `operation` as being answered until the guard drops (answered, or its
    /// connection closed meanwhile).
    fn enter(&self, operation: &'static str) -> InFlight<'_> {
        let mut in_flight = lock(&self.in_flight);
        let (now, peak) = in_flight.entry(operation).or_default();
        *now += 1;
        *peak = (*peak).max(*now);
        InFlight {
            state: self,
            operation,
        }
    }

    /// A tracking id for an error's `target`, unique within the tenant.
    fn tracking_id(&self) -> String {
        let n = self.tracking.fetch_add(1, Ordering::SeqCst) + 1;
        format!("d3m0{n:04x}-7e57-4a11-9c0d-{:012x}", self.estate.seed)
    }
}

/// A response body: whole, or made as it is sent.
pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// An answer.
type Answer = Response<Body>;

/// A whole body.
fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A call being answered (see [`State::enter`]).
struct InFlight<'a> {
    state: &'a State,
    operation: &'static str,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some((now, _)) = lock(&self.state.in_flight).get_mut(self.operation) {
            *now = now.saturating_sub(1);
        }
    }
}

/// Accepts connections to `origin` until `stopped` says so.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    origin: Origin,
    state: Arc<State>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let state = std::sync::Arc::clone(&state);
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = Arc::clone(&state);
                async move {
                    match origin {
                        Origin::Api => handle(&state, request).await,
                        Origin::Files => Ok(files::handle(&state, request)),
                    }
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stopped.changed() => {}
            }
        });
    }
}

/// Answers one request; an `Err` closes the connection without an answer (an injected fault).
async fn handle(state: &Arc<State>, request: Request<Incoming>) -> Result<Answer, std::io::Error> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let authorization = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let segments: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();

    if let [tenant, "oauth2", "v2.0", "token"] = segments.as_slice() {
        if method != Method::POST {
            return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "POST only"));
        }
        let body = match request.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => return Ok(plain(StatusCode::BAD_REQUEST, "unreadable body")),
        };
        return Ok(token::answer(state, tenant, &body));
    }

    let Some(operation) = api::operation_of(&segments) else {
        return Ok(state.error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("No route for {path}"),
        ));
    };
    if method != Method::GET {
        return Ok(state.error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Only GET is supported.",
        ));
    }
    let (fault, delay) = state.faults.next_api_fault();
    // Counted on arrival (a slow answer is counted before it waits), unless the connection is
    // dropped without an answer.
    if !matches!(fault, Fault::Drop) {
        state.count(operation);
    }
    let _in_flight = (!matches!(fault, Fault::Drop)).then(|| state.enter(operation));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Fault::Drop => return Err(std::io::Error::other("connection dropped on purpose")),
        Fault::Unavailable => {
            return Ok(state.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is temporarily unavailable. Retry the operation.",
            ));
        }
        Fault::None => {}
    }
    if state.faults.tokens_refused() || !state.tokens.accepts(authorization.as_deref()) {
        return Ok(state.error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Authorization has been denied for this request.",
        ));
    }
    let budget = match api::class_of(operation) {
        api::Class::General => &state.budget,
        api::Class::JsonExport => &state.json_export_budget,
        api::Class::FileExport => &state.file_export_budget,
    };
    if let Err(wait) = budget.admit() {
        state.throttled.fetch_add(1, Ordering::SeqCst);
        let mut answer = state.error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Rate limit is exceeded. Try again later.",
        );
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
            answer.headers_mut().insert(RETRY_AFTER, value);
        }
        return Ok(answer);
    }
    if state.faults.denied(operation) {
        return Ok(state.error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The application does not have the permission this operation requires.",
        ));
    }
    if api::class_of(operation) != api::Class::General {
        return Ok(export::route(state, operation, &path, query.as_deref()));
    }
    Ok(api::route(
        state,
        operation,
        &segments,
        &path,
        query.as_deref(),
    ))
}

/// A JSON answer (200 unless the caller sets another status).
fn json(body: &Value) -> Answer {
    let mut answer = Response::new(full(body.to_string()));
    answer.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    answer
}

/// A plain-text answer.
fn plain(status: StatusCode, text: &'static str) -> Answer {
    let mut answer = Response::new(full(Bytes::from_static(text.as_bytes())));
    *answer.status_mut() = status;
    answer
}
