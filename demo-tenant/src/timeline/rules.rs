//! What an installation is exposed to, from its history (the release it was onboarded with,
//! then each upgrade) and the world's releases. Two readings of the same rules: the exposures
//! open at one time ([`Timeline::open_at`], which the rows and the change feed are made from),
//! and every exposure's intervals over the whole timeline ([`Timeline::intervals`], which the
//! truth is made from). The tests check that they agree.
//!
//! The rules, for an installation running release `r` of a product:
//! - **Exposed**: to every CVE of each release newer than `r` once it is out; first seen 1 to 12
//!   hours after the release (or after the device's onboarding, for the releases out by then),
//!   so before the next 06:00 snapshot.
//! - **Fixed**: by the upgrade to a release at least as new as the CVE's: an upgrade fixes the
//!   CVEs of every release it skips (a cumulative update supersedes the older ones).
//! - **Upgrade keeps a CVE**: 5% of the upgrades of a third-party application keep one of the
//!   CVEs they should fix, on the new version, until the next upgrade (never a cumulative
//!   update: those fix everything older).
//! - **Fix undone**: 2% of the (installation, CVE) pairs come back 2 to 12 days after their fix
//!   (a rolled-back update, a file left behind), on the version the installation runs then,
//!   with their original first-seen time, until the next upgrade fixes them again; if that
//!   upgrade comes first, the fix holds. An exposure comes back at most once.
//! - **Retired**: a retired device's exposures end when it leaves; nothing is seen after.

use super::generate::Upgrade;
use super::{DAY, HOUR, Timeline, mix, span, unit};

/// Salts of the exposures' draws.
mod salt {
    pub(super) const DETECTION: u64 = 301;
    pub(super) const KEPT: u64 = 302;
    pub(super) const REOPEN: u64 = 303;
    pub(super) const WHOLE_SECOND: u64 = 304;
}

/// The share of third-party upgrades that keep one CVE.
const KEPT_SHARE: f64 = 0.05;
/// The share of (installation, CVE) pairs whose fix is undone.
const REOPEN_SHARE: f64 = 0.02;

/// How long after a release (or the device's onboarding) installation `installation` first
/// sees the CVEs of `release`: 1 to 12 hours.
pub(super) fn detection(seed: u64, installation: usize, release: usize) -> i64 {
    HOUR + span(
        mix(seed, salt::DETECTION, installation as u64, release as u64),
        11 * HOUR,
    )
}

/// An exposure open at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Open {
    /// Index into the world's CVEs.
    pub(super) cve: u32,
    /// The release (index into the product's) whose CVE it is.
    pub(super) release: u32,
    /// When it was first seen (ticks, before any truncation to the second).
    pub(super) first_seen: i64,
}

/// Why an interval ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// An upgrade fixed it.
    Fixed,
    /// The device left the tenant.
    Retired,
}

/// An interval an installation was exposed to a CVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Interval {
    /// The exposure.
    pub(super) open: Open,
    /// When it opened (ticks): its first-seen time, or when the fix was undone.
    pub(super) from: i64,
    /// When it ended, and why; none while it is open at the end of the timeline.
    pub(super) to: Option<(i64, End)>,
}

impl Timeline {
    /// The history of installation `i`: the release it was onboarded with, then each upgrade.
    pub(super) fn history(&self, i: usize) -> &[Upgrade] {
        let range = &self.tenant.installations[i].history;
        &self.tenant.upgrades[range.start as usize..range.end as usize]
    }

    /// The index in the history of installation `i` of the upgrade in force at `tick`.
    pub(super) fn upgrade_at(&self, i: usize, tick: i64) -> usize {
        self.history(i)
            .partition_point(|u| u.tick <= tick)
            .saturating_sub(1)
    }

    /// When installation `i` first saw the CVEs of release `j`.
    pub(super) fn first_seen(&self, i: usize, j: usize) -> i64 {
        let installation = &self.tenant.installations[i];
        let device = &self.tenant.devices[installation.device as usize];
        let released = self.world.products[installation.product as usize].releases[j].tick;
        released.max(device.onboarded) + detection(self.seed, i, j)
    }

    /// Whether the row of installation `i` and `cve` is written without a fraction of a second
    /// (one in eight, as the service sometimes does).
    pub(super) fn whole_second(&self, i: usize, cve: u32) -> bool {
        mix(self.seed, salt::WHOLE_SECOND, i as u64, u64::from(cve)).is_multiple_of(8)
    }

    /// The CVEs (with their release) the `k`-th upgrade of installation `i` fixes by the rule:
    /// those of the releases it skips, first seen before it.
    fn upgrade_fixes(&self, i: usize, k: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        let history = self.history(i);
        let product = &self.world.products[self.tenant.installations[i].product as usize];
        let (from, to, at) = match (
            k.checked_sub(1).and_then(|p| history.get(p)),
            history.get(k),
        ) {
            (Some(before), Some(upgrade)) => (before.release + 1, upgrade.release, upgrade.tick),
            _ => (1, 0, 0),
        };
        (from..=to)
            .filter(move |&j| self.first_seen(i, j as usize) < at)
            .flat_map(move |j| {
                product.releases[j as usize]
                    .cves
                    .iter()
                    .map(move |&cve| (cve, j))
            })
    }

    /// The CVE (with its release) the `k`-th upgrade of installation `i` keeps, if any.
    pub(super) fn kept(&self, i: usize, k: usize) -> Option<(u32, u32)> {
        let product = &self.world.products[self.tenant.installations[i].product as usize];
        if k == 0 || product.platform.is_some() {
            return None;
        }
        let hash = mix(self.seed, salt::KEPT, i as u64, k as u64);
        if unit(hash) >= KEPT_SHARE {
            return None;
        }
        let count = self.upgrade_fixes(i, k).count();
        let nth = mix(hash, 1, 0, 0) % (count.max(1) as u64);
        self.upgrade_fixes(i, k).nth(nth as usize)
    }

    /// The CVEs (with their release) the `k`-th upgrade of installation `i` fixes: those of the
    /// rule but the one it keeps, and the one the upgrade before kept.
    pub(super) fn fixed_by(&self, i: usize, k: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        let kept = self.kept(i, k);
        let kept_before = k.checked_sub(1).and_then(|p| self.kept(i, p));
        self.upgrade_fixes(i, k)
            .filter(move |&fix| Some(fix) != kept)
            .chain(kept_before)
    }

    /// How long after its fix the exposure of installation `i` to `cve` comes back, if it does.
    pub(super) fn reopens_after(&self, i: usize, cve: u32) -> Option<i64> {
        let hash = mix(self.seed, salt::REOPEN, i as u64, u64::from(cve));
        (unit(hash) < REOPEN_SHARE).then(|| 2 * DAY + span(mix(hash, 1, 0, 0), 10 * DAY))
    }

    /// What installation `i` is exposed to at `tick`, given the newest release of its product
    /// then (`latest`), sorted by CVE; the caller checks that its device is in the tenant then.
    pub(super) fn open_at(&self, i: usize, tick: i64, latest: usize, open: &mut Vec<Open>) {
        open.clear();
        let history = self.history(i);
        let k = self.upgrade_at(i, tick);
        let Some(upgrade) = history.get(k) else {
            return;
        };
        let product = &self.world.products[self.tenant.installations[i].product as usize];
        let current = upgrade.release as usize;
        for j in current + 1..=latest {
            let first_seen = self.first_seen(i, j);
            if first_seen <= tick {
                open.extend(product.releases[j].cves.iter().map(|&cve| Open {
                    cve,
                    release: j as u32,
                    first_seen,
                }));
            }
        }
        let open_one = |(cve, release): (u32, u32)| Open {
            cve,
            release,
            first_seen: self.first_seen(i, release as usize),
        };
        open.extend(self.kept(i, k).map(open_one));
        if k > 0 {
            for fix in self.fixed_by(i, k) {
                if self
                    .reopens_after(i, fix.0)
                    .is_some_and(|after| upgrade.tick + after <= tick)
                {
                    open.push(open_one(fix));
                }
            }
        }
        open.sort_unstable_by_key(|o| o.cve);
    }

    /// Every interval installation `i` was exposed to a CVE, by release, then CVE.
    pub(super) fn intervals(&self, i: usize) -> Vec<Interval> {
        let history = self.history(i);
        let installation = &self.tenant.installations[i];
        let device = &self.tenant.devices[installation.device as usize];
        let product = &self.world.products[installation.product as usize];
        let Some(onboarded_with) = history.first() else {
            return Vec::new();
        };
        let retired = device.retired;
        // An end by an upgrade, or the device's retirement, or none.
        let end = |upgrade: Option<&Upgrade>| match (upgrade, retired) {
            (Some(upgrade), _) => Some((upgrade.tick, End::Fixed)),
            (None, Some(retired)) => Some((retired, End::Retired)),
            (None, None) => None,
        };
        let mut intervals = Vec::new();
        for j in onboarded_with.release as usize + 1..product.releases.len() {
            let first_seen = self.first_seen(i, j);
            if first_seen > self.last_tick() || retired.is_some_and(|r| first_seen >= r) {
                continue;
            }
            // The upgrade that brings release `j` or a newer one.
            let fixing = (1..history.len()).find(|&k| history[k].release as usize >= j);
            if fixing.is_some_and(|k| history[k].tick <= first_seen) {
                continue; // Updated before it was seen.
            }
            for &cve in &product.releases[j].cves {
                let open = Open {
                    cve,
                    release: j as u32,
                    first_seen,
                };
                let fixed_at = match fixing {
                    Some(k) if self.kept(i, k) == Some((cve, j as u32)) => {
                        Some(k + 1).filter(|&next| next < history.len())
                    }
                    other => other,
                };
                intervals.push(Interval {
                    open,
                    from: first_seen,
                    to: end(fixed_at.map(|k| &history[k])),
                });
                let Some(f) = fixed_at else { continue };
                let Some(after) = self.reopens_after(i, cve) else {
                    continue;
                };
                let back = history[f].tick + after;
                let next = history.get(f + 1);
                if next.is_none_or(|n| back < n.tick) && retired.is_none_or(|r| back < r) {
                    intervals.push(Interval {
                        open,
                        from: back,
                        to: end(next),
                    });
                }
            }
        }
        intervals
    }
}
