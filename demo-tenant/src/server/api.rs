//! The API: which operation a path addresses, each operation's items computed from the estate,
//! OData collections (filters, `$top`/`$skip`, next links), and the service's JSON shapes,
//! errors included (`{"error": {"code", "message", "target"}}`).

use hyper::StatusCode;
use serde_json::{Value, json};

use super::{Answer, State};
use crate::estate::{Cve, MissingKb, SoftwareSummary};
use crate::odata::{self, Query};

/// The `operationId` a path addresses (fixed segments compare without case, as the service's).
pub(crate) fn operation_of(segments: &[&str]) -> Option<&'static str> {
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    Some(match lower.as_slice() {
        ["api", "software"] => "list_software",
        ["api", "software", _] => "get_software_by_id",
        ["api", "software", _, "getmissingkbs"] => "get_missing_kbs_by_software_id",
        ["api", "software", _, "distributions"] => "list_software_version_distribution",
        ["api", "software", _, "vulnerabilities"] => "list_vulnerabilities_by_software",
        ["api", "software", _, "machinereferences"] => "list_machines_by_software",
        ["api", "machines", _, "getmissingkbs"] => "get_missing_kbs_by_machine_id",
        ["api", "vulnerabilities", "machinesvulnerabilities"] => "list_machines_vulnerabilities",
        ["api", "machines", "softwarevulnerabilitiesbymachine"] => {
            "list_software_vulnerabilities_by_machine"
        }
        ["api", "machines", "softwarevulnerabilitychangesbymachine"] => {
            "list_software_vulnerability_changes_by_machine"
        }
        ["api", "machines", "softwareinventorybymachine"] => "list_software_inventory_by_machine",
        ["api", "machines", "softwarevulnerabilitiesexport"] => "export_software_vulnerabilities",
        ["api", "machines", "softwareinventoryexport"] => "export_software_inventory",
        _ => return None,
    })
}

/// The budget class of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Every operation but the exports.
    General,
    /// The JSON exports (`…ByMachine`).
    JsonExport,
    /// The exports via files (`…Export`).
    FileExport,
}

/// The budget class of `operation`.
pub(crate) fn class_of(operation: &str) -> Class {
    match operation {
        "list_software_vulnerabilities_by_machine"
        | "list_software_vulnerability_changes_by_machine"
        | "list_software_inventory_by_machine" => Class::JsonExport,
        "export_software_vulnerabilities" | "export_software_inventory" => Class::FileExport,
        _ => Class::General,
    }
}

/// Builds the answer of an authorized, admitted call.
pub(crate) fn route(
    state: &State,
    operation: &str,
    segments: &[&str],
    path: &str,
    raw: Option<&str>,
) -> Answer {
    let estate = &state.estate;
    let fields: &[&str] = match operation {
        "list_software" => &["id", "name", "vendor"],
        "list_machines_vulnerabilities" => &[
            "id",
            "cveId",
            "machineId",
            "fixingKbId",
            "productName",
            "productVersion",
            "severity",
            "productVendor",
        ],
        _ => &[],
    };
    let query = match odata::parse_query(raw, fields) {
        Ok(query) => query,
        Err(message) => return state.error(StatusCode::BAD_REQUEST, "BadRequest", &message),
    };
    let id = segments.get(2).copied().unwrap_or_default();
    let software = || {
        estate
            .software_index(id)
            .filter(|_| !state.faults.vanished(id))
    };
    let not_found = |what: &str| {
        state.error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("{what} {id} was not found."),
        )
    };
    let computed: Vec<Value>;
    let items: &[Value] = match operation {
        // The two whole-tenant listings are built once (the estate never changes) and paged
        // from there; the per-id answers are small and built per request.
        "list_software" => state
            .software_listing
            .get_or_init(|| estate.summaries().iter().map(software_json).collect()),
        "get_software_by_id" => {
            return match software() {
                Some(s) => {
                    let mut body = software_json(&estate.summary(s));
                    body["@odata.context"] =
                        json!(format!("{}/api/$metadata#Software/$entity", state.base_url));
                    super::json(&body)
                }
                None => not_found("Software"),
            };
        }
        "get_missing_kbs_by_software_id" => match software() {
            Some(s) => {
                computed = estate.missing_kbs(s).iter().map(missing_kb_json).collect();
                &computed
            }
            None => return not_found("Software"),
        },
        "list_software_version_distribution" => match software() {
            Some(s) => {
                computed = estate
                .distributions(s)
                .into_iter()
                .map(|(version, installations, vulnerabilities)| {
                    json!({"version": version, "installations": installations, "vulnerabilities": vulnerabilities})
                })
                .collect();
                &computed
            }
            None => return not_found("Software"),
        },
        "list_vulnerabilities_by_software" => match software() {
            Some(s) => {
                computed = estate
                    .vulnerabilities(s)
                    .into_iter()
                    .map(|(cve, exposed)| cve_json(cve, exposed))
                    .collect();
                &computed
            }
            None => return not_found("Software"),
        },
        "list_machines_by_software" => match software() {
            Some(s) => {
                computed = estate
                    .machines_with(s)
                    .into_iter()
                    .map(|d| {
                        json!({
                            "id": d.id,
                            "computerDnsName": d.computer_dns_name,
                            "osPlatform": d.os_platform,
                            "rbacGroupName": d.rbac_group_name,
                            "rbacGroupId": d.rbac_group_id,
                        })
                    })
                    .collect();
                &computed
            }
            None => return not_found("Software"),
        },
        "get_missing_kbs_by_machine_id" => match estate.device_index(id) {
            Some(d) => {
                computed = estate
                    .device_missing_kbs(d)
                    .iter()
                    .map(missing_kb_json)
                    .collect();
                &computed
            }
            None => return not_found("Machine"),
        },
        "list_machines_vulnerabilities" => state.rows_listing.get_or_init(|| {
            estate
                .machine_vulnerabilities()
                .into_iter()
                .map(|row| {
                    json!({
                        "id": row.id,
                        "cveId": row.cve_id,
                        "machineId": row.machine_id,
                        "fixingKbId": row.fixing_kb_id,
                        "productName": row.product_name,
                        "productVendor": row.product_vendor,
                        "productVersion": row.product_version,
                        "severity": row.severity,
                    })
                })
                .collect()
        }),
        _ => return state.error(StatusCode::NOT_FOUND, "NotFound", "No such operation."),
    };
    collection(state, items, &query, path, raw)
}

/// One page of a collection, filtered, with a next link when more follow (not with `$top`).
fn collection(
    state: &State,
    items: &[Value],
    query: &Query,
    path: &str,
    raw: Option<&str>,
) -> Answer {
    let items: Vec<&Value> = match &query.filter {
        Some(filter) => items
            .iter()
            .filter(|item| {
                filter.matches(&|field| match item.get(field) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Null) | None => None,
                    Some(other) => Some(other.to_string()),
                })
            })
            .collect(),
        None => items.iter().collect(),
    };
    let total = items.len();
    let start = (query.skip + query.skiptoken.unwrap_or(0)).min(total);
    let (end, next) = match query.top {
        Some(top) => ((start + top).min(total), None),
        None => {
            let end = (start + state.page_size).min(total);
            let next = (end < total).then(|| {
                let kept: Vec<&str> = raw
                    .unwrap_or("")
                    .split('&')
                    .filter(|p| {
                        !p.is_empty()
                            && !p.starts_with("$skiptoken=")
                            && !p.starts_with("%24skiptoken=")
                    })
                    .collect();
                let skiptoken = end - query.skip;
                let mut link = format!("{}{path}?", state.base_url);
                for pair in kept {
                    link.push_str(pair);
                    link.push('&');
                }
                link.push_str(&format!("$skiptoken={skiptoken}"));
                link
            });
            (end, next)
        }
    };
    let mut body = json!({
        "@odata.context": format!("{}/api/$metadata#Collection", state.base_url),
        "@odata.count": total,
        "value": items[start..end],
    });
    if let Some(next) = next {
        body["@odata.nextLink"] = json!(next);
    }
    super::json(&body)
}

fn software_json(s: &SoftwareSummary) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "vendor": s.vendor,
        "weaknesses": s.weaknesses,
        "publicExploit": s.public_exploit,
        "activeAlert": s.active_alert,
        "exposedMachines": s.exposed_machines,
        "installedMachines": s.installed_machines,
        "impactScore": s.impact_score,
    })
}

fn missing_kb_json(kb: &MissingKb) -> Value {
    let mut body = json!({
        "id": kb.id,
        "name": kb.name,
        "productsNames": kb.products_names,
        "url": kb.url,
        "machineMissedOn": kb.machine_missed_on,
        "cveAddressed": kb.cve_addressed,
    });
    if let Some(build) = kb.os_build {
        body["osBuild"] = json!(build);
    }
    body
}

fn cve_json(cve: &Cve, exposed: i64) -> Value {
    json!({
        "id": cve.id,
        "name": cve.id,
        "description": format!("Summary: {} vulnerability ({}).", cve.severity, cve.id),
        "severity": cve.severity,
        "cvssV3": cve.cvss,
        "exposedMachines": exposed,
        "publishedOn": cve.published_on,
        "updatedOn": cve.published_on,
        "publicExploit": cve.public_exploit,
        "exploitVerified": cve.exploit_verified,
        "exploitInKit": cve.exploit_in_kit,
        "exploitTypes": if cve.public_exploit { vec!["Remote"] } else { vec![] },
        "exploitUris": [],
        "cveSupportability": "Supported",
        "epss": cve.epss,
        "status": "RemediationRequired",
        "tags": [],
    })
}

impl State {
    /// An error answer in the service's shape, with a fresh tracking id as its `target`.
    pub(crate) fn error(&self, status: StatusCode, code: &str, message: &str) -> Answer {
        let body =
            json!({"error": {"code": code, "message": message, "target": self.tracking_id()}});
        let mut answer = super::json(&body);
        *answer.status_mut() = status;
        answer
    }
}
