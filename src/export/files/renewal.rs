//! The export's links, renewed once for all the files when storage refuses them (a link
//! expired), and refused when the service made a new snapshot meanwhile.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::{Counters, Kind};
use crate::client::Client;
use crate::error::{Error, ExportError, ExportErrorKind};
use crate::export::SasUrl;
use crate::export::calls::SasValidHours;

/// The export's links, renewed (once for all the files) when storage refuses them.
pub(super) struct Links {
    pub(super) client: Client,
    pub(super) kind: Kind,
    pub(super) valid: SasValidHours,
    pub(super) generated_time: DateTime<Utc>,
    /// The links, and how many times they were renewed.
    pub(super) current: tokio::sync::Mutex<(u64, Vec<SasUrl>)>,
    pub(super) counters: Arc<Counters>,
}

impl Links {
    /// File `index`'s link now, and the links' generation.
    pub(super) async fn get(&self, index: usize) -> Option<(u64, SasUrl)> {
        let current = self.current.lock().await;
        current.1.get(index).map(|url| (current.0, url.clone()))
    }

    /// Fresh links, unless they were renewed since generation `seen` (then those). A new
    /// snapshot in between is an error: its files are not this one's.
    pub(super) async fn renew(&self, seen: u64, file: &str) -> Result<(), Error> {
        let mut current = self.current.lock().await;
        if current.0 != seen {
            return Ok(());
        }
        let fresh = self.kind.export(&self.client, self.valid).await?;
        self.counters.link_renewals.fetch_add(1, Ordering::Relaxed);
        if fresh.generated_time != self.generated_time
            || fresh.export_files.len() != current.1.len()
        {
            return Err(Error::Export(Box::new(ExportError::new(
                ExportErrorKind::SnapshotChanged,
                file,
                None,
                1,
                format!(
                    "the service made a new snapshot ({}, {} files) while this one ({}, {} \
                     files) was read; read the export again",
                    fresh.generated_time,
                    fresh.export_files.len(),
                    self.generated_time,
                    current.1.len()
                ),
            ))));
        }
        *current = (seen + 1, fresh.export_files);
        Ok(())
    }
}
