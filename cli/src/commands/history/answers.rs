//! The answers as datasets: the columns each `history` command shows, and the library's JSON.

use defender_tvm_history::{By, ChangesOf, Remediation, Sla, Store, When};
use serde::Serialize;
use serde_json::{Value, json};

use super::store_error;
use crate::args::{ChangesBy, RemediationBy};
use crate::datasets::Dataset;
use crate::error::CliError;

fn dataset<T: Serialize>(
    title: &str,
    columns: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    document: Value,
    records: &[T],
    footer: Option<String>,
) -> Dataset {
    Dataset {
        title: title.to_string(),
        columns,
        rows,
        document,
        records: records.iter().map(|r| json!(r)).collect(),
        report: None,
        combined: None,
        footer,
        table_columns: None,
    }
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    crate::formats::words::rfc3339(&t)
}

fn opt(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.1}")).unwrap_or_default()
}

/// `history snapshots`.
pub fn snapshots(store: &Store, tenant: Option<&str>) -> Result<Dataset, CliError> {
    let snapshots = store.snapshots(tenant).map_err(store_error)?;
    let rows = snapshots
        .iter()
        .map(|s| {
            vec![
                s.tenant.clone(),
                time(s.generated_time),
                s.source.clone(),
                s.rows.to_string(),
                s.devices.to_string(),
                s.open_exposures.to_string(),
            ]
        })
        .collect();
    let footer = Some(format!("{} snapshots", snapshots.len()));
    Ok(dataset(
        "History: snapshots",
        vec![
            "tenant",
            "generated_time",
            "source",
            "rows",
            "devices",
            "open_exposures",
        ],
        rows,
        json!({ "snapshots": snapshots }),
        &snapshots,
        footer,
    ))
}

/// `history changes`.
pub fn changes(
    store: &Store,
    tenant: Option<&str>,
    since: Option<When>,
    until: Option<When>,
    by: ChangesBy,
) -> Result<Dataset, CliError> {
    let changes = store.changes(tenant, since, until).map_err(store_error)?;
    let window = format!(
        "from {} to {}",
        changes.from.map(time).unwrap_or_else(|| "the start".into()),
        changes.to.map(time).unwrap_or_else(|| "the start".into())
    );
    let footer = Some(format!(
        "{window}: {} new, {} fixed, {} reopened exposures; {} devices retired",
        changes.new.len(),
        changes.fixed.len(),
        changes.reopened.len(),
        changes.retired_devices.len()
    ));
    let document = json!(changes);
    let tally = |rows: Vec<ChangesOf>| -> Vec<Vec<String>> {
        rows.into_iter()
            .map(|r| {
                vec![
                    r.key,
                    r.fixed_devices.to_string(),
                    r.new_devices.to_string(),
                    r.reopened_devices.to_string(),
                ]
            })
            .collect()
    };
    Ok(match by {
        ChangesBy::Kb => {
            let of = changes.by_kb();
            dataset(
                "History: changes by update",
                vec!["kb", "fixed_on", "new_on", "reopened_on"],
                tally(of.clone()),
                document,
                &of,
                footer,
            )
        }
        ChangesBy::Device => {
            let of = changes.by_device();
            dataset(
                "History: changes by device",
                vec!["device", "fixed", "new", "reopened"],
                tally(of.clone()),
                document,
                &of,
                footer,
            )
        }
        ChangesBy::Exposure => {
            let mut rows = Vec::new();
            let mut records = Vec::new();
            for (change, list) in [
                ("new", &changes.new),
                ("fixed", &changes.fixed),
                ("reopened", &changes.reopened),
            ] {
                for e in list {
                    rows.push(vec![
                        change.to_string(),
                        e.tenant.clone().unwrap_or_default(),
                        e.device_name.clone().unwrap_or_else(|| e.device_id.clone()),
                        format!("{} {}", e.software_vendor, e.software_name),
                        e.software_version.clone().unwrap_or_default(),
                        e.cve_id.clone(),
                        e.severity.clone().unwrap_or_default(),
                        e.kb.clone().unwrap_or_default(),
                        time(e.first_seen),
                        e.fixed_at.map(time).unwrap_or_default(),
                    ]);
                    let mut record = json!(e);
                    record["change"] = json!(change);
                    records.push(record);
                }
            }
            dataset(
                "History: changes by exposure",
                vec![
                    "change",
                    "tenant",
                    "device",
                    "software",
                    "version",
                    "cve",
                    "severity",
                    "kb",
                    "first_seen",
                    "fixed_at",
                ],
                rows,
                document,
                &records,
                footer,
            )
        }
    })
}

/// `history remediation`.
pub fn remediation(
    store: &Store,
    tenant: Option<&str>,
    since: Option<When>,
    until: Option<When>,
    sla: Sla,
    by: RemediationBy,
) -> Result<Dataset, CliError> {
    let by = match by {
        RemediationBy::Severity => By::Severity,
        RemediationBy::Kb => By::Kb,
        RemediationBy::Software => By::Software,
        RemediationBy::Group => By::Group,
        RemediationBy::Tenant => By::Tenant,
    };
    let remediation = store
        .remediation(tenant, since, until, sla, by)
        .map_err(store_error)?;
    Ok(remediation_dataset(&remediation))
}

/// A remediation answer as a dataset.
pub fn remediation_dataset(remediation: &Remediation) -> Dataset {
    let rows = remediation
        .groups
        .iter()
        .map(|g| {
            vec![
                g.key.clone(),
                g.sla_days.map(|d| d.to_string()).unwrap_or_default(),
                g.fixed.to_string(),
                opt(g.median_days),
                opt(g.p90_days),
                g.open.to_string(),
                g.open_past_sla.to_string(),
                opt(g.oldest_open_days),
                g.open_by_age.days_0_7.to_string(),
                g.open_by_age.days_8_30.to_string(),
                g.open_by_age.days_31_90.to_string(),
                g.open_by_age.over_90.to_string(),
            ]
        })
        .collect();
    let footer = Some(format!(
        "SLA {}; days to fix from the service's first-seen time; open as of {}",
        remediation.sla,
        remediation
            .until
            .map(time)
            .unwrap_or_else(|| "no snapshot".into())
    ));
    dataset(
        "History: remediation",
        vec![
            "key",
            "sla_days",
            "fixed",
            "median_days",
            "p90_days",
            "open",
            "open_past_sla",
            "oldest_open_days",
            "open_0_7d",
            "open_8_30d",
            "open_31_90d",
            "open_over_90d",
        ],
        rows,
        json!(remediation),
        &remediation.groups,
        footer,
    )
}

/// `history trend`.
pub fn trend(store: &Store, tenant: Option<&str>) -> Result<Dataset, CliError> {
    let trend = store.trend(tenant).map_err(store_error)?;
    let rows = trend
        .snapshots
        .iter()
        .map(|p| {
            vec![
                time(p.generated_time),
                p.open_exposures.to_string(),
                p.devices_exposed.to_string(),
                p.kbs_missing.to_string(),
                p.critical_open.to_string(),
                p.exploited_open.to_string(),
                p.new.to_string(),
                p.fixed.to_string(),
            ]
        })
        .collect();
    Ok(dataset(
        "History: trend",
        vec![
            "generated_time",
            "open_exposures",
            "devices_exposed",
            "kbs_missing",
            "critical_open",
            "exploited_open",
            "new",
            "fixed",
        ],
        rows,
        json!(trend),
        &trend.snapshots,
        None,
    ))
}
