//! What people act on: `report --by device` in every format gives back the library's deploy
//! plan by device; Markdown and HTML say the same figures as the library's report, in plain
//! words, with the top of the deploy plan in its order (the HTML chart too), and stay one
//! self-contained page that prints on A4 and reads on a phone.

use defender_tvm::{Report, ReportOptions};
use defender_tvm_demo::DemoTenant;
use serde_json::Value;

use crate::{command, library_client, library_report, run, text};

/// The library's report as `report --by device` asks for it (devices known: the export).
async fn library_report_with_devices() -> Report {
    let tenant = DemoTenant::start().await.unwrap();
    library_client(&tenant)
        .plan_missing_kbs_report(ReportOptions::new().devices(true))
        .await
        .unwrap()
        .finish()
        .await
        .unwrap()
}

/// A device as every format shows it: id, name, KBs to deploy (`KB…`), KBs missing.
type DeviceRow = (String, String, Vec<String>, usize);

fn expected_devices(report: &Report) -> Vec<DeviceRow> {
    report
        .deploy
        .devices
        .iter()
        .map(|d| {
            (
                d.device_id.clone(),
                d.device_name.clone().unwrap_or_default(),
                d.kbs.iter().map(|id| format!("KB{id}")).collect(),
                d.missing,
            )
        })
        .collect()
}

/// A row of five cells (id, name, count, KBs, missing) as a device.
fn device_row(cells: &[String]) -> DeviceRow {
    assert_eq!(cells.len(), 5, "{cells:?}");
    let kbs: Vec<String> = cells[3]
        .split(';')
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .collect();
    assert_eq!(cells[2].parse::<usize>().unwrap(), kbs.len(), "{cells:?}");
    (
        cells[0].clone(),
        cells[1].clone(),
        kbs,
        cells[4].parse().unwrap(),
    )
}

fn json_device(device: &Value) -> DeviceRow {
    (
        device["device_id"].as_str().unwrap().to_owned(),
        device["device_name"].as_str().unwrap_or("").to_owned(),
        device["kbs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| format!("KB{}", k.as_str().unwrap()))
            .collect(),
        device["missing"].as_u64().unwrap() as usize,
    )
}

/// The cells of each body row of an HTML table (tags inside a cell dropped, entities kept).
fn html_rows(html: &str) -> Vec<Vec<String>> {
    let body = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
                    let mut out = String::new();
                    let mut in_tag = false;
                    for c in inner.chars() {
                        match c {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => out.push(c),
                            _ => {}
                        }
                    }
                    out.replace(',', "")
                })
                .collect()
        })
        .collect()
}

async fn report_as(args: &[&str]) -> String {
    let mut all = vec!["report", "--demo", "-q"];
    all.extend(args);
    let output = run(&mut command(), &all).await;
    assert!(
        output.status.success(),
        "{args:?}: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

#[tokio::test]
async fn report_by_device_in_every_format_gives_back_the_librarys_devices() {
    let expected = expected_devices(&library_report_with_devices().await);
    assert!(expected.len() > 100, "{}", expected.len());
    assert!(
        expected.iter().all(|d| !d.1.is_empty()),
        "names come with the export"
    );

    let json: Value =
        serde_json::from_str(&report_as(&["--by", "device", "--format", "json"]).await).unwrap();
    let from_json: Vec<DeviceRow> = json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(json_device)
        .collect();
    assert_eq!(from_json, expected, "json");

    let ndjson = report_as(&["--by", "device", "--format", "ndjson"]).await;
    let from_ndjson: Vec<DeviceRow> = ndjson
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .inspect(|r| assert_eq!(r["record"], "device"))
        .map(|r| json_device(&r))
        .collect();
    assert_eq!(from_ndjson, expected, "ndjson");

    let csv = report_as(&["--by", "device", "--format", "csv"]).await;
    let from_csv: Vec<DeviceRow> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| device_row(&r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>()))
        .collect();
    assert_eq!(from_csv, expected, "csv");

    // Not a terminal: columns apart by two spaces or more, a header line, a footer line.
    let table = report_as(&["--by", "device"]).await;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].contains("device_id") && lines[0].contains("kbs_to_deploy"));
    let from_table: Vec<DeviceRow> = lines[1..lines.len() - 1]
        .iter()
        .map(|line| {
            let cells: Vec<String> = line
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect();
            device_row(&cells)
        })
        .collect();
    assert_eq!(from_table, expected, "table");
    // Lists break at their separators: `KB1; KB2`, so a narrow terminal wraps between items.
    assert!(
        lines.iter().any(|l| l.contains("; KB")) && !lines.iter().any(|l| l.contains(";KB")),
        "{table}"
    );

    let markdown = report_as(&["--by", "device", "--format", "markdown"]).await;
    let from_markdown: Vec<DeviceRow> = markdown
        .lines()
        .filter(|l| l.starts_with("| ") && !l.contains("Device ID"))
        .map(|l| {
            let cells: Vec<String> = l
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().replace("\\_", "_"))
                .collect();
            device_row(&cells)
        })
        .collect();
    assert_eq!(from_markdown, expected, "markdown");

    let html = report_as(&["--by", "device", "--format", "html"]).await;
    assert!(
        html.contains("<th>Device ID</th><th>Device name</th><th>KBs to deploy</th>"),
        "plain headers"
    );
    let from_html: Vec<DeviceRow> = html_rows(&html)
        .iter()
        .map(|cells| device_row(cells))
        .collect();
    assert_eq!(from_html, expected, "html");
}

/// A summary figure of the HTML page, by its id: the number it shows.
fn figure(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("<div id=\"{id}\">"))
        .unwrap_or_else(|| panic!("{id}"));
    let dd = &html[start..];
    let value = &dd[dd.find("<dd>").unwrap() + 4..];
    value[..value.find(['<']).unwrap()].replace(',', "")
}

#[tokio::test]
async fn the_html_page_says_the_librarys_figures_and_puts_the_plan_first_in_one_order() {
    let report = library_report().await;
    let html = report_as(&["--format", "html"]).await;
    let steps = &report.deploy.steps;

    assert_eq!(figure(&html, "missing-kbs"), report.kbs.len().to_string());
    assert_eq!(figure(&html, "to-deploy"), steps.len().to_string());
    assert!(
        steps.len() < report.kbs.len(),
        "cumulative updates collapse on the demo"
    );
    let cves: i64 = steps.iter().map(|s| s.kb.cves_addressed).sum();
    assert_eq!(figure(&html, "cves"), cves.to_string());
    let exploited = steps
        .iter()
        .filter(|s| match &s.kb.exploitability {
            Some(level) => *level >= defender_tvm::types::ExploitabilityLevel::ExploitIsPublic,
            None => s.kb.public_exploit,
        })
        .count();
    assert_eq!(figure(&html, "exploited"), exploited.to_string());
    let most = report.kbs.iter().map(|k| k.devices).max().unwrap();
    assert_eq!(
        figure(&html, "devices"),
        format!("at least {most} (with --devices exact)").replace(", ", " ")
    );
    assert_eq!(figure(&html, "partial"), "no");

    // The plan's table and the chart: the first 15 steps, in the plan's order, named by
    // product and month.
    let plan = &html[html.find("<table id=\"plan\">").unwrap()..];
    let plan_rows = html_rows(plan);
    let top: Vec<&defender_tvm::DeployStep> = steps.iter().take(15).collect();
    assert_eq!(plan_rows.len(), top.len());
    let chart = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
    let labels: Vec<&str> = chart
        .split("text-anchor=\"end\">")
        .skip(1)
        .map(|t| &t[..t.find('<').unwrap()])
        .collect();
    assert_eq!(labels.len(), top.len());
    let max = top.iter().map(|s| s.kb.devices).max().unwrap() as f64;
    let widths: Vec<f64> = chart
        .split("<rect x=\"360\"")
        .skip(1)
        .map(|r| {
            let w = &r[r.find("width=\"").unwrap() + 7..];
            w[..w.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(widths.len(), top.len());
    for (i, step) in top.iter().enumerate() {
        assert_eq!(plan_rows[i][0], step.kb.rank.to_string());
        assert!(
            plan_rows[i][1].contains(&format!("(KB{})", step.kb.id)),
            "{:?}",
            plan_rows[i]
        );
        assert_eq!(plan_rows[i][2], step.kb.devices.to_string());
        assert_eq!(plan_rows[i][3], step.kb.cves_addressed.to_string());
        assert!(
            labels[i].starts_with(&format!("{}. ", step.kb.rank)),
            "{}",
            labels[i]
        );
        assert!(
            labels[i].ends_with(&format!("(KB{})", step.kb.id)),
            "{}",
            labels[i]
        );
        let want = step.kb.devices as f64 / max * 400.0;
        assert!(
            (widths[i] - want).abs() < 0.06,
            "bar {i}: {} vs {want}",
            widths[i]
        );
    }
    // Product and month: `Windows 11, Oct 2025 (KB…)`, never a raw product id.
    assert!(
        labels
            .iter()
            .any(|l| l.contains("Windows 11, ") && l.contains(" 2025 (KB")),
        "{labels:?}"
    );
    assert!(!html.contains("edge_chromium-based") && html.contains("Edge Chromium-based"));
    // A legend that does not need colour: hatching and a mark.
    assert!(chart.contains("url(#hatch)") == (exploited > 0));
    assert!(html.contains("<figcaption class=\"legend\">"));

    // Every KB below, with plain headers and yes/no words, no field names.
    let all = &html[html.find("<table id=\"kbs\">").unwrap()..];
    assert_eq!(html_rows(all).len(), report.kbs.len());
    for kb in &report.kbs {
        let link = format!("<a href=\"{}\">catalog</a>", kb.url.as_deref().unwrap());
        assert!(all.contains(&link), "KB{}", kb.id);
    }
    for field in [
        "devices_exact",
        "software_ids",
        "public_exploit",
        ">true<",
        ">false<",
    ] {
        assert!(!html.contains(field), "{field} in the page");
    }
    // One file, no script, no external asset; A4 and phone styles.
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src="));
    assert!(html.contains("@media print{@page{size:A4"));
    assert!(html.contains("@media (max-width:640px)"));
    assert!(html.contains("name=\"viewport\""));
}

#[tokio::test]
async fn markdown_is_a_summary_and_the_top_of_the_plan() {
    let report = library_report().await;
    let markdown = report_as(&["--format", "markdown"]).await;
    let steps = &report.deploy.steps;
    assert!(markdown.starts_with("# Missing security updates"));
    assert!(
        markdown.contains(&format!(
            "- **Missing KBs:** {}; **to deploy:** {}",
            report.kbs.len(),
            steps.len()
        )),
        "{markdown}"
    );
    let rows: Vec<Vec<&str>> = markdown
        .lines()
        .skip_while(|l| !l.starts_with("## Deploy first"))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| # "))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), steps.len().min(10));
    for (row, step) in rows.iter().zip(steps) {
        assert_eq!(row[0], step.kb.rank.to_string());
        assert_eq!(row[1], format!("KB{}", step.kb.id));
        assert_eq!(row[3].replace(',', ""), step.kb.devices.to_string());
        assert_eq!(row[4].replace(',', ""), step.kb.cves_addressed.to_string());
        let covers: Vec<String> = step.covers.iter().map(|id| format!("KB{id}")).collect();
        assert_eq!(row[6], covers.join(", "));
    }
    if steps.len() > 10 {
        assert!(markdown.contains(&format!("…and {} more", steps.len() - 10)));
    }
}

#[tokio::test]
async fn no_collapse_makes_every_kb_a_step() {
    let json: Value =
        serde_json::from_str(&report_as(&["--no-collapse", "--format", "json"]).await).unwrap();
    let kbs = json["kbs"].as_array().unwrap();
    assert_eq!(json["deploy"]["steps"].as_array().unwrap().len(), kbs.len());
    assert!(kbs.iter().all(|k| k["covered_by"].is_null()));
    let collapsed: Value = serde_json::from_str(&report_as(&["--format", "json"]).await).unwrap();
    assert!(collapsed["deploy"]["steps"].as_array().unwrap().len() < kbs.len());
}
