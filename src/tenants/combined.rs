//! The report across tenants: each tenant's report (or its failure), and per KB across tenants
//! in how many tenants it is missing and on how many devices.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::TenantOutcome;
use crate::error::Error;
use crate::report::Report;

/// Every tenant's report, and the KBs across them. Serializes with each tenant's error as its
/// message.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct CombinedReport {
    /// Each tenant, in the tenants' order.
    pub tenants: Vec<TenantReport>,
    /// Each KB missing in at least one tenant: most tenants first, then most devices, then KB
    /// id.
    pub kbs: Vec<CrossTenantKb>,
}

/// One tenant's part: its report, or why it has none.
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantReport {
    /// The tenant's name.
    pub tenant: String,
    /// Its report, or the error that stopped it (never showing a secret).
    pub report: Result<Report, Error>,
}

impl TenantReport {
    /// Its report, when it ran.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref().ok()
    }

    /// The error that stopped it, when it failed.
    pub fn error(&self) -> Option<&Error> {
        self.report.as_ref().err()
    }
}

/// `{"tenant": …, "report": … or null, "error": the error's message or null}`.
impl Serialize for TenantReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut part = serializer.serialize_struct("TenantReport", 3)?;
        part.serialize_field("tenant", &self.tenant)?;
        part.serialize_field("report", &self.report())?;
        part.serialize_field("error", &self.error().map(Error::to_string))?;
        part.end()
    }
}

/// A KB across tenants.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CrossTenantKb {
    /// The KB number without `KB`.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// The tenants missing it, in the tenants' order.
    pub tenants: Vec<String>,
    /// Devices missing it, summed over the tenants (each tenant's devices are its own).
    pub devices: i64,
    /// Whether every tenant's count is exact.
    pub devices_exact: bool,
    /// The CVEs it addresses: the largest count among the tenants.
    pub cves_addressed: i64,
    /// Whether an exploit is known in any tenant.
    pub public_exploit: bool,
}

impl CombinedReport {
    /// Combines the outcomes of the tenants' reports.
    pub(crate) fn from_outcomes(outcomes: Vec<TenantOutcome<Report>>) -> Self {
        let tenants: Vec<TenantReport> = outcomes
            .into_iter()
            .map(|outcome| TenantReport {
                tenant: outcome.tenant,
                report: outcome.result,
            })
            .collect();
        let mut by_kb: BTreeMap<&str, CrossTenantKb> = BTreeMap::new();
        for tenant in &tenants {
            for kb in tenant.report().iter().flat_map(|r| &r.kbs) {
                let entry = by_kb
                    .entry(kb.id.as_str())
                    .or_insert_with(|| CrossTenantKb {
                        id: kb.id.clone(),
                        name: kb.name.clone(),
                        tenants: Vec::new(),
                        devices: 0,
                        devices_exact: true,
                        cves_addressed: 0,
                        public_exploit: false,
                    });
                entry.name = entry.name.take().or_else(|| kb.name.clone());
                entry.tenants.push(tenant.tenant.clone());
                entry.devices += kb.devices;
                entry.devices_exact &= kb.devices_exact;
                entry.cves_addressed = entry.cves_addressed.max(kb.cves_addressed);
                entry.public_exploit |= kb.public_exploit;
            }
        }
        let mut kbs: Vec<CrossTenantKb> = by_kb.into_values().collect();
        kbs.sort_by(|a, b| {
            b.tenants
                .len()
                .cmp(&a.tenants.len())
                .then_with(|| b.devices.cmp(&a.devices))
                .then_with(|| a.id.cmp(&b.id))
        });
        Self { tenants, kbs }
    }

    /// The tenants that failed.
    pub fn failed(&self) -> impl Iterator<Item = &TenantReport> {
        self.tenants.iter().filter(|t| t.report.is_err())
    }

    /// Whether any tenant failed or gave a partial report.
    pub fn partial(&self) -> bool {
        self.tenants
            .iter()
            .any(|t| t.report.as_ref().map_or(true, |r| r.partial))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::report::{DeployPlan, KbRollup, Source};

    /// A KB as a tenant's report has it: only what combining reads is set.
    fn kb(id: &str, devices: i64, cves: i64) -> KbRollup {
        let mut kb = KbRollup::new(id.into(), Some(format!("Update (KB{id})")), None);
        kb.cves_addressed = cves;
        kb.devices = devices;
        kb.devices_exact = true;
        kb
    }

    fn report(partial: bool, kbs: Vec<KbRollup>) -> Report {
        Report {
            generated_at: chrono::DateTime::UNIX_EPOCH,
            partial,
            software_count: 1,
            rows: Vec::new(),
            kbs,
            failures: Vec::new(),
            source: Source::Calls,
            data_as_of: None,
            device_names: Default::default(),
            deploy: DeployPlan::default(),
        }
    }

    fn ran(tenant: &str, report: Report) -> TenantOutcome<Report> {
        TenantOutcome {
            tenant: tenant.into(),
            result: Ok(report),
        }
    }

    fn ids(combined: &CombinedReport) -> Vec<&str> {
        combined.kbs.iter().map(|kb| kb.id.as_str()).collect()
    }

    #[test]
    fn a_tenants_partial_report_makes_the_combined_report_partial() {
        let whole = CombinedReport::from_outcomes(vec![
            ran("north", report(false, vec![kb("5001", 1, 1)])),
            ran("south", report(false, vec![kb("5001", 1, 1)])),
        ]);
        assert!(!whole.partial(), "every tenant ran whole");
        assert_eq!(whole.failed().count(), 0);

        let combined = CombinedReport::from_outcomes(vec![
            ran("north", report(false, vec![kb("5001", 1, 1)])),
            ran("south", report(true, vec![kb("5001", 1, 1)])),
        ]);
        assert!(combined.partial(), "south's report misses some software");
        assert_eq!(combined.failed().count(), 0, "south did not fail");

        let failed = CombinedReport::from_outcomes(vec![
            ran("north", report(false, vec![kb("5001", 1, 1)])),
            TenantOutcome {
                tenant: "south".into(),
                result: Err(Error::invalid_input("south could not sign in")),
            },
        ]);
        assert!(failed.partial());
        let names: Vec<&str> = failed.failed().map(|t| t.tenant.as_str()).collect();
        assert_eq!(names, ["south"]);
    }

    #[test]
    fn across_tenants_a_kb_addresses_the_largest_cve_count_and_its_devices_are_summed() {
        let combined = CombinedReport::from_outcomes(vec![
            ran("north", report(false, vec![kb("5001", 4, 3)])),
            ran("south", report(false, vec![kb("5001", 2, 7)])),
            ran("east", report(false, vec![kb("5001", 1, 5)])),
        ]);
        let shared = &combined.kbs[0];
        assert_eq!(
            shared.cves_addressed, 7,
            "the largest of 3, 7, 5; not their sum"
        );
        assert_eq!(shared.devices, 4 + 2 + 1);
        assert_eq!(shared.tenants, ["north", "south", "east"]);
    }

    #[test]
    fn kbs_of_as_many_tenants_come_by_most_devices_then_by_kb_id() {
        // By hand: 5009 is in three tenants (first, whatever its devices); 5002 and 5007 are in
        // two each, 5007 on more devices (1 + 9 against 3 + 3); 5001, 5004 and 5006 are in one
        // each, 5006 on 8 devices, 5001 and 5004 tied on 2 (then by id).
        let combined = CombinedReport::from_outcomes(vec![
            ran(
                "north",
                report(
                    false,
                    vec![
                        kb("5009", 1, 1),
                        kb("5002", 3, 1),
                        kb("5007", 1, 1),
                        kb("5004", 2, 1),
                    ],
                ),
            ),
            ran(
                "south",
                report(
                    false,
                    vec![
                        kb("5009", 1, 1),
                        kb("5002", 3, 1),
                        kb("5007", 9, 1),
                        kb("5006", 8, 1),
                    ],
                ),
            ),
            ran(
                "east",
                report(false, vec![kb("5009", 1, 1), kb("5001", 2, 1)]),
            ),
        ]);
        assert_eq!(
            ids(&combined),
            ["5009", "5007", "5002", "5006", "5001", "5004"]
        );
        let devices: Vec<i64> = combined.kbs.iter().map(|kb| kb.devices).collect();
        assert_eq!(devices, [3, 10, 6, 8, 2, 2]);
    }
}
