//! The client and its builder.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::auth::{AccessToken, Credential};
use crate::hooks::CallContext;
use crate::operation::{GET_MISSING_KBS_BY_SOFTWARE_ID, Operation};
use crate::paging;
use crate::types::PublicProductFixDto;
use crate::{Cloud, Error, generated, path_segment};

/// The user agent of every request: this crate's name and version.
const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A client of the Defender Vulnerability Management API.
///
/// Cheap to clone: clones share one connection pool and one configuration. `Send + Sync`, so one
/// client can serve a whole program.
///
/// ```no_run
/// # async fn run() -> Result<(), defender_tvm::Error> {
/// let client = defender_tvm::Client::builder()
///     .cloud(defender_tvm::Cloud::Eu)
///     .bearer_token(std::env::var("DEFENDER_TVM_BEARER_TOKEN").unwrap_or_default())
///     .build()?;
/// for kb in client.missing_kbs("microsoft-_-edge").await? {
///     println!("KB{} is missing on {} devices", kb.id, kb.machine_missed_on);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    shared: Arc<Shared>,
}

/// What all clones of a [`Client`] share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The API base URL without a trailing `/`, as the generated client wants it.
    pub(crate) base_url: String,
    /// Scheme, host and port of the API: the only origin a token is sent to.
    pub(crate) api_origin: url::Origin,
    pub(crate) http: reqwest::Client,
    pub(crate) credential: Credential,
}

impl Shared {
    /// Sends one request: every request of the crate, generated or not, goes through here, so
    /// the token is attached (only for the API origin) in one place.
    pub(crate) async fn send(
        &self,
        mut request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        self.credential.authorize(&mut request, &self.api_origin);
        self.http.execute(request).await
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API base URL requests go to (without a trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The generated client, for operations or options the facade does not cover.
    ///
    /// Its requests go through the same hooks as the facade's: the token is attached (only for
    /// the API origin). Its errors are progenitor's raw errors.
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
    /// `GET /api/Software/{Id}/getmissingkbs`.
    ///
    /// Needs the application permission `Software.Read.All` (or delegated `Software.Read`).
    /// The id is sent as exactly one path segment, percent-encoded; an id that cannot be (empty,
    /// `.`, `..`, or containing `\`) is refused with [`Error::InvalidInput`] before anything is
    /// sent. Follows `@odata.nextLink` (same API origin only) and returns every item.
    ///
    /// ```no_run
    /// # async fn run(client: defender_tvm::Client) -> Result<(), defender_tvm::Error> {
    /// let kbs = client.missing_kbs("microsoft-_-edge").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn missing_kbs(&self, software_id: &str) -> Result<Vec<PublicProductFixDto>, Error> {
        path_segment::check("software id", software_id)?;
        let operation = &GET_MISSING_KBS_BY_SOFTWARE_ID;
        let call = self.generated();
        let result = call
            .get_missing_kbs_by_software_id()
            .id(software_id)
            .send()
            .await;
        let first = facade_result(result, &call, operation).await?;
        paging::collect(&self.shared, first.into_inner(), operation).await
    }
}

/// Turns what a generated call returned into the facade's result.
async fn facade_result<T>(
    result: Result<
        progenitor_client::ResponseValue<T>,
        progenitor_client::Error<generated::types::ODataError>,
    >,
    call: &generated::Client,
    operation: &'static Operation,
) -> Result<progenitor_client::ResponseValue<T>, Error> {
    use progenitor_client::ClientInfo as _;
    match result {
        Ok(value) => Ok(value),
        Err(e) => Err(Error::from_generated(e, call.inner().last_status(), operation).await),
    }
}

/// Configures a [`Client`]; start with [`Client::builder`].
///
/// ```
/// let client = defender_tvm::Client::builder()
///     .base_url("https://api.security.microsoft.com")
///     .bearer_token("eyJ0eXAi...")
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "https://api.security.microsoft.com");
/// ```
#[derive(Debug, Default)]
pub struct ClientBuilder {
    cloud: Cloud,
    base_url: Option<String>,
    token: Option<AccessToken>,
    allow_http: bool,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
}

impl ClientBuilder {
    /// The cloud or region to call (default [`Cloud::Global`]).
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

    /// Authenticates every request with this bearer token (without the `Bearer ` prefix).
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(AccessToken::new(token));
        self
    }

    /// Accepts a plain `http://` base URL on a non-loopback host. The token then travels
    /// unencrypted: only for trusted networks (a local proxy, a test rig).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// How long to wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long one request may take from start to the end of its body (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let base = self.base_url.as_deref().unwrap_or(self.cloud.base_url());
        let url = check_base_url(base, self.allow_http)?;
        let credential = match &self.token {
            Some(token) => Credential::Static(token.header_value()?),
            None => {
                return Err(Error::invalid_input(
                    "no credential: call `bearer_token(..)` on the builder",
                ));
            }
        };
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
            .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .build()
            .map_err(Error::Transport)?;
        Ok(Client {
            shared: Arc::new(Shared {
                base_url: url.as_str().trim_end_matches('/').to_string(),
                api_origin: url.origin(),
                http,
                credential,
            }),
        })
    }
}

/// Parses and checks a base URL (see [`ClientBuilder::base_url`]).
fn check_base_url(base: &str, allow_http: bool) -> Result<Url, Error> {
    // A URL with `@` may carry credentials: never echo it.
    let shown = if base.contains('@') {
        "(redacted)"
    } else {
        base
    };
    let refuse = |why: &str| Error::invalid_input(format!("base URL {shown:?} {why}"));
    let url = Url::parse(base).map_err(|e| refuse(&format!("is not a URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Say nothing more: the URL itself carries a secret.
        return Err(Error::invalid_input(
            "the base URL carries credentials; pass the token with `bearer_token(..)` instead",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("has a query or fragment; give the base only"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_http || is_loopback(&url) => Ok(url),
        "http" => Err(refuse(
            "is plain http on a non-loopback host: the token would travel unencrypted \
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
