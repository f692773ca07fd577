//! The export rows' open enums: how exploitable a vulnerability is, and what happened to it in
//! the changes export. Each keeps a value it does not know, as sent.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ExploitabilityLevel {
    /// A value this crate does not know, as sent.
    Other(String),
    /// No exploit is known.
    NoExploit,
    /// A public exploit exists.
    ExploitIsPublic,
    /// The exploit is verified.
    ExploitIsVerified,
    /// The exploit is in an exploit kit.
    ExploitIsInKit,
}

impl ExploitabilityLevel {
    /// The service's name for it.
    pub fn as_str(&self) -> &str {
        match self {
            ExploitabilityLevel::NoExploit => "NoExploit",
            ExploitabilityLevel::ExploitIsPublic => "ExploitIsPublic",
            ExploitabilityLevel::ExploitIsVerified => "ExploitIsVerified",
            ExploitabilityLevel::ExploitIsInKit => "ExploitIsInKit",
            ExploitabilityLevel::Other(other) => other,
        }
    }

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

impl From<&str> for ExploitabilityLevel {
    fn from(text: &str) -> Self {
        match text {
            "NoExploit" => ExploitabilityLevel::NoExploit,
            "ExploitIsPublic" => ExploitabilityLevel::ExploitIsPublic,
            "ExploitIsVerified" => ExploitabilityLevel::ExploitIsVerified,
            "ExploitIsInKit" => ExploitabilityLevel::ExploitIsInKit,
            other => ExploitabilityLevel::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for ExploitabilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ExploitabilityLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ExploitabilityLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(ExploitabilityLevel::from(text.as_ref()))
    }
}

impl schemars::JsonSchema for ExploitabilityLevel {
    fn schema_name() -> String {
        "ExploitabilityLevel".into()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            ..Default::default()
        }
        .into()
    }
}

/// What happened to a vulnerability, in the changes export: `New`, `Fixed`, `Updated`, or a value
/// this crate does not know, kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChangeStatus {
    /// The vulnerability appeared on the device.
    New,
    /// The vulnerability was fixed (or the device moved elsewhere).
    Fixed,
    /// Something about it changed.
    Updated,
    /// A value this crate does not know, as sent.
    Other(String),
}

impl ChangeStatus {
    /// The service's name for it.
    pub fn as_str(&self) -> &str {
        match self {
            ChangeStatus::New => "New",
            ChangeStatus::Fixed => "Fixed",
            ChangeStatus::Updated => "Updated",
            ChangeStatus::Other(other) => other,
        }
    }
}

impl Serialize for ChangeStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ChangeStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(match text.as_ref() {
            "New" => ChangeStatus::New,
            "Fixed" => ChangeStatus::Fixed,
            "Updated" => ChangeStatus::Updated,
            other => ChangeStatus::Other(other.to_owned()),
        })
    }
}

impl schemars::JsonSchema for ChangeStatus {
    fn schema_name() -> String {
        "ChangeStatus".into()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            ..Default::default()
        }
        .into()
    }
}
