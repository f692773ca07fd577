//! Every command's formats: CSV columns as documented, each cell equal to the JSON of the same
//! data; NDJSON records; one self-contained HTML page whose every value is escaped.

use defender_tvm::Report;
use defender_tvm_demo::{DEFAULT_SEED, Estate, Size};
use httpmock::MockServer;
use serde_json::Value;

use crate::{command, library_report, run, tempdir, text, with_token};

/// How a CSV cell is read from the JSON item of the same row.
#[derive(Clone, Copy)]
enum Cell {
    /// The field as is: a string, a number (compared as numbers), a boolean, or empty for null.
    Field(&'static str),
    /// `KB` and the field.
    Kb(&'static str),
    /// The list's items joined with `;`.
    List(&'static str),
}

/// The documented CSV columns of each command (README, "CSV columns") and the JSON field each
/// shows.
fn columns(command: &str) -> Vec<(&'static str, Cell)> {
    use Cell::{Field, Kb, List};
    match command {
        "report" => vec![
            ("rank", Field("rank")),
            ("kb", Kb("id")),
            ("name", Field("name")),
            ("devices", Field("devices")),
            ("devices_exact", Field("devices_exact")),
            ("cves_addressed", Field("cves_addressed")),
            ("public_exploit", Field("public_exploit")),
            ("products", List("products")),
            ("software_ids", List("software_ids")),
            ("url", Field("url")),
            ("cve_ids", List("cve_ids")),
            ("severity", Field("severity")),
            ("cvss", Field("cvss")),
            ("exploitability", Field("exploitability")),
            ("first_seen", Field("first_seen")),
        ],
        "missing-kbs" | "machine-missing-kbs" => vec![
            ("kb", Kb("id")),
            ("name", Field("name")),
            ("devices", Field("machineMissedOn")),
            ("cves_addressed", Field("cveAddressed")),
            ("products", List("productsNames")),
            ("url", Field("url")),
        ],
        "software" => vec![
            ("id", Field("id")),
            ("name", Field("name")),
            ("vendor", Field("vendor")),
            ("weaknesses", Field("weaknesses")),
            ("exposed_machines", Field("exposedMachines")),
            ("public_exploit", Field("publicExploit")),
            ("active_alert", Field("activeAlert")),
            ("impact_score", Field("impactScore")),
        ],
        "vulnerabilities" => vec![
            ("id", Field("id")),
            ("severity", Field("severity")),
            ("cvss_v3", Field("cvssV3")),
            ("epss", Field("epss")),
            ("exposed_machines", Field("exposedMachines")),
            ("public_exploit", Field("publicExploit")),
            ("published_on", Field("publishedOn")),
        ],
        "machines" => vec![
            ("id", Field("id")),
            ("computer_dns_name", Field("computerDnsName")),
            ("os_platform", Field("osPlatform")),
            ("rbac_group_name", Field("rbacGroupName")),
        ],
        "distributions" => vec![
            ("version", Field("version")),
            ("installations", Field("installations")),
            ("vulnerabilities", Field("vulnerabilities")),
        ],
        other => panic!("no columns for {other}"),
    }
}

/// Whether CSV text `cell` shows `value` as `how` says.
fn shows(cell: &str, item: &Value, how: Cell) -> bool {
    match how {
        Cell::Kb(field) => item[field]
            .as_str()
            .is_some_and(|id| cell == format!("KB{id}")),
        Cell::List(field) => item[field].as_array().is_some_and(|items| {
            let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            cell == joined.join(";")
        }),
        Cell::Field(field) => match &item[field] {
            Value::Null => cell.is_empty(),
            Value::String(s) => cell == s,
            Value::Bool(b) => cell == b.to_string(),
            Value::Number(n) => cell.parse::<f64>().ok() == n.as_f64(),
            other => panic!("{field} is {other}"),
        },
    }
}

/// Runs `args` on the demo tenant as CSV and as JSON; checks the CSV header is `kind`'s
/// documented columns and every row shows the JSON item of the same place. Returns the rows.
async fn csv_equals_json(args: &[&str], kind: &str, items: impl Fn(&Value) -> Vec<Value>) -> usize {
    let as_format = |format: &'static str| {
        let mut all = vec!["--demo", "-q", "--format", format];
        all.extend(args);
        all
    };
    let csv_out = run(&mut command(), &as_format("csv")).await;
    let json_out = run(&mut command(), &as_format("json")).await;
    assert!(
        csv_out.status.success(),
        "{args:?}: {}",
        text(&csv_out.stderr)
    );
    assert!(
        json_out.status.success(),
        "{args:?}: {}",
        text(&json_out.stderr)
    );
    let json: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    let items = items(&json);
    let columns = columns(kind);

    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    assert_eq!(header, names, "{args:?}");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), items.len(), "{args:?}");
    assert!(!rows.is_empty(), "{args:?}: no rows to compare");
    for (row, item) in rows.iter().zip(&items) {
        for ((name, how), cell) in columns.iter().zip(row.iter()) {
            assert!(
                shows(cell, item, *how),
                "{args:?}: column {name} is {cell:?} for {item}"
            );
        }
    }
    rows.len()
}

fn array(json: &Value) -> Vec<Value> {
    json.as_array()
        .cloned()
        .unwrap_or_else(|| vec![json.clone()])
}

#[tokio::test]
async fn every_commands_csv_has_its_documented_columns_and_shows_the_json_of_the_same_data() {
    let estate = Estate::generate(DEFAULT_SEED, Size::default());
    let device = estate.devices[0].id.clone();
    // The report's KB rollup and Office's KBs hold lists of two (office;teams): a list joined
    // with anything but `;` shows.
    let kbs = |json: &Value| json["kbs"].as_array().cloned().unwrap();
    csv_equals_json(&["report"], "report", kbs).await;
    csv_equals_json(&["missing-kbs", "microsoft-_-office"], "missing-kbs", array).await;
    csv_equals_json(
        &["machine-missing-kbs", device.as_str()],
        "machine-missing-kbs",
        array,
    )
    .await;
    csv_equals_json(&["software", "list"], "software", array).await;
    csv_equals_json(&["software", "get", "google-_-chrome"], "software", array).await;
    csv_equals_json(
        &["software", "vulnerabilities", "microsoft-_-windows_11"],
        "vulnerabilities",
        array,
    )
    .await;
    csv_equals_json(
        &["software", "machines", "microsoft-_-office"],
        "machines",
        array,
    )
    .await;
    csv_equals_json(
        &[
            "software",
            "distributions",
            "microsoft-_-edge_chromium-based",
        ],
        "distributions",
        array,
    )
    .await;
}

#[tokio::test]
async fn report_ndjson_holds_one_record_a_line_for_each_kb_and_row() {
    let expected = library_report().await;

    let nd = run(&mut command(), &["report", "--demo", "--format", "ndjson"]).await;

    assert!(nd.status.success());
    let lines: Vec<Value> = text(&nd.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON record a line"))
        .collect();
    let kbs: Vec<&Value> = lines.iter().filter(|l| l["record"] == "kb").collect();
    let rows = lines.iter().filter(|l| l["record"] == "row").count();
    assert_eq!((kbs.len(), rows), (expected.kbs.len(), expected.rows.len()));
    assert_eq!(lines.len(), kbs.len() + rows, "no other record");
    for (record, kb) in kbs.iter().zip(&expected.kbs) {
        assert_eq!(record["id"], kb.id.as_str());
        assert_eq!(record["rank"], kb.rank);
    }
}

#[tokio::test]
async fn ndjson_of_every_other_command_is_its_json_items_one_a_line() {
    for args in [
        vec!["software", "list"],
        vec!["missing-kbs", "microsoft-_-office"],
        vec!["software", "vulnerabilities", "google-_-chrome"],
    ] {
        let as_format = |format: &'static str| {
            let mut all = vec!["--demo", "-q", "--format", format];
            all.extend(&args);
            all
        };
        let json = run(&mut command(), &as_format("json")).await;
        let nd = run(&mut command(), &as_format("ndjson")).await;
        assert!(json.status.success() && nd.status.success(), "{args:?}");

        let items = array(&serde_json::from_slice(&json.stdout).unwrap());
        let lines: Vec<Value> = text(&nd.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON record a line"))
            .collect();
        assert!(!items.is_empty(), "{args:?}");
        assert_eq!(lines, items, "{args:?}");
    }
}

#[tokio::test]
async fn software_list_filters_by_vendor_and_name_and_takes_top() {
    let estate = Estate::generate(DEFAULT_SEED, Size::default());
    let list = async |flags: &[&str]| -> Vec<Value> {
        let mut args = vec!["--demo", "-q", "--format", "json", "software", "list"];
        args.extend(flags);
        let output = run(&mut command(), &args).await;
        assert!(
            output.status.success(),
            "{flags:?}: {}",
            text(&output.stderr)
        );
        array(&serde_json::from_slice(&output.stdout).unwrap())
    };

    let microsoft = list(&["--vendor", "microsoft"]).await;
    let expected = estate
        .software
        .iter()
        .filter(|s| s.vendor == "microsoft")
        .count();
    assert_eq!(microsoft.len(), expected);
    assert!(microsoft.iter().all(|s| s["vendor"] == "microsoft"));

    let chrome = list(&["--name", "chrome"]).await;
    assert_eq!(chrome.len(), 1);
    assert_eq!(chrome[0]["id"], "google-_-chrome");

    let both = list(&["--vendor", "microsoft", "--name", "office"]).await;
    assert_eq!(both.len(), 1);
    assert_eq!(both[0]["id"], "microsoft-_-office");

    let top = list(&["--top", "5"]).await;
    let first: Vec<&str> = estate.software[..5].iter().map(|s| s.id.as_str()).collect();
    let got: Vec<&str> = top.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(got, first);
    assert_eq!(list(&[]).await.len(), 150);
}

#[tokio::test]
async fn report_html_is_one_page_with_a_summary_a_chart_and_no_script() {
    let dir = tempdir();
    let page = dir.join("report.html");
    let output = run(
        &mut command(),
        &[
            "report",
            "--demo",
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
        ],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty(), "data went to the file");
    let html = std::fs::read_to_string(&page).unwrap();
    let report: Report = library_report().await;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "a chart");
    assert!(
        html.contains(&format!(
            "<dt>Missing KBs</dt><dd>{}</dd>",
            report.kbs.len()
        )),
        "a summary"
    );
    assert!(!html.contains("<script"), "no script");
    assert!(
        !html.contains("http-equiv") && !html.contains("<link"),
        "no external assets"
    );
    for kb in &report.kbs {
        // Numbers are right-aligned cells, text is not, the link is the catalog's.
        let row = format!(
            "<tr><td class=\"n\">{}</td><td>KB{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td>false</td><td class=\"n\">{}</td><td>{}</td>",
            kb.rank,
            kb.id,
            kb.name.as_deref().unwrap(),
            kb.devices,
            kb.cves_addressed,
            kb.public_exploit
        );
        assert!(html.contains(&row), "{row} in\n{html}");
        assert!(
            html.contains(&format!(
                "<td><a href=\"{}\">catalog</a></td>",
                kb.url.as_deref().unwrap()
            )),
            "KB{}",
            kb.id
        );
    }
    chart_bars_are_proportional_to_devices(&html, &report);
}

/// The chart: the 15 KBs missing on the most devices, one 22 px row each from the top (16 px
/// bars from y = 10), each bar as long as its devices make it against the longest (520 px), in
/// a 710 px wide picture (110 px of labels, 80 px for the counts).
fn chart_bars_are_proportional_to_devices(html: &str, report: &Report) {
    let mut top: Vec<&defender_tvm::KbRollup> = report.kbs.iter().collect();
    top.sort_by(|a, b| b.devices.cmp(&a.devices).then_with(|| a.id.cmp(&b.id)));
    top.truncate(15);
    let max = top[0].devices as f64;
    let attribute = |tag: &str, name: &str| -> f64 {
        let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        let end = start + tag[start..].find('"').unwrap();
        tag[start..end].parse().unwrap()
    };
    let svg_start = html.find("<svg").unwrap();
    let svg = &html[svg_start..svg_start + html[svg_start..].find('>').unwrap()];
    assert_eq!(attribute(svg, "width"), 710.0);
    assert_eq!(attribute(svg, "height"), 22.0 * top.len() as f64 + 30.0);
    let rects: Vec<&str> = html.split("<rect").skip(1).collect();
    assert_eq!(rects.len(), top.len());
    for (i, (rect, kb)) in rects.iter().zip(&top).enumerate() {
        assert_eq!(attribute(rect, "x"), 110.0);
        assert_eq!(attribute(rect, "y"), 10.0 + 22.0 * i as f64, "bar {i}");
        assert_eq!(attribute(rect, "height"), 16.0);
        let want = kb.devices as f64 / max * 520.0;
        assert!(
            (attribute(rect, "width") - want).abs() < 0.06,
            "bar {i} (KB{}, {} devices)",
            kb.id,
            kb.devices
        );
        assert!(rect.contains(&format!("<title>{}</title>", kb.name.as_deref().unwrap())));
    }
}

/// Markup in every value a server sends.
const HOSTILE: &str = r#"<img src=x onerror="alert('x')"> & co"#;

#[tokio::test]
async fn html_escapes_every_value_a_server_sends() {
    let server = MockServer::start_async().await;
    let software_id = r#"evil-_-<b>"it's"</b>"#;
    server.mock(|when, then| {
        when.method("GET")
            .path("/api/Software")
            .query_param("$skip", "0");
        then.status(200)
            .header("content-type", "application/json")
            .json_body(serde_json::json!({"value": [{
                "id": software_id,
                "name": HOSTILE,
                "vendor": HOSTILE,
                "weaknesses": 3,
                "publicExploit": true,
            }]}));
    });
    server.mock(|when, then| {
        when.method("GET").path("/api/Software");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"value": []}"#);
    });
    server.mock(|when, then| {
        when.method("GET").path_suffix("/getmissingkbs");
        then.status(200)
            .header("content-type", "application/json")
            .json_body(serde_json::json!({"value": [{
                "id": "5001<i>",
                "name": HOSTILE,
                "productsNames": [HOSTILE, "<svg onload=alert(1)>"],
                "url": "https://catalog.example/?q=\"><script>alert(1)</script>",
                "machineMissedOn": 7,
                "cveAddressed": 2,
            }, {
                "id": "5002",
                "name": "a link that is not a web page",
                "url": "javascript:alert(1)",
                "machineMissedOn": 1,
                "cveAddressed": 1,
            }]}));
    });
    for args in [
        vec!["report"],
        vec!["software", "list"],
        vec!["missing-kbs", software_id],
    ] {
        let mut all = vec!["-q", "--format", "html"];
        all.extend(&args);
        let output = run(&mut with_token(&server.base_url(), "t"), &all).await;
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        let html = text(&output.stdout);

        for raw in ["<img", "<b>", "<i>", "<script", "<svg onload", "\"it's\""] {
            assert!(!html.contains(raw), "{args:?}: {raw} unescaped in\n{html}");
        }
        assert!(
            html.contains("&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt; &amp; co"),
            "{args:?}: {html}"
        );
        // Only https links become links.
        assert!(!html.contains("href=\"javascript:"), "{args:?}: {html}");
    }
}
