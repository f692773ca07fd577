//! The timeline (`defender_tvm_demo::timeline`): determinism, the rows on the wire in both
//! casings, the change feed against the snapshots, and the truth against the rows.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, UNIX_EPOCH};

use defender_tvm_demo::timeline::{
    Case, ChangeStatus, Ended, Timeline, TimelineChange, TimelineOptions, TimelineRow, percentile,
};
use serde_json::Value;

/// 2026-10-14T17:46:40Z: the last snapshot is 2026-10-14T06:00:00Z, the day after a Patch
/// Tuesday.
fn end() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_792_000_000)
}

fn timeline(seed: u64, devices: usize, days: usize) -> Timeline {
    Timeline::generate(
        TimelineOptions::default()
            .seed(seed)
            .devices(devices)
            .days(days)
            .end(end()),
    )
}

/// The timeline most tests read: 150 devices over 60 days.
fn small() -> Timeline {
    timeline(11, 150, 60)
}

/// The keys of a row, camelCase, in order.
const ROW_KEYS: [&str; 24] = [
    "id",
    "deviceId",
    "deviceName",
    "rbacGroupName",
    "rbacGroupId",
    "osPlatform",
    "osVersion",
    "osArchitecture",
    "softwareVendor",
    "softwareName",
    "softwareVersion",
    "cveId",
    "cvssScore",
    "vulnerabilitySeverityLevel",
    "recommendedSecurityUpdate",
    "recommendedSecurityUpdateId",
    "recommendedSecurityUpdateUrl",
    "securityUpdateAvailable",
    "exploitabilityLevel",
    "firstSeenTimestamp",
    "lastSeenTimestamp",
    "diskPaths",
    "registryPaths",
    "recommendationReference",
];

fn pascal(key: &str) -> String {
    format!("{}{}", key[..1].to_ascii_uppercase(), &key[1..])
}

/// The keys of a JSON object, in the order its text has them (each value is checked to be
/// followed by the next key).
fn keys(text: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(text).unwrap();
    let object = value.as_object().unwrap();
    let mut keys: Vec<(usize, String)> = object
        .keys()
        .map(|k| (text.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

/// Whether a text is a row timestamp as the service writes it: `2026-10-14 09:12:44`, with an
/// optional fraction of seven digits.
fn is_row_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let shape = |i: usize, b: u8| match i {
        4 | 7 => b == b'-',
        10 => b == b' ',
        13 | 16 => b == b':',
        19 => b == b'.',
        _ => b.is_ascii_digit(),
    };
    (bytes.len() == 19 || bytes.len() == 27) && bytes.iter().enumerate().all(|(i, &b)| shape(i, b))
}

/// A CVE row's key for the feed: (device, vendor, name, version, CVE, group).
type RowKey = (String, String, String, String, String, String);

fn row_key(row: &TimelineRow<'_>) -> RowKey {
    (
        row.device_id.to_owned(),
        row.software_vendor.to_owned(),
        row.software_name.to_owned(),
        row.software_version.to_owned(),
        row.cve_id.unwrap_or_default().to_owned(),
        row.rbac_group_name.to_owned(),
    )
}

/// What an `Updated` row may change, and what a row keeps: first seen, severity, CVSS,
/// exploitability, the recommended update.
type RowValues = (
    String,
    Option<&'static str>,
    Option<f64>,
    &'static str,
    Option<String>,
);

fn row_values(row: &TimelineRow<'_>) -> RowValues {
    (
        row.first_seen_timestamp.to_string(),
        row.vulnerability_severity_level,
        row.cvss_score,
        row.exploitability_level,
        row.recommended_security_update.map(str::to_owned),
    )
}

/// The CVE rows of a snapshot, by key.
fn cve_rows(timeline: &Timeline, s: usize) -> BTreeMap<RowKey, RowValues> {
    timeline
        .rows(s)
        .filter(|r| r.cve_id.is_some())
        .map(|r| (row_key(&r), row_values(&r)))
        .collect()
}

/// An exposure's key: (device, vendor, name, CVE).
fn exposure_key(row: &TimelineRow<'_>) -> (String, String, String, String) {
    (
        row.device_id.to_owned(),
        row.software_vendor.to_owned(),
        row.software_name.to_owned(),
        row.cve_id.unwrap_or_default().to_owned(),
    )
}

#[test]
fn the_same_seed_gives_the_same_timeline_and_another_seed_another() {
    let (a, b, c) = (
        timeline(5, 40, 20),
        timeline(5, 40, 20),
        timeline(6, 40, 20),
    );
    for s in [0, 9, 19] {
        let json = |t: &Timeline| t.rows(s).map(|r| r.to_json()).collect::<Vec<_>>();
        assert_eq!(json(&a), json(&b), "snapshot {s}");
        assert_ne!(json(&a), json(&c), "snapshot {s}");
    }
    let feed = |t: &Timeline| {
        t.changes(0, 19)
            .iter()
            .map(|c| c.to_json())
            .collect::<Vec<_>>()
    };
    assert_eq!(feed(&a), feed(&b));
    assert_ne!(feed(&a), feed(&c));
    assert_eq!(a.truth().exposures, b.truth().exposures);
    // Three tenants are three seeds: their devices differ, the world's KBs are the same.
    let ids = |t: &Timeline| -> BTreeSet<String> {
        t.truth().devices.iter().map(|d| d.id.clone()).collect()
    };
    assert!(ids(&a).is_disjoint(&ids(&c)));
    let kbs = |t: &Timeline| -> Vec<Option<String>> {
        t.truth().releases.iter().map(|r| r.kb.clone()).collect()
    };
    assert_eq!(kbs(&a), kbs(&c));
}

#[test]
fn snapshots_are_daily_at_six_and_the_last_is_on_the_end_day() {
    let timeline = timeline(1, 5, 10);
    assert_eq!(timeline.snapshots(), 10);
    assert_eq!(timeline.generated_time(9), "2026-10-14T06:00:00Z");
    assert_eq!(timeline.generated_time(0), "2026-10-05T06:00:00Z");
    for s in 1..10 {
        let gap = timeline
            .snapshot_time(s)
            .duration_since(timeline.snapshot_time(s - 1))
            .unwrap();
        assert_eq!(gap, Duration::from_secs(86_400));
    }
    assert_eq!(timeline.rows(10).count(), 0);
    // At least one snapshot, whatever the options say.
    assert_eq!(
        Timeline::generate(TimelineOptions::default().days(0).devices(3)).snapshots(),
        1
    );
}

#[test]
fn every_row_is_json_with_the_documented_keys_in_both_casings() {
    let timeline = small();
    let mut without_cve = 0;
    for s in [0, 30, 59] {
        for row in timeline.rows(s) {
            let (camel_text, pascal_text) = (row.to_json(), row.to_json_line(Case::Pascal));
            let camel: Value = serde_json::from_str(&camel_text).unwrap();
            let pascal_row: Value = serde_json::from_str(&pascal_text).unwrap();
            assert_eq!(keys(&camel_text), ROW_KEYS.map(str::to_owned), "{camel}");
            assert_eq!(keys(&pascal_text), ROW_KEYS.map(pascal), "{pascal_row}");
            for key in ROW_KEYS {
                assert_eq!(camel[key], pascal_row[pascal(key)], "{key}");
            }
            assert_eq!(serde_json::to_value(&row).unwrap(), camel);
            assert_eq!(camel["deviceId"].as_str().unwrap().len(), 40);
            assert!(
                is_row_time(camel["firstSeenTimestamp"].as_str().unwrap()),
                "{camel}"
            );
            assert!(
                is_row_time(camel["lastSeenTimestamp"].as_str().unwrap()),
                "{camel}"
            );
            assert!(row.first_seen_timestamp <= row.last_seen_timestamp);
            assert!(row.last_seen_timestamp.to_system_time() < timeline.snapshot_time(s));
            if row.cve_id.is_none() {
                without_cve += 1;
                assert!(row.id.ends_with("__"), "{}", row.id);
                for key in [
                    "cveId",
                    "cvssScore",
                    "vulnerabilitySeverityLevel",
                    "recommendedSecurityUpdate",
                    "recommendedSecurityUpdateId",
                    "recommendedSecurityUpdateUrl",
                ] {
                    assert!(camel[key].is_null(), "{key} in {camel}");
                }
                assert_eq!(camel["securityUpdateAvailable"], false);
            } else {
                let cve = camel["cveId"].as_str().unwrap();
                assert!(row.id.ends_with(&format!("_{cve}")), "{}", row.id);
                assert!(cve.starts_with("CVE-20"), "{cve}");
                assert!(camel["cvssScore"].is_number());
                assert!(camel["recommendedSecurityUpdate"].is_string());
                if row.software_vendor == "microsoft" {
                    let kb = camel["recommendedSecurityUpdateId"].as_str().unwrap();
                    assert_eq!(kb.len(), 7);
                    assert!(
                        row.recommended_security_update
                            .unwrap()
                            .ends_with(&format!("(KB{kb})"))
                    );
                } else {
                    assert!(camel["recommendedSecurityUpdateId"].is_null());
                    assert!(
                        row.recommended_security_update
                            .unwrap()
                            .starts_with("Update ")
                    );
                }
            }
        }
    }
    assert!(without_cve > 0);
}

#[test]
fn every_change_is_json_with_status_event_timestamp_and_is_onboarded() {
    let timeline = small();
    let changes = timeline.changes(40, 45);
    assert!(!changes.is_empty());
    for change in &changes {
        let (camel_text, pascal_text) = (change.to_json(), change.to_json_line(Case::Pascal));
        let camel: Value = serde_json::from_str(&camel_text).unwrap();
        let mut expected: Vec<String> = ROW_KEYS.map(str::to_owned).to_vec();
        expected.extend(["status", "eventTimestamp", "isOnboarded"].map(str::to_owned));
        assert_eq!(keys(&camel_text), expected);
        let pascal_keys: Vec<String> = expected.iter().map(|k| pascal(k)).collect();
        assert_eq!(keys(&pascal_text), pascal_keys);
        assert_eq!(camel["status"], change.status.as_str());
        assert_eq!(
            camel["eventTimestamp"],
            timeline.generated_time(change.snapshot)
        );
        assert_eq!(camel["isOnboarded"], change.is_onboarded);
        assert!((41..=45).contains(&change.snapshot));
        assert!(
            change.row.cve_id.is_some(),
            "rows without a CVE are not in the feed"
        );
    }
    assert_eq!(
        serde_json::to_string(&changes[0]).unwrap(),
        changes[0].to_json()
    );
}

/// Applies the feed of snapshots `a + 1` to `b` to the CVE rows of `a`, checking each change
/// against what it applies to.
fn apply(
    mut rows: BTreeMap<RowKey, RowValues>,
    changes: &[TimelineChange<'_>],
) -> BTreeMap<RowKey, RowValues> {
    for change in changes {
        let key = row_key(&change.row);
        let values = row_values(&change.row);
        match change.status {
            ChangeStatus::Fixed => {
                assert_eq!(rows.remove(&key), Some(values), "Fixed {key:?}");
            }
            ChangeStatus::New => assert_eq!(rows.insert(key.clone(), values), None, "New {key:?}"),
            ChangeStatus::Updated => {
                let before = rows.insert(key.clone(), values.clone());
                assert!(before.is_some_and(|b| b != values), "Updated {key:?}");
            }
        }
    }
    rows
}

#[test]
fn the_feed_applied_to_a_snapshot_gives_the_next_ones() {
    let timeline = small();
    let last = timeline.snapshots() - 1;
    for (a, b) in [
        (0, 1),
        (20, 21),
        (33, 34),
        (0, last),
        (10, 40),
        (last - 1, last),
    ] {
        let applied = apply(cve_rows(&timeline, a), &timeline.changes(a, b));
        assert_eq!(applied, cve_rows(&timeline, b), "{a} → {b}");
    }
    // Changes stream in snapshot order, and the streamed feed is the collected one.
    let feed = timeline.changes(0, last);
    assert!(feed.windows(2).all(|w| w[0].snapshot <= w[1].snapshot));
    assert_eq!(timeline.changes_iter(0, last).count(), feed.len());
    assert!(timeline.changes(last, last + 5).is_empty());
}

/// The `Fixed` and `New` rows each snapshot's feed has for the same exposure (device, software,
/// CVE).
fn pairs<'c, 't>(
    changes: &'c [TimelineChange<'t>],
) -> Vec<(&'c TimelineChange<'t>, &'c TimelineChange<'t>)> {
    let mut fixed = BTreeMap::new();
    for change in changes.iter().filter(|c| c.status == ChangeStatus::Fixed) {
        fixed.insert((change.snapshot, exposure_key(&change.row)), change);
    }
    changes
        .iter()
        .filter(|c| c.status == ChangeStatus::New)
        .filter_map(|new| {
            let fixed = fixed.get(&(new.snapshot, exposure_key(&new.row)))?;
            Some((*fixed, new))
        })
        .collect()
}

#[test]
fn an_upgrade_that_keeps_a_cve_is_fixed_and_new_with_the_same_first_seen() {
    let timeline = small();
    let truth = timeline.truth();
    let feed = timeline.changes(0, timeline.snapshots() - 1);
    let kept: Vec<_> = truth
        .upgrades
        .iter()
        .filter(|u| u.kept_cve.is_some())
        .collect();
    assert!(!kept.is_empty());
    let pairs = pairs(&feed);
    for upgrade in kept {
        let device = &truth.devices[upgrade.device].id;
        let cve = upgrade.kept_cve.as_deref();
        let (fixed, new) = pairs
            .iter()
            .find(|(f, _)| {
                f.snapshot == upgrade.snapshot
                    && f.row.device_id == device
                    && f.row.software_name == upgrade.software_name
                    && f.row.cve_id == cve
            })
            .unwrap_or_else(|| panic!("no Fixed + New for {upgrade:?}"));
        assert_eq!(fixed.row.software_version, upgrade.from_version);
        assert_eq!(new.row.software_version, upgrade.to_version);
        assert_eq!(fixed.row.first_seen_timestamp, new.row.first_seen_timestamp);
        assert!(fixed.is_onboarded && new.is_onboarded);
        // One exposure, one span across the version change.
        let exposure = truth
            .exposure(
                device,
                upgrade.software_vendor,
                upgrade.software_name,
                cve.unwrap(),
            )
            .unwrap();
        assert!(exposure.is_open_at(upgrade.snapshot - 1) && exposure.is_open_at(upgrade.snapshot));
        assert_eq!(exposure.first_seen, new.row.first_seen_timestamp);
    }
}

#[test]
fn a_group_move_is_fixed_under_the_old_group_and_new_under_the_new() {
    let timeline = small();
    let truth = timeline.truth();
    let feed = timeline.changes(0, timeline.snapshots() - 1);
    let pairs = pairs(&feed);
    let moved = truth.moved_devices_between(0, timeline.snapshots() - 1);
    assert!(!moved.is_empty());
    let mut seen = 0;
    for device in moved {
        let (old, new) = (&device.groups[0], &device.groups[1]);
        let open = truth
            .exposures
            .iter()
            .filter(|e| e.device_id == device.id)
            .filter(|e| e.is_open_at(new.from - 1) && e.is_open_at(new.from))
            .count();
        let moves: Vec<_> = pairs
            .iter()
            .filter(|(f, _)| f.row.device_id == device.id && f.snapshot == new.from)
            .filter(|(f, n)| f.row.software_version == n.row.software_version)
            .collect();
        assert_eq!(moves.len(), open, "{}", device.name);
        for (fixed, new_row) in moves {
            assert_eq!(fixed.row.rbac_group_name, old.name);
            assert_eq!(new_row.row.rbac_group_name, new.name);
            assert_eq!(new_row.row.rbac_group_id, new.id);
            assert_eq!(
                fixed.row.first_seen_timestamp,
                new_row.row.first_seen_timestamp
            );
            seen += 1;
        }
    }
    assert!(seen > 0);
}

#[test]
fn a_retired_device_leaves_with_fixed_rows_not_onboarded_and_is_absent_after() {
    let timeline = small();
    let truth = timeline.truth();
    let last = timeline.snapshots() - 1;
    let retired = truth.retired_devices_between(0, last);
    assert!(!retired.is_empty());
    for device in retired {
        let r = device.retired.unwrap();
        for s in r..=last {
            assert!(
                timeline.rows(s).all(|row| row.device_id != device.id),
                "{s}"
            );
        }
        assert!(timeline.rows(r - 1).any(|row| row.device_id == device.id));
        let leaving: Vec<_> = timeline
            .changes(r - 1, r)
            .into_iter()
            .filter(|c| c.row.device_id == device.id)
            .collect();
        let open = truth
            .open_at(r - 1)
            .filter(|e| e.device_id == device.id)
            .count();
        assert_eq!(leaving.len(), open);
        assert!(
            leaving
                .iter()
                .all(|c| c.status == ChangeStatus::Fixed && !c.is_onboarded)
        );
        // Their spans end as retired, not fixed.
        for e in truth.exposures.iter().filter(|e| e.device_id == device.id) {
            if let Some(span) = e.spans.iter().find(|s| s.is_open_at(r - 1)) {
                assert_eq!(span.closed, Some((r, Ended::Retired)));
            }
        }
    }
    // Every other Fixed row is onboarded.
    let retired_ids: BTreeSet<&str> = truth
        .devices
        .iter()
        .filter(|d| d.retired.is_some())
        .map(|d| d.id.as_str())
        .collect();
    for change in timeline.changes(0, last) {
        assert_eq!(
            change.is_onboarded,
            !(change.status == ChangeStatus::Fixed
                && retired_ids.contains(change.row.device_id)
                && Some(change.snapshot)
                    == truth.device(change.row.device_id).and_then(|d| d.retired))
        );
    }
}

#[test]
fn the_cve_rows_of_each_snapshot_are_the_exposures_the_truth_has_open() {
    let timeline = small();
    let truth = timeline.truth();
    assert_eq!(truth.snapshots(), timeline.snapshots());
    for s in 0..timeline.snapshots() {
        assert_eq!(truth.snapshot_time(s), timeline.snapshot_time(s));
        let mut rows = BTreeMap::new();
        let mut devices = BTreeSet::new();
        for row in timeline.rows(s) {
            devices.insert(row.device_id.to_owned());
            let device = truth.device(row.device_id).unwrap();
            let group = device.group_at(s).unwrap();
            assert_eq!(
                (row.rbac_group_name, row.rbac_group_id),
                (group.name, group.id)
            );
            assert_eq!(row.os_platform, device.os_platform);
            if row.cve_id.is_some() {
                let values = (
                    row.first_seen_timestamp,
                    row.vulnerability_severity_level,
                    row.cvss_score,
                    row.exploitability_level,
                    row.recommended_security_update_id.map(str::to_owned),
                );
                assert_eq!(
                    rows.insert(exposure_key(&row), values),
                    None,
                    "one row an exposure"
                );
            }
        }
        let open: BTreeMap<_, _> = truth
            .open_at(s)
            .map(|e| {
                let key = (
                    e.device_id.clone(),
                    e.software_vendor.to_owned(),
                    e.software_name.to_owned(),
                    e.cve_id.clone(),
                );
                let kb = truth
                    .recommended_kb(e.software_vendor, e.software_name, s)
                    .map(str::to_owned);
                let values = (
                    e.first_seen,
                    Some(e.severity),
                    Some(e.cvss),
                    e.exploitability_at(s),
                    kb,
                );
                (key, values)
            })
            .collect();
        assert_eq!(rows, open, "snapshot {s}");
        let present: BTreeSet<String> = truth
            .devices
            .iter()
            .filter(|d| d.is_present_at(s))
            .map(|d| d.id.clone())
            .collect();
        assert_eq!(devices, present, "snapshot {s}");
        let trend = truth.trend(s);
        assert_eq!(trend.open, rows.len());
        let exposed: BTreeSet<&String> = rows.keys().map(|k| &k.0).collect();
        assert_eq!(trend.devices_exposed, exposed.len());
    }
}

#[test]
fn the_truth_counts_agree_with_the_feed() {
    let timeline = small();
    let truth = timeline.truth();
    for s in 1..timeline.snapshots() {
        let open = |at: usize| -> BTreeSet<(String, String, String, String)> {
            truth
                .open_at(at)
                .map(|e| {
                    let (v, n) = (e.software_vendor.to_owned(), e.software_name.to_owned());
                    (e.device_id.clone(), v, n, e.cve_id.clone())
                })
                .collect()
        };
        let (before, now) = (open(s - 1), open(s));
        let changes = timeline.changes(s - 1, s);
        let fixed: BTreeSet<_> = changes
            .iter()
            .filter(|c| c.status == ChangeStatus::Fixed && !now.contains(&exposure_key(&c.row)))
            .map(|c| (exposure_key(&c.row), c.is_onboarded))
            .collect();
        let new: BTreeSet<_> = changes
            .iter()
            .filter(|c| c.status == ChangeStatus::New && !before.contains(&exposure_key(&c.row)))
            .map(|c| exposure_key(&c.row))
            .collect();
        let trend = truth.trend(s);
        assert_eq!(
            fixed.iter().filter(|(_, on)| *on).count(),
            trend.fixed,
            "{s}"
        );
        assert_eq!(
            fixed.iter().filter(|(_, on)| !on).count(),
            trend.retired,
            "{s}"
        );
        assert_eq!(new.len(), trend.new + trend.reopened, "{s}");
        assert_eq!(truth.fixed_between(s - 1, s).len(), trend.fixed);
        assert_eq!(truth.retired_between(s - 1, s).len(), trend.retired);
    }
}

#[test]
fn the_timeline_has_each_kind_of_event() {
    let timeline = small();
    let truth = timeline.truth();
    let last = timeline.snapshots() - 1;
    // Reopened: a second span, after a fixed one, with the original first seen.
    let reopened = truth.reopened_between(0, last);
    assert!(!reopened.is_empty());
    for (exposure, span) in &reopened {
        let first = exposure.spans[0];
        assert!(matches!(first.closed, Some((closed, Ended::Fixed)) if closed < span.opened));
        let row = timeline
            .rows(span.opened)
            .find(|r| {
                exposure_key(r)
                    == (
                        exposure.device_id.clone(),
                        exposure.software_vendor.to_owned(),
                        exposure.software_name.to_owned(),
                        exposure.cve_id.clone(),
                    )
            })
            .unwrap();
        assert_eq!(row.first_seen_timestamp, exposure.first_seen);
    }
    assert!(!truth.retired_devices_between(0, last).is_empty());
    assert!(!truth.onboarded_devices_between(0, last).is_empty());
    assert!(!truth.moved_devices_between(0, last).is_empty());
    assert!(truth.upgrades.iter().any(|u| u.kept_cve.is_some()));
    assert!(truth.devices.iter().any(|d| !d.patches));
    // Onboarded devices are new with all their exposures, first seen after onboarding.
    for device in truth.onboarded_devices_between(0, last) {
        assert!(device.onboarded > 0);
        for e in truth.exposures.iter().filter(|e| e.device_id == device.id) {
            assert!(e.spans[0].opened >= device.onboarded);
            assert!(e.first_seen.to_system_time() > timeline.snapshot_time(device.onboarded - 1));
        }
    }
    // Days to fix are never negative; criticals are fixed faster than the rest.
    let fixes = truth.fixed_between(0, last);
    assert!(fixes.iter().all(|f| f.days >= 0.0));
    let median = |severity| percentile(&truth.days_to_fix(Some(severity), 0, last), 0.5).unwrap();
    assert!(
        median("Critical") < median("High"),
        "{} {}",
        median("Critical"),
        median("High")
    );
    assert!(median("High") < median("Medium"));
}

#[test]
fn a_cumulative_update_supersedes_the_ones_before() {
    let timeline = small();
    let truth = timeline.truth();
    // Each cumulative update supersedes the one before it.
    let windows: Vec<_> = truth
        .releases
        .iter()
        .filter(|r| r.software_name == "windows_11")
        .collect();
    assert!(windows.len() > 3);
    for pair in windows.windows(2) {
        assert_eq!(pair[1].supersedes, pair[0].kb);
        assert!(pair[1].update.contains("Cumulative Update for Windows 11"));
    }
    // A device that installs the newest one is fixed for the older ones' CVEs too.
    let skipping: Vec<_> = truth
        .upgrades
        .iter()
        .filter(|u| u.software_vendor == "microsoft" && u.releases.len() > 1)
        .collect();
    assert!(!skipping.is_empty());
    let mut checked = 0;
    for upgrade in skipping {
        let device = &truth.devices[upgrade.device];
        let older = &upgrade.releases[0];
        for e in truth.exposures.iter().filter(|e| {
            e.device_id == device.id
                && e.software_name == upgrade.software_name
                && &e.fixed_by == older
        }) {
            if e.is_open_at(upgrade.snapshot - 1) {
                assert!(!e.is_open_at(upgrade.snapshot), "{e:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
    // On a Patch Tuesday, open Windows exposures recommend the new KB: Updated rows.
    let tuesday = windows
        .iter()
        .find(|r| r.newest_from > 0 && r.newest_from < timeline.snapshots())
        .unwrap();
    let updated: Vec<_> = timeline
        .changes(tuesday.newest_from - 1, tuesday.newest_from)
        .into_iter()
        .filter(|c| c.status == ChangeStatus::Updated && c.row.software_name == "windows_11")
        .collect();
    assert!(!updated.is_empty());
    for change in updated {
        assert_eq!(
            change.row.recommended_security_update_id,
            tuesday.kb.as_deref()
        );
        assert_eq!(
            change.row.recommended_security_update,
            Some(tuesday.update.as_str())
        );
    }
}

#[test]
fn the_truth_answers_what_a_history_store_is_asked() {
    let timeline = small();
    let truth = timeline.truth();
    let last = timeline.snapshots() - 1;
    // Trends: one point a snapshot, counted from the truth.
    let trends = truth.trends();
    assert_eq!(trends.len(), timeline.snapshots());
    assert_eq!(trends[0].new, 0);
    assert!(trends.iter().any(|t| t.new > 0 && t.fixed > 0));
    assert!(
        trends
            .iter()
            .all(|t| t.critical_open <= t.open && t.exploitable_open <= t.open)
    );
    assert!(
        trends
            .iter()
            .all(|t| t.kbs_missing <= 4 && t.device_kbs_missing <= t.devices_exposed)
    );
    // Past SLA: older than the deadline at the snapshot.
    let sla = |severity: &str| match severity {
        "Critical" => 15.0,
        "High" => 30.0,
        _ => 90.0,
    };
    let late = truth.open_past_sla(last, sla);
    assert!(!late.is_empty());
    assert!(
        late.iter()
            .all(|e| truth.age_days(e, last) > sla(e.severity))
    );
    // Percentiles by nearest rank.
    assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.0));
    assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.9), Some(4.0));
    assert_eq!(percentile(&[], 0.5), None);
    // Lookups.
    let e = &truth.exposures[0];
    assert_eq!(
        truth.exposure(&e.device_id, e.software_vendor, e.software_name, &e.cve_id),
        Some(e)
    );
    assert_eq!(truth.exposure("nobody", "x", "y", "z"), None);
    let new = truth.new_between(0, last).len();
    let fixed = truth.fixed_between(0, last).len();
    assert!(new > 0 && fixed > 0);
}

#[test]
fn rows_per_device_stay_in_the_documented_range() {
    let timeline = timeline(3, 300, 40);
    let mut per_snapshot = Vec::new();
    for s in 0..timeline.snapshots() {
        let devices = timeline
            .truth()
            .devices
            .iter()
            .filter(|d| d.is_present_at(s))
            .count();
        per_snapshot.push(timeline.rows(s).count() as f64 / devices as f64);
    }
    let mean = per_snapshot.iter().sum::<f64>() / per_snapshot.len() as f64;
    assert!((10.0..=40.0).contains(&mean), "{mean} {per_snapshot:?}");
}

/// 20,000 devices: generating is quick and a snapshot streams (the rows are not kept).
#[test]
fn a_large_tenant_generates_quickly() {
    let started = Instant::now();
    let timeline = timeline(9, 20_000, 5);
    let generated = started.elapsed();
    let rows = timeline.rows(4).count();
    assert!(rows > 20_000 * 10, "{rows}");
    assert!(generated < Duration::from_secs(20), "{generated:?}");
}

#[test]
fn any_end_time_and_size_gives_a_timeline() {
    let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    for (end, devices, days) in [
        (UNIX_EPOCH, 8, 5),
        (far, 8, 5),
        (end(), 0, 3),
        (end(), 1, 1),
    ] {
        let timeline = Timeline::generate(
            TimelineOptions::default()
                .end(end)
                .devices(devices)
                .days(days),
        );
        let last = timeline.snapshots() - 1;
        assert_eq!(timeline.rows(last).count() > 0, devices > 0);
        assert_eq!(timeline.truth().devices.len(), devices);
        let _ = timeline.changes(0, last);
        let _ = timeline.truth().trends();
    }
}
