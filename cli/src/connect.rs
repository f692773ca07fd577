//! From the environment (or `--demo`) to a signed-in client.

use defender_tvm::{Client, ClientBuilder, Cloud};
use defender_tvm_demo::DemoTenant;

use crate::args::Global;
use crate::failure::Failure;

/// The variables the command line reads (the library's, plus a bearer token).
const SIGN_IN: [&str; 3] = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"];
const BEARER: &str = "DEFENDER_TVM_BEARER_TOKEN";

/// A client, and the demo tenant it talks to when `--demo` was given (kept alive with it).
pub struct Connection {
    pub client: Client,
    pub demo: Option<DemoTenant>,
}

/// Signs in as the environment or `--demo` says; never falls back to demo data by itself.
pub async fn connect(
    global: &Global,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Connection, Failure> {
    if global.demo {
        let tenant = DemoTenant::start()
            .await
            .map_err(|e| Failure::Io(format!("cannot start the demo tenant: {e}")))?;
        let client = Client::builder()
            .base_url(tenant.base_url())
            .authority_host(tenant.authority_host())
            .client_secret(
                tenant.tenant_id(),
                tenant.client_id(),
                tenant.client_secret(),
            )
            .build()?;
        return Ok(Connection {
            client,
            demo: Some(tenant),
        });
    }
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let cloud = match global.cloud.clone().or_else(|| set("DEFENDER_TVM_CLOUD")) {
        Some(name) => Some(name.parse::<Cloud>()?),
        None => None,
    };
    let base_url = global
        .base_url
        .clone()
        .or_else(|| set("DEFENDER_TVM_BASE_URL"));
    let any_sign_in = SIGN_IN.iter().any(|name| set(name).is_some());
    let builder = if any_sign_in {
        let overridden = |name: &str| match name {
            "DEFENDER_TVM_CLOUD" | "DEFENDER_TVM_BASE_URL" => None,
            other => set(other),
        };
        ClientBuilder::from_vars(overridden).map_err(|e| {
            Failure::Usage(format!(
                "{e}; or run with --demo to use the embedded demo tenant"
            ))
        })?
    } else if let Some(token) = set(BEARER) {
        Client::builder().bearer_token(token)
    } else {
        return Err(Failure::Usage(format!(
            "no credentials: set {} (an Entra ID application with a client secret), or {BEARER}; \
             or run with --demo to use the embedded demo tenant",
            SIGN_IN.join(", ")
        )));
    };
    let builder = match cloud {
        Some(cloud) => builder.cloud(cloud),
        None => builder,
    };
    let builder = match base_url {
        Some(url) => builder.base_url(url),
        None => builder,
    };
    Ok(Connection {
        client: builder.build()?,
        demo: None,
    })
}
