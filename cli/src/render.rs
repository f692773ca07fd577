//! The formats: a [`Dataset`] written as a table, JSON, NDJSON, CSV or HTML.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table, presets};
use defender_tvm::Report;

use crate::args::Format;
use crate::datasets::Dataset;

/// Writes `data` as `format`; `width` is the terminal's when writing to one.
pub fn write(
    data: &Dataset,
    format: Format,
    out: &mut dyn Write,
    width: Option<u16>,
) -> io::Result<()> {
    match format {
        Format::Table => {
            let mut table = Table::new();
            match width {
                Some(width) => {
                    table
                        .load_preset(presets::UTF8_FULL_CONDENSED)
                        .set_content_arrangement(ContentArrangement::Dynamic)
                        .set_width(width);
                }
                None => {
                    table
                        .load_preset(presets::NOTHING)
                        .set_content_arrangement(ContentArrangement::Disabled);
                }
            }
            let shown: Vec<usize> = match &data.table_columns {
                Some(columns) => columns.clone(),
                None => (0..data.columns.len()).collect(),
            };
            table.set_header(shown.iter().map(|&i| data.columns[i]).collect::<Vec<_>>());
            for row in &data.rows {
                table.add_row(shown.iter().map(|&i| row[i].clone()).collect::<Vec<_>>());
            }
            writeln!(out, "{table}")?;
            if let Some(footer) = &data.footer {
                writeln!(out, "{footer}")?;
            }
            Ok(())
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &data.document)?;
            writeln!(out)
        }
        Format::Ndjson => {
            for record in &data.records {
                serde_json::to_writer(&mut *out, record)?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(&data.columns).map_err(io::Error::other)?;
            for row in &data.rows {
                csv.write_record(row).map_err(io::Error::other)?;
            }
            csv.flush()
        }
        Format::Html => out.write_all(html(data).as_bytes()),
    }
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped, so a value can never become markup.
fn escape(text: &str) -> String {
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

/// One self-contained page: no external assets, no JavaScript.
fn html(data: &Dataset) -> String {
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str(&format!("<title>{}</title>\n", escape(&data.title)));
    page.push_str(
        "<style>\nbody{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1b1b1b}\n\
         h1{font-size:1.5rem}dl{display:grid;grid-template-columns:max-content auto;gap:.25rem 1rem}\n\
         dt{font-weight:600}table{border-collapse:collapse;width:100%;font-size:.85rem}\n\
         th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}\n\
         th{background:#f3f3f3;position:sticky;top:0}td.n{text-align:right}\n\
         .partial{color:#a4262c;font-weight:600}svg text{font-size:12px;fill:#1b1b1b}\n</style>\n",
    );
    page.push_str("</head>\n<body>\n");
    page.push_str(&format!("<h1>{}</h1>\n", escape(&data.title)));
    if let Some(report) = &data.report {
        page.push_str(&summary(report));
        page.push_str(&chart(report));
    }
    page.push_str("<table>\n<thead><tr>");
    for column in &data.columns {
        page.push_str(&format!("<th>{}</th>", escape(column)));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for row in &data.rows {
        page.push_str("<tr>");
        for (column, cell) in data.columns.iter().zip(row) {
            let numeric = !cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit());
            let class = if numeric { " class=\"n\"" } else { "" };
            if *column == "url" && cell.starts_with("https://") {
                page.push_str(&format!(
                    "<td><a href=\"{}\">catalog</a></td>",
                    escape(cell)
                ));
            } else {
                page.push_str(&format!("<td{class}>{}</td>", escape(cell)));
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
    if let Some(footer) = &data.footer {
        page.push_str(&format!("<p>{}</p>\n", escape(footer)));
    }
    page.push_str("</body>\n</html>\n");
    page
}

fn summary(report: &Report) -> String {
    let devices = match report.devices() {
        Some(devices) => format!("{} (exact)", devices.len()),
        None => format!(
            "at least {} (the KB missing on the most devices; run with --devices for exact \
             distinct devices)",
            report.kbs.iter().map(|kb| kb.devices).max().unwrap_or(0)
        ),
    };
    let partial = if report.partial {
        format!(
            "<dd class=\"partial\">yes: {} failed (see the JSON output)</dd>",
            report.failures.len()
        )
    } else {
        "<dd>no</dd>".to_owned()
    };
    format!(
        "<dl>\n<dt>Generated</dt><dd>{}</dd>\n<dt>Software asked</dt><dd>{}</dd>\n\
         <dt>Missing KBs</dt><dd>{}</dd>\n<dt>CVEs addressed</dt><dd>{}</dd>\n\
         <dt>Devices</dt><dd>{}</dd>\n<dt>Partial</dt>{partial}\n</dl>\n",
        escape(&report.generated_at),
        report.software_count,
        report.kbs.len(),
        report.cves_addressed(),
        escape(&devices),
    )
}

/// A horizontal bar chart (inline SVG) of the KBs missing on the most devices.
fn chart(report: &Report) -> String {
    let mut top: Vec<&defender_tvm::KbRollup> = report.kbs.iter().collect();
    top.sort_by(|a, b| b.devices.cmp(&a.devices).then_with(|| a.id.cmp(&b.id)));
    top.truncate(15);
    if top.is_empty() {
        return String::new();
    }
    let max = top.iter().map(|kb| kb.devices).max().unwrap_or(1).max(1) as f64;
    let (label, bar, row) = (110.0, 520.0, 22.0);
    let height = row * top.len() as f64 + 30.0;
    let mut svg = format!(
        "<h2>Top KBs by devices</h2>\n<svg role=\"img\" aria-label=\"Top KBs by devices\" \
         xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\">\n",
        label + bar + 80.0
    );
    for (i, kb) in top.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let width = (kb.devices as f64 / max * bar).max(1.0);
        let color = if kb.public_exploit {
            "#c50f1f"
        } else {
            "#0f6cbd"
        };
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\">KB{}</text><rect x=\"{label}\" y=\"{y}\" width=\"{width:.1}\" \
             height=\"{}\" fill=\"{color}\"><title>{}</title></rect>\
             <text x=\"{:.1}\" y=\"{}\">{}</text>\n",
            y + 14.0,
            escape(&kb.id),
            row - 6.0,
            escape(kb.name.as_deref().unwrap_or("")),
            label + width + 6.0,
            y + 14.0,
            kb.devices
        ));
    }
    svg.push_str(&format!(
        "<text x=\"0\" y=\"{}\">Red: a public exploit exists for one of its software.</text>\n</svg>\n",
        height - 4.0
    ));
    svg
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
