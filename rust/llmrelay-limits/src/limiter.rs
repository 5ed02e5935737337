//! The limiter: reserve a call against every limit that applies (in Redis when one is
//! configured, else in this process), settle it to the real usage afterwards, and keep serving
//! by the configured policy while Redis is unreachable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::check::{Check, Metric, Status};
use crate::local::{Booked, LocalStore};
use crate::redis_store::{RedisStore, RedisTarget, StoreError};

/// What to do with a limit when Redis cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// Serve, counting in this process against the limit divided by the live instances, and
    /// merge those counts into Redis when it returns.
    Open,
    /// Refuse the call (503) until Redis is back.
    Closed,
}

impl FailMode {
    /// `fail_open` / `fail_closed`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "fail_open" | "open" => Some(Self::Open),
            "fail_closed" | "closed" => Some(Self::Closed),
            _ => None,
        }
    }

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "fail_open",
            Self::Closed => "fail_closed",
        }
    }
}

/// The policy per limit kind (default: serve rate-limited calls, refuse budgeted ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailPolicy {
    pub requests: FailMode,
    pub tokens: FailMode,
    pub parallel: FailMode,
    /// Shared budgets (default: refuse, so no instance spends past a budget it cannot see).
    pub budget: FailMode,
}

impl Default for FailPolicy {
    fn default() -> Self {
        Self {
            requests: FailMode::Open,
            tokens: FailMode::Open,
            parallel: FailMode::Open,
            budget: FailMode::Closed,
        }
    }
}

impl FailPolicy {
    #[must_use]
    pub fn mode(&self, metric: Metric) -> FailMode {
        match metric {
            Metric::Requests => self.requests,
            Metric::Tokens => self.tokens,
            Metric::Parallel => self.parallel,
        }
    }
}

/// How the limiter is set up.
#[derive(Debug, Clone)]
pub struct LimiterConfig {
    pub redis: Option<RedisTarget>,
    pub policy: FailPolicy,
    /// Longest wait for one Redis reply before the call is served by the policy.
    pub timeout: Duration,
    /// A parallel slot is freed after this long even if its instance died.
    pub lease: Duration,
    /// Multiplexed connections per instance.
    pub pool_size: usize,
    /// Key prefix in Redis.
    pub prefix: String,
    /// How often a down Redis is probed, and instances announce themselves.
    pub probe_interval: Duration,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        Self {
            redis: None,
            policy: FailPolicy::default(),
            timeout: Duration::from_millis(250),
            lease: Duration::from_secs(600),
            pool_size: 2,
            prefix: "llmrelay:rl:".to_owned(),
            probe_interval: Duration::from_secs(1),
        }
    }
}

/// Why a call was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// A limit without room.
    Limit(Status),
    /// Redis is unreachable and the limit's policy is `fail_closed`.
    Unavailable { metric: Metric, reason: String },
}

/// The limiter's health, for `/health` and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `None` without Redis.
    pub redis_up: Option<bool>,
    /// Up/down transitions since start.
    pub transitions: u64,
    /// Instances that announced themselves in the last interval (1 without Redis).
    pub instances: u64,
    /// Calls served by the fail-open fallback.
    pub served_in_fallback: u64,
    /// Calls refused because Redis was down (fail-closed).
    pub refused_unavailable: u64,
}

/// Fail-open bookings being merged into Redis: `(batch id, (booking, amount))`.
type Batch = (String, Vec<(Booked, u64)>);

pub(crate) struct Inner {
    pub(crate) config: LimiterConfig,
    local: LocalStore,
    fallback: LocalStore,
    pub(crate) redis: Option<Arc<RedisStore>>,
    up: AtomicBool,
    started: AtomicBool,
    transitions: AtomicU64,
    instances: AtomicU64,
    served_in_fallback: AtomicU64,
    refused_unavailable: AtomicU64,
    /// Fail-open bookings not yet merged into Redis: `(key, bucket) → (booking, amount)`.
    journal: Mutex<HashMap<(String, u64), (Booked, u64)>>,
    /// A batch taken from the journal and not yet confirmed by Redis: `(batch id, entries)`.
    pending: Mutex<Option<Batch>>,
    instance: String,
    runtime: Mutex<Option<tokio::runtime::Handle>>,
    reservations: AtomicU64,
    /// `true` once the first connection attempt after `start` has an answer (up or down):
    /// until then a reservation waits for it instead of counting in the local fallback, so
    /// a call that arrives as the process starts is counted where the other instances count.
    settled: tokio::sync::watch::Sender<bool>,
    /// Set by [`Limiter::connecting`] or `start` until the first attempt has its answer.
    connecting: AtomicBool,
}

/// The limiter; cheap to clone.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the epoch.
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Where a permit's bookings are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Local,
    Redis,
    Fallback,
}

/// An admitted call's reservation: settle it with the real token usage when the call is over
/// (dropping it settles with the estimate and frees its parallel slots).
#[must_use = "a permit holds parallel slots until it is settled or dropped"]
pub struct Permit {
    inner: Arc<Inner>,
    /// Every limit's state after this call was admitted.
    pub statuses: Vec<Status>,
    local: Vec<Booked>,
    shared: Vec<Booked>,
    place: Place,
    id: String,
    open: bool,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("statuses", &self.statuses)
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

impl Permit {
    /// Books the real token usage (`None`: keep the estimate) and frees the parallel slots.
    pub fn settle(mut self, actual_tokens: Option<u64>) {
        self.finish(actual_tokens, false);
    }

    /// Gives the whole reservation back: the call never went upstream (a later stage refused
    /// it), so it counts against no limit.
    pub fn rollback(mut self) {
        self.finish(None, true);
    }

    fn finish(&mut self, actual_tokens: Option<u64>, rollback: bool) {
        if !self.open {
            return;
        }
        self.open = false;
        if !self.local.is_empty() {
            self.inner
                .local
                .settle(&self.local, actual_tokens, rollback);
        }
        if self.shared.is_empty() {
            return;
        }
        match self.place {
            Place::Local => self
                .inner
                .local
                .settle(&self.shared, actual_tokens, rollback),
            Place::Fallback => {
                self.inner
                    .fallback
                    .settle(&self.shared, actual_tokens, rollback);
                if !rollback {
                    self.inner.journal(&self.shared, actual_tokens);
                }
            }
            Place::Redis => {
                let inner = Arc::clone(&self.inner);
                let booked = std::mem::take(&mut self.shared);
                let id = std::mem::take(&mut self.id);
                inner.clone().spawn(async move {
                    let Some(redis) = &inner.redis else { return };
                    if let Err(error) = redis
                        .settle(&booked, actual_tokens, rollback, &id, now_ms())
                        .await
                    {
                        // The window (or the parallel lease) ends it anyway; log and go on.
                        tracing::warn!(%error, "rate limits: settling a reservation in Redis failed");
                        inner.mark_down(&error);
                    }
                });
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.finish(None, false);
    }
}

impl Inner {
    pub(crate) fn spawn(
        self: Arc<Self>,
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(work);
            return;
        }
        let handle = self
            .runtime
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(handle) = handle {
            handle.spawn(work);
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_down(&self, error: &StoreError) {
        if self.up.swap(false, Ordering::SeqCst) {
            self.transitions.fetch_add(1, Ordering::Relaxed);
            let target = self
                .redis
                .as_ref()
                .map(|r| r.target().describe())
                .unwrap_or_default();
            tracing::warn!(
                %error,
                redis = %target,
                requests = self.config.policy.requests.as_str(),
                tokens = self.config.policy.tokens.as_str(),
                parallel = self.config.policy.parallel.as_str(),
                "rate limits: Redis unreachable; limits follow their failure policy until it returns"
            );
        }
    }

    fn journal(&self, booked: &[Booked], actual_tokens: Option<u64>) {
        let mut journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        for entry in booked {
            if entry.metric == Metric::Parallel {
                continue;
            }
            let amount = match (entry.metric, actual_tokens) {
                (Metric::Tokens, Some(actual)) => actual,
                _ => entry.amount,
            };
            if amount == 0 {
                continue;
            }
            journal
                .entry((entry.key.clone(), entry.bucket))
                .and_modify(|(_, total)| *total += amount)
                .or_insert_with(|| (entry.clone(), amount));
        }
    }

    /// Merges the fail-open bookings into Redis (after an outage), as one batch with an id:
    /// a batch whose reply was lost is retried with the same id and applied once.
    async fn reconcile(&self, redis: &Arc<RedisStore>) -> Result<usize, StoreError> {
        let batch = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if pending.is_none() {
                let mut journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
                if !journal.is_empty() {
                    let entries: Vec<(Booked, u64)> = journal.drain().map(|(_, v)| v).collect();
                    *pending = Some((uuid::Uuid::new_v4().to_string(), entries));
                }
            }
            pending.clone()
        };
        let Some((id, entries)) = batch else {
            return Ok(0);
        };
        let deltas: Vec<(&Booked, i64)> = entries
            .iter()
            .map(|(booked, amount)| (booked, i64::try_from(*amount).unwrap_or(i64::MAX)))
            .collect();
        redis
            .apply(&deltas, "reconcile", now_ms(), Some(&id))
            .await?;
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(entries.len())
    }

    async fn heartbeat(&self, redis: &Arc<RedisStore>) -> Result<u64, StoreError> {
        let key = format!("{}instances", redis.prefix());
        let now = now_ms();
        let stale = now.saturating_sub(
            u64::try_from(self.config.probe_interval.as_millis() * 5).unwrap_or(10_000),
        );
        let mut pipe = redis::cmd("ZADD");
        pipe.arg(&key).arg(now).arg(&self.instance);
        redis.query::<i64>(&pipe).await?;
        redis
            .query::<i64>(
                redis::cmd("ZREMRANGEBYSCORE")
                    .arg(&key)
                    .arg("-inf")
                    .arg(stale),
            )
            .await?;
        redis
            .query::<i64>(redis::cmd("PEXPIRE").arg(&key).arg(60_000))
            .await?;
        let count: u64 = redis.query(redis::cmd("ZCARD").arg(&key)).await?;
        Ok(count.max(1))
    }
}

impl Limiter {
    /// A limiter; with Redis, call [`Limiter::start`] on a runtime to connect it.
    #[must_use]
    pub fn new(config: LimiterConfig) -> Self {
        let redis = config.redis.clone().map(|target| {
            Arc::new(RedisStore::new(
                target,
                config.pool_size,
                config.timeout,
                &config.prefix,
            ))
        });
        Self {
            inner: Arc::new(Inner {
                local: LocalStore::new(),
                fallback: LocalStore::new(),
                redis,
                up: AtomicBool::new(false),
                started: AtomicBool::new(false),
                transitions: AtomicU64::new(0),
                instances: AtomicU64::new(1),
                served_in_fallback: AtomicU64::new(0),
                refused_unavailable: AtomicU64::new(0),
                journal: Mutex::new(HashMap::new()),
                pending: Mutex::new(None),
                instance: uuid::Uuid::new_v4().to_string(),
                runtime: Mutex::new(None),
                reservations: AtomicU64::new(0),
                settled: tokio::sync::watch::Sender::new(false),
                connecting: AtomicBool::new(false),
                config,
            }),
        }
    }

    #[must_use]
    pub fn config(&self) -> &LimiterConfig {
        &self.inner.config
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Say that [`Limiter::start`] is about to run (spawned by the caller): reservations made
    /// before its first connection attempt has an answer wait for it (at most about four
    /// timeouts) instead of counting in the local fallback.
    pub fn connecting(&self) {
        if self.inner.redis.is_some() && !*self.inner.settled.borrow() {
            self.inner.connecting.store(true, Ordering::SeqCst);
        }
    }

    /// Whether counters are shared through Redis (configured; it may be down).
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.inner.redis.is_some()
    }

    /// Connects to Redis (waiting at most the timeout; an unreachable Redis is an outage, not
    /// an error) and starts the background task that probes it, announces this instance and
    /// merges fail-open counts back. Idempotent.
    pub async fn start(&self) {
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return;
        }
        self.inner.connecting.store(true, Ordering::SeqCst);
        *self
            .inner
            .runtime
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = tokio::runtime::Handle::try_current().ok();
        let Some(redis) = &self.inner.redis else {
            return;
        };
        match redis.connect().await {
            Ok(()) => match self.inner.heartbeat(redis).await {
                Ok(instances) => {
                    self.inner.instances.store(instances, Ordering::Relaxed);
                    self.inner.up.store(true, Ordering::SeqCst);
                    tracing::info!(redis = %redis.target().describe(), instances, "rate limits: counted in Redis");
                }
                Err(error) => self.inner.mark_down_at_start(&error),
            },
            Err(error) => self.inner.mark_down_at_start(&error),
        }
        self.inner.settled.send_replace(true);
        self.inner.connecting.store(false, Ordering::SeqCst);
        let weak = Arc::downgrade(&self.inner);
        let interval = self.inner.config.probe_interval;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                inner.tick().await;
            }
        });
    }

    /// Reserves a call against `checks` (`tokens`: the call's token estimate).
    ///
    /// # Errors
    /// [`Denied::Limit`] for the first limit without room (nothing stays reserved), or
    /// [`Denied::Unavailable`] when Redis is down and a limit's policy is `fail_closed`.
    pub async fn acquire(&self, checks: &[Check], tokens: u64) -> Result<Permit, Denied> {
        let inner = &self.inner;
        let now = now_ms();
        if inner.reservations.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            inner.local.sweep(now);
            inner.fallback.sweep(now);
        }
        let (local_checks, shared): (Vec<&Check>, Vec<&Check>) = checks
            .iter()
            .partition(|c| c.local_only || inner.redis.is_none());
        let mut permit = Permit {
            inner: Arc::clone(inner),
            statuses: Vec::with_capacity(checks.len()),
            local: Vec::new(),
            shared: Vec::new(),
            place: Place::Local,
            id: String::new(),
            open: true,
        };
        if !local_checks.is_empty() {
            let owned: Vec<Check> = local_checks.into_iter().cloned().collect();
            let (statuses, booked) = inner
                .local
                .reserve(&owned, tokens, now, 1)
                .map_err(Denied::Limit)?;
            permit.statuses.extend(statuses);
            permit.local = booked;
        }
        if shared.is_empty() {
            return Ok(permit);
        }
        let Some(redis) = &inner.redis else {
            return Ok(permit);
        };
        if !inner.up.load(Ordering::Relaxed)
            && inner.connecting.load(Ordering::SeqCst)
            && !*inner.settled.borrow()
        {
            // Started and still connecting: wait for the answer (bounded by the connect
            // timeout and the heartbeat), not the fallback.
            let mut settled = inner.settled.subscribe();
            let wait = inner.config.timeout.saturating_mul(4) + Duration::from_millis(500);
            let _ = tokio::time::timeout(wait, settled.wait_for(|done| *done)).await;
        }
        if inner.up.load(Ordering::Relaxed) {
            permit.id = uuid::Uuid::new_v4().to_string();
            match redis
                .reserve(&shared, tokens, &permit.id, inner.config.lease, now)
                .await
            {
                Ok(Ok((statuses, booked))) => {
                    permit.statuses.extend(statuses);
                    permit.shared = booked;
                    permit.place = Place::Redis;
                    return Ok(permit);
                }
                Ok(Err(refused)) => {
                    permit.rollback();
                    return Err(Denied::Limit(refused));
                }
                Err(error) => inner.mark_down(&error),
            }
        }
        // Redis is down: each limit by its policy.
        if let Some(closed) = shared
            .iter()
            .find(|c| inner.config.policy.mode(c.metric) == FailMode::Closed)
        {
            inner.refused_unavailable.fetch_add(1, Ordering::Relaxed);
            let metric = closed.metric;
            permit.rollback();
            return Err(Denied::Unavailable {
                metric,
                reason: "the rate-limit store (Redis) is unreachable".to_owned(),
            });
        }
        let divisor = inner.instances.load(Ordering::Relaxed).max(1);
        let owned: Vec<Check> = shared.into_iter().cloned().collect();
        match inner
            .fallback
            .reserve_as(&owned, tokens, now, divisor, redis.prefix())
        {
            Ok((statuses, booked)) => {
                inner.served_in_fallback.fetch_add(1, Ordering::Relaxed);
                permit.statuses.extend(statuses);
                permit.shared = booked;
                permit.place = Place::Fallback;
                Ok(permit)
            }
            Err(refused) => {
                permit.rollback();
                Err(Denied::Limit(refused))
            }
        }
    }

    #[must_use]
    pub fn health(&self) -> Health {
        let inner = &self.inner;
        Health {
            redis_up: inner
                .redis
                .as_ref()
                .map(|_| inner.up.load(Ordering::Relaxed)),
            transitions: inner.transitions.load(Ordering::Relaxed),
            instances: inner.instances.load(Ordering::Relaxed),
            served_in_fallback: inner.served_in_fallback.load(Ordering::Relaxed),
            refused_unavailable: inner.refused_unavailable.load(Ordering::Relaxed),
        }
    }

    /// What the in-process store counted for `check` (tests).
    #[must_use]
    pub fn local_used(&self, check: &Check) -> u64 {
        self.inner.local.used(check, now_ms())
    }
}

impl Inner {
    fn mark_down_at_start(&self, error: &StoreError) {
        self.up.store(false, Ordering::SeqCst);
        self.transitions.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            %error,
            requests = self.config.policy.requests.as_str(),
            tokens = self.config.policy.tokens.as_str(),
            parallel = self.config.policy.parallel.as_str(),
            "rate limits: Redis unreachable at start; limits follow their failure policy until it is reachable"
        );
    }

    async fn tick(&self) {
        let Some(redis) = &self.redis else { return };
        if self.up.load(Ordering::Relaxed) {
            match self.heartbeat(redis).await {
                Ok(instances) => {
                    self.instances.store(instances, Ordering::Relaxed);
                    if let Err(error) = self.reconcile(redis).await {
                        self.mark_down(&error);
                    }
                }
                Err(error) => self.mark_down(&error),
            }
            return;
        }
        // Every connection is made again: the old ones may hold dead sockets.
        let connected = redis.connect().await;
        let result = match connected {
            Ok(()) => self.heartbeat(redis).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(instances) => {
                self.instances.store(instances, Ordering::Relaxed);
                let merged = self.reconcile(redis).await;
                self.up.store(true, Ordering::SeqCst);
                self.transitions.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    redis = %redis.target().describe(),
                    instances,
                    merged = merged.as_ref().copied().unwrap_or_default(),
                    "rate limits: Redis reachable again; counting there (fail-open counts merged)"
                );
            }
            Err(error) => tracing::debug!(%error, "rate limits: Redis still unreachable"),
        }
    }
}
