//! The library's results as [`Dataset`]s, defined here where they are built: the columns each
//! command shows (stable, documented in the README) and the JSON the library serializes.

use crate::formats::words;
use defender_tvm::types::{MachineReference, Software, SoftwareVersionDistribution, Vulnerability};
use defender_tvm::{report::Report, tenants::CombinedReport, types::PublicProductFixDto};
use serde::Serialize;
use serde_json::{Value, json};

/// What a command produced, in every shape a format needs.
pub struct Dataset {
    /// For titles (HTML).
    pub title: String,
    /// Column names of the table, CSV and HTML forms.
    pub columns: Vec<&'static str>,
    /// Rows of strings, one per item.
    pub rows: Vec<Vec<String>>,
    /// The JSON document (the library's own serialization).
    pub document: Value,
    /// One JSON record per line (NDJSON).
    pub records: Vec<Value>,
    /// The report, for the HTML summary and chart.
    pub report: Option<Report>,
    /// The report across tenants, for the HTML per-tenant summary and tenants × KBs table.
    pub combined: Option<CombinedReport>,
    /// A closing line under a table (counts), if any.
    pub footer: Option<String>,
    /// The columns a table shows, by name, when not all (the others are in CSV and JSON).
    pub table_columns: Option<Vec<&'static str>>,
}

impl Dataset {
    /// The indexes of the columns a table (or Markdown) shows, in the order named.
    pub fn shown(&self) -> Vec<usize> {
        match &self.table_columns {
            Some(names) => names
                .iter()
                .filter_map(|name| self.columns.iter().position(|c| c == name))
                .collect(),
            None => (0..self.columns.len()).collect(),
        }
    }
}

fn opt<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn records<T: Serialize>(items: &[T]) -> Vec<Value> {
    items.iter().map(|item| json!(item)).collect()
}

/// The estate report: the KB rollup in priority order.
pub fn report(report: Report) -> Dataset {
    let rows = report
        .kbs
        .iter()
        .map(|kb| {
            vec![
                kb.rank.to_string(),
                format!("KB{}", kb.id),
                kb.name.clone().unwrap_or_default(),
                kb.devices.to_string(),
                kb.devices_exact.to_string(),
                kb.cves_addressed.to_string(),
                kb.public_exploit.to_string(),
                kb.products.join(";"),
                kb.software_ids.join(";"),
                kb.url.clone().unwrap_or_default(),
                kb.cve_ids.join(";"),
                kb.severity
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                opt(&kb.cvss),
                opt(&kb.exploitability),
                kb.first_seen
                    .as_ref()
                    .map(words::rfc3339)
                    .unwrap_or_default(),
                kb.covered_by
                    .as_ref()
                    .map(|id| format!("KB{id}"))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let mut records: Vec<Value> = Vec::new();
    for kb in &report.kbs {
        let mut record = json!(kb);
        record["record"] = json!("kb");
        records.push(record);
    }
    for row in &report.rows {
        let mut record = json!(row);
        record["record"] = json!("row");
        records.push(record);
    }
    for step in &report.deploy.steps {
        let mut record = json!(step);
        record["record"] = json!("step");
        records.push(record);
    }
    for failure in &report.failures {
        let mut record = json!(failure);
        record["record"] = json!("failure");
        records.push(record);
    }
    let footer = format!(
        "{} missing KBs across {} software; {} to deploy{}{}{}",
        report.kbs.len(),
        report.software_count,
        report.deploy.steps.len(),
        if report.deploy.steps.len() < report.kbs.len() {
            " (newest Windows cumulative updates only)"
        } else {
            ""
        },
        match &report.data_as_of {
            Some(when) => format!(" (export snapshot of {when})"),
            None => String::new(),
        },
        if report.partial {
            format!(
                "; PARTIAL: {} failed ({})",
                report.failures.len(),
                report
                    .failures
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        }
    );
    Dataset {
        title: "Missing security updates (KBs) across the tenant".into(),
        columns: vec![
            "rank",
            "kb",
            "name",
            "devices",
            "devices_exact",
            "cves_addressed",
            "public_exploit",
            "products",
            "software_ids",
            "url",
            "cve_ids",
            "severity",
            "cvss",
            "exploitability",
            "first_seen",
            "covered_by",
        ],
        rows,
        document: json!(report),
        records,
        report: Some(report),
        combined: None,
        footer: Some(footer),
        table_columns: Some(vec![
            "rank",
            "kb",
            "name",
            "devices",
            "cves_addressed",
            "public_exploit",
            "products",
            "covered_by",
        ]),
    }
}

/// The report by device: the KBs of the deploy plan each device needs, those needing most
/// first.
pub fn devices(report: Report) -> Dataset {
    let devices = &report.deploy.devices;
    let rows = devices
        .iter()
        .map(|d| {
            vec![
                d.device_id.clone(),
                d.device_name.clone().unwrap_or_default(),
                d.kbs.len().to_string(),
                d.kbs
                    .iter()
                    .map(|id| format!("KB{id}"))
                    .collect::<Vec<_>>()
                    .join(";"),
                d.missing.to_string(),
            ]
        })
        .collect();
    let records = devices
        .iter()
        .map(|d| {
            let mut record = json!(d);
            record["record"] = json!("device");
            record
        })
        .collect();
    let document = json!({
        "generated_at": report.generated_at,
        "source": report.source,
        "data_as_of": report.data_as_of,
        "partial": report.partial,
        "collapsed": report.deploy.collapsed,
        "devices": devices,
        "failures": report.failures,
    });
    let footer = format!(
        "{} devices miss at least one KB; {} KBs to deploy",
        devices.len(),
        report.deploy.steps.len()
    );
    Dataset {
        title: "Devices and the security updates (KBs) to deploy to them".into(),
        columns: vec![
            "device_id",
            "device_name",
            "kbs_to_deploy",
            "kbs",
            "missing_kbs",
        ],
        rows,
        document,
        records,
        report: None,
        combined: None,
        footer: Some(footer),
        table_columns: None,
    }
}

/// The report across tenants: one row per tenant and KB, `tenant` first.
pub fn tenants(combined: CombinedReport) -> Dataset {
    let mut rows = Vec::new();
    let mut records: Vec<Value> = Vec::new();
    for part in &combined.tenants {
        let mut record = json!({
            "record": "tenant",
            "tenant": part.tenant,
            "error": part.error().map(ToString::to_string),
        });
        if let Some(report) = part.report() {
            record["kbs"] = json!(report.kbs.len());
            record["to_deploy"] = json!(report.deploy.steps.len());
            record["software_count"] = json!(report.software_count);
            record["partial"] = json!(report.partial);
            record["data_as_of"] = json!(report.data_as_of);
        }
        records.push(record);
        for kb in part.report.iter().flat_map(|r| &r.kbs) {
            rows.push(vec![
                part.tenant.clone(),
                kb.rank.to_string(),
                format!("KB{}", kb.id),
                kb.name.clone().unwrap_or_default(),
                kb.devices.to_string(),
                kb.devices_exact.to_string(),
                kb.cves_addressed.to_string(),
                kb.public_exploit.to_string(),
                kb.products.join(";"),
                kb.covered_by
                    .as_ref()
                    .map(|id| format!("KB{id}"))
                    .unwrap_or_default(),
            ]);
            let mut record = json!(kb);
            record["record"] = json!("kb");
            record["tenant"] = json!(part.tenant);
            records.push(record);
        }
        for failure in part.report.iter().flat_map(|r| &r.failures) {
            let mut record = json!(failure);
            record["record"] = json!("failure");
            record["tenant"] = json!(part.tenant);
            records.push(record);
        }
    }
    let failed: Vec<&str> = combined.failed().map(|t| t.tenant.as_str()).collect();
    let footer = format!(
        "{} tenants, {} KBs missing across them{}",
        combined.tenants.len(),
        combined.kbs.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!("; FAILED: {}", failed.join(", "))
        }
    );
    Dataset {
        title: "Missing security updates (KBs) across the tenants".into(),
        columns: vec![
            "tenant",
            "rank",
            "kb",
            "name",
            "devices",
            "devices_exact",
            "cves_addressed",
            "public_exploit",
            "products",
            "covered_by",
        ],
        rows,
        document: json!(combined),
        records,
        report: None,
        combined: Some(combined),
        footer: Some(footer),
        table_columns: Some(vec![
            "tenant",
            "rank",
            "kb",
            "name",
            "devices",
            "cves_addressed",
            "public_exploit",
        ]),
    }
}

/// `tenants check`: a row per tenant.
pub fn tenant_checks(rows: Vec<Vec<String>>, failed: usize) -> Dataset {
    let document = Value::Array(
        rows.iter()
            .map(|r| {
                json!({
                    "tenant": r[0], "api": r[1], "sign_in": r[2], "call": r[3],
                    "missing_permission": if r[4].is_empty() { Value::Null } else { json!(r[4]) },
                })
            })
            .collect(),
    );
    let records = document.as_array().cloned().unwrap_or_default();
    Dataset {
        title: "Tenants checked".into(),
        columns: vec!["tenant", "api", "sign_in", "call", "missing_permission"],
        footer: Some(format!("{} tenants checked, {failed} failed", rows.len())),
        rows,
        document,
        records,
        report: None,
        combined: None,
        table_columns: None,
    }
}

/// Missing KBs of a software or a device.
pub fn missing_kbs(title: String, kbs: Vec<PublicProductFixDto>) -> Dataset {
    Dataset {
        title,
        columns: vec!["kb", "name", "devices", "cves_addressed", "products", "url"],
        rows: kbs
            .iter()
            .map(|kb| {
                vec![
                    format!("KB{}", kb.id),
                    opt(&kb.name),
                    kb.machine_missed_on.to_string(),
                    kb.cve_addressed.to_string(),
                    kb.products_names.join(";"),
                    opt(&kb.url),
                ]
            })
            .collect(),
        records: records(&kbs),
        footer: Some(format!("{} missing KBs", kbs.len())),
        document: json!(kbs),
        report: None,
        combined: None,
        table_columns: Some(vec!["kb", "name", "devices", "cves_addressed", "products"]),
    }
}

/// Software, listed or one.
pub fn software(title: String, items: Vec<Software>) -> Dataset {
    Dataset {
        title,
        columns: vec![
            "id",
            "name",
            "vendor",
            "weaknesses",
            "exposed_machines",
            "public_exploit",
            "active_alert",
            "impact_score",
        ],
        rows: items
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    opt(&s.name),
                    opt(&s.vendor),
                    opt(&s.weaknesses),
                    opt(&s.exposed_machines),
                    opt(&s.public_exploit),
                    opt(&s.active_alert),
                    opt(&s.impact_score),
                ]
            })
            .collect(),
        records: records(&items),
        footer: Some(format!("{} software", items.len())),
        document: json!(items),
        report: None,
        combined: None,
        table_columns: None,
    }
}

/// The vulnerabilities of a software.
pub fn vulnerabilities(title: String, items: Vec<Vulnerability>) -> Dataset {
    Dataset {
        title,
        columns: vec![
            "id",
            "severity",
            "cvss_v3",
            "epss",
            "exposed_machines",
            "public_exploit",
            "published_on",
        ],
        rows: items
            .iter()
            .map(|v| {
                vec![
                    v.id.clone(),
                    opt(&v.severity),
                    opt(&v.cvss_v3),
                    opt(&v.epss),
                    opt(&v.exposed_machines),
                    opt(&v.public_exploit),
                    // As the JSON output writes it (RFC 3339, `Z` for UTC).
                    v.published_on
                        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                        .unwrap_or_default(),
                ]
            })
            .collect(),
        records: records(&items),
        footer: Some(format!("{} vulnerabilities", items.len())),
        document: json!(items),
        report: None,
        combined: None,
        table_columns: None,
    }
}

/// The devices with a software.
pub fn machines(title: String, items: Vec<MachineReference>) -> Dataset {
    Dataset {
        title,
        columns: vec!["id", "computer_dns_name", "os_platform", "rbac_group_name"],
        rows: items
            .iter()
            .map(|m| {
                vec![
                    m.id.clone(),
                    opt(&m.computer_dns_name),
                    opt(&m.os_platform),
                    opt(&m.rbac_group_name),
                ]
            })
            .collect(),
        records: records(&items),
        footer: Some(format!("{} devices", items.len())),
        document: json!(items),
        report: None,
        combined: None,
        table_columns: None,
    }
}

/// The versions of a software.
pub fn distributions(title: String, items: Vec<SoftwareVersionDistribution>) -> Dataset {
    Dataset {
        title,
        columns: vec!["version", "installations", "vulnerabilities"],
        rows: items
            .iter()
            .map(|d| {
                vec![
                    d.version.clone(),
                    opt(&d.installations),
                    opt(&d.vulnerabilities),
                ]
            })
            .collect(),
        records: records(&items),
        footer: Some(format!("{} versions", items.len())),
        document: json!(items),
        report: None,
        combined: None,
        table_columns: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_report() -> Report {
        serde_json::from_value(json!({
            "generated_at": "2026-11-30T00:00:00Z", "partial": false, "software_count": 0,
            "rows": [], "kbs": [], "failures": [],
        }))
        .unwrap()
    }

    #[test]
    fn a_table_shows_the_columns_it_names_in_that_order() {
        let data = report(empty_report());
        let shown: Vec<&str> = data.shown().iter().map(|&i| data.columns[i]).collect();
        assert_eq!(
            shown,
            [
                "rank",
                "kb",
                "name",
                "devices",
                "cves_addressed",
                "public_exploit",
                "products",
                "covered_by"
            ]
        );
        let data = missing_kbs(String::new(), Vec::new());
        let shown: Vec<&str> = data.shown().iter().map(|&i| data.columns[i]).collect();
        assert_eq!(
            shown,
            ["kb", "name", "devices", "cves_addressed", "products"]
        );
        // Without a choice, every column.
        let data = devices(empty_report());
        assert_eq!(data.shown(), (0..data.columns.len()).collect::<Vec<_>>());
    }
}
