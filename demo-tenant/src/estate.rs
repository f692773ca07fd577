//! The estate a demo tenant plays: devices, the software installed on them, the security updates
//! (KBs) they miss and the vulnerabilities (CVEs) those leave open. Generated deterministically
//! from a seed, and published as ground truth: every answer the server gives is computed from
//! these tables, so tests can compare what a client reads with what is true.
//!
//! The rules that make it consistent:
//! - a device runs one OS and some applications, each at one version;
//! - a Microsoft product has KBs, each fixing some of the product's CVEs; a device with the
//!   product misses each KB or not, and is exposed to the CVEs of the KBs it misses;
//! - a third-party product has CVEs without KBs; devices on its oldest version are exposed;
//! - everything else (a KB's `machineMissedOn`, a software's `weaknesses` and `exposedMachines`,
//!   distributions, machine references, the `machinesVulnerabilities` rows) is counted from those
//!   facts.

use std::collections::{BTreeMap, BTreeSet};

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
    by_software: Vec<Vec<usize>>,
    by_device: Vec<Vec<usize>>,
}

/// A missing KB as the service reports it for a software (or a device).
#[derive(Debug, Clone, PartialEq)]
pub struct MissingKb {
    /// The KB number.
    pub id: String,
    /// The KB's name.
    pub name: String,
    /// The product names (`windows_11`, …) it updates.
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

/// The catalog: real-looking products. `(vendor, product, versions, Microsoft, install rate)`;
/// the OS products come first and are installed by platform, not by rate.
const CATALOG: &[(&str, &str, &[&str], bool, f64)] = &[
    (
        "microsoft",
        "windows_10",
        &["10.0.19045.4780", "10.0.19045.5011"],
        true,
        0.0,
    ),
    (
        "microsoft",
        "windows_11",
        &["10.0.22631.4169", "10.0.26100.2033"],
        true,
        0.0,
    ),
    (
        "microsoft",
        "windows_server_2019",
        &["10.0.17763.6293", "10.0.17763.6414"],
        true,
        0.0,
    ),
    (
        "microsoft",
        "windows_server_2022",
        &["10.0.20348.2700", "10.0.20348.2762"],
        true,
        0.0,
    ),
    (
        "microsoft",
        "office",
        &["16.0.17928.20156", "16.0.18025.20104"],
        true,
        0.7,
    ),
    (
        "microsoft",
        ".net_framework",
        &["4.8.9256", "4.8.9261"],
        true,
        0.9,
    ),
    (
        "microsoft",
        "edge_chromium-based",
        &["129.0.2792.89", "130.0.2849.56"],
        true,
        0.95,
    ),
    (
        "microsoft",
        "sql_server_2019",
        &["15.0.4385.2", "15.0.4390.2"],
        true,
        0.08,
    ),
    (
        "microsoft",
        "teams",
        &["24243.1309.3132.617", "24257.205.3165.2029"],
        true,
        0.6,
    ),
    (
        "microsoft",
        "visual_studio_2022",
        &["17.10.5", "17.11.5"],
        true,
        0.12,
    ),
    (
        "google",
        "chrome",
        &["129.0.6668.101", "130.0.6723.70"],
        false,
        0.6,
    ),
    ("mozilla", "firefox", &["130.0.1", "131.0.3"], false, 0.3),
    (
        "adobe",
        "acrobat_reader",
        &["24.002.21005", "24.003.20112"],
        false,
        0.5,
    ),
    ("oracle", "jre", &["8.0.411", "8.0.421"], false, 0.3),
    ("7-zip", "7-zip", &["23.01", "24.08"], false, 0.4),
    (
        "notepad_plus_plus",
        "notepad++",
        &["8.6.7", "8.6.9"],
        false,
        0.35,
    ),
    ("zoom", "zoom", &["6.1.11", "6.2.5"], false, 0.4),
    (
        "videolan",
        "vlc_media_player",
        &["3.0.20", "3.0.21"],
        false,
        0.2,
    ),
    ("simon_tatham", "putty", &["0.80", "0.81"], false, 0.1),
    ("python", "python", &["3.11.9", "3.12.4"], false, 0.15),
    ("git-scm", "git", &["2.45.2", "2.46.0"], false, 0.15),
    ("wireshark", "wireshark", &["4.2.5", "4.2.6"], false, 0.05),
    (
        "citrix",
        "workspace",
        &["2405.0.0.41", "2409.0.0.49"],
        false,
        0.2,
    ),
    ("vmware", "tools", &["12.3.5", "12.4.5"], false, 0.1),
    ("winscp", "winscp", &["6.3.3", "6.3.5"], false, 0.08),
    (
        "filezilla-project",
        "filezilla",
        &["3.67.0", "3.67.1"],
        false,
        0.06,
    ),
    ("keepass", "keepass", &["2.56", "2.57"], false, 0.1),
    ("greenshot", "greenshot", &["1.2.10.6"], false, 0.1),
    ("slack", "slack", &["4.39.95", "4.40.126"], false, 0.25),
    (
        "dropbox",
        "dropbox",
        &["205.4.6059", "207.4.5821"],
        false,
        0.08,
    ),
];

/// Device groups: (name, DNS prefix, share of devices, servers).
const GROUPS: &[(&str, &str, f64, bool)] = &[
    ("Finance", "ws-fin", 0.15, false),
    ("Engineering", "ws-eng", 0.3, false),
    ("Sales", "ws-sal", 0.2, false),
    ("HR", "ws-hr", 0.07, false),
    ("Branch Offices", "ws-br", 0.13, false),
    ("Datacenter", "srv-dc", 0.15, true),
];

/// Generated vendors and products for the software beyond the catalog.
const VENDORS: &[&str] = &[
    "contoso",
    "fabrikam",
    "northwind",
    "tailspin",
    "woodgrove",
    "litware",
];
const PRODUCTS: &[&str] = &[
    "agent", "sync", "viewer", "toolkit", "client", "monitor", "updater",
];

impl Estate {
    /// Generates the estate of `size` from `seed`: the same seed and size always give the same
    /// estate.
    pub fn generate(seed: u64, size: Size) -> Estate {
        let mut rng = fastrand::Rng::with_seed(seed);
        let devices = devices(&mut rng, size.devices);
        let software = software(&mut rng, size.software);
        let (kbs, cves) = kbs_and_cves(&mut rng, &software);
        let mut estate = Estate {
            seed,
            devices,
            software,
            kbs,
            cves,
            installations: Vec::new(),
            software_index: BTreeMap::new(),
            device_index: BTreeMap::new(),
            by_software: Vec::new(),
            by_device: Vec::new(),
        };
        estate.install(&mut rng);
        estate.index();
        estate
    }

    fn install(&mut self, rng: &mut fastrand::Rng) {
        let os_of = |platform: &str| match platform {
            "Windows10" => 0,
            "Windows11" => 1,
            "WindowsServer2019" => 2,
            _ => 3,
        };
        let kbs_of: Vec<Vec<usize>> = (0..self.software.len())
            .map(|s| {
                (0..self.kbs.len())
                    .filter(|&k| self.kbs[k].products.contains(&s))
                    .collect()
            })
            .collect();
        let cves_without_kb: Vec<Vec<usize>> = (0..self.software.len())
            .map(|s| {
                (0..self.cves.len())
                    .filter(|&c| self.cves[c].software == s && self.cves[c].fixing_kb.is_none())
                    .collect()
            })
            .collect();
        // Install rates of the generated software beyond the catalog.
        let rates: Vec<f64> = (0..self.software.len())
            .map(|s| match CATALOG.get(s) {
                Some(entry) => entry.4,
                None => 0.02 + rng.f64() * 0.2,
            })
            .collect();
        for device in 0..self.devices.len() {
            let server = self.devices[device]
                .os_platform
                .starts_with("WindowsServer");
            let mut chosen = vec![os_of(&self.devices[device].os_platform)];
            for (s, &rate) in rates.iter().enumerate().skip(4) {
                let rate = match self.software[s].name.as_str() {
                    "sql_server_2019" | "tools" if server => 0.6,
                    "teams" | "zoom" | "slack" | "office" if server => 0.0,
                    _ => rate,
                };
                if rng.f64() < rate {
                    chosen.push(s);
                }
            }
            for software in chosen {
                let versions = self.software[software].versions.len();
                // Most devices run the newest version; some lag behind.
                let version = if versions > 1 && rng.f64() < 0.3 {
                    0
                } else {
                    versions - 1
                };
                let missing_kbs: Vec<usize> = kbs_of[software]
                    .iter()
                    .copied()
                    .filter(|_| rng.f64() < if version == 0 { 0.6 } else { 0.2 })
                    .collect();
                let mut exposed: BTreeSet<usize> = missing_kbs
                    .iter()
                    .flat_map(|&k| self.kbs[k].cves.iter().copied())
                    .filter(|&c| self.cves[c].software == software)
                    .collect();
                if version == 0 {
                    exposed.extend(cves_without_kb[software].iter().copied());
                }
                self.installations.push(Installation {
                    device,
                    software,
                    version,
                    missing_kbs,
                    exposed: exposed.into_iter().collect(),
                });
            }
        }
    }

    fn index(&mut self) {
        self.software_index = self
            .software
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        self.device_index = self
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i))
            .collect();
        self.by_software = vec![Vec::new(); self.software.len()];
        self.by_device = vec![Vec::new(); self.devices.len()];
        for (i, installation) in self.installations.iter().enumerate() {
            self.by_software[installation.software].push(i);
            self.by_device[installation.device].push(i);
        }
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
            .map(|&i| &self.installations[i])
    }

    /// The installations on a device.
    pub fn installations_on(&self, device: usize) -> impl Iterator<Item = &Installation> {
        self.by_device
            .get(device)
            .into_iter()
            .flatten()
            .map(|&i| &self.installations[i])
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
            products_names: k
                .products
                .iter()
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

fn hex_id(rng: &mut fastrand::Rng) -> String {
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.usize(..16)]))
        .collect()
}

fn devices(rng: &mut fastrand::Rng, count: usize) -> Vec<Device> {
    let mut numbers = vec![0usize; GROUPS.len()];
    (0..count)
        .map(|_| {
            let mut pick = rng.f64();
            let mut group = GROUPS.len() - 1;
            for (g, entry) in GROUPS.iter().enumerate() {
                if pick < entry.2 {
                    group = g;
                    break;
                }
                pick -= entry.2;
            }
            let (name, prefix, _, server) = GROUPS[group];
            numbers[group] += 1;
            let (platform, build) = if server {
                if rng.bool() {
                    ("WindowsServer2022", 20348)
                } else {
                    ("WindowsServer2019", 17763)
                }
            } else if rng.f64() < 0.35 {
                ("Windows10", 19045)
            } else if rng.bool() {
                ("Windows11", 22631)
            } else {
                ("Windows11", 26100)
            };
            Device {
                id: hex_id(rng),
                computer_dns_name: format!("{prefix}-{:04}.contoso.com", numbers[group]),
                os_platform: platform.to_owned(),
                os_build: build,
                rbac_group_name: name.to_owned(),
                rbac_group_id: 4400 + group as i64,
            }
        })
        .collect()
}

fn software(rng: &mut fastrand::Rng, count: usize) -> Vec<Software> {
    let mut all: Vec<Software> = CATALOG
        .iter()
        .take(count.max(4))
        .map(|&(vendor, name, versions, microsoft, _)| Software {
            id: format!("{vendor}-_-{name}"),
            name: name.to_owned(),
            vendor: vendor.to_owned(),
            versions: versions.iter().map(|v| (*v).to_owned()).collect(),
            has_kbs: microsoft,
        })
        .collect();
    let mut n = 0usize;
    while all.len() < count {
        let vendor = VENDORS[n % VENDORS.len()];
        let product = PRODUCTS[(n / VENDORS.len()) % PRODUCTS.len()];
        let round = n / (VENDORS.len() * PRODUCTS.len());
        let name = if round == 0 {
            product.to_owned()
        } else {
            format!("{product}_{}", round + 1)
        };
        let major = 1 + rng.usize(..9);
        all.push(Software {
            id: format!("{vendor}-_-{name}"),
            name,
            vendor: vendor.to_owned(),
            versions: vec![
                format!("{major}.{}.0", rng.usize(..9)),
                format!("{major}.9.1"),
            ],
            has_kbs: false,
        });
        n += 1;
    }
    all
}

fn kbs_and_cves(rng: &mut fastrand::Rng, software: &[Software]) -> (Vec<Kb>, Vec<Cve>) {
    let mut kbs: Vec<Kb> = Vec::new();
    let mut cves: Vec<Cve> = Vec::new();
    let mut next_cve = 21_000 + rng.usize(..500);
    let mut next_kb = 5_040_000 + rng.usize(..20_000);
    let mut new_cve =
        |rng: &mut fastrand::Rng, cves: &mut Vec<Cve>, s: usize, kb: Option<usize>| {
            next_cve += 1 + rng.usize(..7);
            let cvss = (30 + rng.usize(..70)) as f64 / 10.0;
            let severity = match cvss {
                c if c >= 9.0 => "Critical",
                c if c >= 7.0 => "High",
                c if c >= 4.0 => "Medium",
                _ => "Low",
            };
            let public_exploit = rng.f64() < 0.03;
            cves.push(Cve {
                id: format!("CVE-2025-{next_cve}"),
                severity,
                cvss,
                epss: (rng.f64().powi(4) * 10_000.0).round() / 10_000.0,
                public_exploit,
                exploit_verified: public_exploit && rng.bool(),
                exploit_in_kit: public_exploit && rng.f64() < 0.2,
                published_on: format!(
                    "2025-{:02}-{:02}T{:02}:00:00Z",
                    1 + rng.usize(..10),
                    1 + rng.usize(..28),
                    rng.usize(..24)
                ),
                software: s,
                fixing_kb: kb,
            });
            cves.len() - 1
        };
    let months = ["2025-06", "2025-07", "2025-08", "2025-09", "2025-10"];
    let office = software.iter().position(|s| s.name == "office");
    let teams = software.iter().position(|s| s.name == "teams");
    for (s, product) in software.iter().enumerate() {
        if product.has_kbs {
            if Some(s) == teams {
                continue; // Teams is updated by the Microsoft 365 Apps KBs of Office.
            }
            let count = 2 + rng.usize(..4);
            for m in 0..count {
                next_kb += 17 + rng.usize(..400);
                let month = months[(months.len() - count + m) % months.len()];
                let id = next_kb.to_string();
                let mut products = vec![s];
                let name = kb_title(&product.name, month, m, &id);
                if Some(s) == office {
                    products.extend(teams);
                }
                let k = kbs.len();
                let fixes = 2 + rng.usize(
                    ..if product.name.starts_with("windows") {
                        30
                    } else {
                        10
                    },
                );
                let mut fixed = Vec::new();
                for _ in 0..fixes {
                    for &p in &products {
                        fixed.push(new_cve(rng, &mut cves, p, Some(k)));
                    }
                }
                kbs.push(Kb {
                    id: id.clone(),
                    name,
                    url: format!(
                        "https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB{id}"
                    ),
                    products,
                    cves: fixed,
                });
            }
        } else if s < CATALOG.len() || rng.f64() < 0.25 {
            for _ in 0..1 + rng.usize(..8) {
                new_cve(rng, &mut cves, s, None);
            }
        }
    }
    (kbs, cves)
}

/// The title Microsoft gives a security update of `product` (a catalog product id such as
/// `windows_11`), released in `month` (`2025-10`), the `nth` of its product in the estate.
/// Titles read as the Microsoft Update Catalog writes them; product ids never appear in them.
fn kb_title(product: &str, month: &str, nth: usize, id: &str) -> String {
    match product {
        "windows_10" => format!(
            "{month} Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB{id})"
        ),
        "windows_11" => format!(
            "{month} Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB{id})"
        ),
        "windows_server_2019" => format!(
            "{month} Cumulative Update for Windows Server 2019 for x64-based Systems (KB{id})"
        ),
        "windows_server_2022" => format!(
            "{month} Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB{id})"
        ),
        "office" => format!("{month} Security Update for Microsoft 365 Apps (KB{id})"),
        ".net_framework" => {
            format!("{month} Cumulative Update for .NET Framework 3.5 and 4.8.1 (KB{id})")
        }
        "edge_chromium-based" => format!("{month} Security Update for Microsoft Edge (KB{id})"),
        "sql_server_2019" => format!(
            "Security Update for SQL Server 2019 CU{} (KB{id})",
            25 + nth
        ),
        "visual_studio_2022" => format!(
            "{month} Security Update for Microsoft Visual Studio 2022 version 17.{} (KB{id})",
            8 + nth
        ),
        // A product added to the catalog without a title of its own: its words, capitalised,
        // never the raw id.
        other => {
            let words: Vec<String> = other
                .split(['_', '-'])
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let mut chars = w.chars();
                    chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect())
                        .unwrap_or_default()
                })
                .collect();
            format!(
                "{month} Security Update for Microsoft {} (KB{id})",
                words.join(" ")
            )
        }
    }
}
