//! The severity of a vulnerability, in place of the enum generated from the spec's
//! `VulnerabilitySeverity` (see `build.rs`): a severity the client does not know yet decodes as
//! [`Severity::Other`] instead of failing the whole page.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The severity of a vulnerability.
///
/// ```
/// use defender_tvm::types::Severity;
///
/// assert_eq!("High".parse::<Severity>().unwrap(), Severity::High);
/// assert_eq!("Severe".parse::<Severity>().unwrap(), Severity::Other("Severe".into()));
/// assert!(Severity::Critical > Severity::Low);
/// // A severity this version does not know ranks below every known one.
/// assert!(Severity::Other("Severe".into()) < Severity::Low);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
    /// A value this version of the client does not know, kept as sent.
    Other(String),
}

impl Severity {
    /// The value as the service writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
            Severity::Other(other) => other,
        }
    }
}

impl Severity {
    /// The rank for ordering: unknown values below `Low`.
    fn rank(&self) -> u8 {
        match self {
            Severity::Other(_) => 0,
            Severity::Low => 1,
            Severity::Medium => 2,
            Severity::High => 3,
            Severity::Critical => 4,
        }
    }
}

/// `Other(_) < Low < Medium < High < Critical`; unknown values compare by their text. An unknown
/// severity ranks below every known one, so sorting by severity never puts it first.
impl Ord for Severity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank()
            .cmp(&other.rank())
            .then_with(|| match (self, other) {
                (Severity::Other(a), Severity::Other(b)) => a.cmp(b),
                _ => std::cmp::Ordering::Equal,
            })
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Severity {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "Low" => Severity::Low,
            "Medium" => Severity::Medium,
            "High" => Severity::High,
            "Critical" => Severity::Critical,
            other => Severity::Other(other.to_owned()),
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let Ok(severity) = text.parse();
        Ok(severity)
    }
}

impl schemars::JsonSchema for Severity {
    fn schema_name() -> String {
        "VulnerabilitySeverity".to_owned()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            metadata: Some(Box::new(schemars::schema::Metadata {
                description: Some(
                    "Low, Medium, High or Critical; other values are kept as sent.".to_owned(),
                ),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::Severity;

    #[test]
    fn unknown_severities_sort_below_low() {
        let mut all = vec![
            Severity::Critical,
            Severity::Other("Severe".into()),
            Severity::Low,
            Severity::High,
            Severity::Other("Extreme".into()),
            Severity::Medium,
        ];
        all.sort();
        assert_eq!(
            all,
            [
                Severity::Other("Extreme".into()),
                Severity::Other("Severe".into()),
                Severity::Low,
                Severity::Medium,
                Severity::High,
                Severity::Critical,
            ]
        );
    }
}
