//! The export's folder: what may be written into, the staging folder an export is written in,
//! and the swap that puts each tenant's new folders in place of its old ones.
//!
//! - A folder that does not exist is made; an empty one is used. A folder with anything in it
//!   is used only when it holds [`MARKER`] (a previous export); anything else is refused before
//!   a byte is written ([`Error::NotAnExport`]).
//! - The export is written whole into a hidden staging folder inside it
//!   (`.defender-tvm-staging-…`: Spark, Hive and the `**/*.parquet` globs skip it).
//! - Then, per tenant and dataset, the old `tenant=…` folder is renamed away and the new one
//!   renamed in: a reader sees a tenant's old files or its new ones, never a mix (for the
//!   instant between the two renames, none). Other tenants' folders are left as they are, so
//!   several stores can export into one folder.
//! - A staging folder left by an export that was killed is removed by the next export. Two
//!   exports into one folder at once are not supported: one of them may fail, and neither
//!   leaves a mix of files.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Error;

/// The file that marks a folder as an export (its first byte is `_`: Spark, Hive and Azure
/// Data Explorer skip such files, and it is not `.parquet`).
pub(crate) const MARKER: &str = "_defender_tvm_export.json";

/// The datasets, each a folder of the export.
pub(crate) const DATASETS: [&str; 2] = ["exposures", "snapshots"];

/// What a staging folder's name starts with.
const STAGING: &str = ".defender-tvm-staging-";

/// The export's folder, ready to be written into.
#[derive(Debug)]
pub(crate) struct Folder {
    /// The folder.
    pub(crate) dir: PathBuf,
    /// The staging folder inside it, where the export is written first.
    pub(crate) staging: PathBuf,
}

impl Folder {
    /// Checks `dir` (made when missing), marks it as an export and makes the staging folder.
    pub(crate) fn prepare(dir: &Path) -> Result<Folder, Error> {
        match fs::metadata(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(io_error(dir, "making the export folder"))?;
            }
            Err(e) => return Err(io_error(dir, "reading the export folder")(e)),
            Ok(meta) if !meta.is_dir() => {
                return Err(Error::NotAnExport {
                    path: dir.to_path_buf(),
                    found: "a file, not a folder".into(),
                });
            }
            Ok(_) => {}
        }
        let mut first_other = None;
        let mut marked = false;
        for entry in fs::read_dir(dir).map_err(io_error(dir, "listing the export folder"))? {
            let entry = entry.map_err(io_error(dir, "listing the export folder"))?;
            let name = entry.file_name();
            if name == MARKER {
                marked = true;
            } else if first_other.is_none() {
                first_other = Some(name.to_string_lossy().into_owned());
            }
        }
        match (marked, first_other) {
            (false, Some(other)) => {
                return Err(Error::NotAnExport {
                    path: dir.to_path_buf(),
                    found: format!(
                        "a folder that holds other files ({other:?}) and no {MARKER}; give an \
                         empty folder, a new one, or a previous export's"
                    ),
                });
            }
            (false, None) => write_marker(dir)?,
            (true, _) => remove_leftovers(dir)?,
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let staging = dir.join(format!("{STAGING}{}-{nanos}", std::process::id()));
        fs::create_dir(&staging).map_err(io_error(&staging, "making the staging folder"))?;
        Ok(Folder {
            dir: dir.to_path_buf(),
            staging,
        })
    }

    /// Puts each tenant's new folders (`segments`, written in the staging folder) in place of
    /// its old ones, then removes the staging folder.
    pub(crate) fn publish(&self, segments: &[String]) -> Result<(), Error> {
        let trash = self.staging.join("replaced");
        for dataset in DATASETS {
            let live = self.dir.join(dataset);
            fs::create_dir_all(&live).map_err(io_error(&live, "making a dataset's folder"))?;
            let old = trash.join(dataset);
            fs::create_dir_all(&old).map_err(io_error(&old, "making the staging folder"))?;
            for segment in segments {
                let current = live.join(segment);
                let new = self.staging.join(dataset).join(segment);
                if fs::symlink_metadata(&current).is_ok() {
                    let away = old.join(segment);
                    fs::rename(&current, &away)
                        .map_err(io_error(&current, "moving the previous export away"))?;
                }
                if fs::symlink_metadata(&new).is_ok() {
                    fs::rename(&new, &current)
                        .map_err(io_error(&current, "moving the export in place"))?;
                }
            }
        }
        write_marker(&self.dir)?;
        self.discard()
    }

    /// Removes the staging folder (what was written, and what was replaced).
    pub(crate) fn discard(&self) -> Result<(), Error> {
        fs::remove_dir_all(&self.staging)
            .map_err(io_error(&self.staging, "removing the staging folder"))
    }
}

/// Writes the marker (through a file renamed in place, so it is whole or absent).
fn write_marker(dir: &Path) -> Result<(), Error> {
    let text = format!(
        "{{\n  \"written_by\": \"defender-tvm-history {}\",\n  \"layout\": 1,\n  \
         \"datasets\": [\"exposures\", \"snapshots\"],\n  \"partitioning\": \
         \"tenant=<percent-encoded name>/date=<YYYY-MM-DD, UTC>\"\n}}\n",
        env!("CARGO_PKG_VERSION")
    );
    let path = dir.join(MARKER);
    let part = dir.join(format!("{STAGING}{MARKER}"));
    let written = fs::File::create(&part).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    written.map_err(io_error(&part, "writing the export's marker"))?;
    fs::rename(&part, &path).map_err(io_error(&path, "writing the export's marker"))
}

/// Removes what an export that was killed left: staging folders (and a half-written marker).
fn remove_leftovers(dir: &Path) -> Result<(), Error> {
    for entry in fs::read_dir(dir).map_err(io_error(dir, "listing the export folder"))? {
        let entry = entry.map_err(io_error(dir, "listing the export folder"))?;
        if !entry.file_name().to_string_lossy().starts_with(STAGING) {
            continue;
        }
        let path = entry.path();
        let removed = match entry.file_type() {
            Ok(kind) if kind.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
        removed.map_err(io_error(
            &path,
            "removing a previous export's staging folder",
        ))?;
    }
    Ok(())
}

/// An I/O error on `path`, saying what the export was doing.
pub(crate) fn io_error(path: &Path, doing: &'static str) -> impl FnOnce(io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io {
        path,
        doing,
        source,
    }
}
