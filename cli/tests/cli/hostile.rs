//! Values from the service are untrusted: a demo tenant names devices, groups, a software and a
//! KB title with a spreadsheet formula, a script tag, a `|`, a newline and quotes
//! (`HOSTILE_NAMES`), and tenants get hostile names too. Each output is read back: CSV cells a
//! spreadsheet would run get a leading `'` (values as they are with `--csv-raw`); Markdown
//! tables keep their columns and show the values as text; HTML shows them escaped and holds no
//! markup of theirs; JSON gives them back exactly.

use defender_tvm_demo::{DemoTenant, HOSTILE_NAMES};
use serde_json::Value;

use crate::{against, command, run, tempdir, text};

async fn hostile() -> DemoTenant {
    DemoTenant::builder()
        .devices(40)
        .software(20)
        .hostile_names()
        .unlimited()
        .start()
        .await
        .unwrap()
}

async fn output(tenant: &DemoTenant, args: &[&str]) -> String {
    let out = run(&mut against(tenant, tenant.client_secret()), args).await;
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Every cell of a CSV text, the header row first.
fn csv_cells(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Whether a spreadsheet would run `cell` as a formula.
fn is_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err()
}

/// A CSV output: no cell is a formula; the hostile values that appear in it are there with a
/// leading `'` exactly when they would be formulas. Returns every cell.
fn assert_csv_is_safe(csv: &str) -> Vec<String> {
    let cells: Vec<String> = csv_cells(csv).into_iter().flatten().collect();
    for cell in &cells {
        assert!(!is_formula(cell), "a formula cell: {cell:?}");
    }
    cells
}

/// The cells of a Markdown table line (`| a | b\|c |`), unescaped as a Markdown reader would.
fn markdown_cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let mut cells = vec![String::new()];
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    cells.last_mut().unwrap().push(next);
                }
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.pop(); // after the closing `|`
    cells
        .into_iter()
        .map(|c| {
            c.trim()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

/// Every table of a Markdown text keeps its header's number of columns on every row; returns
/// every cell read back.
fn assert_markdown_tables_hold(markdown: &str) -> Vec<String> {
    assert!(!markdown.contains("<script"), "raw markup: {markdown}");
    let mut cells = Vec::new();
    let mut width = None;
    for line in markdown.lines() {
        if !line.starts_with('|') {
            width = None;
            continue;
        }
        if line.starts_with("|---") {
            continue;
        }
        let row = markdown_cells(line);
        match width {
            None => width = Some(row.len()),
            Some(n) => assert_eq!(row.len(), n, "a row breaks its table: {line}"),
        }
        cells.extend(row);
    }
    cells
}

/// The page holds no markup of the values: each hostile value shows escaped, never raw.
fn assert_html_escapes(html: &str, values: &[&str]) {
    assert!(!html.contains("<script"), "a script tag in the page");
    for value in values {
        let escaped = value
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;");
        assert!(html.contains(&escaped), "{value:?} not shown escaped");
    }
}

#[tokio::test]
async fn hostile_device_group_software_and_kb_names_are_inert_in_every_format() {
    let tenant = hostile().await;
    let software = tenant
        .truth()
        .software
        .iter()
        .find(|s| s.name.contains('|'))
        .expect("a software with a hostile name")
        .clone();
    let kb_title = tenant
        .truth()
        .kbs
        .iter()
        .find(|k| k.name.contains("<script>"))
        .expect("a KB with a hostile title")
        .name
        .clone();

    // The report: the KB title and the software name.
    let report = output(&tenant, &["report", "--format", "json"]).await;
    let json: Value = serde_json::from_str(&report).unwrap();
    let kbs = json["kbs"].as_array().expect("kbs");
    let hostile_kb = kbs
        .iter()
        .find(|kb| kb["name"] == kb_title.as_str())
        .expect("JSON gives the title back exactly");
    assert!(
        hostile_kb["software_ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == software.id.as_str()),
        "{hostile_kb}"
    );

    let csv = output(&tenant, &["report", "--format", "csv"]).await;
    let cells = assert_csv_is_safe(&csv);
    // The title starts with `<`: not a formula, as it is. The software id is in a list cell.
    assert!(cells.contains(&kb_title), "{csv}");
    assert!(cells.iter().any(|c| c.contains(&software.id)), "{csv}");

    let markdown = output(&tenant, &["report", "--format", "markdown"]).await;
    let cells = assert_markdown_tables_hold(&markdown);
    let shown_title = kb_title.replace('\n', " ");
    assert!(
        cells.contains(&shown_title),
        "the title read back from {markdown}"
    );

    let html = output(&tenant, &["report", "--format", "html"]).await;
    assert_html_escapes(
        &html,
        &[HOSTILE_NAMES[0], HOSTILE_NAMES[1], HOSTILE_NAMES[4]],
    );

    // Devices: `--by device`, every format.
    let devices: Vec<&str> = tenant
        .truth()
        .devices
        .iter()
        .take(HOSTILE_NAMES.len())
        .map(|d| d.computer_dns_name.as_str())
        .collect();
    assert_eq!(devices, HOSTILE_NAMES);
    let csv = output(&tenant, &["report", "--by", "device", "--format", "csv"]).await;
    let rows = csv_cells(&csv);
    let name_at = rows[0].iter().position(|h| h == "device_name").unwrap();
    let names: Vec<&str> = rows[1..].iter().map(|r| r[name_at].as_str()).collect();
    assert_csv_is_safe(&csv);
    assert!(names.contains(&"'=cmd|' /C calc'!A0"), "{names:?}");
    let raw = output(
        &tenant,
        &["report", "--by", "device", "--format", "csv", "--csv-raw"],
    )
    .await;
    let rows = csv_cells(&raw);
    assert!(
        rows[1..].iter().any(|r| r[name_at] == HOSTILE_NAMES[0]),
        "--csv-raw writes the value as it is"
    );
    let markdown = output(
        &tenant,
        &["report", "--by", "device", "--format", "markdown"],
    )
    .await;
    let cells = assert_markdown_tables_hold(&markdown);
    for name in HOSTILE_NAMES {
        let shown = name.replace('\n', " ");
        assert!(
            cells.contains(&shown),
            "{shown:?} read back from {markdown}"
        );
    }
    let html = output(&tenant, &["report", "--by", "device", "--format", "html"]).await;
    assert_html_escapes(&html, &HOSTILE_NAMES);

    // Groups: the machines of a software, every format.
    let windows = "microsoft-_-windows_11";
    let groups: Vec<String> = tenant
        .truth()
        .devices
        .iter()
        .filter(|d| d.os_platform == "Windows11")
        .map(|d| d.rbac_group_name.clone())
        .collect();
    assert!(groups.iter().any(|g| HOSTILE_NAMES.contains(&g.as_str())));
    let csv = output(
        &tenant,
        &["software", "machines", windows, "--format", "csv"],
    )
    .await;
    assert_csv_is_safe(&csv);
    let markdown = output(
        &tenant,
        &["software", "machines", windows, "--format", "markdown"],
    )
    .await;
    assert_markdown_tables_hold(&markdown);
    let html = output(
        &tenant,
        &["software", "machines", windows, "--format", "html"],
    )
    .await;
    assert!(!html.contains("<script"));

    // The export: devices, groups and the software, CSV safe, raw on request.
    let csv = output(&tenant, &["export", "-q", "--format", "csv"]).await;
    let cells = assert_csv_is_safe(&csv);
    assert!(cells.iter().any(|c| c == "'=cmd|' /C calc'!A0"));
    assert!(cells.contains(&software.name));
    let raw = output(&tenant, &["export", "-q", "--format", "csv", "--csv-raw"]).await;
    assert!(
        csv_cells(&raw)
            .iter()
            .flatten()
            .any(|c| c == HOSTILE_NAMES[0])
    );
    let ndjson = output(&tenant, &["export", "-q"]).await;
    let names: Vec<String> = ndjson
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|row| row["deviceName"].as_str().map(str::to_owned))
        .collect();
    for name in HOSTILE_NAMES {
        assert!(names.iter().any(|n| n == name), "{name:?} in JSON");
    }
}

#[tokio::test]
async fn hostile_tenant_names_are_inert_in_every_format() {
    // Names that are allowed (a name with `/`, `\`, `..`, a control character or a leading
    // `.` is refused: it becomes part of a file name).
    let names = ["=1+2|x", "<img src=x onerror=alert(1)>", "a|b", "\"'&"];
    let mut file = String::new();
    for name in names {
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        file.push_str(&format!(
            "[[tenant]]\nname = \"{quoted}\"\nbearer_token_env = \"T\"\n\n"
        ));
    }
    let path = tempdir().join("tenants.toml");
    std::fs::write(&path, file).unwrap();
    let path = path.to_str().unwrap();
    let out = |format: &'static str| {
        let mut cmd = command();
        async move {
            let out = run(
                &mut cmd,
                &["--demo", "--tenants", path, "report", "--format", format],
            )
            .await;
            assert!(out.status.success(), "{format}: {}", text(&out.stderr));
            text(&out.stdout)
        }
    };

    let csv = out("csv").await;
    let rows = csv_cells(&csv);
    assert_csv_is_safe(&csv);
    let tenant_at = rows[0].iter().position(|h| h == "tenant").unwrap();
    let shown: std::collections::BTreeSet<&str> =
        rows[1..].iter().map(|r| r[tenant_at].as_str()).collect();
    assert!(shown.contains("'=1+2|x"), "{shown:?}");
    assert!(shown.contains("\"'&") && shown.contains("a|b"), "{shown:?}");

    let markdown = out("markdown").await;
    let cells = assert_markdown_tables_hold(&markdown);
    for name in names {
        assert!(
            cells.iter().any(|c| c.contains(name)),
            "{name:?} read back from {markdown}"
        );
    }

    let html = out("html").await;
    assert!(!html.contains("<img"), "a tag of a tenant's name");
    assert_html_escapes(&html, &names);
}

#[tokio::test]
async fn hostile_names_synced_into_history_are_inert_in_its_answers_and_page() {
    let tenant = hostile().await;
    let store = tempdir().join("history.sqlite");
    let store = store.to_str().unwrap();
    output(&tenant, &["--store", store, "history", "sync"]).await;
    let answer = |args: &'static [&'static str]| {
        let store = store.to_string();
        async move {
            let mut full = vec!["--store", store.as_str(), "history"];
            full.extend_from_slice(args);
            let out = run(&mut command(), &full).await;
            assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
            text(&out.stdout)
        }
    };
    // One snapshot: every exposure is new, each with its (hostile) device name.
    let csv = answer(&["changes", "--by", "exposure", "--format", "csv"]).await;
    let cells = assert_csv_is_safe(&csv);
    assert!(cells.contains(&"'=cmd|' /C calc'!A0".to_string()), "{csv}");
    let raw = answer(&[
        "changes",
        "--by",
        "exposure",
        "--format",
        "csv",
        "--csv-raw",
    ])
    .await;
    assert!(
        csv_cells(&raw)
            .into_iter()
            .flatten()
            .any(|c| c == HOSTILE_NAMES[0])
    );
    let cells = assert_markdown_tables_hold(
        &answer(&["changes", "--by", "exposure", "--format", "markdown"]).await,
    );
    for name in HOSTILE_NAMES {
        let shown = name.replace('\n', " ");
        assert!(cells.contains(&shown), "{name:?} not in the Markdown table");
    }
    assert_html_escapes(
        &answer(&["changes", "--by", "exposure", "--format", "html"]).await,
        &HOSTILE_NAMES,
    );
    let json: Value =
        serde_json::from_str(&answer(&["changes", "--format", "json"]).await).unwrap();
    let names: std::collections::BTreeSet<&str> = json["new"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["device_name"].as_str())
        .collect();
    for name in HOSTILE_NAMES {
        assert!(names.contains(name), "{name:?} not given back exactly");
    }
    // The report page, both forms: no markup of theirs, tables whole.
    let page = answer(&["report", "--format", "html"]).await;
    assert!(!page.contains("<script"), "a script tag in the page");
    assert_markdown_tables_hold(&answer(&["report", "--format", "markdown"]).await);
}
