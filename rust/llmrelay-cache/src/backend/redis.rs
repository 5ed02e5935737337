//! The Redis store: one string per answer under `llmrelay:cache:<key>` (the prefix keeps our
//! entries apart from anything else in the database, LiteLLM's included), expiring with
//! its TTL. Lookups use a connection of the thread that serves the request, writes (batched
//! off the call's path) a shared one ([`Connections`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::CacheError;
use crate::entry::Entry;

/// Where our keys live.
pub const PREFIX: &str = "llmrelay:cache:";

fn failed(error: impl std::fmt::Display) -> CacheError {
    CacheError::Backend(format!("redis cache: {error}"))
}

static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's connection of each [`Connections`], by its id.
    static THREAD_CONNS: RefCell<HashMap<u64, ConnectionManager>> = RefCell::new(HashMap::new());
}

/// The connections of one Redis user in the cache: one shared connection for work off the
/// call's path (batched writes), and one per thread for work on it (the proxy's workers are
/// single-threaded runtimes, so a lookup needs no hop to another runtime's thread and back).
/// Both are made lazily and reconnect by themselves.
pub(crate) struct Connections {
    id: u64,
    client: redis::Client,
    shared: tokio::sync::OnceCell<ConnectionManager>,
    response_timeout: Duration,
}

impl Connections {
    /// Connections to `url` (`redis://`, `rediss://`) answering within `response_timeout`.
    pub(crate) fn open(url: &str, response_timeout: Duration) -> redis::RedisResult<Self> {
        // rediss:// needs a process-wide crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Self {
            id: CONNECTIONS.fetch_add(1, Ordering::Relaxed),
            client: redis::Client::open(url)?,
            shared: tokio::sync::OnceCell::new(),
            response_timeout,
        })
    }

    fn config(&self) -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(self.response_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500))
    }

    /// The shared connection.
    pub(crate) async fn shared(&self) -> redis::RedisResult<ConnectionManager> {
        self.shared
            .get_or_try_init(|| async {
                ConnectionManager::new_lazy_with_config(self.client.clone(), self.config())
            })
            .await
            .cloned()
    }

    /// This thread's connection (made on first use, on this thread's runtime).
    pub(crate) fn this_thread(&self) -> redis::RedisResult<ConnectionManager> {
        if let Some(connection) = THREAD_CONNS.with(|c| c.borrow().get(&self.id).cloned()) {
            return Ok(connection);
        }
        let connection =
            ConnectionManager::new_lazy_with_config(self.client.clone(), self.config())?;
        THREAD_CONNS.with(|c| c.borrow_mut().insert(self.id, connection.clone()));
        Ok(connection)
    }

    /// Drop this thread's connection after a failure (one whose runtime is gone cannot
    /// recover); the next call makes another.
    pub(crate) fn forget_this_thread(&self) {
        THREAD_CONNS.with(|c| c.borrow_mut().remove(&self.id));
    }
}

/// Answers kept in Redis.
pub struct RedisStore {
    connections: Connections,
    target: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &redact(&self.target))
            .finish_non_exhaustive()
    }
}

/// The URL without its password.
#[must_use]
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl RedisStore {
    /// A lazily connected store for `url` (`redis://`, `rediss://`).
    ///
    /// # Errors
    /// A URL the client cannot parse.
    pub fn new(url: &str) -> Result<Self, CacheError> {
        Ok(Self {
            connections: Connections::open(url, Duration::from_millis(500)).map_err(failed)?,
            target: url.to_owned(),
        })
    }

    #[must_use]
    pub fn target(&self) -> String {
        redact(&self.target)
    }

    async fn connection(&self) -> Result<ConnectionManager, CacheError> {
        self.connections.shared().await.map_err(failed)
    }

    /// The entry under `key`.
    ///
    /// # Errors
    /// Redis did not answer, or the value does not decode.
    pub async fn get(&self, key: &str) -> Result<Option<Entry>, CacheError> {
        let mut connection = self.connections.this_thread().map_err(failed)?;
        let reply: Result<Option<Vec<u8>>, _> = redis::cmd("GET")
            .arg(format!("{PREFIX}{key}"))
            .query_async(&mut connection)
            .await;
        let bytes = match reply {
            Ok(bytes) => bytes,
            Err(error) => {
                self.connections.forget_this_thread();
                return Err(failed(error));
            }
        };
        match bytes {
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(failed),
            None => Ok(None),
        }
    }

    /// Store a batch in one pipeline: `(key, entry JSON, ttl)`.
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn set_many(
        &self,
        items: &[(String, Vec<u8>, Option<Duration>)],
    ) -> Result<(), CacheError> {
        let mut connection = self.connection().await?;
        let mut pipe = redis::pipe();
        for (key, json, ttl) in items {
            let command = pipe.cmd("SET").arg(format!("{PREFIX}{key}")).arg(json);
            if let Some(ttl) = ttl {
                let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                command.arg("PX").arg(ms);
            }
            command.ignore();
        }
        pipe.query_async::<()>(&mut connection)
            .await
            .map_err(failed)
    }

    /// Remove `keys`; how many were there.
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn delete(&self, keys: &[String]) -> Result<usize, CacheError> {
        if keys.is_empty() {
            return Ok(0);
        }
        let mut connection = self.connection().await?;
        let mut command = redis::cmd("DEL");
        for key in keys {
            command.arg(format!("{PREFIX}{key}"));
        }
        command.query_async(&mut connection).await.map_err(failed)
    }

    /// Remove every entry of ours (SCAN + UNLINK over the prefix; other keys stay).
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn clear(&self) -> Result<usize, CacheError> {
        let mut connection = self.connection().await?;
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{PREFIX}*"))
                .arg("COUNT")
                .arg(500)
                .query_async(&mut connection)
                .await
                .map_err(failed)?;
            if !keys.is_empty() {
                let count: usize = redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut connection)
                    .await
                    .map_err(failed)?;
                removed += count;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }

    /// `PING`.
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut connection = self.connection().await?;
        let _: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .map_err(failed)?;
        Ok(())
    }

    /// `INFO`, as Redis prints it (`/cache/redis/info`).
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn info(&self) -> Result<String, CacheError> {
        let mut connection = self.connection().await?;
        redis::cmd("INFO")
            .query_async(&mut connection)
            .await
            .map_err(failed)
    }
}
