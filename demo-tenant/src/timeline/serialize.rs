//! The timeline's rows on the wire, with the estate's machinery (`Case`, `Cased`, `Entries`):
//! camelCase keys on the JSON pages, PascalCase in the files, the same values in the same
//! order. Each key is written once below, in both cases.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{TimelineChange, TimelineRow};
use crate::estate::{Case, Cased, Entries, entries};

impl Entries for TimelineRow<'_> {
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
        );
        Ok(())
    }
}

impl Entries for TimelineChange<'_> {
    fn entries<M: SerializeMap>(&self, map: &mut M, case: Case) -> Result<(), M::Error> {
        self.row.entries(map, case)?;
        entries!(map, case;
            "status" "Status" => self.status.as_str(),
            "eventTimestamp" "EventTimestamp" => self.event_timestamp(),
            "isOnboarded" "IsOnboarded" => self.is_onboarded,
        );
        Ok(())
    }
}

/// With the JSON pages' camelCase keys.
impl Serialize for TimelineRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Cased(self, Case::Camel).serialize(serializer)
    }
}

/// With the JSON pages' camelCase keys: the row's, then `status`, `eventTimestamp` and
/// `isOnboarded`.
impl Serialize for TimelineChange<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Cased(self, Case::Camel).serialize(serializer)
    }
}

/// `value` as one JSON object with the keys of `case`.
pub(super) fn to_json<T: Entries>(value: &T, case: Case) -> String {
    // Writing into a string cannot fail, nor can these maps (string keys, plain values).
    serde_json::to_string(&Cased(value, case)).unwrap_or_default()
}
