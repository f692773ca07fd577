//! What the facade knows about each operation that the generated code does not carry.

/// An operation of the contract: its `operationId` and the permissions it needs
/// (application, delegated), as the spec's description states them.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) id: &'static str,
    pub(crate) permission: (&'static str, &'static str),
}

/// `GET /api/Software/{Id}/getmissingkbs`.
pub(crate) const GET_MISSING_KBS_BY_SOFTWARE_ID: Operation = Operation {
    id: "get_missing_kbs_by_software_id",
    permission: ("Software.Read.All", "Software.Read"),
};
