//! What the facade knows about each operation that the generated code does not carry: its
//! `operationId` and the permissions it needs (application, delegated), as the spec's
//! descriptions state them. `tests/it/spec_examples.rs` checks each against the spec.

use crate::error::Permission;
use crate::transport::Operation;

const SOFTWARE_READ: Permission = Permission::new("Software.Read.All", "Software.Read");
const VULNERABILITY_READ: Permission =
    Permission::new("Vulnerability.Read.All", "Vulnerability.Read");

/// `GET /api/Software/{Id}/getmissingkbs`.
pub(crate) const GET_MISSING_KBS_BY_SOFTWARE_ID: Operation = Operation {
    id: "get_missing_kbs_by_software_id",
    permission: SOFTWARE_READ,
};

/// `GET /api/Software`.
pub(crate) const LIST_SOFTWARE: Operation = Operation {
    id: "list_software",
    permission: SOFTWARE_READ,
};

/// `GET /api/Software/{Id}`.
pub(crate) const GET_SOFTWARE_BY_ID: Operation = Operation {
    id: "get_software_by_id",
    permission: SOFTWARE_READ,
};

/// `GET /api/Software/{Id}/distributions`.
pub(crate) const LIST_SOFTWARE_VERSION_DISTRIBUTION: Operation = Operation {
    id: "list_software_version_distribution",
    permission: SOFTWARE_READ,
};

/// `GET /api/Software/{Id}/vulnerabilities`.
pub(crate) const LIST_VULNERABILITIES_BY_SOFTWARE: Operation = Operation {
    id: "list_vulnerabilities_by_software",
    permission: VULNERABILITY_READ,
};

/// `GET /api/Software/{Id}/machineReferences`.
pub(crate) const LIST_MACHINES_BY_SOFTWARE: Operation = Operation {
    id: "list_machines_by_software",
    permission: SOFTWARE_READ,
};

/// `GET /api/machines/{machineId}/getmissingkbs`.
pub(crate) const GET_MISSING_KBS_BY_MACHINE_ID: Operation = Operation {
    id: "get_missing_kbs_by_machine_id",
    permission: SOFTWARE_READ,
};

/// `GET /api/vulnerabilities/machinesVulnerabilities`.
pub(crate) const LIST_MACHINES_VULNERABILITIES: Operation = Operation {
    id: "list_machines_vulnerabilities",
    permission: VULNERABILITY_READ,
};
