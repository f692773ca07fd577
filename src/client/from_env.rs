//! Configuration from the environment, with the variables the Azure SDKs use: the one place
//! credentials are resolved from variables (the command line layers its flags over it, the demo
//! tenant answers it with `DemoTenant::var`).

use crate::client::builder::ClientBuilder;
use crate::cloud::Cloud;
use crate::error::Error;

/// The variables [`ClientBuilder::from_env`] reads.
const TENANT: &str = "AZURE_TENANT_ID";
const CLIENT_ID: &str = "AZURE_CLIENT_ID";
const CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
const BEARER_TOKEN: &str = "DEFENDER_TVM_BEARER_TOKEN";
const AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
const CLOUD: &str = "DEFENDER_TVM_CLOUD";
const BASE_URL: &str = "DEFENDER_TVM_BASE_URL";

impl ClientBuilder {
    /// A builder configured from the environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` | sign in with a client secret (all three) |
    /// | `DEFENDER_TVM_BEARER_TOKEN` | or send this token (used when no `AZURE_*` credential variable is set; never renewed) |
    /// | `AZURE_AUTHORITY_HOST` | optional: the sign-in host (default by cloud) |
    /// | `DEFENDER_TVM_CLOUD` | optional: the cloud or region name (see [`Cloud`]), default `global` |
    /// | `DEFENDER_TVM_BASE_URL` | optional: overrides the API base URL |
    ///
    /// Empty variables count as unset. The error names every missing variable; with none of
    /// them set, it names both ways to sign in.
    pub fn from_env() -> Result<ClientBuilder, Error> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (for tests, or
    /// configuration kept elsewhere).
    ///
    /// ```
    /// use std::collections::HashMap;
    ///
    /// let vars = HashMap::from([
    ///     ("AZURE_TENANT_ID", "contoso.onmicrosoft.com"),
    ///     ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000000"),
    ///     ("AZURE_CLIENT_SECRET", "secret"),
    ///     ("DEFENDER_TVM_CLOUD", "eu"),
    /// ]);
    /// let builder = defender_tvm::ClientBuilder::from_vars(|name| vars.get(name).map(|v| v.to_string()));
    /// assert_eq!(builder.unwrap().build().unwrap().base_url(), "https://eu.api.security.microsoft.com");
    /// ```
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<ClientBuilder, Error> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let required = [TENANT, CLIENT_ID, CLIENT_SECRET].map(|name| (name, get(name)));
        let missing: Vec<&str> = required
            .iter()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| *name)
            .collect();
        let none_set = missing.len() == required.len();
        let mut builder = match (required, get(BEARER_TOKEN)) {
            ([(_, Some(tenant)), (_, Some(client_id)), (_, Some(secret))], _) => {
                ClientBuilder::default().client_secret(tenant, client_id, secret)
            }
            // No client-secret variable at all: a bearer token, if there is one.
            (_, Some(token)) if none_set => ClientBuilder::default().bearer_token(token),
            _ if none_set => {
                return Err(Error::invalid_input(format!(
                    "no credentials: {} not set (an Entra ID application with a client secret), \
                     nor {BEARER_TOKEN} (a token you already have)",
                    missing.join(", ")
                )));
            }
            _ => {
                return Err(Error::invalid_input(format!(
                    "{} not set: signing in from the environment needs {TENANT}, {CLIENT_ID} and \
                     {CLIENT_SECRET}",
                    missing.join(", ")
                )));
            }
        };
        if let Some(name) = get(CLOUD) {
            let cloud: Cloud = name
                .parse()
                .map_err(|e| Error::invalid_input(format!("{CLOUD}: {e}")))?;
            builder = builder.cloud(cloud);
        }
        if let Some(host) = get(AUTHORITY_HOST) {
            builder = builder.authority_host(host);
        }
        if let Some(url) = get(BASE_URL) {
            builder = builder.base_url(url);
        }
        Ok(builder)
    }
}
