//! Counters in this process: the store of a single instance, of limits counted per instance,
//! and of the fail-open fallback while Redis is unreachable. The same sliding windows as the
//! Redis scripts: a window of [`BUCKETS`] buckets, a bucket counted until the window has moved
//! a whole window past its end (never fewer than the limit's window, so never 2× at a
//! boundary).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use crate::check::{BUCKETS, Check, Metric, Status};

#[derive(Debug, Default)]
struct Window {
    /// `(bucket, amount)`, oldest first.
    buckets: VecDeque<(u64, u64)>,
    total: u64,
}

impl Window {
    fn trim(&mut self, bucket: u64) {
        while let Some(&(oldest, amount)) = self.buckets.front() {
            if oldest + BUCKETS >= bucket {
                break;
            }
            self.total = self.total.saturating_sub(amount);
            self.buckets.pop_front();
        }
    }

    fn add(&mut self, bucket: u64, amount: u64) {
        match self.buckets.back_mut() {
            Some((last, value)) if *last == bucket => *value += amount,
            _ => self.buckets.push_back((bucket, amount)),
        }
        self.total += amount;
    }

    /// Changes the amount booked in `bucket` (if it is still in the window).
    fn adjust(&mut self, bucket: u64, delta: i64) {
        if let Some((_, value)) = self.buckets.iter_mut().find(|(b, _)| *b == bucket) {
            let before = *value;
            *value = before.saturating_add_signed(delta);
            self.total = (self.total + *value).saturating_sub(before);
        }
    }

    fn reset_ms(&self, now_ms: u64, bucket_ms: u64) -> u64 {
        self.buckets
            .iter()
            .find(|(_, amount)| *amount > 0)
            .map_or(0, |(bucket, _)| {
                ((bucket + BUCKETS + 1) * bucket_ms).saturating_sub(now_ms)
            })
    }
}

#[derive(Debug)]
enum Counter {
    Window(Window),
    Parallel(u64),
}

/// What a reservation booked for one check (to settle or roll it back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub key: String,
    pub metric: Metric,
    pub bucket: u64,
    pub amount: u64,
    /// Width of the window's buckets (ms).
    pub bucket_ms: u64,
}

/// In-process counters.
#[derive(Debug, Default)]
pub struct LocalStore {
    counters: Mutex<HashMap<String, Counter>>,
}

const PREFIX: &str = "local:";

impl LocalStore {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks every limit and, when all have room, books the call against all of them; a
    /// refused call books nothing. `divisor` shares each limit between that many instances
    /// (the fail-open fallback); 1 otherwise.
    ///
    /// # Errors
    /// The status of the first limit without room.
    pub fn reserve(
        &self,
        checks: &[Check],
        tokens: u64,
        now_ms: u64,
        divisor: u64,
    ) -> Result<(Vec<Status>, Vec<Booked>), Status> {
        self.reserve_as(checks, tokens, now_ms, divisor, PREFIX)
    }

    /// [`LocalStore::reserve`] with the counters named as under `prefix` (the fail-open
    /// fallback names them as in Redis, to merge them there later).
    ///
    /// # Errors
    /// The status of the first limit without room.
    pub fn reserve_as(
        &self,
        checks: &[Check],
        tokens: u64,
        now_ms: u64,
        divisor: u64,
        prefix: &str,
    ) -> Result<(Vec<Status>, Vec<Booked>), Status> {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let keys: Vec<String> = checks.iter().map(|c| c.key(prefix)).collect();
        let mut statuses = Vec::with_capacity(checks.len());
        for (check, key) in checks.iter().zip(&keys) {
            let limit = share(check.limit, divisor);
            let (used, reset_ms) = match counters.get_mut(key) {
                Some(Counter::Window(window)) => {
                    window.trim(check.bucket(now_ms));
                    (window.total, window.reset_ms(now_ms, check.bucket_ms()))
                }
                Some(Counter::Parallel(count)) => (*count, 0),
                None => (0, 0),
            };
            let status = Status {
                descriptor: check.descriptor,
                value: check.value.clone(),
                metric: check.metric,
                limit,
                used,
                reset_ms,
            };
            if used >= limit {
                return Err(status);
            }
            statuses.push(status);
        }
        let mut booked = Vec::with_capacity(checks.len());
        for ((check, status), key) in checks.iter().zip(&mut statuses).zip(keys) {
            let amount = check.amount(tokens);
            let bucket = check.bucket(now_ms);
            match check.metric {
                Metric::Parallel => {
                    let counter = counters.entry(key.clone()).or_insert(Counter::Parallel(0));
                    if let Counter::Parallel(count) = counter {
                        *count += 1;
                    }
                }
                Metric::Requests | Metric::Tokens => {
                    let counter = counters
                        .entry(key.clone())
                        .or_insert_with(|| Counter::Window(Window::default()));
                    if let Counter::Window(window) = counter {
                        window.add(bucket, amount);
                        if status.reset_ms == 0 {
                            status.reset_ms = window.reset_ms(now_ms, check.bucket_ms());
                        }
                    }
                }
            }
            status.used += amount;
            booked.push(Booked {
                key,
                metric: check.metric,
                bucket,
                amount,
                bucket_ms: check.bucket_ms(),
            });
        }
        Ok((statuses, booked))
    }

    /// Books the difference between the real and the reserved amount (tokens), or gives the
    /// whole reservation back (`rollback`: a call refused by a later stage); releases the
    /// parallel slots either way.
    pub fn settle(&self, booked: &[Booked], actual_tokens: Option<u64>, rollback: bool) {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        for entry in booked {
            match counters.get_mut(&entry.key) {
                Some(Counter::Parallel(count)) => {
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        counters.remove(&entry.key);
                    }
                }
                Some(Counter::Window(window)) => {
                    let delta = settle_delta(entry, actual_tokens, rollback);
                    if delta != 0 {
                        window.adjust(entry.bucket, delta);
                    }
                }
                None => {}
            }
        }
    }

    /// What this store counted for `key` in the bucket (tests and reconciliation).
    #[must_use]
    pub fn used(&self, check: &Check, now_ms: u64) -> u64 {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        match counters.get_mut(&check.key(PREFIX)) {
            Some(Counter::Window(window)) => {
                window.trim(check.bucket(now_ms));
                window.total
            }
            Some(Counter::Parallel(count)) => *count,
            None => 0,
        }
    }

    /// Drops windows with nothing left in them.
    pub fn sweep(&self, now_ms: u64) {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        counters.retain(|key, counter| match counter {
            Counter::Parallel(count) => *count > 0,
            Counter::Window(window) => {
                // The key ends in the window's length in milliseconds.
                let window_ms = key
                    .rsplit(':')
                    .next()
                    .and_then(|w| w.parse::<u64>().ok())
                    .unwrap_or(60_000);
                let bucket_ms = (window_ms / BUCKETS).max(1);
                window.trim(now_ms / bucket_ms);
                window.total > 0
            }
        });
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `limit / divisor`, rounded up, never 0 for a positive limit.
#[must_use]
pub fn share(limit: u64, divisor: u64) -> u64 {
    if divisor <= 1 {
        limit
    } else {
        limit.div_ceil(divisor)
    }
}

/// The change a settlement makes to a window's booked amount.
pub(crate) fn settle_delta(entry: &Booked, actual_tokens: Option<u64>, rollback: bool) -> i64 {
    let amount = i64::try_from(entry.amount).unwrap_or(i64::MAX);
    if rollback {
        return -amount;
    }
    match (entry.metric, actual_tokens) {
        (Metric::Tokens, Some(actual)) => i64::try_from(actual).unwrap_or(i64::MAX) - amount,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rpm(limit: u64) -> Check {
        Check::new(
            "api_key",
            "k",
            Metric::Requests,
            limit,
            Duration::from_secs(60),
        )
    }

    #[test]
    fn a_window_admits_its_limit_and_slides() {
        let store = LocalStore::new();
        let checks = [rpm(3)];
        let t0 = 1_000_000;
        for i in 0..3 {
            let (statuses, _) = store.reserve(&checks, 0, t0 + i * 10_000, 1).unwrap();
            assert_eq!(statuses[0].used, i + 1);
        }
        let refused = store.reserve(&checks, 0, t0 + 30_000, 1).unwrap_err();
        assert_eq!(refused.remaining(), 0);
        assert!(refused.reset_ms > 0 && refused.reset_ms <= 32_000);
        // 60 s after the first request it is still counted (a bucket outlives the window).
        assert!(store.reserve(&checks, 0, t0 + 60_000, 1).is_err());
        // 61 s after it, it has left the window: one more fits, and only one.
        assert!(store.reserve(&checks, 0, t0 + 61_000, 1).is_ok());
        assert!(store.reserve(&checks, 0, t0 + 61_500, 1).is_err());
    }

    #[test]
    fn a_refusal_books_nothing_anywhere() {
        let store = LocalStore::new();
        let key = rpm(10);
        let team = Check::new("team", "t", Metric::Requests, 1, Duration::from_secs(60));
        let now = 5_000_000;
        store
            .reserve(std::slice::from_ref(&team), 0, now, 1)
            .unwrap();
        assert!(
            store
                .reserve(&[key.clone(), team.clone()], 0, now, 1)
                .is_err()
        );
        assert_eq!(store.used(&key, now), 0);
        assert_eq!(store.used(&team, now), 1);
    }

    #[test]
    fn tokens_settle_to_the_real_usage_and_rollback_gives_all_back() {
        let store = LocalStore::new();
        let tpm = Check::new(
            "api_key",
            "k",
            Metric::Tokens,
            1000,
            Duration::from_secs(60),
        );
        let parallel = Check::new("api_key", "k", Metric::Parallel, 1, Duration::ZERO);
        let now = 9_000_000;
        let (_, booked) = store
            .reserve(&[tpm.clone(), parallel.clone()], 700, now, 1)
            .unwrap();
        assert_eq!(store.used(&tpm, now), 700);
        // The parallel slot is taken until the call ends.
        assert!(
            store
                .reserve(std::slice::from_ref(&parallel), 0, now, 1)
                .is_err()
        );
        store.settle(&booked, Some(120), false);
        assert_eq!(store.used(&tpm, now), 120);
        assert_eq!(store.used(&parallel, now), 0);
        let (_, booked) = store
            .reserve(std::slice::from_ref(&tpm), 500, now, 1)
            .unwrap();
        store.settle(&booked, None, true);
        assert_eq!(store.used(&tpm, now), 120);
        // Under the limit a large estimate is still admitted (LiteLLM: refused at the limit).
        assert!(
            store
                .reserve(std::slice::from_ref(&tpm), 5000, now, 1)
                .is_ok()
        );
        assert!(store.reserve(&[tpm], 1, now, 1).is_err());
    }

    #[test]
    fn a_shared_limit_is_divided_and_sweeping_forgets_empty_windows() {
        let store = LocalStore::new();
        let checks = [rpm(10)];
        let now = 2_000_000;
        for _ in 0..4 {
            store.reserve(&checks, 0, now, 3).unwrap();
        }
        assert!(store.reserve(&checks, 0, now, 3).is_err());
        assert_eq!(share(10, 3), 4);
        assert_eq!(share(1, 3), 1);
        store.sweep(now + 120_000);
        assert!(store.is_empty());
    }
}
