//! How each software shows on the export rows, computed once per software and KB: its files and
//! registry keys, the recommendation reference, the update that fixes a third-party product's
//! exposure, whether its oldest version is out of support, and each KB's CVE batch title.

use super::catalog::{PRESENCE, title_words};
use super::rows::mix;
use super::{Kb, Software};

/// What the rows of one software share.
#[derive(Debug, Clone)]
pub(super) struct Presence {
    /// Files the software is found by.
    pub(super) disk_paths: Vec<String>,
    /// Registry keys it is found by.
    pub(super) registry_paths: Vec<String>,
    /// `va-_-{vendor}-_-{product}`.
    pub(super) recommendation_reference: String,
    /// `Update Google Chrome to version 130.0.6723.70` (none when one version is all there is).
    pub(super) update: Option<String>,
    /// Whether its oldest version is out of support (`EOS Version`).
    pub(super) old_version_end_of_support: bool,
}

const UNINSTALL: &str = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall";
const UNINSTALL_32: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall";

/// The presence of software `index` of an estate generated from `seed`.
pub(super) fn presence(seed: u64, index: usize, software: &Software) -> Presence {
    let known = PRESENCE
        .iter()
        .find(|(product, ..)| *product == software.name);
    let (display, disk_paths, key) = match known {
        Some(&(_, display, files, key)) => (
            display.to_owned(),
            files.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>(),
            key.to_owned(),
        ),
        None => {
            let vendor = title_words(&software.vendor);
            let product = title_words(&software.name);
            let exe = software.name.replace(['_', '-'], "");
            let guid = guid(mix(seed, 0x6u64, index as u64, 0));
            (
                format!("{vendor} {product}"),
                vec![format!(r"C:\Program Files\{vendor}\{product}\{exe}.exe")],
                guid,
            )
        }
    };
    let registry = if key.starts_with("HKEY_") {
        key
    } else if disk_paths.iter().any(|p| p.contains("(x86)")) {
        format!(r"{UNINSTALL_32}\{key}")
    } else {
        format!(r"{UNINSTALL}\{key}")
    };
    let update = match software.versions.as_slice() {
        [_, .., newest] => Some(format!("Update {display} to version {newest}")),
        _ => None,
    };
    Presence {
        disk_paths,
        registry_paths: vec![registry],
        recommendation_reference: format!("va-_-{}", software.id),
        update,
        old_version_end_of_support: software.versions.len() > 1
            && mix(seed, 0xE05, index as u64, 0).is_multiple_of(4),
    }
}

/// The CVE batch title of a KB's CVEs: `2025-10 Security Updates` for a monthly update, none for
/// the others.
pub(super) fn batch_title(kb: &Kb) -> Option<String> {
    let month = kb.name.get(..7)?;
    let monthly = month.len() == 7
        && month.as_bytes()[4] == b'-'
        && month
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 4 || b.is_ascii_digit())
        && kb.name.as_bytes().get(7) == Some(&b' ');
    monthly.then(|| format!("{month} Security Updates"))
}

/// A registry-style GUID from 64 random bits: `{8A69D345-D564-463C-AFF1-A69D9E530F96}`.
fn guid(bits: u64) -> String {
    let more = mix(bits, 0x9, 0, 0);
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:04X}-{:012X}}}",
        bits >> 32,
        (bits >> 16) & 0xFFFF,
        bits & 0xFFFF,
        more >> 48,
        more & 0xFFFF_FFFF_FFFF
    )
}
