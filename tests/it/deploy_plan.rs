//! The deploy plan on the demo tenant, whose Windows cumulative updates are cumulative: each
//! Windows version's updates are one step, its newest, reaching the union of the devices its
//! updates miss on (computed here from the tenant's raw installations); every other KB is a step
//! of its own; both sources give the same plan; each device's steps are the plan's that reach it.

use std::collections::{BTreeMap, BTreeSet};

use defender_tvm::report::SourceChoice;
use defender_tvm::report::{Report, ReportOptions};
use defender_tvm_demo::DemoTenant;

use crate::common::{demo_client, report_of};

#[tokio::test]
async fn each_windows_version_is_one_step_reaching_every_device_its_updates_miss_on() {
    let tenant = DemoTenant::builder()
        .devices(150)
        .software(60)
        .unlimited()
        .start()
        .await
        .unwrap();
    let client = demo_client(&tenant);
    let truth = tenant.truth();

    let from_export = report_of(&client, ReportOptions::new().source(SourceChoice::Export)).await;
    let from_calls = report_of(
        &client,
        ReportOptions::new()
            .source(SourceChoice::Calls)
            .devices(true),
    )
    .await;

    // The truth: each KB's devices, from the raw installations; the Windows series by product.
    let mut devices_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for installation in &truth.installations {
        for &k in &installation.missing_kbs {
            devices_of
                .entry(truth.kbs[k].id.as_str())
                .or_default()
                .insert(truth.devices[installation.device].id.as_str());
        }
    }
    let mut series: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for kb in &truth.kbs {
        let product = kb.products[0];
        if truth.software[product].name.starts_with("windows")
            && devices_of.contains_key(kb.id.as_str())
        {
            // Oldest first: the title starts with the month.
            series.entry(product).or_default().push(kb.id.as_str());
        }
    }
    for ids in series.values_mut() {
        ids.sort_by_key(|id| {
            let kb = truth.kbs.iter().find(|k| k.id == *id).unwrap();
            kb.name[..7].to_owned()
        });
    }
    assert!(series.len() >= 3, "{series:?}");

    for report in [&from_export, &from_calls] {
        let steps: BTreeMap<&str, &defender_tvm::report::DeployStep> = report
            .deploy
            .steps
            .iter()
            .map(|s| (s.kb.id.as_str(), s))
            .collect();
        for ids in series.values() {
            let (newest, older) = ids.split_last().unwrap();
            let step = steps
                .get(newest)
                .unwrap_or_else(|| panic!("the newest {newest} is a step"));
            assert_eq!(
                step.covers,
                older.iter().map(|s| s.to_string()).collect::<Vec<_>>()
            );
            for id in older {
                assert!(!steps.contains_key(id), "{id} is covered, not a step");
                let kb = report.kbs.iter().find(|k| k.id == *id).unwrap();
                assert_eq!(kb.covered_by.as_deref(), Some(*newest));
            }
            let union: BTreeSet<&str> = ids
                .iter()
                .flat_map(|id| devices_of[id].iter().copied())
                .collect();
            let reached: BTreeSet<&str> = step
                .kb
                .device_ids
                .iter()
                .flatten()
                .map(String::as_str)
                .collect();
            assert_eq!(reached, union, "{newest}");
            assert_eq!(step.kb.devices as usize, union.len());
        }
        // Every KB is a step or covered by one.
        let covered = report.kbs.iter().filter(|k| k.covered_by.is_some()).count();
        assert_eq!(report.deploy.steps.len() + covered, report.kbs.len());
        let ranks: Vec<usize> = report.deploy.steps.iter().map(|s| s.kb.rank).collect();
        assert_eq!(ranks, (1..=ranks.len()).collect::<Vec<_>>());

        // Each device: the steps that reach it, in the plan's order; most steps first.
        for device in &report.deploy.devices {
            let expected: Vec<&str> = report
                .deploy
                .steps
                .iter()
                .filter(|s| {
                    s.kb.device_ids
                        .iter()
                        .flatten()
                        .any(|d| *d == device.device_id)
                })
                .map(|s| s.kb.id.as_str())
                .collect();
            assert_eq!(device.kbs, expected, "{}", device.device_id);
            let missing = devices_of
                .values()
                .filter(|devices| devices.contains(device.device_id.as_str()))
                .count();
            assert_eq!(device.missing, missing, "{}", device.device_id);
        }
        let counts: Vec<usize> = report.deploy.devices.iter().map(|d| d.kbs.len()).collect();
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    }
    let ids =
        |r: &Report| -> Vec<String> { r.deploy.steps.iter().map(|s| s.kb.id.clone()).collect() };
    let mut export_ids = ids(&from_export);
    let mut calls_ids = ids(&from_calls);
    export_ids.sort();
    calls_ids.sort();
    assert_eq!(export_ids, calls_ids, "both sources, one plan");
    assert!(
        from_export
            .deploy
            .devices
            .iter()
            .all(|d| d.device_name.is_some()),
        "the export names the devices"
    );
}

#[tokio::test]
async fn without_collapsing_every_kb_is_a_step_and_none_is_covered() {
    let tenant = DemoTenant::builder()
        .devices(80)
        .software(40)
        .unlimited()
        .start()
        .await
        .unwrap();
    let report = report_of(
        &demo_client(&tenant),
        ReportOptions::new()
            .source(SourceChoice::Export)
            .collapse_cumulative(false),
    )
    .await;
    assert_eq!(report.deploy.steps.len(), report.kbs.len());
    assert!(report.kbs.iter().all(|k| k.covered_by.is_none()));
    assert!(!report.deploy.collapsed);
}
