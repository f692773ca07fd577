//! The client and its builder.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::client_secret::ClientSecretCredential;
use crate::credential::{Credential, StaticToken};
use crate::hooks::CallContext;
use crate::rate_limit::Limiter;
use crate::token_cache::TokenCache;
use crate::types::PublicProductFixDto;
use crate::{Cloud, Error, RateLimit, RetryPolicy, Secret, generated, path_segment};

/// The user agent of every request: this crate's name and version.
const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A client of the Defender Vulnerability Management API.
///
/// Cheap to clone: clones share one connection pool, one token cache and one configuration.
/// `Send + Sync`, so one client can serve a whole program.
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
    pub(crate) shared: Arc<Shared>,
}

/// What all clones of a [`Client`] share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The API base URL without a trailing `/`, as the generated client wants it.
    pub(crate) base_url: String,
    /// Scheme, host and port of the API: the only origin a token is sent to.
    pub(crate) api_origin: url::Origin,
    pub(crate) http: reqwest::Client,
    pub(crate) tokens: TokenCache,
    pub(crate) retry: RetryPolicy,
    pub(crate) limiter: Limiter,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
}

impl Shared {
    /// A transport failure, telling a timeout (and which one) from other failures.
    pub(crate) fn transport_error(&self, e: reqwest::Error) -> Error {
        if !e.is_timeout() {
            return Error::Transport(e);
        }
        let (which, limit) = if e.is_connect() {
            ("connect", self.connect_timeout)
        } else {
            ("request", self.timeout)
        };
        Error::Timeout {
            which,
            limit,
            source: e,
        }
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client that signs in with the environment's Entra ID application; see
    /// [`ClientBuilder::from_env`] for the variables.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// The API base URL requests go to (without a trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The generated client, for operations or options the facade does not cover.
    ///
    /// Its requests go through the same hooks as the facade's: the token is attached (only for
    /// the API origin) and refreshed after a 401. Its errors are progenitor's raw errors.
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
    pub fn generated(&self) -> generated::Client {
        generated::Client::new_with_client(
            &self.shared.base_url,
            self.shared.http.clone(),
            CallContext::new(Arc::clone(&self.shared)),
        )
    }

    /// The missing KBs (security updates) of a software:
    /// `GET /api/Software/{Id}/getmissingkbs`. Every page, collected; see
    /// [`missing_kbs_pages`](Self::missing_kbs_pages) for a stream.
    ///
    /// Needs the application permission `Software.Read.All` (or delegated `Software.Read`).
    /// The id is sent as exactly one path segment, percent-encoded; an id that cannot be (empty,
    /// `.`, `..`, or containing `\`) is refused with [`Error::InvalidInput`] before anything is
    /// sent.
    ///
    /// ```no_run
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// let kbs = client.missing_kbs("microsoft-_-edge").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn missing_kbs(&self, software_id: &str) -> Result<Vec<PublicProductFixDto>, Error> {
        self.missing_kbs_pages(software_id).collect_items().await
    }
}

/// How the client will get its tokens.
#[derive(Debug, Default)]
enum CredentialChoice {
    #[default]
    None,
    Bearer(Secret),
    ClientSecret {
        tenant_id: String,
        client_id: String,
        client_secret: Secret,
    },
    Custom(Arc<dyn Credential>),
}

/// Configures a [`Client`]; start with [`Client::builder`] or [`ClientBuilder::from_env`].
///
/// Choose one credential: [`bearer_token`](Self::bearer_token),
/// [`client_secret`](Self::client_secret), [`credential`](Self::credential) or
/// `azure_credential` (feature `azure`); the last one set wins.
///
/// ```
/// let client = defender_tvm::Client::builder()
///     .cloud(defender_tvm::Cloud::GccHigh)
///     .client_secret("contoso.onmicrosoft.com", "00000000-0000-0000-0000-000000000000", "secret")
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "https://api-gov.securitycenter.microsoft.us");
/// ```
#[derive(Debug, Default)]
pub struct ClientBuilder {
    cloud: Cloud,
    base_url: Option<String>,
    authority_host: Option<String>,
    scope: Option<String>,
    credential: CredentialChoice,
    allow_http: bool,
    connect_timeout: Option<Option<Duration>>,
    timeout: Option<Option<Duration>>,
    retry: RetryPolicy,
    rate_limit: Option<RateLimit>,
}

impl ClientBuilder {
    /// The cloud or region to call (default [`Cloud::Global`]); it also picks the sign-in host
    /// ([`Cloud::authority_host`]) and the token scope ([`Cloud::scope`]).
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = cloud;
        self
    }

    /// Overrides the API base URL of the cloud, for example to call a proxy or a local mock.
    ///
    /// It must be `https://`, or `http://` on a loopback host (`127.0.0.0/8`, `::1`,
    /// `localhost`), unless [`allow_http`](Self::allow_http) is set. No credentials, query or
    /// fragment; a path prefix is kept.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Overrides the Entra ID sign-in host of the cloud (for [`client_secret`](Self::client_secret)),
    /// for example `https://login.microsoftonline.us`. Same rules as [`base_url`](Self::base_url).
    pub fn authority_host(mut self, url: impl Into<String>) -> Self {
        self.authority_host = Some(url.into());
        self
    }

    /// Overrides the OAuth scope tokens are requested for (default [`Cloud::scope`]).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Authenticates every request with this bearer token (without the `Bearer ` prefix). It is
    /// never renewed: when it expires, calls fail with 401.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.credential = CredentialChoice::Bearer(Secret::new(token));
        self
    }

    /// Signs in as an Entra ID application with a client secret (the OAuth 2.0
    /// client-credentials grant at `{authority host}/{tenant}/oauth2/v2.0/token`). Tokens are
    /// cached and renewed before they expire.
    pub fn client_secret(
        mut self,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        self.credential = CredentialChoice::ClientSecret {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        };
        self
    }

    /// Gets tokens from your own [`Credential`], asked for the configured scope. Tokens are
    /// cached and renewed before they expire.
    pub fn credential(mut self, credential: impl Credential + 'static) -> Self {
        self.credential = CredentialChoice::Custom(Arc::new(credential));
        self
    }

    /// Gets tokens from an `azure_core` credential (from `azure_identity`: managed identity,
    /// workload identity, certificates, Azure CLI, ...), asked for the configured scope.
    ///
    /// ```ignore
    /// let credential = azure_identity::ManagedIdentityCredential::new(None)?;
    /// let client = defender_tvm::Client::builder().azure_credential(credential).build()?;
    /// ```
    #[cfg(feature = "azure")]
    pub fn azure_credential(
        self,
        credential: Arc<dyn azure_core::credentials::TokenCredential>,
    ) -> Self {
        self.credential(crate::credential::AzureCredential(credential))
    }

    /// Accepts plain `http://` base and authority URLs on non-loopback hosts. Tokens and secrets
    /// then travel unencrypted: only for trusted networks (a local proxy, a test rig).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// How long to wait for a connection (default 10 s; `None`: no limit). A connection that
    /// fails or times out is retried per the [`RetryPolicy`].
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = Some(timeout.into());
        self
    }

    /// How long one request may take from start to the end of its body (default 60 s; `None`:
    /// no limit). A request that runs out of time is not retried: the call fails with
    /// [`Error::Timeout`].
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = Some(timeout.into());
        self
    }

    /// How failed requests are retried (default [`RetryPolicy::default`]; [`RetryPolicy::none`]
    /// to turn retries off).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The client-side rate limit, shared by all clones of the client (default: the service's
    /// 100 calls a minute and 1,500 an hour; [`RateLimit::unlimited`] to turn it off).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Checks the configuration and builds the client. Sends nothing: the first token is
    /// requested by the first call.
    pub fn build(self) -> Result<Client, Error> {
        let base = self.base_url.as_deref().unwrap_or(self.cloud.base_url());
        let url = check_url("base URL", base, self.allow_http)?;
        let connect_timeout = self
            .connect_timeout
            .unwrap_or(Some(DEFAULT_CONNECT_TIMEOUT));
        let timeout = self.timeout.unwrap_or(Some(DEFAULT_TIMEOUT));
        let mut http = reqwest::Client::builder().user_agent(USER_AGENT);
        if let Some(limit) = connect_timeout {
            http = http.connect_timeout(limit);
        }
        if let Some(limit) = timeout {
            http = http.timeout(limit);
        }
        let http = http.build().map_err(Error::Transport)?;
        let credential: Arc<dyn Credential> = match self.credential {
            CredentialChoice::None => {
                return Err(Error::invalid_input(
                    "no credential: call `bearer_token`, `client_secret`, `credential` or \
                     `azure_credential` on the builder, or use `Client::from_env()`",
                ));
            }
            CredentialChoice::Bearer(token) => {
                if token.secret().trim().is_empty() {
                    return Err(Error::invalid_input("the bearer token is empty"));
                }
                crate::token_cache::bearer_header(&token)?;
                Arc::new(StaticToken(token))
            }
            CredentialChoice::ClientSecret {
                tenant_id,
                client_id,
                client_secret,
            } => {
                path_segment::check("tenant id", &tenant_id)?;
                if client_id.trim().is_empty() || client_secret.secret().is_empty() {
                    return Err(Error::invalid_input(
                        "the client id and the client secret must not be empty",
                    ));
                }
                let host = self
                    .authority_host
                    .as_deref()
                    .unwrap_or(self.cloud.authority_host());
                let host = check_url("authority host", host, self.allow_http)?;
                Arc::new(ClientSecretCredential::new(
                    &host,
                    &tenant_id,
                    client_id,
                    client_secret,
                    http.clone(),
                )?)
            }
            CredentialChoice::Custom(credential) => credential,
        };
        let scope = self.scope.unwrap_or_else(|| self.cloud.scope().to_owned());
        Ok(Client {
            shared: Arc::new(Shared {
                base_url: url.as_str().trim_end_matches('/').to_string(),
                api_origin: url.origin(),
                http,
                tokens: TokenCache::new(credential, scope, url.origin()),
                retry: self.retry,
                limiter: Limiter::new(&self.rate_limit.unwrap_or_default()),
                connect_timeout,
                timeout,
            }),
        })
    }
}

/// Parses and checks a base or authority URL (see [`ClientBuilder::base_url`]).
fn check_url(what: &str, text: &str, allow_http: bool) -> Result<Url, Error> {
    // A URL with `@` may carry credentials: never echo it.
    let shown = if text.contains('@') {
        "(redacted)"
    } else {
        text
    };
    let refuse = |why: &str| Error::invalid_input(format!("{what} {shown:?} {why}"));
    let url = Url::parse(text).map_err(|e| refuse(&format!("is not a URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(format!(
            "the {what} carries credentials; configure them on the builder instead"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("has a query or fragment; give the base only"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_http || is_loopback(&url) => Ok(url),
        "http" => Err(refuse(
            "is plain http on a non-loopback host: tokens would travel unencrypted \
             (use https, or `allow_http(true)` for a trusted network)",
        )),
        _ => Err(refuse("must use https")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}
