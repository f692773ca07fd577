//! What people act on, read against a demo tenant whose raw estate gives every expected figure
//! (computed in `truth.rs` from its installations, KBs and CVEs, never by the library):
//! `report --by device` in every format lists each device with the steps of the deploy plan it
//! needs; Markdown and HTML say the estate's figures in plain words, with the top of the deploy
//! plan in its order (the HTML chart too), and stay one self-contained page that prints on A4
//! and reads on a phone; `--no-collapse` makes every KB a step.

use defender_tvm_demo::DemoTenant;
use serde_json::Value;

use crate::truth::{self, DeviceRow, Source, expected, html_table, text_of, thousands};
use crate::{against, run, text};

/// The tenant these tests read: 300 devices and 90 software, whose estate has 32 missing KBs,
/// 24 steps once each Windows product's cumulative updates count once, and 292 devices to patch.
async fn tenant() -> DemoTenant {
    DemoTenant::builder()
        .seed(11)
        .devices(300)
        .software(90)
        .unlimited()
        .start()
        .await
        .unwrap()
}

/// `report -q ARGS` against `tenant`: what it writes (it must succeed).
async fn report_as(tenant: &DemoTenant, args: &[&str]) -> String {
    let mut all = vec!["report", "-q"];
    all.extend(args);
    let output = run(&mut against(tenant, tenant.client_secret()), &all).await;
    assert!(
        output.status.success(),
        "{args:?}: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
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

/// The cells of each body row of an HTML table (tags inside a cell dropped, entities kept,
/// thousands separators dropped).
fn html_rows(html: &str) -> Vec<Vec<String>> {
    let body = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
                    text_of(inner).replace(',', "")
                })
                .collect()
        })
        .collect()
}

/// A Markdown cell's text: its escapes (`\_`, `\#`, …) undone.
fn unescape(cell: &str) -> String {
    let mut out = String::new();
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The body rows of the first Markdown table after the line starting with `after` (the lines
/// below its `|---|` line), each cell trimmed and unescaped.
fn markdown_rows(markdown: &str, after: &str) -> Vec<Vec<String>> {
    markdown
        .lines()
        .skip_while(|l| !l.starts_with(after))
        .skip_while(|l| !l.starts_with("|---|"))
        .skip(1)
        .take_while(|l| l.starts_with("| "))
        .map(|l| {
            l.trim()
                .trim_start_matches("| ")
                .trim_end_matches(" |")
                .split(" | ")
                .map(|c| unescape(c.trim()))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn report_by_device_in_every_format_lists_each_devices_steps_as_the_estate_says() {
    let tenant = tenant().await;
    // `--by device` lists each KB's devices: the export, by default.
    let plan = expected(tenant.truth(), Source::Export, true);
    let expected = &plan.devices;
    assert!(expected.len() > 100, "{}", expected.len());
    assert!(
        expected.iter().any(|d| d.2.len() >= 3) && expected.iter().any(|d| d.2.len() == 1),
        "devices need different numbers of steps"
    );
    assert!(
        expected.iter().any(|d| d.3 > d.2.len()),
        "some device misses more KBs than it needs steps (a cumulative update covers others)"
    );

    let json: Value =
        serde_json::from_str(&report_as(&tenant, &["--by", "device", "--format", "json"]).await)
            .unwrap();
    assert_eq!(json["source"], "export");
    assert_eq!(json["collapsed"], true);
    assert_eq!(json["partial"], false);
    let from_json: Vec<DeviceRow> = json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(json_device)
        .collect();
    assert_eq!(&from_json, expected, "json");

    let ndjson = report_as(&tenant, &["--by", "device", "--format", "ndjson"]).await;
    let from_ndjson: Vec<DeviceRow> = ndjson
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .inspect(|r| assert_eq!(r["record"], "device"))
        .map(|r| json_device(&r))
        .collect();
    assert_eq!(&from_ndjson, expected, "ndjson");

    let csv = report_as(&tenant, &["--by", "device", "--format", "csv"]).await;
    let from_csv: Vec<DeviceRow> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| device_row(&r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>()))
        .collect();
    assert_eq!(&from_csv, expected, "csv");

    // Not a terminal: columns apart by two spaces or more, a header line, a footer line.
    let table = report_as(&tenant, &["--by", "device"]).await;
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
    assert_eq!(&from_table, expected, "table");
    let steps = plan.steps.len();
    assert_eq!(
        lines[lines.len() - 1].trim(),
        format!(
            "{} devices miss at least one KB; {steps} KBs to deploy",
            expected.len()
        )
    );
    // Lists break at their separators: `KB1; KB2`, so a narrow terminal wraps between items.
    assert!(
        lines.iter().any(|l| l.contains("; KB")) && !lines.iter().any(|l| l.contains(";KB")),
        "{table}"
    );

    let markdown = report_as(&tenant, &["--by", "device", "--format", "markdown"]).await;
    let from_markdown: Vec<DeviceRow> = markdown_rows(&markdown, "| ")
        .iter()
        .map(|cells| device_row(cells))
        .collect();
    assert_eq!(&from_markdown, expected, "markdown");

    let html = report_as(&tenant, &["--by", "device", "--format", "html"]).await;
    assert!(
        html.contains("<th>Device ID</th><th>Device name</th><th>KBs to deploy</th>"),
        "plain headers"
    );
    let from_html: Vec<DeviceRow> = html_rows(&html)
        .iter()
        .map(|cells| device_row(cells))
        .collect();
    assert_eq!(&from_html, expected, "html");
}

/// A summary figure of the HTML page, by its id: the text it shows (separators dropped).
fn figure(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("<div id=\"{id}\">"))
        .unwrap_or_else(|| panic!("{id}"));
    let dd = &html[start..];
    let value = &dd[dd.find("<dd>").unwrap() + 4..];
    value[..value.find(['<']).unwrap()].replace(',', "")
}

#[tokio::test]
async fn the_html_page_says_the_estates_figures_and_puts_the_plan_first_in_one_order() {
    let tenant = tenant().await;
    for (source, flag) in [(Source::Calls, "calls"), (Source::Export, "export")] {
        let want = expected(tenant.truth(), source, true);
        let steps = &want.steps;
        let html = report_as(&tenant, &["--source", flag, "--format", "html"]).await;

        assert_eq!(figure(&html, "missing-kbs"), want.kbs.len().to_string());
        assert_eq!(figure(&html, "to-deploy"), steps.len().to_string());
        assert!(
            steps.len() < want.kbs.len(),
            "cumulative updates collapse on the demo"
        );
        let cves: i64 = steps.iter().map(|s| s.kb.cves).sum();
        assert_eq!(figure(&html, "cves"), cves.to_string(), "{flag}");
        let exploited = steps.iter().filter(|s| s.kb.exploit).count();
        assert!(exploited > 0 && exploited < steps.len(), "{flag}");
        assert_eq!(figure(&html, "exploited"), exploited.to_string(), "{flag}");
        let devices = match source {
            // Without device ids, the largest KB's (summed) count, as a lower bound.
            Source::Calls => format!(
                "at least {} (with --devices exact)",
                want.kbs.iter().map(|k| k.devices).max().unwrap()
            ),
            Source::Export => want.devices_affected().to_string(),
        };
        assert_eq!(figure(&html, "devices"), devices, "{flag}");
        assert_eq!(figure(&html, "partial"), "no");
        let data = if source == Source::Export {
            "Data: export snapshot of"
        } else {
            "Data: asked on"
        };
        assert!(html.contains(&format!("<dt>{data}</dt>")), "{flag}");

        // The plan's table and the chart: the first 15 steps, in the plan's order, named by
        // product and month.
        let (_, plan_rows) = html_table(&html, "plan");
        let top: Vec<&truth::Step> = steps.iter().take(15).collect();
        assert_eq!(plan_rows.len(), top.len());
        let chart = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
        let labels: Vec<&str> = chart
            .split("text-anchor=\"end\">")
            .skip(1)
            .map(|t| &t[..t.find('<').unwrap()])
            .collect();
        assert_eq!(labels.len(), top.len());
        let bars: Vec<(f64, &str)> = chart
            .split("<rect x=\"360\"")
            .skip(1)
            .map(|r| {
                let attribute = |name: &str| {
                    let at = &r[r.find(&format!("{name}=\"")).unwrap() + name.len() + 2..];
                    &at[..at.find('"').unwrap()]
                };
                (attribute("width").parse().unwrap(), attribute("fill"))
            })
            .collect();
        assert_eq!(bars.len(), top.len());
        let max = top.iter().map(|s| s.kb.devices).max().unwrap() as f64;
        for (i, step) in top.iter().enumerate() {
            let row: Vec<String> = plan_rows[i].iter().map(|c| text_of(c)).collect();
            assert_eq!(row[0], step.rank.to_string(), "{flag} {row:?}");
            assert!(
                row[1].contains(&format!("(KB{})", step.kb.id)) && row[1].contains(&step.kb.name),
                "{flag} {row:?}"
            );
            assert_eq!(row[2], thousands(step.kb.devices), "{flag} {row:?}");
            assert_eq!(row[3], thousands(step.kb.cves), "{flag} {row:?}");
            let covers: Vec<String> = step.covers.iter().map(|id| format!("KB{id}")).collect();
            assert_eq!(row[5], covers.join(", "), "{flag} {row:?}");
            assert_eq!(
                plan_rows[i][4].contains("class=\"exploit\""),
                step.kb.exploit,
                "{flag} {row:?}"
            );
            assert!(
                labels[i].starts_with(&format!("{}. ", step.rank)),
                "{}",
                labels[i]
            );
            assert!(
                labels[i].ends_with(&format!("(KB{})", step.kb.id)),
                "{}",
                labels[i]
            );
            let want = (step.kb.devices as f64 / max * 400.0).max(1.0);
            assert!(
                (bars[i].0 - want).abs() < 0.06,
                "bar {i}: {} vs {want}",
                bars[i].0
            );
            // Hatched when it closes an exploited CVE.
            assert_eq!(bars[i].1 == "url(#hatch)", step.kb.exploit, "bar {i}");
        }
        assert!(
            steps.iter().any(|s| !s.covers.is_empty()),
            "a step installs older updates too"
        );
        // Product and month: `Windows 11, Oct 2025 (KB…)`, never a raw product id.
        assert!(
            labels
                .iter()
                .any(|l| l.contains("Windows 11, ") && l.contains(" 2025 (KB")),
            "{labels:?}"
        );
        assert!(!html.contains("edge_chromium-based") && html.contains("Edge Chromium-based"));
        assert!(html.contains("<figcaption class=\"legend\">"));

        // Every KB below, in priority order, with plain headers and yes/no words, no field
        // names.
        let (_, all) = html_table(&html, "kbs");
        assert_eq!(all.len(), want.kbs.len());
        for (i, (row, kb)) in all.iter().zip(&want.kbs).enumerate() {
            let cells: Vec<String> = row.iter().map(|c| text_of(c)).collect();
            assert_eq!(cells[0], (i + 1).to_string(), "{flag} {cells:?}");
            assert_eq!(cells[1], format!("KB{}", kb.id), "{flag} {cells:?}");
            assert_eq!(cells[2], kb.name, "{flag} {cells:?}");
            let devices = if kb.exact {
                thousands(kb.devices)
            } else {
                format!("≤ {}", thousands(kb.devices))
            };
            assert_eq!(cells[4], devices, "{flag} {cells:?}");
            assert_eq!(cells[5], thousands(kb.cves), "{flag} {cells:?}");
            assert_eq!(
                row[6].contains("class=\"exploit\""),
                kb.exploit,
                "{cells:?}"
            );
            let covered = want
                .covered_by
                .get(&kb.id)
                .map(|newer| format!("KB{newer} (newer)"))
                .unwrap_or_default();
            assert_eq!(cells[9], covered, "{flag} {cells:?}");
            assert_eq!(row[10], format!("<a href=\"{}\">catalog</a>", kb.url));
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
}

#[tokio::test]
async fn markdown_is_a_summary_and_the_top_of_the_plan() {
    let tenant = tenant().await;
    for (source, flag) in [(Source::Calls, "calls"), (Source::Export, "export")] {
        let want = expected(tenant.truth(), source, true);
        let steps = &want.steps;
        let markdown = report_as(&tenant, &["--source", flag, "--format", "markdown"]).await;
        assert!(markdown.starts_with("# Missing security updates"));
        assert!(
            markdown.contains(&format!(
                "- **Missing KBs:** {}; **to deploy:** {} (the newest Windows cumulative \
                 update of a version installs the older ones)\n",
                want.kbs.len(),
                steps.len()
            )),
            "{markdown}"
        );
        let devices = match source {
            Source::Calls => format!(
                "at least {} (with --devices, exact)",
                thousands(want.kbs.iter().map(|k| k.devices).max().unwrap())
            ),
            Source::Export => thousands(want.devices_affected() as i64),
        };
        assert!(
            markdown.contains(&format!("- **Devices affected:** {devices}\n")),
            "{flag}: {markdown}"
        );
        let cves: i64 = steps.iter().map(|s| s.kb.cves).sum();
        assert!(
            markdown.contains(&format!(
                "- **CVEs closed by the plan:** {}\n",
                thousands(cves)
            )),
            "{flag}: {markdown}"
        );
        let exploited = steps.iter().filter(|s| s.kb.exploit).count();
        assert!(
            markdown.contains(&format!("- **Updates with an exploit:** {exploited}\n")),
            "{flag}: {markdown}"
        );
        assert!(markdown.contains("- **Partial:** no\n"), "{markdown}");

        let rows = markdown_rows(&markdown, "## Deploy first");
        assert_eq!(rows.len(), steps.len().min(10));
        for (row, step) in rows.iter().zip(steps) {
            assert_eq!(row[0], step.rank.to_string());
            assert_eq!(row[1], format!("KB{}", step.kb.id));
            assert_eq!(row[2], step.kb.name);
            assert_eq!(row[3], thousands(step.kb.devices), "{flag} {row:?}");
            assert_eq!(row[4], thousands(step.kb.cves), "{flag} {row:?}");
            let covers: Vec<String> = step.covers.iter().map(|id| format!("KB{id}")).collect();
            assert_eq!(row[6], covers.join(", "), "{flag} {row:?}");
        }
        assert!(steps.len() > 10);
        assert!(
            markdown.contains(&format!("…and {} more", steps.len() - 10)),
            "{markdown}"
        );
    }
}

/// A KB or a step of a JSON report: id, rank, devices, CVEs, exploit, what covers it, what it
/// covers.
type JsonKb = (String, usize, i64, i64, bool, Option<String>, Vec<String>);

fn json_kb(kb: &Value) -> JsonKb {
    (
        kb["id"].as_str().unwrap().to_owned(),
        kb["rank"].as_u64().unwrap() as usize,
        kb["devices"].as_i64().unwrap(),
        kb["cves_addressed"].as_i64().unwrap(),
        kb["public_exploit"].as_bool().unwrap(),
        kb["covered_by"].as_str().map(str::to_owned),
        kb["covers"]
            .as_array()
            .map(|c| c.iter().map(|id| id.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn no_collapse_makes_every_kb_a_step_and_collapsing_counts_a_windows_product_once() {
    let tenant = tenant().await;
    for (source, flag) in [(Source::Calls, "calls"), (Source::Export, "export")] {
        for collapse in [false, true] {
            let want = expected(tenant.truth(), source, collapse);
            let mut args = vec!["--source", flag, "--format", "json"];
            if !collapse {
                args.push("--no-collapse");
            }
            let json: Value = serde_json::from_str(&report_as(&tenant, &args).await).unwrap();
            assert_eq!(json["deploy"]["collapsed"], collapse);

            let kbs: Vec<JsonKb> = json["kbs"]
                .as_array()
                .unwrap()
                .iter()
                .map(json_kb)
                .collect();
            let want_kbs: Vec<JsonKb> = want
                .kbs
                .iter()
                .enumerate()
                .map(|(i, kb)| {
                    (
                        kb.id.clone(),
                        i + 1,
                        kb.devices,
                        kb.cves,
                        kb.exploit,
                        want.covered_by.get(&kb.id).cloned(),
                        Vec::new(),
                    )
                })
                .collect();
            assert_eq!(kbs, want_kbs, "{flag} collapse {collapse}");

            let steps: Vec<JsonKb> = json["deploy"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(json_kb)
                .collect();
            let want_steps: Vec<JsonKb> = want
                .steps
                .iter()
                .map(|s| {
                    (
                        s.kb.id.clone(),
                        s.rank,
                        s.kb.devices,
                        s.kb.cves,
                        s.kb.exploit,
                        None,
                        s.covers.clone(),
                    )
                })
                .collect();
            assert_eq!(steps, want_steps, "{flag} collapse {collapse}");
            if collapse {
                assert!(steps.len() < kbs.len(), "{flag}");
            } else {
                assert_eq!(steps.len(), kbs.len(), "{flag}");
                assert!(want.covered_by.is_empty());
            }
        }
    }
}
