//! `history report`: one page for people. The trend as a chart, SLA compliance per severity,
//! what was fixed and what is new since the previous snapshot (by update), and the oldest open
//! critical exposures: self-contained HTML (no script, no external asset, every value escaped),
//! the same as Markdown for tickets, or the answers as one JSON document.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use defender_tvm_history::{By, Changes, ChangesOf, ExposureRow, Remediation, Sla, Store, Trend};
use serde_json::json;

use super::store_error;
use crate::args::{Format, Global};
use crate::error::CliError;
use crate::exit::Exit;
use crate::formats::html::{STYLE, escape};
use crate::formats::markdown::cell;
use crate::formats::words::thousands;
use crate::output;

/// How many rows of each list the page shows.
const TOP: usize = 15;

/// What the page shows.
struct Page {
    tenant: Option<String>,
    trend: Trend,
    remediation: Remediation,
    changes: Changes,
    by_kb: Vec<ChangesOf>,
    oldest: Vec<ExposureRow>,
    /// Across tenants: remediation per tenant.
    tenants: Option<Remediation>,
}

/// Writes the page in `--format` (html, markdown, json; markdown on a terminal by default, html
/// to a file or a pipe).
pub fn run(
    store: &Store,
    tenant: Option<&str>,
    sla: Sla,
    global: &Global,
) -> Result<Exit, CliError> {
    let format = match global.format {
        Some(format) => format,
        None if global.output.is_none() && std::io::stdout().is_terminal() => Format::Markdown,
        None => Format::Html,
    };
    let changes = store.changes(tenant, None, None).map_err(store_error)?;
    let page = Page {
        tenant: tenant.map(str::to_string),
        trend: store.trend(tenant).map_err(store_error)?,
        remediation: store
            .remediation(tenant, None, None, sla, By::Severity)
            .map_err(store_error)?,
        by_kb: changes.by_kb(),
        changes,
        oldest: store
            .oldest_open(tenant, Some("Critical"), TOP)
            .map_err(store_error)?,
        tenants: None,
    };
    let mut page = page;
    let by_tenant = store
        .remediation(tenant, None, None, sla, By::Tenant)
        .map_err(store_error)?;
    if tenant.is_none() && by_tenant.groups.len() > 1 {
        page.tenants = Some(by_tenant);
    }
    let text = match format {
        Format::Html => html(&page),
        Format::Markdown => markdown(&page),
        Format::Json => {
            let document = json!({
                "trend": page.trend,
                "remediation": page.remediation,
                "changes": page.changes,
                "oldest_open_critical": page.oldest,
                "tenants": page.tenants,
            });
            serde_json::to_string_pretty(&document).map_err(|e| CliError::Io(e.to_string()))? + "\n"
        }
        other => {
            return Err(CliError::Usage(
                format!(
                    "`history report` writes html, markdown or json, not {other:?}; the answers as \
                 tables and CSV are `history trend`, `remediation` and `changes`"
                )
                .to_lowercase(),
            ));
        }
    };
    let mut out = output::writer(global)?;
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(Exit::Done),
        Err(e) => match output::write_failure(global, &e) {
            Some(error) => Err(error),
            None => Ok(Exit::Done),
        },
    }
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    crate::formats::words::rfc3339(&t)
}

fn date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%-d %B %Y").to_string()
}

fn count(n: u64) -> String {
    thousands(n as i64)
}

fn days(value: Option<f64>) -> String {
    value
        .map(|v| format!("{v:.1}"))
        .unwrap_or_else(|| "–".into())
}

fn title(page: &Page) -> String {
    match &page.tenant {
        Some(tenant) => format!("Vulnerability history: {tenant}"),
        None => "Vulnerability history".to_string(),
    }
}

/// The share of open exposures within their SLA, as a percentage.
fn within(open: u64, past: u64) -> String {
    if open == 0 {
        return "–".into();
    }
    format!("{:.0} %", (open - past) as f64 * 100.0 / open as f64)
}

fn headline(page: &Page) -> String {
    let Some(last) = page.trend.snapshots.last() else {
        return "The store has no snapshot yet.".into();
    };
    let first = &page.trend.snapshots[0];
    let n = |v: u64| thousands(v as i64);
    let direction = match last.open_exposures.cmp(&first.open_exposures) {
        std::cmp::Ordering::Less => format!(
            "down {} from {}",
            n(first.open_exposures - last.open_exposures),
            n(first.open_exposures)
        ),
        std::cmp::Ordering::Greater => format!(
            "up {} from {}",
            n(last.open_exposures - first.open_exposures),
            n(first.open_exposures)
        ),
        std::cmp::Ordering::Equal => "as at the start".to_string(),
    };
    format!(
        "{} snapshots from {} to {}. Open exposures: {} ({direction}); {} critical, {} with a known exploit, on {} devices.",
        n(page.trend.snapshots.len() as u64),
        date(first.generated_time),
        date(last.generated_time),
        n(last.open_exposures),
        n(last.critical_open),
        n(last.exploited_open),
        n(last.devices_exposed),
    )
}

/// The axis' top: four round steps (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten)
/// reaching `max`.
fn nice_max(max: u64) -> u64 {
    let mut unit = 1u64;
    loop {
        for tenths in [10, 15, 20, 25, 30, 40, 50, 60, 80] {
            let step = (unit.saturating_mul(tenths) / 10).max(1);
            let top = step.saturating_mul(4);
            if top >= max || top == u64::MAX {
                return top;
            }
        }
        unit = unit.saturating_mul(10);
    }
}

/// The trend as an SVG line chart: open exposures and critical open, per snapshot.
fn chart(trend: &Trend) -> String {
    let points = &trend.snapshots;
    if points.len() < 2 {
        return String::new();
    }
    let (w, h, left, bottom) = (720.0, 240.0, 56.0, 28.0);
    let max = nice_max(
        points
            .iter()
            .map(|p| p.open_exposures)
            .max()
            .unwrap_or(1)
            .max(1),
    ) as f64;
    let x = |i: usize| left + (w - left - 10.0) * i as f64 / (points.len() - 1) as f64;
    let y = |v: u64| 10.0 + (h - bottom - 10.0) * (1.0 - v as f64 / max);
    let line = |value: fn(&defender_tvm_history::TrendPoint) -> u64| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(value(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = format!(
        "<figure><svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Open exposures per snapshot\">\n"
    );
    for tick in 0..=4 {
        let value = (max * tick as f64 / 4.0).round() as u64;
        let label = thousands(value as i64);
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e5e5e5\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            w - 10.0,
            y(value),
            y(value),
            left - 6.0,
            y(value) + 4.0
        );
    }
    for (i, anchor) in [
        (0, "start"),
        (points.len() / 2, "middle"),
        (points.len() - 1, "end"),
    ] {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            x(i),
            h - 8.0,
            escape(&points[i].generated_time.format("%-d %b").to_string())
        );
    }
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"#0f6cbd\" stroke-width=\"2\" points=\"{}\"/>",
        line(|p| p.open_exposures)
    );
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"#c50f1f\" stroke-width=\"2\" stroke-dasharray=\"5 3\" points=\"{}\"/>",
        line(|p| p.critical_open)
    );
    svg.push_str("</svg>\n<figcaption class=\"legend\"><span class=\"swatch plain\"></span>open exposures<span class=\"swatch hatched\"></span>critical open</figcaption></figure>\n");
    svg
}

/// A table of the page, its cells as text: written once, rendered as HTML or Markdown.
struct Table {
    header: Vec<&'static str>,
    /// Whether each column holds numbers (right-aligned).
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&'static str, bool)]) -> Table {
        Table {
            header: columns.iter().map(|(name, _)| *name).collect(),
            numeric: columns.iter().map(|(_, numeric)| *numeric).collect(),
            rows: Vec::new(),
        }
    }

    fn html(&self) -> String {
        let class = |i: usize| if self.numeric[i] { " class=\"n\"" } else { "" };
        let mut out = String::from("<div class=\"scroll\"><table>\n<tr>");
        for (i, name) in self.header.iter().enumerate() {
            let _ = write!(out, "<th{}>{}</th>", class(i), escape(name));
        }
        out.push_str("</tr>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for (i, value) in row.iter().enumerate() {
                let _ = write!(out, "<td{}>{}</td>", class(i), escape(value));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table></div>\n");
        out
    }

    fn markdown(&self) -> String {
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut out = line(self.header.iter().map(|h| cell(h)).collect());
        let rule: Vec<String> = self
            .numeric
            .iter()
            .map(|&n| {
                if n {
                    "--:".to_string()
                } else {
                    "---".to_string()
                }
            })
            .collect();
        out.push_str(&format!("|{}|\n", rule.join("|")));
        for row in &self.rows {
            out.push_str(&line(row.iter().map(|v| cell(v)).collect()));
        }
        out
    }
}

/// A part of the page: a heading, a sentence, a table.
struct Section {
    heading: &'static str,
    text: Option<String>,
    table: Option<Table>,
}

/// The page's parts after the chart, in order.
fn sections(page: &Page) -> Vec<Section> {
    let mut sections = Vec::new();
    if let Some(tenants) = &page.tenants {
        let mut table = Table::new(&[
            ("Tenant", false),
            ("Open", true),
            ("Past SLA", true),
            ("Within SLA", true),
            ("Fixed", true),
            ("Median days to fix", true),
        ]);
        for g in &tenants.groups {
            table.rows.push(vec![
                g.key.clone(),
                count(g.open),
                count(g.open_past_sla),
                within(g.open, g.open_past_sla),
                count(g.fixed),
                days(g.median_days),
            ]);
        }
        sections.push(Section {
            heading: "Per tenant",
            text: None,
            table: Some(table),
        });
    }
    let mut sla = Table::new(&[
        ("Severity", false),
        ("SLA days", true),
        ("Open", true),
        ("Past SLA", true),
        ("Within SLA", true),
        ("Oldest open (days)", true),
        ("Fixed", true),
        ("Median days to fix", true),
        ("90th percentile", true),
    ]);
    for g in &page.remediation.groups {
        sla.rows.push(vec![
            g.key.clone(),
            g.sla_days
                .map(|d| d.to_string())
                .unwrap_or_else(|| "–".into()),
            count(g.open),
            count(g.open_past_sla),
            within(g.open, g.open_past_sla),
            days(g.oldest_open_days),
            count(g.fixed),
            days(g.median_days),
            days(g.p90_days),
        ]);
    }
    sections.push(Section {
        heading: "SLA compliance",
        text: Some(format!(
            "Open as of {}; SLA {} (days from when Defender first saw the exposure).",
            page.remediation.until.map(time).unwrap_or_default(),
            page.remediation.sla
        )),
        table: Some(sla),
    });
    let mut by_kb = Table::new(&[
        ("Update", false),
        ("Fixed on devices", true),
        ("New on devices", true),
        ("Reopened on devices", true),
    ]);
    for row in page.by_kb.iter().take(TOP) {
        by_kb.rows.push(vec![
            row.key.clone(),
            count(row.fixed_devices as u64),
            count(row.new_devices as u64),
            count(row.reopened_devices as u64),
        ]);
    }
    sections.push(Section {
        heading: "Since the previous snapshot",
        text: Some(since_previous(&page.changes)),
        table: (!by_kb.rows.is_empty()).then_some(by_kb),
    });
    let mut oldest = Table::new(&[
        ("Device", false),
        ("Software", false),
        ("Version", false),
        ("CVE", false),
        ("Update", false),
        ("First seen", false),
    ]);
    for e in &page.oldest {
        let device = e.device_name.clone().unwrap_or_else(|| e.device_id.clone());
        oldest.rows.push(vec![
            match &e.tenant {
                Some(tenant) => format!("{device} ({tenant})"),
                None => device,
            },
            format!("{} {}", e.software_vendor, e.software_name),
            e.software_version.clone().unwrap_or_default(),
            e.cve_id.clone(),
            kb(e),
            date(e.first_seen),
        ]);
    }
    sections.push(Section {
        heading: "Oldest open critical exposures",
        text: oldest
            .rows
            .is_empty()
            .then(|| "No critical exposure is open.".to_string()),
        table: (!oldest.rows.is_empty()).then_some(oldest),
    });
    sections
}

fn html(page: &Page) -> String {
    let title = escape(&title(page));
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<p>{}</p>\n",
        escape(&headline(page))
    );
    out.push_str("<h2>Open exposures over time</h2>\n");
    out.push_str(&chart(&page.trend));
    for section in sections(page) {
        let _ = writeln!(out, "<h2>{}</h2>", escape(section.heading));
        if let Some(text) = &section.text {
            let _ = writeln!(out, "<p>{}</p>", escape(text));
        }
        if let Some(table) = &section.table {
            out.push_str(&table.html());
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn kb(e: &ExposureRow) -> String {
    match &e.kb {
        Some(kb) if kb.chars().all(|c| c.is_ascii_digit()) => format!("KB{kb}"),
        Some(kb) => kb.clone(),
        None => "–".to_string(),
    }
}

fn since_previous(changes: &Changes) -> String {
    format!(
        "From {} to {}: {} exposures fixed, {} new, {} reopened; {} devices retired.",
        changes.from.map(time).unwrap_or_else(|| "the start".into()),
        changes.to.map(time).unwrap_or_else(|| "the start".into()),
        changes.fixed.len(),
        changes.new.len(),
        changes.reopened.len(),
        changes.retired_devices.len()
    )
}

fn markdown(page: &Page) -> String {
    let mut out = format!("# {}\n\n{}\n", cell(&title(page)), cell(&headline(page)));
    for section in sections(page) {
        let _ = write!(out, "\n## {}\n\n", cell(section.heading));
        if let Some(text) = &section.text {
            let _ = write!(out, "{}\n\n", cell(text));
        }
        if let Some(table) = &section.table {
            out.push_str(&table.markdown());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{chart, kb, nice_max};

    #[test]
    fn the_chart_puts_zero_at_the_bottom_and_the_axis_top_at_the_top() {
        let point = |n: u64| defender_tvm_history::TrendPoint {
            generated_time: chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(n as i64),
            open_exposures: n * 40,
            ..Default::default()
        };
        let svg = chart(&defender_tvm_history::Trend {
            snapshots: vec![point(0), point(1)],
        });
        // Open exposures 0 then 40 (the axis' top): from the bottom left to the top right.
        assert!(svg.contains("points=\"56.0,212.0 710.0,10.0\""), "{svg}");
    }
    use defender_tvm_history::ExposureRow;

    #[test]
    fn an_exposures_update_reads_as_people_name_it() {
        let row = |update: Option<&str>| ExposureRow {
            tenant: None,
            device_id: "d1".into(),
            device_name: None,
            software_vendor: "microsoft".into(),
            software_name: "windows_11".into(),
            software_version: None,
            cve_id: "CVE-2026-0001".into(),
            severity: None,
            kb: update.map(str::to_string),
            first_seen: chrono::DateTime::UNIX_EPOCH,
            fixed_at: None,
        };
        assert_eq!(kb(&row(Some("5040131"))), "KB5040131");
        assert_eq!(kb(&row(Some("RHSA-2024:9315"))), "RHSA-2024:9315");
        assert_eq!(kb(&row(None)), "–");
    }

    #[test]
    fn the_axis_ends_at_four_round_steps_just_above_the_highest_value() {
        assert_eq!(nice_max(48_553), 60_000);
        assert_eq!(nice_max(10_951), 12_000);
        assert_eq!(nice_max(40_000), 40_000);
        assert_eq!(nice_max(3), 4);
        assert_eq!(nice_max(1), 4);
    }
}
