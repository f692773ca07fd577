//! The report from one snapshot: the software vulnerabilities export, read once through its
//! files (one export call, whatever the estate's size), its rows folded as they stream in.
//!
//! From the rows whose recommended update is a KB (a number): the KBs of the selected software,
//! each with everything it reaches, as the calls give it (a KB's device listing and products do
//! not depend on which software asked): its exact distinct devices and products, its selected
//! software, its CVE ids, the highest severity and CVSS among them, the exploitability of the
//! most exploitable, and the earliest time it was seen missing; per selected (software, KB), the
//! devices and CVEs; per device, how many of the report's KBs it misses.
//! Devices are kept as small numbers while folding, so memory grows with the distinct
//! (device, KB) pairs, not with the rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::model::{DeployPlan, KbRollup, Report, Row, SoftwareInfo, Source, rank};
use super::options::ReportOptions;
use super::run::{Phase, ReportEvent, now};
use crate::client::Client;
use crate::error::Error;
use crate::export::ExportRowsOptions;
use crate::export::{ExploitabilityLevel, ExportTimestamp, SoftwareVulnerability};
use crate::types::Severity;

/// Reads the export and folds it into the report of the `selected` software.
pub(super) async fn run<F: FnMut(ReportEvent<'_>)>(
    client: &Client,
    options: &ReportOptions,
    selected: &[SoftwareInfo],
    phase: &mut Phase<F>,
) -> Result<Report, Error> {
    let reading = ExportRowsOptions::new().concurrency(options.concurrency);
    let mut rows = client.software_vulnerabilities_export_rows(reading).await?;
    let wanted: HashMap<&str, &SoftwareInfo> =
        selected.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut fold = Fold::default();
    loop {
        tokio::select! {
            row = rows.next() => match row {
                Some(row) => fold.add(row?, &wanted),
                None => break,
            },
            _ = phase.ticks.tick() => {
                (phase.on_event)(ReportEvent::Export { progress: rows.progress() });
            }
        }
    }
    (phase.on_event)(ReportEvent::Export {
        progress: rows.progress(),
    });
    let data_as_of = rows.generated_time();
    Ok(fold.report(selected, options.priority.as_ref(), data_as_of))
}

/// What the rows say so far.
#[derive(Default)]
struct Fold {
    /// Devices by id, as numbers.
    device_numbers: HashMap<String, u32>,
    /// Each device's id and name, by number.
    devices: Vec<(String, Option<String>)>,
    kbs: BTreeMap<String, KbFold>,
    /// Per (software id, KB).
    pairs: BTreeMap<(String, String), PairFold>,
}

#[derive(Default)]
struct KbFold {
    name: Option<String>,
    url: Option<String>,
    products: BTreeSet<String>,
    software: BTreeSet<String>,
    devices: BTreeSet<u32>,
    cves: BTreeSet<String>,
    severity: Option<Severity>,
    cvss: Option<f64>,
    exploitability: Option<ExploitabilityLevel>,
    first_seen: Option<ExportTimestamp>,
}

#[derive(Default)]
struct PairFold {
    devices: BTreeSet<u32>,
    cves: BTreeSet<String>,
}

/// Whether an update id is a KB number (Windows), not an advisory of another kind.
fn is_kb(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

impl Fold {
    fn add(&mut self, row: SoftwareVulnerability, wanted: &HashMap<&str, &SoftwareInfo>) {
        // A row without a CVE only says a software is installed; without a KB, no update
        // fixes it. Neither is in the report.
        let (Some(kb), Some(cve)) = (
            row.recommended_security_update_id
                .as_deref()
                .filter(|id| is_kb(id)),
            row.cve_id.clone(),
        ) else {
            return;
        };
        let name = row.software_name.clone().unwrap_or_default();
        let software = format!(
            "{}-_-{name}",
            row.software_vendor.as_deref().unwrap_or_default()
        );
        let selected = wanted.contains_key(software.as_str());
        let device = match self.device_numbers.get(&row.device_id) {
            Some(&number) => number,
            None => {
                let number = self.devices.len() as u32;
                self.device_numbers.insert(row.device_id.clone(), number);
                self.devices
                    .push((row.device_id.clone(), row.device_name.clone()));
                number
            }
        };
        let fold = self.kbs.entry(kb.to_owned()).or_default();
        if fold.name.is_none() {
            fold.name = row.recommended_security_update.clone();
        }
        if fold.url.is_none() {
            fold.url = row.recommended_security_update_url.clone();
        }
        if !name.is_empty() {
            fold.products.insert(name);
        }
        fold.software.insert(software.clone());
        fold.devices.insert(device);
        fold.cves.insert(cve.clone());
        fold.severity = fold
            .severity
            .take()
            .max(row.vulnerability_severity_level.clone());
        fold.cvss = match (fold.cvss, row.cvss_score) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        fold.exploitability = fold
            .exploitability
            .take()
            .max(row.exploitability_level.clone());
        fold.first_seen = match (fold.first_seen, row.first_seen_timestamp) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if selected {
            let pair = self.pairs.entry((software, kb.to_owned())).or_default();
            pair.devices.insert(device);
            pair.cves.insert(cve);
        }
    }

    fn report(
        self,
        selected: &[SoftwareInfo],
        priority: &dyn Fn(&KbRollup, &KbRollup) -> std::cmp::Ordering,
        data_as_of: DateTime<Utc>,
    ) -> Report {
        let info: HashMap<&str, &SoftwareInfo> =
            selected.iter().map(|s| (s.id.as_str(), s)).collect();
        let rows: Vec<Row> = self
            .pairs
            .iter()
            .filter_map(|((software, kb), pair)| {
                let kb_fold = self.kbs.get(kb)?;
                let software = info.get(software.as_str())?;
                Some(Row {
                    software: (*software).clone(),
                    kb_id: kb.clone(),
                    kb_name: kb_fold.name.clone(),
                    url: kb_fold.url.clone(),
                    products: kb_fold.products.iter().cloned().collect(),
                    devices: pair.devices.len() as i64,
                    cves_addressed: pair.cves.len() as i64,
                })
            })
            .collect();
        let mut reached = vec![false; self.devices.len()];
        let mut kbs: Vec<KbRollup> = self
            .kbs
            .into_iter()
            .filter_map(|(id, mut fold)| {
                // A KB of a selected software, with everything it reaches.
                fold.software.retain(|s| info.contains_key(s.as_str()));
                if fold.software.is_empty() {
                    return None;
                }
                for &device in &fold.devices {
                    reached[device as usize] = true;
                }
                let mut device_ids: Vec<String> = fold
                    .devices
                    .iter()
                    .map(|&d| self.devices[d as usize].0.clone())
                    .collect();
                device_ids.sort();
                let mut kb = KbRollup::new(id, fold.name, fold.url);
                kb.products = fold.products.into_iter().collect();
                kb.software_ids = fold.software.into_iter().collect();
                kb.cves_addressed = fold.cves.len() as i64;
                kb.devices = device_ids.len() as i64;
                kb.devices_exact = true;
                kb.device_ids = Some(device_ids);
                kb.public_exploit = fold
                    .exploitability
                    .as_ref()
                    .is_some_and(ExploitabilityLevel::has_exploit);
                kb.cve_ids = fold.cves.into_iter().collect();
                kb.severity = fold.severity;
                kb.cvss = fold.cvss;
                kb.exploitability = fold.exploitability;
                kb.first_seen = fold.first_seen.as_ref().map(ExportTimestamp::as_utc);
                Some(kb)
            })
            .collect();
        rank(&mut kbs, priority);
        // The names of the devices the selection's KBs reach (for the deploy plan's devices).
        let device_names: BTreeMap<String, String> = self
            .devices
            .into_iter()
            .zip(reached)
            .filter(|(_, reached)| *reached)
            .filter_map(|((id, name), _)| Some((id, name?)))
            .collect();
        Report {
            generated_at: now(),
            partial: false,
            software_count: selected.len(),
            rows,
            kbs,
            failures: Vec::new(),
            source: Source::Export,
            data_as_of: Some(data_as_of),
            device_names,
            deploy: DeployPlan::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_kb;

    #[test]
    fn only_kb_numbers_are_kbs() {
        assert!(is_kb("5044284"));
        assert!(!is_kb("RHSA-2024:9315"));
        assert!(!is_kb("KB5044284"));
        assert!(!is_kb(""));
    }
}
