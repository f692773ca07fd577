//! What a report must say, computed here from a demo tenant's raw estate (its devices, each
//! installation's missing KBs and exposed CVEs, the KBs' titles and CVEs) by the rules the
//! library documents, never by the library: each KB's figures from either source, the priority
//! order, the deploy plan (a Windows product's cumulative updates counted once, as the newest)
//! and each device's steps. Plus the parsing of the HTML tables the tests read, and a temporary
//! folder that goes away with its test, failed or not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use defender_tvm_demo::{Estate, Installation};

/// Where a report's figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// One `getmissingkbs` per software: devices summed over its software (`machineMissedOn`),
    /// every CVE the KB addresses, an exploit when one of its software has one.
    Calls,
    /// The export's rows: distinct devices, the CVEs seen open on them, their exploits.
    Export,
}

/// A KB (or a step of the plan) with the figures the report must give it.
#[derive(Debug, Clone, PartialEq)]
pub struct Kb {
    pub id: String,
    pub name: String,
    pub url: String,
    /// The report's device figure.
    pub devices: i64,
    /// Whether the report says it is exact.
    pub exact: bool,
    /// The report's CVE figure.
    pub cves: i64,
    /// Whether it closes a CVE with an exploit.
    pub exploit: bool,
    /// The distinct devices that miss it.
    pub device_ids: BTreeSet<String>,
    /// The CVEs open on the devices that miss it.
    pub cve_ids: BTreeSet<String>,
    /// The products (the estate's software names) that devices miss it on, sorted.
    pub products: Vec<String>,
    /// The Windows product whose monthly cumulative updates it is one of.
    series: Option<usize>,
}

/// A step of the deploy plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// From 1, in the plan's order.
    pub rank: usize,
    /// Its figures: the union over the KBs it covers.
    pub kb: Kb,
    /// The older cumulative updates it installs too, lowest number first.
    pub covers: Vec<String>,
}

/// A device as every format of `report --by device` shows it: id, name, the steps it needs
/// (`KB…`, in the plan's order), how many of the report's KBs it misses.
pub type DeviceRow = (String, String, Vec<String>, usize);

/// The report a tenant's estate must give.
#[derive(Debug, Clone)]
pub struct Expected {
    /// How many software have an open vulnerability (the default selection).
    pub selected: usize,
    /// Every missing KB, in priority order (rank = place + 1).
    pub kbs: Vec<Kb>,
    /// The KB a KB is covered by, when a newer cumulative update of its series is missing too.
    pub covered_by: BTreeMap<String, String>,
    /// The deploy plan.
    pub steps: Vec<Step>,
    /// With devices known (the export): each device's steps, those needing most first.
    pub devices: Vec<DeviceRow>,
}

impl Expected {
    /// The distinct devices missing at least one KB.
    pub fn devices_affected(&self) -> usize {
        self.kbs
            .iter()
            .flat_map(|k| k.device_ids.iter())
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// Public exploit first, then CVEs × devices (larger first), then KB id.
fn priority(a: &Kb, b: &Kb) -> std::cmp::Ordering {
    b.exploit
        .cmp(&a.exploit)
        .then_with(|| (b.cves * b.devices).cmp(&(a.cves * a.devices)))
        .then_with(|| a.id.cmp(&b.id))
}

/// `YYYY-MM` a title starts with.
fn month(title: &str) -> &str {
    &title[..7]
}

fn number(id: &str) -> u64 {
    id.parse().unwrap()
}

/// The report of `truth` with the default selection, from `source`, its cumulative updates
/// collapsed or not.
pub fn expected(truth: &Estate, source: Source, collapse: bool) -> Expected {
    // Per KB, the installations that miss it.
    let mut missing: BTreeMap<usize, Vec<&Installation>> = BTreeMap::new();
    for installation in &truth.installations {
        for &k in &installation.missing_kbs {
            missing.entry(k).or_default().push(installation);
        }
    }
    // Per software, the CVEs open on at least one of its devices.
    let mut open: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); truth.software.len()];
    for installation in &truth.installations {
        open[installation.software].extend(installation.exposed.iter().copied());
    }
    let has_exploit = |c: usize| {
        let cve = &truth.cves[c];
        cve.public_exploit || cve.exploit_verified || cve.exploit_in_kit
    };
    let software_exploit: Vec<bool> = open
        .iter()
        .map(|cves| cves.iter().any(|&c| has_exploit(c)))
        .collect();

    let mut kbs: Vec<Kb> = missing
        .iter()
        .map(|(&k, installations)| {
            let kb = &truth.kbs[k];
            let device_ids: BTreeSet<String> = installations
                .iter()
                .map(|i| truth.devices[i.device].id.clone())
                .collect();
            // A KB's CVE is open where an installation of its software misses the KB.
            let seen: Vec<usize> = kb
                .cves
                .iter()
                .copied()
                .filter(|&c| {
                    installations
                        .iter()
                        .any(|i| i.software == truth.cves[c].software)
                })
                .collect();
            let products: BTreeSet<String> = installations
                .iter()
                .map(|i| truth.software[i.software].name.clone())
                .collect();
            let (devices, exact, cves, exploit) = match source {
                Source::Calls => (
                    installations.len() as i64,
                    false,
                    kb.cves.len() as i64,
                    installations.iter().any(|i| software_exploit[i.software]),
                ),
                Source::Export => (
                    device_ids.len() as i64,
                    true,
                    seen.len() as i64,
                    seen.iter().any(|&c| has_exploit(c)),
                ),
            };
            let series = match kb.products.as_slice() {
                [p] if truth.software[*p].name.starts_with("windows") => Some(*p),
                _ => None,
            };
            Kb {
                id: kb.id.clone(),
                name: kb.name.clone(),
                url: kb.url.clone(),
                devices,
                exact,
                cves,
                exploit,
                device_ids,
                cve_ids: seen.iter().map(|&c| truth.cves[c].id.clone()).collect(),
                products: products.into_iter().collect(),
                series,
            }
        })
        .collect();
    kbs.sort_by(priority);

    // The plan: a series counts once, as its newest (latest month, then highest number).
    let mut series: BTreeMap<usize, Vec<&Kb>> = BTreeMap::new();
    for kb in &kbs {
        if let (true, Some(product)) = (collapse, kb.series) {
            series.entry(product).or_default().push(kb);
        }
    }
    let mut covered_by = BTreeMap::new();
    let mut steps: Vec<Step> = kbs
        .iter()
        .filter(|kb| !collapse || kb.series.is_none())
        .map(|kb| Step {
            rank: 0,
            kb: kb.clone(),
            covers: Vec::new(),
        })
        .collect();
    for members in series.values() {
        let newest = *members
            .iter()
            .max_by_key(|k| (month(&k.name).to_owned(), number(&k.id)))
            .unwrap();
        let mut covers: Vec<String> = members
            .iter()
            .filter(|k| k.id != newest.id)
            .map(|k| k.id.clone())
            .collect();
        covers.sort_by_key(|id| number(id));
        for id in &covers {
            covered_by.insert(id.clone(), newest.id.clone());
        }
        let mut step = newest.clone();
        step.device_ids = members
            .iter()
            .flat_map(|k| k.device_ids.iter().cloned())
            .collect();
        step.cve_ids = members
            .iter()
            .flat_map(|k| k.cve_ids.iter().cloned())
            .collect();
        step.exploit = members.iter().any(|k| k.exploit);
        match source {
            // Counts only: the largest device count, the sum of the CVE counts.
            Source::Calls => {
                step.devices = members.iter().map(|k| k.devices).max().unwrap();
                step.cves = members.iter().map(|k| k.cves).sum();
            }
            Source::Export => {
                step.devices = step.device_ids.len() as i64;
                step.cves = step.cve_ids.len() as i64;
            }
        }
        steps.push(Step {
            rank: 0,
            kb: step,
            covers,
        });
    }
    steps.sort_by(|a, b| priority(&a.kb, &b.kb));
    for (i, step) in steps.iter_mut().enumerate() {
        step.rank = i + 1;
    }

    let devices = match source {
        Source::Calls => Vec::new(),
        Source::Export => {
            let all: BTreeSet<&String> = kbs.iter().flat_map(|k| k.device_ids.iter()).collect();
            let mut rows: Vec<DeviceRow> = all
                .into_iter()
                .map(|id| {
                    let device = &truth.devices[truth.device_index(id).unwrap()];
                    let needs: Vec<String> = steps
                        .iter()
                        .filter(|s| s.kb.device_ids.contains(id))
                        .map(|s| format!("KB{}", s.kb.id))
                        .collect();
                    let misses = kbs.iter().filter(|k| k.device_ids.contains(id)).count();
                    (id.clone(), device.computer_dns_name.clone(), needs, misses)
                })
                .collect();
            rows.sort_by(|a, b| b.2.len().cmp(&a.2.len()).then_with(|| a.0.cmp(&b.0)));
            rows
        }
    };

    Expected {
        selected: open.iter().filter(|cves| !cves.is_empty()).count(),
        kbs,
        covered_by,
        steps,
        devices,
    }
}

/// `1234567` as `1,234,567`, as people read it.
pub fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A table of an HTML page by its id: its header cells and each body row's cells, as the HTML
/// inside them.
pub fn html_table(html: &str, id: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let start = html
        .find(&format!("<table id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &html[start..];
    let table = &table[..table.find("</table>").unwrap()];
    let inner = |piece: &str, close: &str| -> String {
        piece[piece.find('>').unwrap() + 1..piece.find(close).unwrap()].to_owned()
    };
    let head = &table[..table.find("</thead>").unwrap()];
    let headers = head
        .split("<th")
        // Not `<thead>`.
        .filter(|piece| piece.starts_with(['>', ' ']))
        .map(|cell| inner(cell, "</th>"))
        .collect();
    let body = &table[table.find("<tbody>").unwrap()..];
    let rows = body
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| inner(cell, "</td>"))
                .collect()
        })
        .collect();
    (headers, rows)
}

/// The text of some HTML: its tags dropped (entities kept).
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A folder of its own under the system's temporary folder, removed when dropped: when its test
/// ends, passed or failed (a panic unwinds through it).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(what: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "defender-tvm-cli-{what}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn thousands_and_tables_read_as_written() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1000), "1,000");
    assert_eq!(thousands(1_234_567), "1,234,567");
    let page = "<table id=\"t\">\n<thead><tr><th>A</th><th class=\"n\">B</th></tr></thead>\n\
                <tbody>\n<tr><td>x<small>y</small></td><td class=\"n\">1,2</td></tr>\n\
                <tr><td>z</td><td class=\"n\">—</td></tr>\n</tbody>\n</table>";
    let (headers, rows) = html_table(page, "t");
    assert_eq!(headers, ["A", "B"]);
    assert_eq!(rows, [["x<small>y</small>", "1,2"], ["z", "—"]]);
    assert_eq!(text_of(&rows[0][0]), "xy");
}

#[test]
fn a_temporary_folder_goes_away_even_when_its_test_fails() {
    let dir = TempDir::new("guard");
    let path = dir.path().to_owned();
    std::fs::write(path.join("f"), "x").unwrap();
    let unwound = std::panic::catch_unwind(move || {
        let _dir = dir;
        panic!("a failing test");
    });
    assert!(unwound.is_err());
    assert!(!path.exists());
}
