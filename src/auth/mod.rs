//! Signing in: where access tokens come from and how they are kept.
//!
//! - [`credential`]: the [`Credential`] trait and the built-in sources (a static bearer token,
//!   any `azure_core` credential);
//! - [`client_secret`]: the Entra ID client-credentials grant with a client secret;
//! - [`token_cache`]: reuse, renewal ahead of expiry, single flight, and the `Authorization`
//!   header (for the API origin only);
//! - [`secret`]: [`Secret`], a string that never shows in `Debug` or `Display`.

pub(crate) mod client_secret;
pub(crate) mod credential;
pub(crate) mod secret;
pub(crate) mod token_cache;

pub use credential::{AccessToken, Credential};
pub use secret::Secret;
