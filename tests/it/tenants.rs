//! Many tenants at once, on three demo tenants of different seeds and sizes, each with a scaled
//! budget: each tenant's calls stay within its own budget, the combined report is the union of
//! the single-tenant reports, a tenant with a wrong secret fails alone, an interrupted run
//! resumes per tenant; the tenants file builds the same clients and refuses what it must.

use std::collections::BTreeMap;
use std::time::Duration;

use defender_tvm::report::SourceChoice;
use defender_tvm::{
    Client, ClientBuilder, RateLimit, RetryPolicy,
    report::{Report, ReportEvent, ReportOptions, SoftwareResult},
    tenants::Tenants,
};
use defender_tvm_demo::DemoTenant;

const PER: Duration = Duration::from_millis(500);

async fn three() -> Vec<DemoTenant> {
    let mut tenants = Vec::new();
    for (seed, devices, software) in [(11, 60, 40), (22, 90, 50), (33, 40, 30)] {
        tenants.push(
            DemoTenant::builder()
                .seed(seed)
                .devices(devices)
                .software(software)
                .budget(20, PER)
                .start()
                .await
                .unwrap(),
        );
    }
    tenants
}

fn client(tenant: &DemoTenant, secret: Option<&str>) -> Client {
    ClientBuilder::from_vars(|name| match (name, secret) {
        ("AZURE_CLIENT_SECRET", Some(secret)) => Some(secret.to_owned()),
        _ => tenant.var(name),
    })
    .unwrap()
    .rate_limit(RateLimit::new(20, PER))
    .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(5)))
    .build()
    .unwrap()
}

fn calls() -> ReportOptions {
    ReportOptions::new().source(SourceChoice::Calls)
}

/// Per KB: id → (devices, CVEs).
fn kbs(report: &Report) -> BTreeMap<String, (i64, i64)> {
    report
        .kbs
        .iter()
        .map(|kb| (kb.id.clone(), (kb.devices, kb.cves_addressed)))
        .collect()
}

#[tokio::test]
async fn the_combined_report_is_the_union_of_each_tenants_own_within_each_budget() {
    let demo = three().await;
    let names = ["north", "south", "east"];
    let mut tenants = Tenants::new();
    for (name, tenant) in names.iter().zip(&demo) {
        tenants = tenants.with(*name, client(tenant, None)).unwrap();
    }

    let mut events: BTreeMap<String, usize> = BTreeMap::new();
    let combined = tenants
        .report(
            3,
            |_| calls(),
            |tenant, event| {
                if let ReportEvent::SoftwareDone { .. } = event {
                    *events.entry(tenant.to_owned()).or_default() += 1;
                }
            },
        )
        .await;

    assert!(!combined.partial());
    assert_eq!(
        combined
            .tenants
            .iter()
            .map(|t| t.tenant.as_str())
            .collect::<Vec<_>>(),
        names
    );
    for tenant in &demo {
        assert_eq!(tenant.throttled(), 0, "each tenant within its own budget");
    }
    // Each tenant's part equals its own report, run alone.
    let mut alone = Vec::new();
    for (part, tenant) in combined.tenants.iter().zip(&demo) {
        let own = crate::common::report_of(&client(tenant, None), calls()).await;
        assert_eq!(
            kbs(part.report.as_ref().unwrap()),
            kbs(&own),
            "{}",
            part.tenant
        );
        assert_eq!(
            events[&part.tenant], own.software_count,
            "events tagged per tenant"
        );
        alone.push((part.tenant.clone(), own));
    }
    // Across tenants: each KB in the tenants whose own report has it, its devices summed.
    let mut want: BTreeMap<String, (Vec<String>, i64)> = BTreeMap::new();
    for (name, own) in &alone {
        for kb in &own.kbs {
            let entry = want.entry(kb.id.clone()).or_default();
            entry.0.push(name.clone());
            entry.1 += kb.devices;
        }
    }
    let got: BTreeMap<String, (Vec<String>, i64)> = combined
        .kbs
        .iter()
        .map(|kb| (kb.id.clone(), (kb.tenants.clone(), kb.devices)))
        .collect();
    assert_eq!(got, want);
    // Exact only where every tenant's count is (calls without devices: none is); an exploit
    // where any tenant has one.
    assert!(combined.kbs.iter().all(|kb| !kb.devices_exact));
    for kb in &combined.kbs {
        let any = alone
            .iter()
            .flat_map(|(_, own)| &own.kbs)
            .any(|k| k.id == kb.id && k.public_exploit);
        assert_eq!(kb.public_exploit, any, "KB{}", kb.id);
    }
    assert!(combined.kbs.iter().any(|kb| kb.public_exploit));
    let counts: Vec<usize> = combined.kbs.iter().map(|kb| kb.tenants.len()).collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "most tenants first"
    );
}

#[tokio::test]
async fn a_tenant_with_a_wrong_secret_fails_alone() {
    let demo = three().await;
    let tenants = Tenants::new()
        .with("north", client(&demo[0], None))
        .unwrap()
        .with("south", client(&demo[1], Some("not-the-secret")))
        .unwrap()
        .with("east", client(&demo[2], None))
        .unwrap();

    let combined = tenants.report(3, |_| calls(), |_, _| {}).await;

    let failed: Vec<&str> = combined.failed().map(|t| t.tenant.as_str()).collect();
    assert_eq!(failed, ["south"]);
    let error = combined.tenants[1].error().unwrap();
    assert!(
        matches!(error, defender_tvm::Error::Auth(_)),
        "the typed error: {error:?}"
    );
    let shown = format!(
        "{error} {error:?} {}",
        serde_json::to_string(&combined).unwrap()
    );
    assert!(!shown.contains("not-the-secret"), "{shown}");
    assert!(combined.tenants[0].report.is_ok() && combined.tenants[2].report.is_ok());
    assert!(combined.partial());
    assert_eq!(demo[1].calls("get_missing_kbs_by_software_id"), 0);
}

#[tokio::test]
async fn an_interrupted_run_resumes_each_tenant_where_it_stopped() {
    let demo = three().await;
    let names = ["north", "south", "east"];
    let mut tenants = Tenants::new();
    for (name, tenant) in names.iter().zip(&demo) {
        tenants = tenants.with(*name, client(tenant, None)).unwrap();
    }
    // A first run, stopped: keep the first half of each tenant's finished software.
    let mut kept: BTreeMap<String, Vec<SoftwareResult>> = BTreeMap::new();
    let first = tenants
        .report(
            3,
            |_| calls(),
            |tenant, event| {
                if let ReportEvent::SoftwareDone { result, .. } = event {
                    kept.entry(tenant.to_owned())
                        .or_default()
                        .push(result.clone());
                }
            },
        )
        .await;
    for results in kept.values_mut() {
        results.truncate(results.len() / 2);
    }
    let before: Vec<u64> = demo
        .iter()
        .map(|t| t.calls("get_missing_kbs_by_software_id"))
        .collect();

    let resumed = tenants
        .report(
            3,
            |tenant| calls().resume(kept.get(tenant).cloned().unwrap_or_default()),
            |_, _| {},
        )
        .await;

    for (i, tenant) in demo.iter().enumerate() {
        let asked = tenant.calls("get_missing_kbs_by_software_id") - before[i];
        let report = first.tenants[i].report.as_ref().unwrap();
        let kept_here = kept[names[i]].len() as u64;
        assert_eq!(
            asked,
            report.software_count as u64 - kept_here,
            "{}",
            names[i]
        );
        assert_eq!(
            kbs(resumed.tenants[i].report.as_ref().unwrap()),
            kbs(report),
            "{}",
            names[i]
        );
    }
}

#[tokio::test]
async fn any_job_runs_across_tenants_each_result_tagged() {
    let demo = three().await;
    let tenants = Tenants::new()
        .with("north", client(&demo[0], None))
        .unwrap()
        .with("south", client(&demo[1], None))
        .unwrap();
    let outcomes = tenants
        .run(2, |tenant| async move {
            let software = tenant
                .client()
                .software(defender_tvm::SoftwareQuery::new())
                .await?;
            Ok(software.len())
        })
        .await;
    let got: Vec<(&str, usize)> = outcomes
        .iter()
        .map(|o| (o.tenant.as_str(), *o.result.as_ref().unwrap()))
        .collect();
    assert_eq!(got, [("north", 40), ("south", 50)]);
    assert_eq!((tenants.len(), tenants.is_empty()), (2, false));
    assert!(Tenants::new().is_empty());
    assert!(tenants.clone().select(&["west".into()]).is_err());
    let picked = tenants.select(&["south".into()]).unwrap();
    assert_eq!(
        picked.iter().map(|t| t.name()).collect::<Vec<_>>(),
        ["south"]
    );
}

/// A folder of a test's own under the system's temporary folder (unique to the process and the
/// call), removed when dropped: when the test ends, passed or failed.
struct Folder(std::path::PathBuf);

impl Folder {
    fn new(test: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "defender-tvm-{test}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn entry(name: &str, tenant: &DemoTenant, secret: &str) -> String {
    format!(
        "[[tenant]]\nname = \"{name}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\n{secret}\n\
         base_url = \"{}\"\nauthority_host = \"{}\"\n\n",
        tenant.var("AZURE_TENANT_ID").unwrap(),
        tenant.var("AZURE_CLIENT_ID").unwrap(),
        tenant.base_url(),
        tenant.base_url(),
    )
}

#[tokio::test]
async fn the_tenants_file_builds_each_client_and_refuses_what_it_must() {
    let demo = three().await;
    let folder = Folder::new("tenants-file");
    let dir = folder.0.clone();
    let secret = demo[0].var("AZURE_CLIENT_SECRET").unwrap();
    let secret_file = write(&dir, "secret", &format!("{secret}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let text = format!(
        "{}{}",
        entry("north", &demo[0], "client_secret_env = \"NORTH_SECRET\""),
        entry(
            "south",
            &demo[1],
            &format!("client_secret_file = \"{}\"", secret_file.display())
        ),
    );
    let path = write(&dir, "tenants.toml", &text);
    let env = |name: &str| (name == "NORTH_SECRET").then(|| secret.clone());

    let file = Tenants::from_file(&path, env).unwrap();
    let names: Vec<&str> = file.tenants.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["north", "south"]);
    #[cfg(unix)]
    assert!(
        file.warnings.len() == 1
            && file.warnings[0].contains("line 9 (tenant \"south\")")
            && file.warnings[0].contains("read by others"),
        "{:?}",
        file.warnings
    );
    let outcomes = file
        .tenants
        .run(2, |tenant| async move {
            Ok(tenant
                .client()
                .software(defender_tvm::SoftwareQuery::new())
                .await?
                .len())
        })
        .await;
    assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");

    // What a file may not do, each named by file, line and tenant, never showing a secret.
    for (text, says) in [
        (
            entry("north", &demo[0], "client_secret = \"s3cr3t-inline\""),
            "line 1 (tenant \"north\"): a client secret is written in the file",
        ),
        (
            entry("north", &demo[0], "client_secret_env = \"UNSET_SECRET\""),
            "line 1 (tenant \"north\"): client_secret_env names UNSET_SECRET, which is not set",
        ),
        (
            format!(
                "{}{}",
                entry("north", &demo[0], "client_secret_env = \"NORTH_SECRET\""),
                entry("north", &demo[1], "client_secret_env = \"NORTH_SECRET\"")
            ),
            "line 9: a tenant named \"north\" is already at line 1",
        ),
        (
            "[[tenant]]\nname = \"x\"\nclient_secrett = \"s3cr3t-typo\"\n".to_owned(),
            "line 3",
        ),
        (String::new(), "no [[tenant]]"),
    ] {
        let path = write(&dir, "bad.toml", &text);
        let err = Tenants::from_file(&path, env).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
    // A bearer token instead of an application; a private secret file gets no warning; the
    // names alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let token = demo[1].issue_token();
    let text = format!(
        "[[tenant]]\nname = \"bearer\"\nbearer_token_env = \"TOKEN\"\nbase_url = \"{}\"\n\n{}",
        demo[1].base_url(),
        entry(
            "private",
            &demo[0],
            &format!("client_secret_file = \"{}\"", secret_file.display())
        )
    );
    let path = write(&dir, "more.toml", &text);
    let with_token = |name: &str| (name == "TOKEN").then(|| token.clone());
    let more = Tenants::from_file(&path, with_token).unwrap();
    assert!(more.warnings.is_empty(), "{:?}", more.warnings);
    let outcomes = more
        .tenants
        .run(2, |tenant| async move {
            Ok(tenant
                .client()
                .software(defender_tvm::SoftwareQuery::new())
                .await?
                .len())
        })
        .await;
    assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
    assert_eq!(
        defender_tvm::tenants::TenantsFile::names(&path).unwrap(),
        ["bearer", "private"]
    );
    let blank = |name: &str| (name == "TOKEN").then(|| "  ".to_owned());
    let err = Tenants::from_file(&path, blank).unwrap_err().to_string();
    assert!(
        err.contains("line 1 (tenant \"bearer\"): bearer_token_env names TOKEN, which is not set"),
        "{err}"
    );
    let both = entry(
        "north",
        &demo[0],
        "client_secret_env = \"NORTH_SECRET\"\nclient_secret_file = \"/x\"",
    );
    let path = write(&dir, "both.toml", &both);
    let err = Tenants::from_file(&path, env).unwrap_err().to_string();
    assert!(
        err.contains("give one of client_secret_env, client_secret_file"),
        "{err}"
    );

    // Allowed inline when the file says so.
    let allowed = format!(
        "allow_inline_secrets = true\n{}",
        entry("north", &demo[0], &format!("client_secret = \"{secret}\""))
    );
    let path = write(&dir, "inline.toml", &allowed);
    assert_eq!(Tenants::from_file(&path, env).unwrap().tenants.len(), 1);
}

#[test]
fn names_are_unique_and_not_blank() {
    let client = || Client::builder().bearer_token("t").build().unwrap();
    assert!(Tenants::new().with(" ", client()).is_err());
    assert!(
        Tenants::new()
            .with("a", client())
            .unwrap()
            .with("a", client())
            .is_err()
    );
}

#[test]
fn running_across_tenants_can_be_spawned() {
    fn send<T: Send>(_: &T) {}
    let tenants = Tenants::new()
        .with("a", Client::builder().bearer_token("t").build().unwrap())
        .unwrap();
    send(&tenants.report(1, |_| ReportOptions::new(), |_, _| {}));
    send(&tenants.run(1, |tenant| async move {
        tenant
            .client()
            .software(defender_tvm::SoftwareQuery::new())
            .await
    }));
}
