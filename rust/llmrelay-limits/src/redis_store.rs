//! Counters in Redis, shared by every proxy instance: one script call checks every limit of a
//! call and reserves it (a single node or Sentinel), or one per entity in a fixed order with
//! the earlier ones rolled back when a later one refuses (Cluster, where one script cannot
//! touch several slots). The windows are the in-process store's (see [`crate::local`]): a hash
//! per counter with one field per bucket, `t` the total and `o` the oldest bucket that may
//! still hold something; parallel requests are a sorted set of call ids scored by the end of
//! their lease, so an instance that dies frees its slots when the lease ends.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{RedisError, Script};

use crate::check::{BUCKETS, Check, Status};
use crate::local::{Booked, settle_delta};

/// Checks every counter (`KEYS`) and reserves the call in all of them, or in none.
/// `ARGV`: now (ms), call id, parallel lease (ms), buckets per window, then per key: metric
/// code, limit, amount, bucket width (ms). Returns `{0, used1, reset1, …}` when admitted, or
/// `{i, used, reset}` for the first counter `i` without room.
const RESERVE: &str = r"
local now = tonumber(ARGV[1])
local id = ARGV[2]
local lease = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
-- The window's total and oldest bucket after dropping the buckets that left it.
local function window(key, bucket)
  local state = redis.call('HMGET', key, 'o', 't')
  if not state[1] then return 0, nil end
  local oldest = tonumber(state[1])
  local total = tonumber(state[2] or '0')
  local floor = bucket - n
  if oldest >= floor then return total, oldest end
  if floor - oldest > n + 1 then
    redis.call('DEL', key)
    return 0, nil
  end
  for b = oldest, floor - 1 do
    local field = string.format('%d', b)
    local v = redis.call('HGET', key, field)
    if v then
      total = total - tonumber(v)
      redis.call('HDEL', key, field)
    end
  end
  if total < 0 then total = 0 end
  redis.call('HSET', key, 't', total, 'o', floor)
  return total, floor
end
local used = {}
local resets = {}
local oldests = {}
for i, key in ipairs(KEYS) do
  local base = 4 + (i - 1) * 4
  local metric = ARGV[base + 1]
  local limit = tonumber(ARGV[base + 2])
  local width = tonumber(ARGV[base + 4])
  local current
  local reset = 0
  if metric == 'p' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    current = redis.call('ZCARD', key)
  else
    local oldest
    current, oldest = window(key, math.floor(now / width))
    oldests[i] = oldest
    if oldest then reset = (oldest + n + 1) * width - now end
  end
  if current >= limit then return {i, current, reset} end
  used[i] = current
  resets[i] = reset
end
local out = {0}
for i, key in ipairs(KEYS) do
  local base = 4 + (i - 1) * 4
  local metric = ARGV[base + 1]
  local amount = tonumber(ARGV[base + 3])
  local width = tonumber(ARGV[base + 4])
  if metric == 'p' then
    redis.call('ZADD', key, now + lease, id)
    redis.call('PEXPIRE', key, lease)
  else
    local bucket = math.floor(now / width)
    local field = string.format('%d', bucket)
    local value = redis.call('HINCRBY', key, field, amount)
    redis.call('HINCRBY', key, 't', amount)
    if not oldests[i] then
      redis.call('HSET', key, 'o', field)
      resets[i] = (bucket + n + 1) * width - now
    end
    if value == amount then redis.call('PEXPIRE', key, (n + 2) * width) end
  end
  table.insert(out, used[i] + amount)
  table.insert(out, resets[i])
end
return out
";

/// Settles reservations: `ARGV`: now (ms), call id, buckets per window, whether `KEYS[1]` is a
/// once-only marker, then per counter key: metric code, bucket width (ms), bucket, delta. A
/// parallel slot is released; a window's bucket gets `delta` when it is still in the window (a
/// positive delta creates it: the fail-open bookings merged back after an outage). With a
/// marker, a batch already applied (a retry after a lost reply) changes nothing.
const SETTLE: &str = r"
local now = tonumber(ARGV[1])
local id = ARGV[2]
local n = tonumber(ARGV[3])
local first = 1
if ARGV[4] == '1' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', 3600000) then return {0} end
  first = 2
end
for i = first, #KEYS do
  local key = KEYS[i]
  local base = 4 + (i - first) * 4
  local metric = ARGV[base + 1]
  local width = tonumber(ARGV[base + 2])
  local bucket = tonumber(ARGV[base + 3])
  local delta = tonumber(ARGV[base + 4])
  if metric == 'p' then
    redis.call('ZREM', key, id)
  elseif delta ~= 0 and bucket >= math.floor(now / width) - n then
    local field = string.format('%d', bucket)
    if delta > 0 or redis.call('HEXISTS', key, field) == 1 then
      local value = redis.call('HINCRBY', key, field, delta)
      if value < 0 then
        redis.call('HSET', key, field, 0)
        delta = delta - value
      end
      local total = redis.call('HINCRBY', key, 't', delta)
      if total < 0 then redis.call('HSET', key, 't', 0) end
      local oldest = redis.call('HGET', key, 'o')
      if not oldest or tonumber(oldest) > bucket then redis.call('HSET', key, 'o', field) end
      redis.call('PEXPIRE', key, (n + 2) * width)
    end
  end
end
return {1}
";

pub use llmrelay_core::redis_target::RedisTarget;

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(MultiplexedConnection),
}

impl Conn {
    async fn invoke(
        &mut self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<Vec<i64>, RedisError> {
        match self {
            Self::Single(c) => invocation.invoke_async(c).await,
            Self::Cluster(c) => invocation.invoke_async(c).await,
            Self::Sentinel(c) => invocation.invoke_async(c).await,
        }
    }

    async fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Result<T, RedisError> {
        match self {
            Self::Single(c) => cmd.query_async(c).await,
            Self::Cluster(c) => cmd.query_async(c).await,
            Self::Sentinel(c) => cmd.query_async(c).await,
        }
    }
}

/// A Redis failure: unreachable, timed out, or an error reply.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

impl From<RedisError> for StoreError {
    fn from(error: RedisError) -> Self {
        Self(error.to_string())
    }
}

static STORES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's connection of each store: a request's reservation is sent and answered on
    /// the thread that serves the request (the proxy's workers are single-threaded runtimes),
    /// with no hop to another runtime's thread and back.
    static THREAD_CONNS: RefCell<HashMap<u64, (u64, Conn)>> = RefCell::new(HashMap::new());
    /// Stores whose connection for this thread is being made.
    static PENDING: RefCell<std::collections::HashSet<u64>> = RefCell::new(std::collections::HashSet::new());
}

/// The Redis side of the limiter: a multiplexed connection per thread that serves requests
/// (made on first use), and a small pool on the limiter's runtime for its background work.
pub struct RedisStore {
    id: u64,
    /// Bumped when the pool is made again (after an outage): threads drop older connections.
    generation: AtomicU64,
    target: RedisTarget,
    pool: Mutex<Vec<Conn>>,
    next: AtomicUsize,
    pool_size: usize,
    timeout: Duration,
    sentinel: tokio::sync::Mutex<Option<SentinelClient>>,
    reserve: Script,
    settle: Script,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target.describe())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for `target`; connections are made by [`RedisStore::connect`].
    #[must_use]
    pub fn new(target: RedisTarget, pool_size: usize, timeout: Duration, prefix: &str) -> Self {
        // rustls (rediss://) needs a process-wide crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            id: STORES.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            target,
            pool: Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
            pool_size: pool_size.max(1),
            timeout,
            sentinel: tokio::sync::Mutex::new(None),
            reserve: Script::new(RESERVE),
            settle: Script::new(SETTLE),
            prefix: prefix.to_owned(),
        }
    }

    #[must_use]
    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// (Re)connects the pool. Runs on the limiter's background task, never on a request.
    ///
    /// # Errors
    /// Redis unreachable or refusing the connection.
    pub async fn connect(&self) -> Result<(), StoreError> {
        let mut conns = Vec::with_capacity(self.pool_size);
        match &self.target {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout.max(Duration::from_millis(200))))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                for _ in 0..self.pool_size {
                    let manager = tokio::time::timeout(
                        self.timeout.max(Duration::from_millis(500)),
                        ConnectionManager::new_with_config(client.clone(), config.clone()),
                    )
                    .await
                    .map_err(|_| StoreError("timed out connecting to Redis".into()))??;
                    conns.push(Conn::Single(manager));
                }
            }
            RedisTarget::Cluster(nodes) => {
                let client = redis::cluster::ClusterClientBuilder::new(nodes.clone())
                    .connection_timeout(self.timeout.max(Duration::from_millis(200)))
                    .response_timeout(self.timeout)
                    .build()?;
                for _ in 0..self.pool_size {
                    let connection = tokio::time::timeout(
                        self.timeout.max(Duration::from_millis(500)),
                        client.get_async_connection(),
                    )
                    .await
                    .map_err(|_| StoreError("timed out connecting to Redis Cluster".into()))??;
                    conns.push(Conn::Cluster(connection));
                }
            }
            RedisTarget::Sentinel {
                nodes,
                service_name,
                password,
            } => {
                let mut sentinel = self.sentinel.lock().await;
                if sentinel.is_none() {
                    let mut info = redis::RedisConnectionInfo::default();
                    if let Some(password) = password {
                        info = info.set_password(password);
                    }
                    let node =
                        SentinelNodeConnectionInfo::default().set_redis_connection_info(info);
                    *sentinel = Some(SentinelClient::build(
                        nodes.clone(),
                        service_name.clone(),
                        Some(node),
                        SentinelServerType::Master,
                    )?);
                }
                if let Some(client) = sentinel.as_mut() {
                    for _ in 0..self.pool_size {
                        let connection = tokio::time::timeout(
                            self.timeout.max(Duration::from_millis(500)),
                            client.get_async_connection(),
                        )
                        .await
                        .map_err(|_| {
                            StoreError("timed out asking Sentinel for the master".into())
                        })??;
                        conns.push(Conn::Sentinel(connection));
                    }
                }
            }
        }
        *self.pool.lock().unwrap_or_else(PoisonError::into_inner) = conns;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn conn(&self) -> Result<Conn, StoreError> {
        let pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.is_empty() {
            return Err(StoreError("not connected to Redis".into()));
        }
        let at = self.next.fetch_add(1, Ordering::Relaxed) % pool.len();
        Ok(pool[at].clone())
    }

    /// One connection made on the calling thread's runtime (single node and Cluster; Sentinel
    /// connections come from the pool, which follows failovers).
    async fn open_here(&self) -> Result<Option<Conn>, StoreError> {
        let wait = self.timeout.max(Duration::from_millis(500));
        let conn = match &self.target {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(wait))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                let manager =
                    tokio::time::timeout(wait, ConnectionManager::new_with_config(client, config))
                        .await
                        .map_err(|_| StoreError("timed out connecting to Redis".into()))??;
                Conn::Single(manager)
            }
            RedisTarget::Cluster(nodes) => {
                let client = redis::cluster::ClusterClientBuilder::new(nodes.clone())
                    .connection_timeout(wait)
                    .response_timeout(self.timeout)
                    .build()?;
                let connection = tokio::time::timeout(wait, client.get_async_connection())
                    .await
                    .map_err(|_| StoreError("timed out connecting to Redis Cluster".into()))??;
                Conn::Cluster(connection)
            }
            RedisTarget::Sentinel { .. } => return Ok(None),
        };
        Ok(Some(conn))
    }

    /// The calling thread's connection, else one of the pool. On a single-threaded runtime
    /// (the proxy's workers) the first use starts making the thread's own connection in the
    /// background (one at a time), so no request waits for a connect.
    async fn request_conn(self: &Arc<Self>) -> Result<Conn, StoreError> {
        let generation = self.generation.load(Ordering::Relaxed);
        let mine = THREAD_CONNS.with(|conns| {
            let mut conns = conns.borrow_mut();
            match conns.get(&self.id) {
                Some((made, conn)) if *made == generation => Some(conn.clone()),
                Some(_) => {
                    // Made before the last outage: its socket may be dead.
                    conns.remove(&self.id);
                    None
                }
                None => None,
            }
        });
        if let Some(conn) = mine {
            return Ok(conn);
        }
        let single_threaded = tokio::runtime::Handle::try_current().is_ok_and(|handle| {
            handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread
        });
        if single_threaded && !matches!(self.target, RedisTarget::Sentinel { .. }) {
            let start = PENDING.with(|pending| pending.borrow_mut().insert(self.id));
            if start {
                let store = Arc::clone(self);
                // A current-thread runtime runs the task on this thread.
                tokio::spawn(async move {
                    let generation = store.generation.load(Ordering::Relaxed);
                    let made = store.open_here().await;
                    PENDING.with(|pending| pending.borrow_mut().remove(&store.id));
                    match made {
                        Ok(Some(conn)) => {
                            THREAD_CONNS.with(|conns| {
                                conns.borrow_mut().insert(store.id, (generation, conn))
                            });
                        }
                        Ok(None) => {}
                        Err(error) => {
                            tracing::debug!(%error, "rate limits: a worker's Redis connection failed");
                        }
                    }
                });
            }
        }
        self.conn()
    }

    fn forget_thread_conn(&self) {
        THREAD_CONNS.with(|conns| conns.borrow_mut().remove(&self.id));
    }

    pub(crate) async fn run(
        self: &Arc<Self>,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut conn = self.request_conn().await?;
        let result = match tokio::time::timeout(self.timeout, conn.invoke(invocation)).await {
            Ok(result) => result.map_err(StoreError::from),
            Err(_) => Err(StoreError(format!(
                "Redis did not answer within {} ms",
                self.timeout.as_millis()
            ))),
        };
        if result.is_err() {
            // Made again on the next use (after an outage, a new connection).
            self.forget_thread_conn();
        }
        result
    }

    /// A command with the store's timeout (heartbeats, probes).
    ///
    /// # Errors
    /// Redis unreachable, slow or refusing.
    pub async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        match tokio::time::timeout(self.timeout, conn.query(cmd)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(StoreError("Redis did not answer in time".into())),
        }
    }

    /// Checks and reserves every limit: one round trip on a single node; on a cluster one per
    /// entity (in key order), rolling back the entities already reserved when one refuses.
    ///
    /// # Errors
    /// `Ok(Err(status))`: a limit without room (nothing stays reserved); `Err`: Redis failed
    /// (what was reserved before the failure is rolled back, best effort).
    pub async fn reserve(
        self: &Arc<Self>,
        checks: &[&Check],
        tokens: u64,
        id: &str,
        lease: Duration,
        now_ms: u64,
    ) -> Result<Result<(Vec<Status>, Vec<Booked>), Status>, StoreError> {
        if !self.target.is_cluster() {
            return self.reserve_group(checks, tokens, id, lease, now_ms).await;
        }
        let mut order: Vec<&Check> = checks.to_vec();
        order.sort_by_key(|c| c.key(&self.prefix));
        let mut statuses = Vec::with_capacity(order.len());
        let mut booked: Vec<Booked> = Vec::with_capacity(order.len());
        let mut start = 0;
        while start < order.len() {
            let entity = order[start].entity();
            let end = order[start..]
                .iter()
                .position(|c| c.entity() != entity)
                .map_or(order.len(), |p| start + p);
            match self
                .reserve_group(&order[start..end], tokens, id, lease, now_ms)
                .await
            {
                Ok(Ok((s, b))) => {
                    statuses.extend(s);
                    booked.extend(b);
                }
                Ok(Err(refused)) => {
                    self.settle(&booked, None, true, id, now_ms).await.ok();
                    return Ok(Err(refused));
                }
                Err(error) => {
                    self.settle(&booked, None, true, id, now_ms).await.ok();
                    return Err(error);
                }
            }
            start = end;
        }
        Ok(Ok((statuses, booked)))
    }

    async fn reserve_group(
        self: &Arc<Self>,
        checks: &[&Check],
        tokens: u64,
        id: &str,
        lease: Duration,
        now_ms: u64,
    ) -> Result<Result<(Vec<Status>, Vec<Booked>), Status>, StoreError> {
        let mut invocation = self.reserve.prepare_invoke();
        invocation
            .arg(now_ms)
            .arg(id)
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
            .arg(BUCKETS);
        let keys: Vec<String> = checks.iter().map(|c| c.key(&self.prefix)).collect();
        for (check, key) in checks.iter().zip(&keys) {
            invocation
                .key(key)
                .arg(check.metric.code())
                .arg(check.limit)
                .arg(check.amount(tokens))
                .arg(check.bucket_ms());
        }
        let reply = self.run(&invocation).await?;
        let number = |at: usize| {
            reply
                .get(at)
                .copied()
                .map_or(0, |v| u64::try_from(v).unwrap_or(0))
        };
        let status = |check: &Check, used: u64, reset: u64| Status {
            descriptor: check.descriptor,
            value: check.value.clone(),
            metric: check.metric,
            limit: check.limit,
            used,
            reset_ms: reset,
        };
        let first = number(0);
        if first > 0 {
            let index = usize::try_from(first - 1).unwrap_or(0);
            let Some(check) = checks.get(index) else {
                return Err(StoreError("unexpected reply from the limits script".into()));
            };
            return Ok(Err(status(check, number(1), number(2))));
        }
        if reply.len() != 1 + 2 * checks.len() {
            return Err(StoreError("unexpected reply from the limits script".into()));
        }
        let mut statuses = Vec::with_capacity(checks.len());
        let mut booked = Vec::with_capacity(checks.len());
        for (i, (check, key)) in checks.iter().zip(keys).enumerate() {
            statuses.push(status(check, number(1 + 2 * i), number(2 + 2 * i)));
            booked.push(Booked {
                key,
                metric: check.metric,
                bucket: check.bucket(now_ms),
                amount: check.amount(tokens),
                bucket_ms: check.bucket_ms(),
            });
        }
        Ok(Ok((statuses, booked)))
    }

    /// Settles (or rolls back) what a reservation booked; one call per entity on a cluster.
    ///
    /// # Errors
    /// Redis failed.
    pub async fn settle(
        self: &Arc<Self>,
        booked: &[Booked],
        actual_tokens: Option<u64>,
        rollback: bool,
        id: &str,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let deltas: Vec<(&Booked, i64)> = booked
            .iter()
            .map(|b| (b, settle_delta(b, actual_tokens, rollback)))
            .collect();
        self.apply(&deltas, id, now_ms, None).await
    }

    /// Adds amounts to windows (`delta` per booking) and releases parallel slots. With
    /// `once`, a batch id: applying the same batch again (a retry) changes nothing.
    ///
    /// # Errors
    /// Redis failed.
    pub async fn apply(
        self: &Arc<Self>,
        deltas: &[(&Booked, i64)],
        id: &str,
        now_ms: u64,
        once: Option<&str>,
    ) -> Result<(), StoreError> {
        let work: Vec<&(&Booked, i64)> = deltas
            .iter()
            .filter(|(b, d)| *d != 0 || b.metric == crate::check::Metric::Parallel)
            .collect();
        if work.is_empty() {
            return Ok(());
        }
        let groups: Vec<Vec<&(&Booked, i64)>> = if self.target.is_cluster() {
            let mut sorted = work;
            sorted.sort_by(|a, b| a.0.key.cmp(&b.0.key));
            let mut groups: Vec<Vec<&(&Booked, i64)>> = Vec::new();
            for entry in sorted {
                let tag = hash_tag(&entry.0.key);
                match groups.last_mut() {
                    Some(group) if hash_tag(&group[0].0.key) == tag => group.push(entry),
                    _ => groups.push(vec![entry]),
                }
            }
            groups
        } else {
            vec![work]
        };
        for group in groups {
            let mut invocation = self.settle.prepare_invoke();
            invocation
                .arg(now_ms)
                .arg(id)
                .arg(BUCKETS)
                .arg(if once.is_some() { "1" } else { "0" });
            if let Some(batch) = once {
                let marker = if self.target.is_cluster() {
                    format!(
                        "{}{}:merged:{batch}",
                        self.prefix,
                        hash_tag(&group[0].0.key)
                    )
                } else {
                    format!("{}merged:{batch}", self.prefix)
                };
                invocation.key(marker);
            }
            for (booked, delta) in group {
                invocation
                    .key(&booked.key)
                    .arg(booked.metric.code())
                    .arg(booked.bucket_ms)
                    .arg(booked.bucket)
                    .arg(*delta);
            }
            self.run(&invocation).await?;
        }
        Ok(())
    }
}

/// The `{…}` part of a key (its Cluster slot).
fn hash_tag(key: &str) -> &str {
    match (key.find('{'), key.find('}')) {
        (Some(open), Some(close)) if close > open => &key[open..=close],
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_hide_passwords() {
        assert_eq!(
            RedisTarget::Single("redis://:secret@h:6379/0".into()).describe(),
            "redis://***@h:6379/0"
        );
        assert_eq!(hash_tag("rl:{team:t}:r:60000"), "{team:t}");
    }
}
