//! `export`: every row of an export snapshot, streamed to NDJSON, CSV or JSON as it is read (an
//! export can hold millions of rows: none is kept), with progress in files and rows.

use std::io::Write;

use defender_tvm::{
    Client, Error,
    export::{ExportPages, ExportProgress, ExportRowsOptions},
};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::Value;

use crate::args::{ExportArgs, Format, Global, Via};
use crate::error::CliError;
use crate::exit::Exit;
use crate::output;
use crate::terminal::{self, Notices};

/// The CSV columns of each kind of row (stable, documented in the README), and the JSON key
/// each shows.
const VULNERABILITY_COLUMNS: &[(&str, &str)] = &[
    ("device_id", "deviceId"),
    ("device_name", "deviceName"),
    ("rbac_group_name", "rbacGroupName"),
    ("os_platform", "osPlatform"),
    ("os_version", "osVersion"),
    ("software_vendor", "softwareVendor"),
    ("software_name", "softwareName"),
    ("software_version", "softwareVersion"),
    ("cve_id", "cveId"),
    ("cvss_score", "cvssScore"),
    ("severity", "vulnerabilitySeverityLevel"),
    ("exploitability_level", "exploitabilityLevel"),
    (
        "recommended_security_update_id",
        "recommendedSecurityUpdateId",
    ),
    ("recommended_security_update", "recommendedSecurityUpdate"),
    ("first_seen", "firstSeenTimestamp"),
    ("last_seen", "lastSeenTimestamp"),
];
const CHANGE_COLUMNS: &[(&str, &str)] = &[("status", "status"), ("event_time", "eventTimestamp")];
const INVENTORY_COLUMNS: &[(&str, &str)] = &[
    ("device_id", "deviceId"),
    ("device_name", "deviceName"),
    ("rbac_group_name", "rbacGroupName"),
    ("os_platform", "osPlatform"),
    ("os_version", "osVersion"),
    ("software_vendor", "softwareVendor"),
    ("software_name", "softwareName"),
    ("software_version", "softwareVersion"),
    ("number_of_weaknesses", "numberOfWeaknesses"),
    ("first_seen", "softwareFirstSeenTimestamp"),
    ("end_of_support_status", "endOfSupportStatus"),
];

/// Refuses what `export` cannot do, before connecting.
pub fn check(global: &Global, args: &ExportArgs) -> Result<(), CliError> {
    if matches!(
        global.format_or(Format::Ndjson),
        Format::Table | Format::Html | Format::Markdown | Format::Parquet
    ) {
        return Err(CliError::Usage(
            "export writes ndjson, csv or json (an export can hold millions of rows)".into(),
        ));
    }
    if args.changes_since.is_some() && args.via == Some(Via::Files) {
        return Err(CliError::Usage(
            "--changes-since reads JSON pages only (the delta export has no files)".into(),
        ));
    }
    Ok(())
}

/// Streams the export's rows out (after [`check`]).
pub async fn run(client: &Client, global: &Global, args: &ExportArgs) -> Result<Exit, CliError> {
    let format = global.format_or(Format::Ndjson);
    let bar = terminal::bar(
        global,
        None,
        "{spinner} {pos}/{len} files {elapsed_precise} {msg}",
    );
    let notices = Notices::new(global, &bar);
    let say = |line: String| notices.say(line);
    let pages = ExportPages::new().page_size(ExportPages::MAX_PAGE_SIZE);
    let files = ExportRowsOptions::new().concurrency(usize::from(args.concurrency));
    let mut columns: Vec<(&str, &str)> = if args.inventory {
        INVENTORY_COLUMNS.to_vec()
    } else {
        VULNERABILITY_COLUMNS.to_vec()
    };
    let rows: Rows = match (
        args.inventory,
        args.changes_since,
        args.via.unwrap_or(Via::Files),
    ) {
        (false, Some(since), _) => {
            columns.extend_from_slice(CHANGE_COLUMNS);
            say(format!(
                "export: the vulnerability changes since {} (JSON pages)",
                since.time()
            ));
            Rows::plain(
                client
                    .software_vulnerability_changes_by_machine(since, pages)
                    .items(),
            )
        }
        (false, None, Via::Json) => {
            say("export: the software vulnerabilities (JSON pages)".into());
            Rows::plain(client.software_vulnerabilities_by_machine(pages).items())
        }
        (true, _, Via::Json) => {
            say("export: the software inventory (JSON pages)".into());
            Rows::plain(client.software_inventory_by_machine(pages).items())
        }
        (false, None, Via::Files) => {
            let rows = client.software_vulnerabilities_export_rows(files).await?;
            say(format!(
                "export: the software vulnerabilities snapshot of {} ({})",
                rows.generated_time(),
                files_count(rows.progress().files_total)
            ));
            Rows::files(rows)
        }
        (true, _, Via::Files) => {
            let rows = client.software_inventory_export_rows(files).await?;
            say(format!(
                "export: the software inventory snapshot of {} ({})",
                rows.generated_time(),
                files_count(rows.progress().files_total)
            ));
            Rows::files(rows)
        }
    };
    let mut out = output::writer(global)?;
    let written = tokio::select! {
        written = write_rows(rows, format, &columns, global.csv_raw, &mut out, &bar) => written,
        _ = tokio::signal::ctrl_c() => {
            bar.abandon_with_message("interrupted");
            return Err(CliError::Interrupted);
        }
    };
    bar.finish_and_clear();
    let count = match written {
        Ok(count) => count,
        Err(Failure::Api(e)) => return Err(CliError::Api(e)),
        Err(Failure::Write(e)) => {
            return match output::write_failure(global, &e) {
                Some(error) => Err(error),
                None => Ok(Exit::Done),
            };
        }
    };
    if let Err(e) = out.flush()
        && let Some(error) = output::write_failure(global, &e)
    {
        return Err(error);
    }
    say(if args.inventory {
        format!("export: {} rows", count.rows)
    } else {
        format!(
            "export: {} rows, {} of them software without a vulnerability (no CVE)",
            count.rows, count.without_cve
        )
    });
    Ok(Exit::Done)
}

/// "1 file", "3 files".
fn files_count(files: usize) -> String {
    match files {
        1 => "1 file".to_owned(),
        n => format!("{n} files"),
    }
}

/// The rows, as JSON values, and where reading the files stands (via files).
struct Rows {
    stream: BoxStream<'static, Result<Value, Error>>,
    progress: Option<Box<dyn Fn() -> ExportProgress + Send>>,
}

impl Rows {
    fn plain<T: Serialize + 'static>(
        stream: impl futures::Stream<Item = Result<T, Error>> + Send + 'static,
    ) -> Self {
        Self {
            stream: stream.map_ok(value).boxed(),
            progress: None,
        }
    }

    fn files<T: Serialize + Send + 'static>(rows: defender_tvm::export::ExportRows<T>) -> Self {
        let progress = rows.progress_handle();
        Self {
            stream: rows.map_ok(value).boxed(),
            progress: Some(Box::new(move || progress.get())),
        }
    }
}

fn value<T: Serialize>(row: T) -> Value {
    serde_json::to_value(row).unwrap_or(Value::Null)
}

/// Why writing rows stopped.
enum Failure {
    Api(Error),
    Write(std::io::Error),
}

/// Where rows are written, in their format.
enum Sink<'a> {
    Csv(Box<csv::Writer<&'a mut dyn Write>>),
    /// NDJSON, or (`json`) one JSON array.
    Lines {
        out: &'a mut dyn Write,
        json: bool,
    },
}

/// How many rows were written, and how many of them name no CVE (a software that is installed
/// and has no vulnerability: the service sends one such row per installation).
#[derive(Debug, Default, Clone, Copy)]
struct Count {
    rows: u64,
    without_cve: u64,
}

/// Writes every row as `format`, updating the bar; returns how many were written.
async fn write_rows(
    mut rows: Rows,
    format: Format,
    columns: &[(&str, &str)],
    csv_raw: bool,
    out: &mut Box<dyn Write>,
    bar: &ProgressBar,
) -> Result<Count, Failure> {
    let csv_error = |e: csv::Error| Failure::Write(std::io::Error::other(e));
    let mut sink = match format {
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut **out as &mut dyn Write);
            let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
            csv.write_record(&names).map_err(csv_error)?;
            Sink::Csv(Box::new(csv))
        }
        _ => {
            let json = format == Format::Json;
            if json {
                out.write_all(b"[").map_err(Failure::Write)?;
            }
            Sink::Lines {
                out: &mut **out,
                json,
            }
        }
    };
    let mut count: u64 = 0;
    let mut without_cve: u64 = 0;
    while let Some(row) = rows.stream.next().await {
        let row = row.map_err(Failure::Api)?;
        if row.get("cveId").is_some_and(Value::is_null) {
            without_cve += 1;
        }
        match &mut sink {
            Sink::Csv(csv) => {
                let record: Vec<String> = columns
                    .iter()
                    .map(|(_, key)| cell(&row[*key], csv_raw))
                    .collect();
                csv.write_record(&record).map_err(csv_error)?;
            }
            Sink::Lines { out, json } => {
                if *json {
                    let separator: &[u8] = if count > 0 { b",\n" } else { b"\n" };
                    out.write_all(separator).map_err(Failure::Write)?;
                }
                serde_json::to_writer(&mut **out, &row).map_err(|e| Failure::Write(e.into()))?;
                if !*json {
                    out.write_all(b"\n").map_err(Failure::Write)?;
                }
            }
        }
        count += 1;
        if count.is_multiple_of(1024) {
            show(bar, &rows, count);
        }
    }
    match sink {
        Sink::Csv(mut csv) => csv.flush().map_err(Failure::Write)?,
        Sink::Lines { out, json: true } => out.write_all(b"\n]\n").map_err(Failure::Write)?,
        Sink::Lines { .. } => {}
    }
    Ok(Count {
        rows: count,
        without_cve,
    })
}

/// A JSON value as a CSV cell: text as a spreadsheet shows text (unless `raw`: see
/// `spreadsheet.rs`), lists joined with `;`, numbers as they are, null empty.
fn cell(value: &Value, raw: bool) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => crate::formats::spreadsheet::cell(text, raw).into_owned(),
        Value::Array(items) => {
            let joined = items
                .iter()
                .map(|item| cell(item, true))
                .collect::<Vec<_>>()
                .join(";");
            crate::formats::spreadsheet::cell(&joined, raw).into_owned()
        }
        other => other.to_string(),
    }
}

/// The bar: files read (via files) or rows read.
fn show(bar: &ProgressBar, rows: &Rows, count: u64) {
    match &rows.progress {
        Some(progress) => {
            let progress = progress();
            bar.set_length(progress.files_total as u64);
            bar.set_position(progress.files_done as u64);
            bar.set_message(format!("{} rows", progress.rows));
        }
        None => bar.set_message(format!("{count} rows")),
    }
}
