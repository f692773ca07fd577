//! The export files' links, as Azure Blob Storage SAS URLs: each file link an export call
//! issues has a signature of its own (`sig`), valid until the expiry the call asked for
//! (`sasValidHours`), or until [`Faults::expire_links`](super::Faults::expire_links) expires it.

use std::collections::HashMap;
use std::sync::Mutex;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::lock;
use crate::time::rfc3339;

/// What an export file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Vulnerability rows (`SoftwareVulnerabilitiesExport`).
    Vulnerabilities,
    /// Inventory rows (`SoftwareInventoryExport`).
    Inventory,
}

impl Kind {
    fn folder(self) -> &'static str {
        match self {
            Kind::Vulnerabilities => "SoftwareVulnerabilities",
            Kind::Inventory => "SoftwareInventory",
        }
    }
}

/// One issued link.
#[derive(Debug, Clone)]
struct Link {
    kind: Kind,
    part: usize,
    path: String,
    issued: i64,
    expires: i64,
    /// How many times links had been expired on demand when it was issued.
    epoch: usize,
}

/// What a request's link is worth.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Check {
    /// Serve part `part` of `kind`.
    Valid { kind: Kind, part: usize },
    /// No such signature, or not for this file.
    Unknown,
    /// It expired at `expiry` (issued at `start`).
    Expired { start: i64, expiry: i64 },
}

/// Every link issued, by signature.
#[derive(Debug, Default)]
pub(crate) struct Links {
    by_signature: Mutex<HashMap<String, Link>>,
}

/// The storage service version the links name (`sv`).
pub(crate) const STORAGE_VERSION: &str = "2020-08-04";

impl Links {
    /// A fresh link to part `part` of `kind` of the snapshot labelled `snapshot`, under
    /// `files_base`, valid from `now` until `expires` (ticks), issued in expiry epoch `epoch`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn issue(
        &self,
        files_base: &str,
        snapshot: &str,
        kind: Kind,
        part: usize,
        now: i64,
        expires: i64,
        epoch: usize,
    ) -> String {
        let path = format!(
            "/exports/{snapshot}/{}/part-{part:05}.json.gz",
            kind.folder()
        );
        let mut by_signature = lock(&self.by_signature);
        let signature = loop {
            let signature = signature();
            if !by_signature.contains_key(&signature) {
                break signature;
            }
        };
        let url = format!(
            "{files_base}{path}?sv={STORAGE_VERSION}&se={}&sr=b&sp=r&sig={}",
            utf8_percent_encode(&rfc3339(expires), NON_ALPHANUMERIC),
            utf8_percent_encode(&signature, NON_ALPHANUMERIC),
        );
        by_signature.insert(
            signature,
            Link {
                kind,
                part,
                path,
                issued: now,
                expires,
                epoch,
            },
        );
        url
    }

    /// What a request for `path` with signature `signature` gets at `now`, links issued
    /// before the `n`-th expiry on demand having expired at `expired_at(n)`.
    pub(crate) fn check(
        &self,
        path: &str,
        signature: Option<&str>,
        now: i64,
        expired_at: impl Fn(usize) -> Option<i64>,
    ) -> Check {
        let Some(signature) = signature else {
            return Check::Unknown;
        };
        let Some(link) = lock(&self.by_signature).get(signature).cloned() else {
            return Check::Unknown;
        };
        if link.path != path {
            return Check::Unknown;
        }
        let expiry = expired_at(link.epoch).map_or(link.expires, |at| at.min(link.expires));
        if now >= expiry {
            return Check::Expired {
                start: link.issued,
                expiry,
            };
        }
        Check::Valid {
            kind: link.kind,
            part: link.part,
        }
    }
}

/// A random signature as storage writes them: 32 bytes in base64.
fn signature() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = (0..33).map(|_| fastrand::u8(..)).collect();
    let mut text = String::with_capacity(44);
    for three in bytes.chunks(3) {
        let n = three.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)) << (8 * (3 - three.len()));
        for shift in [18, 12, 6, 0] {
            text.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
        }
    }
    // 32 bytes in base64 end with one `=`.
    text.truncate(43);
    text.push('=');
    text
}
