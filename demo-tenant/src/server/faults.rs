//! Faults on demand: what the next answers do wrong (503s, dropped connections, slow answers,
//! vanished software, denied operations, sign-in failures, refused tokens), and what the next
//! export file downloads do wrong (500s, cut connections, empty bodies, truncated GZIP, expired
//! links).

use std::sync::Mutex;
use std::time::Duration;

/// Faults to inject into the next answers of a [`DemoTenant`](crate::DemoTenant). Each applies to
/// API calls (not token requests) unless its name says sign-in or file; the file faults apply
/// to downloads of export files whose link is valid, in this order when several are set: fail,
/// cut, empty, truncate.
#[derive(Debug, Default)]
pub struct Faults {
    plan: Mutex<Plan>,
    /// When links were expired on demand, in ticks (the `n`-th entry expired every link issued
    /// before it).
    link_expiries: Mutex<Vec<i64>>,
}

#[derive(Debug, Default)]
struct Plan {
    fail_next: u64,
    fail_every: Option<u64>,
    drop_next: u64,
    delay: Duration,
    sign_in_fail_next: u64,
    secret_expired: bool,
    refuse_tokens: bool,
    vanished: Vec<String>,
    denied: Vec<String>,
    seen: u64,
    file_fail_next: u64,
    file_cut_next: u64,
    file_empty_next: u64,
    file_truncate_next: u64,
    file_expire_next: u64,
}

/// What to do with one file download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileFault {
    None,
    Fail,
    Cut,
    Empty,
    Expired,
    Truncate,
}

/// What to do with one API call.
pub(crate) enum Fault {
    None,
    Unavailable,
    Drop,
}

impl Faults {
    /// The next `n` API calls answer 503 `ServiceUnavailable`.
    pub fn fail_next(&self, n: u64) {
        self.with(|plan| plan.fail_next = n);
    }

    /// Every `n`-th API call answers 503 (a steady rate of failures; `0` turns it off).
    pub fn fail_every(&self, n: u64) {
        self.with(|plan| plan.fail_every = (n > 0).then_some(n));
    }

    /// The next `n` API calls get their connection closed without an answer.
    pub fn drop_next(&self, n: u64) {
        self.with(|plan| plan.drop_next = n);
    }

    /// Every API answer waits this long first.
    pub fn slow(&self, delay: Duration) {
        self.with(|plan| plan.delay = delay);
    }

    /// The next `n` token requests answer 503 `temporarily_unavailable`.
    pub fn fail_sign_in_next(&self, n: u64) {
        self.with(|plan| plan.sign_in_fail_next = n);
    }

    /// The application's client secret expires: every later token request answers 401
    /// `invalid_client` with AADSTS7000222, as Entra does (tokens already issued stay valid
    /// until they expire).
    pub fn expire_secret(&self) {
        self.with(|plan| plan.secret_expired = true);
    }

    /// Calls of `operation` (an `operationId`, for example `list_machines_vulnerabilities`)
    /// answer 403 `Forbidden`, as when the application lacks the permission the operation needs.
    pub fn deny(&self, operation: &str) {
        self.with(|plan| plan.denied.push(operation.to_owned()));
    }

    /// Every API call answers 401, even with a token just issued (as when the application's
    /// access was revoked): a client's refresh cannot help.
    pub fn refuse_tokens(&self) {
        self.with(|plan| plan.refuse_tokens = true);
    }

    /// The software vanishes: it is still listed, but calls for its id answer 404.
    pub fn vanish(&self, software_id: &str) {
        self.with(|plan| plan.vanished.push(software_id.to_owned()));
    }

    /// The next `n` export file downloads answer 500 with a storage `InternalError`.
    pub fn fail_file_next(&self, n: u64) {
        self.with(|plan| plan.file_fail_next = n);
    }

    /// The next `n` export file downloads send their status and about half their body, then the
    /// connection closes: the client's body ends with an error, as a dropped download does.
    pub fn cut_file_next(&self, n: u64) {
        self.with(|plan| plan.file_cut_next = n);
    }

    /// The next `n` export file downloads answer 200 with an empty body (as storage has been
    /// seen to do).
    pub fn empty_file_next(&self, n: u64) {
        self.with(|plan| plan.file_empty_next = n);
    }

    /// The next `n` export file downloads send about half the file's GZIP stream, without its
    /// end and trailer, and end the body cleanly: a complete response whose GZIP is truncated.
    pub fn truncate_file_next(&self, n: u64) {
        self.with(|plan| plan.file_truncate_next = n);
    }

    /// The next `n` export file downloads answer 403 `AuthenticationFailed`, as for a link that
    /// expired (for a client in another process, which cannot be stopped mid-read).
    pub fn expire_file_next(&self, n: u64) {
        self.with(|plan| plan.file_expire_next = n);
    }

    /// Every export file link issued so far expires now: downloading one answers 403
    /// `AuthenticationFailed` (links issued later are not affected, and [`clear`](Self::clear)
    /// does not bring expired links back).
    pub fn expire_links(&self) {
        let mut expiries = match self.link_expiries.lock() {
            Ok(expiries) => expiries,
            Err(poisoned) => poisoned.into_inner(),
        };
        expiries.push(crate::time::now_ticks());
    }

    /// Removes every fault, file faults included (links already expired by
    /// [`expire_links`](Self::expire_links) stay expired).
    pub fn clear(&self) {
        self.with(|plan| *plan = Plan::default());
    }

    fn with<T>(&self, f: impl FnOnce(&mut Plan) -> T) -> T {
        let mut plan = match self.plan.lock() {
            Ok(plan) => plan,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut plan)
    }

    pub(crate) fn next_api_fault(&self) -> (Fault, Duration) {
        self.with(|plan| {
            plan.seen += 1;
            let fault = if plan.drop_next > 0 {
                plan.drop_next -= 1;
                Fault::Drop
            } else if plan.fail_next > 0 {
                plan.fail_next -= 1;
                Fault::Unavailable
            } else if plan.fail_every.is_some_and(|n| plan.seen % n == 0) {
                Fault::Unavailable
            } else {
                Fault::None
            };
            (fault, plan.delay)
        })
    }

    pub(crate) fn next_file_fault(&self) -> FileFault {
        self.with(|plan| {
            let counters = [
                (&mut plan.file_fail_next, FileFault::Fail),
                (&mut plan.file_cut_next, FileFault::Cut),
                (&mut plan.file_empty_next, FileFault::Empty),
                (&mut plan.file_truncate_next, FileFault::Truncate),
                (&mut plan.file_expire_next, FileFault::Expired),
            ];
            for (left, fault) in counters {
                if *left > 0 {
                    *left -= 1;
                    return fault;
                }
            }
            FileFault::None
        })
    }

    /// How many times links were expired on demand so far (a link issued now has this epoch).
    pub(crate) fn link_epoch(&self) -> usize {
        match self.link_expiries.lock() {
            Ok(expiries) => expiries.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        }
    }

    /// When the links of `epoch` were expired on demand, if they were.
    pub(crate) fn links_expired_at(&self, epoch: usize) -> Option<i64> {
        let expiries = match self.link_expiries.lock() {
            Ok(expiries) => expiries,
            Err(poisoned) => poisoned.into_inner(),
        };
        expiries.get(epoch).copied()
    }

    pub(crate) fn sign_in_fails(&self) -> bool {
        self.with(|plan| {
            let fail = plan.sign_in_fail_next > 0;
            plan.sign_in_fail_next = plan.sign_in_fail_next.saturating_sub(1);
            fail
        })
    }

    pub(crate) fn secret_expired(&self) -> bool {
        self.with(|plan| plan.secret_expired)
    }

    pub(crate) fn denied(&self, operation: &str) -> bool {
        self.with(|plan| plan.denied.iter().any(|d| d == operation))
    }

    pub(crate) fn tokens_refused(&self) -> bool {
        self.with(|plan| plan.refuse_tokens)
    }

    pub(crate) fn vanished(&self, id: &str) -> bool {
        self.with(|plan| plan.vanished.iter().any(|v| v == id))
    }
}
