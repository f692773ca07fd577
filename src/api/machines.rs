//! Device-level operations: the missing KBs of one device.

use super::{listing, page};
use crate::client::Client;
use crate::operations::GET_MISSING_KBS_BY_MACHINE_ID;
use crate::paging::Pager;
use crate::types::PublicProductFixDto;

impl Client {
    /// The missing KBs of one device: `GET /api/machines/{machineId}/getmissingkbs`. Needs
    /// `Software.Read.All` (or delegated `Software.Read`). The id is checked like
    /// [`missing_kbs`](Client::missing_kbs)' software id.
    pub fn machine_missing_kbs(&self, machine_id: &str) -> Pager<PublicProductFixDto> {
        let op = &GET_MISSING_KBS_BY_MACHINE_ID;
        listing(self, "machine id", machine_id, op, |id| {
            page(
                self,
                op,
                self.builders()
                    .get_missing_kbs_by_machine_id()
                    .machine_id(id)
                    .send(),
            )
        })
    }
}
