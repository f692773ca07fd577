//! What a sync keeps in memory while it writes one snapshot: the tenant's devices, the names it
//! has interned (software, versions, CVEs, updates) and its open exposures, and the writes that
//! open and close exposures and devices. A full sync and a sync from the change feed both go
//! through here, so both follow the same rules.

use std::collections::HashMap;
use std::num::{NonZeroI64, NonZeroU32};

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Doing, Error};

/// A device of the tenant.
pub(super) struct Device {
    pub(super) id: i64,
    name: Option<Box<str>>,
    group: Option<Box<str>>,
    /// The snapshot its open span started at, if it has one (it was in the last snapshot).
    pub(super) open_span: Option<i64>,
    /// Whether this snapshot has it.
    pub(super) present: bool,
    /// Whether it was created by this sync (so it has no exposures yet).
    created: bool,
}

/// A CVE's latest facts.
struct Cve {
    id: i64,
    critical: bool,
    exploited: bool,
    severity: Option<Box<str>>,
}

/// An open exposure (its device and CVE are its key's). Kept small: a sync holds one per open
/// exposure of the tenant (32 bytes, beside its 12-byte key).
pub(super) struct Open {
    exposure: i64,
    /// The snapshot its span opened at.
    span: i64,
    /// Its version's id (row ids start at 1).
    version: Option<NonZeroI64>,
    /// Its update: index + 1 into the interned updates.
    kb: Option<NonZeroU32>,
    /// Whether this snapshot has it.
    pub(super) seen: bool,
}

/// An interned update's index, as [`Open`] keeps it.
fn packed(kb: u32) -> Option<NonZeroU32> {
    NonZeroU32::new(kb.saturating_add(1))
}

/// An exposure's key: device (index into `devices`), software, CVE (indexes into the interned).
pub(super) type Key = (u32, u32, u32);

/// What an exposure looks like in a row.
pub(super) struct Facts<'a> {
    pub(super) device: usize,
    pub(super) software: (&'a str, &'a str),
    pub(super) cve: &'a str,
    pub(super) severity: Option<&'a str>,
    pub(super) exploited: bool,
    pub(super) version: Option<&'a str>,
    pub(super) kb: Option<&'a str>,
    pub(super) first_seen: i64,
}

impl<'a> Facts<'a> {
    /// The facts a row gives of its exposure (CVE `cve`) on `device`; without a first-seen
    /// time, the snapshot's `at`.
    pub(super) fn of(
        row: &crate::observation::Observation<'a>,
        device: usize,
        cve: &'a str,
        at: i64,
    ) -> Facts<'a> {
        Facts {
            device,
            software: (row.software_vendor, row.software_name),
            cve,
            severity: row.severity.map(|s| s.as_str()),
            exploited: row.exploited,
            version: row.software_version,
            kb: row.kb,
            first_seen: row.first_seen.map_or(at, |t| t.timestamp()),
        }
    }
}

/// How an exposure ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Fixed at this time (the snapshot's, or the feed's event time).
    Fixed(i64),
    /// The device left.
    Retired,
}

/// The counts a snapshot records.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Exposures first seen.
    pub new: u64,
    /// Exposures fixed.
    pub fixed: u64,
    /// Exposures seen again after a fix.
    pub reopened: u64,
    /// Devices that left.
    pub retired_devices: u64,
}

/// The sync's memory.
pub(super) struct State {
    tenant: i64,
    pub(super) snapshot: i64,
    pub(super) at: i64,
    /// The time of the tenant's previous snapshot (the last time a fixed exposure was seen).
    pub(super) previous_at: Option<i64>,
    pub(super) devices: Vec<Device>,
    device_index: HashMap<Box<str>, usize>,
    /// By vendor, then name (looked up without a copy of either).
    software: HashMap<Box<str>, HashMap<Box<str>, u32>>,
    software_ids: Vec<i64>,
    versions: HashMap<Box<str>, i64>,
    cve_index: HashMap<Box<str>, u32>,
    cves: Vec<Cve>,
    kbs: HashMap<Box<str>, u32>,
    kb_names: Vec<Box<str>>,
    pub(super) open: HashMap<Key, Open>,
    pub(super) counts: Counts,
}

impl State {
    /// Loads the tenant's state, for a snapshot `snapshot` at `at` (seconds).
    pub(super) fn load(
        tx: &Transaction<'_>,
        tenant: i64,
        snapshot: i64,
        at: i64,
        previous_at: Option<i64>,
    ) -> Result<State, Error> {
        let mut state = State {
            tenant,
            snapshot,
            at,
            previous_at,
            devices: Vec::new(),
            device_index: HashMap::new(),
            software: HashMap::new(),
            software_ids: Vec::new(),
            versions: HashMap::new(),
            cve_index: HashMap::new(),
            cves: Vec::new(),
            kbs: HashMap::new(),
            kb_names: Vec::new(),
            open: HashMap::new(),
            counts: Counts::default(),
        };
        let mut by_id = HashMap::new();
        {
            let mut stmt = tx
                .prepare(
                    "SELECT d.id, d.device_id, d.name, d.rbac_group,
                            (SELECT opened FROM device_spans WHERE device = d.id AND closed IS NULL)
                     FROM devices d WHERE d.tenant = ?1",
                )
                .doing("reading the devices")?;
            let mut rows = stmt.query([tenant]).doing("reading the devices")?;
            while let Some(row) = rows.next().doing("reading the devices")? {
                let id: i64 = row.get(0).doing("reading a device")?;
                let device_id: String = row.get(1).doing("reading a device")?;
                let index = state.devices.len();
                state.devices.push(Device {
                    id,
                    name: row
                        .get::<_, Option<String>>(2)
                        .doing("reading a device")?
                        .map(Into::into),
                    group: row
                        .get::<_, Option<String>>(3)
                        .doing("reading a device")?
                        .map(Into::into),
                    open_span: row.get(4).doing("reading a device")?,
                    present: false,
                    created: false,
                });
                state.device_index.insert(device_id.into(), index);
                by_id.insert(id, index);
            }
        }
        {
            let mut stmt = tx
                .prepare("SELECT id, vendor, name FROM software")
                .doing("reading the software")?;
            let mut rows = stmt.query([]).doing("reading the software")?;
            while let Some(row) = rows.next().doing("reading the software")? {
                let vendor: String = row.get(1).doing("reading a software")?;
                let name: String = row.get(2).doing("reading a software")?;
                let index = state.software_ids.len() as u32;
                state
                    .software_ids
                    .push(row.get(0).doing("reading a software")?);
                state
                    .software
                    .entry(vendor.into())
                    .or_default()
                    .insert(name.into(), index);
            }
        }
        {
            let mut stmt = tx
                .prepare("SELECT id, version FROM versions")
                .doing("reading the versions")?;
            let mut rows = stmt.query([]).doing("reading the versions")?;
            while let Some(row) = rows.next().doing("reading the versions")? {
                let version: String = row.get(1).doing("reading a version")?;
                state
                    .versions
                    .insert(version.into(), row.get(0).doing("reading a version")?);
            }
        }
        let mut cve_by_id = HashMap::new();
        {
            let mut stmt = tx
                .prepare("SELECT id, cve_id, severity, exploited FROM cves")
                .doing("reading the CVEs")?;
            let mut rows = stmt.query([]).doing("reading the CVEs")?;
            while let Some(row) = rows.next().doing("reading the CVEs")? {
                let id: i64 = row.get(0).doing("reading a CVE")?;
                let cve_id: String = row.get(1).doing("reading a CVE")?;
                let severity: Option<String> = row.get(2).doing("reading a CVE")?;
                let index = state.cves.len() as u32;
                state.cves.push(Cve {
                    id,
                    critical: severity.as_deref() == Some("Critical"),
                    exploited: row.get::<_, i64>(3).doing("reading a CVE")? != 0,
                    severity: severity.map(Into::into),
                });
                state.cve_index.insert(cve_id.into(), index);
                cve_by_id.insert(id, index);
            }
        }
        // Room for as many open exposures as the last snapshot had: the map is not regrown
        // (old and new tables side by side) while it is loaded.
        let expected: i64 = tx
            .query_row(
                "SELECT coalesce((SELECT open_exposures FROM snapshots WHERE tenant = ?1 AND id != ?2
                                  ORDER BY at DESC, id DESC LIMIT 1), 0)",
                params![tenant, snapshot],
                |row| row.get(0),
            )
            .doing("reading the last snapshot's size")?;
        state.open.reserve(usize::try_from(expected).unwrap_or(0));
        let software_by_id: HashMap<i64, u32> = state
            .software_ids
            .iter()
            .enumerate()
            .map(|(index, id)| (*id, index as u32))
            .collect();
        {
            let mut stmt = tx
                .prepare(
                    "SELECT e.id, e.device, e.software, e.cve, e.version, e.kb, s.opened
                     FROM spans s JOIN exposures e ON e.id = s.exposure
                     JOIN devices d ON d.id = e.device
                     WHERE s.closed IS NULL AND d.tenant = ?1",
                )
                .doing("reading the open exposures")?;
            let mut rows = stmt.query([tenant]).doing("reading the open exposures")?;
            while let Some(row) = rows.next().doing("reading the open exposures")? {
                let read = "reading an open exposure";
                let device_id: i64 = row.get(1).doing(read)?;
                let software_id: i64 = row.get(2).doing(read)?;
                let cve_id: i64 = row.get(3).doing(read)?;
                let kb: Option<String> = row.get(5).doing(read)?;
                let (Some(&device), Some(&software), Some(&cve)) = (
                    by_id.get(&device_id),
                    software_by_id.get(&software_id),
                    cve_by_id.get(&cve_id),
                ) else {
                    return Err(Error::Invalid(format!(
                        "the store is inconsistent: exposure {} names a device, software or \
                         CVE it does not have",
                        row.get::<_, i64>(0).doing(read)?
                    )));
                };
                let kb = kb.and_then(|kb| packed(state.kb(&kb)));
                let version: Option<i64> = row.get(4).doing(read)?;
                state.open.insert(
                    (device as u32, software, cve),
                    Open {
                        exposure: row.get(0).doing(read)?,
                        span: row.get(6).doing(read)?,
                        version: version.and_then(NonZeroI64::new),
                        kb,
                        seen: false,
                    },
                );
            }
        }
        Ok(state)
    }

    fn kb(&mut self, kb: &str) -> u32 {
        if let Some(&index) = self.kbs.get(kb) {
            return index;
        }
        let index = self.kb_names.len() as u32;
        self.kb_names.push(kb.into());
        self.kbs.insert(kb.into(), index);
        index
    }

    /// The device `device_id`, in this snapshot, created or brought back as needed, its name
    /// and group kept up to date.
    pub(super) fn device(
        &mut self,
        tx: &Transaction<'_>,
        device_id: &str,
        name: Option<&str>,
        group: Option<&str>,
    ) -> Result<usize, Error> {
        let index = match self.device_index.get(device_id) {
            Some(&index) => index,
            None => {
                tx.prepare_cached(
                    "INSERT INTO devices (tenant, device_id, name, rbac_group) VALUES (?1, ?2, ?3, ?4)",
                )
                .and_then(|mut stmt| stmt.execute(params![self.tenant, device_id, name, group]))
                .doing("adding a device")?;
                let index = self.devices.len();
                self.devices.push(Device {
                    id: tx.last_insert_rowid(),
                    name: name.map(Into::into),
                    group: group.map(Into::into),
                    open_span: None,
                    present: false,
                    created: true,
                });
                self.device_index.insert(device_id.into(), index);
                index
            }
        };
        let device = &mut self.devices[index];
        if !device.present {
            device.present = true;
            if device.open_span.is_none() {
                tx.prepare_cached("INSERT INTO device_spans (device, opened) VALUES (?1, ?2)")
                    .and_then(|mut stmt| stmt.execute(params![device.id, self.snapshot]))
                    .doing("opening a device's span")?;
                device.open_span = Some(self.snapshot);
            }
        }
        let renamed = name.is_some() && device.name.as_deref() != name;
        let moved = group.is_some() && device.group.as_deref() != group;
        if renamed || moved {
            if renamed {
                device.name = name.map(Into::into);
            }
            if moved {
                device.group = group.map(Into::into);
            }
            tx.prepare_cached("UPDATE devices SET name = ?2, rbac_group = ?3 WHERE id = ?1")
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        device.id,
                        device.name.as_deref(),
                        device.group.as_deref()
                    ])
                })
                .doing("updating a device")?;
        }
        Ok(index)
    }

    /// The key of an exposure with these facts, its CVE's facts brought up to date.
    pub(super) fn key(&mut self, tx: &Transaction<'_>, facts: &Facts<'_>) -> Result<Key, Error> {
        let (vendor, name) = facts.software;
        let known = self.software.get(vendor).and_then(|names| names.get(name));
        let software = match known {
            Some(&index) => index,
            None => {
                tx.prepare_cached("INSERT INTO software (vendor, name) VALUES (?1, ?2)")
                    .and_then(|mut stmt| stmt.execute(params![facts.software.0, facts.software.1]))
                    .doing("adding a software")?;
                let index = self.software_ids.len() as u32;
                self.software_ids.push(tx.last_insert_rowid());
                self.software
                    .entry(vendor.into())
                    .or_default()
                    .insert(name.into(), index);
                index
            }
        };
        let cve = match self.cve_index.get(facts.cve) {
            Some(&index) => {
                let known = &mut self.cves[index as usize];
                let severity_changed =
                    facts.severity.is_some() && known.severity.as_deref() != facts.severity;
                if severity_changed || known.exploited != facts.exploited {
                    if severity_changed {
                        known.severity = facts.severity.map(Into::into);
                        known.critical = facts.severity == Some("Critical");
                    }
                    known.exploited = facts.exploited;
                    tx.prepare_cached(
                        "UPDATE cves SET severity = ?2, exploited = ?3 WHERE id = ?1",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            known.id,
                            known.severity.as_deref(),
                            known.exploited
                        ])
                    })
                    .doing("updating a CVE")?;
                }
                index
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO cves (cve_id, severity, exploited) VALUES (?1, ?2, ?3)",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![facts.cve, facts.severity, facts.exploited])
                })
                .doing("adding a CVE")?;
                let index = self.cves.len() as u32;
                self.cves.push(Cve {
                    id: tx.last_insert_rowid(),
                    critical: facts.severity == Some("Critical"),
                    exploited: facts.exploited,
                    severity: facts.severity.map(Into::into),
                });
                self.cve_index.insert(facts.cve.into(), index);
                index
            }
        };
        Ok((facts.device as u32, software, cve))
    }

    fn version(
        &mut self,
        tx: &Transaction<'_>,
        version: Option<&str>,
    ) -> Result<Option<i64>, Error> {
        let Some(version) = version else {
            return Ok(None);
        };
        if let Some(&id) = self.versions.get(version) {
            return Ok(Some(id));
        }
        tx.prepare_cached("INSERT INTO versions (version) VALUES (?1)")
            .and_then(|mut stmt| stmt.execute([version]))
            .doing("adding a version")?;
        let id = tx.last_insert_rowid();
        self.versions.insert(version.into(), id);
        Ok(Some(id))
    }

    /// Marks the exposure `key` present in this snapshot: kept open (its version and update
    /// brought up to date), reopened, or opened for the first time.
    pub(super) fn present(
        &mut self,
        tx: &Transaction<'_>,
        key: Key,
        facts: &Facts<'_>,
    ) -> Result<(), Error> {
        let version = self.version(tx, facts.version)?;
        let kb = facts.kb.and_then(|kb| packed(self.kb(kb)));
        if let Some(open) = self.open.get_mut(&key) {
            let first_this_snapshot = !open.seen;
            open.seen = true;
            let packed_version = version.and_then(NonZeroI64::new);
            if first_this_snapshot && (open.version != packed_version || open.kb != kb) {
                open.version = packed_version;
                open.kb = kb;
                tx.prepare_cached("UPDATE exposures SET version = ?2, kb = ?3 WHERE id = ?1")
                    .and_then(|mut stmt| stmt.execute(params![open.exposure, version, facts.kb]))
                    .doing("updating an exposure")?;
            }
            return Ok(());
        }
        let device = &self.devices[facts.device];
        let earlier = if device.created {
            None
        } else {
            tx.prepare_cached(
                "SELECT e.id, (SELECT ended FROM spans WHERE exposure = e.id ORDER BY opened DESC LIMIT 1)
                 FROM exposures e WHERE device = ?1 AND software = ?2 AND cve = ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![device.id, self.software_ids[key.1 as usize], self.cves[key.2 as usize].id],
                    |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Option<String>>(1)?)),
                )
                .optional()
            })
            .doing("looking for an earlier exposure")?
        };
        let exposure = match earlier {
            Some((exposure, ended)) => {
                if ended.as_deref() == Some("fixed") {
                    self.counts.reopened += 1;
                } else {
                    self.counts.new += 1;
                }
                tx.prepare_cached(
                    "UPDATE exposures SET version = ?2, kb = ?3, first_seen = min(first_seen, ?4) WHERE id = ?1",
                )
                .and_then(|mut stmt| stmt.execute(params![exposure, version, facts.kb, facts.first_seen]))
                .doing("updating an exposure")?;
                exposure
            }
            None => {
                self.counts.new += 1;
                tx.prepare_cached(
                    "INSERT INTO exposures (device, software, cve, version, kb, first_seen)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        device.id,
                        self.software_ids[key.1 as usize],
                        self.cves[key.2 as usize].id,
                        version,
                        facts.kb,
                        facts.first_seen
                    ])
                })
                .doing("adding an exposure")?;
                tx.last_insert_rowid()
            }
        };
        tx.prepare_cached("INSERT INTO spans (exposure, opened) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.execute(params![exposure, self.snapshot]))
            .doing("opening an exposure")?;
        self.open.insert(
            key,
            Open {
                exposure,
                span: self.snapshot,
                version: version.and_then(NonZeroI64::new),
                kb,
                seen: true,
            },
        );
        Ok(())
    }

    /// Closes the open exposure `key`.
    pub(super) fn close(
        &mut self,
        tx: &Transaction<'_>,
        key: Key,
        ending: Ending,
    ) -> Result<(), Error> {
        let Some(open) = self.open.remove(&key) else {
            return Ok(());
        };
        let (ended, fixed_at) = match ending {
            Ending::Fixed(at) => {
                self.counts.fixed += 1;
                ("fixed", Some(at))
            }
            Ending::Retired => ("retired", None),
        };
        tx.prepare_cached(
            "UPDATE spans SET closed = ?3, ended = ?4, fixed_after = ?5, fixed_at = ?6
             WHERE exposure = ?1 AND opened = ?2",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                open.exposure,
                open.span,
                self.snapshot,
                ended,
                fixed_at.and(self.previous_at),
                fixed_at
            ])
        })
        .doing("closing an exposure")?;
        Ok(())
    }

    /// Closes the span of every device that had one and is not in this snapshot (retired).
    pub(super) fn retire_absent_devices(&mut self, tx: &Transaction<'_>) -> Result<(), Error> {
        for device in &mut self.devices {
            if let (false, Some(opened)) = (device.present, device.open_span) {
                tx.prepare_cached(
                    "UPDATE device_spans SET closed = ?3 WHERE device = ?1 AND opened = ?2",
                )
                .and_then(|mut stmt| stmt.execute(params![device.id, opened, self.snapshot]))
                .doing("retiring a device")?;
                device.open_span = None;
                self.counts.retired_devices += 1;
            }
        }
        Ok(())
    }

    /// Writes the snapshot's facts, counted from the open exposures.
    pub(super) fn record(&self, tx: &Transaction<'_>, rows: u64) -> Result<(), Error> {
        let mut devices_exposed = std::collections::HashSet::new();
        let mut kbs = std::collections::HashSet::new();
        let (mut critical, mut exploited) = (0u64, 0u64);
        for (&(device, _, cve), open) in &self.open {
            devices_exposed.insert(device);
            if let Some(kb) = open.kb {
                kbs.insert(kb);
            }
            let cve = &self.cves[cve as usize];
            critical += u64::from(cve.critical);
            exploited += u64::from(cve.exploited);
        }
        let devices = self
            .devices
            .iter()
            .filter(|d| d.open_span.is_some())
            .count();
        tx.prepare_cached(
            "UPDATE snapshots SET rows = ?2, devices = ?3, open_exposures = ?4, devices_exposed = ?5,
                 kbs_missing = ?6, critical_open = ?7, exploited_open = ?8, new = ?9, fixed = ?10,
                 reopened = ?11, retired_devices = ?12
             WHERE id = ?1",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                self.snapshot,
                rows,
                devices as u64,
                self.open.len() as u64,
                devices_exposed.len() as u64,
                kbs.len() as u64,
                critical,
                exploited,
                self.counts.new,
                self.counts.fixed,
                self.counts.reopened,
                self.counts.retired_devices
            ])
        })
        .doing("recording the snapshot")?;
        Ok(())
    }

    /// The device index of `device_id`, if the tenant has it.
    pub(super) fn device_index(&self, device_id: &str) -> Option<usize> {
        self.device_index.get(device_id).copied()
    }
}
