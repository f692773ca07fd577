//! Many tenants from the command line: `--tenants FILE report` tags every row and record with
//! its tenant, equal to each tenant's own report; a tenant with a wrong secret fails alone with
//! exit 4; a checkpoint per tenant resumes each; `tenants check` names a missing permission;
//! `--demo-tenants N` runs offline; the HTML page has a tenant summary and a tenants × KBs table.

use std::collections::BTreeMap;

use defender_tvm::{ReportOptions, Source};
use defender_tvm_demo::DemoTenant;
use serde_json::Value;

use crate::{command, library_client, run, tempdir, text};

async fn demo(seed: u64) -> DemoTenant {
    DemoTenant::builder()
        .seed(seed)
        .devices(80)
        .software(50)
        .unlimited()
        .start()
        .await
        .unwrap()
}

/// A tenants file for `tenants` (name, tenant, secret variable), and the variables it names.
fn file(tenants: &[(&str, &DemoTenant, &str)]) -> std::path::PathBuf {
    let mut text = String::new();
    for (name, tenant, secret_env) in tenants {
        text.push_str(&format!(
            "[[tenant]]\nname = \"{name}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\n\
             client_secret_env = \"{secret_env}\"\nbase_url = \"{}\"\nauthority_host = \"{}\"\n\n",
            tenant.var("AZURE_TENANT_ID").unwrap(),
            tenant.var("AZURE_CLIENT_ID").unwrap(),
            tenant.base_url(),
            tenant.base_url()
        ));
    }
    let path = tempdir().join("tenants.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn secret(tenant: &DemoTenant) -> String {
    tenant.var("AZURE_CLIENT_SECRET").unwrap()
}

/// Per tenant: KB → devices.
type ByTenant = BTreeMap<String, BTreeMap<String, i64>>;

async fn own(tenant: &DemoTenant) -> BTreeMap<String, i64> {
    library_client(tenant)
        .plan_missing_kbs_report(ReportOptions::new().source(Source::Calls))
        .await
        .unwrap()
        .finish()
        .await
        .unwrap()
        .kbs
        .iter()
        .map(|kb| (format!("KB{}", kb.id), kb.devices))
        .collect()
}

#[tokio::test]
async fn a_report_across_tenants_tags_every_row_and_a_wrong_secret_fails_alone() {
    let (a, b, c) = (demo(1).await, demo(2).await, demo(3).await);
    let path = file(&[
        ("north", &a, "A_SECRET"),
        ("south", &b, "B_SECRET"),
        ("east", &c, "C_SECRET"),
    ]);
    let cmd = |format: &'static str, b_secret: String| {
        let mut cmd = command();
        cmd.env("A_SECRET", secret(&a))
            .env("B_SECRET", b_secret)
            .env("C_SECRET", secret(&c));
        (cmd, format)
    };

    let (mut csv_cmd, _) = cmd("csv", secret(&b));
    let out = run(
        &mut csv_cmd,
        &[
            "--tenants",
            path.to_str().unwrap(),
            "report",
            "--source",
            "calls",
            "--format",
            "csv",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut got: ByTenant = BTreeMap::new();
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    assert_eq!(reader.headers().unwrap().get(0), Some("tenant"));
    for row in reader.records() {
        let row = row.unwrap();
        got.entry(row[0].to_owned())
            .or_default()
            .insert(row[2].to_owned(), row[4].parse().unwrap());
    }
    let want: ByTenant = [
        ("north".to_owned(), own(&a).await),
        ("south".to_owned(), own(&b).await),
        ("east".to_owned(), own(&c).await),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);

    // South's secret is wrong: it fails alone, exit 4, named on standard error.
    let (mut json_cmd, _) = cmd("json", "wrong-secret".into());
    let out = run(
        &mut json_cmd,
        &[
            "--tenants",
            path.to_str().unwrap(),
            "report",
            "--source",
            "calls",
            "--format",
            "ndjson",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("warning: tenant south failed"), "{stderr}");
    assert!(!stderr.contains("wrong-secret"), "{stderr}");
    let records: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tenants_with_kbs: std::collections::BTreeSet<&str> = records
        .iter()
        .filter(|r| r["record"] == "kb")
        .map(|r| r["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(
        tenants_with_kbs.into_iter().collect::<Vec<_>>(),
        ["east", "north"]
    );
    let south = records
        .iter()
        .find(|r| r["record"] == "tenant" && r["tenant"] == "south")
        .unwrap();
    assert!(south["error"].as_str().unwrap().contains("sign"), "{south}");
}

#[tokio::test]
async fn a_checkpoint_per_tenant_resumes_each() {
    let (a, b) = (demo(4).await, demo(5).await);
    let path = file(&[("north", &a, "A_SECRET"), ("south", &b, "B_SECRET")]);
    let checkpoint = tempdir().join("run.ckpt");
    let args = [
        "--tenants",
        path.to_str().unwrap(),
        "-q",
        "report",
        "--source",
        "calls",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--format",
        "json",
    ];
    let mut cmd = command();
    cmd.env("A_SECRET", secret(&a)).env("B_SECRET", secret(&b));
    let first = run(&mut cmd, &args).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    let asked = |t: &DemoTenant| t.calls("get_missing_kbs_by_software_id");
    let (a_first, b_first) = (asked(&a), asked(&b));
    assert!(a_first > 0 && b_first > 0);
    for name in ["north", "south"] {
        let lines = crate::checkpoint_lines(&tempdir_sibling(&checkpoint, name));
        assert!(lines > 0, "{name}'s checkpoint");
    }

    let mut cmd = command();
    cmd.env("A_SECRET", secret(&a)).env("B_SECRET", secret(&b));
    let second = run(&mut cmd, &args).await;
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(
        (asked(&a), asked(&b)),
        (a_first, b_first),
        "nothing asked again"
    );
    let one: Value = serde_json::from_slice(&first.stdout).unwrap();
    let two: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(one["kbs"], two["kbs"], "the same report");
}

fn tempdir_sibling(path: &std::path::Path, tenant: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{tenant}"));
    name.into()
}

#[tokio::test]
async fn tenants_check_names_the_permission_a_tenant_lacks() {
    let (a, b) = (demo(6).await, demo(7).await);
    b.faults().deny("list_software");
    let path = file(&[("north", &a, "A_SECRET"), ("south", &b, "B_SECRET")]);
    let mut cmd = command();
    cmd.env("A_SECRET", secret(&a)).env("B_SECRET", "wrong");
    let out = run(
        &mut cmd,
        &[
            "--tenants",
            path.to_str().unwrap(),
            "tenants",
            "check",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["tenant"], "north");
    assert_eq!(rows[0]["sign_in"], "ok");
    assert_eq!(rows[0]["call"], "ok");
    assert!(
        rows[1]["sign_in"].as_str().unwrap().starts_with("failed"),
        "{rows}"
    );

    let mut cmd = command();
    cmd.env("A_SECRET", secret(&a)).env("B_SECRET", secret(&b));
    let out = run(
        &mut cmd,
        &[
            "--tenants",
            path.to_str().unwrap(),
            "tenants",
            "check",
            "--format",
            "json",
        ],
    )
    .await;
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[1]["sign_in"], "ok");
    assert_eq!(rows[1]["missing_permission"], "Software.Read.All", "{rows}");
}

#[tokio::test]
async fn demo_tenants_run_offline_and_the_page_compares_tenants() {
    let out = run(
        &mut command(),
        &["--demo-tenants", "3", "report", "--format", "html"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("using 3 embedded demo tenants"));
    let html = text(&out.stdout);
    for name in ["demo-1", "demo-2", "demo-3"] {
        assert!(html.contains(&format!("<tr><td>{name}</td>")), "{name}");
    }
    assert!(html.contains("<table id=\"tenants-by-kb\">"));
    assert!(html.contains("<th class=\"n\">demo-2</th>"));
    assert!(!html.contains("<script"));

    // The demo tenants share Microsoft's KB numbers, as real ones do: some KB is missing in all.
    let out = run(
        &mut command(),
        &["--demo-tenants", "3", "report", "--format", "json", "-q"],
    )
    .await;
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &json["kbs"][0];
    assert_eq!(first["tenants"].as_array().unwrap().len(), 3, "{first}");

    let out = run(
        &mut command(),
        &[
            "--demo-tenants",
            "2",
            "--tenant",
            "demo-2",
            "report",
            "--format",
            "json",
            "-q",
        ],
    )
    .await;
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = json["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["demo-2"]);
}

#[tokio::test]
async fn demo_with_a_tenants_file_stands_a_demo_tenant_in_for_each_without_its_secrets() {
    let (a, b) = (demo(8).await, demo(9).await);
    // The variables the file names are not set: --demo reads only the names.
    let path = file(&[("north", &a, "UNSET_A"), ("south", &b, "UNSET_B")]);
    let out = run(
        &mut command(),
        &[
            "--demo",
            "--tenants",
            path.to_str().unwrap(),
            "report",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("using 2 embedded demo tenants in place of the file's"));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = json["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["north", "south"]);
    assert_eq!(
        a.calls("get_missing_kbs_by_software_id"),
        0,
        "the real ones untouched"
    );
}

#[tokio::test]
async fn tenant_flags_are_refused_where_they_do_not_apply() {
    for (args, says) in [
        (vec!["--tenant", "x", "report"], "--tenant picks among"),
        (
            vec!["--demo-tenants", "2", "software", "list"],
            "only `report` and `tenants check`",
        ),
        (vec!["tenants", "check"], "needs --tenants FILE"),
        (
            vec!["--demo-tenants", "2", "--tenant", "nope", "report"],
            "no tenant is named \"nope\"",
        ),
    ] {
        let out = run(&mut command(), &args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[tokio::test]
async fn an_unreadable_tenants_file_is_a_failure_with_its_cause_not_a_usage_error() {
    for args in [
        vec!["--tenants", "/nonexistent/tenants.toml", "report"],
        vec!["--demo", "--tenants", "/nonexistent/tenants.toml", "report"],
    ] {
        let out = run(&mut command(), &args).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: cannot read the tenants file /nonexistent/tenants.toml\n"),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("  caused by: No such file"),
            "{args:?}: {stderr}"
        );
    }
}
