//! Opening a store: a new file is created with the current schema, an older one is migrated,
//! and anything else (not SQLite, another application's database, a damaged store, a newer
//! schema) is refused before a byte of it changes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::error::{Doing, Error};
use crate::schema;

/// How long a sync waits for another sync's transaction before giving up.
const WAIT_FOR_WRITER: Duration = Duration::from_secs(5);

/// A history store: one SQLite file.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens the store at `path` to write to it, creating it when there is no file (its folder
    /// must exist), and migrating a store of an older schema.
    ///
    /// Refused, leaving the file as it is: a file that is not a store, a damaged store, a store
    /// of a newer schema ([`Error::NotAStore`], [`Error::Corrupt`], [`Error::NewerSchema`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Store, Error> {
        let path = path.as_ref().to_path_buf();
        let exists = std::fs::metadata(&path)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        if exists {
            check(&path, true)?;
        }
        let conn = Connection::open(&path).map_err(|e| refusal(&path, e))?;
        let mut store = Store { conn, path };
        store.configure()?;
        store.create_or_migrate()?;
        Ok(store)
    }

    /// Opens an existing store to ask it questions: nothing is written, but for a store of an
    /// older schema, which is migrated first (as [`Store::open`] does). A missing file is
    /// [`Error::Missing`], and is not created.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store, Error> {
        let path = path.as_ref().to_path_buf();
        let exists = std::fs::metadata(&path)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        if !exists {
            return Err(Error::Missing { path });
        }
        let version = check(&path, false)?;
        if version < schema::VERSION {
            // Migrating writes: only a sync does it.
            return Store::open(&path);
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| refusal(&path, e))?;
        let store = Store { conn, path };
        store
            .conn
            .busy_timeout(WAIT_FOR_WRITER)
            .doing("setting how long to wait")?;
        Ok(store)
    }

    /// A new store in memory, for tests and experiments.
    pub fn in_memory() -> Result<Store, Error> {
        let conn = Connection::open_in_memory().doing("opening a store in memory")?;
        let mut store = Store {
            conn,
            path: PathBuf::from(":memory:"),
        };
        store.create_or_migrate()?;
        Ok(store)
    }

    /// How long a sync waits for another sync writing to the store before giving up
    /// ([`Error::Busy`]); 5 seconds unless set.
    pub fn wait_for_writer(&self, wait: Duration) -> Result<(), Error> {
        self.conn
            .busy_timeout(wait)
            .doing("setting how long to wait")
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store's schema version.
    pub fn schema_version(&self) -> Result<i32, Error> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .doing("reading the schema version")
    }

    fn configure(&self) -> Result<(), Error> {
        self.conn
            .busy_timeout(WAIT_FOR_WRITER)
            .doing("setting how long to wait")?;
        // Readers go on while a sync writes; a sync is committed whole or not at all, kill -9
        // included.
        self.conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .map_err(|e| busy_or(&self.path, e, "switching to write-ahead logging"))?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .doing("setting durability")
    }

    fn create_or_migrate(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| busy_or(&path, e, "starting the schema check"))?;
        let version: i32 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .doing("reading the schema version")?;
        if version == 0 {
            tx.execute_batch(schema::CREATE)
                .doing("creating the tables")?;
        } else {
            for migration in schema::MIGRATIONS.iter().skip(version as usize - 1) {
                tx.execute_batch(migration).doing("migrating the schema")?;
            }
        }
        if version != schema::VERSION {
            tx.pragma_update(None, "application_id", schema::APPLICATION_ID)
                .doing("marking the store")?;
            tx.pragma_update(None, "user_version", schema::VERSION)
                .doing("writing the schema version")?;
        }
        tx.commit().doing("committing the schema")
    }
}

/// Checks, through a read-only connection, that the file at `path` is a store this build can
/// open, and returns its schema version. `deep` also checks every page (before a sync writes).
fn check(path: &Path, deep: bool) -> Result<i32, Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| refusal(path, e))?;
    let id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|e| refusal(path, e))?;
    let version: i32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| refusal(path, e))?;
    if id != schema::APPLICATION_ID {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
            .map_err(|e| refusal(path, e))?;
        if id == 0 && version == 0 && tables == 0 {
            // An empty SQLite database: made a store when opened.
            return Ok(0);
        }
        return Err(Error::NotAStore {
            path: path.to_path_buf(),
            found: format!("a SQLite database of another application (application id {id})"),
        });
    }
    if version < 1 {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            detail: format!("it is marked as a store but has schema version {version}"),
        });
    }
    if version > schema::VERSION {
        return Err(Error::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            known: schema::VERSION,
        });
    }
    if deep {
        let verdict: String = conn
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(|e| refusal(path, e))?;
        if verdict != "ok" {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                detail: verdict,
            });
        }
    }
    Ok(version)
}

/// A SQLite error met while opening `path`, as the refusal it means.
fn refusal(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Error::NotAStore {
            path: path.to_path_buf(),
            found: "not a SQLite database".into(),
        },
        Some(ErrorCode::DatabaseCorrupt) => Error::Corrupt {
            path: path.to_path_buf(),
            detail: e.to_string(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy {
            path: path.to_path_buf(),
        },
        _ => Error::Sqlite {
            doing: "opening the store",
            source: e,
        },
    }
}

/// [`Error::Busy`] when another writer holds the store, else the SQLite error.
pub(crate) fn busy_or(path: &Path, e: rusqlite::Error, doing: &'static str) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy {
            path: path.to_path_buf(),
        },
        Some(ErrorCode::DatabaseCorrupt) => Error::Corrupt {
            path: path.to_path_buf(),
            detail: e.to_string(),
        },
        _ => Error::Sqlite { doing, source: e },
    }
}
