//! How requests and responses travel, shared by the API's sending path (`transport/`) and the
//! token request (`auth/`): when a failure is worth another attempt, after how long, and the one
//! loop that retries ([`retry`]); how bodies and headers are read ([`body`]); which ids can travel
//! as one path segment ([`path_segment`]). Nothing here knows about tokens or operations.

pub(crate) mod body;
pub(crate) mod path_segment;
pub(crate) mod retry;
