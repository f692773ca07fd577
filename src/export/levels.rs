//! The export rows' open enums: how exploitable a vulnerability is, and what happened to it in
//! the changes export. Each keeps a value it does not know, as sent.

use crate::types::open_enum::open_enum;

open_enum! {
    /// How exploitable a vulnerability is, as the export reports it, from least to most: `Other`
    /// (a value this crate does not know, kept as sent), `NoExploit`, `ExploitIsPublic`,
    /// `ExploitIsVerified`, `ExploitIsInKit`.
    ///
    /// ```
    /// use defender_tvm::export::ExploitabilityLevel;
    ///
    /// let level: ExploitabilityLevel = serde_json::from_str("\"ExploitIsInKit\"").unwrap();
    /// assert!(level > ExploitabilityLevel::ExploitIsPublic);
    /// let unknown: ExploitabilityLevel = serde_json::from_str("\"ExploitIsRumoured\"").unwrap();
    /// assert_eq!(unknown, ExploitabilityLevel::Other("ExploitIsRumoured".into()));
    /// assert!(unknown < ExploitabilityLevel::NoExploit);
    /// ```
    pub enum ExploitabilityLevel as "ExploitabilityLevel" {
        /// No exploit is known.
        NoExploit,
        /// A public exploit exists.
        ExploitIsPublic,
        /// The exploit is verified.
        ExploitIsVerified,
        /// The exploit is in an exploit kit.
        ExploitIsInKit,
    }
}

impl ExploitabilityLevel {
    /// Whether an exploit exists (public, verified or in a kit).
    pub fn has_exploit(&self) -> bool {
        matches!(
            self,
            ExploitabilityLevel::ExploitIsPublic
                | ExploitabilityLevel::ExploitIsVerified
                | ExploitabilityLevel::ExploitIsInKit
        )
    }
}

open_enum! {
    /// What happened to a vulnerability, in the changes export: `New`, `Fixed`, `Updated`, or a
    /// value this crate does not know, kept as sent.
    pub enum ChangeStatus as "ChangeStatus" {
        /// The vulnerability appeared on the device.
        New,
        /// The vulnerability was fixed (or the device moved elsewhere).
        Fixed,
        /// Something about it changed.
        Updated,
    }
}
