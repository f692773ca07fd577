//! What the facade knows about each operation that the generated code does not carry, in one
//! table: its `operationId`, the permissions it needs (application, delegated), as the spec's
//! descriptions state them, and the budget its calls count against.
//! `tests/it/spec_examples.rs` checks each against the spec.

use crate::error::Permission;

/// What the sending path knows about an operation.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) id: &'static str,
    pub(crate) permission: Permission,
    /// The budget its calls count against.
    pub(crate) budget: Budget,
}

/// Which budget a request counts against: the service limits each class of calls on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    /// Every call but the exports.
    General,
    /// The JSON export calls.
    JsonExport,
    /// The via-files export calls.
    FileExport,
    /// Requests to another origin (export files on blob storage), which no budget counts.
    None,
}

const SOFTWARE_READ: Permission = Permission::new("Software.Read.All", "Software.Read");
const VULNERABILITY_READ: Permission =
    Permission::new("Vulnerability.Read.All", "Vulnerability.Read");

/// `GET /api/Software/{Id}/getmissingkbs`.
pub(crate) const GET_MISSING_KBS_BY_SOFTWARE_ID: Operation = Operation {
    id: "get_missing_kbs_by_software_id",
    permission: SOFTWARE_READ,
    budget: Budget::General,
};

/// `GET /api/Software`.
pub(crate) const LIST_SOFTWARE: Operation = Operation {
    id: "list_software",
    permission: SOFTWARE_READ,
    budget: Budget::General,
};

/// `GET /api/Software/{Id}`.
pub(crate) const GET_SOFTWARE_BY_ID: Operation = Operation {
    id: "get_software_by_id",
    permission: SOFTWARE_READ,
    budget: Budget::General,
};

/// `GET /api/Software/{Id}/distributions`.
pub(crate) const LIST_SOFTWARE_VERSION_DISTRIBUTION: Operation = Operation {
    id: "list_software_version_distribution",
    permission: SOFTWARE_READ,
    budget: Budget::General,
};

/// `GET /api/Software/{Id}/vulnerabilities`.
pub(crate) const LIST_VULNERABILITIES_BY_SOFTWARE: Operation = Operation {
    id: "list_vulnerabilities_by_software",
    permission: VULNERABILITY_READ,
    budget: Budget::General,
};

/// `GET /api/Software/{Id}/machineReferences`.
pub(crate) const LIST_MACHINES_BY_SOFTWARE: Operation = Operation {
    id: "list_machines_by_software",
    permission: SOFTWARE_READ,
    budget: Budget::General,
};

/// `GET /api/machines/{machineId}/getmissingkbs`.
pub(crate) const GET_MISSING_KBS_BY_MACHINE_ID: Operation = Operation {
    id: "get_missing_kbs_by_machine_id",
    permission: SOFTWARE_READ,
    budget: Budget::General,
};

/// `GET /api/vulnerabilities/machinesVulnerabilities`.
pub(crate) const LIST_MACHINES_VULNERABILITIES: Operation = Operation {
    id: "list_machines_vulnerabilities",
    permission: VULNERABILITY_READ,
    budget: Budget::General,
};

/// `GET /api/machines/SoftwareVulnerabilitiesByMachine`.
pub(crate) const LIST_SOFTWARE_VULNERABILITIES_BY_MACHINE: Operation = Operation {
    id: "list_software_vulnerabilities_by_machine",
    permission: VULNERABILITY_READ,
    budget: Budget::JsonExport,
};

/// `GET /api/machines/SoftwareVulnerabilityChangesByMachine`.
pub(crate) const LIST_SOFTWARE_VULNERABILITY_CHANGES_BY_MACHINE: Operation = Operation {
    id: "list_software_vulnerability_changes_by_machine",
    permission: VULNERABILITY_READ,
    budget: Budget::JsonExport,
};

/// `GET /api/machines/SoftwareInventoryByMachine`.
pub(crate) const LIST_SOFTWARE_INVENTORY_BY_MACHINE: Operation = Operation {
    id: "list_software_inventory_by_machine",
    permission: SOFTWARE_READ,
    budget: Budget::JsonExport,
};

/// `GET /api/machines/SoftwareVulnerabilitiesExport`.
pub(crate) const EXPORT_SOFTWARE_VULNERABILITIES: Operation = Operation {
    id: "export_software_vulnerabilities",
    permission: VULNERABILITY_READ,
    budget: Budget::FileExport,
};

/// `GET /api/machines/SoftwareInventoryExport`.
pub(crate) const EXPORT_SOFTWARE_INVENTORY: Operation = Operation {
    id: "export_software_inventory",
    permission: SOFTWARE_READ,
    budget: Budget::FileExport,
};

/// A file of a via-files export, on blob storage: the link's signature is its credential, and no
/// budget counts it.
pub(crate) const DOWNLOAD_EXPORT_FILE: Operation = Operation {
    id: "download_export_file",
    permission: Permission::new(
        "(the file link's signature; ask for a fresh export)",
        "(the same)",
    ),
    budget: Budget::None,
};

/// Every API operation of the table (the file download is not one of the API's).
pub(crate) const ALL: [&Operation; 13] = [
    &GET_MISSING_KBS_BY_SOFTWARE_ID,
    &LIST_SOFTWARE,
    &GET_SOFTWARE_BY_ID,
    &LIST_SOFTWARE_VERSION_DISTRIBUTION,
    &LIST_VULNERABILITIES_BY_SOFTWARE,
    &LIST_MACHINES_BY_SOFTWARE,
    &GET_MISSING_KBS_BY_MACHINE_ID,
    &LIST_MACHINES_VULNERABILITIES,
    &LIST_SOFTWARE_VULNERABILITIES_BY_MACHINE,
    &LIST_SOFTWARE_VULNERABILITY_CHANGES_BY_MACHINE,
    &LIST_SOFTWARE_INVENTORY_BY_MACHINE,
    &EXPORT_SOFTWARE_VULNERABILITIES,
    &EXPORT_SOFTWARE_INVENTORY,
];

/// An API operation by `operationId` (for calls of the generated client, which name their
/// operation only by id).
pub(crate) fn by_id(id: &str) -> Option<&'static Operation> {
    ALL.into_iter().find(|operation| operation.id == id)
}
