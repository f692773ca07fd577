//! Credentials and the `Authorization` header.
//!
//! A token is attached only to requests whose origin (scheme, host, port) is the configured API
//! origin, and the header value is marked sensitive so `Debug` output of requests never shows it.

use std::fmt;

use reqwest::header::{AUTHORIZATION, HeaderValue};

use crate::Error;

/// An access token whose `Debug` and `Display` never reveal it.
///
/// ```
/// let token = defender_tvm::AccessToken::new("eyJ0eXAi...");
/// assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
/// assert_eq!(token.to_string(), "<redacted>");
/// ```
#[derive(Clone)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a bearer token (without the `Bearer ` prefix).
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself. Handle with care: never log it.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The `Authorization: Bearer …` header value, marked sensitive.
    ///
    /// Refuses an empty token or one with characters a header cannot carry, without echoing it.
    pub(crate) fn header_value(&self) -> Result<HeaderValue, Error> {
        if self.0.trim().is_empty() {
            return Err(Error::invalid_input("the bearer token is empty"));
        }
        let mut value = HeaderValue::try_from(format!("Bearer {}", self.0)).map_err(|_| {
            Error::invalid_input(
                "the bearer token contains characters an HTTP header cannot carry \
                 (expected the token text only, without line breaks)",
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How the client authenticates its requests.
#[derive(Clone)]
pub(crate) enum Credential {
    /// A bearer token given by the caller; the ready header is built once.
    Static(HeaderValue),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Static(_) => f.write_str("Static(<redacted>)"),
        }
    }
}

impl Credential {
    /// Sets `Authorization` on a request bound for the API origin (scheme, host and port, as
    /// browsers and `reqwest`'s redirect policy compare them); removes it from any other.
    pub(crate) fn authorize(&self, request: &mut reqwest::Request, api_origin: &url::Origin) {
        let same_origin = request.url().origin() == *api_origin;
        let headers = request.headers_mut();
        if same_origin {
            match self {
                Credential::Static(value) => headers.insert(AUTHORIZATION, value.clone()),
            };
        } else {
            headers.remove(AUTHORIZATION);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_marked_sensitive_and_its_debug_hides_the_token() {
        let value = AccessToken::new("s3cr3t").header_value().unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("s3cr3t"));
        assert!(!format!("{:?}", Credential::Static(value)).contains("s3cr3t"));
    }
}
