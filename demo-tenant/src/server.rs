//! The HTTP side: one hyper server on 127.0.0.1 answering the token endpoint and the API from the
//! estate, with budgets, call counts and injected faults. Adding an operation is one route in
//! [`route`] and one function building its items from the estate.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::estate::Estate;
use crate::odata::{self, Query};

pub(crate) const TENANT_ID: &str = "00000000-demo-4000-8000-contoso00001";
pub(crate) const CLIENT_ID: &str = "11111111-demo-4000-8000-defendertvm01";
pub(crate) const CLIENT_SECRET: &str = "demo-secret~Kq8Q~not-a-real-secret";

/// Faults to inject into the next answers of a [`DemoTenant`](crate::DemoTenant). Each applies to
/// API calls (not token requests) unless its name says sign-in.
#[derive(Debug, Default)]
pub struct Faults {
    plan: Mutex<Plan>,
}

#[derive(Debug, Default)]
struct Plan {
    fail_next: u64,
    fail_every: Option<u64>,
    drop_next: u64,
    delay: Duration,
    sign_in_fail_next: u64,
    secret_expired: bool,
    refuse_tokens: bool,
    vanished: Vec<String>,
    denied: Vec<String>,
    seen: u64,
}

/// What to do with one API call.
enum Fault {
    None,
    Unavailable,
    Drop,
}

impl Faults {
    /// The next `n` API calls answer 503 `ServiceUnavailable`.
    pub fn fail_next(&self, n: u64) {
        self.with(|plan| plan.fail_next = n);
    }

    /// Every `n`-th API call answers 503 (a steady rate of failures; `0` turns it off).
    pub fn fail_every(&self, n: u64) {
        self.with(|plan| plan.fail_every = (n > 0).then_some(n));
    }

    /// The next `n` API calls get their connection closed without an answer.
    pub fn drop_next(&self, n: u64) {
        self.with(|plan| plan.drop_next = n);
    }

    /// Every API answer waits this long first.
    pub fn slow(&self, delay: Duration) {
        self.with(|plan| plan.delay = delay);
    }

    /// The next `n` token requests answer 503 `temporarily_unavailable`.
    pub fn fail_sign_in_next(&self, n: u64) {
        self.with(|plan| plan.sign_in_fail_next = n);
    }

    /// The application's client secret expires: every later token request answers 401
    /// `invalid_client` with AADSTS7000222, as Entra does (tokens already issued stay valid
    /// until they expire).
    pub fn expire_secret(&self) {
        self.with(|plan| plan.secret_expired = true);
    }

    /// Calls of `operation` (an `operationId`, for example `list_machines_vulnerabilities`)
    /// answer 403 `Forbidden`, as when the application lacks the permission the operation needs.
    pub fn deny(&self, operation: &str) {
        self.with(|plan| plan.denied.push(operation.to_owned()));
    }

    /// Every API call answers 401, even with a token just issued (as when the application's
    /// access was revoked): a client's refresh cannot help.
    pub fn refuse_tokens(&self) {
        self.with(|plan| plan.refuse_tokens = true);
    }

    /// The software vanishes: it is still listed, but calls for its id answer 404.
    pub fn vanish(&self, software_id: &str) {
        self.with(|plan| plan.vanished.push(software_id.to_owned()));
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.with(|plan| *plan = Plan::default());
    }

    fn with<T>(&self, f: impl FnOnce(&mut Plan) -> T) -> T {
        let mut plan = match self.plan.lock() {
            Ok(plan) => plan,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut plan)
    }

    fn next_api_fault(&self) -> (Fault, Duration) {
        self.with(|plan| {
            plan.seen += 1;
            let fault = if plan.drop_next > 0 {
                plan.drop_next -= 1;
                Fault::Drop
            } else if plan.fail_next > 0 {
                plan.fail_next -= 1;
                Fault::Unavailable
            } else if plan.fail_every.is_some_and(|n| plan.seen % n == 0) {
                Fault::Unavailable
            } else {
                Fault::None
            };
            (fault, plan.delay)
        })
    }

    fn sign_in_fails(&self) -> bool {
        self.with(|plan| {
            let fail = plan.sign_in_fail_next > 0;
            plan.sign_in_fail_next = plan.sign_in_fail_next.saturating_sub(1);
            fail
        })
    }

    fn secret_expired(&self) -> bool {
        self.with(|plan| plan.secret_expired)
    }

    fn denied(&self, operation: &str) -> bool {
        self.with(|plan| plan.denied.iter().any(|d| d == operation))
    }

    fn tokens_refused(&self) -> bool {
        self.with(|plan| plan.refuse_tokens)
    }

    fn vanished(&self, id: &str) -> bool {
        self.with(|plan| plan.vanished.iter().any(|v| v == id))
    }
}

/// Everything the server shares between connections.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) estate: Estate,
    base_url: String,
    page_size: usize,
    token_lifetime: Duration,
    budgets: Vec<(u32, Duration)>,
    tokens: Mutex<HashMap<String, Instant>>,
    arrivals: Mutex<VecDeque<Instant>>,
    counts: Mutex<BTreeMap<&'static str, u64>>,
    /// Per operation: calls being answered now, and the most at once so far.
    in_flight: Mutex<BTreeMap<&'static str, (u64, u64)>>,
    pub(crate) issued: AtomicU64,
    pub(crate) throttled: AtomicU64,
    pub(crate) token_requests: AtomicU64,
    tracking: AtomicU64,
    pub(crate) faults: Faults,
    /// `GET /api/Software`'s items, built on first use.
    software_listing: OnceLock<Vec<Value>>,
    /// `machinesVulnerabilities`' items, built on first use.
    rows_listing: OnceLock<Vec<Value>>,
}

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
        page_size: usize,
        token_lifetime: Duration,
        budgets: Vec<(u32, Duration)>,
    ) -> Self {
        Self {
            estate,
            base_url,
            page_size,
            token_lifetime,
            budgets,
            tokens: Mutex::new(HashMap::new()),
            arrivals: Mutex::new(VecDeque::new()),
            counts: Mutex::new(BTreeMap::new()),
            in_flight: Mutex::new(BTreeMap::new()),
            issued: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
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

    /// A token valid for the tenant's token lifetime, as if issued to its application.
    pub(crate) fn issue_token(&self) -> String {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let token = format!("demo.{n}.{:016x}", fastrand::u64(..));
        lock(&self.tokens).insert(token.clone(), Instant::now() + self.token_lifetime);
        token
    }

    /// Takes a place in every budget, or says how long until one frees.
    fn admit(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut arrivals = lock(&self.arrivals);
        let longest = self.budgets.iter().map(|&(_, per)| per).max();
        if let Some(longest) = longest {
            while arrivals
                .front()
                .is_some_and(|&t| now.duration_since(t) >= longest)
            {
                arrivals.pop_front();
            }
        }
        let mut wait = Duration::ZERO;
        for &(calls, per) in &self.budgets {
            let in_window: Vec<&Instant> = arrivals
                .iter()
                .filter(|&&t| now.duration_since(t) < per)
                .collect();
            if in_window.len() >= calls as usize {
                let frees_at = *in_window[in_window.len() - calls as usize] + per;
                wait = wait.max(frees_at.duration_since(now));
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        arrivals.push_back(now);
        Ok(())
    }

    fn tracking_id(&self) -> String {
        let n = self.tracking.fetch_add(1, Ordering::SeqCst) + 1;
        format!("d3m0{n:04x}-7e57-4a11-9c0d-{:012x}", self.estate.seed)
    }
}

type Answer = Response<Full<Bytes>>;

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

/// Accepts connections until `stopped` says so.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    state: std::sync::Arc<State>,
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
                let state = std::sync::Arc::clone(&state);
                async move { handle(&state, request).await }
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
async fn handle(state: &State, request: Request<Incoming>) -> Result<Answer, std::io::Error> {
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
        return Ok(token(state, tenant, &body));
    }

    let Some(operation) = operation_of(&segments) else {
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
    if state.faults.tokens_refused() || !state.authorized(authorization.as_deref()) {
        return Ok(state.error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Authorization has been denied for this request.",
        ));
    }
    if let Err(wait) = state.admit() {
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
    Ok(route(state, operation, &segments, &path, query.as_deref()))
}

/// The `operationId` a path addresses (fixed segments compare without case, as the service's).
fn operation_of(segments: &[&str]) -> Option<&'static str> {
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    Some(match lower.as_slice() {
        ["api", "software"] => "list_software",
        ["api", "software", _] => "get_software_by_id",
        ["api", "software", _, "getmissingkbs"] => "get_missing_kbs_by_software_id",
        ["api", "software", _, "distributions"] => "list_software_version_distribution",
        ["api", "software", _, "vulnerabilities"] => "list_vulnerabilities_by_software",
        ["api", "software", _, "machinereferences"] => "list_machines_by_software",
        ["api", "machines", _, "getmissingkbs"] => "get_missing_kbs_by_machine_id",
        ["api", "vulnerabilities", "machinesvulnerabilities"] => "list_machines_vulnerabilities",
        _ => return None,
    })
}

/// Builds the answer of an authorized, admitted call.
fn route(
    state: &State,
    operation: &str,
    segments: &[&str],
    path: &str,
    raw: Option<&str>,
) -> Answer {
    let estate = &state.estate;
    let fields: &[&str] = match operation {
        "list_software" => &["id", "name", "vendor"],
        "list_machines_vulnerabilities" => &[
            "id",
            "cveId",
            "machineId",
            "fixingKbId",
            "productName",
            "productVersion",
            "severity",
            "productVendor",
        ],
        _ => &[],
    };
    let query = match odata::parse_query(raw, fields) {
        Ok(query) => query,
        Err(message) => return state.error(StatusCode::BAD_REQUEST, "BadRequest", &message),
    };
    let id = segments.get(2).copied().unwrap_or_default();
    let software = || {
        estate
            .software_index(id)
            .filter(|_| !state.faults.vanished(id))
    };
    let not_found = |what: &str| {
        state.error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("{what} {id} was not found."),
        )
    };
    let computed: Vec<Value>;
    let items: &[Value] = match operation {
        // The two whole-tenant listings are built once (the estate never changes) and paged
        // from there; the per-id answers are small and built per request.
        "list_software" => state
            .software_listing
            .get_or_init(|| estate.summaries().iter().map(software_json).collect()),
        "get_software_by_id" => {
            return match software() {
                Some(s) => {
                    let mut body = software_json(&estate.summary(s));
                    body["@odata.context"] =
                        json!(format!("{}/api/$metadata#Software/$entity", state.base_url));
                    ok(&body)
                }
                None => not_found("Software"),
            };
        }
        "get_missing_kbs_by_software_id" => match software() {
            Some(s) => {
                computed = estate.missing_kbs(s).iter().map(missing_kb_json).collect();
                &computed
            }
            None => return not_found("Software"),
        },
        "list_software_version_distribution" => match software() {
            Some(s) => {
                computed = estate
                .distributions(s)
                .into_iter()
                .map(|(version, installations, vulnerabilities)| {
                    json!({"version": version, "installations": installations, "vulnerabilities": vulnerabilities})
                })
                .collect();
                &computed
            }
            None => return not_found("Software"),
        },
        "list_vulnerabilities_by_software" => match software() {
            Some(s) => {
                computed = estate
                    .vulnerabilities(s)
                    .into_iter()
                    .map(|(cve, exposed)| cve_json(cve, exposed))
                    .collect();
                &computed
            }
            None => return not_found("Software"),
        },
        "list_machines_by_software" => match software() {
            Some(s) => {
                computed = estate
                    .machines_with(s)
                    .into_iter()
                    .map(|d| {
                        json!({
                            "id": d.id,
                            "computerDnsName": d.computer_dns_name,
                            "osPlatform": d.os_platform,
                            "rbacGroupName": d.rbac_group_name,
                            "rbacGroupId": d.rbac_group_id,
                        })
                    })
                    .collect();
                &computed
            }
            None => return not_found("Software"),
        },
        "get_missing_kbs_by_machine_id" => match estate.device_index(id) {
            Some(d) => {
                computed = estate
                    .device_missing_kbs(d)
                    .iter()
                    .map(missing_kb_json)
                    .collect();
                &computed
            }
            None => return not_found("Machine"),
        },
        "list_machines_vulnerabilities" => state.rows_listing.get_or_init(|| {
            estate
                .machine_vulnerabilities()
                .into_iter()
                .map(|row| {
                    json!({
                        "id": row.id,
                        "cveId": row.cve_id,
                        "machineId": row.machine_id,
                        "fixingKbId": row.fixing_kb_id,
                        "productName": row.product_name,
                        "productVendor": row.product_vendor,
                        "productVersion": row.product_version,
                        "severity": row.severity,
                    })
                })
                .collect()
        }),
        _ => return state.error(StatusCode::NOT_FOUND, "NotFound", "No such operation."),
    };
    collection(state, items, &query, path, raw)
}

/// One page of a collection, filtered, with a next link when more follow (not with `$top`).
fn collection(
    state: &State,
    items: &[Value],
    query: &Query,
    path: &str,
    raw: Option<&str>,
) -> Answer {
    let items: Vec<&Value> = match &query.filter {
        Some(filter) => items
            .iter()
            .filter(|item| {
                filter.matches(&|field| match item.get(field) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Null) | None => None,
                    Some(other) => Some(other.to_string()),
                })
            })
            .collect(),
        None => items.iter().collect(),
    };
    let total = items.len();
    let start = (query.skip + query.skiptoken.unwrap_or(0)).min(total);
    let (end, next) = match query.top {
        Some(top) => ((start + top).min(total), None),
        None => {
            let end = (start + state.page_size).min(total);
            let next = (end < total).then(|| {
                let kept: Vec<&str> = raw
                    .unwrap_or("")
                    .split('&')
                    .filter(|p| {
                        !p.is_empty()
                            && !p.starts_with("$skiptoken=")
                            && !p.starts_with("%24skiptoken=")
                    })
                    .collect();
                let skiptoken = end - query.skip;
                let mut link = format!("{}{path}?", state.base_url);
                for pair in kept {
                    link.push_str(pair);
                    link.push('&');
                }
                link.push_str(&format!("$skiptoken={skiptoken}"));
                link
            });
            (end, next)
        }
    };
    let mut body = json!({
        "@odata.context": format!("{}/api/$metadata#Collection", state.base_url),
        "@odata.count": total,
        "value": items[start..end],
    });
    if let Some(next) = next {
        body["@odata.nextLink"] = json!(next);
    }
    ok(&body)
}

fn software_json(s: &crate::SoftwareSummary) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "vendor": s.vendor,
        "weaknesses": s.weaknesses,
        "publicExploit": s.public_exploit,
        "activeAlert": s.active_alert,
        "exposedMachines": s.exposed_machines,
        "installedMachines": s.installed_machines,
        "impactScore": s.impact_score,
    })
}

fn missing_kb_json(kb: &crate::MissingKb) -> Value {
    let mut body = json!({
        "id": kb.id,
        "name": kb.name,
        "productsNames": kb.products_names,
        "url": kb.url,
        "machineMissedOn": kb.machine_missed_on,
        "cveAddressed": kb.cve_addressed,
    });
    if let Some(build) = kb.os_build {
        body["osBuild"] = json!(build);
    }
    body
}

fn cve_json(cve: &crate::Cve, exposed: i64) -> Value {
    json!({
        "id": cve.id,
        "name": cve.id,
        "description": format!("Summary: {} vulnerability ({}).", cve.severity, cve.id),
        "severity": cve.severity,
        "cvssV3": cve.cvss,
        "exposedMachines": exposed,
        "publishedOn": cve.published_on,
        "updatedOn": cve.published_on,
        "publicExploit": cve.public_exploit,
        "exploitVerified": cve.exploit_verified,
        "exploitInKit": cve.exploit_in_kit,
        "exploitTypes": if cve.public_exploit { vec!["Remote"] } else { vec![] },
        "exploitUris": [],
        "cveSupportability": "Supported",
        "epss": cve.epss,
        "status": "RemediationRequired",
        "tags": [],
    })
}

impl State {
    fn authorized(&self, header: Option<&str>) -> bool {
        let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return false;
        };
        lock(&self.tokens)
            .get(token)
            .is_some_and(|&expires| Instant::now() < expires)
    }

    fn error(&self, status: StatusCode, code: &str, message: &str) -> Answer {
        let body =
            json!({"error": {"code": code, "message": message, "target": self.tracking_id()}});
        let mut answer = ok(&body);
        *answer.status_mut() = status;
        answer
    }
}

/// The client-credentials grant.
fn token(state: &State, tenant: &str, body: &[u8]) -> Answer {
    state.token_requests.fetch_add(1, Ordering::SeqCst);
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let entra = |status: StatusCode, error: &str, code: u32, description: String| {
        let mut answer = ok(&json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: demo Correlation ID: demo"),
            "error_codes": [code],
            "trace_id": format!("trace-{}", state.tracking_id()),
            "correlation_id": format!("corr-{}", state.tracking_id()),
        }));
        *answer.status_mut() = status;
        answer
    };
    if state.faults.sign_in_fails() {
        return entra(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            50196,
            "The server is temporarily unavailable.".into(),
        );
    }
    if tenant != TENANT_ID {
        return entra(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!("Tenant '{tenant}' not found."),
        );
    }
    if field("grant_type") != "client_credentials" {
        return entra(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.".into(),
        );
    }
    if field("client_id") != CLIENT_ID {
        return entra(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{}' was not found in the directory.",
                field("client_id")
            ),
        );
    }
    if field("client_secret") == CLIENT_SECRET && state.faults.secret_expired() {
        return entra(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{CLIENT_ID}' are expired. Visit the Azure portal to create new keys for your app."
            ),
        );
    }
    if field("client_secret") != CLIENT_SECRET {
        return entra(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.".into(),
        );
    }
    if !field("scope").ends_with("/.default") {
        return entra(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.".into(),
        );
    }
    let token = state.issue_token();
    let lifetime = state.token_lifetime.as_secs();
    ok(&json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    }))
}

fn ok(body: &Value) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from(body.to_string())));
    answer.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    answer
}

fn plain(status: StatusCode, text: &'static str) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *answer.status_mut() = status;
    answer
}
