//! How fast fixes land and what is past its deadline, per severity (or update, software, device
//! group, tenant), with the exposures as they stand at the end of the window: a reopened
//! exposure is open, a retired one neither open nor fixed.
//!
//! Days to fix are `fixed_at` minus the service's first-seen time; the median and the 90th
//! percentile interpolate between the nearest ranks (as numpy, DuckDB's `quantile_cont` and
//! Excel's `PERCENTILE.INC` do). An open exposure is past its SLA when it is older than its
//! severity's days.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::load::{self, Standing, days, tenth};
use super::window::When;
use crate::error::{Doing, Error};
use crate::store::Store;

/// Days allowed to fix an exposure, per severity.
///
/// The defaults take 15 days for critical and 30 for high from CISA Binding Operational
/// Directive 19-02, and 90 for medium and 180 for low (FedRAMP's moderate and low).
///
/// ```
/// use defender_tvm_history::Sla;
///
/// let sla: Sla = "critical=7,high=14".parse().unwrap();
/// assert_eq!((sla.critical, sla.high, sla.medium, sla.low), (7, 14, 90, 180));
/// assert!("urgent=3".parse::<Sla>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sla {
    /// Critical.
    pub critical: u32,
    /// High.
    pub high: u32,
    /// Medium.
    pub medium: u32,
    /// Low.
    pub low: u32,
}

impl Default for Sla {
    fn default() -> Self {
        Sla {
            critical: 15,
            high: 30,
            medium: 90,
            low: 180,
        }
    }
}

impl Sla {
    /// The days for a severity, none for one this build does not know.
    pub fn days(&self, severity: Option<&str>) -> Option<u32> {
        match severity? {
            "Critical" => Some(self.critical),
            "High" => Some(self.high),
            "Medium" => Some(self.medium),
            "Low" => Some(self.low),
            _ => None,
        }
    }
}

impl FromStr for Sla {
    type Err = Error;

    /// `critical=15,high=30,medium=90,low=180`, any of them, the others left at their defaults.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut sla = Sla::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || {
                Error::Invalid(format!(
                    "{part:?} is not an SLA: give severity=days, for example critical=15,high=30,medium=90,low=180"
                ))
            };
            let (severity, value) = part.split_once('=').ok_or_else(bad)?;
            let value: u32 = value.trim().parse().map_err(|_| bad())?;
            if value == 0 {
                return Err(Error::Invalid(format!(
                    "{part:?}: an SLA is at least one day"
                )));
            }
            match severity.trim().to_ascii_lowercase().as_str() {
                "critical" => sla.critical = value,
                "high" => sla.high = value,
                "medium" => sla.medium = value,
                "low" => sla.low = value,
                _ => return Err(bad()),
            }
        }
        Ok(sla)
    }
}

impl fmt::Display for Sla {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "critical={},high={},medium={},low={}",
            self.critical, self.high, self.medium, self.low
        )
    }
}

/// What remediation is counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum By {
    /// Severity (the default), most severe first.
    #[default]
    Severity,
    /// The recommended update.
    Kb,
    /// The software (vendor and name).
    Software,
    /// The device group.
    Group,
    /// The tenant.
    Tenant,
}

/// Open exposures by age, in days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Ages {
    /// 0 to 7 days old.
    pub days_0_7: u64,
    /// 8 to 30.
    pub days_8_30: u64,
    /// 31 to 90.
    pub days_31_90: u64,
    /// Over 90.
    pub over_90: u64,
}

/// One group's remediation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The severity, update, software, group or tenant.
    pub key: String,
    /// The group's SLA in days (by severity only).
    pub sla_days: Option<u32>,
    /// Exposures fixed in the window.
    pub fixed: u64,
    /// Their median days to fix.
    pub median_days: Option<f64>,
    /// Their 90th percentile.
    pub p90_days: Option<f64>,
    /// Exposures open at the end of the window.
    pub open: u64,
    /// Of those, older than their severity's SLA.
    pub open_past_sla: u64,
    /// The oldest one's age in days.
    pub oldest_open_days: Option<f64>,
    /// The open ones by age.
    pub open_by_age: Ages,
}

/// Remediation in a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remediation {
    /// The window's start (none: the whole history).
    pub since: Option<DateTime<Utc>>,
    /// Its end: the last snapshot in it.
    pub until: Option<DateTime<Utc>>,
    /// The SLA counted against.
    #[serde(serialize_with = "as_text")]
    pub sla: Sla,
    /// The groups.
    pub groups: Vec<Group>,
}

fn as_text<S: serde::Serializer>(sla: &Sla, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(sla)
}

#[derive(Default)]
struct Tally {
    fixed_days: Vec<f64>,
    open: u64,
    past: u64,
    oldest: Option<f64>,
    ages: Ages,
}

impl Tally {
    /// Counts an open exposure `age` days old, past its SLA or not.
    fn add_open(&mut self, age: f64, past: bool) {
        self.open += 1;
        self.past += u64::from(past);
        self.oldest = Some(self.oldest.map_or(age, |o| o.max(age)));
        let ages = &mut self.ages;
        match age.floor() {
            w if w <= 7.0 => ages.days_0_7 += 1,
            w if w <= 30.0 => ages.days_8_30 += 1,
            w if w <= 90.0 => ages.days_31_90 += 1,
            _ => ages.over_90 += 1,
        }
    }

    /// Adds `other` (a group of the same name: devices of one group).
    fn merge(&mut self, other: Tally) {
        self.fixed_days.extend(other.fixed_days);
        self.open += other.open;
        self.past += other.past;
        self.oldest = match (self.oldest, other.oldest) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.ages.days_0_7 += other.ages.days_0_7;
        self.ages.days_8_30 += other.ages.days_8_30;
        self.ages.days_31_90 += other.ages.days_31_90;
        self.ages.over_90 += other.ages.over_90;
    }
}

impl Store {
    /// Remediation in the window (`since`, `until`]: what was fixed in it and how fast, and
    /// what is open at its end (each tenant's last snapshot at or before `until`). `tenant`
    /// narrows it to one tenant.
    pub fn remediation(
        &self,
        tenant: Option<&str>,
        since: Option<When>,
        until: Option<When>,
        sla: Sla,
        by: By,
    ) -> Result<Remediation, Error> {
        let tenant_id = load::tenant(&self.conn, tenant)?;
        let points = load::points(&self.conn, tenant_id)?;
        let mut ends: HashMap<i64, i64> = HashMap::new();
        let mut until_all: Option<DateTime<Utc>> = None;
        for point in &points {
            if until.is_none_or(|u| point.generated_time <= u.time()) {
                ends.insert(point.tenant, point.at);
                until_all =
                    Some(until_all.map_or(point.generated_time, |t| t.max(point.generated_time)));
            }
        }
        let since_at = since.map(|s| s.time().timestamp());
        let cves = load::severities(&self.conn)?;
        let names = self.group_names(by, tenant_id)?;
        // Exposures are tallied by a number (severity rank, software, device, tenant, update),
        // named and merged by name at the end.
        let mut kbs: HashMap<String, i64> = HashMap::new();
        let mut tallies: HashMap<(u8, i64), Tally> = HashMap::new();
        load::each_exposure(&self.conn, tenant_id, &points, |exposure| {
            let Some(&end) = ends.get(&exposure.tenant) else {
                return;
            };
            let severity = cves.get(&exposure.cve).and_then(|s| s.as_deref());
            let group = match by {
                By::Severity => (severity_rank(severity), 0),
                By::Software => (0, exposure.software),
                By::Group => (0, exposure.device),
                By::Tenant => (0, exposure.tenant),
                By::Kb => match &exposure.kb {
                    Some(kb) => {
                        let next = kbs.len() as i64;
                        (0, *kbs.entry(kb.clone()).or_insert(next))
                    }
                    None => (1, exposure.software),
                },
            };
            match exposure.at(end) {
                Standing::Fixed { fixed_at, closed } if since_at.is_none_or(|s| closed > s) => {
                    tallies
                        .entry(group)
                        .or_default()
                        .fixed_days
                        .push(days(fixed_at - exposure.first_seen));
                }
                Standing::Open { .. } => {
                    let age = days(end - exposure.first_seen);
                    let past = sla
                        .days(severity)
                        .is_some_and(|limit| age > f64::from(limit));
                    tallies.entry(group).or_default().add_open(age, past);
                }
                _ => {}
            }
        })?;
        let kb_names: HashMap<i64, String> = kbs.into_iter().map(|(kb, i)| (i, kb)).collect();
        let mut named: BTreeMap<(u8, String), Tally> = BTreeMap::new();
        if by == By::Severity {
            // Every known severity has its line, counted or not.
            for rank in 0..4 {
                named.insert((rank, severity_name(rank).to_string()), Tally::default());
            }
        }
        for ((rank, id), tally) in tallies {
            let name = match by {
                By::Severity => severity_name(rank).to_string(),
                By::Kb if rank == 0 => kb_label(kb_names.get(&id).map_or("", String::as_str)),
                _ => names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| "(none)".to_string()),
            };
            let rank = if by == By::Severity { rank } else { 0 };
            named.entry((rank, name)).or_default().merge(tally);
        }
        let tallies = named;
        let groups = tallies
            .into_iter()
            .map(|((_, key), mut tally)| {
                tally.fixed_days.sort_by(f64::total_cmp);
                Group {
                    sla_days: if by == By::Severity {
                        sla.days(Some(&key))
                    } else {
                        None
                    },
                    key,
                    fixed: tally.fixed_days.len() as u64,
                    median_days: quantile(&tally.fixed_days, 0.5).map(tenth),
                    p90_days: quantile(&tally.fixed_days, 0.9).map(tenth),
                    open: tally.open,
                    open_past_sla: tally.past,
                    oldest_open_days: tally.oldest.map(tenth),
                    open_by_age: tally.ages,
                }
            })
            .collect();
        Ok(Remediation {
            since: since.map(|s| s.time()),
            until: until_all,
            sla,
            groups,
        })
    }

    /// The name of each group's number: software, device (its group), tenant; by update, the
    /// software of the exposures without one (by severity, none).
    fn group_names(&self, by: By, tenant: Option<i64>) -> Result<HashMap<i64, String>, Error> {
        let sql = match by {
            By::Severity => return Ok(HashMap::new()),
            By::Software | By::Kb => {
                "SELECT id, vendor || ' ' || name FROM software WHERE ?1 IS NULL OR TRUE"
            }
            By::Group => {
                "SELECT id, coalesce(rbac_group, '(no group)') FROM devices WHERE ?1 IS NULL OR tenant = ?1"
            }
            By::Tenant => "SELECT id, name FROM tenants WHERE ?1 IS NULL OR id = ?1",
        };
        let mut stmt = self.conn.prepare(sql).doing("reading the groups")?;
        let rows = stmt
            .query_map(params![tenant], |row| Ok((row.get(0)?, row.get(1)?)))
            .doing("reading the groups")?;
        rows.collect::<Result<_, _>>().doing("reading a group")
    }
}

/// An update as people name it: `KB5040131` for a KB number, else as sent.
fn kb_label(kb: &str) -> String {
    if !kb.is_empty() && kb.chars().all(|c| c.is_ascii_digit()) {
        format!("KB{kb}")
    } else {
        kb.to_string()
    }
}

/// The severity of a rank.
fn severity_name(rank: u8) -> &'static str {
    match rank {
        0 => "Critical",
        1 => "High",
        2 => "Medium",
        3 => "Low",
        _ => "Unknown",
    }
}

/// Critical first, unknown last.
fn severity_rank(severity: Option<&str>) -> u8 {
    match severity {
        Some("Critical") => 0,
        Some("High") => 1,
        Some("Medium") => 2,
        Some("Low") => 3,
        _ => 4,
    }
}

/// The `q` quantile of sorted values, interpolating between the nearest ranks.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = q * last as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (sorted[low], sorted[high.min(last)]);
    Some(a + (b - a) * (rank - low as f64))
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_interpolate_between_the_nearest_ranks_as_numpy_does() {
        // numpy.percentile([1, 2, 3, 4, 10], [50, 90]) == [3.0, 7.6]
        let values = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&values, 0.5), Some(3.0));
        assert!((quantile(&values, 0.9).unwrap() - 7.6).abs() < 1e-9);
        // numpy.median([1, 2, 3, 4]) == 2.5
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
    }
}
