//! The export rows on the wire: camelCase keys on the JSON pages (the rows' `Serialize`), and
//! PascalCase keys in the files (the camelCase key with its first letter upper-cased), with the
//! same values in the same order. Each key is written once below, in both cases.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{InventoryRow, VulnerabilityChange, VulnerabilityRow};

/// How the keys of a row are written: camelCase on the JSON pages, PascalCase in the export
/// files (the camelCase key with its first letter upper-cased).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Case {
    /// `deviceId`: the JSON pages.
    Camel,
    /// `DeviceId`: the export files.
    Pascal,
}

/// A row serialised with the keys of a [`Case`].
pub(crate) struct Cased<'r, T>(pub(crate) &'r T, pub(crate) Case);

/// What a row writes into a map.
pub(crate) trait Entries {
    /// Writes every key and value.
    fn entries<M: SerializeMap>(&self, map: &mut M, case: Case) -> Result<(), M::Error>;
}

/// Writes `key => value` entries, each key given as `"camelCase" "PascalCase"`.
macro_rules! entries {
    ($map:ident, $case:expr; $($camel:literal $pascal:literal => $value:expr,)*) => {
        $(
            $map.serialize_entry(
                match $case {
                    Case::Camel => $camel,
                    Case::Pascal => $pascal,
                },
                &$value,
            )?;
        )*
    };
}
pub(crate) use entries;

impl Entries for VulnerabilityRow<'_> {
    fn entries<M: SerializeMap>(&self, map: &mut M, case: Case) -> Result<(), M::Error> {
        entries!(map, case;
            "id" "Id" => self.id,
            "deviceId" "DeviceId" => self.device_id,
            "deviceName" "DeviceName" => self.device_name,
            "rbacGroupName" "RbacGroupName" => self.rbac_group_name,
            "rbacGroupId" "RbacGroupId" => self.rbac_group_id,
            "osPlatform" "OsPlatform" => self.os_platform,
            "osVersion" "OsVersion" => self.os_version,
            "osArchitecture" "OsArchitecture" => self.os_architecture,
            "softwareVendor" "SoftwareVendor" => self.software_vendor,
            "softwareName" "SoftwareName" => self.software_name,
            "softwareVersion" "SoftwareVersion" => self.software_version,
            "cveId" "CveId" => self.cve_id,
            "cvssScore" "CvssScore" => self.cvss_score,
            "vulnerabilitySeverityLevel" "VulnerabilitySeverityLevel" => self.vulnerability_severity_level,
            "recommendedSecurityUpdate" "RecommendedSecurityUpdate" => self.recommended_security_update,
            "recommendedSecurityUpdateId" "RecommendedSecurityUpdateId" => self.recommended_security_update_id,
            "recommendedSecurityUpdateUrl" "RecommendedSecurityUpdateUrl" => self.recommended_security_update_url,
            "securityUpdateAvailable" "SecurityUpdateAvailable" => self.security_update_available,
            "exploitabilityLevel" "ExploitabilityLevel" => self.exploitability_level,
            "firstSeenTimestamp" "FirstSeenTimestamp" => self.first_seen_timestamp,
            "lastSeenTimestamp" "LastSeenTimestamp" => self.last_seen_timestamp,
            "diskPaths" "DiskPaths" => self.disk_paths,
            "registryPaths" "RegistryPaths" => self.registry_paths,
            "recommendationReference" "RecommendationReference" => self.recommendation_reference,
            "endOfSupportStatus" "EndOfSupportStatus" => self.end_of_support_status,
            "endOfSupportDate" "EndOfSupportDate" => self.end_of_support_date,
            "cveBatchTitle" "CveBatchTitle" => self.cve_batch_title,
        );
        Ok(())
    }
}

impl Entries for VulnerabilityChange<'_> {
    fn entries<M: SerializeMap>(&self, map: &mut M, case: Case) -> Result<(), M::Error> {
        self.row.entries(map, case)?;
        entries!(map, case;
            "status" "Status" => self.status.as_str(),
            "eventTimestamp" "EventTimestamp" => self.event_timestamp,
        );
        Ok(())
    }
}

impl Entries for InventoryRow<'_> {
    fn entries<M: SerializeMap>(&self, map: &mut M, case: Case) -> Result<(), M::Error> {
        entries!(map, case;
            "id" "Id" => self.id,
            "deviceId" "DeviceId" => self.device_id,
            "deviceName" "DeviceName" => self.device_name,
            "rbacGroupName" "RbacGroupName" => self.rbac_group_name,
            "rbacGroupId" "RbacGroupId" => self.rbac_group_id,
            "osPlatform" "OsPlatform" => self.os_platform,
            "osVersion" "OsVersion" => self.os_version,
            "osArchitecture" "OsArchitecture" => self.os_architecture,
            "softwareVendor" "SoftwareVendor" => self.software_vendor,
            "softwareName" "SoftwareName" => self.software_name,
            "softwareVersion" "SoftwareVersion" => self.software_version,
            "numberOfWeaknesses" "NumberOfWeaknesses" => self.number_of_weaknesses,
            "diskPaths" "DiskPaths" => self.disk_paths,
            "registryPaths" "RegistryPaths" => self.registry_paths,
            "softwareFirstSeenTimestamp" "SoftwareFirstSeenTimestamp" => self.software_first_seen_timestamp,
            "endOfSupportStatus" "EndOfSupportStatus" => self.end_of_support_status,
            "endOfSupportDate" "EndOfSupportDate" => self.end_of_support_date,
        );
        Ok(())
    }
}

impl<T: Entries> Serialize for Cased<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.0.entries(&mut map, self.1)?;
        map.end()
    }
}

/// With the JSON pages' camelCase keys.
impl Serialize for VulnerabilityRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Cased(self, Case::Camel).serialize(serializer)
    }
}

/// With the JSON pages' camelCase keys: the row's, then `status` and `eventTimestamp`.
impl Serialize for VulnerabilityChange<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Cased(self, Case::Camel).serialize(serializer)
    }
}

/// With the JSON pages' camelCase keys.
impl Serialize for InventoryRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Cased(self, Case::Camel).serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::{Estate, Size};

    fn keys(value: &serde_json::Value) -> Vec<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    /// Every PascalCase key is its camelCase key with the first letter upper-cased, and the
    /// values are the same.
    #[test]
    fn pascal_keys_are_camel_keys_capitalised() {
        let estate = Estate::generate(
            5,
            Size {
                devices: 20,
                software: 30,
            },
        );
        let row = estate.vulnerability_rows().next().unwrap();
        let change = estate.changes(std::time::UNIX_EPOCH).next().unwrap();
        let inventory = estate.inventory_rows().next().unwrap();
        let pairs = [
            (
                serde_json::to_value(Cased(&row, Case::Camel)).unwrap(),
                serde_json::to_value(Cased(&row, Case::Pascal)).unwrap(),
            ),
            (
                serde_json::to_value(Cased(&change, Case::Camel)).unwrap(),
                serde_json::to_value(Cased(&change, Case::Pascal)).unwrap(),
            ),
            (
                serde_json::to_value(Cased(&inventory, Case::Camel)).unwrap(),
                serde_json::to_value(Cased(&inventory, Case::Pascal)).unwrap(),
            ),
        ];
        for (camel, pascal) in pairs {
            let camel_keys = keys(&camel);
            assert_eq!(camel_keys.len(), keys(&pascal).len());
            for key in camel_keys {
                assert!(key.starts_with(|c: char| c.is_ascii_lowercase()), "{key}");
                let capitalised = format!("{}{}", key[..1].to_ascii_uppercase(), &key[1..]);
                assert_eq!(camel[&key], pascal[&capitalised], "{key}");
            }
        }
        assert_eq!(
            serde_json::to_value(&row).unwrap(),
            serde_json::to_value(Cased(&row, Case::Camel)).unwrap()
        );
    }
}
