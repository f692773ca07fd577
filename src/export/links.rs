//! What a via-files export call returns: the snapshot's files, as signed links that are
//! secrets.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a via-files export call returns: the snapshot's files and when the snapshot was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExportFiles {
    /// The files, each a signed link to GZIP-compressed JSON lines on blob storage. The links
    /// are secrets until they expire (`sasValidHours`): they never show in `Debug`.
    #[serde(alias = "ExportFiles")]
    pub export_files: Vec<SasUrl>,
    /// When the snapshot was made (the service makes one every few hours).
    #[serde(alias = "GeneratedTime")]
    pub generated_time: DateTime<Utc>,
}

/// A signed link to an export file (an Azure Storage SAS URL: its query is the credential). Its
/// `Debug` shows the file's name only; there is no `Display`. (It serializes whole, as a mock of
/// the export call must send it.)
///
/// ```
/// use defender_tvm::export::SasUrl;
///
/// let url: SasUrl = serde_json::from_str(
///     "\"https://store.blob.core.windows.net/e/part-00001.json.gz?sv=2020&sig=abc\"",
/// )
/// .unwrap();
/// assert_eq!(url.file_name(), "part-00001.json.gz");
/// assert_eq!(format!("{url:?}"), "SasUrl(part-00001.json.gz, <redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SasUrl(url::Url);

impl SasUrl {
    /// The link itself. Handle with care: never log it.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }

    /// The file's name (the last segment of its path), to say which file something is about.
    pub fn file_name(&self) -> &str {
        self.0
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .filter(|name| !name.is_empty())
            .unwrap_or("(unnamed file)")
    }
}

impl fmt::Debug for SasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SasUrl({}, <redacted>)", self.file_name())
    }
}

impl Serialize for SasUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for SasUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        // The error never repeats the text: it is a secret.
        url::Url::parse(&text).map(SasUrl).map_err(|e| {
            serde::de::Error::custom(format!("an export file link is not a URL ({e})"))
        })
    }
}

impl schemars::JsonSchema for SasUrl {
    fn schema_name() -> String {
        "SasUrl".into()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            format: Some("uri".into()),
            ..Default::default()
        }
        .into()
    }
}
