//! Where the data goes: `--output FILE`, or standard output (a table fitted to the terminal when
//! it is one; a closed pipe, as with `| head`, is not a failure).

use std::io::{IsTerminal, Write};

use crate::args::{Format, Global};
use crate::datasets::Dataset;
use crate::error::CliError;
use crate::formats;

/// Writes `data` in `--format` to `--output` or standard output.
pub fn emit(data: &Dataset, global: &Global) -> Result<(), CliError> {
    match &global.output {
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))?;
            formats::write(
                data,
                global.format_or(Format::Table),
                &mut file,
                None,
                global.csv_raw,
            )
            .and_then(|()| file.flush())
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))
        }
        None => {
            let stdout = std::io::stdout();
            let format = global.format_or(Format::Table);
            let width = if format == Format::Table && stdout.is_terminal() {
                Some(terminal_width())
            } else {
                None
            };
            let mut out = stdout.lock();
            let written = formats::write(data, format, &mut out, width, global.csv_raw);
            match written.and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                // A closed pipe (`| head`) is not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(CliError::Io(format!("cannot write the output: {e}"))),
            }
        }
    }
}

/// Where streamed data goes (`--output FILE`, or standard output), buffered.
pub fn writer(global: &Global) -> Result<Box<dyn Write>, CliError> {
    Ok(match &global.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    })
}

/// A write that failed, as the command line reports it: a closed pipe (`| head`) is not a
/// failure (`None`).
pub fn write_failure(global: &Global, e: &std::io::Error) -> Option<CliError> {
    if global.output.is_none() && e.kind() == std::io::ErrorKind::BrokenPipe {
        return None;
    }
    Some(CliError::Io(match &global.output {
        Some(path) => format!("cannot write {}: {e}", path.display()),
        None => format!("cannot write the output: {e}"),
    }))
}

/// The terminal's width in columns (120 when it cannot be read).
fn terminal_width() -> u16 {
    comfy_table::Table::new().width().unwrap_or(120)
}
