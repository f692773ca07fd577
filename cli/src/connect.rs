//! From the environment (or `--demo`) to a signed-in client: the library's
//! `ClientBuilder::from_vars`, with `--cloud` and `--base-url` standing in for their variables.

use defender_tvm::{Client, ClientBuilder};
use defender_tvm_demo::DemoTenant;

use crate::args::Global;
use crate::error::CliError;

/// A client, and the demo tenant it talks to when `--demo` was given (kept alive with it).
pub struct Connection {
    pub client: Client,
    pub demo: Option<DemoTenant>,
}

/// Signs in as the environment or `--demo` says; never falls back to demo data by itself.
pub async fn connect(
    global: &Global,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Connection, CliError> {
    if global.demo {
        let tenant = DemoTenant::start()
            .await
            .map_err(|e| CliError::Io(format!("cannot start the demo tenant: {e}")))?;
        let client = ClientBuilder::from_vars(|name| tenant.var(name))?.build()?;
        return Ok(Connection {
            client,
            demo: Some(tenant),
        });
    }
    // The library resolves the credentials from the variables; the flags only stand in for
    // the variables they override.
    let lookup = |name: &str| match name {
        "DEFENDER_TVM_CLOUD" => global
            .cloud
            .map(|cloud| cloud.name().to_owned())
            .or_else(|| env(name)),
        "DEFENDER_TVM_BASE_URL" => global.base_url.clone().or_else(|| env(name)),
        _ => env(name),
    };
    let builder = ClientBuilder::from_vars(lookup).map_err(|e| {
        CliError::Usage(format!(
            "{e}; or run with --demo to use the embedded demo tenant"
        ))
    })?;
    Ok(Connection {
        client: builder.build()?,
        demo: None,
    })
}
