//! What a store file survives: a file that is not a store, another application's database, a
//! damaged store and a newer schema are refused and left byte for byte as they were; two syncs
//! at once cannot both write; a committed version-1 store opens.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use defender_tvm_history::{Error, Observation, Source, Store};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "defender-tvm-history-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("history.sqlite")
}

fn row(cve: Option<&str>) -> Observation<'_> {
    Observation {
        device_id: "d1",
        device_name: Some("ws-01"),
        rbac_group: None,
        software_vendor: "google",
        software_name: "chrome",
        software_version: Some("1.0"),
        cve_id: cve,
        severity: None,
        exploited: false,
        kb: None,
        first_seen: None,
    }
}

fn refused_and_unchanged(path: &Path) -> Error {
    let before = std::fs::read(path).unwrap();
    let error = Store::open(path).unwrap_err();
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "{} changed",
        path.display()
    );
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    error
}

#[test]
fn a_file_that_is_not_a_store_is_refused_and_left_as_it_is() {
    let path = temp("text");
    std::fs::write(&path, "device,kb\nws-01,5040131\n".repeat(100)).unwrap();
    let error = refused_and_unchanged(&path);
    assert!(matches!(error, Error::NotAStore { .. }), "{error:?}");
    assert!(
        error.to_string().contains("not a SQLite database"),
        "{error}"
    );
}

#[test]
fn another_applications_database_is_refused_and_left_as_it_is() {
    let path = temp("other");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');")
            .unwrap();
    }
    let error = refused_and_unchanged(&path);
    assert!(matches!(error, Error::NotAStore { .. }), "{error:?}");
}

#[test]
fn a_store_of_a_newer_schema_is_refused_and_left_as_it_is() {
    let path = temp("newer");
    drop(Store::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let error = refused_and_unchanged(&path);
    let Error::NewerSchema { found, known, .. } = error else {
        panic!("{error:?}")
    };
    assert_eq!((found, known), (99, defender_tvm_history::schema::VERSION));
}

#[test]
fn a_store_marked_with_no_schema_version_is_refused_and_left_as_it_is() {
    for version in [0, -5] {
        let path = temp(&format!("unversioned{version}"));
        drop(Store::open(&path).unwrap());
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
            conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        }
        let error = refused_and_unchanged(&path);
        assert!(matches!(error, Error::Corrupt { .. }), "{error:?}");
    }
}

#[test]
fn a_damaged_store_is_refused_and_left_as_it_is() {
    let path = temp("damaged");
    {
        let mut store = Store::open(&path).unwrap();
        let day = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap();
        let rows: Vec<String> = (0..2000).map(|i| format!("CVE-2026-{i:05}")).collect();
        store
            .sync_snapshot(
                "contoso",
                day,
                Source::Export,
                rows.iter().map(|c| row(Some(c))),
            )
            .unwrap();
    }
    {
        // Back to a single file, then scribble over the pages after the first.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 16 * 4096, "a store of some pages");
    for byte in &mut bytes[4096 * 2..4096 * 12] {
        *byte = 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let error = refused_and_unchanged(&path);
    assert!(matches!(error, Error::Corrupt { .. }), "{error:?}");
}

#[test]
fn while_one_sync_writes_another_is_refused_and_the_first_completes() {
    let path = temp("busy");
    let mut first = Store::open(&path).unwrap();
    let mut second = Store::open(&path).unwrap();
    second.wait_for_writer(Duration::from_millis(50)).unwrap();
    let day = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap();
    let mut sync = first
        .begin_snapshot("contoso", day, Source::Export)
        .unwrap()
        .unwrap();
    sync.add(&row(Some("CVE-2026-0001"))).unwrap();
    sync.add(&row(None)).unwrap();
    assert_eq!(sync.rows(), 2);
    let shown = format!("{sync:?}");
    assert!(
        shown.contains("contoso") && shown.contains("rows: 2"),
        "{shown}"
    );
    let refused = second.sync_snapshot("contoso", day, Source::Export, [row(None)]);
    assert!(matches!(refused, Err(Error::Busy { .. })), "{refused:?}");
    assert!(refused.unwrap_err().to_string().contains("another sync"));
    sync.commit().unwrap();
    let snapshots = second.snapshots(None).unwrap();
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0].open_exposures, 1);
}

#[test]
fn a_sync_dropped_before_its_commit_leaves_the_store_as_it_was() {
    let path = temp("dropped");
    let mut store = Store::open(&path).unwrap();
    let day = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap();
    let mut sync = store
        .begin_snapshot("contoso", day, Source::Export)
        .unwrap()
        .unwrap();
    sync.add(&row(Some("CVE-2026-0001"))).unwrap();
    drop(sync);
    assert!(store.snapshots(None).unwrap().is_empty());
}

#[test]
fn answers_from_a_missing_store_say_to_sync_first_and_create_nothing() {
    let path = temp("missing");
    let error = Store::open_existing(&path).unwrap_err();
    assert!(error.to_string().contains("history sync"), "{error}");
    assert!(!path.exists());
}

#[test]
fn a_committed_version_1_store_opens_and_answers() {
    // tests/stores/v1.sqlite: written by schema version 1 (two snapshots of one tenant: one
    // exposure fixed, one open), committed so that later schemas must keep opening it.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stores/v1.sqlite");
    let path = temp("v1");
    std::fs::copy(&fixture, &path).unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        defender_tvm_history::schema::VERSION
    );
    let changes = store.changes(None, None, None).unwrap();
    assert_eq!(changes.fixed.len(), 1);
    assert_eq!(changes.fixed[0].cve_id, "CVE-2026-0001");
    assert_eq!(store.trend(None).unwrap().snapshots.len(), 2);
}

#[test]
fn a_store_opened_to_answer_reads_what_was_synced_and_is_not_written() {
    let path = temp("answer");
    {
        let mut store = Store::open(&path).unwrap();
        let day = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap();
        store
            .sync_snapshot("contoso", day, Source::Export, [row(Some("CVE-2026-0001"))])
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let store = Store::open_existing(&path).unwrap();
    assert_eq!(store.snapshots(None).unwrap()[0].open_exposures, 1);
    drop(store);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
