//! What an estate report holds, serializable with serde (a JSON round trip gives an equal
//! report), so a command line can print it and store it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::export::ExploitabilityLevel;
use crate::types::{PublicProductFixDto, Severity, Software};

/// The software a report asked about, as the inventory listed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SoftwareInfo {
    /// The software id, for example `microsoft-_-windows_11`.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// Its vendor.
    pub vendor: Option<String>,
    /// How many of its vulnerabilities are open.
    pub weaknesses: Option<i64>,
    /// How many devices are exposed through it.
    pub exposed_devices: Option<i64>,
    /// Whether one of its vulnerabilities has a public exploit.
    pub public_exploit: Option<bool>,
}

impl SoftwareInfo {
    pub(crate) fn from_listing(software: &Software) -> Self {
        Self {
            id: software.id.clone(),
            name: software.name.clone(),
            vendor: software.vendor.clone(),
            weaknesses: software.weaknesses,
            exposed_devices: software.exposed_machines,
            public_exploit: software.public_exploit,
        }
    }

    pub(crate) fn unlisted(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: None,
            vendor: None,
            weaknesses: None,
            exposed_devices: None,
            public_exploit: None,
        }
    }
}

/// One finished software: its missing KBs as the service returned them. Self-contained: a caller
/// that keeps these records can resume a run without asking for them again
/// ([`ReportOptions::resume`](crate::report::ReportOptions::resume)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SoftwareResult {
    /// The software.
    pub software: SoftwareInfo,
    /// Its missing KBs (empty: none).
    pub missing_kbs: Vec<PublicProductFixDto>,
}

/// One row of the report: a (software, KB) pair as the service returned it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Row {
    /// The software.
    pub software: SoftwareInfo,
    /// The KB number without `KB`.
    pub kb_id: String,
    /// The KB's name.
    pub kb_name: Option<String>,
    /// The catalog link.
    pub url: Option<String>,
    /// The products the KB updates, as the service names them.
    pub products: Vec<String>,
    /// Devices with this software that miss the KB (the service's `machineMissedOn`).
    pub devices: i64,
    /// CVEs the KB addresses (the service's `cveAddressed`).
    pub cves_addressed: i64,
}

/// One KB across the estate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KbRollup {
    /// Its place in the priority order, from 1.
    pub rank: usize,
    /// The KB number without `KB`.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// The catalog link.
    pub url: Option<String>,
    /// The union of the products its rows name, sorted.
    pub products: Vec<String>,
    /// The software whose answers listed it, sorted.
    pub software_ids: Vec<String>,
    /// The CVEs it addresses: the largest count among its rows.
    pub cves_addressed: i64,
    /// Devices that miss it. Without the devices option it is the **sum of `machineMissedOn`
    /// over its rows**: a device that has two of the KB's products counts twice, so it is an
    /// upper bound. With the devices option it is the exact number of distinct devices
    /// (`devices_exact`).
    pub devices: i64,
    /// Whether `devices` is exact (the distinct devices of `machinesVulnerabilities`).
    pub devices_exact: bool,
    /// The distinct devices that miss it, with the devices option.
    pub device_ids: Option<Vec<String>>,
    /// Whether an exploit exists: from the export, for one of its CVEs (exact); from calls, for
    /// one of its software (the inventory's flag).
    pub public_exploit: bool,
    /// Its CVEs (from the export; empty from calls, which give only a count).
    #[serde(default)]
    pub cve_ids: Vec<String>,
    /// The highest severity among its CVEs (from the export).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// The highest CVSS score among its CVEs (from the export).
    #[serde(default)]
    pub cvss: Option<f64>,
    /// The exploitability of its most exploitable CVE (from the export).
    #[serde(default)]
    pub exploitability: Option<ExploitabilityLevel>,
    /// When it was first seen missing on any device (from the export): how long it has been
    /// missing. Serialized as RFC 3339.
    #[serde(default)]
    pub first_seen: Option<DateTime<Utc>>,
    /// The newer cumulative update of its series that installs it too (a KB number), when
    /// there is one in the report; it is then not a step of the [`DeployPlan`] (see
    /// [`ReportOptions::collapse_cumulative`](super::ReportOptions::collapse_cumulative)).
    #[serde(default)]
    pub covered_by: Option<String>,
}

impl KbRollup {
    /// A KB known by its number, name and link, with nothing counted yet: the one place its
    /// fields get their first values.
    pub(crate) fn new(id: String, name: Option<String>, url: Option<String>) -> Self {
        Self {
            rank: 0,
            id,
            name,
            url,
            products: Vec::new(),
            software_ids: Vec::new(),
            cves_addressed: 0,
            devices: 0,
            devices_exact: false,
            device_ids: None,
            public_exploit: false,
            cve_ids: Vec::new(),
            severity: None,
            cvss: None,
            exploitability: None,
            first_seen: None,
            covered_by: None,
        }
    }
}

/// What the priority order ranks: a KB, or a deploy step by its KB.
pub(crate) trait Ranked {
    fn kb(&self) -> &KbRollup;
    fn kb_mut(&mut self) -> &mut KbRollup;
}

impl Ranked for KbRollup {
    fn kb(&self) -> &KbRollup {
        self
    }
    fn kb_mut(&mut self) -> &mut KbRollup {
        self
    }
}

impl Ranked for DeployStep {
    fn kb(&self) -> &KbRollup {
        &self.kb
    }
    fn kb_mut(&mut self) -> &mut KbRollup {
        &mut self.kb
    }
}

/// Sorts by `priority` and numbers the ranks from 1: the one place ranks are given.
pub(crate) fn rank<T: Ranked>(
    items: &mut [T],
    priority: &dyn Fn(&KbRollup, &KbRollup) -> Ordering,
) {
    items.sort_by(|a, b| priority(a.kb(), b.kb()));
    for (i, item) in items.iter_mut().enumerate() {
        item.kb_mut().rank = i + 1;
    }
}

/// Where a report's data came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Source {
    /// One `getmissingkbs` call per software (and `machinesVulnerabilities` for devices).
    #[default]
    Calls,
    /// One snapshot of the software vulnerabilities export (via files).
    Export,
}

/// What a failed call was asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FailureKind {
    /// A software's missing KBs (`getmissingkbs`); the report misses that software's KBs.
    #[serde(rename = "get_missing_kbs_by_software_id")]
    MissingKbs,
    /// A KB's devices (`machinesVulnerabilities`, the devices option); that KB's device count
    /// stays the estimate.
    #[serde(rename = "list_machines_vulnerabilities")]
    DeviceListing,
}

/// A call that still failed after retries; the rest of the report went on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Failure {
    /// The software id (or the KB id, for a devices listing).
    pub id: String,
    /// What the call was asking (serialized as `operation`, the operation's id).
    #[serde(rename = "operation")]
    pub kind: FailureKind,
    /// The HTTP status, when a response came.
    pub status: Option<u16>,
    /// The MDE error code, when there was one.
    pub code: Option<String>,
    /// The error, as its message says it.
    pub error: String,
}

impl Failure {
    pub(crate) fn of(id: &str, kind: FailureKind, error: &crate::error::Error) -> Self {
        Self {
            id: id.to_owned(),
            kind,
            status: error.status().map(|s| s.as_u16()),
            code: error.code().map(str::to_owned),
            error: error.to_string(),
        }
    }
}

/// The estate's missing security updates: rows as the service returned them, a rollup per KB in
/// priority order, and what failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// When the report was finished (to the second; serialized as RFC 3339).
    pub generated_at: DateTime<Utc>,
    /// Whether some software failed (see `failures`): the report then misses their KBs.
    pub partial: bool,
    /// How many software the report asked about.
    pub software_count: usize,
    /// One row per (software, KB), by software id then KB id.
    pub rows: Vec<Row>,
    /// One entry per KB, in priority order.
    pub kbs: Vec<KbRollup>,
    /// What failed.
    pub failures: Vec<Failure>,
    /// Where the data came from: per-software calls or one export snapshot.
    #[serde(default)]
    pub source: Source,
    /// When the data was made: the export snapshot's time; for calls, `None` (the service
    /// answers with what it knows at the time of each call). Serialized as RFC 3339.
    #[serde(default)]
    pub data_as_of: Option<DateTime<Utc>>,
    /// The devices' names by id, for the devices the KBs reach (from the export; empty from
    /// calls, which give ids only). Per device, what it misses and needs is in
    /// [`DeployPlan::devices`].
    #[serde(default)]
    pub device_names: BTreeMap<String, String>,
    /// What to deploy, in which order, to which devices.
    #[serde(default)]
    pub deploy: DeployPlan,
}

impl Report {
    /// The distinct devices of all KBs, when the devices option was on (else `None`).
    pub fn devices(&self) -> Option<BTreeSet<&str>> {
        let mut all = BTreeSet::new();
        for kb in &self.kbs {
            all.extend(kb.device_ids.as_ref()?.iter().map(String::as_str));
        }
        Some(all)
    }

    /// The distinct CVE count upper bound: the sum of `cves_addressed` over the KBs.
    pub fn cves_addressed(&self) -> i64 {
        self.kbs.iter().map(|kb| kb.cves_addressed).sum()
    }
}

/// The default priority: public exploit first, then CVEs × devices (larger first), then KB id.
pub fn default_priority(a: &KbRollup, b: &KbRollup) -> Ordering {
    b.public_exploit
        .cmp(&a.public_exploit)
        .then_with(|| {
            let weight = |kb: &KbRollup| i128::from(kb.cves_addressed) * i128::from(kb.devices);
            weight(b).cmp(&weight(a))
        })
        .then_with(|| a.id.cmp(&b.id))
}

/// Rows and rollups from the finished software, in a deterministic order.
pub(crate) fn assemble(
    results: &BTreeMap<String, SoftwareResult>,
    devices: &BTreeMap<String, Vec<String>>,
    priority: &dyn Fn(&KbRollup, &KbRollup) -> Ordering,
) -> (Vec<Row>, Vec<KbRollup>) {
    let mut rows = Vec::new();
    for result in results.values() {
        let mut kbs: Vec<&PublicProductFixDto> = result.missing_kbs.iter().collect();
        kbs.sort_by(|a, b| a.id.cmp(&b.id));
        for kb in kbs {
            rows.push(Row {
                software: result.software.clone(),
                kb_id: kb.id.clone(),
                kb_name: kb.name.clone(),
                url: kb.url.clone(),
                products: kb.products_names.clone(),
                devices: kb.machine_missed_on,
                cves_addressed: kb.cve_addressed,
            });
        }
    }
    let mut by_kb: BTreeMap<&str, KbRollup> = BTreeMap::new();
    for row in &rows {
        let entry = by_kb.entry(row.kb_id.as_str()).or_insert_with(|| {
            KbRollup::new(row.kb_id.clone(), row.kb_name.clone(), row.url.clone())
        });
        entry.name = entry.name.take().or_else(|| row.kb_name.clone());
        entry.url = entry.url.take().or_else(|| row.url.clone());
        entry.products.extend(row.products.iter().cloned());
        entry.software_ids.push(row.software.id.clone());
        entry.cves_addressed = entry.cves_addressed.max(row.cves_addressed);
        entry.devices += row.devices;
        entry.public_exploit |= row.software.public_exploit.unwrap_or(false);
    }
    let mut kbs: Vec<KbRollup> = by_kb
        .into_values()
        .map(|mut kb| {
            kb.products.sort();
            kb.products.dedup();
            kb.software_ids.sort();
            kb.software_ids.dedup();
            if let Some(ids) = devices.get(&kb.id) {
                kb.devices = ids.len() as i64;
                kb.devices_exact = true;
                kb.device_ids = Some(ids.clone());
            }
            kb
        })
        .collect();
    rank(&mut kbs, priority);
    (rows, kbs)
}

/// What to deploy, in priority order, and the devices that need it most.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeployPlan {
    /// The KBs to deploy, in priority order: the fewest that close every missing update (a
    /// cumulative update stands for the older ones of its series).
    pub steps: Vec<DeployStep>,
    /// The devices, those that need the most steps first (then by id), when the report knows
    /// each KB's devices (the export, or the devices option); else empty.
    pub devices: Vec<DeviceDeploy>,
    /// Whether cumulative updates were collapsed into their newest
    /// ([`ReportOptions::collapse_cumulative`](super::ReportOptions::collapse_cumulative)).
    pub collapsed: bool,
}

/// One KB to deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeployStep {
    /// The KB, its figures the union over the KBs it covers: `devices` the distinct devices
    /// (with devices known; else the largest count among them), `cve_ids` and `cves_addressed`
    /// the distinct CVEs (from calls, which give counts only, the sum), `public_exploit` any.
    /// `rank` is the step's place in the plan, from 1.
    #[serde(flatten)]
    pub kb: KbRollup,
    /// The older cumulative updates it installs too (KB numbers, oldest first).
    pub covers: Vec<String>,
}

/// A device and the steps of the plan it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeviceDeploy {
    /// The device (machine) id.
    pub device_id: String,
    /// Its name, when the report has it (from the export).
    pub device_name: Option<String>,
    /// The KBs to deploy to it (KB numbers, in the plan's order).
    pub kbs: Vec<String>,
    /// How many of the report's KBs it misses, covered ones included.
    pub missing: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_serializes_its_kind_as_the_operation_id_scripts_read() {
        let error = crate::error::Error::invalid_input("refused");
        for (kind, operation) in [
            (FailureKind::MissingKbs, "get_missing_kbs_by_software_id"),
            (FailureKind::DeviceListing, "list_machines_vulnerabilities"),
        ] {
            let json = serde_json::to_value(Failure::of("x", kind, &error)).unwrap();
            assert_eq!(json["operation"], operation, "{json}");
            assert!(json.get("kind").is_none(), "{json}");
            let back: Failure = serde_json::from_value(json).unwrap();
            assert_eq!(back.kind, kind);
        }
    }
}
