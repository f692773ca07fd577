//! The Entra ID token endpoint (`/{tenant}/oauth2/v2.0/token`, the client-credentials grant)
//! with Entra's error shapes, and the tokens it issued (which the API accepts until they expire).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::StatusCode;
use serde_json::json;
use tokio::time::Instant;

use super::{Answer, State, json, lock};

pub(crate) const TENANT_ID: &str = "00000000-demo-4000-8000-contoso00001";
pub(crate) const CLIENT_ID: &str = "11111111-demo-4000-8000-defendertvm01";
pub(crate) const CLIENT_SECRET: &str = "demo-secret~Kq8Q~not-a-real-secret";

/// The tokens the tenant issued, and how many requests the endpoint answered.
#[derive(Debug)]
pub(crate) struct Tokens {
    lifetime: Duration,
    valid_until: Mutex<HashMap<String, Instant>>,
    pub(crate) issued: AtomicU64,
    pub(crate) requests: AtomicU64,
}

impl Tokens {
    pub(crate) fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            valid_until: Mutex::new(HashMap::new()),
            issued: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        }
    }

    /// A token valid for the tenant's token lifetime, as if issued to its application.
    pub(crate) fn issue(&self) -> String {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let token = format!("demo.{n}.{:016x}", fastrand::u64(..));
        lock(&self.valid_until).insert(token.clone(), Instant::now() + self.lifetime);
        token
    }

    /// Whether an `Authorization` header carries a token issued here and not expired.
    pub(crate) fn accepts(&self, header: Option<&str>) -> bool {
        let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return false;
        };
        lock(&self.valid_until)
            .get(token)
            .is_some_and(|&expires| Instant::now() < expires)
    }
}

/// The client-credentials grant.
pub(crate) fn answer(state: &State, tenant: &str, body: &[u8]) -> Answer {
    state.tokens.requests.fetch_add(1, Ordering::SeqCst);
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let entra = |status: StatusCode, error: &str, code: u32, description: String| {
        let mut answer = json(&json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: demo Correlation ID: demo"),
            "error_codes": [code],
            "trace_id": format!("trace-{}", state.tracking_id()),
            "correlation_id": format!("corr-{}", state.tracking_id()),
        }));
        *answer.status_mut() = status;
        answer
    };
    if state.faults.sign_in_fails() {
        return entra(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            50196,
            "The server is temporarily unavailable.".into(),
        );
    }
    if tenant != TENANT_ID {
        return entra(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!("Tenant '{tenant}' not found."),
        );
    }
    if field("grant_type") != "client_credentials" {
        return entra(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.".into(),
        );
    }
    if field("client_id") != CLIENT_ID {
        return entra(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{}' was not found in the directory.",
                field("client_id")
            ),
        );
    }
    if field("client_secret") == CLIENT_SECRET && state.faults.secret_expired() {
        return entra(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{CLIENT_ID}' are expired. Visit the Azure portal to create new keys for your app."
            ),
        );
    }
    if field("client_secret") != CLIENT_SECRET {
        return entra(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.".into(),
        );
    }
    if !field("scope").ends_with("/.default") {
        return entra(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.".into(),
        );
    }
    let token = state.tokens.issue();
    let lifetime = state.tokens.lifetime.as_secs();
    json(&json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    }))
}
