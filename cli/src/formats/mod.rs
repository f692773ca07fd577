//! The formats: a [`Dataset`] written as a table, JSON, NDJSON, CSV (formula-safe,
//! `spreadsheet.rs`), HTML (`html.rs`) or Markdown (`markdown.rs`), in the words they share
//! (`words.rs`).

pub mod html;
pub mod markdown;
pub mod spreadsheet;
pub mod words;

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table, presets};

use crate::args::Format;
use crate::datasets::Dataset;

/// Writes `data` as `format`; `width` is the terminal's when writing to one; `csv_raw` writes
/// CSV values as they are (see `spreadsheet.rs`).
pub fn write(
    data: &Dataset,
    format: Format,
    out: &mut dyn Write,
    width: Option<u16>,
    csv_raw: bool,
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
            let shown = data.shown();
            table.set_header(shown.iter().map(|&i| data.columns[i]).collect::<Vec<_>>());
            for row in &data.rows {
                // Lists (`office;teams`) wrap at their separators, never inside a word.
                table.add_row(
                    shown
                        .iter()
                        .map(|&i| row[i].replace(';', "; "))
                        .collect::<Vec<_>>(),
                );
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
                csv.write_record(
                    row.iter()
                        .map(|v| spreadsheet::cell(v, csv_raw).into_owned()),
                )
                .map_err(io::Error::other)?;
            }
            csv.flush()
        }
        Format::Html => out.write_all(html::page(data).as_bytes()),
        Format::Markdown => out.write_all(markdown::markdown(data).as_bytes()),
        // Refused before any command runs (`Format::written_by`): `history export` writes its
        // files itself.
        Format::Parquet => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "parquet is written by `history export` alone",
        )),
    }
}
