//! # defender-tvm-demo
//!
//! A realistic offline Microsoft Defender Vulnerability Management tenant: a local HTTP server
//! on `127.0.0.1` that plays both the Entra ID token endpoint and the Defender API, and a second
//! one (another port) that plays the blob storage the export files are downloaded from, over an
//! estate of devices, software, missing KBs and CVEs generated from a seed ([`Estate`], the
//! ground truth every answer is computed from).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let tenant = defender_tvm_demo::DemoTenant::start().await?;
//! // Point a client at it: base URL, authority host, tenant id, client id and secret.
//! println!("{} {}", tenant.base_url(), tenant.authority_host());
//! assert_eq!(tenant.truth().devices.len(), 500);
//! // The export files are served from another origin.
//! assert_ne!(tenant.files_base_url(), tenant.base_url());
//! # Ok(())
//! # }
//! ```
//!
//! On the wire it behaves like the service where a client can tell:
//! - the client-credentials grant (`/{tenant}/oauth2/v2.0/token`, `.default` scope), with Entra's
//!   error shapes (a wrong secret is `invalid_client`, AADSTS7000215); tokens expire;
//! - every API call needs a token it issued (else 401), and counts against the budgets of its
//!   class, each with its own windows: the general class (100 calls a minute and 1,500 an hour
//!   by default), the JSON exports (30 and 1,000) and the exports via files (5 and 20); over a
//!   class's budget, 429 with `Retry-After`;
//! - OData collections: `@odata.nextLink` paging, `$top` (over 10,000: 400; with `$top`, no next
//!   link), `$skip`, `$filter` with `eq`/`ne`/`and`/`or`; anything unsupported is a 400;
//! - the export assessment APIs over one snapshot ([`DemoTenant::snapshot_time`]):
//!   - JSON exports, `GET /api/machines/SoftwareVulnerabilitiesByMachine`,
//!     `…/SoftwareInventoryByMachine` and `…/SoftwareVulnerabilityChangesByMachine?sinceTime=`
//!     (the 14 days before the snapshot): pages of rows with camelCase keys, `pageSize`
//!     (default 50,000, at most 200,000), next links, `$top` (one page, no next link);
//!   - exports via files, `GET /api/machines/SoftwareVulnerabilitiesExport` and
//!     `…/SoftwareInventoryExport?sasValidHours=` (1 to 6): `exportFiles` (SAS links to the
//!     file origin, fresh signatures on every call) and `generatedTime`;
//!   - the files: GZIP-compressed NDJSON, one row a line with PascalCase keys,
//!     [`rows_per_file`](DemoTenantBuilder::rows_per_file) rows each, generated and compressed
//!     as they are sent (a file of any size costs the server a few 64 KiB chunks); no token
//!     needed (a request that sends one is counted,
//!     [`DemoTenant::file_requests_with_authorization`]); an unknown signature or an expired
//!     link is a 403 `AuthenticationFailed` in storage's XML;
//!   - the rows are the estate's ([`Estate::vulnerability_rows`], [`Estate::inventory_rows`],
//!     [`Estate::changes`]): a row recommends KB `k` exactly where its installation misses `k`;
//! - errors as `{"error": {"code", "message", "target"}}`, 404 `ResourceNotFound` for unknown ids;
//! - faults on demand ([`Faults`]): 503s, slow answers, dropped connections, vanished software,
//!   refused tokens, a denied operation (403), sign-in 503s, an expired client secret; for the
//!   files, 500s, cut downloads, empty bodies, truncated GZIP and expired links.
//!
//! It counts every call it answered, by operation ([`DemoTenant::calls`]), so tests can assert
//! call counts; file downloads are counted apart ([`DemoTenant::file_requests`]).
//!
//! [`timeline`] is the tenant in time (no server): a seeded timeline of daily export
//! snapshots, their change feed and the ground truth of what happened (onboardings,
//! retirements, group moves, Patch Tuesdays and their supersedence, patching, undone fixes),
//! for tests of a store that keeps the history the service forgets.
//!
//! The default estate (500 devices, 150 software) has 30,434 vulnerability rows (21,331 with a
//! CVE, and 9,103 of installed software without one, as the service sends them) and 11,421
//! inventory rows; about 25,000 devices give a million rows with a CVE (1.5 million in all).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Nothing a client sends may panic the server.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod estate;
mod odata;
mod server;
mod time;
pub mod timeline;

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

pub use estate::{
    CHANGE_HISTORY, ChangeStatus, Cve, Device, Estate, Installation, InventoryRow, Kb,
    MachineVulnerability, MissingKb, Size, Software, SoftwareSummary, VulnerabilityChange,
    VulnerabilityRow,
};
pub use odata::MAX_TOP;
pub use server::Faults;
pub use time::Timestamp;

/// The seed of [`DemoTenant::start`].
pub const DEFAULT_SEED: u64 = 20_251_014;

/// A running demo tenant. It stops when dropped.
#[derive(Debug)]
pub struct DemoTenant {
    state: Arc<server::State>,
    base_url: String,
    files_base_url: String,
    stop: Option<tokio::sync::watch::Sender<bool>>,
}

/// Configures a [`DemoTenant`]: seed, size, snapshot time, paging, token lifetime, budgets,
/// export files.
#[derive(Debug, Clone)]
pub struct DemoTenantBuilder {
    seed: u64,
    size: Size,
    snapshot_time: Option<SystemTime>,
    page_size: usize,
    token_lifetime: Duration,
    budgets: Vec<(u32, Duration)>,
    json_export_budgets: Vec<(u32, Duration)>,
    file_export_budgets: Vec<(u32, Duration)>,
    rows_per_file: usize,
    hostile_names: bool,
}

/// The names [`DemoTenantBuilder::hostile_names`] gives: a spreadsheet formula, a script tag,
/// a Markdown table's `|`, a newline, quotes and `&`.
pub const HOSTILE_NAMES: [&str; 5] = [
    "=cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    "a|b",
    "line\nbreak",
    "\"'&",
];

/// Rows in an export file unless [`DemoTenantBuilder::rows_per_file`] says otherwise.
pub const DEFAULT_ROWS_PER_FILE: usize = 100_000;

impl Default for DemoTenantBuilder {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            size: Size::default(),
            snapshot_time: None,
            page_size: MAX_TOP,
            token_lifetime: Duration::from_secs(3599),
            budgets: vec![
                (100, Duration::from_secs(60)),
                (1500, Duration::from_secs(3600)),
            ],
            json_export_budgets: vec![
                (30, Duration::from_secs(60)),
                (1000, Duration::from_secs(3600)),
            ],
            file_export_budgets: vec![
                (5, Duration::from_secs(60)),
                (20, Duration::from_secs(3600)),
            ],
            rows_per_file: DEFAULT_ROWS_PER_FILE,
            hostile_names: false,
        }
    }
}

impl DemoTenantBuilder {
    /// The seed the estate is generated from (the same seed and size give the same estate).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How many devices (default 500).
    pub fn devices(mut self, devices: usize) -> Self {
        self.size.devices = devices;
        self
    }

    /// How many software products (default 150; at least the four OS products).
    pub fn software(mut self, software: usize) -> Self {
        self.size.software = software.max(4);
        self
    }

    /// How many items a page holds when a collection is listed without `$top` (default 10,000,
    /// the service's maximum); smaller values make next links appear on small estates.
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.clamp(1, MAX_TOP);
        self
    }

    /// How long an issued token stays valid (default 3,599 s, as Entra ID).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// When the export snapshot is taken ([`DemoTenant::snapshot_time`], `generatedTime`; to the
    /// second). By default: when the tenant starts, truncated to the hour. Pin it to make the
    /// export rows' times the same from run to run.
    pub fn snapshot_time(mut self, snapshot: SystemTime) -> Self {
        self.snapshot_time = Some(snapshot);
        self
    }

    /// Replaces the API budgets of the general class (every operation but the exports): at
    /// most `calls` calls within any `per` window (add more with
    /// [`and_budget`](Self::and_budget)). The default is the service's: 100 a minute and 1,500
    /// an hour. Scale them for fast tests, for example 100 per second.
    pub fn budget(mut self, calls: u32, per: Duration) -> Self {
        self.budgets = vec![(calls.max(1), per)];
        self
    }

    /// Adds a budget to the general class's.
    pub fn and_budget(mut self, calls: u32, per: Duration) -> Self {
        self.budgets.push((calls.max(1), per));
        self
    }

    /// Replaces the budgets of the JSON exports (`SoftwareVulnerabilitiesByMachine`,
    /// `SoftwareVulnerabilityChangesByMachine`, `SoftwareInventoryByMachine`), counted apart
    /// from the general class's: at most `calls` within any `per`. The default is the
    /// service's: 30 a minute and 1,000 an hour.
    pub fn json_export_budget(mut self, calls: u32, per: Duration) -> Self {
        self.json_export_budgets = vec![(calls.max(1), per)];
        self
    }

    /// Adds a budget to the JSON exports'.
    pub fn and_json_export_budget(mut self, calls: u32, per: Duration) -> Self {
        self.json_export_budgets.push((calls.max(1), per));
        self
    }

    /// Replaces the budgets of the exports via files (`SoftwareVulnerabilitiesExport`,
    /// `SoftwareInventoryExport`), counted apart from the others: at most `calls` within any
    /// `per`. The default is the service's: 5 a minute and 20 an hour. File downloads are not
    /// budgeted.
    pub fn file_export_budget(mut self, calls: u32, per: Duration) -> Self {
        self.file_export_budgets = vec![(calls.max(1), per)];
        self
    }

    /// Adds a budget to the exports via files'.
    pub fn and_file_export_budget(mut self, calls: u32, per: Duration) -> Self {
        self.file_export_budgets.push((calls.max(1), per));
        self
    }

    /// No budgets at all, in any class: never answers 429.
    pub fn unlimited(mut self) -> Self {
        self.budgets.clear();
        self.json_export_budgets.clear();
        self.file_export_budgets.clear();
        self
    }

    /// How many rows an export file holds (default 100,000; at least 1): an export has
    /// `ceil(rows / rows_per_file)` files, and at least one.
    pub fn rows_per_file(mut self, rows: usize) -> Self {
        self.rows_per_file = rows.max(1);
        self
    }

    /// Names some devices, groups, a software and a KB title the way an attacker or a careless
    /// administrator might ([`HOSTILE_NAMES`]: a spreadsheet formula, a script tag, a `|`, a
    /// newline, quotes and `&`), so tests meet them in every output format.
    pub fn hostile_names(mut self) -> Self {
        self.hostile_names = true;
        self
    }

    /// Generates the estate, binds `127.0.0.1:0` twice (the API, the export files) and starts
    /// serving. Needs a Tokio runtime.
    pub async fn start(self) -> io::Result<DemoTenant> {
        let estate = match self.snapshot_time {
            Some(snapshot) => Estate::generate_at(self.seed, self.size, snapshot),
            None => Estate::generate(self.seed, self.size),
        };
        let estate = if self.hostile_names {
            estate.with_hostile_names()
        } else {
            estate
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let files_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let files_base_url = format!("http://{}", files_listener.local_addr()?);
        let state = Arc::new(server::State::new(
            estate,
            base_url.clone(),
            files_base_url.clone(),
            server::Settings {
                page_size: self.page_size,
                token_lifetime: self.token_lifetime,
                budgets: server::Budgets {
                    general: self.budgets,
                    json_export: self.json_export_budgets,
                    file_export: self.file_export_budgets,
                },
                rows_per_file: self.rows_per_file,
            },
        ));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(server::serve(
            listener,
            server::Origin::Api,
            Arc::clone(&state),
            stopped.clone(),
        ));
        tokio::spawn(server::serve(
            files_listener,
            server::Origin::Files,
            Arc::clone(&state),
            stopped,
        ));
        Ok(DemoTenant {
            state,
            base_url,
            files_base_url,
            stop: Some(stop),
        })
    }
}

impl DemoTenant {
    /// A tenant with the default seed and size (500 devices, 150 software), the service's
    /// budgets and paging.
    pub async fn start() -> io::Result<DemoTenant> {
        DemoTenantBuilder::default().start().await
    }

    /// Starts configuring a tenant.
    pub fn builder() -> DemoTenantBuilder {
        DemoTenantBuilder::default()
    }

    /// The API base URL, for example `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The base URL of the export files' origin (another port on 127.0.0.1, standing for blob
    /// storage), for example `http://127.0.0.1:40999`. The export calls' file links point there;
    /// it needs no token (the link's signature is the credential) and stops with the tenant.
    pub fn files_base_url(&self) -> &str {
        &self.files_base_url
    }

    /// When the export snapshot was taken: `generatedTime`. Every export row's
    /// `lastSeenTimestamp` is before it, and the change history covers the 14 days before it.
    pub fn snapshot_time(&self) -> SystemTime {
        self.state.estate.snapshot_time()
    }

    /// The snapshot time as the export calls write `generatedTime`: `2026-11-30T12:00:00Z`.
    pub fn generated_time(&self) -> String {
        self.state.estate.generated_time()
    }

    /// The Entra ID authority host (the same server).
    pub fn authority_host(&self) -> &str {
        &self.base_url
    }

    /// The tenant id to sign in to.
    pub fn tenant_id(&self) -> &str {
        server::TENANT_ID
    }

    /// The application (client) id.
    pub fn client_id(&self) -> &str {
        server::CLIENT_ID
    }

    /// The application's client secret.
    pub fn client_secret(&self) -> &str {
        server::CLIENT_SECRET
    }

    /// The value of an environment variable that signs a client in to this tenant, by the names
    /// the Azure SDKs and `defender_tvm::ClientBuilder::from_vars` read (`AZURE_TENANT_ID`,
    /// `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_AUTHORITY_HOST`, `DEFENDER_TVM_BASE_URL`);
    /// `None` for any other name. One call wires a client to the tenant:
    ///
    /// ```text
    /// let client = ClientBuilder::from_vars(|name| tenant.var(name))?.build()?;
    /// ```
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars()
            .into_iter()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| value)
    }

    /// Every variable [`var`](Self::var) answers, with its value (to set them in a child
    /// process's environment, for example).
    pub fn vars(&self) -> [(&'static str, String); 5] {
        [
            ("AZURE_TENANT_ID", server::TENANT_ID.to_owned()),
            ("AZURE_CLIENT_ID", server::CLIENT_ID.to_owned()),
            ("AZURE_CLIENT_SECRET", server::CLIENT_SECRET.to_owned()),
            ("AZURE_AUTHORITY_HOST", self.base_url.clone()),
            ("DEFENDER_TVM_BASE_URL", self.base_url.clone()),
        ]
    }

    /// The estate the tenant serves: the ground truth to compare answers with.
    pub fn truth(&self) -> &Estate {
        &self.state.estate
    }

    /// Faults to inject into the next answers.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// How many calls of `operation` (an `operationId`, for example
    /// `get_missing_kbs_by_software_id`) the tenant answered, whatever the status, counted when
    /// they arrive (a slowed answer is counted before its delay; a dropped connection is not
    /// counted).
    pub fn calls(&self, operation: &str) -> u64 {
        self.state.calls(operation)
    }

    /// How many API calls the tenant answered in all (token requests not included).
    pub fn total_calls(&self) -> u64 {
        self.state.total_calls()
    }

    /// The most calls of `operation` the tenant was answering at once so far (a call counts from
    /// its arrival until its answer is sent or its connection closes), to check a client's
    /// concurrency.
    pub fn peak_in_flight(&self, operation: &str) -> u64 {
        self.state.peak_in_flight(operation)
    }

    /// A token the API accepts, as if the token endpoint had issued it to the tenant's
    /// application (valid for the tenant's token lifetime): for clients given a bearer token.
    pub fn issue_token(&self) -> String {
        self.state.tokens.issue()
    }

    /// How many API calls were answered 429 because a budget was spent.
    pub fn throttled(&self) -> u64 {
        self.state.throttled.load(Ordering::SeqCst)
    }

    /// How many token requests the token endpoint answered (successful or not).
    pub fn token_requests(&self) -> u64 {
        self.state.tokens.requests.load(Ordering::SeqCst)
    }

    /// How many tokens it issued.
    pub fn tokens_issued(&self) -> u64 {
        self.state.tokens.issued.load(Ordering::SeqCst)
    }

    /// How many requests the export files' origin answered, whatever their outcome (file
    /// downloads are not API calls: they are not in [`calls`](Self::calls) nor
    /// [`total_calls`](Self::total_calls), and no budget counts them).
    pub fn file_requests(&self) -> u64 {
        self.state.file_requests.load(Ordering::SeqCst)
    }

    /// How many requests to the export files' origin carried an `Authorization` header (a
    /// client should never send its token there: the link is the credential).
    pub fn file_requests_with_authorization(&self) -> u64 {
        self.state
            .file_requests_with_authorization
            .load(Ordering::SeqCst)
    }
}

impl Drop for DemoTenant {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}
