//! The open exposures at each tenant's last snapshot, oldest first: what the report lists as
//! the oldest open critical exposures.

use std::collections::{HashMap, HashSet};

use super::changes::{ExposureRow, exposure_row};
use super::load::{self, Standing};
use crate::error::Error;
use crate::store::Store;

impl Store {
    /// The `limit` oldest exposures open at each tenant's last snapshot (of `severity` only,
    /// when given: `Critical`, `High`, …), oldest first (by the service's first-seen time).
    pub fn oldest_open(
        &self,
        tenant: Option<&str>,
        severity: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ExposureRow>, Error> {
        let tenant_id = load::tenant(&self.conn, tenant)?;
        let points = load::points(&self.conn, tenant_id)?;
        let across = tenant.is_none()
            && points
                .iter()
                .map(|p| p.tenant)
                .collect::<HashSet<_>>()
                .len()
                > 1;
        let last: HashMap<i64, i64> = points.iter().map(|p| (p.tenant, p.at)).collect();
        let cves = load::severities(&self.conn)?;
        let mut open: Vec<(i64, i64)> = Vec::new();
        load::each_exposure(&self.conn, tenant_id, &points, |e| {
            let of_severity =
                severity.is_none_or(|s| cves.get(&e.cve).and_then(|c| c.as_deref()) == Some(s));
            let is_open = last
                .get(&e.tenant)
                .is_some_and(|&at| matches!(e.at(at), Standing::Open { .. }));
            if of_severity && is_open {
                open.push((e.first_seen, e.id));
            }
        })?;
        open.sort_unstable();
        open.truncate(limit);
        let named = load::named(&self.conn, open.iter().map(|(_, id)| *id))?;
        Ok(open
            .iter()
            .filter_map(|(first_seen, id)| {
                named
                    .get(id)
                    .map(|n| exposure_row(n, *first_seen, None, across))
            })
            .collect())
    }
}
