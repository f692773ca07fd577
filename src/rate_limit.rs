//! The client-side rate limit: keeps calls within the service's budgets (by default 100 calls a
//! minute and 1,500 an hour, per application and tenant), so bulk jobs run at the service's pace
//! instead of collecting 429s.
//!
//! Sliding windows: a call may start when, in every window, fewer calls than the budget started
//! within the window's length before it. One limiter is shared by all clones of a client (they are
//! the same application). Waiting is a plain `tokio` sleep: dropping the call's future stops it,
//! and a call that never started takes no share of any budget.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Budgets for the client-side rate limit. The default is the service's documented limit:
/// 100 calls per minute and 1,500 per hour.
///
/// ```
/// use std::time::Duration;
/// use defender_tvm::RateLimit;
///
/// // Another process shares the app's budget: take half of it.
/// let half = RateLimit::new()
///     .window(50, Duration::from_secs(60))
///     .window(750, Duration::from_secs(3600));
/// let client = defender_tvm::Client::builder()
///     .bearer_token("eyJ0eXAi...")
///     .rate_limit(half)
///     .build()
///     .unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    windows: Vec<(u32, Duration)>,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::new()
            .window(100, Duration::from_secs(60))
            .window(1500, Duration::from_secs(3600))
    }
}

impl RateLimit {
    /// No budget yet: add windows with [`window`](Self::window).
    pub fn new() -> Self {
        Self {
            windows: Vec::new(),
        }
    }

    /// No limit on the client side (the service's 429s are still retried).
    pub fn unlimited() -> Self {
        Self::new()
    }

    /// Adds a budget: at most `calls` calls start within any `per` long window. A budget of 0
    /// calls or a zero-length window is ignored.
    pub fn window(mut self, calls: u32, per: Duration) -> Self {
        if calls > 0 && !per.is_zero() {
            self.windows.push((calls, per));
        }
        self
    }
}

/// Enforces a [`RateLimit`].
#[derive(Debug)]
pub(crate) struct Limiter {
    windows: Vec<(usize, Duration)>,
    /// Start times of the most recent calls, oldest first, as many as the largest budget.
    started: Mutex<VecDeque<Instant>>,
}

impl Limiter {
    pub(crate) fn new(limit: &RateLimit) -> Self {
        Self {
            windows: limit
                .windows
                .iter()
                .map(|&(calls, per)| (calls as usize, per))
                .collect(),
            started: Mutex::new(VecDeque::new()),
        }
    }

    /// Waits until a call may start within every budget, and counts it as started.
    pub(crate) async fn acquire(&self) {
        let Some(keep) = self.windows.iter().map(|&(calls, _)| calls).max() else {
            return;
        };
        loop {
            let wait_until = {
                let mut started = self.started.lock().await;
                let now = Instant::now();
                match self.next_slot(&started, now) {
                    None => {
                        started.push_back(now);
                        if started.len() > keep {
                            started.pop_front();
                        }
                        return;
                    }
                    Some(at) => at,
                }
            };
            tracing::debug!(
                wait_ms = wait_until
                    .saturating_duration_since(Instant::now())
                    .as_millis() as u64,
                "waiting for the client-side rate limit"
            );
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// When the next call may start, if not now: in a window full at `now`, when its oldest
    /// counted call leaves it.
    fn next_slot(&self, started: &VecDeque<Instant>, now: Instant) -> Option<Instant> {
        self.windows
            .iter()
            .filter_map(|&(calls, per)| {
                // The call `calls` places back from the newest: while it is inside the window,
                // the window is full.
                let index = started.len().checked_sub(calls)?;
                let boundary = started[index] + per;
                (boundary > now).then_some(boundary)
            })
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts of `n` calls made as fast as the limiter allows, in the paused clock's time.
    async fn starts(limiter: &Limiter, n: usize) -> Vec<Instant> {
        let mut starts = Vec::with_capacity(n);
        for _ in 0..n {
            limiter.acquire().await;
            starts.push(Instant::now());
        }
        starts
    }

    /// The largest number of starts within any window of length `per`.
    fn busiest(starts: &[Instant], per: Duration) -> usize {
        starts
            .iter()
            .map(|&from| {
                starts
                    .iter()
                    .filter(|&&t| t >= from && t < from + per)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_spaces_150_calls_so_no_window_holds_more_than_its_budget() {
        let limiter = Limiter::new(&RateLimit::default());
        let begin = Instant::now();

        let starts = starts(&limiter, 150).await;

        assert_eq!(busiest(&starts, Duration::from_secs(60)), 100);
        // The first 100 start at once, the 101st as soon as the first leaves its minute.
        assert_eq!(starts[99], begin);
        assert_eq!(starts[100], begin + Duration::from_secs(60));
        assert_eq!(starts[149], begin + Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn the_hour_budget_holds_across_minutes() {
        let limit = RateLimit::new()
            .window(10, Duration::from_secs(1))
            .window(25, Duration::from_secs(60));
        let limiter = Limiter::new(&limit);

        let starts = starts(&limiter, 60).await;

        assert!(busiest(&starts, Duration::from_secs(1)) <= 10);
        assert!(busiest(&starts, Duration::from_secs(60)) <= 25);
        assert_eq!(starts[25] - starts[0], Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_budget() {
        let limiter = std::sync::Arc::new(Limiter::new(
            &RateLimit::new().window(5, Duration::from_secs(1)),
        ));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.acquire().await;
                    Instant::now()
                })
            })
            .collect();
        let mut starts = Vec::new();
        for task in tasks {
            starts.push(task.await.unwrap());
        }
        starts.sort();

        assert_eq!(busiest(&starts, Duration::from_secs(1)), 5);
        assert_eq!(starts[19] - starts[0], Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_wait_takes_no_share_of_the_budget() {
        let limiter = Limiter::new(&RateLimit::new().window(1, Duration::from_secs(10)));
        let begin = Instant::now();
        limiter.acquire().await;

        // Give up waiting after a second: the future is dropped mid-wait.
        let gave_up = tokio::time::timeout(Duration::from_secs(1), limiter.acquire()).await;
        assert!(gave_up.is_err());

        limiter.acquire().await;
        assert_eq!(Instant::now(), begin + Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unlimited_limiter_never_waits() {
        let limiter = Limiter::new(&RateLimit::unlimited());
        let begin = Instant::now();
        starts(&limiter, 10_000).await;
        assert_eq!(Instant::now(), begin);
    }
}
