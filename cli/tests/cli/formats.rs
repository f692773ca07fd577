//! Every command's formats: CSV columns as documented, each cell equal to the JSON of the same
//! data; NDJSON records; HTML whose every value is escaped (`deploy.rs` tests the report's page).

use defender_tvm_demo::{DEFAULT_SEED, Estate, Size};
use httpmock::MockServer;
use serde_json::Value;

use crate::{command, library_report, run, text, with_token};

/// How a CSV cell is read from the JSON item of the same row.
#[derive(Clone, Copy)]
enum Cell {
    /// The field as is: a string, a number (compared as numbers), a boolean, or empty for null.
    Field(&'static str),
    /// `KB` and the field.
    Kb(&'static str),
    /// The list's items joined with `;`.
    List(&'static str),
    /// The list's items, each `KB` and the item, joined with `;`.
    KbList(&'static str),
    /// How many items the list holds.
    Count(&'static str),
}

/// The documented CSV columns of each command (README, "CSV columns") and the JSON field each
/// shows.
fn columns(command: &str) -> Vec<(&'static str, Cell)> {
    use Cell::{Count, Field, Kb, KbList, List};
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
            ("covered_by", Kb("covered_by")),
        ],
        "devices" => vec![
            ("device_id", Field("device_id")),
            ("device_name", Field("device_name")),
            ("kbs_to_deploy", Count("kbs")),
            ("kbs", KbList("kbs")),
            ("missing_kbs", Field("missing")),
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
        Cell::Kb(field) => match item[field].as_str() {
            Some(id) => cell == format!("KB{id}"),
            None => item[field].is_null() && cell.is_empty(),
        },
        Cell::KbList(field) => item[field].as_array().is_some_and(|items| {
            let joined: Vec<String> = items
                .iter()
                .filter_map(Value::as_str)
                .map(|id| format!("KB{id}"))
                .collect();
            cell == joined.join(";")
        }),
        Cell::Count(field) => item[field]
            .as_array()
            .is_some_and(|items| cell == items.len().to_string()),
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
    let devices = |json: &Value| json["devices"].as_array().cloned().unwrap();
    csv_equals_json(&["report", "--by", "device"], "devices", devices).await;
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
    let steps: Vec<&Value> = lines.iter().filter(|l| l["record"] == "step").collect();
    assert_eq!((kbs.len(), rows), (expected.kbs.len(), expected.rows.len()));
    assert_eq!(steps.len(), expected.deploy.steps.len());
    assert_eq!(
        lines.len(),
        kbs.len() + rows + steps.len(),
        "no other record"
    );
    for (record, kb) in kbs.iter().zip(&expected.kbs) {
        assert_eq!(record["id"], kb.id.as_str());
        assert_eq!(record["rank"], kb.rank);
    }
    for (record, step) in steps.iter().zip(&expected.deploy.steps) {
        assert_eq!(record["id"], step.kb.id.as_str());
        assert_eq!(record["rank"], step.kb.rank);
        assert_eq!(record["covers"], serde_json::json!(step.covers));
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
