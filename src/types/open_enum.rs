//! One way to write an open enum: a value the service sends that this version does not know
//! decodes as `Other(text)` instead of failing the whole page, and every such enum reads,
//! writes, orders and describes itself the same way.

/// An enum of the service's known values (each written as its variant's name) and `Other`.
///
/// It gets `as_str`, `From<&str>`, `FromStr` (infallible), `Display`, serde as a string, a
/// string JSON schema named `$schema`, and an order: `Other` below every known value (then by
/// its text), the known ones in the order written.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $schema:literal {
            $( $(#[$variant_meta:meta])* $variant:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
            /// A value this version of the client does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The known values, in their order.
            const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as the service writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => stringify!($variant), )+
                    $name::Other(other) => other,
                }
            }

            /// Its place in the order: 0 for `Other`, then the known values from 1.
            fn rank(&self) -> usize {
                Self::KNOWN
                    .iter()
                    .position(|known| known == self)
                    .map_or(0, |i| i + 1)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( stringify!($variant) => $name::$variant, )+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(text))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.rank().cmp(&other.rank()).then_with(|| match (self, other) {
                    ($name::Other(a), $name::Other(b)) => a.cmp(b),
                    _ => std::cmp::Ordering::Equal,
                })
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from(text.as_ref()))
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> String {
                $schema.to_owned()
            }

            fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                let known: Vec<&str> = Self::KNOWN.iter().map(Self::as_str).collect();
                schemars::schema::SchemaObject {
                    instance_type: Some(schemars::schema::InstanceType::String.into()),
                    metadata: Some(Box::new(schemars::schema::Metadata {
                        description: Some(format!(
                            "{}; other values are kept as sent.",
                            known.join(", ")
                        )),
                        ..Default::default()
                    })),
                    ..Default::default()
                }
                .into()
            }
        }
    };
}

pub(crate) use open_enum;

#[cfg(test)]
mod tests {
    use crate::export::{ChangeStatus, ExploitabilityLevel};
    use crate::types::Severity;

    #[test]
    fn open_enums_read_write_and_keep_what_they_do_not_know() {
        for text in ["Low", "Medium", "High", "Critical", "Severe", ""] {
            let severity = Severity::from(text);
            assert_eq!(severity.as_str(), text);
            assert_eq!(severity.to_string(), text);
            let json = serde_json::to_string(&severity).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Severity>(&json).unwrap(), severity);
        }
        assert_eq!(Severity::from("High"), Severity::High);
        assert_eq!(
            Severity::from("high"),
            Severity::Other("high".into()),
            "case kept"
        );
        assert_eq!(ChangeStatus::from("Fixed"), ChangeStatus::Fixed);
        assert_eq!(
            serde_json::from_str::<ChangeStatus>("\"Moved\"").unwrap(),
            ChangeStatus::Other("Moved".into())
        );
        assert_eq!(
            "ExploitIsVerified".parse::<ExploitabilityLevel>(),
            Ok(ExploitabilityLevel::ExploitIsVerified)
        );
    }

    #[test]
    fn an_unknown_value_orders_below_the_known_ones_which_keep_their_written_order() {
        let mut statuses = vec![
            ChangeStatus::Updated,
            ChangeStatus::Other("b".into()),
            ChangeStatus::New,
            ChangeStatus::Other("a".into()),
            ChangeStatus::Fixed,
        ];
        statuses.sort();
        assert_eq!(
            statuses,
            [
                ChangeStatus::Other("a".into()),
                ChangeStatus::Other("b".into()),
                ChangeStatus::New,
                ChangeStatus::Fixed,
                ChangeStatus::Updated,
            ]
        );
        assert!(ExploitabilityLevel::ExploitIsInKit > ExploitabilityLevel::ExploitIsVerified);
        assert!(ExploitabilityLevel::Other("x".into()) < ExploitabilityLevel::NoExploit);
    }

    #[test]
    fn each_schema_is_a_string_named_for_the_spec_listing_the_known_values() {
        let schema = serde_json::to_value(schemars::schema_for!(Severity)).unwrap();
        assert_eq!(schema["title"], "VulnerabilitySeverity");
        assert_eq!(schema["type"], "string");
        assert_eq!(
            schema["description"],
            "Low, Medium, High, Critical; other values are kept as sent."
        );
        let schema = serde_json::to_value(schemars::schema_for!(ChangeStatus)).unwrap();
        assert_eq!(
            schema["description"],
            "New, Fixed, Updated; other values are kept as sent."
        );
    }
}
