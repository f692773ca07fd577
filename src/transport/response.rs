//! From a final response to a value or an [`Error`]: the one place where an error status becomes
//! [`Error::Api`] and a body becomes the contract's type.

use serde::de::DeserializeOwned;

use super::{Fetched, Operation};
use crate::Error;
use crate::error::ApiError;
use crate::generated::types::ODataError;
use crate::http::body::{excerpt, retry_after};

/// An error status as [`Error::Api`]: the status, `Retry-After`, how many attempts were made and
/// why retrying stopped, and the MDE `code`/`message`/`target` when the body is an MDE error
/// (else a short excerpt of what came instead).
pub(crate) fn api_error(fetched: &Fetched, operation: &Operation) -> Error {
    let (code, message, target, body_excerpt) =
        match serde_json::from_slice::<ODataError>(&fetched.body) {
            Ok(e) => (
                Some(e.error.code),
                Some(e.error.message),
                e.error.target,
                None,
            ),
            Err(_) => (None, None, None, Some(excerpt(&fetched.body))),
        };
    Error::Api(Box::new(ApiError {
        status: fetched.status,
        code,
        message,
        target,
        retry_after: retry_after(&fetched.headers),
        body_excerpt,
        operation: operation.id,
        attempts: fetched.attempts.max(1),
        gave_up: fetched.gave_up.clone(),
        permission: operation.permission,
    }))
}

/// The body of a 2xx response as the contract's type `T`.
pub(crate) fn decode<T: DeserializeOwned>(
    fetched: &Fetched,
    operation: &Operation,
) -> Result<T, Error> {
    serde_json::from_slice(&fetched.body).map_err(|source| {
        Error::decode(
            operation.id,
            Some(fetched.status),
            excerpt(&fetched.body),
            source,
        )
    })
}
