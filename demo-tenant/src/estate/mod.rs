//! The estate a demo tenant plays: devices, the software installed on them, the security updates
//! (KBs) they miss and the vulnerabilities (CVEs) those leave open. Generated deterministically
//! from a seed, and published as ground truth: every answer the server gives is computed from
//! these tables, so tests can compare what a client reads with what is true.
//!
//! - `mod.rs`: the tables and what the service reports, counted from them;
//! - `generate.rs`: the rules that generate the tables from a seed;
//! - `catalog.rs`: the data the rules draw from (products and versions, device groups, update
//!   titles, files and registry keys), apart from the rules;
//! - `rows.rs`: the export rows (vulnerabilities and inventory), made by index from the tables;
//! - `changes.rs`: the change history of the last 14 days before the snapshot time;
//! - `presence.rs`: what the rows of one software share (files, registry keys, update text);
//! - `serialize.rs`: the rows' keys, camelCase on the JSON pages and PascalCase in the files.
//!
//! The rules that make it consistent:
//! - a device runs one OS and some applications, each at one version;
//! - a Microsoft product has KBs, each fixing some of the product's CVEs; a device with the
//!   product misses each KB or not, and is exposed to the CVEs of the KBs it misses;
//! - a third-party product has CVEs without KBs; devices on its oldest version are exposed;
//! - everything else (a KB's `machineMissedOn`, a software's `weaknesses` and `exposedMachines`,
//!   distributions, machine references, the `machinesVulnerabilities` rows, the export rows) is
//!   counted from those facts;
//! - the export rows are those of one snapshot, taken at [`Estate::snapshot_time`]: the rows'
//!   times are set back from it.

mod catalog;
mod changes;
mod generate;
mod presence;
mod rows;
mod serialize;

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

pub use changes::{CHANGE_HISTORY, ChangeStatus, VulnerabilityChange};
pub(crate) use rows::mix;
pub use rows::{InventoryRow, VulnerabilityRow};
pub use serialize::Case;
pub(crate) use serialize::{Cased, Entries, entries};

/// How large an estate to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// How many devices.
    pub devices: usize,
    /// How many software products in all (the catalog's real-looking products first, then
    /// generated ones; never fewer than the catalog's OS products).
    pub software: usize,
}

impl Default for Size {
    fn default() -> Self {
        Size {
            devices: 500,
            software: 150,
        }
    }
}

/// A device.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// 40 hex digits, like the service's machine ids.
    pub id: String,
    /// For example `ws-fin-0042.contoso.com`.
    pub computer_dns_name: String,
    /// For example `Windows11`.
    pub os_platform: String,
    /// The OS build, for example 26100.
    pub os_build: i64,
    /// The device group.
    pub rbac_group_name: String,
    /// The device group's id.
    pub rbac_group_id: i64,
}

/// A software product.
#[derive(Debug, Clone, PartialEq)]
pub struct Software {
    /// `vendor-_-product`, for example `microsoft-_-windows_11`.
    pub id: String,
    /// The product part of the id, for example `windows_11`.
    pub name: String,
    /// The vendor part of the id, for example `microsoft`.
    pub vendor: String,
    /// The versions devices run, oldest first.
    pub versions: Vec<String>,
    /// Whether its security updates are KBs (Microsoft products).
    pub has_kbs: bool,
}

/// A security update.
#[derive(Debug, Clone, PartialEq)]
pub struct Kb {
    /// The KB number without `KB`, for example `5044284`.
    pub id: String,
    /// For example `2025-10 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5044284)`.
    pub name: String,
    /// The Microsoft Update Catalog link.
    pub url: String,
    /// Indexes into [`Estate::software`] of the products it updates.
    pub products: Vec<usize>,
    /// Indexes into [`Estate::cves`] of the vulnerabilities it fixes.
    pub cves: Vec<usize>,
}

/// A vulnerability.
#[derive(Debug, Clone, PartialEq)]
pub struct Cve {
    /// For example `CVE-2025-21001`.
    pub id: String,
    /// `Low`, `Medium`, `High` or `Critical`.
    pub severity: &'static str,
    /// CVSS v3 score.
    pub cvss: f64,
    /// EPSS probability, 0 to 1.
    pub epss: f64,
    /// Whether a public exploit exists.
    pub public_exploit: bool,
    /// Whether the exploit is verified.
    pub exploit_verified: bool,
    /// Whether the exploit is in a kit.
    pub exploit_in_kit: bool,
    /// When it was published (RFC 3339).
    pub published_on: String,
    /// The software (index into [`Estate::software`]) it affects.
    pub software: usize,
    /// The KB (index into [`Estate::kbs`]) that fixes it, if any.
    pub fixing_kb: Option<usize>,
}

/// One installation: a device runs a software at a version.
#[derive(Debug, Clone, PartialEq)]
pub struct Installation {
    /// Index into [`Estate::devices`].
    pub device: usize,
    /// Index into [`Estate::software`].
    pub software: usize,
    /// Index into the software's `versions`.
    pub version: usize,
    /// Indexes into [`Estate::kbs`] of the KBs this installation misses.
    pub missing_kbs: Vec<usize>,
    /// Indexes into [`Estate::cves`] it is exposed to.
    pub exposed: Vec<usize>,
}

/// The whole estate, and the counts the service reports, computed from it.
#[derive(Debug, Clone)]
pub struct Estate {
    /// The seed it was generated from.
    pub seed: u64,
    /// The devices.
    pub devices: Vec<Device>,
    /// The software products, OS products first.
    pub software: Vec<Software>,
    /// The KBs.
    pub kbs: Vec<Kb>,
    /// The CVEs.
    pub cves: Vec<Cve>,
    /// Every installation.
    pub installations: Vec<Installation>,
    software_index: BTreeMap<String, usize>,
    device_index: BTreeMap<String, usize>,
    /// Per software, the indexes of its installations.
    by_software: Vec<Vec<u32>>,
    /// Per device, the index of its first installation (installations come device by device),
    /// and the installation count last.
    device_starts: Vec<usize>,
    /// The snapshot time, in 100 ns ticks since the Unix epoch.
    snapshot: i64,
    /// Per installation, the index of its first vulnerability row (and the row count last).
    row_starts: Vec<usize>,
    /// Per software, the KBs that update it.
    kbs_of: Vec<Vec<usize>>,
    /// Per software, its CVEs without a KB.
    cves_without_kb: Vec<Vec<usize>>,
    /// Per software, what its rows share.
    presence: Vec<presence::Presence>,
    /// Per KB, the CVE batch title of its CVEs.
    batch_titles: Vec<Option<String>>,
    /// Per KB, its products that at least one device misses it on.
    missed_products: Vec<Vec<usize>>,
}

/// A missing KB as the service reports it for a software (or a device).
#[derive(Debug, Clone, PartialEq)]
pub struct MissingKb {
    /// The KB number.
    pub id: String,
    /// The KB's name.
    pub name: String,
    /// The product names (`windows_11`, …) it updates that at least one device of the estate
    /// misses it on.
    pub products_names: Vec<String>,
    /// The catalog link.
    pub url: String,
    /// Devices missing it (for a software: among the software's devices; for a device: 1).
    pub machine_missed_on: i64,
    /// CVEs it addresses.
    pub cve_addressed: i64,
    /// The device's OS build (device-level answers only).
    pub os_build: Option<i64>,
}

/// A software's summary as `GET /api/Software` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftwareSummary {
    /// The software id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its vendor.
    pub vendor: String,
    /// How many of its CVEs are open on at least one device.
    pub weaknesses: i64,
    /// Whether one of those has a public exploit.
    pub public_exploit: bool,
    /// Whether an alert is active.
    pub active_alert: bool,
    /// How many devices are exposed through it.
    pub exposed_machines: i64,
    /// How many devices have it.
    pub installed_machines: i64,
    /// Its impact on the exposure score.
    pub impact_score: f64,
}

/// One row of `machinesVulnerabilities`: a device exposed to a CVE through a software.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineVulnerability {
    /// `{machineId}-_-{cveId}-_-{vendor}-_-{product}-_-{version}-_-{fixingKbId}`.
    pub id: String,
    /// The CVE.
    pub cve_id: String,
    /// The device.
    pub machine_id: String,
    /// The KB that fixes it, if any.
    pub fixing_kb_id: Option<String>,
    /// The product.
    pub product_name: String,
    /// The vendor.
    pub product_vendor: String,
    /// The version.
    pub product_version: String,
    /// The CVE's severity.
    pub severity: &'static str,
}

impl Estate {
    /// When the snapshot the export rows describe was taken (`generatedTime`): every row's
    /// `lastSeenTimestamp` is before it. [`Estate::generate`] takes the current time, truncated
    /// to the hour; [`Estate::generate_at`] takes a given time.
    pub fn snapshot_time(&self) -> SystemTime {
        crate::time::system_time(self.snapshot)
    }

    /// The snapshot time as the export calls write `generatedTime` (RFC 3339 in UTC, to the
    /// second): `2026-11-30T12:00:00Z`.
    pub fn generated_time(&self) -> String {
        crate::time::rfc3339(self.snapshot)
    }

    /// The index of a software by id.
    pub fn software_index(&self, id: &str) -> Option<usize> {
        self.software_index.get(id).copied()
    }

    /// The index of a device by id.
    pub fn device_index(&self, id: &str) -> Option<usize> {
        self.device_index.get(id).copied()
    }

    /// The installations of a software.
    pub fn installations_of(&self, software: usize) -> impl Iterator<Item = &Installation> {
        self.by_software
            .get(software)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.installations.get(i as usize))
    }

    /// The installations on a device.
    pub fn installations_on(&self, device: usize) -> impl Iterator<Item = &Installation> {
        let start = self.device_starts.get(device).copied().unwrap_or(0);
        let end = self.device_starts.get(device + 1).copied().unwrap_or(start);
        self.installations.get(start..end).into_iter().flatten()
    }

    /// What `GET /api/Software` reports for a software.
    pub fn summary(&self, software: usize) -> SoftwareSummary {
        let s = &self.software[software];
        let installs: Vec<&Installation> = self.installations_of(software).collect();
        let open: BTreeSet<usize> = installs
            .iter()
            .flat_map(|i| i.exposed.iter().copied())
            .collect();
        let exposed_machines = installs.iter().filter(|i| !i.exposed.is_empty()).count();
        let impact: f64 = open.iter().map(|&c| self.cves[c].cvss).sum::<f64>()
            * exposed_machines as f64
            / (self.devices.len().max(1) as f64)
            / 10.0;
        SoftwareSummary {
            id: s.id.clone(),
            name: s.name.clone(),
            vendor: s.vendor.clone(),
            weaknesses: open.len() as i64,
            public_exploit: open.iter().any(|&c| self.cves[c].public_exploit),
            active_alert: false,
            exposed_machines: exposed_machines as i64,
            installed_machines: installs.len() as i64,
            impact_score: (impact * 100.0).round() / 100.0,
        }
    }

    /// Every software's summary, in the service's order (the estate's order).
    pub fn summaries(&self) -> Vec<SoftwareSummary> {
        (0..self.software.len()).map(|s| self.summary(s)).collect()
    }

    /// The missing KBs of a software, by KB id: `machineMissedOn` counts the software's devices
    /// that miss the KB.
    pub fn missing_kbs(&self, software: usize) -> Vec<MissingKb> {
        let mut counts: BTreeMap<usize, i64> = BTreeMap::new();
        for installation in self.installations_of(software) {
            for &kb in &installation.missing_kbs {
                *counts.entry(kb).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .map(|(kb, count)| self.missing_kb(kb, count, None))
            .collect()
    }

    /// The missing KBs of a device (each counted once, `machineMissedOn` 1).
    pub fn device_missing_kbs(&self, device: usize) -> Vec<MissingKb> {
        let kbs: BTreeSet<usize> = self
            .installations_on(device)
            .flat_map(|i| i.missing_kbs.iter().copied())
            .collect();
        let build = self.devices[device].os_build;
        kbs.into_iter()
            .map(|kb| self.missing_kb(kb, 1, Some(build)))
            .collect()
    }

    fn missing_kb(&self, kb: usize, count: i64, os_build: Option<i64>) -> MissingKb {
        let k = &self.kbs[kb];
        MissingKb {
            id: k.id.clone(),
            name: k.name.clone(),
            products_names: self
                .missed_products
                .get(kb)
                .into_iter()
                .flatten()
                .map(|&s| self.software[s].name.clone())
                .collect(),
            url: k.url.clone(),
            machine_missed_on: count,
            cve_addressed: k.cves.len() as i64,
            os_build,
        }
    }

    /// The versions of a software: (version, installations, vulnerabilities open on them).
    pub fn distributions(&self, software: usize) -> Vec<(String, i64, i64)> {
        let s = &self.software[software];
        (0..s.versions.len())
            .filter_map(|v| {
                let installs: Vec<&Installation> = self
                    .installations_of(software)
                    .filter(|i| i.version == v)
                    .collect();
                if installs.is_empty() {
                    return None;
                }
                let open: BTreeSet<usize> = installs
                    .iter()
                    .flat_map(|i| i.exposed.iter().copied())
                    .collect();
                Some((
                    s.versions[v].clone(),
                    installs.len() as i64,
                    open.len() as i64,
                ))
            })
            .collect()
    }

    /// The devices with a software.
    pub fn machines_with(&self, software: usize) -> Vec<&Device> {
        self.installations_of(software)
            .map(|i| &self.devices[i.device])
            .collect()
    }

    /// The CVEs open through a software, with how many of its devices are exposed to each.
    pub fn vulnerabilities(&self, software: usize) -> Vec<(&Cve, i64)> {
        let mut counts: BTreeMap<usize, i64> = BTreeMap::new();
        for installation in self.installations_of(software) {
            for &cve in &installation.exposed {
                *counts.entry(cve).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .map(|(cve, count)| (&self.cves[cve], count))
            .collect()
    }

    /// Every `machinesVulnerabilities` row, device by device.
    pub fn machine_vulnerabilities(&self) -> Vec<MachineVulnerability> {
        let mut rows = Vec::new();
        for installation in &self.installations {
            let device = &self.devices[installation.device];
            let software = &self.software[installation.software];
            let version = &software.versions[installation.version];
            for &c in &installation.exposed {
                let cve = &self.cves[c];
                let kb = cve.fixing_kb.map(|k| self.kbs[k].id.clone());
                rows.push(MachineVulnerability {
                    id: format!(
                        "{}-_-{}-_-{}-_-{}-_-{}-_-{}",
                        device.id,
                        cve.id,
                        software.vendor,
                        software.name,
                        version,
                        kb.as_deref().unwrap_or("")
                    ),
                    cve_id: cve.id.clone(),
                    machine_id: device.id.clone(),
                    fixing_kb_id: kb,
                    product_name: software.name.clone(),
                    product_vendor: software.vendor.clone(),
                    product_version: version.clone(),
                    severity: cve.severity,
                });
            }
        }
        rows
    }
}
