//! The OAuth 2.0 client-credentials grant with a client secret, against Microsoft Entra ID:
//! `POST {authority host}/{tenant}/oauth2/v2.0/token`.

use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use reqwest::Url;
use serde::Deserialize;

use super::credential::{AccessToken, Credential};
use crate::auth::secret::Secret;
use crate::error::AuthError;
use crate::error::Error;
use crate::wire::body::{read_limited, retry_after};
use crate::wire::retry::{Attempt, RetryPolicy, innermost_cause, is_transient};

/// How much of a token endpoint's reply is read at most (a real reply is about 2 KiB).
const REPLY_LIMIT: usize = 64 * 1024;

/// Signs in as an Entra ID application with its client secret.
pub(crate) struct ClientSecretCredential {
    token_url: Url,
    client_id: String,
    client_secret: Secret,
    http: reqwest::Client,
    /// How transient failures of the token request are retried.
    retry: RetryPolicy,
}

/// Shows where it signs in and as whom, never the secret.
impl std::fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecretCredential")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// A failed token request, and whether another attempt may help.
struct FailedRequest {
    error: Box<AuthError>,
    transient: bool,
    retry_after: Option<std::time::Duration>,
    /// The innermost cause of a transport failure, for the retry's trace.
    cause: Option<String>,
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
        retry: RetryPolicy,
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
            retry,
        })
    }

    /// Requests a token, retrying transient failures (the statuses [`RetryPolicy::is_retryable`]
    /// lists, a connection that fails or closes before the reply, a reply cut short) in the one
    /// retry loop, within the sign-in retry policy. Other failures (a wrong or expired secret, an
    /// unknown tenant or application, missing consent, any other 4xx) are returned at once. The
    /// caller (the token cache) holds its lock meanwhile, so concurrent calls still share this one
    /// request.
    async fn request_token(&self, scope: &str) -> Result<AccessToken, Error> {
        let ran = self
            .retry
            .run("token_request", (), |()| async {
                match self.request_once(scope).await {
                    Ok(token) => Attempt::Done(Ok(token)),
                    Err(failed) if failed.transient => Attempt::Transient {
                        status: failed.error.status,
                        cause: failed.cause.clone(),
                        retry_after: failed.retry_after,
                        outcome: Err(failed),
                        again: (),
                    },
                    Err(failed) => Attempt::Done(Err(failed)),
                }
            })
            .await;
        ran.outcome.map_err(|failed| {
            let mut error = failed.error;
            if failed.transient {
                error.transient = true;
                error.attempts = ran.attempts;
                error.gave_up = ran.gave_up;
            }
            Error::Auth(error)
        })
    }

    /// One token request.
    async fn request_once(&self, scope: &str) -> Result<AccessToken, FailedRequest> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.secret()),
            ("scope", scope),
        ];
        let unreachable = |what: &str, e: reqwest::Error| {
            let transient = is_transient(&e);
            let cause = innermost_cause(&e);
            FailedRequest {
                error: Box::new(AuthError::new(what).with_source(e.without_url())),
                transient,
                retry_after: None,
                cause: Some(cause),
            }
        };
        let response = self
            .http
            .post(self.token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable("token_endpoint_unreachable", e))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = read_limited(response, REPLY_LIMIT)
            .await
            .map_err(|e| unreachable("token_reply_unreadable", e))?;
        if status.is_success() {
            return self.token_from(&body).map_err(|e| FailedRequest {
                error: Box::new(e.with_status(status)),
                transient: false,
                retry_after: None,
                cause: None,
            });
        }
        Err(FailedRequest {
            error: Box::new(self.error_from(&body).with_status(status)),
            transient: RetryPolicy::is_retryable(status),
            retry_after,
            cause: None,
        })
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
                    .redact_from(&crate::wire::body::excerpt(body))
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
