//! The service's budgets: at most so many calls within any window of so long (100 a minute and
//! 1,500 an hour by default), counted on arrival; over one, how long until a place frees.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::lock;

/// Sliding windows over the arrivals of admitted calls.
#[derive(Debug)]
pub(crate) struct Budget {
    windows: Vec<(u32, Duration)>,
    arrivals: Mutex<VecDeque<Instant>>,
}

impl Budget {
    /// At most `calls` calls within any `per`, for each `(calls, per)` (none: unlimited).
    pub(crate) fn new(windows: Vec<(u32, Duration)>) -> Self {
        Self {
            windows,
            arrivals: Mutex::new(VecDeque::new()),
        }
    }

    /// Takes a place in every window, or says how long until one frees.
    pub(crate) fn admit(&self) -> Result<(), Duration> {
        // The time is read under the lock: arrivals are then in order, and a request delayed
        // between reading the clock and taking the lock cannot judge by a stale time (it would
        // count, as within its window, calls that left the window meanwhile).
        let mut arrivals = lock(&self.arrivals);
        let now = Instant::now();
        let longest = self.windows.iter().map(|&(_, per)| per).max();
        if let Some(longest) = longest {
            while arrivals
                .front()
                .is_some_and(|&t| now.duration_since(t) >= longest)
            {
                arrivals.pop_front();
            }
        }
        let mut wait = Duration::ZERO;
        for &(calls, per) in &self.windows {
            let in_window: Vec<&Instant> = arrivals
                .iter()
                .filter(|&&t| now.duration_since(t) < per)
                .collect();
            if in_window.len() >= calls as usize {
                let frees_at = *in_window[in_window.len() - calls as usize] + per;
                wait = wait.max(frees_at.duration_since(now));
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        arrivals.push_back(now);
        Ok(())
    }
}
