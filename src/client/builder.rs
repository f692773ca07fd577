//! [`ClientBuilder`]: the client's configuration, checked before anything is sent.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::auth::client_secret::ClientSecretCredential;
use crate::auth::credential::Credential;
use crate::auth::credential::StaticToken;
use crate::auth::secret::Secret;
use crate::auth::token_cache::{TokenCache, bearer_header};
use crate::client::Client;
use crate::cloud::Cloud;
use crate::error::Error;
use crate::transport::rate_limit::Limiters;
use crate::transport::rate_limit::RateLimit;
use crate::transport::{Timeouts, Transport};
use crate::wire::path_segment;
use crate::wire::retry::RetryPolicy;

/// The user agent of every request: this crate's name and version.
const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

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
    sign_in_retry: RetryPolicy,
    rate_limit: Option<RateLimit>,
    json_export_rate_limit: Option<RateLimit>,
    file_export_rate_limit: Option<RateLimit>,
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
    pub fn bearer_token(mut self, token: impl Into<Secret>) -> Self {
        self.credential = CredentialChoice::Bearer(token.into());
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
    /// cached and renewed before they expire. Shared (`Arc`), so one credential can serve
    /// several clients.
    pub fn credential(mut self, credential: Arc<dyn Credential>) -> Self {
        self.credential = CredentialChoice::Custom(credential);
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
    #[cfg_attr(docsrs, doc(cfg(feature = "azure")))]
    pub fn azure_credential(
        self,
        credential: Arc<dyn azure_core::credentials::TokenCredential>,
    ) -> Self {
        self.credential(Arc::new(crate::auth::credential::AzureCredential(
            credential,
        )))
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

    /// How failed requests are retried (default [`RetryPolicy::standard`];
    /// [`RetryPolicy::disabled`] to turn retries off).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How the client-secret sign-in retries its token request after a transient failure (429,
    /// 500, 502, 503, 504, a dropped connection, a reply cut short), apart from the API's retries
    /// (default [`RetryPolicy::standard`]: 4 attempts, `Retry-After` honoured up to 120 s;
    /// [`RetryPolicy::disabled`] to turn it off). A wrong or expired secret, an unknown tenant or
    /// application and missing consent are never retried.
    pub fn sign_in_retry(mut self, policy: RetryPolicy) -> Self {
        self.sign_in_retry = policy;
        self
    }

    /// The client-side rate limit of every call but the exports, shared by all clones of the
    /// client (default [`RateLimit::standard`], the service's 100 calls a minute and 1,500 an
    /// hour; [`RateLimit::disabled`] to turn it off). The export calls have budgets of their own
    /// ([`json_export_rate_limit`](Self::json_export_rate_limit),
    /// [`file_export_rate_limit`](Self::file_export_rate_limit)).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// The client-side rate limit of the JSON export calls, a budget of their own (default
    /// [`RateLimit::json_export`]: 30 calls a minute and 1,000 an hour).
    pub fn json_export_rate_limit(mut self, limit: RateLimit) -> Self {
        self.json_export_rate_limit = Some(limit);
        self
    }

    /// The client-side rate limit of the via-files export calls, a budget of their own (default
    /// [`RateLimit::file_export`]: 5 calls a minute and 20 an hour).
    pub fn file_export_rate_limit(mut self, limit: RateLimit) -> Self {
        self.file_export_rate_limit = Some(limit);
        self
    }

    /// Checks the configuration and builds the client. Sends nothing: the first token is
    /// requested by the first call.
    pub fn build(self) -> Result<Client, Error> {
        for (which, limit) in [
            ("general", &self.rate_limit),
            ("JSON export", &self.json_export_rate_limit),
            ("file export", &self.file_export_rate_limit),
        ] {
            if let Some(limit) = limit {
                limit.check(which)?;
            }
        }
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
        let http = http
            .build()
            .map_err(|e| Error::invalid_input(format!("cannot set up the HTTP client: {e}")))?;
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
                bearer_header(&token)?;
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
                    self.sign_in_retry,
                )?)
            }
            CredentialChoice::Custom(credential) => credential,
        };
        let scope = self.scope.unwrap_or_else(|| self.cloud.scope().to_owned());
        let transport = Transport::new(
            http.clone(),
            url.origin(),
            TokenCache::new(credential, scope, url.origin()),
            self.retry,
            Limiters::new(
                &self.rate_limit.unwrap_or_default(),
                &self
                    .json_export_rate_limit
                    .unwrap_or_else(RateLimit::json_export),
                &self
                    .file_export_rate_limit
                    .unwrap_or_else(RateLimit::file_export),
            ),
            Timeouts {
                connect: connect_timeout,
                request: timeout,
            },
        );
        Ok(Client::new(
            url.as_str().trim_end_matches('/').to_owned(),
            http,
            Arc::new(transport),
        ))
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
