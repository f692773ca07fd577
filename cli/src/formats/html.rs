//! One self-contained HTML page: no script, no external asset, every value escaped. For the
//! report: a summary, the top of the deploy plan as a table and as a chart in the same order,
//! then every missing KB; in people's words (plain headers, product names, yes/no, thousands
//! separators, dates in words beside the exact time). It prints on A4 and reads on a phone.

use defender_tvm::{
    report::{DeployStep, Report},
    tenants::CombinedReport,
};

use crate::datasets::Dataset;
use crate::formats::words;

/// How many steps of the deploy plan the page puts first (table and chart).
const TOP: usize = 15;

pub(crate) const STYLE: &str = "\
body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;margin:2rem;color:#1b1b1b;line-height:1.4}\n\
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}\n\
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.75rem;margin:0}\n\
.summary div{border:1px solid #d1d1d1;border-radius:6px;padding:.5rem .75rem}\n\
.summary dt{font-size:.8rem;color:#555}.summary dd{margin:0;font-size:1.25rem;font-weight:600}\n\
.summary dd small{display:block;font-size:.75rem;font-weight:400;color:#555}.summary dd time{font-size:1rem}\n\
.partial dd{color:#a4262c}\n\
.scroll{overflow-x:auto}\n\
table{border-collapse:collapse;width:100%;font-size:.85rem}\n\
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}\n\
th{background:#f3f3f3}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n\
td small{display:block;color:#555}\n\
.exploit{font-weight:600;color:#a4262c}\n\
svg{max-width:100%;height:auto}svg text{font-size:12px;fill:#1b1b1b}\n\
.legend{font-size:.85rem}.swatch{display:inline-block;width:1.5em;height:.9em;vertical-align:middle;border:1px solid #555;margin:0 .3em 0 1em}\n\
.swatch.plain{background:#0f6cbd}.swatch.hatched{background:repeating-linear-gradient(45deg,#c50f1f 0 3px,#fff 3px 6px)}\n\
@media (max-width:640px){body{margin:.75rem}.summary{grid-template-columns:1fr 1fr}td,th{padding:.3rem}td small{display:none}}\n\
@media print{@page{size:A4;margin:14mm}body{margin:0;font-size:9.5pt}a{color:inherit;text-decoration:none}\
.scroll{overflow:visible}tr,figure,.summary div{break-inside:avoid}h2{break-after:avoid}\
.swatch.hatched{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

/// The page for `data`.
pub fn page(data: &Dataset) -> String {
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str(&format!("<title>{}</title>\n", escape(&data.title)));
    page.push_str(&format!("<style>\n{STYLE}</style>\n</head>\n<body>\n"));
    page.push_str(&format!("<h1>{}</h1>\n", escape(&data.title)));
    match (&data.report, &data.combined) {
        (Some(report), _) => {
            page.push_str(&summary(report));
            page.push_str(&plan(report));
            page.push_str(&chart(report));
            page.push_str(&kbs(report));
        }
        (None, Some(combined)) => {
            page.push_str(&tenant_summary(combined));
            page.push_str(&tenants_by_kb(combined));
            page.push_str("<h2>Every missing update, by tenant</h2>\n");
            page.push_str(&table(data));
        }
        (None, None) => page.push_str(&table(data)),
    }
    if let Some(footer) = &data.footer {
        page.push_str(&format!("<p>{}</p>\n", escape(footer)));
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped, so a value can never become markup.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A time in words, with the exact one for machines and on hover.
fn time(time: &chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "<time datetime=\"{0}\" title=\"{0}\">{1}</time><small>{0}</small>",
        escape(&words::rfc3339(time)),
        escape(&words::date(time))
    )
}

/// One figure of the summary: its id (for tests and scripts), label and value (HTML).
fn figure(id: &str, label: &str, value: &str) -> String {
    format!("<div id=\"{id}\"><dt>{label}</dt><dd>{value}</dd></div>\n")
}

fn summary(report: &Report) -> String {
    let steps = &report.deploy.steps;
    let exploited = steps.iter().filter(|s| words::has_exploit(&s.kb)).count();
    let mut out = String::from("<dl class=\"summary\">\n");
    out.push_str(&figure(
        "missing-kbs",
        "Missing updates (KBs)",
        &words::thousands(report.kbs.len() as i64),
    ));
    out.push_str(&figure(
        "to-deploy",
        "Updates to deploy",
        &format!(
            "{}{}",
            words::thousands(steps.len() as i64),
            if steps.len() < report.kbs.len() {
                "<small>newest cumulative update of each Windows version only</small>"
            } else {
                ""
            }
        ),
    ));
    out.push_str(&figure(
        "devices",
        "Devices affected",
        &escape(&words::devices(report)),
    ));
    out.push_str(&figure(
        "cves",
        "CVEs the updates close",
        &words::thousands(steps.iter().map(|s| s.kb.cves_addressed).sum()),
    ));
    out.push_str(&figure(
        "exploited",
        "Updates closing an exploited CVE",
        &words::thousands(exploited as i64),
    ));
    out.push_str(&figure(
        "data",
        match report.data_as_of {
            Some(_) => "Data: export snapshot of",
            None => "Data: asked on",
        },
        &time(report.data_as_of.as_ref().unwrap_or(&report.generated_at)),
    ));
    if report.partial {
        let ids: Vec<&str> = report.failures.iter().map(|f| f.id.as_str()).collect();
        out.push_str(&format!(
            "<div id=\"partial\" class=\"partial\"><dt>Partial report</dt><dd>yes<small>{} \
             failed: {}</small></dd></div>\n",
            report.failures.len(),
            escape(&ids.join(", "))
        ));
    } else {
        out.push_str(&figure("partial", "Partial report", "no"));
    }
    out.push_str("</dl>\n");
    out
}

/// The exploit cell: words, marked when there is one.
fn exploit(kb: &defender_tvm::report::KbRollup) -> String {
    if words::has_exploit(kb) {
        format!("<span class=\"exploit\">{}</span>", words::exploit(kb))
    } else {
        words::exploit(kb).to_owned()
    }
}

/// The top of the deploy plan.
fn plan(report: &Report) -> String {
    let steps: Vec<&DeployStep> = report.deploy.steps.iter().take(TOP).collect();
    if steps.is_empty() {
        return "<h2>Deploy first</h2>\n<p>Nothing to deploy.</p>\n".to_owned();
    }
    let mut out = format!(
        "<h2>Deploy first</h2>\n<p>The {} updates that close the most, in order{}.</p>\n\
         <div class=\"scroll\"><table id=\"plan\">\n<thead><tr><th class=\"n\">#</th>\
         <th>Update</th><th class=\"n\">Devices</th><th class=\"n\">CVEs</th>\
         <th>Exploit</th><th>Also installs</th></tr></thead>\n<tbody>\n",
        steps.len(),
        if report.deploy.steps.len() > steps.len() {
            format!(
                " (of {}; all below)",
                words::thousands(report.deploy.steps.len() as i64)
            )
        } else {
            String::new()
        }
    );
    for step in steps {
        let kb = &step.kb;
        out.push_str(&format!(
            "<tr><td class=\"n\">{}</td><td>{}<small>{}</small></td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>\n",
            kb.rank,
            escape(&words::kb_label(kb)),
            escape(kb.name.as_deref().unwrap_or("")),
            words::thousands(kb.devices),
            words::thousands(kb.cves_addressed),
            exploit(kb),
            escape(
                &step
                    .covers
                    .iter()
                    .map(|id| format!("KB{id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    out.push_str("</tbody>\n</table></div>\n");
    out
}

/// The same steps as a horizontal bar chart (inline SVG), in the same order: each bar named by
/// its product and month, as long as its devices, hatched when it closes an exploited CVE.
fn chart(report: &Report) -> String {
    let steps: Vec<&DeployStep> = report.deploy.steps.iter().take(TOP).collect();
    if steps.is_empty() {
        return String::new();
    }
    let max = steps.iter().map(|s| s.kb.devices).max().unwrap_or(1).max(1) as f64;
    let (label, bar, row) = (360.0, 400.0, 22.0);
    let width = label + bar + 60.0;
    let height = row * steps.len() as f64 + 10.0;
    let mut svg = format!(
        "<h2>Devices each update reaches</h2>\n<figure>\n<svg role=\"img\" \
         aria-label=\"Devices each update of the plan reaches, in the plan's order\" \
         xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">\n<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" \
         patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" \
         height=\"6\" fill=\"#fff\"/><rect width=\"3\" height=\"6\" fill=\"#c50f1f\"/></pattern>\
         </defs>\n"
    );
    for (i, step) in steps.iter().enumerate() {
        let kb = &step.kb;
        let y = 5.0 + row * i as f64;
        let length = (kb.devices as f64 / max * bar).max(1.0);
        let (fill, mark) = if words::has_exploit(kb) {
            ("url(#hatch)", " ⚠")
        } else {
            ("#0f6cbd", "")
        };
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}. {}</text>\
             <rect x=\"{label}\" y=\"{y}\" width=\"{length:.1}\" height=\"{}\" fill=\"{fill}\" \
             stroke=\"#555\" stroke-width=\"0.5\"><title>{}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}{mark}</text>\n",
            label - 6.0,
            y + 13.0,
            kb.rank,
            escape(&words::kb_label(kb)),
            row - 6.0,
            escape(kb.name.as_deref().unwrap_or("")),
            label + length + 6.0,
            y + 13.0,
            words::thousands(kb.devices),
        ));
    }
    svg.push_str(
        "</svg>\n<figcaption class=\"legend\">Bar length: devices missing the update.\
        <span class=\"swatch plain\"></span>no exploit known\
        <span class=\"swatch hatched\"></span>⚠ closes a CVE with an exploit</figcaption>\n\
        </figure>\n",
    );
    svg
}

/// Every missing KB, in priority order.
fn kbs(report: &Report) -> String {
    let mut out = String::from(
        "<h2>Every missing update</h2>\n<div class=\"scroll\"><table id=\"kbs\">\n<thead><tr>\
         <th class=\"n\">Rank</th><th>KB</th><th>Update</th><th>Products</th>\
         <th class=\"n\">Devices</th><th class=\"n\">CVEs</th><th>Exploit</th>\
         <th>Severity</th><th>Missing since</th><th>Installed by</th><th>Catalog</th>\
         </tr></thead>\n<tbody>\n",
    );
    for kb in &report.kbs {
        let devices = if kb.devices_exact {
            words::thousands(kb.devices)
        } else {
            format!("≤ {}", words::thousands(kb.devices))
        };
        let link = match kb.url.as_deref() {
            Some(url) if url.starts_with("https://") => {
                format!("<a href=\"{}\">catalog</a>", escape(url))
            }
            _ => String::new(),
        };
        out.push_str(&format!(
            "<tr><td class=\"n\">{}</td><td>KB{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{link}</td>\
             </tr>\n",
            kb.rank,
            escape(&kb.id),
            escape(kb.name.as_deref().unwrap_or("")),
            escape(&words::products(&kb.products)),
            devices,
            words::thousands(kb.cves_addressed),
            exploit(kb),
            escape(
                &kb.severity
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ),
            escape(&kb.first_seen.as_ref().map(words::date).unwrap_or_default()),
            escape(
                &kb.covered_by
                    .as_ref()
                    .map(|id| format!("KB{id} (newer)"))
                    .unwrap_or_default()
            ),
        ));
    }
    out.push_str("</tbody>\n</table></div>\n");
    if report.kbs.iter().any(|kb| !kb.devices_exact) {
        out.push_str(
            "<p><small>≤: the sum over the KB's products (a device with two of them counts \
             twice); <code>--devices</code> or <code>--source export</code> gives exact \
             counts.</small></p>\n",
        );
    }
    out
}

/// A row per tenant: its figures, or why it failed.
fn tenant_summary(combined: &CombinedReport) -> String {
    let mut out = String::from(
        "<h2>Tenants</h2>\n<div class=\"scroll\"><table id=\"tenants\">\n<thead><tr><th>Tenant</th>\
         <th class=\"n\">Missing updates</th><th class=\"n\">To deploy</th>\
         <th>Devices affected</th><th class=\"n\">Software asked</th><th>Status</th>\
         </tr></thead>\n<tbody>\n",
    );
    for part in &combined.tenants {
        match &part.report {
            Ok(report) => out.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td>\
                 <td class=\"n\">{}</td><td>{}</td></tr>\n",
                escape(&part.tenant),
                words::thousands(report.kbs.len() as i64),
                words::thousands(report.deploy.steps.len() as i64),
                escape(&words::devices(report)),
                words::thousands(report.software_count as i64),
                if report.partial {
                    format!(
                        "<span class=\"exploit\">partial: {} failed</span>",
                        report.failures.len()
                    )
                } else {
                    "complete".to_owned()
                }
            )),
            Err(error) => out.push_str(&format!(
                "<tr><td>{}</td><td></td><td></td><td></td><td></td>\
                 <td><span class=\"exploit\">failed: {}</span></td></tr>\n",
                escape(&part.tenant),
                escape(&error.to_string())
            )),
        }
    }
    out.push_str("</tbody>\n</table></div>\n");
    out
}

/// The KBs missing in the most tenants, against each tenant's devices.
fn tenants_by_kb(combined: &CombinedReport) -> String {
    let names: Vec<&str> = combined
        .tenants
        .iter()
        .filter(|t| t.report.is_ok())
        .map(|t| t.tenant.as_str())
        .collect();
    let mut out = format!(
        "<h2>The updates missing in the most tenants</h2>\n<div class=\"scroll\">\
         <table id=\"tenants-by-kb\">\n<thead><tr><th>Update</th><th class=\"n\">Tenants</th>{}\
         </tr></thead>\n<tbody>\n",
        names
            .iter()
            .map(|n| format!("<th class=\"n\">{}</th>", escape(n)))
            .collect::<String>()
    );
    for kb in combined.kbs.iter().take(TOP) {
        let mut cells = String::new();
        for name in &names {
            let devices = combined
                .tenants
                .iter()
                .find(|t| t.tenant == *name)
                .and_then(|t| t.report())
                .and_then(|r| r.kbs.iter().find(|k| k.id == kb.id))
                .map(|k| words::thousands(k.devices));
            cells.push_str(&format!(
                "<td class=\"n\">{}</td>",
                devices.unwrap_or_else(|| "—".to_owned())
            ));
        }
        out.push_str(&format!(
            "<tr><td>KB{}<small>{}</small></td><td class=\"n\">{}</td>{cells}</tr>\n",
            escape(&kb.id),
            escape(kb.name.as_deref().unwrap_or("")),
            kb.tenants.len()
        ));
    }
    out.push_str("</tbody>\n</table></div>\n");
    out
}

/// Any other data: its table, with headers in plain words.
fn table(data: &Dataset) -> String {
    let mut out = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
    for column in &data.columns {
        out.push_str(&format!("<th>{}</th>", escape(&words::header(column))));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &data.rows {
        out.push_str("<tr>");
        for (column, cell) in data.columns.iter().zip(row) {
            let numeric = !cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit());
            if *column == "url" && cell.starts_with("https://") {
                out.push_str(&format!(
                    "<td><a href=\"{}\">catalog</a></td>",
                    escape(cell)
                ));
            } else if numeric {
                let n = cell.parse::<i64>().map(words::thousands);
                out.push_str(&format!(
                    "<td class=\"n\">{}</td>",
                    escape(&n.unwrap_or_else(|_| cell.clone()))
                ));
            } else if cell == "true" || cell == "false" {
                out.push_str(&format!("<td>{}</td>", words::yes_no(cell == "true")));
            } else {
                out.push_str(&format!("<td>{}</td>", escape(&cell.replace(';', "; "))));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
