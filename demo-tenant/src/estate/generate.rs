//! The rules that generate an estate from a seed, drawing from `catalog.rs`: devices in groups
//! and OS platforms, software installed at rates, KBs fixing CVEs, and each installation's
//! missing KBs and exposure. The same seed and size always give the same estate.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use super::catalog::{CATALOG, GROUPS, MONTHS, PRODUCTS, VENDORS, kb_title};
use super::presence::{batch_title, presence};
use super::rows::HOUR;
use super::{Cve, Device, Estate, Installation, Kb, Size, Software};
use crate::time::{now_ticks, ticks_of};

impl Estate {
    /// Generates the estate of `size` from `seed`: the same seed and size always give the same
    /// estate. Its snapshot time is now, truncated to the hour (the export rows' times are set
    /// back from it: the same seed, size and snapshot time give the same rows).
    pub fn generate(seed: u64, size: Size) -> Estate {
        let now = now_ticks();
        Estate::generate_at_ticks(seed, size, now - now.rem_euclid(HOUR))
    }

    /// Generates the estate of `size` from `seed`, with its snapshot taken at `snapshot` (to
    /// the second): the same arguments always give the same estate and rows.
    pub fn generate_at(seed: u64, size: Size, snapshot: SystemTime) -> Estate {
        let snapshot = ticks_of(snapshot);
        Estate::generate_at_ticks(
            seed,
            size,
            snapshot - snapshot.rem_euclid(super::rows::SECOND),
        )
    }

    fn generate_at_ticks(seed: u64, size: Size, snapshot: i64) -> Estate {
        let mut rng = fastrand::Rng::with_seed(seed);
        let devices = devices(&mut rng, size.devices);
        let software = software(&mut rng, size.software);
        let (kbs, cves) = kbs_and_cves(&mut rng, &software);
        let kbs_of: Vec<Vec<usize>> = (0..software.len())
            .map(|s| {
                (0..kbs.len())
                    .filter(|&k| kbs[k].products.contains(&s))
                    .collect()
            })
            .collect();
        let cves_without_kb: Vec<Vec<usize>> = (0..software.len())
            .map(|s| {
                (0..cves.len())
                    .filter(|&c| cves[c].software == s && cves[c].fixing_kb.is_none())
                    .collect()
            })
            .collect();
        let presence = software
            .iter()
            .enumerate()
            .map(|(i, s)| presence(seed, i, s))
            .collect();
        let batch_titles = kbs.iter().map(batch_title).collect();
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
            device_starts: Vec::new(),
            snapshot,
            row_starts: Vec::new(),
            kbs_of,
            cves_without_kb,
            presence,
            batch_titles,
            missed_products: Vec::new(),
        };
        estate.install(&mut rng);
        estate.index();
        estate
    }

    /// The estate with hostile names ([`crate::HOSTILE_NAMES`]): the first devices' names and
    /// groups, the name (and so the id) of the first software with KBs that is not Windows, and
    /// the title of a KB of it.
    pub fn with_hostile_names(mut self) -> Estate {
        let names = crate::HOSTILE_NAMES;
        for (i, device) in self.devices.iter_mut().take(names.len()).enumerate() {
            device.computer_dns_name = names[i].to_owned();
            device.rbac_group_name = names[(i + 1) % names.len()].to_owned();
        }
        if let Some(s) = self
            .software
            .iter()
            .position(|s| s.has_kbs && !s.name.starts_with("windows"))
        {
            let software = &mut self.software[s];
            software.name = format!("{} {}", names[2], names[4]);
            software.id = format!("{}-_-{}", software.vendor, software.name);
            if let Some(kb) = self.kbs.iter_mut().find(|k| k.products.contains(&s)) {
                kb.name = format!("{}{}{}", names[1], names[3], names[0]);
            }
        }
        self.index();
        self
    }

    fn install(&mut self, rng: &mut fastrand::Rng) {
        let os_of = |platform: &str| match platform {
            "Windows10" => 0,
            "Windows11" => 1,
            "WindowsServer2019" => 2,
            _ => 3,
        };
        let kbs_of = std::mem::take(&mut self.kbs_of);
        let cves_without_kb = std::mem::take(&mut self.cves_without_kb);
        // Install rates of the generated software beyond the catalog.
        let rates: Vec<f64> = (0..self.software.len())
            .map(|s| match CATALOG.get(s) {
                Some(entry) => entry.4,
                None => 0.02 + rng.f64() * 0.2,
            })
            .collect();
        // Room for the installations to come (a little more than expected: the OS, each product
        // at its rate, two more on servers), so that the table is not copied as it grows: at
        // scale, a copy would double its memory for a moment.
        let expected = 1.0 + rates.iter().skip(4).sum::<f64>() + 1.2;
        self.installations
            .reserve((self.devices.len() as f64 * expected * 1.1) as usize + 64);
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
                let rate = if version == 0 { 0.6 } else { 0.2 };
                let kbs = &kbs_of[software];
                let missing_kbs: Vec<usize> = if self.software[software].name.starts_with("windows")
                {
                    // Windows' monthly cumulative updates (oldest first): a device that misses
                    // one misses every newer one, so it misses the newest `n`, and the newest is
                    // missing on the most devices.
                    let n = (0..kbs.len()).take_while(|_| rng.f64() < rate).count();
                    kbs[kbs.len() - n..].to_vec()
                } else {
                    kbs.iter().copied().filter(|_| rng.f64() < rate).collect()
                };
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
        self.kbs_of = kbs_of;
        self.cves_without_kb = cves_without_kb;
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
        // Installations come device by device (see `install`).
        self.device_starts = Vec::with_capacity(self.devices.len() + 1);
        self.row_starts = Vec::with_capacity(self.installations.len() + 1);
        // (KB, software) pairs some installation misses, as a KB-major grid.
        let products = self.software.len();
        let mut missed = vec![false; self.kbs.len() * products];
        let mut rows = 0;
        for (i, installation) in self.installations.iter().enumerate() {
            self.by_software[installation.software].push(i as u32);
            while self.device_starts.len() <= installation.device {
                self.device_starts.push(i);
            }
            self.row_starts.push(rows);
            // An installation exposed to no CVE has one row that says it is there.
            rows += installation.exposed.len().max(1);
            for &k in &installation.missing_kbs {
                if let Some(cell) = missed.get_mut(k * products + installation.software) {
                    *cell = true;
                }
            }
        }
        self.row_starts.push(rows);
        while self.device_starts.len() <= self.devices.len() {
            self.device_starts.push(self.installations.len());
        }
        self.missed_products = self
            .kbs
            .iter()
            .enumerate()
            .map(|(k, kb)| {
                kb.products
                    .iter()
                    .copied()
                    .filter(|&s| missed.get(k * products + s).copied().unwrap_or(false))
                    .collect()
            })
            .collect();
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
    // Drawn as before (KB numbers no longer come from the seed), so the rest stays the same.
    let _ = rng.usize(..20_000);
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
    let months = MONTHS;
    let office = software.iter().position(|s| s.name == "office");
    let teams = software.iter().position(|s| s.name == "teams");
    for (s, product) in software.iter().enumerate() {
        if product.has_kbs {
            if Some(s) == teams {
                continue; // Teams is updated by the Microsoft 365 Apps KBs of Office.
            }
            let count = 2 + rng.usize(..4);
            for m in 0..count {
                let _ = rng.usize(..400);
                let month_index = (months.len() - count + m) % months.len();
                let month = months[month_index];
                // A product's update of a month has one number in every estate, whatever its
                // seed, as Microsoft's KBs are the same in every tenant: the catalog product
                // (its place, which every estate shares) and the month make it.
                let id = (5_040_000 + s * 100 + month_index * 7 + 3).to_string();
                let mut products = vec![s];
                let name = kb_title(&product.name, month, month_index, &id);
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
