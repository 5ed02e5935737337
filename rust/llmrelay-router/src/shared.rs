//! State shared by every router instance through Redis: rpm/tpm per minute window,
//! cooldowns, `allowed_fails` counters and latency samples.
//!
//! The hot path stays local: decisions read atomics that a background task refreshes from
//! Redis (one pipeline per interval), and writes (tokens, latency, cooldowns) are queued and
//! flushed by the same task. Deployment rpm/tpm limits are not counted here: the Router's
//! limiter (`llmrelay-limits`) reserves each call on them in Redis with one script call, so
//! instances never overspend one limit, tokens included.
//!
//! When Redis is unreachable the router keeps serving from local state (a warning is logged
//! once per outage); the background task probes Redis and switches back when it returns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use llmrelay_core::{Error, Result};

use crate::deployment::{Deployment, LatencySample, minute_of, now_ms};

const PREFIX: &str = "llmrelay:router:";

/// A write waiting for the next flush.
#[derive(Debug, Clone)]
pub enum SharedWrite {
    /// A request counted in this minute's shared view (usage-based routing,
    /// `deployment_stats`); limits are reserved by the Router's limiter, not here.
    Request {
        id: String,
        minute: u64,
    },
    Tokens {
        id: String,
        minute: u64,
        tokens: u64,
    },
    Cooldown {
        id: String,
        until_ms: u64,
    },
    Latency {
        id: String,
        sample: LatencySample,
        max: usize,
        ttl_ms: u64,
    },
}

/// The Redis side of a router.
pub struct Shared {
    client: redis::Client,
    /// Created on first use, inside the runtime that runs the exchange: the connection
    /// manager spawns its reconnect task when built, so building it in [`Shared::new`] would tie
    /// construction to a running runtime (a router built before its runtime panicked).
    manager: tokio::sync::OnceCell<ConnectionManager>,
    up: AtomicBool,
    /// Set once an outage has been logged, so one outage logs one warning.
    warned: AtomicBool,
    pending: Mutex<Vec<SharedWrite>>,
    target: String,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("target", &redact(&self.target))
            .field("up", &self.up.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn key(kind: &str, id: &str) -> String {
    format!("{PREFIX}{kind}:{id}")
}

fn window_key(kind: &str, id: &str, minute: u64) -> String {
    format!("{PREFIX}{kind}:{id}:{minute}")
}

impl Shared {
    /// Prepare a lazily connected client (no I/O here: an unreachable Redis at start-up is an
    /// outage like any other, not an error). Needs no runtime: the connection is made by the
    /// first exchange.
    ///
    /// # Errors
    /// `BadRequest` for a URL the client cannot parse.
    pub fn new(target: &str) -> Result<Arc<Self>> {
        // rustls (rediss://) needs a process-wide crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = redis::Client::open(target).map_err(|e| {
            Error::bad_request(format!("Invalid router config: redis_url: {e}"))
                .with_param("redis_url")
        })?;
        Ok(Arc::new(Self {
            client,
            manager: tokio::sync::OnceCell::new(),
            // Optimistic until the first exchange says otherwise.
            up: AtomicBool::new(true),
            warned: AtomicBool::new(false),
            pending: Mutex::new(Vec::new()),
            target: target.to_owned(),
        }))
    }

    /// A handle on the connection (made lazily; it reconnects by itself after an outage).
    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        self.manager
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_millis(500)))
                    .set_response_timeout(Some(Duration::from_millis(500)))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await
            .cloned()
    }

    /// Whether Redis answered the last exchange.
    #[must_use]
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    fn went_down(&self, error: &redis::RedisError, deployments: &[Arc<Deployment>]) {
        self.up.store(false, Ordering::Relaxed);
        for deployment in deployments {
            deployment.state.shared.store(false, Ordering::Relaxed);
        }
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                redis = %redact(&self.target),
                error = %error,
                "router: Redis is unreachable; using this instance's local state until it returns"
            );
        }
    }

    fn came_up(&self) {
        if !self.up.swap(true, Ordering::Relaxed) || self.warned.swap(false, Ordering::Relaxed) {
            tracing::info!(redis = %redact(&self.target), "router: Redis reachable; sharing state again");
        }
    }

    /// Queue a write for the next flush.
    pub fn push(&self, write: SharedWrite) {
        lock(&self.pending).push(write);
    }

    /// Increment a shared `allowed_fails` counter (expiring `ttl` after its first failure).
    /// `None` when Redis is down.
    pub async fn increment_fails(&self, id: &str, suffix: &str, ttl: Duration) -> Option<u64> {
        if !self.is_up() {
            return None;
        }
        let name = key("fails", &format!("{id}:{suffix}"));
        let result: redis::RedisResult<(u64, i64)> = match self.connection().await {
            Ok(mut connection) => {
                redis::pipe()
                    .atomic()
                    .incr(&name, 1)
                    .cmd("PEXPIRE")
                    .arg(&name)
                    .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
                    .arg("NX")
                    .query_async(&mut connection)
                    .await
            }
            Err(error) => Err(error),
        };
        match result {
            Ok((count, _)) => Some(count),
            Err(error) => {
                self.up.store(false, Ordering::Relaxed);
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %error, "router: Redis is unreachable; counting failures locally");
                }
                None
            }
        }
    }

    /// One exchange: flush queued writes, then read every deployment's shared counters,
    /// cooldowns and latency samples into its local state.
    pub async fn sync(&self, deployments: &[Arc<Deployment>], read_latency: bool) {
        let mut connection = match self.connection().await {
            Ok(connection) => connection,
            Err(error) => {
                self.went_down(&error, deployments);
                return;
            }
        };
        if !self.is_up() {
            for deployment in deployments {
                deployment.state.shared.store(false, Ordering::Relaxed);
            }
            let ping: redis::RedisResult<String> =
                redis::cmd("PING").query_async(&mut connection).await;
            match ping {
                Ok(_) => self.came_up(),
                Err(_) => return,
            }
        }
        let writes = std::mem::take(&mut *lock(&self.pending));
        if !writes.is_empty() {
            let mut pipe = redis::pipe();
            for write in &writes {
                match write {
                    SharedWrite::Request { id, minute } => {
                        let name = window_key("rpm", id, *minute);
                        pipe.incr(&name, 1).ignore().expire(&name, 120).ignore();
                    }
                    SharedWrite::Tokens { id, minute, tokens } => {
                        let name = window_key("tpm", id, *minute);
                        pipe.incr(&name, *tokens)
                            .ignore()
                            .expire(&name, 120)
                            .ignore();
                    }
                    SharedWrite::Cooldown { id, until_ms } => {
                        let ttl = until_ms.saturating_sub(now_ms()).max(1);
                        pipe.cmd("SET")
                            .arg(key("cooldown", id))
                            .arg(*until_ms)
                            .arg("PX")
                            .arg(ttl)
                            .ignore();
                    }
                    SharedWrite::Latency {
                        id,
                        sample,
                        max,
                        ttl_ms,
                    } => {
                        let name = key("latency", id);
                        let encoded = format!(
                            "{}:{}:{}",
                            sample.at_ms,
                            sample.latency,
                            sample.ttft.map_or_else(String::new, |t| t.to_string())
                        );
                        pipe.lpush(&name, encoded)
                            .ignore()
                            .ltrim(&name, 0, isize::try_from(*max).unwrap_or(10).max(1) - 1)
                            .ignore()
                            .cmd("PEXPIRE")
                            .arg(&name)
                            .arg((*ttl_ms).max(1))
                            .ignore();
                    }
                }
            }
            if let Err(error) = pipe.query_async::<()>(&mut connection).await {
                // Keep the writes for the next exchange: counts must not be lost in an outage.
                let mut pending = lock(&self.pending);
                let mut kept = writes;
                kept.append(&mut pending);
                *pending = kept;
                self.went_down(&error, deployments);
                return;
            }
        }
        let minute = minute_of(now_ms());
        let mut pipe = redis::pipe();
        for deployment in deployments {
            pipe.get(window_key("rpm", &deployment.id, minute))
                .get(window_key("tpm", &deployment.id, minute))
                .get(key("cooldown", &deployment.id));
            if read_latency {
                pipe.lrange(key("latency", &deployment.id), 0, 19);
            }
        }
        let values: redis::RedisResult<Vec<redis::Value>> = pipe.query_async(&mut connection).await;
        let values = match values {
            Ok(values) => values,
            Err(error) => {
                self.went_down(&error, deployments);
                return;
            }
        };
        self.came_up();
        let per = if read_latency { 4 } else { 3 };
        for (deployment, chunk) in deployments.iter().zip(values.chunks(per)) {
            let number = |value: Option<&redis::Value>| -> Option<u64> {
                value.and_then(|v| redis::from_redis_value_ref::<Option<u64>>(v).ok().flatten())
            };
            let requests = number(chunk.first()).unwrap_or(0);
            let tokens = number(chunk.get(1)).unwrap_or(0);
            deployment
                .state
                .set_shared_usage(minute, Some(requests), Some(tokens));
            deployment.state.shared.store(true, Ordering::Relaxed);
            if let Some(until) = number(chunk.get(2)) {
                deployment.state.cool_down_until(until);
            }
            if read_latency {
                let samples: Vec<String> = chunk
                    .get(3)
                    .and_then(|v| redis::from_redis_value_ref::<Vec<String>>(v).ok())
                    .unwrap_or_default();
                deployment
                    .state
                    .set_shared_latency(samples.iter().filter_map(|s| decode_sample(s)).collect());
            }
        }
    }
}

fn decode_sample(text: &str) -> Option<LatencySample> {
    let mut parts = text.splitn(3, ':');
    let at_ms = parts.next()?.parse().ok()?;
    let latency = parts.next()?.parse().ok()?;
    let ttft = parts.next().and_then(|t| t.parse().ok());
    Some(LatencySample {
        at_ms,
        latency,
        ttft,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_round_trip_and_urls_are_redacted() {
        let sample = decode_sample("1700:0.25:0.1").unwrap();
        assert_eq!(
            (sample.at_ms, sample.latency, sample.ttft),
            (1700, 0.25, Some(0.1))
        );
        assert_eq!(decode_sample("1700:0.25:").unwrap().ttft, None);
        assert!(decode_sample("garbage").is_none());
        assert_eq!(redact("redis://:secret@host:6379"), "redis://***@host:6379");
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
    }

    #[test]
    fn constructible_without_a_runtime() {
        // No tokio runtime on this thread: building must neither panic nor connect.
        assert!(tokio::runtime::Handle::try_current().is_err());
        let shared = Shared::new("redis://127.0.0.1:1/0").unwrap();
        assert!(shared.is_up());
        assert!(shared.manager.get().is_none());
        assert!(Shared::new("not a url").is_err());
    }
}
