//! The report across tenants: each tenant's report (or its failure), and per KB across tenants
//! in how many tenants it is missing and on how many devices.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::TenantOutcome;
use crate::report::Report;

/// Every tenant's report, and the KBs across them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CombinedReport {
    /// Each tenant, in the tenants' order.
    pub tenants: Vec<TenantReport>,
    /// Each KB missing in at least one tenant: most tenants first, then most devices, then KB
    /// id.
    pub kbs: Vec<CrossTenantKb>,
}

/// One tenant's part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TenantReport {
    /// The tenant's name.
    pub tenant: String,
    /// Its report, when it ran.
    pub report: Option<Report>,
    /// Why it did not (the error's message: never a secret), when it failed.
    pub error: Option<String>,
}

/// A KB across tenants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
            .map(|outcome| match outcome.result {
                Ok(report) => TenantReport {
                    tenant: outcome.tenant,
                    report: Some(report),
                    error: None,
                },
                Err(e) => TenantReport {
                    tenant: outcome.tenant,
                    report: None,
                    error: Some(e.to_string()),
                },
            })
            .collect();
        let mut by_kb: BTreeMap<&str, CrossTenantKb> = BTreeMap::new();
        for tenant in &tenants {
            for kb in tenant.report.iter().flat_map(|r| &r.kbs) {
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
        self.tenants.iter().filter(|t| t.error.is_some())
    }

    /// Whether any tenant failed or gave a partial report.
    pub fn partial(&self) -> bool {
        self.tenants
            .iter()
            .any(|t| t.error.is_some() || t.report.as_ref().is_some_and(|r| r.partial))
    }
}
