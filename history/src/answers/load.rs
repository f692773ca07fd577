//! What every answer reads: the snapshots, and the exposures with their spans, as numbers; the
//! names of only the exposures an answer shows are read after.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::error::{Doing, Error};

/// A stored snapshot.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) id: i64,
    pub(crate) tenant: i64,
    pub(crate) at: i64,
    pub(crate) generated_time: DateTime<Utc>,
}

/// How a span ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Fixed,
    Retired,
}

/// A span, its snapshots as times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub(crate) opened: i64,
    pub(crate) closed: Option<(i64, Ended)>,
    pub(crate) fixed_at: Option<i64>,
}

/// An exposure, as numbers.
#[derive(Debug, Clone)]
pub(crate) struct Exposure {
    pub(crate) id: i64,
    pub(crate) tenant: i64,
    pub(crate) device: i64,
    pub(crate) software: i64,
    pub(crate) cve: i64,
    pub(crate) first_seen: i64,
    /// The recommended update.
    pub(crate) kb: Option<String>,
    pub(crate) spans: Vec<Span>,
}

/// Where an exposure stands at a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Standing {
    /// Not seen yet.
    NotYet,
    /// Open, in the span opened then.
    Open { opened: i64, reopened: bool },
    /// Fixed at that time, in the span closed then.
    Fixed { fixed_at: i64, closed: i64 },
    /// Gone with its device, then.
    Retired { closed: i64 },
}

impl Exposure {
    /// Where it stands at `at` (seconds).
    pub(crate) fn at(&self, at: i64) -> Standing {
        let Some(index) = self.spans.iter().rposition(|s| s.opened <= at) else {
            return Standing::NotYet;
        };
        let span = self.spans[index];
        match span.closed {
            Some((closed, ended)) if closed <= at => match ended {
                Ended::Fixed => Standing::Fixed {
                    fixed_at: span.fixed_at.unwrap_or(closed),
                    closed,
                },
                Ended::Retired => Standing::Retired { closed },
            },
            _ => Standing::Open {
                opened: span.opened,
                reopened: index > 0
                    && matches!(self.spans[index - 1].closed, Some((_, Ended::Fixed))),
            },
        }
    }
}

/// The snapshots of the chosen tenants, oldest first.
pub(crate) fn points(conn: &Connection, tenant: Option<i64>) -> Result<Vec<Point>, Error> {
    let mut stmt = conn
        .prepare(
            "SELECT id, tenant, at, generated_time FROM snapshots
             WHERE ?1 IS NULL OR tenant = ?1 ORDER BY at, id",
        )
        .doing("reading the snapshots")?;
    let rows = stmt
        .query_map([tenant], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get::<_, String>(3)?,
            ))
        })
        .doing("reading the snapshots")?;
    let mut points = Vec::new();
    for row in rows {
        let (id, tenant, at, text) = row.doing("reading a snapshot")?;
        points.push(Point {
            id,
            tenant,
            at,
            generated_time: parse_time(&text)?,
        });
    }
    Ok(points)
}

/// A time the store wrote.
pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            Error::Invalid(format!(
                "the store holds a time it cannot read ({text}): {e}"
            ))
        })
}

/// The tenant called `name`, or an error naming the tenants there are.
pub(crate) fn tenant(conn: &Connection, name: Option<&str>) -> Result<Option<i64>, Error> {
    let Some(name) = name else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare("SELECT id, name FROM tenants ORDER BY name")
        .doing("reading the tenants")?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })
        .doing("reading the tenants")?;
    let mut names = Vec::new();
    for row in rows {
        let (id, tenant) = row.doing("reading a tenant")?;
        if tenant == name {
            return Ok(Some(id));
        }
        names.push(tenant);
    }
    Err(Error::Invalid(format!(
        "the store has no tenant {name:?}; it has: {}",
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )))
}

/// Calls `each` with every exposure of the chosen tenants and its spans (their snapshots read
/// as times), one at a time in id order: memory stays that of one exposure, whatever the
/// store's size.
pub(crate) fn each_exposure(
    conn: &Connection,
    tenant: Option<i64>,
    points: &[Point],
    each: impl FnMut(&Exposure),
) -> Result<(), Error> {
    each_exposure_after(conn, tenant, points, None, each)
}

/// [`each_exposure`], but only the exposures with a span opened or closed after snapshot
/// `after` (an id; a tenant's ids grow with its snapshots' times), when given: what changed in a
/// window that starts there, read without the rest of the history.
pub(crate) fn each_exposure_after(
    conn: &Connection,
    tenant: Option<i64>,
    points: &[Point],
    after: Option<i64>,
    mut each: impl FnMut(&Exposure),
) -> Result<(), Error> {
    let time: HashMap<i64, i64> = points.iter().map(|p| (p.id, p.at)).collect();
    let mut stmt = conn
        .prepare(
            "SELECT sp.exposure, sp.opened, sp.closed, sp.ended, sp.fixed_at,
                    e.device, e.software, e.cve, e.first_seen, d.tenant, e.kb
             FROM spans sp JOIN exposures e ON e.id = sp.exposure JOIN devices d ON d.id = e.device
             WHERE (?1 IS NULL OR d.tenant = ?1)
               AND (?2 IS NULL OR sp.exposure IN
                    (SELECT exposure FROM spans WHERE opened > ?2 OR closed > ?2))
             ORDER BY sp.exposure, sp.opened",
        )
        .doing("reading the exposures")?;
    let mut rows = stmt
        .query(params![tenant, after])
        .doing("reading the exposures")?;
    let mut current: Option<Exposure> = None;
    let read = "reading an exposure";
    while let Some(row) = rows.next().doing(read)? {
        let id: i64 = row.get(0).doing(read)?;
        let opened: i64 = row.get(1).doing(read)?;
        let closed: Option<i64> = row.get(2).doing(read)?;
        let ended: Option<String> = row.get(3).doing(read)?;
        let snapshot_time = |snapshot: i64| {
            time.get(&snapshot).copied().ok_or_else(|| {
                Error::Invalid(format!(
                    "the store is inconsistent: a span names snapshot {snapshot}, which it does not have"
                ))
            })
        };
        let closed = match closed {
            Some(closed) => Some((
                snapshot_time(closed)?,
                if ended.as_deref() == Some("retired") {
                    Ended::Retired
                } else {
                    Ended::Fixed
                },
            )),
            None => None,
        };
        let span = Span {
            opened: snapshot_time(opened)?,
            closed,
            fixed_at: row.get(4).doing(read)?,
        };
        match &mut current {
            Some(exposure) if exposure.id == id => exposure.spans.push(span),
            _ => {
                if let Some(done) = &current {
                    each(done);
                }
                let exposure = current.get_or_insert_with(|| Exposure {
                    id,
                    tenant: 0,
                    device: 0,
                    software: 0,
                    cve: 0,
                    first_seen: 0,
                    kb: None,
                    spans: Vec::new(),
                });
                exposure.id = id;
                exposure.device = row.get(5).doing(read)?;
                exposure.software = row.get(6).doing(read)?;
                exposure.cve = row.get(7).doing(read)?;
                exposure.first_seen = row.get(8).doing(read)?;
                exposure.tenant = row.get(9).doing(read)?;
                exposure.kb = row.get(10).doing(read)?;
                exposure.spans.clear();
                exposure.spans.push(span);
            }
        }
    }
    if let Some(done) = &current {
        each(done);
    }
    Ok(())
}

/// Each CVE's severity, by id.
pub(crate) fn severities(conn: &Connection) -> Result<HashMap<i64, Option<String>>, Error> {
    let mut stmt = conn
        .prepare("SELECT id, severity FROM cves")
        .doing("reading the CVEs")?;
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .doing("reading the CVEs")?;
    rows.collect::<Result<_, _>>().doing("reading a CVE")
}

/// What an answer shows of an exposure, by name.
#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub(crate) tenant: String,
    pub(crate) device_id: String,
    pub(crate) device_name: Option<String>,
    pub(crate) software_vendor: String,
    pub(crate) software_name: String,
    pub(crate) software_version: Option<String>,
    pub(crate) cve_id: String,
    pub(crate) severity: Option<String>,
    pub(crate) kb: Option<String>,
}

/// The names of the exposures `ids`.
pub(crate) fn named(
    conn: &Connection,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Named>, Error> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT t.name, d.device_id, d.name, s.vendor, s.name, v.version,
                    c.cve_id, c.severity, e.kb
             FROM exposures e JOIN devices d ON d.id = e.device JOIN tenants t ON t.id = d.tenant
             JOIN software s ON s.id = e.software JOIN cves c ON c.id = e.cve
             LEFT JOIN versions v ON v.id = e.version
             WHERE e.id = ?1",
        )
        .doing("reading an exposure's names")?;
    let mut named = HashMap::new();
    for id in ids {
        let found = stmt
            .query_row([id], |row| {
                Ok(Named {
                    tenant: row.get(0)?,
                    device_id: row.get(1)?,
                    device_name: row.get(2)?,
                    software_vendor: row.get(3)?,
                    software_name: row.get(4)?,
                    software_version: row.get(5)?,
                    cve_id: row.get(6)?,
                    severity: row.get(7)?,
                    kb: row.get(8)?,
                })
            })
            .doing("reading an exposure's names")?;
        named.insert(id, found);
    }
    Ok(named)
}

/// Seconds as days (none below zero: a first-seen time after the fix is read as a fix at once).
pub(crate) fn days(seconds: i64) -> f64 {
    seconds.max(0) as f64 / 86_400.0
}

/// Days to a tenth, as answers show them.
pub(crate) fn tenth(days: f64) -> f64 {
    (days * 10.0).round() / 10.0
}
