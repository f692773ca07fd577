//! The world every tenant lives in: the products, their releases and the CVEs each release
//! fixes. It depends on the calendar only, never on a tenant's seed (Microsoft's KBs and the
//! public CVEs are the same in every tenant): two timelines over the same days see the same
//! Patch Tuesdays, KB numbers, versions and CVEs.
//!
//! - Windows (`windows_10`, `windows_11`, `windows_server_2019`, `windows_server_2022`): on the
//!   second Tuesday of each month at 17:00 UTC, one cumulative update per product (a 7-digit KB
//!   number, the catalog's title, a new OS build revision). The month has a worst severity
//!   ([`WINDOWS_MONTH_MIX`]: Critical 35%, High 35%, Medium 30%), and 20 to 35 CVEs of severities
//!   drawn from [`WINDOWS_SEVERITY_MIX`], none worse than the month's; they are shared
//!   out among the products (each CVE affects each product with probability 0.65, at least one);
//!   each product's update fixes that product's share, and supersedes the previous update.
//! - Third-party applications: a release every `cadence` days (give or take three), at 17:00
//!   UTC, each fixing 1 to 4 new CVEs in every older version; its worst severity is drawn from
//!   [`APP_SEVERITY_MIX`], the others are that or one step lower.
//! - A CVE's CVSS score follows its severity; its exploitability is drawn when it is published,
//!   and 10% of those without an exploit get a public one 5 to 40 days later, 15% of those with
//!   a public one a verified one 10 to 60 days later.

use chrono::{Datelike, NaiveDate};

use super::catalog::{
    APP_SEVERITY_MIX, APPS, EXPLOITABILITY_MIX, SEVERITIES, WINDOWS, WINDOWS_MONTH_MIX,
    WINDOWS_SEVERITY_MIX, app_version,
};
use super::{DAY, HOUR, mix, pick, unit};

/// The world's hash seed: the same for every tenant.
const WORLD: u64 = 0x7E57_A11E_C0DE_2026;

/// Salts of the world's hashes.
mod salt {
    pub(super) const MONTH: u64 = 201;
    pub(super) const WINDOWS_CVE: u64 = 202;
    pub(super) const AFFECTS: u64 = 203;
    pub(super) const APP_PHASE: u64 = 204;
    pub(super) const APP_RELEASE: u64 = 205;
    pub(super) const APP_CVE: u64 = 206;
}

/// A vulnerability.
#[derive(Debug, Clone)]
pub(super) struct Cve {
    /// For example `CVE-2026-21001`.
    pub(super) id: String,
    /// Index into [`SEVERITIES`].
    pub(super) severity: usize,
    /// CVSS v3 score.
    pub(super) cvss: f64,
    /// Index into [`EXPLOITABILITY`](super::catalog::EXPLOITABILITY) when published.
    pub(super) exploit: usize,
    /// When (ticks) its exploitability rose, and to what.
    pub(super) escalation: Option<(i64, usize)>,
}

impl Cve {
    /// Its exploitability (an index into `EXPLOITABILITY`) at `tick`.
    pub(super) fn exploit_at(&self, tick: i64) -> usize {
        match self.escalation {
            Some((at, level)) if at <= tick => level,
            _ => self.exploit,
        }
    }
}

/// One release of a product: a cumulative update, or an application's new version.
#[derive(Debug, Clone)]
pub(super) struct Release {
    /// When it was released (ticks).
    pub(super) tick: i64,
    /// The version a device that installs it runs, for example `10.0.26100.19633`.
    pub(super) version: String,
    /// The recommended update while it is the newest: the KB's title, or
    /// `Update Google Chrome to version 131.0.7860.96`.
    pub(super) update: String,
    /// The KB number (`5044284`) of a cumulative update.
    pub(super) kb: Option<String>,
    /// The KB's catalog link.
    pub(super) url: Option<String>,
    /// Indexes into [`World::cves`] of the CVEs it fixes first.
    pub(super) cves: Vec<u32>,
    /// The worst severity among them (index into [`SEVERITIES`]).
    pub(super) worst: Option<usize>,
}

/// A product: a Windows OS or a third-party application.
#[derive(Debug, Clone)]
pub(super) struct Product {
    /// For example `microsoft`.
    pub(super) vendor: &'static str,
    /// For example `windows_11`.
    pub(super) name: &'static str,
    /// The `osPlatform` of a Windows product (`Windows11`); none for an application.
    pub(super) platform: Option<&'static str>,
    /// The factor on the days to upgrade it (1 for Windows).
    pub(super) urgency: f64,
    /// Install rates on workstations and servers (0 for Windows: by platform).
    pub(super) rates: (f64, f64),
    /// Files it is found by.
    pub(super) disk_paths: Vec<String>,
    /// Registry keys it is found by.
    pub(super) registry_paths: Vec<String>,
    /// `va-_-{vendor}-_-{name}`.
    pub(super) recommendation_reference: String,
    /// Its releases, oldest first.
    pub(super) releases: Vec<Release>,
}

impl Product {
    /// The index of the newest release at `tick` (0 if none was out yet).
    pub(super) fn latest_at(&self, tick: i64) -> usize {
        self.releases
            .partition_point(|r| r.tick <= tick)
            .saturating_sub(1)
    }
}

/// The products, Windows first, and their CVEs.
#[derive(Debug, Clone)]
pub(super) struct World {
    /// The four Windows products, then the applications.
    pub(super) products: Vec<Product>,
    /// Every CVE of every release.
    pub(super) cves: Vec<Cve>,
}

/// Days since the Unix epoch of a date.
fn epoch_day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 719_163
}

/// The date of a day since the Unix epoch.
fn date_of(day: i64) -> Option<NaiveDate> {
    i32::try_from(day + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// The second Tuesday of a month.
fn patch_tuesday(year: i32, month: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let to_tuesday = (7 + 1 - i64::from(first.weekday().num_days_from_monday())) % 7;
    first.checked_add_days(chrono::Days::new((to_tuesday + 7) as u64))
}

impl World {
    /// The releases from day `from` to day `to` (days since the Unix epoch).
    pub(super) fn build(from: i64, to: i64) -> World {
        let mut world = World {
            products: Vec::new(),
            cves: Vec::new(),
        };
        for (name, platform, ..) in WINDOWS {
            world.products.push(Product {
                vendor: "microsoft",
                name,
                platform: Some(platform),
                urgency: 1.0,
                rates: (0.0, 0.0),
                disk_paths: vec![
                    r"C:\Windows\System32\ntoskrnl.exe".to_owned(),
                    r"C:\Windows\System32\win32k.sys".to_owned(),
                ],
                registry_paths: vec![
                    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion".to_owned(),
                ],
                recommendation_reference: format!("va-_-microsoft-_-{name}"),
                releases: Vec::new(),
            });
        }
        for app in APPS {
            world.products.push(Product {
                vendor: app.vendor,
                name: app.name,
                platform: None,
                urgency: app.urgency,
                rates: app.rates,
                disk_paths: app.files.iter().map(|f| (*f).to_owned()).collect(),
                registry_paths: vec![format!(
                    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{}",
                    app.key
                )],
                recommendation_reference: format!("va-_-{}-_-{}", app.vendor, app.name),
                releases: Vec::new(),
            });
        }
        world.patch_tuesdays(from, to);
        for a in 0..APPS.len() {
            world.app_releases(a, from, to);
        }
        world
    }

    /// A new CVE of `year`, number `number`, of severity `severity`, published at `tick`;
    /// `hash` draws the rest.
    fn new_cve(&mut self, year: i32, number: u64, severity: usize, tick: i64, hash: u64) -> u32 {
        let (_, low, high) = SEVERITIES[severity];
        let tenths = ((high - low) * 10.0).round() as u64 + 1;
        let cvss = low + (mix(hash, 1, 0, 0) % tenths) as f64 / 10.0;
        let exploit = pick(&EXPLOITABILITY_MIX, unit(mix(hash, 2, 0, 0)));
        let rise = unit(mix(hash, 3, 0, 0));
        let days = |from: u64, span: u64| (from + mix(hash, 4, 0, 0) % span) as i64 * DAY;
        let escalation = match exploit {
            0 if rise < 0.10 => Some((tick + days(5, 36), 1)),
            1 if rise < 0.15 => Some((tick + days(10, 51), 2)),
            _ => None,
        };
        self.cves.push(Cve {
            id: format!("CVE-{year}-{number}"),
            severity,
            cvss: (cvss * 10.0).round() / 10.0,
            exploit,
            escalation,
        });
        (self.cves.len() - 1) as u32
    }

    /// Each month's cumulative updates, for every Windows product.
    fn patch_tuesdays(&mut self, from: i64, to: i64) {
        let (Some(first), Some(last)) = (date_of(from), date_of(to)) else {
            return;
        };
        let (mut year, mut month) = (first.year(), first.month());
        while (year, month) <= (last.year(), last.month()) {
            if let Some(day) = patch_tuesday(year, month).map(epoch_day)
                && (from..=to).contains(&day)
            {
                self.patch_tuesday(year, month, day);
            }
            (year, month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
        }
    }

    /// The cumulative updates of one Patch Tuesday (`day`, of `year`-`month`).
    fn patch_tuesday(&mut self, year: i32, month: u32, day: i64) {
        let tick = day * DAY + 17 * HOUR;
        // Months since January 1970: the KB numbers and build revisions grow with it.
        let months = (i64::from(year) - 1970) * 12 + i64::from(month) - 1;
        let key = months as u64;
        let count = 20 + mix(WORLD, salt::MONTH, key, 0) % 16;
        let worst = pick(&WINDOWS_MONTH_MIX, unit(mix(WORLD, salt::MONTH, key, 1)));
        let mut affected: [Vec<u32>; 4] = Default::default();
        for n in 0..count {
            let hash = mix(WORLD, salt::WINDOWS_CVE, key, n);
            let severity = pick(&WINDOWS_SEVERITY_MIX, unit(hash)).max(worst);
            let number = 21_000 + u64::from(month - 1) * 137 + n * 2 + (hash >> 63);
            let cve = self.new_cve(year, number, severity, tick, mix(hash, 9, 0, 0));
            let mut any = false;
            for (p, cves) in affected.iter_mut().enumerate() {
                if unit(mix(
                    WORLD,
                    salt::AFFECTS,
                    key.wrapping_mul(64).wrapping_add(n),
                    p as u64,
                )) < 0.65
                {
                    cves.push(cve);
                    any = true;
                }
            }
            if !any {
                affected[(n % 4) as usize].push(cve);
            }
        }
        for (p, cves) in affected.into_iter().enumerate() {
            let (_, _, build, _, title) = WINDOWS[p];
            let kb = (5_000_000 + ((months * 4 + p as i64) * 37).rem_euclid(1_000_000)).to_string();
            let worst = cves.iter().map(|&c| self.cves[c as usize].severity).min();
            self.products[p].releases.push(Release {
                tick,
                version: format!("10.0.{build}.{}", 29 * months + 7),
                update: format!("{year:04}-{month:02} Cumulative Update for {title} (KB{kb})"),
                url: Some(format!(
                    "https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB{kb}"
                )),
                kb: Some(kb),
                cves,
                worst,
            });
        }
    }

    /// The releases of application `a` from day `from` to day `to`.
    fn app_releases(&mut self, a: usize, from: i64, to: i64) {
        let app = &APPS[a];
        let product = WINDOWS.len() + a;
        let phase = (mix(WORLD, salt::APP_PHASE, a as u64, 0) % app.cadence as u64) as i64;
        let mut n = (from - phase).div_euclid(app.cadence);
        loop {
            let hash = mix(WORLD, salt::APP_RELEASE, a as u64, n as u64);
            let day = n * app.cadence + phase + (hash % 4) as i64;
            n += 1;
            if day < from {
                continue;
            }
            if day > to {
                break;
            }
            let Some(date) = date_of(day) else { break };
            let tick = day * DAY + 17 * HOUR;
            let worst = pick(&APP_SEVERITY_MIX, unit(mix(hash, 1, 0, 0)));
            let mut cves = Vec::new();
            for i in 0..1 + mix(hash, 2, 0, 0) % 4 {
                let cve_hash = mix(
                    WORLD,
                    salt::APP_CVE,
                    (n as u64).wrapping_mul(64).wrapping_add(a as u64),
                    i,
                );
                let severity = if i > 0 && unit(cve_hash) < 0.3 {
                    (worst + 1).min(SEVERITIES.len() - 1)
                } else {
                    worst
                };
                let number = 30_000 + a as u64 * 1000 + (n - 1).rem_euclid(24) as u64 * 40 + i;
                cves.push(self.new_cve(date.year(), number, severity, tick, cve_hash));
            }
            let version = app_version(app.name, n - 1, mix(hash, 3, 0, 0));
            self.products[product].releases.push(Release {
                tick,
                update: format!("Update {} to version {version}", app.display),
                version,
                kb: None,
                url: None,
                cves,
                worst: Some(worst),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_tuesday_is_the_second_tuesday() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(patch_tuesday(2026, 10), Some(day(2026, 10, 13)));
        assert_eq!(patch_tuesday(2026, 1), Some(day(2026, 1, 13)));
        assert_eq!(patch_tuesday(2024, 10), Some(day(2024, 10, 8)));
        assert_eq!(patch_tuesday(2025, 7), Some(day(2025, 7, 8)));
        // A month starting on a Tuesday.
        assert_eq!(patch_tuesday(2025, 4), Some(day(2025, 4, 8)));
        assert_eq!(date_of(epoch_day(day(2026, 3, 1))), Some(day(2026, 3, 1)));
    }

    #[test]
    fn the_world_depends_on_the_calendar_only() {
        let day = epoch_day(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default());
        let a = World::build(day - 200, day);
        let b = World::build(day - 400, day + 50);
        // The same Windows 11 update of the same month, in both.
        let last = a.products[1].releases.last().unwrap();
        let same = b.products[1]
            .releases
            .iter()
            .find(|r| r.tick == last.tick)
            .unwrap();
        assert_eq!((&last.kb, &last.update), (&same.kb, &same.update));
        let ids = |w: &World, r: &Release| -> Vec<String> {
            r.cves
                .iter()
                .map(|&c| w.cves[c as usize].id.clone())
                .collect()
        };
        assert_eq!(ids(&a, last), ids(&b, same));
        // CVE ids are unique.
        let mut all: Vec<&str> = b.cves.iter().map(|c| c.id.as_str()).collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count);
        // Versions strictly increase.
        for product in &b.products {
            for pair in product.releases.windows(2) {
                assert!(pair[0].tick < pair[1].tick, "{}", product.name);
                assert_ne!(pair[0].version, pair[1].version, "{}", product.name);
            }
        }
    }
}
