//! The one error of the history store.

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// What went wrong with a store, a sync or a question.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The file exists and is not a history store (another SQLite database, or not SQLite at
    /// all). It was not changed.
    NotAStore {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        found: String,
    },
    /// There is no store at the path (nothing has been synced yet).
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file is a store whose pages are damaged. It was not changed.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite found.
        detail: String,
    },
    /// The store was written by a newer build, with a schema this build does not know. It was
    /// not changed.
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i32,
        /// The newest this build knows.
        known: i32,
    },
    /// Another sync is writing to the store; this one waited and gave up, changing nothing.
    Busy {
        /// The file.
        path: PathBuf,
    },
    /// The snapshot is older than the tenant's last one: history is appended in time order.
    OlderThanLast {
        /// The tenant.
        tenant: String,
        /// The snapshot's time.
        snapshot: DateTime<Utc>,
        /// The tenant's last snapshot.
        last: DateTime<Utc>,
    },
    /// A sync from the change feed needs a full snapshot first.
    NoBaseline {
        /// The tenant.
        tenant: String,
    },
    /// The change feed does not reach back to the tenant's last snapshot.
    TooOldForChanges {
        /// The tenant.
        tenant: String,
        /// The tenant's last snapshot.
        last: DateTime<Utc>,
        /// The oldest time the feed reaches.
        oldest: DateTime<Utc>,
    },
    /// A value given to a question is not valid (a window that ends before it starts, an SLA
    /// of no days, …).
    Invalid(String),
    /// The export could not be read; nothing was stored.
    Export(defender_tvm::Error),
    /// The folder given to [`Store::export_parquet`](crate::Store::export_parquet) holds
    /// something that is not a previous export (feature `parquet`). Nothing was written.
    #[cfg(feature = "parquet")]
    NotAnExport {
        /// The folder.
        path: PathBuf,
        /// What it holds.
        found: String,
    },
    /// Reading or writing a file of an export failed (feature `parquet`).
    #[cfg(feature = "parquet")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the export was doing.
        doing: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// Writing a Parquet file failed (feature `parquet`). The error is kept as text: the
    /// `parquet` crate's types change with each of its major versions, this crate's do not.
    #[cfg(feature = "parquet")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the `parquet` (or `arrow`) crate said.
        detail: String,
    },
    /// SQLite failed.
    Sqlite {
        /// What the store was doing.
        doing: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotAStore { path, found } => write!(
                f,
                "{} is not a defender-tvm history store ({found}); it was left as it is",
                path.display()
            ),
            Error::Missing { path } => write!(
                f,
                "there is no history store at {}; run `defender-tvm history sync` first",
                path.display()
            ),
            Error::Corrupt { path, detail } => write!(
                f,
                "the history store {} is damaged ({detail}); it was left as it is",
                path.display()
            ),
            Error::NewerSchema { path, found, known } => write!(
                f,
                "the history store {} has schema version {found}, newer than this build knows \
                 ({known}); update defender-tvm to read it (it was left as it is)",
                path.display()
            ),
            Error::Busy { path } => write!(
                f,
                "another sync is writing to the history store {}; try again when it ends \
                 (nothing was changed)",
                path.display()
            ),
            Error::OlderThanLast {
                tenant,
                snapshot,
                last,
            } => write!(
                f,
                "tenant {tenant}: the snapshot of {} is older than the last one stored ({}); \
                 history is kept in time order",
                snapshot.to_rfc3339(),
                last.to_rfc3339()
            ),
            Error::NoBaseline { tenant } => write!(
                f,
                "tenant {tenant}: the store has no snapshot yet to apply changes to; run a full \
                 sync first (`history sync` without `--delta`)"
            ),
            Error::TooOldForChanges {
                tenant,
                last,
                oldest,
            } => write!(
                f,
                "tenant {tenant}: the last snapshot ({}) is older than the change feed reaches \
                 ({}, 14 days); a full sync is needed (`history sync` without `--delta`)",
                last.to_rfc3339(),
                oldest.to_rfc3339()
            ),
            Error::Invalid(message) => f.write_str(message),
            Error::Export(e) => write!(f, "reading the export failed, nothing was stored: {e}"),
            #[cfg(feature = "parquet")]
            Error::NotAnExport { path, found } => write!(
                f,
                "{} is not a folder to export into: it is {found}; nothing was written",
                path.display()
            ),
            #[cfg(feature = "parquet")]
            Error::Io {
                path,
                doing,
                source,
            } => write!(
                f,
                "the export failed {doing} ({}): {source}",
                path.display()
            ),
            #[cfg(feature = "parquet")]
            Error::Parquet { path, detail } => {
                write!(f, "the export failed writing {}: {detail}", path.display())
            }
            Error::Sqlite { doing, source } => {
                write!(f, "the history store failed {doing}: {source}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Export(e) => Some(e),
            Error::Sqlite { source, .. } => Some(source),
            #[cfg(feature = "parquet")]
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<defender_tvm::Error> for Error {
    fn from(e: defender_tvm::Error) -> Self {
        Error::Export(e)
    }
}

/// Adds what the store was doing to a SQLite error.
pub(crate) trait Doing<T> {
    /// The error, saying what failed.
    fn doing(self, doing: &'static str) -> Result<T, Error>;
}

impl<T> Doing<T> for Result<T, rusqlite::Error> {
    fn doing(self, doing: &'static str) -> Result<T, Error> {
        self.map_err(|source| Error::Sqlite { doing, source })
    }
}
