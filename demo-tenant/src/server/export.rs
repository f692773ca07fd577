//! The export assessment operations on the API origin:
//! - the JSON exports (`SoftwareVulnerabilitiesByMachine`, `SoftwareVulnerabilityChangesByMachine`,
//!   `SoftwareInventoryByMachine`): pages of rows with camelCase keys, `pageSize` (default
//!   50,000; 1 to 200,000), `$top` (one page, no next link; at most 200,000) and next links
//!   carrying `$skiptoken` (the index of the page's first row). Pages are written as they are
//!   sent, from the estate's rows, never whole in memory;
//! - the exports via files (`SoftwareVulnerabilitiesExport`, `SoftwareInventoryExport`): fresh SAS
//!   links to the files on the file origin, valid `sasValidHours` (default 1; 1 to 6), and the
//!   snapshot's `generatedTime`.
//!
//! Any other query option is a 400, as are values out of bounds.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::json;

use super::links::Kind;
use super::stream::{Chunks, streamed};
use super::{Answer, State};
use crate::estate::{Case, Cased, Entries};
use crate::time::{TICKS_PER_SECOND, now_ticks, parse_iso8601};

/// Rows on a JSON export page when `pageSize` is not given.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 50_000;
/// The most rows a JSON export page may hold (`pageSize`, `$top`).
pub(crate) const MAX_PAGE_SIZE: usize = 200_000;
/// The most hours an export link may be valid for (`sasValidHours`).
const MAX_SAS_VALID_HOURS: u32 = 6;

/// Answers an authorized, admitted export call.
pub(crate) fn route(state: &Arc<State>, operation: &str, path: &str, raw: Option<&str>) -> Answer {
    let outcome = match operation {
        "list_software_vulnerabilities_by_machine" => {
            listing(state, Kind::Vulnerabilities, path, raw)
        }
        "list_software_inventory_by_machine" => listing(state, Kind::Inventory, path, raw),
        "list_software_vulnerability_changes_by_machine" => changes(state, path, raw),
        "export_software_vulnerabilities" => export(state, Kind::Vulnerabilities, raw),
        "export_software_inventory" => export(state, Kind::Inventory, raw),
        _ => Err("No such operation.".to_owned()),
    };
    outcome.unwrap_or_else(|message| state.error(StatusCode::BAD_REQUEST, "BadRequest", &message))
}

/// The query options of a request, by decoded name, refusing names not in `allowed` and names
/// given twice.
fn options(raw: Option<&str>, allowed: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let mut options = BTreeMap::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        if !allowed.contains(&name.as_str()) {
            return Err(format!(
                "The query option '{name}' is not supported here (supported: {}).",
                allowed.join(", ")
            ));
        }
        if options.insert(name.clone(), decode(value)?).is_some() {
            return Err(format!(
                "The query option '{name}' is given more than once."
            ));
        }
    }
    Ok(options)
}

fn decode(text: &str) -> Result<String, String> {
    let plus_as_space = text.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "The query string is not valid UTF-8.".to_owned())
}

/// A whole number option within `range`, or its default.
fn number(
    options: &BTreeMap<String, String>,
    name: &str,
    range: std::ops::RangeInclusive<usize>,
    default: Option<usize>,
) -> Result<Option<usize>, String> {
    let Some(value) = options.get(name) else {
        return Ok(default);
    };
    match value.parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(format!(
            "Invalid value '{value}' for {name}: expected a whole number from {} to {}.",
            range.start(),
            range.end()
        )),
    }
}

/// How one JSON export request pages.
struct Paging {
    /// The index of the first item (from `$skiptoken`).
    first: usize,
    /// How many items at most.
    take: usize,
    /// Whether a next link may follow (not with `$top`).
    next_links: bool,
}

fn paging(options: &BTreeMap<String, String>) -> Result<Paging, String> {
    let page_size = number(
        options,
        "pageSize",
        1..=MAX_PAGE_SIZE,
        Some(DEFAULT_PAGE_SIZE),
    )?
    .unwrap_or(DEFAULT_PAGE_SIZE);
    let top = number(options, "$top", 0..=MAX_PAGE_SIZE, None)?;
    let first = number(options, "$skiptoken", 0..=usize::MAX, None)?.unwrap_or(0);
    Ok(Paging {
        first,
        take: top.unwrap_or(page_size),
        next_links: top.is_none(),
    })
}

/// The next link: the request's own query without its `$skiptoken`, then `$skiptoken=next`.
fn next_link(state: &State, path: &str, raw: Option<&str>, next: usize) -> String {
    let mut link = format!("{}{path}?", state.base_url);
    for pair in raw.unwrap_or("").split('&').filter(|p| {
        !p.is_empty() && !p.starts_with("$skiptoken=") && !p.starts_with("%24skiptoken=")
    }) {
        link.push_str(pair);
        link.push('&');
    }
    link.push_str(&format!("$skiptoken={next}"));
    link
}

fn context(state: &State, entity: &str) -> String {
    format!(
        "{}/api/$metadata#Collection(microsoft.windowsDefenderATP.api.{entity})",
        state.base_url
    )
}

/// A page of the snapshot's vulnerability or inventory rows.
fn listing(
    state: &Arc<State>,
    kind: Kind,
    path: &str,
    raw: Option<&str>,
) -> Result<Answer, String> {
    let options = options(raw, &["pageSize", "$top", "$skiptoken"])?;
    let paging = paging(&options)?;
    let estate = &state.estate;
    let total = match kind {
        Kind::Vulnerabilities => estate.vulnerability_row_count(),
        Kind::Inventory => estate.installations.len(),
    };
    let first = paging.first.min(total);
    let end = first.saturating_add(paging.take).min(total);
    let next = (paging.next_links && end < total).then(|| next_link(state, path, raw, end));
    let context = context(
        state,
        match kind {
            Kind::Vulnerabilities => "AssetVulnerability",
            Kind::Inventory => "AssetSoftware",
        },
    );
    let state = Arc::clone(state);
    Ok(page_answer(move |chunks| {
        let estate = &state.estate;
        page_start(chunks, &context)?;
        match kind {
            Kind::Vulnerabilities => page_rows(
                chunks,
                estate.vulnerability_rows_from(first).take(end - first),
            )?,
            Kind::Inventory => page_rows(chunks, estate.inventory_rows_in(first..end))?,
        }
        page_end(chunks, next)
    }))
}

/// A page of the changes since `sinceTime`.
fn changes(state: &Arc<State>, path: &str, raw: Option<&str>) -> Result<Answer, String> {
    let options = options(raw, &["sinceTime", "pageSize", "$top", "$skiptoken"])?;
    let paging = paging(&options)?;
    let Some(text) = options.get("sinceTime") else {
        return Err("The query option 'sinceTime' is required.".to_owned());
    };
    let Some(since) = parse_iso8601(text) else {
        return Err(format!(
            "Invalid value '{text}' for sinceTime: expected an ISO 8601 time such as 2026-11-20T00:00:00Z."
        ));
    };
    if since > now_ticks() {
        return Err(format!("sinceTime '{text}' is in the future."));
    }
    let history = crate::estate::CHANGE_HISTORY.as_secs() as i64 * TICKS_PER_SECOND;
    let earliest = crate::time::ticks_of(state.estate.snapshot_time()) - history;
    if since < earliest {
        return Err(format!(
            "sinceTime '{text}' is more than 14 days before the snapshot ({}).",
            state.estate.generated_time()
        ));
    }
    let context = context(state, "AssetVulnerabilityChange");
    let (path, raw) = (path.to_owned(), raw.map(str::to_owned));
    let state = Arc::clone(state);
    Ok(page_answer(move |chunks| {
        let estate = &state.estate;
        let mut events = estate.change_events(since).skip(paging.first);
        page_start(chunks, &context)?;
        page_rows(
            chunks,
            events
                .by_ref()
                .take(paging.take)
                .map(|event| estate.change_row(&event)),
        )?;
        let more = paging.next_links && events.next().is_some();
        let next = more.then(|| {
            let next = paging.first.saturating_add(paging.take);
            next_link(&state, &path, raw.as_deref(), next)
        });
        page_end(chunks, next)
    }))
}

/// A 200 whose JSON body `produce` writes as it is sent.
fn page_answer(produce: impl FnOnce(&mut Chunks) -> io::Result<()> + Send + 'static) -> Answer {
    let mut answer = Response::new(streamed(produce).boxed());
    answer.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    answer
}

/// Writes the start of a page: `{"@odata.context": …, "value": [`.
fn page_start(out: &mut Chunks, context: &str) -> io::Result<()> {
    out.write_all(b"{\"@odata.context\":")?;
    serde_json::to_writer(&mut *out, context).map_err(io::Error::other)?;
    out.write_all(b",\"value\":[")
}

/// Writes a page's rows, with camelCase keys.
fn page_rows<T: Entries>(out: &mut Chunks, rows: impl Iterator<Item = T>) -> io::Result<()> {
    for (n, row) in rows.enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &Cased(&row, Case::Camel)).map_err(io::Error::other)?;
    }
    Ok(())
}

/// Writes the end of a page: `], "@odata.nextLink": …}` (the link when there is one).
fn page_end(out: &mut Chunks, next: Option<String>) -> io::Result<()> {
    out.write_all(b"]")?;
    if let Some(link) = next {
        out.write_all(b",\"@odata.nextLink\":")?;
        serde_json::to_writer(&mut *out, &link).map_err(io::Error::other)?;
    }
    out.write_all(b"}")
}

/// Fresh links to every file of `kind`, and the snapshot's `generatedTime`.
fn export(state: &Arc<State>, kind: Kind, raw: Option<&str>) -> Result<Answer, String> {
    let options = options(raw, &["sasValidHours"])?;
    let hours = number(
        &options,
        "sasValidHours",
        1..=MAX_SAS_VALID_HOURS as usize,
        Some(1),
    )?
    .unwrap_or(1);
    let estate = &state.estate;
    let rows = match kind {
        Kind::Vulnerabilities => estate.vulnerability_row_count(),
        Kind::Inventory => estate.installations.len(),
    };
    let files = rows.div_ceil(state.rows_per_file).max(1);
    let now = now_ticks();
    let expires = now + hours as i64 * 3600 * TICKS_PER_SECOND;
    let snapshot = estate.generated_time().replace(':', "-");
    let epoch = state.faults.link_epoch();
    let links: Vec<String> = (0..files)
        .map(|part| {
            state.links.issue(
                &state.files_base_url,
                &snapshot,
                kind,
                part,
                now,
                expires,
                epoch,
            )
        })
        .collect();
    Ok(super::json(&json!({
        "@odata.context": format!(
            "{}/api/$metadata#microsoft.windowsDefenderATP.api.ExportFilesResponse",
            state.base_url
        ),
        "exportFiles": links,
        "generatedTime": estate.generated_time(),
    })))
}
