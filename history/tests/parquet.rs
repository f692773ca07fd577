//! The Parquet export (feature `parquet`), read back with the `parquet` crate's arrow reader:
//! the SLA table recomputed from its rows equals the store's, hostile tenant names land in one
//! folder name inside the export, and the folder rules (refusals, re-exports, other tenants
//! left as they are).

#![cfg(feature = "parquet")]

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use chrono::{DateTime, TimeZone, Utc};
use defender_tvm::export::SoftwareVulnerability;
use defender_tvm_demo::timeline::{Timeline, TimelineOptions};
use defender_tvm_history::{Ages, By, Error, Group, Observation, Sla, Source, Store};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, LogicalType, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};

const DAYS: usize = 60;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "defender-tvm-parquet-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn timeline(seed: u64, devices: usize) -> Timeline {
    // 2026-11-30T12:00:00Z.
    let end = UNIX_EPOCH + Duration::from_secs(1_796_040_000);
    Timeline::generate(
        TimelineOptions::default()
            .seed(seed)
            .devices(devices)
            .days(DAYS)
            .end(end),
    )
}

/// The timelines replayed into a store, a snapshot of each tenant a day, rows as the export
/// sends them (JSON, decoded by the SDK).
fn replayed(tenants: &[(&str, &Timeline)]) -> Store {
    let mut store = Store::in_memory().unwrap();
    for s in 0..DAYS {
        for (name, timeline) in tenants {
            let rows: Vec<SoftwareVulnerability> = timeline
                .rows(s)
                .map(|row| serde_json::from_str(&row.to_json()).unwrap())
                .collect();
            store
                .sync_snapshot(
                    name,
                    DateTime::from(timeline.snapshot_time(s)),
                    Source::Demo,
                    rows.iter().map(Observation::from),
                )
                .unwrap();
        }
    }
    store
}

/// Every `.parquet` file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every row of a dataset, each file's batches with the file's path.
fn batches(dataset: &Path) -> Vec<(PathBuf, RecordBatch)> {
    let mut out = Vec::new();
    for path in files(dataset) {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            out.push((path.clone(), batch.unwrap()));
        }
    }
    out
}

fn text(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
    let array = batch.column_by_name(column).unwrap().as_string::<i32>();
    (!array.is_null(row)).then(|| array.value(row).to_string())
}

fn time(batch: &RecordBatch, column: &str, row: usize) -> Option<i64> {
    let array = batch
        .column_by_name(column)
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    (!array.is_null(row)).then(|| array.value(row))
}

fn flag(batch: &RecordBatch, column: &str, row: usize) -> bool {
    batch
        .column_by_name(column)
        .unwrap()
        .as_boolean()
        .value(row)
}

/// A span, as the Parquet rows say.
#[derive(Debug, Clone)]
struct Span {
    severity: Option<String>,
    first_seen: i64,
    opened_at: i64,
    closed_at: Option<i64>,
    ended: Option<String>,
    fixed_at: Option<i64>,
}

/// Numpy's default percentile: linear between the nearest ranks.
fn numpy_percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64))
}

fn tenth(days: f64) -> f64 {
    (days * 10.0).round() / 10.0
}

/// Microseconds as days (none below zero).
fn days(micros: i64) -> f64 {
    (micros.max(0) / 1_000_000) as f64 / 86_400.0
}

/// The SLA table, by severity, from the Parquet rows alone: each exposure's last span, at its
/// tenant's last snapshot.
fn sla_table(dir: &Path, sla: Sla) -> Vec<Group> {
    let mut last: HashMap<String, i64> = HashMap::new();
    for (_, batch) in batches(&dir.join("snapshots")) {
        for row in 0..batch.num_rows() {
            let tenant = text(&batch, "tenant", row).unwrap();
            let at = time(&batch, "generated_time", row).unwrap();
            let entry = last.entry(tenant).or_insert(at);
            *entry = (*entry).max(at);
        }
    }
    type Key = (String, String, String, String, String);
    let mut latest: HashMap<Key, Span> = HashMap::new();
    for (_, batch) in batches(&dir.join("exposures")) {
        for row in 0..batch.num_rows() {
            let t = |c: &str| text(&batch, c, row).unwrap_or_default();
            let key = (
                t("tenant"),
                t("device_id"),
                t("software_vendor"),
                t("software_name"),
                t("cve_id"),
            );
            let span = Span {
                severity: text(&batch, "severity", row),
                first_seen: time(&batch, "first_seen", row).unwrap(),
                opened_at: time(&batch, "opened_at", row).unwrap(),
                closed_at: time(&batch, "closed_at", row),
                ended: text(&batch, "ended", row),
                fixed_at: time(&batch, "fixed_at", row),
            };
            match latest.get(&key) {
                Some(have) if have.opened_at >= span.opened_at => {}
                _ => {
                    latest.insert(key, span);
                }
            }
        }
    }
    let rank = |s: &str| match s {
        "Critical" => 0,
        "High" => 1,
        "Medium" => 2,
        "Low" => 3,
        _ => 4,
    };
    #[derive(Default)]
    struct Tally {
        fixed: Vec<f64>,
        ages: Vec<f64>,
    }
    let mut tallies: BTreeMap<(u8, String), Tally> = BTreeMap::new();
    for ((tenant, ..), span) in &latest {
        let severity = span.severity.clone().unwrap_or_else(|| "Unknown".into());
        let key = (rank(&severity), severity);
        match (span.closed_at, span.ended.as_deref()) {
            (None, _) => tallies
                .entry(key)
                .or_default()
                .ages
                .push(days(last[tenant] - span.first_seen)),
            (Some(closed), Some("fixed")) => tallies
                .entry(key)
                .or_default()
                .fixed
                .push(days(span.fixed_at.unwrap_or(closed) - span.first_seen)),
            _ => {}
        }
    }
    tallies
        .into_iter()
        .map(|((_, key), mut tally)| {
            tally.fixed.sort_by(f64::total_cmp);
            let limit = sla.days(Some(&key));
            let mut ages = Ages::default();
            for age in &tally.ages {
                match age.floor() {
                    w if w <= 7.0 => ages.days_0_7 += 1,
                    w if w <= 30.0 => ages.days_8_30 += 1,
                    w if w <= 90.0 => ages.days_31_90 += 1,
                    _ => ages.over_90 += 1,
                }
            }
            Group {
                sla_days: limit,
                fixed: tally.fixed.len() as u64,
                median_days: numpy_percentile(&tally.fixed, 0.5).map(tenth),
                p90_days: numpy_percentile(&tally.fixed, 0.9).map(tenth),
                open: tally.ages.len() as u64,
                open_past_sla: tally
                    .ages
                    .iter()
                    .filter(|&&age| limit.is_some_and(|l| age > f64::from(l)))
                    .count() as u64,
                oldest_open_days: tally.ages.iter().copied().reduce(f64::max).map(tenth),
                open_by_age: ages,
                key,
            }
        })
        .collect()
}

#[test]
fn the_sla_table_recomputed_from_the_parquet_rows_equals_the_stores() {
    let (a, b) = (timeline(7, 120), timeline(8, 80));
    let store = replayed(&[("contoso", &a), ("fabrikam", &b)]);
    let dir = folder("sla").join("export");
    let summary = store.export_parquet(&dir, None).unwrap();
    assert_eq!(summary.tenants, ["contoso", "fabrikam"]);
    assert_eq!(summary.snapshots, 2 * DAYS as u64);
    assert!(summary.exposure_spans > 1000, "{summary:?}");

    let expected = store
        .remediation(None, None, None, Sla::default(), By::Severity)
        .unwrap()
        .groups;
    assert!(expected.iter().any(|g| g.fixed > 0 && g.open > 0));
    assert_eq!(sla_table(&dir, Sla::default()), expected);
    let strict: Sla = "critical=3,high=7,medium=20,low=40".parse().unwrap();
    assert_eq!(
        sla_table(&dir, strict),
        store
            .remediation(None, None, None, strict, By::Severity)
            .unwrap()
            .groups
    );

    // The rows and files add up; each file sits in its tenant's and date's folder.
    let spans = batches(&dir.join("exposures"));
    let rows: usize = spans.iter().map(|(_, b)| b.num_rows()).sum();
    assert_eq!(rows as u64, summary.exposure_spans);
    assert_eq!(
        files(&dir).len() as u64,
        summary.files,
        "one file per partition"
    );
    let mut reopened = 0;
    for (path, batch) in &spans {
        let date = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let tenant = path
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .file_name()
            .unwrap();
        for row in 0..batch.num_rows() {
            assert_eq!(
                tenant.to_str().unwrap(),
                format!("tenant={}", text(batch, "tenant", row).unwrap())
            );
            let opened = Utc
                .timestamp_micros(time(batch, "opened_at", row).unwrap())
                .unwrap();
            assert_eq!(date, opened.format("date=%Y-%m-%d").to_string());
            reopened += usize::from(flag(batch, "reopened", row));
            match text(batch, "ended", row).as_deref() {
                Some("fixed") => {
                    assert!(time(batch, "fixed_at", row).is_some());
                    assert!(time(batch, "fixed_after", row) < time(batch, "fixed_at", row));
                }
                Some("retired") => assert!(time(batch, "fixed_at", row).is_none()),
                None => assert!(time(batch, "closed_at", row).is_none()),
                Some(other) => panic!("ended {other}"),
            }
        }
    }
    let trend_reopened: u64 = batches(&dir.join("snapshots"))
        .iter()
        .map(|(_, b)| {
            let column = b.column_by_name("reopened").unwrap();
            column
                .as_primitive::<Int64Type>()
                .iter()
                .flatten()
                .sum::<i64>() as u64
        })
        .sum();
    assert_eq!(
        reopened as u64, trend_reopened,
        "a reopened span per reopening"
    );
    assert!(reopened > 0, "the timeline reopens exposures");

    // Timestamps are TIMESTAMP(MICROS) adjusted to UTC, and the files snappy.
    let reader = SerializedFileReader::new(File::open(&spans[0].0).unwrap()).unwrap();
    let metadata = reader.metadata();
    let schema = metadata.file_metadata().schema_descr();
    let first_seen = (0..schema.num_columns())
        .map(|i| schema.column(i))
        .find(|c| c.name() == "first_seen")
        .unwrap();
    assert_eq!(
        first_seen.logical_type_ref(),
        Some(&LogicalType::timestamp(true, TimeUnit::MICROS))
    );
    assert!(matches!(
        metadata.row_group(0).column(0).compression(),
        Compression::SNAPPY
    ));
}

/// A store with one exposure in each of `tenants`.
fn small_store(tenants: &[&str]) -> Store {
    let mut store = Store::in_memory().unwrap();
    let monday = Utc.with_ymd_and_hms(2026, 11, 2, 6, 0, 0).unwrap();
    for tenant in tenants {
        let row = Observation {
            device_id: "d1",
            device_name: Some("ws-01"),
            rbac_group: None,
            software_vendor: "google",
            software_name: "chrome",
            software_version: Some("130.0"),
            cve_id: Some("CVE-2026-0001"),
            severity: None,
            exploited: false,
            kb: None,
            first_seen: None,
        };
        store
            .sync_snapshot(tenant, monday, Source::Export, [row])
            .unwrap();
    }
    store
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn hostile_tenant_names_land_inside_the_export_one_folder_name_each() {
    let hostile = ["../evil/x", "a b", "é", "..", "C:\\x", "50%=half"];
    let store = small_store(&hostile);
    let parent = folder("hostile");
    let dir = parent.join("export");
    store.export_parquet(&dir, None).unwrap();
    assert_eq!(
        names(&parent),
        ["export"],
        "nothing written beside the export"
    );
    assert_eq!(
        names(&dir),
        ["_defender_tvm_export.json", "exposures", "snapshots"]
    );
    for dataset in ["exposures", "snapshots"] {
        assert_eq!(
            names(&dir.join(dataset)),
            [
                "tenant=%2E%2E",
                "tenant=%2E.%2Fevil%2Fx",
                "tenant=%C3%A9",
                "tenant=50%25%3Dhalf",
                "tenant=C%3A%5Cx",
                "tenant=a%20b",
            ]
        );
    }
    // The column holds the name as it is.
    let mut tenants: Vec<String> = batches(&dir.join("exposures"))
        .iter()
        .map(|(_, b)| text(b, "tenant", 0).unwrap())
        .collect();
    tenants.sort();
    let mut expected: Vec<String> = hostile.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(tenants, expected);
    for path in files(&dir) {
        let inside = path.strip_prefix(&dir).unwrap();
        assert_eq!(inside.components().count(), 4, "{}", inside.display());
    }
}

#[test]
fn names_that_differ_only_in_case_and_empty_names_are_refused() {
    let dir = folder("case").join("export");
    let err = small_store(&["Contoso", "contoso"])
        .export_parquet(&dir, None)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(m) if m.contains("only in case")),
        "{err}"
    );
    assert!(!dir.exists(), "refused before the folder is made");
    let err = small_store(&[""]).export_parquet(&dir, None).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(m) if m.contains("empty")),
        "{err}"
    );
    // One of them alone is fine.
    let summary = small_store(&["Contoso", "contoso"])
        .export_parquet(&dir, Some("contoso"))
        .unwrap();
    assert_eq!(summary.tenants, ["contoso"]);
}

#[test]
fn a_folder_that_is_not_an_export_is_refused_and_left_as_it_is() {
    let store = small_store(&["contoso"]);
    let dir = folder("refused");
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let err = store.export_parquet(&dir, None).unwrap_err();
    assert!(matches!(err, Error::NotAnExport { .. }), "{err}");
    assert!(err.to_string().contains("notes.txt"), "{err}");
    assert_eq!(names(&dir), ["notes.txt"]);
    let file = dir.join("notes.txt");
    let err = store.export_parquet(&file, None).unwrap_err();
    assert!(matches!(err, Error::NotAnExport { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    let err = store.export_parquet(&dir, Some("nobody")).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(m) if m.contains("contoso")),
        "{err}"
    );
}

#[test]
fn a_re_export_replaces_its_tenants_and_leaves_the_others() {
    let dir = folder("again").join("export");
    small_store(&["contoso", "fabrikam"])
        .export_parquet(&dir, None)
        .unwrap();
    // Another store, with another tenant and a contoso of its own, exports into the same folder;
    // a killed export's staging folder is there too.
    let leftover = dir.join(".defender-tvm-staging-1-2");
    std::fs::create_dir_all(leftover.join("exposures")).unwrap();
    std::fs::write(
        dir.join("exposures/tenant=contoso/date=2026-11-02/stale.parquet"),
        "",
    )
    .unwrap();
    let other = small_store(&["contoso", "northwind"]);
    let summary = other.export_parquet(&dir, None).unwrap();
    assert_eq!(summary.tenants, ["contoso", "northwind"]);
    assert_eq!(
        names(&dir),
        ["_defender_tvm_export.json", "exposures", "snapshots"],
        "no staging folder left"
    );
    for dataset in ["exposures", "snapshots"] {
        assert_eq!(
            names(&dir.join(dataset)),
            ["tenant=contoso", "tenant=fabrikam", "tenant=northwind"]
        );
    }
    assert_eq!(
        names(&dir.join("exposures/tenant=contoso/date=2026-11-02")),
        ["part-0.parquet"],
        "contoso's folder is the new export's"
    );
    // One tenant alone replaces only its own folders.
    let summary = other.export_parquet(&dir, Some("northwind")).unwrap();
    assert_eq!(summary.tenants, ["northwind"]);
    assert_eq!(summary.files, 2);
    assert_eq!(
        names(&dir.join("snapshots")),
        ["tenant=contoso", "tenant=fabrikam", "tenant=northwind"]
    );
}
