//! The rules of what counts as fixed, on hand-written snapshots: each expected value is worked
//! out by hand from the rows below, never from the store's code.

use chrono::{DateTime, Duration, TimeZone, Utc};
use defender_tvm::types::Severity;
use defender_tvm_history::{By, Change, Happened, Observation, Sla, Source, Store, Synced, When};

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap() + Duration::days(n)
}

const CRITICAL: Severity = Severity::Critical;
const HIGH: Severity = Severity::High;

/// A row of device `device` (group `group`): software `name` at `version`, exposed to `cve`
/// first seen on day `first_seen`.
fn row<'a>(
    device: &'a str,
    group: &'a str,
    name: &'a str,
    version: &'a str,
    cve: Option<&'a str>,
    first_seen: i64,
) -> Observation<'a> {
    Observation {
        device_id: device,
        device_name: Some(device),
        rbac_group: Some(group),
        software_vendor: "vendor",
        software_name: name,
        software_version: Some(version),
        cve_id: cve,
        severity: Some(if cve == Some("CVE-C") {
            &CRITICAL
        } else {
            &HIGH
        }),
        exploited: false,
        kb: cve.map(|_| "5040131"),
        first_seen: Some(day(first_seen) - Duration::hours(2)),
    }
}

fn sync(store: &mut Store, n: i64, rows: Vec<Observation<'_>>) -> Synced {
    store
        .sync_snapshot("contoso", day(n), Source::Export, rows)
        .unwrap()
}

fn keys(rows: &[defender_tvm_history::ExposureRow]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r.device_id.clone(), r.cve_id.clone()))
        .collect()
}

fn pair(device: &str, cve: &str) -> (String, String) {
    (device.to_string(), cve.to_string())
}

#[test]
fn gone_while_the_device_stays_is_fixed_and_gone_with_the_device_is_retired() {
    let mut store = Store::in_memory().unwrap();
    sync(
        &mut store,
        0,
        vec![
            row("d1", "G", "app", "1.0", Some("CVE-C"), 0),
            row("d2", "G", "app", "1.0", Some("CVE-C"), 0),
        ],
    );
    // d1 still sends its software row, without the CVE; d2 is gone.
    sync(&mut store, 1, vec![row("d1", "G", "app", "1.1", None, 0)]);
    let changes = store.changes(None, None, None).unwrap();
    assert_eq!(keys(&changes.fixed), [pair("d1", "CVE-C")]);
    assert_eq!(changes.fixed[0].fixed_at, Some(day(1)));
    assert!(changes.new.is_empty() && changes.reopened.is_empty());
    assert_eq!(changes.retired_devices.len(), 1);
    assert_eq!(changes.retired_devices[0].device_id, "d2");
    let remediation = store
        .remediation(None, None, None, Sla::default(), By::Severity)
        .unwrap();
    // Every severity has its line, counted or not.
    let keys: Vec<_> = remediation.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["Critical", "High", "Medium", "Low"]);
    assert_eq!(
        (remediation.groups[1].fixed, remediation.groups[1].open),
        (0, 0)
    );
    assert_eq!(remediation.groups[1].median_days, None);
    let critical = &remediation.groups[0];
    assert_eq!(critical.key, "Critical");
    assert_eq!(critical.sla_days, Some(15));
    // Retired: neither fixed nor open. Fixed one day and two hours after first seen.
    assert_eq!((critical.fixed, critical.open), (1, 0));
    assert_eq!(critical.median_days, Some(1.1));
}

#[test]
fn a_new_version_or_device_group_keeps_the_exposure_open() {
    let mut store = Store::in_memory().unwrap();
    sync(
        &mut store,
        0,
        vec![row("d1", "Finance", "app", "1.0", Some("CVE-H"), 0)],
    );
    sync(
        &mut store,
        1,
        vec![row("d1", "Sales", "app", "2.0", Some("CVE-H"), 0)],
    );
    let changes = store.changes(None, None, None).unwrap();
    assert!(
        changes.new.is_empty() && changes.fixed.is_empty(),
        "{changes:?}"
    );
    let trend = store.trend(None).unwrap();
    assert_eq!(trend.snapshots[1].open_exposures, 1);
    assert_eq!((trend.snapshots[1].new, trend.snapshots[1].fixed), (0, 0));
    // The exposure shows its new version.
    let open = store.oldest_open(None, None, 10).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].software_version.as_deref(), Some("2.0"));
    let by_group = store
        .remediation(None, None, None, Sla::default(), By::Group)
        .unwrap();
    assert_eq!(by_group.groups.len(), 1);
    assert_eq!(
        (by_group.groups[0].key.as_str(), by_group.groups[0].open),
        ("Sales", 1)
    );
}

#[test]
fn fixed_then_seen_again_is_one_exposure_reopened_and_open() {
    let mut store = Store::in_memory().unwrap();
    sync(
        &mut store,
        0,
        vec![row("d1", "G", "app", "1.0", Some("CVE-H"), 0)],
    );
    sync(&mut store, 1, vec![row("d1", "G", "app", "1.0", None, 0)]);
    sync(
        &mut store,
        2,
        vec![row("d1", "G", "app", "1.0", Some("CVE-H"), 0)],
    );
    let changes = store.changes(None, None, None).unwrap();
    assert_eq!(keys(&changes.reopened), [pair("d1", "CVE-H")]);
    assert!(changes.new.is_empty() && changes.fixed.is_empty());
    // Over the whole history, it stands open at the end: not fixed.
    let all = store
        .remediation(None, None, None, Sla::default(), By::Severity)
        .unwrap();
    assert_eq!((all.groups[1].fixed, all.groups[1].open), (0, 1));
    let trend = store.trend(None).unwrap();
    let counts: Vec<_> = trend
        .snapshots
        .iter()
        .map(|p| (p.open_exposures, p.new, p.fixed))
        .collect();
    assert_eq!(counts, [(1, 1, 0), (0, 0, 1), (1, 1, 0)]);
    // Changes over days 0..=1 see the fix.
    let first = store
        .changes(None, Some(When::at(day(0))), Some(When::at(day(1))))
        .unwrap();
    assert_eq!(keys(&first.fixed), [pair("d1", "CVE-H")]);
}

#[test]
fn rows_without_a_cve_are_not_exposures_but_keep_their_device() {
    let mut store = Store::in_memory().unwrap();
    let Synced::Stored(summary) = sync(&mut store, 0, vec![row("d1", "G", "app", "1.0", None, 0)])
    else {
        panic!("stored");
    };
    assert_eq!((summary.rows, summary.open_exposures), (1, 0));
    assert_eq!(store.snapshots(None).unwrap()[0].devices, 1);
}

#[test]
fn the_same_snapshot_is_stored_once_and_an_older_one_is_refused() {
    let mut store = Store::in_memory().unwrap();
    sync(
        &mut store,
        1,
        vec![row("d1", "G", "app", "1.0", Some("CVE-H"), 0)],
    );
    let again = sync(&mut store, 1, vec![row("d1", "G", "app", "1.0", None, 0)]);
    assert_eq!(
        again,
        Synced::AlreadyStored {
            generated_time: day(1)
        }
    );
    assert_eq!(store.snapshots(None).unwrap().len(), 1);
    let older = store.sync_snapshot("contoso", day(0), Source::Export, vec![]);
    assert!(
        matches!(
            older,
            Err(defender_tvm_history::Error::OlderThanLast { .. })
        ),
        "{older:?}"
    );
}

#[test]
fn remediation_counts_past_the_sla_and_ages_at_the_end_of_the_window() {
    let mut store = Store::in_memory().unwrap();
    // Day 40: a critical first seen on day 0 (40 days old, past 15), a high first seen on day
    // 35 (5 days old, within 30), a high first seen on day 5 (35 days old, past 30).
    sync(
        &mut store,
        40,
        vec![
            row("d1", "G", "app", "1.0", Some("CVE-C"), 0),
            row("d1", "G", "lib", "1.0", Some("CVE-H"), 35),
            row("d2", "G", "lib", "1.0", Some("CVE-H"), 5),
        ],
    );
    let remediation = store
        .remediation(None, None, None, Sla::default(), By::Severity)
        .unwrap();
    let [critical, high, _, _] = &remediation.groups[..] else {
        panic!("{remediation:?}")
    };
    assert_eq!((critical.open, critical.open_past_sla), (1, 1));
    assert_eq!(critical.oldest_open_days, Some(40.1));
    assert_eq!(critical.open_by_age.days_31_90, 1);
    assert_eq!(
        (high.key.as_str(), high.open, high.open_past_sla),
        ("High", 2, 1)
    );
    assert_eq!(
        (high.open_by_age.days_0_7, high.open_by_age.days_31_90),
        (1, 1)
    );
    // A tighter SLA for high counts both.
    let tight = store
        .remediation(None, None, None, "high=3".parse().unwrap(), By::Severity)
        .unwrap();
    assert_eq!(tight.groups[1].open_past_sla, 2);
}

#[test]
fn a_baseline_and_the_change_feed_give_the_store_a_full_sync_gives() {
    let day0 = || {
        vec![
            row("d1", "Finance", "app", "1.0", Some("CVE-H"), 0),
            row("d1", "Finance", "lib", "1.0", Some("CVE-C"), 0),
            row("d2", "Finance", "app", "1.0", Some("CVE-H"), 0),
            row("d3", "Finance", "app", "1.0", Some("CVE-H"), 0),
        ]
    };
    // Day 1: d1 fixed CVE-C (still sends lib), moved group and upgraded app keeping CVE-H; d2
    // is offboarded; d3 unchanged; d4 onboarded.
    let day1 = vec![
        row("d1", "Sales", "app", "2.0", Some("CVE-H"), 0),
        row("d1", "Sales", "lib", "1.1", None, 0),
        row("d3", "Finance", "app", "1.0", Some("CVE-H"), 0),
        row("d4", "Finance", "app", "1.0", Some("CVE-H"), 1),
    ];
    let change = |observation: Observation<'static>, happened| Change {
        observation,
        happened,
        at: day(1),
    };
    let feed = vec![
        change(
            row("d1", "Finance", "app", "1.0", Some("CVE-H"), 0),
            Happened::Fixed,
        ),
        change(
            row("d1", "Sales", "app", "2.0", Some("CVE-H"), 0),
            Happened::New,
        ),
        change(
            row("d1", "Finance", "lib", "1.0", Some("CVE-C"), 0),
            Happened::Fixed,
        ),
        change(
            row("d2", "Finance", "app", "1.0", Some("CVE-H"), 0),
            Happened::Offboarded,
        ),
        change(
            row("d4", "Finance", "app", "1.0", Some("CVE-H"), 1),
            Happened::New,
        ),
        // Already in the baseline: skipped.
        Change {
            at: day(0),
            ..change(
                row("d3", "Finance", "app", "1.0", Some("CVE-H"), 0),
                Happened::New,
            )
        },
    ];
    let mut full = Store::in_memory().unwrap();
    sync(&mut full, 0, day0());
    sync(&mut full, 1, day1);
    let mut delta = Store::in_memory().unwrap();
    sync(&mut delta, 0, day0());
    assert_eq!(delta.changes_since("contoso", day(1)).unwrap(), day(0));
    assert!(matches!(
        delta.apply_changes("contoso", &feed).unwrap(),
        Synced::Stored(_)
    ));
    // The same answers.
    assert_eq!(
        full.changes(None, None, None).unwrap(),
        delta.changes(None, None, None).unwrap()
    );
    assert_eq!(full.trend(None).unwrap(), delta.trend(None).unwrap());
    for by in [By::Severity, By::Group, By::Kb, By::Software] {
        assert_eq!(
            full.remediation(None, None, None, Sla::default(), by)
                .unwrap(),
            delta
                .remediation(None, None, None, Sla::default(), by)
                .unwrap()
        );
    }
    let changes = delta.changes(None, None, None).unwrap();
    assert_eq!(keys(&changes.fixed), [pair("d1", "CVE-C")]);
    assert_eq!(keys(&changes.new), [pair("d4", "CVE-H")]);
    assert_eq!(changes.retired_devices[0].device_id, "d2");
    // Applying the same feed again adds nothing.
    assert_eq!(
        delta.apply_changes("contoso", &feed).unwrap(),
        Synced::NoChanges
    );
}

#[test]
fn the_change_feed_is_refused_without_a_baseline_or_past_14_days() {
    let mut store = Store::in_memory().unwrap();
    let none = store.changes_since("contoso", day(0));
    assert!(
        matches!(none, Err(defender_tvm_history::Error::NoBaseline { .. })),
        "{none:?}"
    );
    sync(&mut store, 0, vec![]);
    assert!(store.changes_since("contoso", day(14)).is_ok());
    let old = store.changes_since("contoso", day(15)).unwrap_err();
    assert!(old.to_string().contains("a full sync is needed"), "{old}");
}

#[test]
fn answers_are_per_tenant_and_across_tenants() {
    let mut store = Store::in_memory().unwrap();
    for tenant in ["contoso", "fabrikam"] {
        store
            .sync_snapshot(
                tenant,
                day(0),
                Source::Export,
                vec![row("d1", "G", "app", "1.0", Some("CVE-H"), 0)],
            )
            .unwrap();
        store
            .sync_snapshot(
                tenant,
                day(1),
                Source::Export,
                vec![row("d1", "G", "app", "1.0", None, 0)],
            )
            .unwrap();
    }
    let across = store.changes(None, None, None).unwrap();
    let tenants: Vec<_> = across.fixed.iter().map(|r| r.tenant.as_deref()).collect();
    assert_eq!(tenants, [Some("contoso"), Some("fabrikam")]);
    let one = store.changes(Some("fabrikam"), None, None).unwrap();
    assert_eq!(one.fixed.len(), 1);
    assert_eq!(one.fixed[0].tenant, None);
    let trend = store.trend(None).unwrap();
    let totals: Vec<_> = trend
        .snapshots
        .iter()
        .map(|p| (p.open_exposures, p.fixed))
        .collect();
    assert_eq!(totals, [(2, 0), (0, 2)]);
    let unknown = store.trend(Some("northwind")).unwrap_err();
    assert!(
        unknown.to_string().contains("contoso, fabrikam"),
        "{unknown}"
    );
    let by_tenant = store
        .remediation(None, None, None, Sla::default(), By::Tenant)
        .unwrap();
    let fixed: Vec<_> = by_tenant
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.fixed))
        .collect();
    assert_eq!(fixed, [("contoso", 1), ("fabrikam", 1)]);
}

#[test]
fn a_device_back_after_it_left_is_not_retired_in_a_window_that_sees_it_back() {
    let mut store = Store::in_memory().unwrap();
    sync(
        &mut store,
        0,
        vec![
            row("d1", "G", "app", "1.0", Some("CVE-H"), 0),
            row("d2", "G", "app", "1.0", None, 0),
        ],
    );
    // d1 leaves on day 1 and is back on day 2.
    sync(&mut store, 1, vec![row("d2", "G", "app", "1.0", None, 0)]);
    sync(
        &mut store,
        2,
        vec![
            row("d1", "G", "app", "1.0", Some("CVE-H"), 0),
            row("d2", "G", "app", "1.0", None, 0),
        ],
    );
    let left = store
        .changes(None, Some(When::at(day(0))), Some(When::at(day(1))))
        .unwrap();
    let ids: Vec<_> = left
        .retired_devices
        .iter()
        .map(|d| d.device_id.as_str())
        .collect();
    assert_eq!(ids, ["d1"]);
    let back = store
        .changes(None, Some(When::at(day(0))), Some(When::at(day(2))))
        .unwrap();
    assert!(back.retired_devices.is_empty(), "{back:?}");
    // Its exposure was retired, not fixed: back, it is open again but not reopened.
    assert!(
        back.reopened.is_empty() && back.fixed.is_empty(),
        "{back:?}"
    );
    let trend = store.trend(None).unwrap();
    assert_eq!(trend.snapshots[1].fixed, 0);
}

#[test]
fn remediation_by_update_names_kbs_as_people_do() {
    let mut store = Store::in_memory().unwrap();
    let mut third_party = row("d2", "G", "chrome", "1.0", Some("CVE-X"), 0);
    third_party.kb = None;
    sync(
        &mut store,
        0,
        vec![row("d1", "G", "app", "1.0", Some("CVE-H"), 0), third_party],
    );
    let by_kb = store
        .remediation(None, None, None, Sla::default(), By::Kb)
        .unwrap();
    let keys: Vec<_> = by_kb.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["KB5040131", "vendor chrome"]);
    assert!(by_kb.groups.iter().all(|g| g.sla_days.is_none()));
}

#[test]
fn an_sla_names_any_severity_and_keeps_the_others_default() {
    let sla: Sla = "low=200, Medium=60".parse().unwrap();
    assert_eq!(
        (sla.critical, sla.high, sla.medium, sla.low),
        (15, 30, 60, 200)
    );
    assert_eq!(sla.to_string(), "critical=15,high=30,medium=60,low=200");
    for bad in [
        "critical",
        "critical=0",
        "critical=-1",
        "urgent=3",
        "high=x",
    ] {
        assert!(bad.parse::<Sla>().is_err(), "{bad}");
    }
}

#[test]
fn a_window_starts_after_its_first_snapshot_and_ends_with_its_last() {
    let mut store = Store::in_memory().unwrap();
    sync(
        &mut store,
        0,
        vec![row("d1", "G", "app", "1.0", Some("CVE-H"), 0)],
    );
    sync(&mut store, 1, vec![row("d1", "G", "app", "1.0", None, 0)]);
    // Since day 1 itself: nothing after it.
    let after = store.changes(None, Some(When::at(day(1))), None).unwrap();
    assert!(after.fixed.is_empty() && after.new.is_empty(), "{after:?}");
    let later = store
        .changes(None, Some(When::at(day(1) + Duration::hours(5))), None)
        .unwrap();
    assert!(later.fixed.is_empty() && later.new.is_empty(), "{later:?}");
    // Since before the first snapshot: everything is new.
    let all = store.changes(None, Some(When::at(day(-3))), None).unwrap();
    assert_eq!((all.new.len(), all.fixed.len()), (1, 1));
    // Remediation the same way: the fix on day 1 is in (day 0, day 1], not in (day 1, ...].
    // (High: the rows' CVE-H.)
    let fixed = |since| {
        store
            .remediation(
                None,
                Some(When::at(since)),
                None,
                Sla::default(),
                By::Severity,
            )
            .unwrap()
            .groups[1]
            .fixed
    };
    assert_eq!((fixed(day(0)), fixed(day(1))), (1, 0));
}

#[test]
fn the_oldest_open_are_of_the_severity_asked_and_oldest_first() {
    let mut store = Store::in_memory().unwrap();
    sync(
        &mut store,
        10,
        vec![
            row("d1", "G", "app", "1.0", Some("CVE-H"), 2),
            row("d2", "G", "app", "1.0", Some("CVE-C"), 5),
            row("d3", "G", "app", "1.0", Some("CVE-C"), 1),
        ],
    );
    let critical = store.oldest_open(None, Some("Critical"), 10).unwrap();
    let devices: Vec<_> = critical.iter().map(|e| e.device_id.as_str()).collect();
    assert_eq!(devices, ["d3", "d2"]);
    assert_eq!(store.oldest_open(None, None, 1).unwrap()[0].device_id, "d3");
}

#[test]
fn when_reads_durations_back_from_now() {
    let now = day(30);
    for (text, back) in [
        ("24h", Duration::hours(24)),
        ("2w", Duration::weeks(2)),
        ("90m", Duration::minutes(90)),
        ("7d", Duration::days(7)),
    ] {
        assert_eq!(When::parse(text, now).unwrap().time(), now - back, "{text}");
    }
    assert_eq!(
        When::parse("2026-11-02T06:00:00+01:00", now)
            .unwrap()
            .time(),
        day(1) - Duration::hours(1)
    );
    assert!(When::parse("-3d", now).is_err());
}

#[test]
fn a_cves_latest_severity_and_exploit_count() {
    let mut store = Store::in_memory().unwrap();
    sync(
        &mut store,
        0,
        vec![row("d1", "G", "app", "1.0", Some("CVE-H"), 0)],
    );
    // The service raises the CVE to critical, with a known exploit.
    let mut raised = row("d1", "G", "app", "1.0", Some("CVE-H"), 0);
    raised.severity = Some(&CRITICAL);
    raised.exploited = true;
    sync(&mut store, 1, vec![raised]);
    let trend = store.trend(None).unwrap();
    let counts: Vec<_> = trend
        .snapshots
        .iter()
        .map(|p| (p.critical_open, p.exploited_open))
        .collect();
    assert_eq!(counts, [(0, 0), (1, 1)]);
    let remediation = store
        .remediation(None, None, None, Sla::default(), By::Severity)
        .unwrap();
    assert_eq!(
        (remediation.groups[0].open, remediation.groups[1].open),
        (1, 0)
    );
}
