//! HTTP helpers shared by the API's sending path (`transport/`) and the token request
//! (`auth/`): when a failure is worth another attempt and after how long ([`retry`]), and how
//! bodies and headers are read ([`body`]). Nothing here knows about tokens or operations.

pub(crate) mod body;
pub(crate) mod retry;
