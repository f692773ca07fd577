//! What changed between two snapshots: the exposures new, fixed and reopened, and the devices
//! retired. Per tenant, `from` is its last snapshot at or before the window's start and `to`
//! its last at or before the window's end; by default, its last two snapshots.
//!
//! Between `from` (excluded) and `to`:
//! - **new**: first seen (its first span opened) in the window;
//! - **fixed**: fixed at `to`, the fix in the window (an exposure fixed and seen again is not);
//! - **reopened**: seen again after a fix in the window, and open at `to`;
//! - **retired devices**: in the snapshot at `from` (or seen in the window) and gone at `to`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::load::{self, Named, Point, Standing};
use super::window::When;
use crate::error::{Doing, Error};
use crate::store::Store;

/// An exposure, as answers show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExposureRow {
    /// The tenant (only when the answer is across tenants).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The device id.
    pub device_id: String,
    /// The device's name.
    pub device_name: Option<String>,
    /// The software's vendor.
    pub software_vendor: String,
    /// The software's name.
    pub software_name: String,
    /// Its latest version.
    pub software_version: Option<String>,
    /// The CVE.
    pub cve_id: String,
    /// Its severity.
    pub severity: Option<String>,
    /// The recommended update (a KB number on Windows).
    pub kb: Option<String>,
    /// When the service first saw it on the device.
    pub first_seen: DateTime<Utc>,
    /// When it was fixed (fixed exposures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_at: Option<DateTime<Utc>>,
}

/// A device that left.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetiredDevice {
    /// The tenant (only when the answer is across tenants).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The device id.
    pub device_id: String,
    /// Its name.
    pub device_name: Option<String>,
}

/// What changed between two snapshots.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changes {
    /// The window's start: the earlier snapshot (none: before the first).
    pub from: Option<DateTime<Utc>>,
    /// Its end: the later snapshot.
    pub to: Option<DateTime<Utc>>,
    /// Exposures first seen.
    pub new: Vec<ExposureRow>,
    /// Exposures fixed.
    pub fixed: Vec<ExposureRow>,
    /// Exposures seen again after a fix.
    pub reopened: Vec<ExposureRow>,
    /// Devices that left.
    pub retired_devices: Vec<RetiredDevice>,
}

/// The changes of one update (or, without one, one software), for `--by kb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangesOf {
    /// `KB5040131`, or `vendor name` for exposures without a KB.
    pub key: String,
    /// Devices on which it was fixed.
    pub fixed_devices: usize,
    /// Devices on which it is new.
    pub new_devices: usize,
    /// Devices on which it was reopened.
    pub reopened_devices: usize,
}

impl Changes {
    /// The changes per update (the `KB…` a Windows exposure recommends; a software's name for
    /// the others), most fixed first.
    pub fn by_kb(&self) -> Vec<ChangesOf> {
        self.tally(|row| match &row.kb {
            Some(kb) if kb.chars().all(|c| c.is_ascii_digit()) => format!("KB{kb}"),
            Some(kb) => kb.clone(),
            None => format!("{} {}", row.software_vendor, row.software_name),
        })
    }

    /// The changes per device, most fixed first.
    pub fn by_device(&self) -> Vec<ChangesOf> {
        self.tally(|row| {
            row.device_name
                .clone()
                .unwrap_or_else(|| row.device_id.clone())
        })
    }

    fn tally(&self, key: impl Fn(&ExposureRow) -> String) -> Vec<ChangesOf> {
        // Per key, the (tenant, device) pairs fixed, new and reopened.
        type Devices<'a> = HashSet<(Option<&'a str>, &'a str)>;
        let mut sets: BTreeMap<String, [Devices<'_>; 3]> = BTreeMap::new();
        for (list, which) in [(&self.fixed, 0), (&self.new, 1), (&self.reopened, 2)] {
            for row in list {
                sets.entry(key(row)).or_default()[which]
                    .insert((row.tenant.as_deref(), row.device_id.as_str()));
            }
        }
        let mut out: Vec<ChangesOf> = sets
            .into_iter()
            .map(|(key, [fixed, new, reopened])| ChangesOf {
                key,
                fixed_devices: fixed.len(),
                new_devices: new.len(),
                reopened_devices: reopened.len(),
            })
            .collect();
        out.sort_by(|a, b| {
            (b.fixed_devices, b.new_devices, b.reopened_devices)
                .cmp(&(a.fixed_devices, a.new_devices, a.reopened_devices))
                .then_with(|| a.key.cmp(&b.key))
        });
        out
    }
}

/// The tenant's window: its snapshot at or before `since` and at or before `until`.
pub(crate) fn window(
    points: &[&Point],
    since: Option<When>,
    until: Option<When>,
) -> (Option<i64>, Option<i64>) {
    let until_at = until.map(|w| w.time());
    let to = points
        .iter()
        .rposition(|p| until_at.is_none_or(|u| p.generated_time <= u));
    let Some(to) = to else {
        return (None, None);
    };
    let from = match since {
        Some(since) => points[..=to]
            .iter()
            // At `to` itself: an empty window.
            .rposition(|p| p.generated_time <= since.time()),
        None => to.checked_sub(1),
    };
    (from.map(|i| points[i].at), Some(points[to].at))
}

impl Store {
    /// What changed in the window (`since`, `until`], per tenant from its last snapshot at or
    /// before `since` to its last at or before `until`; by default its last two. `tenant`
    /// narrows it to one tenant.
    pub fn changes(
        &self,
        tenant: Option<&str>,
        since: Option<When>,
        until: Option<When>,
    ) -> Result<Changes, Error> {
        let tenant_id = load::tenant(&self.conn, tenant)?;
        let points = load::points(&self.conn, tenant_id)?;
        let across = tenant.is_none()
            && points
                .iter()
                .map(|p| p.tenant)
                .collect::<HashSet<_>>()
                .len()
                > 1;
        let mut windows: HashMap<i64, (Option<i64>, Option<i64>)> = HashMap::new();
        let mut by_tenant: BTreeMap<i64, Vec<&Point>> = BTreeMap::new();
        for point in &points {
            by_tenant.entry(point.tenant).or_default().push(point);
        }
        let (mut from_all, mut to_all): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
            (None, None);
        for (tenant, tenant_points) in &by_tenant {
            let (from, to) = window(tenant_points, since, until);
            let time = |at: i64| {
                tenant_points
                    .iter()
                    .find(|p| p.at == at)
                    .map(|p| p.generated_time)
            };
            if let Some(from) = from.and_then(time) {
                from_all = Some(from_all.map_or(from, |f: DateTime<Utc>| f.min(from)));
            }
            if let Some(to) = to.and_then(time) {
                to_all = Some(to_all.map_or(to, |t: DateTime<Utc>| t.max(to)));
            }
            windows.insert(*tenant, (from, to));
        }
        // Only the exposures with a span opened or closed after the earliest window's start
        // can have changed: the rest of the history is not read (no start: all of it).
        let mut after: Option<Option<i64>> = None;
        for (tenant, tenant_points) in &by_tenant {
            if let Some(&(from, Some(_))) = windows.get(tenant) {
                let id =
                    from.and_then(|at| tenant_points.iter().find(|p| p.at == at).map(|p| p.id));
                after = Some(match (after, id) {
                    (None, id) => id,
                    (Some(Some(a)), Some(b)) => Some(a.min(b)),
                    _ => None,
                });
            }
        }
        let (mut new, mut fixed, mut reopened) = (Vec::new(), Vec::new(), Vec::new());
        // The first-seen times of the exposures shown.
        let mut first_seen: HashMap<i64, i64> = HashMap::new();
        let after = after.flatten();
        load::each_exposure_after(&self.conn, tenant_id, &points, after, |exposure| {
            let Some(&(from, Some(to))) = windows.get(&exposure.tenant) else {
                return;
            };
            let inside = |at: i64| from.is_none_or(|from| at > from) && at <= to;
            let mut shown = false;
            if inside(exposure.spans[0].opened) {
                new.push(exposure.id);
                shown = true;
            }
            match exposure.at(to) {
                Standing::Fixed { closed, fixed_at } if inside(closed) => {
                    fixed.push((exposure.id, Some(fixed_at)));
                    shown = true;
                }
                Standing::Open {
                    opened,
                    reopened: true,
                } if inside(opened) => {
                    reopened.push(exposure.id);
                    shown = true;
                }
                _ => {}
            }
            if shown {
                first_seen.insert(exposure.id, exposure.first_seen);
            }
        })?;
        let ids = new
            .iter()
            .chain(reopened.iter())
            .copied()
            .chain(fixed.iter().map(|(id, _)| *id));
        let named = load::named(&self.conn, ids)?;
        let row = |id: i64, fixed_at: Option<i64>| -> Result<ExposureRow, Error> {
            let Some(n) = named.get(&id) else {
                return Err(Error::Invalid(format!(
                    "the store lost exposure {id} while answering"
                )));
            };
            Ok(exposure_row(
                n,
                first_seen.get(&id).copied().unwrap_or(0),
                fixed_at,
                across,
            ))
        };
        let mut changes = Changes {
            from: from_all,
            to: to_all,
            new: new
                .iter()
                .map(|&id| row(id, None))
                .collect::<Result<_, _>>()?,
            fixed: fixed
                .iter()
                .map(|&(id, at)| row(id, at))
                .collect::<Result<_, _>>()?,
            reopened: reopened
                .iter()
                .map(|&id| row(id, None))
                .collect::<Result<_, _>>()?,
            retired_devices: self.retired_devices(tenant_id, &windows, across)?,
        };
        for list in [&mut changes.new, &mut changes.fixed, &mut changes.reopened] {
            list.sort_by(|a, b| {
                (
                    &a.tenant,
                    &a.device_id,
                    &a.software_vendor,
                    &a.software_name,
                    &a.cve_id,
                )
                    .cmp(&(
                        &b.tenant,
                        &b.device_id,
                        &b.software_vendor,
                        &b.software_name,
                        &b.cve_id,
                    ))
            });
        }
        Ok(changes)
    }

    fn retired_devices(
        &self,
        tenant: Option<i64>,
        windows: &HashMap<i64, (Option<i64>, Option<i64>)>,
        across: bool,
    ) -> Result<Vec<RetiredDevice>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT d.tenant, t.name, d.device_id, d.name, c.at,
                        (SELECT max(o.at) FROM device_spans l JOIN snapshots o ON o.id = l.opened
                         WHERE l.device = d.id)
                 FROM device_spans ds JOIN devices d ON d.id = ds.device
                 JOIN tenants t ON t.id = d.tenant JOIN snapshots c ON c.id = ds.closed
                 WHERE ?1 IS NULL OR d.tenant = ?1",
            )
            .doing("reading the retired devices")?;
        let rows = stmt
            .query_map([tenant], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, Option<i64>>(5)?,
                ))
            })
            .doing("reading the retired devices")?;
        let mut retired = Vec::new();
        for row in rows {
            let (tenant, tenant_name, device_id, device_name, closed, last_opened) =
                row.doing("reading a retired device")?;
            let Some(&(from, Some(to))) = windows.get(&tenant) else {
                continue;
            };
            let inside = from.is_none_or(|from| closed > from) && closed <= to;
            // Back by `to`: not retired.
            let back = last_opened.is_some_and(|opened| opened > closed && opened <= to);
            if inside && !back {
                retired.push(RetiredDevice {
                    tenant: across.then_some(tenant_name),
                    device_id,
                    device_name,
                });
            }
        }
        retired.sort_by(|a, b| (&a.tenant, &a.device_id).cmp(&(&b.tenant, &b.device_id)));
        Ok(retired)
    }
}

/// An exposure's row.
pub(crate) fn exposure_row(
    named: &Named,
    first_seen: i64,
    fixed_at: Option<i64>,
    across: bool,
) -> ExposureRow {
    ExposureRow {
        tenant: across.then(|| named.tenant.clone()),
        device_id: named.device_id.clone(),
        device_name: named.device_name.clone(),
        software_vendor: named.software_vendor.clone(),
        software_name: named.software_name.clone(),
        software_version: named.software_version.clone(),
        cve_id: named.cve_id.clone(),
        severity: named.severity.clone(),
        kb: named.kb.clone(),
        first_seen: seconds(first_seen),
        fixed_at: fixed_at.map(seconds),
    }
}

/// A time in seconds.
pub(crate) fn seconds(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(at, 0).unwrap_or_default()
}
