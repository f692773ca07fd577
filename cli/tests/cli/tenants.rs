//! Many tenants from the command line: `--tenants FILE report` tags every row and record with
//! its tenant, equal to what each tenant's estate says; a tenant with a wrong secret fails alone
//! with exit 4, and so does one whose report is partial; `--fail-on-missing` exits 3 when any
//! tenant misses a KB; `--by device` is refused before any call; a checkpoint per tenant resumes
//! each; `tenants check` names a missing permission; `--demo-tenants N` runs offline; the HTML
//! page has a tenant summary and a tenants × KBs table whose every cell is its tenant's own
//! figure.

use std::collections::{BTreeMap, BTreeSet};

use defender_tvm_demo::DemoTenant;
use serde_json::Value;

use crate::truth::{self, expected, html_table, text_of, thousands};
use crate::{command, run, tempdir, text};

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
pub fn file(tenants: &[(&str, &DemoTenant, &str)]) -> std::path::PathBuf {
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

pub fn secret(tenant: &DemoTenant) -> String {
    tenant.var("AZURE_CLIENT_SECRET").unwrap()
}

/// Per tenant: KB → devices.
type ByTenant = BTreeMap<String, BTreeMap<String, i64>>;

/// What a tenant's estate says a report from calls gives: KB → devices.
async fn own(tenant: &DemoTenant) -> BTreeMap<String, i64> {
    expected(tenant.truth(), truth::Source::Calls, true)
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
    assert_eq!(out.status.code(), Some(4), "south's call is refused");
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[1]["sign_in"], "ok");
    assert_eq!(rows[1]["missing_permission"], "Software.Read.All", "{rows}");

    // Every tenant fine: done, not partial.
    let only_north = file(&[("north", &a, "A_SECRET")]);
    let mut cmd = command();
    cmd.env("A_SECRET", secret(&a));
    let out = run(
        &mut cmd,
        &[
            "--tenants",
            only_north.to_str().unwrap(),
            "tenants",
            "check",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
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
            "only `report`, `tenants check` and `history`",
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

/// A demo tenant of `devices` devices and `software` software, without budgets.
async fn sized(seed: u64, devices: usize, software: usize) -> DemoTenant {
    DemoTenant::builder()
        .seed(seed)
        .devices(devices)
        .software(software)
        .unlimited()
        .start()
        .await
        .unwrap()
}

/// `--tenants PATH ARGS` with each tenant's secret in the variable the file names.
async fn across(
    path: &std::path::Path,
    secrets: &[(&str, &DemoTenant)],
    args: &[&str],
) -> std::process::Output {
    let mut cmd = command();
    for (name, tenant) in secrets {
        cmd.env(name, secret(tenant));
    }
    let mut all = vec!["--tenants", path.to_str().unwrap()];
    all.extend(args);
    run(&mut cmd, &all).await
}

#[tokio::test]
async fn a_tenants_partial_report_makes_the_run_partial_exit_4_even_with_fail_on_missing() {
    let (a, b) = (demo(31).await, demo(32).await);
    // South's Windows 11 vanishes: its call fails, south's report is partial; north is whole.
    const GONE: &str = "microsoft-_-windows_11";
    b.faults().vanish(GONE);
    let south = b.truth();
    let windows_11 = south.software_index(GONE).unwrap();
    assert!(
        south
            .installations_of(windows_11)
            .any(|i| !i.missing_kbs.is_empty()),
        "south misses Windows 11 updates: its call is made and fails"
    );
    // What south's report still holds: the KBs missing through its other software.
    let mut without = south.clone();
    without.installations.retain(|i| i.software != windows_11);
    let south_kbs = expected(&without, truth::Source::Calls, true).kbs;
    let south_selected = expected(south, truth::Source::Calls, true).selected;
    let north = expected(a.truth(), truth::Source::Calls, true);
    assert!(!south_kbs.is_empty() && !north.kbs.is_empty());
    let path = file(&[("north", &a, "A_SECRET"), ("south", &b, "B_SECRET")]);
    let secrets = [("A_SECRET", &a), ("B_SECRET", &b)];

    for extra in [None, Some("--fail-on-missing")] {
        let mut args = vec!["report", "--source", "calls", "--format", "json"];
        args.extend(extra);
        let out = across(&path, &secrets, &args).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{extra:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "tenant south: {} missing KBs across {south_selected} software (partial)\n",
                south_kbs.len()
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!(
                "tenant north: {} missing KBs across {} software\n",
                north.kbs.len(),
                north.selected
            )),
            "{stderr}"
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let tenants = json["tenants"].as_array().unwrap();
        assert_eq!(tenants[0]["tenant"], "north");
        assert_eq!(tenants[0]["report"]["partial"], false);
        assert_eq!(tenants[1]["tenant"], "south");
        assert!(tenants[1]["error"].is_null(), "south ran: {}", tenants[1]);
        let report = &tenants[1]["report"];
        assert_eq!(report["partial"], true);
        let failed: Vec<&str> = report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(failed, [GONE]);
        let got: Vec<(&str, i64)> = report["kbs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| (k["id"].as_str().unwrap(), k["devices"].as_i64().unwrap()))
            .collect();
        let want: Vec<(&str, i64)> = south_kbs
            .iter()
            .map(|k| (k.id.as_str(), k.devices))
            .collect();
        assert_eq!(got, want, "what south's other software miss");
    }
}

#[tokio::test]
async fn fail_on_missing_across_tenants_exits_3_when_any_tenant_misses_a_kb() {
    // No device: nothing is missing. Devices: KBs are.
    let (empty, also_empty, full) = (
        sized(33, 0, 50).await,
        sized(34, 0, 60).await,
        demo(35).await,
    );
    for tenant in [&empty, &also_empty] {
        assert!(
            expected(tenant.truth(), truth::Source::Calls, true)
                .kbs
                .is_empty()
        );
    }
    let missing = expected(full.truth(), truth::Source::Calls, true).kbs.len();
    assert!(missing > 0);
    let secrets = [
        ("E_SECRET", &empty),
        ("F_SECRET", &full),
        ("G_SECRET", &also_empty),
    ];

    for (tenants, flag, exit) in [
        // Missing in the second tenant only, then in the first only.
        (
            [("clean", &empty, "E_SECRET"), ("dirty", &full, "F_SECRET")],
            true,
            3,
        ),
        (
            [("dirty", &full, "F_SECRET"), ("clean", &empty, "E_SECRET")],
            true,
            3,
        ),
        (
            [("clean", &empty, "E_SECRET"), ("dirty", &full, "F_SECRET")],
            false,
            0,
        ),
        // Missing nowhere.
        (
            [
                ("clean", &empty, "E_SECRET"),
                ("spotless", &also_empty, "G_SECRET"),
            ],
            true,
            0,
        ),
    ] {
        let path = file(&tenants);
        let mut args = vec!["report", "--source", "calls", "--format", "csv"];
        if flag {
            args.push("--fail-on-missing");
        }
        let out = across(&path, &secrets, &args).await;
        let names: Vec<&str> = tenants.iter().map(|t| t.0).collect();
        assert_eq!(
            out.status.code(),
            Some(exit),
            "{names:?} flag {flag}: {}",
            text(&out.stderr)
        );
        let rows = csv::Reader::from_reader(out.stdout.as_slice())
            .records()
            .map(|r| r.unwrap()[0].to_owned())
            .collect::<Vec<_>>();
        let want = if names.contains(&"dirty") { missing } else { 0 };
        assert_eq!(rows.len(), want, "{names:?}");
        assert!(rows.iter().all(|tenant| tenant == "dirty"), "{rows:?}");
    }
}

#[tokio::test]
async fn by_device_is_refused_across_tenants_before_any_call() {
    let (a, b) = (demo(36).await, demo(37).await);
    let path = file(&[("north", &a, "A_SECRET"), ("south", &b, "B_SECRET")]);
    let path = path.to_str().unwrap();
    for args in [
        vec!["--tenants", path, "report", "--by", "device"],
        vec![
            "--tenants",
            path,
            "--tenant",
            "north",
            "report",
            "--by",
            "device",
            "--format",
            "json",
        ],
        vec!["--demo", "--tenants", path, "report", "--by", "device"],
        vec![
            "--demo-tenants",
            "2",
            "report",
            "--by",
            "device",
            "--format",
            "csv",
        ],
    ] {
        let mut cmd = command();
        cmd.env("A_SECRET", secret(&a)).env("B_SECRET", secret(&b));
        let out = run(&mut cmd, &args).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(
                "--by device reads one tenant; pick it with --tenant NAME and drop --tenants"
            ),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    }
    for tenant in [&a, &b] {
        assert_eq!(
            (tenant.total_calls(), tenant.token_requests()),
            (0, 0),
            "refused before signing in"
        );
    }
}

#[tokio::test]
async fn the_pages_tenants_by_kb_table_gives_each_tenant_its_own_figure() {
    // Three sizes and seeds: the tenants miss the same KBs on different numbers of devices.
    let tenants = [
        ("north", sized(41, 60, 40).await, "N_SECRET"),
        ("south", sized(42, 140, 60).await, "S_SECRET"),
        ("east", sized(43, 230, 80).await, "E_SECRET"),
    ];
    let entries: Vec<(&str, &DemoTenant, &str)> =
        tenants.iter().map(|(n, t, s)| (*n, t, *s)).collect();
    let path = file(&entries);
    let secrets: Vec<(&str, &DemoTenant)> = tenants.iter().map(|(_, t, s)| (*s, t)).collect();
    let out = across(
        &path,
        &secrets,
        &["report", "--source", "export", "--format", "html"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = text(&out.stdout);

    // Each tenant's report, from its estate; the export counts distinct devices.
    let want: Vec<(&str, truth::Expected)> = tenants
        .iter()
        .map(|(name, t, _)| (*name, expected(t.truth(), truth::Source::Export, true)))
        .collect();
    let devices: Vec<BTreeMap<&str, i64>> = want
        .iter()
        .map(|(_, e)| e.kbs.iter().map(|k| (k.id.as_str(), k.devices)).collect())
        .collect();
    // Across tenants: most tenants first, then most devices (summed), then KB id.
    let ids: BTreeSet<&str> = devices.iter().flat_map(|d| d.keys().copied()).collect();
    let mut combined: Vec<(&str, usize, i64)> = ids
        .into_iter()
        .map(|id| {
            let each: Vec<i64> = devices.iter().filter_map(|d| d.get(id).copied()).collect();
            (id, each.len(), each.iter().sum())
        })
        .collect();
    combined.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));

    let (headers, rows) = html_table(&html, "tenants-by-kb");
    let headers: Vec<String> = headers.iter().map(|h| text_of(h)).collect();
    assert_eq!(headers, ["Update", "Tenants", "north", "south", "east"]);
    assert_eq!(rows.len(), combined.len().min(15));
    let mut differ = 0;
    for (row, (id, count, _)) in rows.iter().zip(&combined) {
        let name = &want
            .iter()
            .find_map(|(_, e)| e.kbs.iter().find(|k| k.id == *id))
            .unwrap()
            .name;
        assert_eq!(text_of(&row[0]), format!("KB{id}{name}"), "{row:?}");
        assert_eq!(row[1], count.to_string(), "KB{id}");
        let cells: Vec<String> = devices
            .iter()
            .map(|d| d.get(id).map_or("—".to_owned(), |n| thousands(*n)))
            .collect();
        assert_eq!(row[2..], cells, "KB{id}: each tenant's own devices");
        let figures: BTreeSet<&String> = cells.iter().filter(|c| *c != "—").collect();
        differ += usize::from(figures.len() > 1);
    }
    assert!(differ > 5, "the tenants' figures differ: {differ} rows");

    // A row per tenant: its KBs, its steps, its devices, the software it asked about.
    let (_, summary) = html_table(&html, "tenants");
    let summary: Vec<Vec<String>> = summary
        .iter()
        .map(|r| r.iter().map(|c| text_of(c)).collect())
        .collect();
    let want_summary: Vec<Vec<String>> = want
        .iter()
        .map(|(name, e)| {
            vec![
                (*name).to_owned(),
                thousands(e.kbs.len() as i64),
                thousands(e.steps.len() as i64),
                thousands(e.devices_affected() as i64),
                thousands(e.selected as i64),
                "complete".to_owned(),
            ]
        })
        .collect();
    assert_eq!(summary, want_summary);
}
