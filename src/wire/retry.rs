//! When a failed request is sent again, after how long, and the one loop that does it
//! ([`RetryPolicy::run`]), for the API's sending path and the token request alike.
//!
//! Retried: 429 (after `Retry-After`, seconds or HTTP date, never beyond [`RetryPolicy::max_retry_after`];
//! without the header, backoff), 408, 500, 502, 503, 504, and transient transport failures
//! ([`is_transient`]: a connection that fails, is closed or reset before the response, or a body
//! that does not arrive whole), with exponential backoff and jitter. Never retried: other
//! statuses, request timeouts (the limit the caller set), a body that arrived whole but does not
//! decode, and requests whose body cannot be replayed. Every request of this API is a GET, so a
//! retry is always safe; in a paged listing it re-fetches the page that failed, so no item is lost
//! or repeated.

use std::future::Future;
use std::time::Duration;

use reqwest::StatusCode;

/// How failed requests are retried. The default ([`RetryPolicy::standard`]): 4 attempts in all, backoff from 500 ms doubling
/// to at most 30 s with jitter, `Retry-After` honoured up to 120 s.
///
/// ```
/// use std::time::Duration;
/// use defender_tvm::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .max_attempts(6)
///     .max_retry_after(Duration::from_secs(600));
/// let client = defender_tvm::Client::builder()
///     .bearer_token("eyJ0eXAi...")
///     .retry(patient)
///     .build()
///     .unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// What one attempt came to, as [`RetryPolicy::run`] needs to know it.
#[derive(Debug)]
pub(crate) enum Attempt<S, T> {
    /// The outcome to return: a success, or a failure another attempt cannot mend.
    Done(T),
    /// A transient failure (see [`RetryPolicy::is_retryable`] and [`is_transient`]): `outcome`
    /// is returned if the policy sends no more; `again` is what the next attempt starts from.
    Transient {
        /// What this attempt came to.
        outcome: T,
        /// What the next attempt starts from (the request to send again).
        again: S,
        /// The status, when a response came (for the trace).
        status: Option<StatusCode>,
        /// The failure's innermost cause, when no response came (for the trace).
        cause: Option<String>,
        /// What the server asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
}

/// The last attempt's outcome, how many attempts were made, and why retrying stopped early when
/// it did (the server asked to wait longer than the policy allows).
#[derive(Debug)]
pub(crate) struct Ran<T> {
    pub(crate) outcome: T,
    pub(crate) attempts: u32,
    pub(crate) gave_up: Option<String>,
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Send again after this long.
    RetryAfter(Duration),
    /// Do not retry (not retryable, or attempts exhausted).
    Stop,
    /// The server asked to wait longer than the policy allows.
    WaitTooLong {
        /// What the server asked for.
        asked: Duration,
        /// The policy's cap.
        cap: Duration,
    },
}

impl RetryPolicy {
    /// The standard policy (the same as [`RetryPolicy::default`]).
    pub fn standard() -> Self {
        Self::default()
    }

    /// Retries off: every failure is returned at once.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// How many times a request is sent at most, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff before the first retry; it doubles with each further retry.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest backoff between two attempts (before jitter).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` the client waits for; a longer one ends the call with the 429
    /// error, which says so.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// Whether a response status is worth another attempt: the one list, for API calls and the
    /// token request alike.
    ///
    /// See also [`is_transient`] for failures without a status.
    pub(crate) fn is_retryable(status: StatusCode) -> bool {
        matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
    }

    /// The one retry loop: runs `attempt` from `start`, and again from what a transient failure
    /// hands back, until an attempt is [`Attempt::Done`] or the policy sends no more. Before
    /// each further attempt it waits (`Retry-After` up to
    /// [`max_retry_after`](Self::max_retry_after), else the backoff) and traces one event,
    /// `retrying after a transient failure`, with `operation` (an `operationId`, or
    /// `token_request`), `status` or `cause`, `attempt` and `wait_ms`; never a token or a URL.
    pub(crate) async fn run<S, T, F>(
        &self,
        operation: &'static str,
        start: S,
        mut attempt: impl FnMut(S) -> F,
    ) -> Ran<T>
    where
        F: Future<Output = Attempt<S, T>>,
    {
        let mut number = 1;
        let mut from = start;
        loop {
            let (outcome, again, status, cause, retry_after) = match attempt(from).await {
                Attempt::Done(outcome) => {
                    return Ran {
                        outcome,
                        attempts: number,
                        gave_up: None,
                    };
                }
                Attempt::Transient {
                    outcome,
                    again,
                    status,
                    cause,
                    retry_after,
                } => (outcome, again, status, cause, retry_after),
            };
            let wait = match self.decide(number, retry_after) {
                Decision::RetryAfter(wait) => wait,
                Decision::Stop => {
                    return Ran {
                        outcome,
                        attempts: number,
                        gave_up: None,
                    };
                }
                Decision::WaitTooLong { asked, cap } => {
                    return Ran {
                        outcome,
                        attempts: number,
                        gave_up: Some(format!(
                            "the server asked to wait {} s, more than the retry policy's \
                             max_retry_after of {} s; gave up",
                            asked.as_secs(),
                            cap.as_secs()
                        )),
                    };
                }
            };
            tracing::warn!(
                operation,
                status = status.map(|s| s.as_u16()),
                cause,
                attempt = number,
                wait_ms = wait.as_millis() as u64,
                "retrying after a transient failure"
            );
            drop(outcome);
            tokio::time::sleep(wait).await;
            number += 1;
            from = again;
        }
    }

    /// After attempt number `attempt` (1-based) failed with a retryable status or a connection
    /// failure: whether and when to send again.
    fn decide(&self, attempt: u32, retry_after: Option<Duration>) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::Stop;
        }
        match retry_after {
            Some(asked) if asked > self.max_retry_after => Decision::WaitTooLong {
                asked,
                cap: self.max_retry_after,
            },
            Some(asked) => Decision::RetryAfter(asked),
            None => Decision::RetryAfter(self.backoff(attempt)),
        }
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random, so clients
    /// that failed together do not retry together.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .initial_backoff
            .saturating_mul(1u32 << (attempt - 1).min(20));
        let delay = doubled.min(self.max_backoff);
        let half = delay / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Whether a failure to get a whole response is worth another attempt, like a 503: the
/// connection could not be made (or timed out connecting), was closed or reset before the
/// response, or the body did not arrive whole (cut, reset, shorter than its `Content-Length`).
/// Not: a request timeout (the caller's limit; retrying would multiply it), a request that could
/// not be built, a redirect loop.
pub(crate) fn is_transient(e: &reqwest::Error) -> bool {
    if e.is_timeout() {
        return e.is_connect();
    }
    !(e.is_builder() || e.is_redirect() || e.is_status())
}

/// The innermost cause of a transport failure, for traces: `reqwest`'s outer messages name the
/// URL (which may carry a signed query), the innermost cause does not.
pub(crate) fn innermost_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let policy = RetryPolicy::default().max_attempts(100);
        for (attempt, full) in [(1, 500), (2, 1000), (3, 2000), (7, 30_000), (40, 30_000)] {
            let Decision::RetryAfter(wait) = policy.decide(attempt, None) else {
                panic!("attempt {attempt} is retried");
            };
            let full = Duration::from_millis(full);
            assert!(
                wait >= full / 2 && wait <= full,
                "attempt {attempt}: {wait:?}"
            );
        }
    }

    #[test]
    fn backoff_waits_grow_with_each_attempt_and_vary_between_clients() {
        let policy = RetryPolicy::default()
            .max_attempts(10)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(60));
        let mut previous_max = Duration::ZERO;
        for attempt in 1..=5 {
            let waits: Vec<Duration> = (0..1000)
                .map(|_| match policy.decide(attempt, None) {
                    Decision::RetryAfter(wait) => wait,
                    other => panic!("attempt {attempt}: {other:?}"),
                })
                .collect();
            let full = Duration::from_millis(100) * (1 << (attempt - 1));
            let (min, max) = (*waits.iter().min().unwrap(), *waits.iter().max().unwrap());
            // Equal jitter: within [full / 2, full], and spread over that range.
            assert!(
                min >= full / 2 && max <= full,
                "attempt {attempt}: {min:?}..{max:?}"
            );
            assert!(
                max - min >= full / 4,
                "attempt {attempt} barely varies: {min:?}..{max:?}"
            );
            let distinct: std::collections::HashSet<_> = waits.iter().collect();
            assert!(
                distinct.len() > 900,
                "attempt {attempt}: {} distinct waits",
                distinct.len()
            );
            // Each attempt's shortest wait is no shorter than the previous attempt's longest.
            assert!(
                min >= previous_max,
                "attempt {attempt}: {min:?} < {previous_max:?}"
            );
            previous_max = max;
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let two = Duration::from_secs(2);
        assert_eq!(policy.decide(1, Some(two)), Decision::RetryAfter(two));
        let hour = Duration::from_secs(3600);
        assert_eq!(
            policy.decide(1, Some(hour)),
            Decision::WaitTooLong {
                asked: hour,
                cap: Duration::from_secs(120)
            }
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let policy = RetryPolicy::default();
        assert!(matches!(policy.decide(3, None), Decision::RetryAfter(_)));
        assert_eq!(policy.decide(4, None), Decision::Stop);
        assert_eq!(RetryPolicy::disabled().decide(1, None), Decision::Stop);
    }

    #[test]
    fn only_transient_statuses_are_retryable() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(RetryPolicy::is_retryable(
                StatusCode::from_u16(status).unwrap()
            ));
        }
        for status in [200, 400, 401, 403, 404, 409, 501] {
            assert!(!RetryPolicy::is_retryable(
                StatusCode::from_u16(status).unwrap()
            ));
        }
    }
}
