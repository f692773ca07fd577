//! The store against the demo timeline's truth: its snapshots replayed as the export sends
//! them (JSON, decoded by the SDK), every answer compared with what the timeline's own events
//! say happened, for one tenant and across three; and a baseline plus the change feed against
//! full syncs.

use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use defender_tvm::export::{SoftwareVulnerability, SoftwareVulnerabilityChange};
use defender_tvm_demo::timeline::{Ended, ExposureTruth, Timeline, TimelineOptions, Truth};
use defender_tvm_history::{By, Change, Observation, Sla, Source, Store, When};

const DAYS: usize = 60;

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

fn time(timeline: &Timeline, snapshot: usize) -> DateTime<Utc> {
    DateTime::from(timeline.snapshot_time(snapshot))
}

/// Records snapshot `s` of `timeline` from its rows as JSON.
fn sync(store: &mut Store, tenant: &str, timeline: &Timeline, s: usize) {
    let rows: Vec<SoftwareVulnerability> = timeline
        .rows(s)
        .map(|row| serde_json::from_str(&row.to_json()).unwrap())
        .collect();
    store
        .sync_snapshot(
            tenant,
            time(timeline, s),
            Source::Demo,
            rows.iter().map(Observation::from),
        )
        .unwrap();
}

fn replayed(tenants: &[(&str, &Timeline)]) -> Store {
    let mut store = Store::in_memory().unwrap();
    for s in 0..DAYS {
        for (name, timeline) in tenants {
            sync(&mut store, name, timeline, s);
        }
    }
    store
}

type Key = (String, String, String, String);

fn key(e: &ExposureTruth) -> Key {
    (
        e.device_id.clone(),
        e.software_vendor.to_string(),
        e.software_name.to_string(),
        e.cve_id.clone(),
    )
}

fn keys(rows: &[defender_tvm_history::ExposureRow]) -> BTreeSet<Key> {
    rows.iter()
        .map(|r| {
            (
                r.device_id.clone(),
                r.software_vendor.clone(),
                r.software_name.clone(),
                r.cve_id.clone(),
            )
        })
        .collect()
}

/// Where the truth says an exposure stands at snapshot `s`: the span opened last by then.
enum Stands {
    NotYet,
    Open { opened: usize, after_fix: bool },
    Fixed { at: usize },
    Retired,
}

fn stands(e: &ExposureTruth, s: usize) -> Stands {
    let Some(i) = e.spans.iter().rposition(|span| span.opened <= s) else {
        return Stands::NotYet;
    };
    let span = &e.spans[i];
    match span.closed {
        Some((at, Ended::Fixed)) if at <= s => Stands::Fixed { at },
        Some((at, Ended::Retired)) if at <= s => Stands::Retired,
        _ => Stands::Open {
            opened: span.opened,
            after_fix: i > 0 && matches!(e.spans[i - 1].closed, Some((_, Ended::Fixed))),
        },
    }
}

/// What the truth says changed after snapshot `a` up to `b`, by the store's definitions.
fn expected_changes(
    truth: &Truth,
    a: usize,
    b: usize,
) -> (
    BTreeSet<Key>,
    BTreeSet<Key>,
    BTreeSet<Key>,
    BTreeSet<String>,
) {
    let new = truth.new_between(a, b).into_iter().map(key).collect();
    let mut fixed = BTreeSet::new();
    let mut reopened = BTreeSet::new();
    for e in &truth.exposures {
        match stands(e, b) {
            Stands::Fixed { at } if a < at => {
                fixed.insert(key(e));
            }
            Stands::Open {
                opened,
                after_fix: true,
            } if a < opened => {
                reopened.insert(key(e));
            }
            _ => {}
        }
    }
    let retired = truth
        .retired_devices_between(a, b)
        .into_iter()
        .map(|d| d.id.clone())
        .collect();
    (new, fixed, reopened, retired)
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

fn close(actual: Option<f64>, expected: Option<f64>, what: &str) {
    match (actual, expected) {
        (None, None) => {}
        (Some(a), Some(e)) => assert!((a - e).abs() <= 0.1, "{what}: {a} against {e}"),
        _ => panic!("{what}: {actual:?} against {expected:?}"),
    }
}

#[test]
fn one_tenant_every_answer_equals_the_timelines_truth() {
    let timeline = timeline(7, 120);
    let truth = timeline.truth();
    let store = replayed(&[("contoso", &timeline)]);

    // The trend, snapshot by snapshot.
    let trend = store.trend(None).unwrap();
    assert_eq!(trend.snapshots.len(), DAYS);
    for (s, point) in trend.snapshots.iter().enumerate() {
        let t = truth.trend(s);
        assert_eq!(point.generated_time, time(&timeline, s));
        assert_eq!(point.open_exposures, t.open as u64, "open at {s}");
        assert_eq!(
            point.devices_exposed, t.devices_exposed as u64,
            "devices exposed at {s}"
        );
        assert_eq!(
            point.kbs_missing, t.kbs_missing as u64,
            "KBs missing at {s}"
        );
        assert_eq!(
            point.critical_open, t.critical_open as u64,
            "critical at {s}"
        );
        assert_eq!(
            point.exploited_open, t.exploitable_open as u64,
            "exploited at {s}"
        );
        if s > 0 {
            assert_eq!(point.new, (t.new + t.reopened) as u64, "new at {s}");
            assert_eq!(point.fixed, t.fixed as u64, "fixed at {s}");
        }
    }

    // What changed, day by day and over weeks.
    let mut seen = [0usize; 4];
    for (a, b) in (0..DAYS - 1)
        .map(|s| (s, s + 1))
        .chain([(10, 17), (20, 50), (0, DAYS - 1)])
    {
        let changes = store
            .changes(
                None,
                Some(When::at(time(&timeline, a))),
                Some(When::at(time(&timeline, b))),
            )
            .unwrap();
        let (new, fixed, reopened, retired) = expected_changes(truth, a, b);
        assert_eq!(keys(&changes.new), new, "new after {a} to {b}");
        assert_eq!(keys(&changes.fixed), fixed, "fixed after {a} to {b}");
        assert_eq!(
            keys(&changes.reopened),
            reopened,
            "reopened after {a} to {b}"
        );
        let devices: BTreeSet<String> = changes
            .retired_devices
            .iter()
            .map(|d| d.device_id.clone())
            .collect();
        assert_eq!(devices, retired, "retired after {a} to {b}");
        for f in &changes.fixed {
            assert!(
                f.fixed_at
                    .is_some_and(|at| at > time(&timeline, a) && at <= time(&timeline, b))
            );
        }
        for (count, list) in
            seen.iter_mut()
                .zip([new.len(), fixed.len(), reopened.len(), retired.len()])
        {
            *count += list;
        }
    }
    assert!(
        seen.iter().all(|&n| n > 0),
        "the timeline has new, fixed, reopened and retired: {seen:?}"
    );
    // The default: the last two snapshots.
    let last = store.changes(None, None, None).unwrap();
    assert_eq!(last.from, Some(time(&timeline, DAYS - 2)));
    assert_eq!(last.to, Some(time(&timeline, DAYS - 1)));

    // Remediation per severity, as the exposures stand at the end, over the whole history and
    // over the last 30 days.
    let end = DAYS - 1;
    for since in [None, Some(end - 30)] {
        let remediation = store
            .remediation(
                None,
                since.map(|s| When::at(time(&timeline, s))),
                None,
                Sla::default(),
                By::Severity,
            )
            .unwrap();
        for group in &remediation.groups {
            let sla = Sla::default().days(Some(&group.key)).unwrap() as f64;
            let of: Vec<&ExposureTruth> = truth
                .exposures
                .iter()
                .filter(|e| e.severity == group.key)
                .collect();
            let mut days: Vec<f64> = of
                .iter()
                .filter_map(|e| match stands(e, end) {
                    Stands::Fixed { at } if since.is_none_or(|s| at > s) => {
                        Some(truth.age_days(e, at))
                    }
                    _ => None,
                })
                .collect();
            days.sort_by(f64::total_cmp);
            let open: Vec<&&ExposureTruth> = of
                .iter()
                .filter(|e| matches!(stands(e, end), Stands::Open { .. }))
                .collect();
            let past = open.iter().filter(|e| truth.age_days(e, end) > sla).count();
            let oldest = open
                .iter()
                .map(|e| truth.age_days(e, end))
                .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))));
            let what = format!("{} since {since:?}", group.key);
            assert_eq!(group.fixed, days.len() as u64, "{what}: fixed");
            close(
                group.median_days,
                numpy_percentile(&days, 0.5),
                &format!("{what}: median"),
            );
            close(
                group.p90_days,
                numpy_percentile(&days, 0.9),
                &format!("{what}: p90"),
            );
            assert_eq!(group.open, open.len() as u64, "{what}: open");
            assert_eq!(group.open_past_sla, past as u64, "{what}: past the SLA");
            close(group.oldest_open_days, oldest, &format!("{what}: oldest"));
            let ages = group.open_by_age;
            assert_eq!(
                ages.days_0_7 + ages.days_8_30 + ages.days_31_90 + ages.over_90,
                group.open
            );
        }
        let severities: Vec<&str> = remediation.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(severities, ["Critical", "High", "Medium", "Low"]);
    }
}

#[test]
fn across_three_tenants_the_answers_add_up_each_tenants_truth() {
    let timelines = [timeline(11, 60), timeline(12, 80), timeline(13, 100)];
    let names = ["contoso", "fabrikam", "northwind"];
    let tenants: Vec<(&str, &Timeline)> = names.iter().copied().zip(timelines.iter()).collect();
    let store = replayed(&tenants);
    let trend = store.trend(None).unwrap();
    for (s, point) in trend.snapshots.iter().enumerate() {
        let open: usize = timelines.iter().map(|t| t.truth().trend(s).open).sum();
        let critical: usize = timelines
            .iter()
            .map(|t| t.truth().trend(s).critical_open)
            .sum();
        assert_eq!(
            (point.open_exposures, point.critical_open),
            (open as u64, critical as u64),
            "at {s}"
        );
        if s > 0 {
            let fixed: usize = timelines.iter().map(|t| t.truth().trend(s).fixed).sum();
            assert_eq!(point.fixed, fixed as u64, "fixed at {s}");
        }
    }
    let (a, b) = (30, 40);
    let window = |t: &Timeline| (Some(When::at(time(t, a))), Some(When::at(time(t, b))));
    let (since, until) = window(&timelines[0]);
    let across = store.changes(None, since, until).unwrap();
    for (name, timeline) in &tenants {
        let (new, fixed, _, _) = expected_changes(timeline.truth(), a, b);
        let mine = |rows: &[defender_tvm_history::ExposureRow]| -> BTreeSet<Key> {
            let of: Vec<_> = rows
                .iter()
                .filter(|r| r.tenant.as_deref() == Some(name))
                .cloned()
                .collect();
            keys(&of)
        };
        assert_eq!(mine(&across.new), new, "{name}: new");
        assert_eq!(mine(&across.fixed), fixed, "{name}: fixed");
        // Per tenant, the same.
        let one = store.changes(Some(name), since, until).unwrap();
        assert_eq!(keys(&one.fixed), fixed, "{name} alone: fixed");
        assert!(one.fixed.iter().all(|r| r.tenant.is_none()));
    }
    let by_tenant = store
        .remediation(None, None, None, Sla::default(), By::Tenant)
        .unwrap();
    for ((name, timeline), group) in tenants.iter().zip(&by_tenant.groups) {
        assert_eq!(group.key, *name);
        let open = timeline.truth().trend(DAYS - 1).open;
        assert_eq!(group.open, open as u64, "{name}: open");
    }
}

#[test]
fn a_baseline_and_daily_deltas_give_the_answers_daily_full_syncs_give() {
    let timeline = timeline(5, 80);
    let full = replayed(&[("contoso", &timeline)]);
    let mut delta = Store::in_memory().unwrap();
    // A full baseline every 20 days, the change feed in between.
    for s in 0..DAYS {
        if s % 20 == 0 {
            sync(&mut delta, "contoso", &timeline, s);
            continue;
        }
        let rows: Vec<SoftwareVulnerabilityChange> = timeline
            .changes(s - 1, s)
            .iter()
            .map(|c| serde_json::from_str(&c.to_json()).unwrap())
            .collect();
        let changes: Vec<Change<'_>> = rows.iter().filter_map(Change::from_row).collect();
        assert_eq!(changes.len(), rows.len(), "every feed row is read");
        delta.apply_changes("contoso", &changes).unwrap();
    }
    assert_eq!(full.trend(None).unwrap(), delta.trend(None).unwrap());
    for (a, b) in [(0, 1), (18, 25), (0, DAYS - 1), (DAYS - 2, DAYS - 1)] {
        let window = (
            Some(When::at(time(&timeline, a))),
            Some(When::at(time(&timeline, b))),
        );
        assert_eq!(
            full.changes(None, window.0, window.1).unwrap(),
            delta.changes(None, window.0, window.1).unwrap(),
            "changes after {a} to {b}"
        );
    }
    for by in [By::Severity, By::Kb, By::Software, By::Group] {
        assert_eq!(
            full.remediation(None, None, None, Sla::default(), by)
                .unwrap(),
            delta
                .remediation(None, None, None, Sla::default(), by)
                .unwrap(),
            "remediation by {by:?}"
        );
    }
}
