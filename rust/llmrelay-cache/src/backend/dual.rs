//! Memory in front of Redis (ours, `type: dual`): a hit in this process's memory is served
//! without a round trip; a miss there reads Redis and keeps what it found in memory for as
//! long as Redis still keeps it (at most `default_in_memory_ttl`), so instances share
//! answers through Redis and repeat hits stay local. A delete or flush on one instance
//! clears its memory and Redis; other instances' memory copies live out their memory TTL.

use std::sync::Arc;
use std::time::Duration;

use crate::CacheError;
use crate::entry::Entry;

use super::memory::MemoryStore;
use super::redis::RedisStore;

/// How long a copy lives in memory when `default_in_memory_ttl` says nothing: short, because
/// another instance may delete the answer from Redis meanwhile.
pub const DEFAULT_MEMORY_TTL: Duration = Duration::from_secs(60);

pub struct DualStore {
    memory: MemoryStore,
    redis: RedisStore,
    memory_ttl: Duration,
}

impl DualStore {
    #[must_use]
    pub fn new(memory: MemoryStore, redis: RedisStore, memory_ttl: Option<Duration>) -> Self {
        Self {
            memory,
            redis,
            memory_ttl: memory_ttl
                .filter(|ttl| !ttl.is_zero())
                .unwrap_or(DEFAULT_MEMORY_TTL),
        }
    }

    #[must_use]
    pub const fn memory(&self) -> &MemoryStore {
        &self.memory
    }

    #[must_use]
    pub const fn redis(&self) -> &RedisStore {
        &self.redis
    }

    /// How long a copy of an answer that lives `ttl` stays in memory.
    #[must_use]
    pub fn memory_ttl(&self, ttl: Option<Duration>) -> Duration {
        ttl.map_or(self.memory_ttl, |ttl| ttl.min(self.memory_ttl))
    }

    /// Keep `entry` in memory (Redis gets it through the cache's write queue).
    pub fn remember(&self, key: String, entry: Arc<Entry>, bytes: u64, ttl: Option<Duration>) {
        self.memory
            .set(key, entry, bytes, Some(self.memory_ttl(ttl)));
    }

    /// The answer under `key`: from memory, else from Redis (then kept in memory).
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        if let Some(entry) = self.memory.get(key) {
            return Ok(Some(entry));
        }
        let Some((entry, left, bytes)) = self.redis.get_with_ttl(key).await? else {
            return Ok(None);
        };
        let entry = Arc::new(entry);
        self.remember(key.to_owned(), Arc::clone(&entry), bytes, left);
        Ok(Some(entry))
    }

    /// Remove `keys` here and from Redis; how many Redis had.
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn delete(&self, keys: &[String]) -> Result<usize, CacheError> {
        for key in keys {
            self.memory.delete(key);
        }
        self.redis.delete(keys).await
    }

    /// Remove everything here and every entry of ours in Redis.
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn clear(&self) -> Result<(), CacheError> {
        self.memory.clear();
        self.redis.clear().await.map(|_| ())
    }
}
