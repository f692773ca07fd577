//! The store's tables, its schema version and the migrations between versions.
//!
//! A store is a SQLite file whose `application_id` is [`APPLICATION_ID`] and whose
//! `user_version` is the schema version it was written with. A build opens the versions it
//! knows ([`MIGRATIONS`] has one entry per version after the first) and refuses newer ones.
//!
//! Times are whole seconds since the Unix epoch (`datetime(first_seen, 'unixepoch')` in the
//! `sqlite3` shell), but for a snapshot's `generated_time`, kept as the service wrote it.

/// `DTVH` in ASCII: what marks a SQLite file as a defender-tvm history store.
pub const APPLICATION_ID: i32 = 0x4454_5648;

/// The schema version this build writes.
pub const VERSION: i32 = MIGRATIONS.len() as i32 + 1;

/// The tables of version 1, as a new store is created.
pub const CREATE: &str = "
CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- One row per snapshot synced, with the facts the trend reads.
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL REFERENCES tenants(id),
    generated_time TEXT NOT NULL,   -- as the service wrote it (RFC 3339)
    at INTEGER NOT NULL,            -- the same, in seconds since the epoch
    source TEXT NOT NULL,           -- 'export', 'changes' or 'demo'
    synced_at INTEGER NOT NULL,
    rows INTEGER NOT NULL,          -- rows read (change rows for 'changes')
    devices INTEGER NOT NULL,       -- devices in the snapshot
    open_exposures INTEGER NOT NULL,
    devices_exposed INTEGER NOT NULL,
    kbs_missing INTEGER NOT NULL,   -- distinct recommended updates of the open exposures
    critical_open INTEGER NOT NULL,
    exploited_open INTEGER NOT NULL,
    new INTEGER NOT NULL,           -- since the tenant's previous snapshot
    fixed INTEGER NOT NULL,
    reopened INTEGER NOT NULL,
    retired_devices INTEGER NOT NULL,
    UNIQUE (tenant, generated_time)
);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL REFERENCES tenants(id),
    device_id TEXT NOT NULL,
    name TEXT,
    rbac_group TEXT,
    UNIQUE (tenant, device_id)
);

-- When a device was in the tenant's snapshots: from `opened` until `closed` (the first
-- snapshot without it: retired), both snapshot ids.
CREATE TABLE device_spans (
    device INTEGER NOT NULL REFERENCES devices(id),
    opened INTEGER NOT NULL,
    closed INTEGER,
    PRIMARY KEY (device, opened)
) WITHOUT ROWID;

CREATE TABLE software (
    id INTEGER PRIMARY KEY,
    vendor TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (vendor, name)
);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL UNIQUE
);

-- A vulnerability, with its latest severity and whether an exploit is known.
CREATE TABLE cves (
    id INTEGER PRIMARY KEY,
    cve_id TEXT NOT NULL UNIQUE,
    severity TEXT,
    exploited INTEGER NOT NULL DEFAULT 0
);

-- The unit: a (device, software, CVE), with its latest version and recommended update, and
-- when the service first saw it on the device.
CREATE TABLE exposures (
    id INTEGER PRIMARY KEY,
    device INTEGER NOT NULL REFERENCES devices(id),
    software INTEGER NOT NULL REFERENCES software(id),
    cve INTEGER NOT NULL REFERENCES cves(id),
    version INTEGER REFERENCES versions(id),
    kb TEXT,
    first_seen INTEGER NOT NULL,
    UNIQUE (device, software, cve)
);

-- When an exposure was open: from snapshot `opened` until snapshot `closed` (the first without
-- it), `ended` 'fixed' (the device still there) or 'retired' (the device gone). A fix happened
-- after `fixed_after` (the last time it was seen) and by `fixed_at`. A reopened exposure has
-- more than one span.
CREATE TABLE spans (
    exposure INTEGER NOT NULL REFERENCES exposures(id),
    opened INTEGER NOT NULL,
    closed INTEGER,
    ended TEXT,
    fixed_after INTEGER,
    fixed_at INTEGER,
    PRIMARY KEY (exposure, opened)
) WITHOUT ROWID;
";

/// The migrations, in order: entry `n` takes a store from version `n + 1` to `n + 2`. Each runs
/// in the transaction that opens the store, so a store is migrated whole or not at all.
pub const MIGRATIONS: &[&str] = &[];
