//! `--checkpoint FILE`: each finished software's result, one JSON line, appended as it finishes;
//! a rerun with the same file skips what it holds.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use defender_tvm::SoftwareResult;

use crate::failure::Failure;

/// An open checkpoint file.
pub struct Checkpoint {
    path: PathBuf,
    file: File,
}

impl Checkpoint {
    /// Opens (or creates) the file and reads what it holds. A last line cut short (the process
    /// was killed while writing it) is dropped: that software is asked again.
    pub fn open(path: &Path) -> Result<(Checkpoint, Vec<SoftwareResult>), Failure> {
        let shown = path.display();
        let mut done = Vec::new();
        if path.exists() {
            let reader = BufReader::new(
                File::open(path).map_err(|e| Failure::Io(format!("cannot read {shown}: {e}")))?,
            );
            let lines: Vec<String> = reader
                .lines()
                .collect::<Result<_, _>>()
                .map_err(|e| Failure::Io(format!("cannot read {shown}: {e}")))?;
            let last = lines.len().saturating_sub(1);
            for (i, line) in lines.iter().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<SoftwareResult>(line) {
                    Ok(result) => done.push(result),
                    Err(_) if i == last => {}
                    Err(e) => {
                        return Err(Failure::Usage(format!(
                            "{shown} line {} is not a checkpoint record ({e}); use another file",
                            i + 1
                        )));
                    }
                }
            }
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Failure::Io(format!("cannot write {shown}: {e}")))?;
        // Whatever a killed run left half-written ends here; the next record starts a line.
        if path.metadata().map(|m| m.len() > 0).unwrap_or(false) {
            file.write_all(b"\n")
                .map_err(|e| Failure::Io(format!("cannot write {shown}: {e}")))?;
        }
        Ok((
            Checkpoint {
                path: path.to_owned(),
                file,
            },
            done,
        ))
    }

    /// Appends one finished software, whole, in one write.
    pub fn append(&mut self, result: &SoftwareResult) -> Result<(), Failure> {
        let mut line = serde_json::to_vec(result)
            .map_err(|e| Failure::Io(format!("cannot encode a checkpoint record: {e}")))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.flush())
            .map_err(|e| Failure::Io(format!("cannot write {}: {e}", self.path.display())))
    }
}
