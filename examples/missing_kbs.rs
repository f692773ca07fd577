//! The main job: list the security updates (KBs) a software is missing.
//!
//! ```text
//! cargo run --example missing_kbs [SOFTWARE_ID]
//! ```
//!
//! It calls the real service when credentials are in the environment, as `Client::from_env()`
//! reads them: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` (an Entra ID
//! application), or `DEFENDER_TVM_BEARER_TOKEN` (a token as is); `DEFENDER_TVM_CLOUD` picks the
//! cloud and `DEFENDER_TVM_BASE_URL` overrides the API URL. With no credential at all, it starts
//! the embedded demo tenant (`defender-tvm-demo`, a whole offline estate on 127.0.0.1) and says
//! so on its first line, so the job runs on any machine; given credentials, it never uses demo
//! data.

use std::process::ExitCode;

use defender_tvm::{Client, ClientBuilder, types::PublicProductFixDto};
use defender_tvm_demo::DemoTenant;

#[tokio::main]
async fn main() -> ExitCode {
    let software_id = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "microsoft-_-windows_11".to_owned());
    match run(&software_id).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(software_id: &str) -> Result<(), Box<dyn std::error::Error>> {
    let credentials = [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "DEFENDER_TVM_BEARER_TOKEN",
    ];
    let given = credentials
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()));
    let mut demo = None;
    let client = if given {
        Client::from_env()?
    } else {
        let tenant = DemoTenant::start().await?;
        let client = ClientBuilder::from_vars(|name| tenant.var(name))?.build()?;
        demo = Some(tenant);
        client
    };
    let source = match &demo {
        Some(_) => format!(
            "the embedded demo tenant at {} (offline demo data; set AZURE_CLIENT_ID or \
             DEFENDER_TVM_BEARER_TOKEN to call the service)",
            client.base_url()
        ),
        None => format!("the service at {}", client.base_url()),
    };

    println!("Missing KBs of {software_id}, from {source}:\n");
    let kbs = client.missing_kbs(software_id).await?;
    print_table(&kbs);
    Ok(())
}

fn print_table(kbs: &[PublicProductFixDto]) {
    println!(
        "{:<10} {:<32} {:>8} {:>5}  {:<16} URL",
        "KB", "Name", "Devices", "CVEs", "Products"
    );
    for kb in kbs {
        println!(
            "{:<10} {:<32} {:>8} {:>5}  {:<16} {}",
            format!("KB{}", kb.id),
            kb.name.as_deref().unwrap_or("-"),
            kb.machine_missed_on,
            kb.cve_addressed,
            kb.products_names.join(", "),
            kb.url.as_deref().unwrap_or("-"),
        );
    }
    println!("\n{} missing KBs.", kbs.len());
}
