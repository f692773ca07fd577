//! The report from calls: one `getmissingkbs` per selected software (retries aside), a bounded
//! number at a time under the client's rate limit; with the devices option, one
//! `machinesVulnerabilities` listing per KB found.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt};

use super::model::{self, DeployPlan, FailureKind, Report, SoftwareInfo, SoftwareResult, Source};
use super::options::ReportOptions;
use super::run::{Phase, ReportEvent, now};
use crate::api::vulnerabilities::DeviceVulnerabilityQuery;
use crate::client::Client;
use crate::error::Error;
use crate::types::filter::{DeviceVulnerabilityField, DeviceVulnerabilityFilter};

/// Runs the calls for the selected software not `done` yet, and assembles the report.
pub(super) async fn run<F: FnMut(ReportEvent<'_>)>(
    client: &Client,
    options: &ReportOptions,
    selected: &[SoftwareInfo],
    mut done: BTreeMap<String, SoftwareResult>,
    phase: &mut Phase<F>,
) -> Result<Report, Error> {
    let todo: Vec<SoftwareInfo> = selected
        .iter()
        .filter(|s| !done.contains_key(&s.id))
        .cloned()
        .collect();
    let mut calls = futures::stream::iter(todo.into_iter().map(|software| {
        let client = client.clone();
        async move {
            let outcome = client.missing_kbs(&software.id).collect_items().await;
            (software, outcome)
        }
    }))
    .buffer_unordered(options.concurrency);
    while let Some((software, outcome)) = phase.next(&mut calls).await {
        phase.progress.software_done += 1;
        match outcome {
            Ok(missing_kbs) => {
                let result = SoftwareResult {
                    software,
                    missing_kbs,
                };
                (phase.on_event)(ReportEvent::SoftwareDone {
                    result: &result,
                    progress: phase.progress,
                });
                done.insert(result.software.id.clone(), result);
            }
            Err(e) => phase.failed(&software.id, FailureKind::MissingKbs, e)?,
        }
    }
    drop(calls);

    let mut devices: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if options.devices {
        let kb_ids: BTreeSet<String> = done
            .values()
            .flat_map(|r| r.missing_kbs.iter().map(|kb| kb.id.clone()))
            .collect();
        phase.progress.devices_total = kb_ids.len();
        (phase.on_event)(ReportEvent::DevicesPlanned {
            listings: kb_ids.len(),
            estimate: client.rate_limit_estimate(kb_ids.len() as u64),
        });
        let mut listings = futures::stream::iter(kb_ids.into_iter().map(|kb| {
            let client = client.clone();
            async move {
                let filter =
                    DeviceVulnerabilityFilter::eq(DeviceVulnerabilityField::FixingKbId, &kb);
                let machines = client
                    .machines_vulnerabilities(DeviceVulnerabilityQuery::new().filter(filter))
                    .items()
                    .try_fold(BTreeSet::new(), |mut machines, row| {
                        if let Some(machine) = row.machine_id {
                            machines.insert(machine);
                        }
                        futures::future::ready(Ok(machines))
                    })
                    .await;
                (kb, machines)
            }
        }))
        .buffer_unordered(options.concurrency);
        while let Some((kb, outcome)) = phase.next(&mut listings).await {
            phase.progress.devices_done += 1;
            match outcome {
                Ok(machines) => {
                    (phase.on_event)(ReportEvent::DevicesDone {
                        kb_id: &kb,
                        progress: phase.progress,
                    });
                    devices.insert(kb, machines.into_iter().collect());
                }
                Err(e) => phase.failed(&kb, FailureKind::DeviceListing, e)?,
            }
        }
    }

    let (rows, kbs) = model::assemble(&done, &devices, options.priority.as_ref());
    let mut failures = std::mem::take(&mut phase.failures);
    failures.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Report {
        generated_at: now(),
        partial: !failures.is_empty(),
        software_count: selected.len(),
        rows,
        kbs,
        failures,
        source: Source::Calls,
        data_as_of: None,
        device_names: Default::default(),
        deploy: DeployPlan::default(),
    })
}
