//! The OAuth 2.0 client-credentials grant with a client secret, against Microsoft Entra ID:
//! `POST {authority host}/{tenant}/oauth2/v2.0/token`.

use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use reqwest::Url;
use serde::Deserialize;

use super::credential::{AccessToken, Credential};
use crate::{AuthError, Error, Secret};

/// How much of a token endpoint's reply is read at most (a real reply is about 2 KiB).
const REPLY_LIMIT: usize = 64 * 1024;

/// Signs in as an Entra ID application with its client secret.
#[derive(Debug)]
pub(crate) struct ClientSecretCredential {
    token_url: Url,
    client_id: String,
    client_secret: Secret,
    http: reqwest::Client,
}

/// A successful token reply.
#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    /// Seconds; Entra sends a number, some older endpoints a string.
    expires_in: NumberOrString,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Number(u64),
    String(String),
}

/// A failed token reply: `{"error": "...", "error_description": "AADSTS...: ...", ...}`.
#[derive(Deserialize)]
struct ErrorReply {
    error: String,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u32>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
}

impl ClientSecretCredential {
    /// `authority_host` is the sign-in host (already checked to be https or loopback http);
    /// `tenant` must be one path segment (checked by the caller).
    pub(crate) fn new(
        authority_host: &Url,
        tenant: &str,
        client_id: String,
        client_secret: Secret,
        http: reqwest::Client,
    ) -> Result<Self, Error> {
        let mut token_url = authority_host.clone();
        token_url
            .path_segments_mut()
            .map_err(|()| Error::invalid_input("the authority host cannot carry a path"))?
            .pop_if_empty()
            .extend([tenant, "oauth2", "v2.0", "token"]);
        Ok(Self {
            token_url,
            client_id,
            client_secret,
            http,
        })
    }

    async fn request_token(&self, scope: &str) -> Result<AccessToken, Error> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.secret()),
            ("scope", scope),
        ];
        let failed = |error: &str| AuthError::new(error);
        let response = self
            .http
            .post(self.token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                Error::Auth(Box::new(
                    failed("token_endpoint_unreachable").with_source(e.without_url()),
                ))
            })?;
        let status = response.status();
        let body = crate::http::body::read_limited(response, REPLY_LIMIT)
            .await
            .map_err(|e| {
                Error::Auth(Box::new(
                    failed("token_reply_unreadable").with_source(e.without_url()),
                ))
            })?;
        if status.is_success() {
            self.token_from(&body)
                .map_err(|e| Error::Auth(Box::new(e.with_status(status))))
        } else {
            Err(Error::Auth(Box::new(
                self.error_from(&body).with_status(status),
            )))
        }
    }

    /// A token from a success reply; what is wrong with the reply otherwise (boxed: large).
    fn token_from(&self, body: &[u8]) -> Result<AccessToken, Box<AuthError>> {
        let invalid =
            |why: String| Box::new(AuthError::new("invalid_token_reply").with_description(why));
        let reply: TokenReply = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("the token endpoint's reply is not a token: {e}")))?;
        let seconds = match reply.expires_in {
            NumberOrString::Number(n) => Some(n),
            NumberOrString::String(s) => s.trim().parse().ok(),
        }
        .ok_or_else(|| invalid("expires_in is not a number".into()))?;
        if reply.access_token.is_empty() {
            return Err(invalid(
                "the token endpoint returned an empty access_token".into(),
            ));
        }
        Ok(AccessToken {
            token: Secret::new(reply.access_token),
            expires_on: Some(SystemTime::now() + Duration::from_secs(seconds)),
        })
    }

    fn error_from(&self, body: &[u8]) -> AuthError {
        match serde_json::from_slice::<ErrorReply>(body) {
            Ok(reply) => {
                let description = reply
                    .error_description
                    .map(|d| self.client_secret.redact_from(&d));
                let aadsts = reply
                    .error_codes
                    .first()
                    .copied()
                    .or_else(|| description.as_deref().and_then(aadsts_in));
                let mut error = AuthError::new(reply.error);
                error.description = description;
                error.aadsts = aadsts;
                error.trace_id = reply.trace_id;
                error.correlation_id = reply.correlation_id;
                error
            }
            Err(_) => AuthError::new("token_endpoint_error").with_description(format!(
                "the token endpoint's reply is not an Entra error: {:?}",
                self.client_secret
                    .redact_from(&crate::http::body::excerpt(body))
            )),
        }
    }
}

impl Credential for ClientSecretCredential {
    fn get_token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, Error>> {
        Box::pin(self.request_token(scope))
    }
}

/// The number in `AADSTS7000215: Invalid client secret ...`.
fn aadsts_in(description: &str) -> Option<u32> {
    let digits = description.split("AADSTS").nth(1)?;
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::aadsts_in;

    #[test]
    fn aadsts_codes_are_read_from_descriptions() {
        assert_eq!(
            aadsts_in("AADSTS7000215: Invalid client secret provided."),
            Some(7000215)
        );
        assert_eq!(aadsts_in("AADSTS90002: Tenant 'x' not found."), Some(90002));
        assert_eq!(aadsts_in("no code here"), None);
        assert_eq!(aadsts_in("AADSTS: empty"), None);
    }
}
