//! Markdown, for tickets and chat: for the report, a summary and the top of the deploy plan;
//! for any other data, its table.

use defender_tvm::report::Report;

use crate::datasets::Dataset;
use crate::formats::words;

/// How many steps of the deploy plan the Markdown shows.
const TOP: usize = 10;

/// `data` as Markdown.
pub fn markdown(data: &Dataset) -> String {
    let mut out = format!("# {}\n\n", cell(&data.title));
    match &data.report {
        Some(report) => report_summary(report, &mut out),
        None => {
            let shown = data.shown();
            let header: Vec<String> = shown
                .iter()
                .map(|&i| words::header(data.columns[i]))
                .collect();
            table(
                &mut out,
                &header,
                data.rows
                    .iter()
                    .map(|row| shown.iter().map(|&i| row[i].replace(';', "; ")).collect()),
            );
            if let Some(footer) = &data.footer {
                out.push_str(&format!("\n{}\n", cell(footer)));
            }
        }
    }
    out
}

fn report_summary(report: &Report, out: &mut String) {
    let steps = &report.deploy.steps;
    let exploited = steps.iter().filter(|s| words::has_exploit(&s.kb)).count();
    out.push_str(&format!(
        "- **Missing KBs:** {}; **to deploy:** {}{}\n",
        words::thousands(report.kbs.len() as i64),
        words::thousands(steps.len() as i64),
        if report.deploy.collapsed && steps.len() < report.kbs.len() {
            " (the newest Windows cumulative update of a version installs the older ones)"
        } else {
            ""
        }
    ));
    out.push_str(&format!(
        "- **Devices affected:** {}\n",
        words::devices(report)
    ));
    out.push_str(&format!(
        "- **CVEs closed by the plan:** {}\n",
        words::thousands(steps.iter().map(|s| s.kb.cves_addressed).sum())
    ));
    out.push_str(&format!(
        "- **Updates with an exploit:** {}\n",
        words::thousands(exploited as i64)
    ));
    out.push_str(&format!(
        "- **Data:** {}\n",
        match &report.data_as_of {
            Some(when) => format!("export snapshot of {}", words::date(when)),
            None => format!("asked {}", words::date(&report.generated_at)),
        }
    ));
    if report.partial {
        out.push_str(&format!(
            "- **Partial:** yes, {} failed ({})\n",
            report.failures.len(),
            cell(
                &report
                    .failures
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        ));
    } else {
        out.push_str("- **Partial:** no\n");
    }
    if steps.is_empty() {
        out.push_str("\nNothing to deploy.\n");
        return;
    }
    out.push_str("\n## Deploy first\n\n");
    let header = [
        "#",
        "KB",
        "Update",
        "Devices",
        "CVEs",
        "Exploit",
        "Also installs",
    ]
    .map(String::from)
    .to_vec();
    table(
        out,
        &header,
        steps.iter().take(TOP).map(|step| {
            vec![
                step.kb.rank.to_string(),
                format!("KB{}", step.kb.id),
                step.kb.name.clone().unwrap_or_default(),
                words::thousands(step.kb.devices),
                words::thousands(step.kb.cves_addressed),
                words::exploit(&step.kb).to_owned(),
                step.covers
                    .iter()
                    .map(|id| format!("KB{id}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        }),
    );
    if steps.len() > TOP {
        out.push_str(&format!(
            "\n…and {} more: `--format csv` or `--format html` lists them all.\n",
            steps.len() - TOP
        ));
    }
}

/// A Markdown table of values as they are: every cell, header included, goes through
/// [`cell`] here, so no column can be left unescaped.
fn table(out: &mut String, header: &[String], rows: impl Iterator<Item = Vec<String>>) {
    let line = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    out.push_str(&line(header));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for row in rows {
        out.push_str(&line(&row));
    }
}

/// A value as Markdown text: what would make markup (`|`, `*`, `_`, `` ` ``, `[`, `]`, `<`,
/// `>`, `&`, `\`, line breaks) cannot.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn values_cannot_make_markup() {
        assert_eq!(
            cell("a|b *c* _d_ `e` [f](g) <h> & \\ #\nnext"),
            "a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) &lt;h&gt; &amp; \\\\ \\# next"
        );
    }
}
