//! `--checkpoint FILE`: each finished software's result, one JSON line, appended as it finishes;
//! a rerun with the same file skips what it holds.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use defender_tvm::report::SoftwareResult;

use crate::error::CliError;

/// An open checkpoint file.
pub struct Checkpoint {
    path: PathBuf,
    file: File,
}

impl Checkpoint {
    /// Opens (or creates) the file and reads what it holds. A last line cut short (the process
    /// was killed while writing it) is dropped and cut from the file, so that software is asked
    /// again and the file holds only whole records; any other line that is not a record is an
    /// error (the file is not a checkpoint).
    pub fn open(path: &Path) -> Result<(Checkpoint, Vec<SoftwareResult>), CliError> {
        let shown = path.display();
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(CliError::Io(format!("cannot read {shown}: {e}"))),
        };
        let mut done = Vec::new();
        // The length of the file's whole records: what a cut last line leaves out.
        let mut whole = text.len();
        let mut start = 0;
        for (index, line) in text.split(|&b| b == b'\n').enumerate() {
            let end = start + line.len();
            if !line.iter().all(u8::is_ascii_whitespace) {
                match serde_json::from_slice::<SoftwareResult>(line) {
                    Ok(result) => done.push(result),
                    Err(_) if end == text.len() => whole = start,
                    Err(e) => {
                        return Err(CliError::Usage(format!(
                            "{shown} line {} is not a checkpoint record ({e}); use another file",
                            index + 1
                        )));
                    }
                }
            }
            start = end + 1;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| CliError::Io(format!("cannot write {shown}: {e}")))?;
        let repaired = if whole < text.len() {
            file.set_len(whole as u64)
        } else if text.last().is_some_and(|&b| b != b'\n') {
            // A whole last record whose line end was not written: end it.
            file.write_all(b"\n")
        } else {
            Ok(())
        };
        repaired.map_err(|e| CliError::Io(format!("cannot repair {shown}: {e}")))?;
        Ok((
            Checkpoint {
                path: path.to_owned(),
                file,
            },
            done,
        ))
    }

    /// Appends one finished software, whole, in one write.
    pub fn append(&mut self, result: &SoftwareResult) -> Result<(), CliError> {
        let mut line = serde_json::to_vec(result)
            .map_err(|e| CliError::Io(format!("cannot encode a checkpoint record: {e}")))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.flush())
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", self.path.display())))
    }
}
