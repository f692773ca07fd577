//! Caches the access token and attaches it to requests for the API origin only.
//!
//! - A token is reused until shortly before it expires: [`REFRESH_MARGIN`] ahead, or half its
//!   lifetime for tokens shorter than twice that, so a thousand calls cost one token request.
//! - Single flight: the cache's lock is held while a token is fetched, so many concurrent calls
//!   that find it empty or stale cause exactly one token request; the others wait and reuse it.
//! - A renewal ahead of expiry that fails (the token endpoint is down after its own retries) does
//!   not fail calls while the current token is still valid: it is used on, and renewal is tried
//!   again [`RENEW_RETRY`] later (or at expiry, if sooner).
//! - After a 401 the token the failed request used is dropped (not a newer one another call
//!   already fetched) and a fresh one is fetched. Tokens are told apart by a generation number
//!   that [`TokenCache::authorize`] hands out with each token it attaches.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

// Tokio's clock (the system's monotonic clock, unless a test pauses it).
use tokio::time::Instant;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use tokio::sync::Mutex;

use super::credential::{AccessToken, Credential};
use crate::auth::secret::Secret;
use crate::error::Error;

/// How long before expiry a token is renewed.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// After a renewal ahead of expiry failed, how long the still-valid token is used before the
/// next try.
pub(crate) const RENEW_RETRY: Duration = Duration::from_secs(30);

/// The client's token, shared by all clones of a client.
#[derive(Debug)]
pub(crate) struct TokenCache {
    credential: Arc<dyn Credential>,
    scope: String,
    api_origin: url::Origin,
    slot: Mutex<Slot>,
}

/// The cached token, and how many tokens were fetched so far.
#[derive(Debug, Default)]
struct Slot {
    token: Option<Cached>,
    fetched: u64,
}

/// Which token a request carried (see [`TokenCache::refresh_after_unauthorized`]).
pub(crate) type Generation = u64;

/// A token ready to send.
#[derive(Debug)]
struct Cached {
    generation: Generation,
    /// `Bearer …`, marked sensitive.
    header: HeaderValue,
    /// When to renew it (`None`: never; used until the service refuses it).
    renew_at: Option<Instant>,
    /// When it expires (`None`: unknown).
    expires_at: Option<Instant>,
}

impl Cached {
    fn is_fresh(&self, now: Instant) -> bool {
        self.renew_at.is_none_or(|at| now < at)
    }

    /// Still accepted by the service (before its expiry), though maybe due for renewal.
    fn is_valid(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| now < at)
    }
}

/// Whether `url` is of `origin` (scheme, host and port, as `Url::origin` compares them), without
/// building the URL's origin (a copy of its host) on every request.
fn same_origin(url: &url::Url, origin: &url::Origin) -> bool {
    let url::Origin::Tuple(scheme, host, port) = origin else {
        return false;
    };
    let same_host = match (url.host(), host) {
        (Some(url::Host::Domain(a)), url::Host::Domain(b)) => a == b,
        (Some(url::Host::Ipv4(a)), url::Host::Ipv4(b)) => a == *b,
        (Some(url::Host::Ipv6(a)), url::Host::Ipv6(b)) => a == *b,
        _ => false,
    };
    same_host && url.scheme() == scheme && url.port_or_known_default() == Some(*port)
}

/// When a token that expires at `expires_on` (seen at `now`) should be renewed.
fn renew_at(now: Instant, now_wall: SystemTime, expires_on: Option<SystemTime>) -> Option<Instant> {
    let lifetime = expires_on?
        .duration_since(now_wall)
        .unwrap_or(Duration::ZERO);
    let margin = REFRESH_MARGIN.min(lifetime / 2);
    Some(now + (lifetime - margin))
}

impl TokenCache {
    pub(crate) fn new(
        credential: Arc<dyn Credential>,
        scope: String,
        api_origin: url::Origin,
    ) -> Self {
        Self {
            credential,
            scope,
            api_origin,
            slot: Mutex::new(Slot::default()),
        }
    }

    /// Sets `Authorization` on a request bound for the API origin (scheme, host and port, as
    /// browsers and `reqwest`'s redirect policy compare them); removes it from any other.
    /// Returns the generation of the token attached, if one was.
    pub(crate) async fn authorize(
        &self,
        request: &mut reqwest::Request,
    ) -> Result<Option<Generation>, Error> {
        if !same_origin(request.url(), &self.api_origin) {
            request.headers_mut().remove(AUTHORIZATION);
            return Ok(None);
        }
        let mut slot = self.slot.lock().await;
        let now = Instant::now();
        let cached = match slot.token.take() {
            Some(cached) if cached.is_fresh(now) => cached,
            stale => match self.fetch(&mut slot).await {
                Ok(fresh) => fresh,
                // Renewal ahead of expiry failed: the current token still works.
                Err(e) => match stale {
                    Some(mut current) if current.is_valid(Instant::now()) => {
                        let retry = Instant::now() + RENEW_RETRY;
                        current.renew_at =
                            Some(current.expires_at.map_or(retry, |at| at.min(retry)));
                        tracing::warn!(
                            error = %e,
                            retry_in_s = RENEW_RETRY.as_secs(),
                            "renewing the access token failed; using the current one, still valid"
                        );
                        current
                    }
                    _ => return Err(e),
                },
            },
        };
        request
            .headers_mut()
            .insert(AUTHORIZATION, cached.header.clone());
        let generation = cached.generation;
        slot.token = Some(cached);
        Ok(Some(generation))
    }

    /// After the API answered 401 to a request that carried token `used`: drops that token and
    /// gets a fresh one. Returns whether retrying can help, that is whether the token now cached
    /// differs from the refused one (a static token never does).
    pub(crate) async fn refresh_after_unauthorized(&self, used: Generation) -> Result<bool, Error> {
        let mut slot = self.slot.lock().await;
        let refused = match slot.token.take() {
            // Another call already replaced the refused token: retry with the newer one.
            Some(cached) if cached.generation != used => {
                slot.token = Some(cached);
                return Ok(true);
            }
            Some(cached) => Some(cached.header),
            None => None,
        };
        let fresh = self.fetch(&mut slot).await?;
        let differs = refused.as_ref() != Some(&fresh.header);
        slot.token = Some(fresh);
        tracing::info!(retry = differs, "the API refused the access token (401)");
        Ok(differs)
    }

    /// Asks the credential for a token; the caller holds the lock (single flight).
    async fn fetch(&self, slot: &mut Slot) -> Result<Cached, Error> {
        let AccessToken { token, expires_on } = self.credential.get_token(&self.scope).await?;
        let (now, now_wall) = (Instant::now(), SystemTime::now());
        let header = bearer_header(&token)?;
        let renew_at = renew_at(now, now_wall, expires_on);
        let expires_at =
            expires_on.map(|at| now + at.duration_since(now_wall).unwrap_or(Duration::ZERO));
        tracing::debug!(
            scope = %self.scope,
            renew_in_s = renew_at.map(|at| at.saturating_duration_since(now).as_secs()),
            "acquired an access token"
        );
        slot.fetched += 1;
        Ok(Cached {
            generation: slot.fetched,
            header,
            renew_at,
            expires_at,
        })
    }
}

/// `Bearer {token}`, marked sensitive; refuses, without echoing it, a token a header cannot carry.
pub(crate) fn bearer_header(token: &Secret) -> Result<HeaderValue, Error> {
    let mut header = HeaderValue::try_from(format!("Bearer {}", token.secret())).map_err(|_| {
        Error::invalid_input(
            "the access token contains characters an HTTP header cannot carry \
             (expected the token text only, without line breaks)",
        )
    })?;
    header.set_sensitive(true);
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_five_minutes_before_expiry() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let at = renew_at(now, wall, Some(wall + Duration::from_secs(3600)));
        assert_eq!(at, Some(now + Duration::from_secs(3600 - 300)));
    }

    #[test]
    fn short_lived_tokens_are_used_for_half_their_lifetime() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let at = renew_at(now, wall, Some(wall + Duration::from_secs(240)));
        assert_eq!(at, Some(now + Duration::from_secs(120)));
    }

    #[test]
    fn expired_tokens_are_stale_at_once_and_static_ones_never() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let expired = renew_at(now, wall, Some(wall - Duration::from_secs(10)));
        assert_eq!(expired, Some(now));
        assert_eq!(renew_at(now, wall, None), None);

        let cached = |renew_at| Cached {
            generation: 1,
            header: HeaderValue::from_static("Bearer x"),
            renew_at,
            expires_at: None,
        };
        assert!(!cached(expired).is_fresh(now));
        assert!(cached(Some(now + Duration::from_secs(1))).is_fresh(now));
        assert!(cached(None).is_fresh(now + Duration::from_secs(1 << 30)));
    }

    /// A credential that counts how often it is asked.
    #[derive(Debug, Default)]
    struct Counting(std::sync::atomic::AtomicUsize);

    impl Credential for Counting {
        fn get_token<'a>(
            &'a self,
            _scope: &'a str,
        ) -> futures::future::BoxFuture<'a, Result<AccessToken, Error>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async {
                Ok(AccessToken {
                    token: Secret::new("t-1"),
                    expires_on: None,
                })
            })
        }
    }

    #[tokio::test]
    async fn a_request_to_another_origin_gets_no_authorization_and_fetches_no_token() {
        let api = url::Url::parse("https://api.security.microsoft.com").unwrap();
        let credential = Arc::new(Counting::default());
        let cache = TokenCache::new(credential.clone(), "scope".into(), api.origin());
        for elsewhere in [
            "https://evil.example/api/Software",
            "http://api.security.microsoft.com/api/Software",
            "https://api.security.microsoft.com:8443/api/Software",
        ] {
            let mut request =
                reqwest::Request::new(reqwest::Method::GET, url::Url::parse(elsewhere).unwrap());
            request
                .headers_mut()
                .insert(AUTHORIZATION, HeaderValue::from_static("Bearer stale"));

            let attached = cache.authorize(&mut request).await.unwrap();

            assert_eq!(attached, None, "{elsewhere}");
            assert!(
                request.headers().get(AUTHORIZATION).is_none(),
                "{elsewhere}"
            );
        }
        assert_eq!(credential.0.load(std::sync::atomic::Ordering::SeqCst), 0);

        let mut request = reqwest::Request::new(
            reqwest::Method::GET,
            url::Url::parse("https://api.security.microsoft.com/api/Software").unwrap(),
        );
        assert_eq!(cache.authorize(&mut request).await.unwrap(), Some(1));
        assert_eq!(request.headers()[AUTHORIZATION], "Bearer t-1");
        assert_eq!(credential.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    /// A credential whose first token lives an hour and whose every later request fails.
    #[derive(Debug, Default)]
    struct FailsAfterTheFirst(std::sync::atomic::AtomicUsize);

    impl Credential for FailsAfterTheFirst {
        fn get_token<'a>(
            &'a self,
            _scope: &'a str,
        ) -> futures::future::BoxFuture<'a, Result<AccessToken, Error>> {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                if n == 0 {
                    Ok(AccessToken {
                        token: Secret::new("t-1"),
                        expires_on: Some(SystemTime::now() + Duration::from_secs(3600)),
                    })
                } else {
                    Err(Error::invalid_input("the token endpoint is down"))
                }
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_failed_renewal_the_current_token_is_used_for_30_s_before_the_next_try() {
        let api = url::Url::parse("https://api.security.microsoft.com").unwrap();
        let credential = Arc::new(FailsAfterTheFirst::default());
        let cache = TokenCache::new(credential.clone(), "scope".into(), api.origin());
        let asked = || credential.0.load(std::sync::atomic::Ordering::SeqCst);
        let call = || async {
            let mut request = reqwest::Request::new(
                reqwest::Method::GET,
                url::Url::parse("https://api.security.microsoft.com/api/Software").unwrap(),
            );
            cache.authorize(&mut request).await.unwrap();
            assert_eq!(request.headers()[AUTHORIZATION], "Bearer t-1");
        };

        call().await;
        assert_eq!(asked(), 1);
        // 55 minutes on, the token is due for renewal (5 minutes before expiry); it fails, and
        // the token is used on.
        tokio::time::advance(Duration::from_secs(55 * 60)).await;
        call().await;
        assert_eq!(asked(), 2);
        // Not tried again for 30 s.
        tokio::time::advance(Duration::from_secs(29)).await;
        call().await;
        assert_eq!(asked(), 2, "29 s after the failed renewal");
        tokio::time::advance(Duration::from_secs(2)).await;
        call().await;
        assert_eq!(asked(), 3, "31 s after it");
    }

    #[test]
    fn origins_compare_as_url_origin_compares_them() {
        let api = url::Url::parse("https://api.security.microsoft.com").unwrap();
        for other in [
            "https://api.security.microsoft.com/api/Software?x=1",
            "https://api.security.microsoft.com:443/a",
            "https://API.security.microsoft.com/a",
            "http://api.security.microsoft.com/a",
            "https://api.security.microsoft.com:8443/a",
            "https://evil.example/a",
            "https://127.0.0.1/a",
            "https://[::1]/a",
            "data:text/plain,x",
        ] {
            let url = url::Url::parse(other).unwrap();
            assert_eq!(
                same_origin(&url, &api.origin()),
                url.origin() == api.origin(),
                "{other}"
            );
        }
        let loopback = url::Url::parse("http://127.0.0.1:8080").unwrap();
        let same = url::Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert!(same_origin(&same, &loopback.origin()));
        let v6 = url::Url::parse("http://[::1]:8080").unwrap();
        assert!(same_origin(
            &url::Url::parse("http://[::1]:8080/y").unwrap(),
            &v6.origin()
        ));
    }

    #[test]
    fn the_header_is_sensitive_and_its_debug_hides_the_token() {
        let header = bearer_header(&Secret::new("s3cr3t")).unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header, "Bearer s3cr3t");
        assert!(!format!("{header:?}").contains("s3cr3t"));
        let err = bearer_header(&Secret::new("s3cr3t\r\nX: y")).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"));
    }
}
