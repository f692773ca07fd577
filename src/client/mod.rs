//! [`Client`]: one configured connection to the API, shared by all its clones. Its operations
//! are in `api/`; its configuration in [`builder`] and [`from_env`].

pub(crate) mod builder;
pub(crate) mod from_env;
pub(crate) mod hooks;

use std::sync::Arc;

use crate::client::builder::ClientBuilder;
use crate::error::Error;
use crate::generated;
use crate::operations::Budget;
use crate::transport::Transport;

/// A client of the Defender Vulnerability Management API.
///
/// Cheap to clone: clones share one connection pool, one token cache, one rate limit and one
/// configuration. `Send + Sync`, so one client can serve a whole program.
///
/// ```no_run
/// # async fn run() -> Result<(), defender_tvm::Error> {
/// // AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (and optionally DEFENDER_TVM_CLOUD)
/// let client = defender_tvm::Client::from_env()?;
/// for kb in client.missing_kbs("microsoft-_-edge").await? {
///     println!("KB{} is missing on {} devices", kb.id, kb.machine_missed_on);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The API base URL without a trailing `/`.
    base_url: String,
    transport: Arc<Transport>,
    /// The generated client, wired to `transport` through the hooks.
    generated: generated::Client,
}

impl Client {
    pub(crate) fn new(base_url: String, http: reqwest::Client, transport: Arc<Transport>) -> Self {
        let generated = generated::Client::new_with_client(&base_url, http, Arc::clone(&transport));
        Self {
            inner: Arc::new(Inner {
                base_url,
                transport,
                generated,
            }),
        }
    }

    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client that signs in as the environment says (an Entra ID application's client
    /// secret, or a bearer token); see [`ClientBuilder::from_env`] for the variables.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// The API base URL requests go to (without a trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The generated client, for operations or options the facade does not cover.
    ///
    /// Its requests go through the same sending path as the facade's: the token is attached
    /// (only for the API origin) and refreshed after a 401, the rate limit and retries apply.
    /// Its errors are progenitor's raw errors (a sign-in failure is `Error::Custom` with the
    /// message). It holds no per-call state: share it between tasks freely.
    ///
    /// Feature `generated`, outside semver (see the crate's features).
    ///
    /// ```no_run
    /// # async fn run(client: defender_tvm::Client) {
    /// let raw = client.generated();
    /// let page = raw
    ///     .get_missing_kbs_by_software_id()
    ///     .id("microsoft-_-edge")
    ///     .send()
    ///     .await;
    /// # }
    /// ```
    #[cfg(feature = "generated")]
    #[cfg_attr(docsrs, doc(cfg(feature = "generated")))]
    pub fn generated(&self) -> generated::Client {
        self.inner.generated.clone()
    }

    /// The generated client, to build facade requests with.
    pub(crate) fn builders(&self) -> &generated::Client {
        &self.inner.generated
    }

    /// The one sending path.
    pub(crate) fn transport(&self) -> &Arc<Transport> {
        &self.inner.transport
    }

    /// The client's request timeout, if one is set.
    pub(crate) fn request_timeout(&self) -> Option<std::time::Duration> {
        self.inner.transport.request_timeout()
    }

    /// How long calls are waiting on the client-side rate limit now, if they are.
    pub(crate) fn rate_limit_wait(&self) -> Option<std::time::Duration> {
        self.inner.transport.rate_limit_wait()
    }

    /// How long `calls` general calls take at the least under the client-side rate limit.
    pub(crate) fn rate_limit_estimate(&self, calls: u64) -> std::time::Duration {
        self.inner
            .transport
            .rate_limit_estimate(Budget::General, calls)
    }

    /// How long `calls` calls counted against `budget` take at the least.
    pub(crate) fn budget_estimate(&self, budget: Budget, calls: u64) -> std::time::Duration {
        self.inner.transport.rate_limit_estimate(budget, calls)
    }
}
