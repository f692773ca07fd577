//! A list of strings that the service sometimes sends as one plain string, in place of the type
//! generated from the spec's `StringOrStrings` (see `build.rs`).

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A list of strings, read from a JSON array of strings, a single string (a list of one), or
/// `null` (an empty list).
///
/// Microsoft documents `cveSupportability` as a string collection, but the service has been seen
/// sending `"Supported"`; both decode, and callers always see a list. It dereferences to
/// `Vec<String>` and serializes as an array.
///
/// ```
/// use defender_tvm::types::StringList;
///
/// let one: StringList = serde_json::from_str(r#""Supported""#).unwrap();
/// let many: StringList = serde_json::from_str(r#"["Supported", "NotSupported"]"#).unwrap();
/// let none: StringList = serde_json::from_str("null").unwrap();
/// assert_eq!(one.as_slice(), ["Supported"]);
/// assert_eq!(many.len(), 2);
/// assert!(none.is_empty());
/// assert_eq!(serde_json::to_string(&one).unwrap(), r#"["Supported"]"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);

impl StringList {
    /// The strings, as a vector.
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl Deref for StringList {
    type Target = Vec<String>;

    fn deref(&self) -> &Vec<String> {
        &self.0
    }
}

impl DerefMut for StringList {
    fn deref_mut(&mut self) -> &mut Vec<String> {
        &mut self.0
    }
}

impl From<Vec<String>> for StringList {
    fn from(strings: Vec<String>) -> Self {
        Self(strings)
    }
}

impl<'a> From<Vec<&'a str>> for StringList {
    fn from(strings: Vec<&'a str>) -> Self {
        Self(strings.into_iter().map(str::to_owned).collect())
    }
}

impl IntoIterator for StringList {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a StringList {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Strings;

        impl<'de> Visitor<'de> for Strings {
            type Value = StringList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, an array of strings, or null")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<StringList, E> {
                Ok(StringList(vec![value.to_owned()]))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<StringList, E> {
                Ok(StringList(vec![value]))
            }

            fn visit_unit<E: de::Error>(self) -> Result<StringList, E> {
                Ok(StringList::default())
            }

            fn visit_none<E: de::Error>(self) -> Result<StringList, E> {
                Ok(StringList::default())
            }

            fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<StringList, D::Error> {
                inner.deserialize_any(Strings)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StringList, A::Error> {
                let mut strings = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(string) = seq.next_element::<String>()? {
                    strings.push(string);
                }
                Ok(StringList(strings))
            }
        }

        deserializer.deserialize_any(Strings)
    }
}

impl schemars::JsonSchema for StringList {
    fn schema_name() -> String {
        "StringOrStrings".to_owned()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, Metadata, SchemaObject, SubschemaValidation};
        SchemaObject {
            metadata: Some(Box::new(Metadata {
                description: Some(
                    "A string or an array of strings (or null); always read as a list.".to_owned(),
                ),
                ..Default::default()
            })),
            subschemas: Some(Box::new(SubschemaValidation {
                one_of: Some(vec![
                    SchemaObject {
                        instance_type: Some(InstanceType::String.into()),
                        ..Default::default()
                    }
                    .into(),
                    generator.subschema_for::<Vec<String>>(),
                ]),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}
