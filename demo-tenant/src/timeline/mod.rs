//! The demo tenant in time: a seeded timeline of daily export snapshots, their change feed,
//! and the ground truth of what happened ([`Truth`]), for tests of a history store (one that
//! keeps the snapshots the service forgets) to compare with. Nothing here depends on a store.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use defender_tvm_demo::timeline::{Timeline, TimelineOptions};
//!
//! let end = UNIX_EPOCH + Duration::from_secs(1_792_000_000); // 2026-10-14T17:46:40Z
//! let timeline = Timeline::generate(TimelineOptions::default().devices(40).days(30).end(end));
//! assert_eq!(timeline.snapshots(), 30);
//! assert_eq!(timeline.generated_time(29), "2026-10-14T06:00:00Z");
//! let rows = timeline.rows(29).count();
//! let open = timeline.truth().open_at(29).count();
//! let fully_patched = timeline.rows(29).filter(|r| r.cve_id.is_none()).count();
//! assert_eq!(rows, open + fully_patched);
//! ```
//!
//! What it models, deterministically from a seed ([`TimelineOptions`]):
//! - `days` daily snapshots (default 120), each taken at 06:00:00 UTC (its `generatedTime`), the
//!   last on the day of `end`;
//! - devices (default 300) in six groups; most there from the start, some **onboarded** during
//!   the timeline, some **retired** (offboarded: absent from every later snapshot), some
//!   **moved** to another group;
//! - Windows (10, 11, Server 2019, Server 2022) and third-party applications (Chrome, Firefox,
//!   Acrobat Reader, Java, 7-Zip, Notepad++, Zoom, VLC, Python, Git, PuTTY, WinSCP);
//! - **Patch Tuesday** (the second Tuesday of each month): each Windows product's new
//!   cumulative update (KB) fixes a batch of new CVEs and supersedes the one before; on the
//!   release day its CVEs appear on every device running the product (first seen hours later,
//!   before the next snapshot), and every open Windows exposure's recommended update becomes
//!   the new KB (`Updated` in the feed);
//! - applications release new versions that fix new CVEs in every older version, the same way;
//! - **patching**: each device installs the newest release some days after it sees one it
//!   lacks, by the worst severity it brings (medians 8, 17, 38 and 75 days for Critical, High,
//!   Medium and Low), faster or slower by device (a few never patch) and application;
//! - **an upgrade keeps a CVE** now and then (the same CVE on the new version: `Fixed` for the
//!   old version and `New` for the new one in the feed, both with the original first seen);
//! - **a fix undone** now and then: the exposure comes back days later, with its original
//!   `firstSeenTimestamp` (a second [`Span`]);
//! - each snapshot also has a row without a CVE for every installation exposed to nothing.
//!
//! The rules are documented where they are applied: `world.rs` (releases and CVEs, from the
//! calendar only: every tenant sees the same KBs and CVEs), `generate.rs` (devices, roles,
//! installations, patching), `rules.rs` (exposures), `rows.rs`, `changes.rs`, `truth/`.
//!
//! Several tenants are several seeds: three tenants over the same days are three timelines of
//! the same `end` and `days` with three seeds (their devices, installations and patching
//! differ; the world's KBs and CVEs are the same).
//!
//! Size: the timeline keeps each installation's history (a few upgrades), never the rows: a
//! snapshot's rows are made as they are read ([`Timeline::rows`] streams), and the change feed
//! compares two snapshots device by device ([`Timeline::changes_iter`] streams). A device has
//! about 20 rows a snapshot (10 to 40; more on devices that never patch); 100,000 devices over
//! 90 days fit in well under 1 GB (see the `timeline_scale` example). Only [`Timeline::truth`]
//! holds every exposure (it is built on first use): meant for test sizes.

mod catalog;
mod changes;
mod generate;
mod rows;
mod rules;
mod serialize;
mod truth;
mod world;

use std::fmt;
use std::sync::OnceLock;
use std::time::SystemTime;

use crate::estate::mix;
pub use crate::estate::{Case, ChangeStatus};
pub use changes::TimelineChange;
pub use rows::TimelineRow;
pub use truth::{
    DeviceTruth, Ended, ExposureTruth, Fix, GroupSpan, ReleaseTruth, Span, TrendPoint, Truth,
    UpgradeTruth, percentile,
};

use crate::time::TICKS_PER_SECOND;
use catalog::FIRST_GROUP_ID;

const SECOND: i64 = TICKS_PER_SECOND;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The earliest and latest days (since the Unix epoch) the last snapshot may be on: 1972-01-01
/// and 9999-12-31.
const FIRST_END_DAY: i64 = 730;
const LAST_END_DAY: i64 = 2_932_896;

/// The most daily snapshots a timeline has.
const MAX_DAYS: usize = 100_000;

/// A hash as a number in `[0, 1)`.
fn unit(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// A hash as a span of ticks in `[0, span)`.
fn span(hash: u64, span: i64) -> i64 {
    (unit(hash) * span as f64) as i64
}

/// The index a number in `[0, 1)` falls on among `shares` (laid end to end; the last if past
/// their sum).
fn pick(shares: &[f64], mut u: f64) -> usize {
    for (i, share) in shares.iter().enumerate() {
        if u < *share {
            return i;
        }
        u -= share;
    }
    shares.len().saturating_sub(1)
}

/// What timeline to generate: the seed, how many devices, how many daily snapshots, and the day
/// of the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineOptions {
    /// The seed (the same options give the same timeline; another seed, another tenant).
    pub seed: u64,
    /// How many devices (default 300), onboarded and retired ones included.
    pub devices: usize,
    /// How many daily snapshots (default 120; at least 1, at most 100,000).
    pub days: usize,
    /// The last snapshot is at 06:00:00 UTC on this time's day (default: now; taken as 1972 or
    /// 9999 if before or after).
    pub end: SystemTime,
}

impl Default for TimelineOptions {
    fn default() -> Self {
        TimelineOptions {
            seed: crate::DEFAULT_SEED,
            devices: 300,
            days: 120,
            end: SystemTime::now(),
        }
    }
}

impl TimelineOptions {
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets how many devices.
    pub fn devices(mut self, devices: usize) -> Self {
        self.devices = devices;
        self
    }

    /// Sets how many daily snapshots (at least 1, at most 100,000).
    pub fn days(mut self, days: usize) -> Self {
        self.days = days;
        self
    }

    /// Sets the day of the last snapshot. Pin it to get the same timeline from run to run.
    pub fn end(mut self, end: SystemTime) -> Self {
        self.end = end;
        self
    }
}

/// A tenant over daily snapshots: their rows, their change feed and the truth of what happened.
/// See the [module](self) for what it models.
pub struct Timeline {
    options: TimelineOptions,
    seed: u64,
    /// Each snapshot's time (ticks).
    snapshots: Vec<i64>,
    world: world::World,
    tenant: generate::Tenant,
    /// Per snapshot, per product: its newest release then.
    latest: Vec<Vec<u32>>,
    truth: OnceLock<Truth>,
}

impl fmt::Debug for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeline")
            .field("options", &self.options)
            .field("devices", &self.tenant.devices.len())
            .field("installations", &self.tenant.installations.len())
            .finish_non_exhaustive()
    }
}

impl Timeline {
    /// Generates the timeline of `options`.
    pub fn generate(options: TimelineOptions) -> Timeline {
        let days = options.days.clamp(1, MAX_DAYS) as i64;
        // Within the calendar the releases are drawn on (chrono's, and KB numbers' range).
        let last_day = crate::time::ticks_of(options.end)
            .div_euclid(DAY)
            .clamp(FIRST_END_DAY, LAST_END_DAY);
        let first_day = last_day - (days - 1);
        let snapshots: Vec<i64> = (first_day..=last_day)
            .map(|day| day * DAY + 6 * HOUR)
            .collect();
        // Far enough back for the history of the devices there from the start (onboarded up
        // to 365 days before the first snapshot, up to three releases behind).
        let world = world::World::build(first_day - 800, last_day);
        let latest = snapshots
            .iter()
            .map(|&t| {
                world
                    .products
                    .iter()
                    .map(|p| p.latest_at(t) as u32)
                    .collect()
            })
            .collect();
        let tenant = generate::tenant(options.seed, options.devices, &snapshots, &world);
        Timeline {
            seed: options.seed,
            options,
            snapshots,
            world,
            tenant,
            latest,
            truth: OnceLock::new(),
        }
    }

    /// The options it was generated with.
    pub fn options(&self) -> &TimelineOptions {
        &self.options
    }

    /// How many daily snapshots.
    pub fn snapshots(&self) -> usize {
        self.snapshots.len()
    }

    /// The time snapshot `snapshot` was taken (its `generatedTime`: 06:00:00 UTC of its day);
    /// past the last, the time it would be taken.
    pub fn snapshot_time(&self, snapshot: usize) -> SystemTime {
        crate::time::system_time(self.snapshot_tick(snapshot))
    }

    /// The snapshot's time as the service writes `generatedTime`: `2026-10-14T06:00:00Z`.
    pub fn generated_time(&self, snapshot: usize) -> String {
        crate::time::rfc3339(self.snapshot_tick(snapshot))
    }

    fn snapshot_tick(&self, snapshot: usize) -> i64 {
        let first = self.snapshots.first().copied().unwrap_or_default();
        let days = i64::try_from(snapshot).unwrap_or(i64::MAX);
        first.saturating_add(DAY.saturating_mul(days))
    }

    /// The last snapshot's time (ticks).
    fn last_tick(&self) -> i64 {
        self.snapshots.last().copied().unwrap_or_default()
    }

    /// The rows of snapshot `snapshot`, device by device, each device's installations in turn
    /// (the OS first), each installation's exposures by CVE, or its one row without a CVE;
    /// none past the last snapshot. Made as they are read.
    pub fn rows(&self, snapshot: usize) -> impl Iterator<Item = TimelineRow<'_>> + '_ {
        let devices = if snapshot < self.snapshots.len() {
            self.tenant.devices.len()
        } else {
            0
        };
        (0..devices)
            .filter_map(move |d| self.device_at(d, snapshot))
            .flat_map(move |at| self.device_rows(at))
    }

    /// The change feed of snapshots `after + 1` to `through`: what each found changed since
    /// the snapshot before, in order (see [`changes_iter`](Self::changes_iter), which streams
    /// the same).
    pub fn changes(&self, after: usize, through: usize) -> Vec<TimelineChange<'_>> {
        self.changes_iter(after, through).collect()
    }

    /// The ground truth: every device, exposure, version change and release as data. Built on
    /// first use (it holds every exposure: meant for test sizes, not for 100,000 devices).
    pub fn truth(&self) -> &Truth {
        self.truth.get_or_init(|| self.build_truth())
    }
}
