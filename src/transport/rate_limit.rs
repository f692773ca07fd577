//! The client-side rate limit: keeps calls within the service's budgets (by default 100 calls a
//! minute and 1,500 an hour, per application and tenant), so bulk jobs run at the service's pace
//! instead of collecting 429s.
//!
//! Sliding windows: a call may start when, in every window, fewer calls than the budget are in
//! flight or completed within the window's length before it (see [`Limiter`] for why completion,
//! not start, is what counts). One limiter is shared by all clones of a client (they are the same
//! application). Waiting is a plain `tokio` sleep: dropping the call's future stops it, and a call
//! that never started takes no share of any budget.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Notify;

use crate::error::Error;
use crate::operations::Budget;
use tokio::time::Instant;

/// Budgets for the client-side rate limit. The default ([`RateLimit::standard`]) is the
/// service's documented limit: 100 calls per minute and 1,500 per hour.
///
/// ```
/// use std::time::Duration;
/// use defender_tvm::RateLimit;
///
/// // Another process shares the app's budget: take half of it.
/// let half = RateLimit::new(50, Duration::from_secs(60)).window(750, Duration::from_secs(3600));
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
        Self::new(100, Duration::from_secs(60)).window(1500, Duration::from_secs(3600))
    }
}

impl RateLimit {
    /// At most `calls` calls within any `per` long window (more budgets with
    /// [`window`](Self::window)). 0 calls or a zero-length window is refused when the client is
    /// built ([`disabled`](Self::disabled) turns the limit off).
    pub fn new(calls: u32, per: Duration) -> Self {
        Self {
            windows: Vec::new(),
        }
        .window(calls, per)
    }

    /// The service's documented budget: 100 calls a minute and 1,500 an hour (the default).
    pub fn standard() -> Self {
        Self::default()
    }

    /// The service's budget for the JSON export calls (`…ByMachine`): 30 calls a minute and 1,000
    /// an hour, apart from the general budget.
    pub fn json_export() -> Self {
        Self::new(30, Duration::from_secs(60)).window(1000, Duration::from_secs(3600))
    }

    /// The service's budget for the via-files export calls (`…Export`): 5 calls a minute and 20
    /// an hour, apart from the others. (Downloading the files counts against no budget.)
    pub fn file_export() -> Self {
        Self::new(5, Duration::from_secs(60)).window(20, Duration::from_secs(3600))
    }

    /// The client-side limit off (the service's 429s are still retried).
    pub fn disabled() -> Self {
        Self {
            windows: Vec::new(),
        }
    }

    /// Adds a budget: at most `calls` calls within any `per` long window. 0 calls or a
    /// zero-length window is refused when the client is built.
    pub fn window(mut self, calls: u32, per: Duration) -> Self {
        self.windows.push((calls, per));
        self
    }

    /// Refuses budgets no call could follow: `which` names the limit in the message.
    pub(crate) fn check(&self, which: &str) -> Result<(), Error> {
        for &(calls, per) in &self.windows {
            if calls == 0 || per.is_zero() {
                return Err(Error::invalid_input(format!(
                    "the {which} rate limit has a budget of {calls} calls per {per:?}: each                      budget needs at least 1 call and a window longer than zero                      (RateLimit::disabled() turns the limit off)"
                )));
            }
        }
        Ok(())
    }

    /// The budgets that limit anything (a refused one never reaches a client; this keeps the
    /// arithmetic safe on one that was not checked).
    fn valid_windows(&self) -> impl Iterator<Item = (usize, Duration)> + '_ {
        self.windows
            .iter()
            .filter(|&&(calls, per)| calls > 0 && !per.is_zero())
            .map(|&(calls, per)| (calls as usize, per))
    }

    /// How long `calls` calls take at the least under these budgets: when the last of them can
    /// start if each starts as soon as every window allows and takes no time itself (the `k`-th
    /// call starts when the call `calls_i` places before it is `per_i` old, in every window
    /// `i`). For example 1,200 calls at 100 a minute: 11 minutes.
    ///
    /// ```
    /// use std::time::Duration;
    /// use defender_tvm::RateLimit;
    ///
    /// assert_eq!(RateLimit::standard().minimum_duration(1_200), Duration::from_secs(11 * 60));
    /// assert_eq!(RateLimit::disabled().minimum_duration(1_200), Duration::ZERO);
    /// ```
    pub fn minimum_duration(&self, calls: u64) -> Duration {
        let windows: Vec<(usize, Duration)> = self.valid_windows().collect();
        minimum_duration(&windows, calls)
    }

    /// The budgets, as (calls, window) pairs.
    pub fn windows(&self) -> &[(u32, Duration)] {
        &self.windows
    }
}

/// See [`RateLimit::minimum_duration`].
fn minimum_duration(windows: &[(usize, Duration)], calls: u64) -> Duration {
    let Ok(calls) = usize::try_from(calls) else {
        return Duration::MAX;
    };
    let mut starts: Vec<Duration> = Vec::with_capacity(calls);
    for k in 0..calls {
        let start = windows
            .iter()
            .filter(|&&(budget, _)| k >= budget)
            .map(|&(budget, per)| starts[k - budget] + per)
            .max()
            .unwrap_or(Duration::ZERO);
        starts.push(start);
    }
    starts.last().copied().unwrap_or(Duration::ZERO)
}

/// One limiter per budget, shared by all clones of a client.
#[derive(Debug)]
pub(crate) struct Limiters {
    general: Limiter,
    json_export: Limiter,
    file_export: Limiter,
}

impl Limiters {
    pub(crate) fn new(
        general: &RateLimit,
        json_export: &RateLimit,
        file_export: &RateLimit,
    ) -> Self {
        Self {
            general: Limiter::new(general),
            json_export: Limiter::new(json_export),
            file_export: Limiter::new(file_export),
        }
    }

    /// The limiter of `budget`, if it has one.
    pub(crate) fn of(&self, budget: Budget) -> Option<&Limiter> {
        match budget {
            Budget::General => Some(&self.general),
            Budget::JsonExport => Some(&self.json_export),
            Budget::FileExport => Some(&self.file_export),
            Budget::None => None,
        }
    }

    /// How long calls are waiting on any budget now, if they are.
    pub(crate) fn blocked_for(&self) -> Option<Duration> {
        [&self.general, &self.json_export, &self.file_export]
            .into_iter()
            .filter_map(Limiter::blocked_for)
            .max()
    }
}

/// Enforces a [`RateLimit`].
///
/// The service counts calls when they *arrive*, and a call arrives some time after the client
/// lets it start. So a call holds its place while it is in flight, and is counted at the moment
/// it *completes* (which is after it arrived). Then no window of arrivals can exceed a budget:
/// for the calls that arrive within one window, when the last of them was let start, each of
/// the others was either in flight or had completed within that window, so all were counted.
#[derive(Debug)]
pub(crate) struct Limiter {
    windows: Vec<(usize, Duration)>,
    state: std::sync::Mutex<State>,
    /// Woken when a call completes (a place may have become free).
    completed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// When the earliest waiting call may start (`None`: nobody waits on a window).
    blocked_until: Option<Instant>,
    in_flight: usize,
    /// Completion times of the most recent calls, oldest first, as many as the largest budget.
    completions: VecDeque<Instant>,
}

/// A started call's place in the budget; dropping it counts the call as completed now.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    limiter: Option<&'a Limiter>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let Some(limiter) = self.limiter else {
            return;
        };
        let keep = limiter.keep();
        if let Ok(mut state) = limiter.state.lock() {
            state.in_flight = state.in_flight.saturating_sub(1);
            state.completions.push_back(Instant::now());
            if state.completions.len() > keep {
                state.completions.pop_front();
            }
        }
        limiter.completed.notify_waiters();
    }
}

impl Limiter {
    pub(crate) fn new(limit: &RateLimit) -> Self {
        Self {
            windows: limit.valid_windows().collect(),
            state: std::sync::Mutex::new(State::default()),
            completed: Notify::new(),
        }
    }

    fn keep(&self) -> usize {
        self.windows
            .iter()
            .map(|&(calls, _)| calls)
            .max()
            .unwrap_or(0)
    }

    /// Waits until a call may start within every budget; the call holds the returned permit
    /// until its response has arrived.
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        if self.windows.is_empty() {
            return Permit { limiter: None };
        }
        loop {
            // Register for completions before looking, so none is missed in between.
            let completed = self.completed.notified();
            let wait_until = {
                let Ok(mut state) = self.state.lock() else {
                    return Permit { limiter: None };
                };
                let now = Instant::now();
                match self.next_slot(&state, now) {
                    Ok(()) => {
                        // Other calls may still wait for a later moment; a past one is over.
                        if state.blocked_until.is_some_and(|at| at <= now) {
                            state.blocked_until = None;
                        }
                        state.in_flight += 1;
                        return Permit {
                            limiter: Some(self),
                        };
                    }
                    Err(at) => {
                        if let Some(at) = at {
                            state.blocked_until = Some(match state.blocked_until {
                                Some(earlier) if earlier > now => earlier.min(at),
                                _ => at,
                            });
                        }
                        at
                    }
                }
            };
            tracing::debug!(
                wait_ms = wait_until
                    .map(|at| at.saturating_duration_since(Instant::now()).as_millis() as u64),
                "waiting for the client-side rate limit"
            );
            match wait_until {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = completed => {}
                    }
                }
                None => completed.await,
            }
        }
    }

    /// How long calls have yet to wait for a window to free a place, if they wait (for progress
    /// displays).
    pub(crate) fn blocked_for(&self) -> Option<Duration> {
        let state = self.state.lock().ok()?;
        let now = Instant::now();
        state
            .blocked_until
            .filter(|&at| at > now)
            .map(|at| at.duration_since(now))
    }

    /// See [`RateLimit::minimum_duration`].
    pub(crate) fn estimate(&self, calls: u64) -> Duration {
        minimum_duration(&self.windows, calls)
    }

    /// `Ok` if a call may start at `now`; else when to look again (`None`: when a call in
    /// flight completes).
    fn next_slot(&self, state: &State, now: Instant) -> Result<(), Option<Instant>> {
        let mut wait: Option<Instant> = None;
        for &(calls, per) in &self.windows {
            if state.in_flight >= calls {
                // Only a completion can free a place; it will wake us.
                return Err(None);
            }
            // Completed calls that still count: the newest `calls - in_flight` of them decide.
            let room = calls - state.in_flight;
            let Some(index) = state.completions.len().checked_sub(room) else {
                continue;
            };
            let boundary = state.completions[index] + per;
            if boundary > now {
                wait = Some(wait.map_or(boundary, |w| w.max(boundary)));
            }
        }
        wait.map_or(Ok(()), |at| Err(Some(at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts of `n` calls made as fast as the limiter allows, in the paused clock's time.
    async fn starts(limiter: &Limiter, n: usize) -> Vec<Instant> {
        let mut starts = Vec::with_capacity(n);
        for _ in 0..n {
            drop(limiter.acquire().await);
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
        let limit = RateLimit::new(10, Duration::from_secs(1)).window(25, Duration::from_secs(60));
        let limiter = Limiter::new(&limit);

        let starts = starts(&limiter, 60).await;

        assert!(busiest(&starts, Duration::from_secs(1)) <= 10);
        assert!(busiest(&starts, Duration::from_secs(60)) <= 25);
        assert_eq!(starts[25] - starts[0], Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_budget() {
        let limiter = std::sync::Arc::new(Limiter::new(&RateLimit::new(5, Duration::from_secs(1))));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    drop(limiter.acquire().await);
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
        let limiter = Limiter::new(&RateLimit::new(1, Duration::from_secs(10)));
        let begin = Instant::now();
        drop(limiter.acquire().await);

        // Give up waiting after a second: the future is dropped mid-wait.
        let gave_up = tokio::time::timeout(Duration::from_secs(1), limiter.acquire()).await;
        assert!(gave_up.is_err());

        drop(limiter.acquire().await);
        assert_eq!(Instant::now(), begin + Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_in_flight_holds_its_place_and_counts_from_its_completion() {
        let limiter = Limiter::new(&RateLimit::new(2, Duration::from_secs(10)));
        let begin = Instant::now();
        let first = limiter.acquire().await;
        let second = limiter.acquire().await;

        // Both places are in flight until the first call completes at 30 s; it then counts for
        // 10 s from its completion, so a third call starts at 40 s, not at 10 s.
        let release = async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(first);
        };
        let ((), third) = tokio::join!(release, async {
            drop(limiter.acquire().await);
            Instant::now()
        });
        assert_eq!(third, begin + Duration::from_secs(40));

        // The second call still holds a place: the next starts when the third leaves the window.
        drop(limiter.acquire().await);
        assert_eq!(Instant::now(), begin + Duration::from_secs(50));
        drop(second);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_call_shows_how_long_it_waits() {
        let limiter =
            std::sync::Arc::new(Limiter::new(&RateLimit::new(1, Duration::from_secs(10))));
        drop(limiter.acquire().await);
        assert_eq!(limiter.blocked_for(), None, "nobody waits yet");

        let waiter = {
            let limiter = std::sync::Arc::clone(&limiter);
            tokio::spawn(async move { drop(limiter.acquire().await) })
        };
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let wait = limiter.blocked_for().expect("a call waits");
        assert!(
            wait <= Duration::from_secs(7) && wait > Duration::from_secs(6),
            "{wait:?}"
        );

        waiter.await.unwrap();
        assert_eq!(limiter.blocked_for(), None, "the wait is over");
    }

    #[test]
    fn estimates_follow_every_window() {
        let limiter = Limiter::new(&RateLimit::default());
        // 1,200 calls at 100 a minute: the last starts after 11 minutes.
        assert_eq!(limiter.estimate(1_200), Duration::from_secs(11 * 60));
        // 3,000 calls: the hour's 1,500 hold the 1,501st until the first is an hour old; the
        // rest follow at 100 a minute from there.
        assert_eq!(limiter.estimate(3_000), Duration::from_secs(74 * 60));
        assert_eq!(limiter.estimate(0), Duration::ZERO);
        assert_eq!(limiter.estimate(100), Duration::ZERO);
        assert_eq!(
            Limiter::new(&RateLimit::disabled()).estimate(10_000),
            Duration::ZERO
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_unlimited_limiter_never_waits() {
        let limiter = Limiter::new(&RateLimit::disabled());
        let begin = Instant::now();
        starts(&limiter, 10_000).await;
        assert_eq!(Instant::now(), begin);
    }
}
