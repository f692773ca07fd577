//! Many tenants at once, for managed service providers and groups: named
//! [`Client`]s, each with its own credential, cloud, token cache and budgets (the
//! service's budgets are per application and tenant, so N tenants can be asked N times as fast as
//! one), and jobs run across them with bounded concurrency, every result tagged with its tenant.
//! A tenant that fails is that tenant's failure; the others finish.
//!
//! - [`Tenants`]: the named clients; [`Tenants::run`] runs any job on each;
//!   [`Tenants::report`] builds the estate report of each tenant and combines them.
//! - [`CombinedReport`]: each tenant's [`TenantReport`] (its report, or its error), and each KB
//!   across tenants ([`CrossTenantKb`]).
//! - [`Tenants::from_file`] (feature `tenants`): the tenants from a TOML file.
//!
//! ## The tenants file
//!
//! ```toml
//! [[tenant]]
//! name = "contoso"
//! tenant_id = "00000000-0000-0000-0000-000000000001"
//! client_id = "00000000-0000-0000-0000-0000000000aa"
//! client_secret_env = "CONTOSO_SECRET"      # or client_secret_file = "/run/secrets/contoso"
//! cloud = "europe"                           # optional (DEFENDER_TVM_CLOUD's names)
//! base_url = "https://eu.api.security.microsoft.com"   # optional
//! authority_host = "https://login.microsoftonline.us"  # optional (sovereign clouds)
//! # or, instead of an application: bearer_token_env = "CONTOSO_TOKEN"
//! ```
//!
//! A secret written in the file (`client_secret = "…"`) is refused unless the file says
//! `allow_inline_secrets = true` at its top; a secret file that others may read gets a warning.
//! Each tenant's client is made by the one resolution of credentials
//! ([`ClientBuilder::from_vars`](crate::ClientBuilder::from_vars)), fed the tenant's values.
//! Errors name the file, the line and the tenant, never a secret: a value of the wrong type is
//! not quoted, and a `client_secret_env` or `bearer_token_env` that is not a variable's name (a
//! pasted secret) is refused without being shown. A tenant's name becomes part of file names (a
//! checkpoint per tenant), so a name with `/`, `\`, `..`, a control character or a leading `.`
//! is refused.

mod combined;
#[cfg(feature = "tenants")]
mod file;

use std::future::Future;
use std::sync::Mutex;

use futures::stream::{self, StreamExt};

pub use combined::{CombinedReport, CrossTenantKb, TenantReport};
#[cfg(feature = "tenants")]
pub use file::TenantsFile;

use crate::client::Client;
use crate::error::Error;
use crate::report::{ReportEvent, ReportOptions};

/// One named tenant: its client.
#[derive(Debug, Clone)]
pub struct Tenant {
    name: String,
    client: Client,
}

impl Tenant {
    /// Its name (as the caller or the file gave it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its client (own credential, token cache and budgets).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// A set of named tenants, in the order they were added.
///
/// ```no_run
/// # async fn run(contoso: defender_tvm::Client, fabrikam: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
/// use defender_tvm::{report::ReportOptions, tenants::Tenants};
///
/// let tenants = Tenants::new().with("contoso", contoso)?.with("fabrikam", fabrikam)?;
/// let combined = tenants
///     .report(4, |_tenant| ReportOptions::new(), |_tenant, _event| {})
///     .await;
/// for kb in combined.kbs.iter().take(10) {
///     println!("KB{} in {} tenants, on {} devices", kb.id, kb.tenants.len(), kb.devices);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Tenants {
    tenants: Vec<Tenant>,
}

/// What a job gave for one tenant.
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantOutcome<T> {
    /// The tenant's name.
    pub tenant: String,
    /// Its result, or its failure.
    pub result: Result<T, Error>,
}

/// Whether `name` may name a tenant: not blank, and safe as part of a file name (a tenant's
/// checkpoint is `FILE.NAME`, which must stay in `FILE`'s folder).
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a tenant's name must not be blank".to_owned());
    }
    let why = if name.contains(['/', '\\']) {
        "a / or \\"
    } else if name.contains("..") {
        "\"..\""
    } else if name.chars().any(char::is_control) {
        "a control character (a NUL, a newline, ...)"
    } else if name.starts_with('.') {
        "a leading \".\""
    } else {
        return Ok(());
    };
    Err(format!(
        "the tenant name {name:?} holds {why}: a name becomes part of a file name (a checkpoint \
         per tenant), so it must not"
    ))
}

impl Tenants {
    /// No tenant yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tenant. A name must be unique, not blank, and fit in a file name (it names a
    /// tenant's checkpoint): no `/`, `\`, `..`, control character or leading `.`.
    pub fn with(mut self, name: impl Into<String>, client: Client) -> Result<Self, Error> {
        let name = name.into();
        check_name(&name).map_err(Error::invalid_input)?;
        if self.tenants.iter().any(|t| t.name == name) {
            return Err(Error::invalid_input(format!(
                "two tenants are named {name:?}"
            )));
        }
        self.tenants.push(Tenant { name, client });
        Ok(self)
    }

    /// Only the tenants named, in their order here; a name that is not one is an error.
    pub fn select(self, names: &[String]) -> Result<Self, Error> {
        if names.is_empty() {
            return Ok(self);
        }
        if let Some(unknown) = names
            .iter()
            .find(|n| !self.tenants.iter().any(|t| &t.name == *n))
        {
            let known: Vec<&str> = self.tenants.iter().map(|t| t.name.as_str()).collect();
            return Err(Error::invalid_input(format!(
                "no tenant is named {unknown:?} (the tenants: {})",
                known.join(", ")
            )));
        }
        Ok(Self {
            tenants: self
                .tenants
                .into_iter()
                .filter(|t| names.contains(&t.name))
                .collect(),
        })
    }

    /// The tenants, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Tenant> {
        self.tenants.iter()
    }

    /// How many tenants there are.
    pub fn len(&self) -> usize {
        self.tenants.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    /// Runs `job` for every tenant, `concurrency` tenants at a time (at least 1); the outcomes
    /// come in the tenants' order, each tagged with its tenant. A failing tenant does not stop
    /// the others.
    pub async fn run<'a, T, F, Fut>(&'a self, concurrency: usize, job: F) -> Vec<TenantOutcome<T>>
    where
        F: Fn(&'a Tenant) -> Fut,
        Fut: Future<Output = Result<T, Error>> + 'a,
    {
        // The futures made first (futures do nothing until polled), so that no closure over a
        // borrowed tenant lives in the stream: the whole stays `Send` when the jobs are.
        let jobs: Vec<_> = self
            .tenants
            .iter()
            .enumerate()
            .map(|(i, tenant)| {
                let job = job(tenant);
                let name = tenant.name.clone();
                async move {
                    let result = job.await;
                    (
                        i,
                        TenantOutcome {
                            tenant: name,
                            result,
                        },
                    )
                }
            })
            .collect();
        let mut outcomes: Vec<(usize, TenantOutcome<T>)> = stream::iter(jobs)
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        outcomes.sort_by_key(|(i, _)| *i);
        outcomes.into_iter().map(|(_, outcome)| outcome).collect()
    }

    /// The estate report of every tenant (`options` gives each its own, for example to resume
    /// its kept results), `concurrency` tenants at a time, each under its own budgets, combined:
    /// per tenant, and per KB across tenants. Events come tagged with their tenant.
    pub async fn report(
        &self,
        concurrency: usize,
        options: impl Fn(&str) -> ReportOptions,
        on_event: impl FnMut(&str, ReportEvent<'_>),
    ) -> CombinedReport {
        // Every tenant's run calls the one callback, one event at a time (a lock no await
        // holds; the future stays `Send` when the callback is).
        let on_event = Mutex::new(on_event);
        let on_event = &on_event;
        let options = &options;
        let outcomes = self
            .run(concurrency, |tenant| async move {
                let plan = tenant
                    .client
                    .plan_missing_kbs_report(options(&tenant.name))
                    .await?;
                plan.run(|event| {
                    if let Ok(mut f) = on_event.lock() {
                        f(&tenant.name, event);
                    }
                })
                .await
            })
            .await;
        CombinedReport::from_outcomes(outcomes)
    }
}
