//! Where access tokens come from.
//!
//! The client asks a [`Credential`] for a token whenever its cache has none fresh (see
//! `token_cache.rs`). Sources: a static bearer token ([`ClientBuilder::bearer_token`]), the Entra
//! ID client-credentials grant ([`ClientBuilder::client_secret`]), any
//! `azure_core::credentials::TokenCredential` (feature `azure`,
//! [`ClientBuilder::azure_credential`]), or your own implementation
//! ([`ClientBuilder::credential`]).
//!
//! [`ClientBuilder::bearer_token`]: crate::ClientBuilder::bearer_token
//! [`ClientBuilder::client_secret`]: crate::ClientBuilder::client_secret
//! [`ClientBuilder::credential`]: crate::ClientBuilder::credential
//! [`ClientBuilder::azure_credential`]: crate::ClientBuilder::azure_credential

use std::fmt;
use std::time::SystemTime;

use futures::future::BoxFuture;

use crate::auth::secret::Secret;
use crate::error::Error;

/// An access token and when it expires.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use defender_tvm::{AccessToken, Secret};
///
/// let token = AccessToken::new(Secret::new("eyJ0eXAi..."), Some(SystemTime::now() + Duration::from_secs(3600)));
/// assert!(token.expires_on.is_some());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AccessToken {
    /// The bearer token.
    pub token: Secret,
    /// When the token stops being valid; `None` for a token that the client cannot renew (a
    /// static bearer token), which is then used until the service refuses it.
    pub expires_on: Option<SystemTime>,
}

impl AccessToken {
    /// A token, valid until `expires_on` (`None`: until the service refuses it).
    pub fn new(token: Secret, expires_on: Option<SystemTime>) -> Self {
        Self { token, expires_on }
    }
}

/// A source of access tokens for the Defender API.
///
/// Implement it to bring your own token source; the client caches what it returns, asks again
/// shortly before `expires_on`, and asks again after the API answers 401.
///
/// ```
/// use defender_tvm::{AccessToken, Credential, Error, Secret};
/// use futures::future::BoxFuture;
/// use std::time::{Duration, SystemTime};
///
/// #[derive(Debug)]
/// struct FromVault;
///
/// impl Credential for FromVault {
///     fn get_token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, Error>> {
///         Box::pin(async move {
///             // ... ask your vault for a token for `scope` ...
///             Ok(AccessToken::new(
///                 Secret::new("eyJ0eXAi..."),
///                 Some(SystemTime::now() + Duration::from_secs(3600)),
///             ))
///         })
///     }
/// }
///
/// let client = defender_tvm::Client::builder()
///     .credential(std::sync::Arc::new(FromVault))
///     .build()
///     .unwrap();
/// ```
pub trait Credential: Send + Sync + fmt::Debug {
    /// A token for `scope` (for example `https://api.securitycenter.microsoft.com/.default`).
    ///
    /// On failure return [`Error::Auth`], for example built with [`crate::error::AuthError::new`].
    fn get_token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, Error>>;
}

/// A bearer token given by the caller: used as is, never renewed.
#[derive(Debug)]
pub(crate) struct StaticToken(pub(crate) Secret);

impl Credential for StaticToken {
    fn get_token<'a>(&'a self, _scope: &'a str) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move {
            Ok(AccessToken {
                token: self.0.clone(),
                expires_on: None,
            })
        })
    }
}

/// Any `azure_core` token credential (managed identity, workload identity, certificates,
/// Azure CLI, ...), asked for the client's scope.
#[cfg(feature = "azure")]
#[derive(Debug)]
pub(crate) struct AzureCredential(
    pub(crate) std::sync::Arc<dyn azure_core::credentials::TokenCredential>,
);

#[cfg(feature = "azure")]
impl Credential for AzureCredential {
    fn get_token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(async move {
            let token = self.0.get_token(&[scope], None).await.map_err(|e| {
                Error::Auth(Box::new(
                    crate::error::AuthError::new("azure_credential_failed").with_source(e),
                ))
            })?;
            let seconds = u64::try_from(token.expires_on.unix_timestamp()).unwrap_or(0);
            Ok(AccessToken {
                token: Secret::new(token.token.secret()),
                expires_on: Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds)),
            })
        })
    }
}
