//! The rules that make a tenant from its seed, over the world's releases: devices in groups,
//! who joins, leaves and moves, what each device runs, and when it installs each update.
//!
//! - A device gets a group by the groups' shares, a name numbered within its group, an OS by
//!   its kind (workstations: Windows 11 60%, Windows 10; servers: Server 2022 55%, 2019), and a
//!   patching speed ([`PATCHING`]: fast, normal, slow, or never).
//! - Roles, drawn over a shuffle of the devices, one role each: 10% are **onboarded** during the
//!   timeline (at 07:00 to 17:00 UTC the day before the snapshot they first show in), 5% are
//!   **retired** (the same hours, the day before the first snapshot they are absent from), 4%
//!   of the workstations **move** to another workstation group; each at least one when the
//!   tenant has a handful of devices and two snapshots or more. The others were onboarded 120
//!   to 365 days before the first snapshot, so the first snapshot shows a tenant already
//!   running.
//! - Installations: the OS, then each application by its install rate (workstation or server;
//!   Python and Git on 60% of Engineering's workstations), each at the newest release when the
//!   device was onboarded or one to three behind (50% newest, 30% one, 15% two, 5% three).
//! - Patching: once a release the installation lacks is seen on it (its first-seen time), the
//!   device schedules an upgrade after a delay drawn from a log-normal law (σ 0.6) whose median
//!   is that of the release's worst severity ([`MEDIAN_DAYS_TO_PATCH`]) times the device's speed
//!   and the application's urgency (at least 1.2 days, so every exposure shows in a snapshot);
//!   a worse release seen later can only bring the upgrade forward. The upgrade installs the
//!   newest release out at its time (so a cumulative update supersedes the older ones it
//!   includes). A device that never patches (during the timeline) patched at normal speed until
//!   the first snapshot, then stopped (a broken update agent). Nothing happens after a device
//!   is retired, nor after the last snapshot.

use std::ops::Range;

use super::catalog::{GROUPS, MEDIAN_DAYS_TO_PATCH, PATCHING};
use super::rules::detection;
use super::world::World;
use super::{DAY, HOUR, mix, pick, span, unit};

/// Salts of the tenant's draws.
mod salt {
    pub(super) const DEVICE: u64 = 101;
    pub(super) const ROLES: u64 = 102;
    pub(super) const GROUP: u64 = 103;
}

/// A device.
#[derive(Debug, Clone)]
pub(super) struct Device {
    /// 40 hex digits.
    pub(super) id: String,
    /// For example `ws-fin-0042.contoso.com`.
    pub(super) name: String,
    /// Index into [`GROUPS`] of its first group.
    pub(super) group: usize,
    /// When it moved (ticks), and to which group.
    pub(super) moved: Option<(i64, usize)>,
    /// When it was onboarded (ticks).
    pub(super) onboarded: i64,
    /// When it was offboarded (ticks).
    pub(super) retired: Option<i64>,
    /// Whether it ever installs an update.
    pub(super) patches: bool,
    /// Its installations (indexes into [`Tenant::installations`]), the OS first.
    pub(super) installations: Range<u32>,
}

impl Device {
    /// Whether it is in the tenant at `tick`.
    pub(super) fn present_at(&self, tick: i64) -> bool {
        self.onboarded <= tick && self.retired.is_none_or(|retired| tick < retired)
    }

    /// Its group (index into [`GROUPS`]) at `tick`.
    pub(super) fn group_at(&self, tick: i64) -> usize {
        match self.moved {
            Some((at, group)) if at <= tick => group,
            _ => self.group,
        }
    }
}

/// A product installed on a device.
#[derive(Debug, Clone)]
pub(super) struct Installation {
    /// Index into [`Tenant::devices`].
    pub(super) device: u32,
    /// Index into the world's products.
    pub(super) product: u32,
    /// Its upgrades (indexes into [`Tenant::upgrades`]), the release it was onboarded with
    /// first.
    pub(super) history: Range<u32>,
}

/// An installation runs `release` from `tick` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Upgrade {
    /// When (ticks).
    pub(super) tick: i64,
    /// Index into the product's releases.
    pub(super) release: u32,
}

/// A tenant's devices, their installations and every installation's history.
#[derive(Debug, Clone, Default)]
pub(super) struct Tenant {
    /// The devices.
    pub(super) devices: Vec<Device>,
    /// The installations, device by device.
    pub(super) installations: Vec<Installation>,
    /// The installations' histories, one after the other.
    pub(super) upgrades: Vec<Upgrade>,
}

/// What a device is for during the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Initial,
    Onboarded,
    Retired,
    Moved,
}

/// The tenant of `count` devices generated from `seed`, over the snapshots at `snapshots`
/// (ticks, at least one).
pub(super) fn tenant(seed: u64, count: usize, snapshots: &[i64], world: &World) -> Tenant {
    let mut tenant = Tenant::default();
    let roles = roles(seed, count, snapshots.len());
    let mut numbers = [0usize; GROUPS.len()];
    for (d, role) in roles.into_iter().enumerate() {
        let mut rng = fastrand::Rng::with_seed(mix(seed, salt::DEVICE, d as u64, 0));
        let group = group_of(seed, d);
        numbers[group] += 1;
        let (_, prefix, _, server) = GROUPS[group];
        let os = match (server, rng.f64()) {
            (true, x) if x < 0.55 => 3,
            (true, _) => 2,
            (false, x) if x < 0.6 => 1,
            (false, _) => 0,
        };
        let id: String = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[rng.usize(..16)]))
            .collect();
        let shares: Vec<f64> = PATCHING.iter().map(|p| p.0).collect();
        let speed = PATCHING[pick(&shares, rng.f64())].1;
        let n = snapshots.len();
        let (mut onboarded, mut retired, mut moved) = (None, None, None);
        if role != Role::Initial {
            let s = 1 + rng.usize(..n - 1);
            // 07:00 to 17:00 UTC the day before snapshot `s` (snapshots are at 06:00).
            let at = snapshots[s] - DAY + HOUR + span(rng.u64(..), 10 * HOUR);
            match role {
                Role::Onboarded => onboarded = Some(at),
                Role::Retired => retired = Some(at),
                _ => {
                    let others: Vec<usize> = (0..GROUPS.len())
                        .filter(|&g| g != group && !GROUPS[g].3)
                        .collect();
                    moved = Some((at, others[rng.usize(..others.len())]));
                }
            }
        }
        let onboarded = onboarded.unwrap_or_else(|| {
            snapshots[0] - 120 * DAY - span(rng.u64(..), 245 * DAY) - span(rng.u64(..), 10 * HOUR)
        });
        let mut products = vec![os];
        for (p, product) in world.products.iter().enumerate().skip(4) {
            let rate = match product.name {
                "python" | "git" if group == 1 => 0.6,
                _ if server => product.rates.1,
                _ => product.rates.0,
            };
            if rng.f64() < rate {
                products.push(p);
            }
        }
        let first = tenant.installations.len() as u32;
        for product in products {
            let history = History {
                seed,
                installation: tenant.installations.len(),
                world,
                product,
                onboarded,
                // A device that never patches during the timeline stopped when it began.
                horizon: if speed.is_some() {
                    snapshots[n - 1]
                } else {
                    snapshots[0]
                },
                retired,
                speed: speed.unwrap_or(1.0),
            };
            let start = tenant.upgrades.len() as u32;
            history.simulate(&mut rng, &mut tenant.upgrades);
            tenant.installations.push(Installation {
                device: d as u32,
                product: product as u32,
                history: start..tenant.upgrades.len() as u32,
            });
        }
        tenant.devices.push(Device {
            id,
            name: format!("{prefix}-{:04}.contoso.com", numbers[group]),
            group,
            moved,
            onboarded,
            retired,
            patches: speed.is_some(),
            installations: first..tenant.installations.len() as u32,
        });
    }
    tenant
}

/// Each device's role: a shuffle of the devices, the first 10% onboarded, the next 5% retired,
/// then 4% of the rest's workstations (those whose drawn group is not a server group) moved.
fn roles(seed: u64, count: usize, snapshots: usize) -> Vec<Role> {
    let mut roles = vec![Role::Initial; count];
    if snapshots < 2 {
        return roles;
    }
    let share = |part: f64, at_least: usize| {
        let n = (count as f64 * part).round() as usize;
        if count >= at_least { n.max(1) } else { n }
    };
    let mut order: Vec<usize> = (0..count).collect();
    fastrand::Rng::with_seed(mix(seed, salt::ROLES, 0, 0)).shuffle(&mut order);
    let (onboarded, retired, moved) = (share(0.10, 2), share(0.05, 3), share(0.04, 4));
    let mut order = order.into_iter();
    for d in order.by_ref().take(onboarded) {
        roles[d] = Role::Onboarded;
    }
    for d in order.by_ref().take(retired) {
        roles[d] = Role::Retired;
    }
    for d in order.filter(|&d| !GROUPS[group_of(seed, d)].3).take(moved) {
        roles[d] = Role::Moved;
    }
    roles
}

/// The group (index into [`GROUPS`]) device `d` is in first, by the groups' shares.
fn group_of(seed: u64, d: usize) -> usize {
    let shares = GROUPS.map(|g| g.2);
    pick(&shares, unit(mix(seed, salt::GROUP, d as u64, 0)))
}

/// What an installation's history is drawn from.
struct History<'w> {
    seed: u64,
    installation: usize,
    world: &'w World,
    product: usize,
    onboarded: i64,
    /// No upgrade after it: the last snapshot's time (the first's for a device that stops
    /// patching).
    horizon: i64,
    retired: Option<i64>,
    /// The device's factor on the days to patch.
    speed: f64,
}

impl History<'_> {
    /// Pushes the installation's history: the release it was onboarded with, then each upgrade.
    fn simulate(&self, rng: &mut fastrand::Rng, upgrades: &mut Vec<Upgrade>) {
        let product = &self.world.products[self.product];
        let releases = &product.releases;
        let out = product.latest_at(self.onboarded);
        let lag = pick(&[0.5, 0.3, 0.15, 0.05], rng.f64());
        let mut current = out.saturating_sub(lag);
        upgrades.push(Upgrade {
            tick: self.onboarded,
            release: current as u32,
        });
        let factor = self.speed * product.urgency;
        let first_seen = |j: usize| {
            releases[j].tick.max(self.onboarded) + detection(self.seed, self.installation, j)
        };
        let mut delay = |worst: usize| {
            let z =
                (-2.0 * (1.0 - rng.f64()).ln()).sqrt() * (std::f64::consts::TAU * rng.f64()).cos();
            let days = (MEDIAN_DAYS_TO_PATCH[worst] * factor * (0.6 * z).exp()).clamp(1.2, 2000.0);
            (days * DAY as f64) as i64
        };
        // The releases it lacks when onboarded are seen then.
        let mut pending = releases
            .get(current + 1..=out)
            .into_iter()
            .flatten()
            .filter_map(|r| r.worst)
            .min()
            .map(|worst| first_seen(out) + delay(worst));
        let mut next = out + 1;
        let within = |tick: i64| tick <= self.horizon && self.retired.is_none_or(|r| tick < r);
        loop {
            let arrival = releases.get(next).map(|r| r.tick).filter(|&t| within(t));
            if let Some(at) = pending
                && arrival.is_none_or(|arrival| at < arrival)
            {
                if !within(at) {
                    break;
                }
                current = next - 1;
                upgrades.push(Upgrade {
                    tick: at,
                    release: current as u32,
                });
                pending = None;
                continue;
            }
            if arrival.is_none() {
                break;
            }
            let j = next;
            next += 1;
            if let Some(worst) = releases[j].worst {
                let at = first_seen(j) + delay(worst);
                pending = Some(pending.map_or(at, |p| p.min(at)));
            }
        }
    }
}
