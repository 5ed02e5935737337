//! llmrelay-cache: response caching as LiteLLM's `Cache` does it — the same keys
//! ([`key`]), the same per-request controls ([`controls`]), TTLs — over an in-memory, disk or
//! Redis store, or a semantic one ([`semantic`]: vectors in the process, shared through Redis,
//! or in Qdrant), as two pipeline layers: a lookup at admission (stage `Cache`, a hit answers
//! at once, whole or replayed as a stream) and a store at accounting (successful answers,
//! streams once they completed).
//!
//! Cache errors never fail a call: a lookup that fails is a miss (a warning and a counter),
//! a store that fails is dropped the same way.

pub mod backend;
pub mod coalesce;
pub mod config;
pub mod controls;
pub mod entry;
pub mod key;
pub mod layers;
pub mod pyrepr;
pub mod semantic;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;

use llmrelay_pipeline::delivery::{OnFailure, Queue, QueueConfig, Sink};
use llmrelay_pipeline::{Call, Layers};

pub use config::{CacheMode, CacheParams, CacheType, QdrantParams, Quantization};
pub use controls::Controls;
pub use entry::{Entry, Stored, StoredKind};

use backend::Store;

/// What can go wrong in the cache (never seen by a caller: a failed lookup is a miss).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Backend(String),
}

/// Counters of a cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Answers handed to the store.
    pub stores: u64,
    /// Lookups and writes that failed.
    pub errors: u64,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    stores: AtomicU64,
    errors: AtomicU64,
}

/// One write for the store behind the delivery queue.
pub struct Write {
    key: String,
    json: Vec<u8>,
    ttl: Option<Duration>,
}

struct StoreSink(Arc<Store>);

impl Sink for StoreSink {
    type Item = Write;

    fn name(&self) -> &'static str {
        "response_cache"
    }

    fn deliver<'a>(&'a self, batch: &'a [Write]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let items: Vec<_> = batch
                .iter()
                .map(|w| (w.key.clone(), w.json.clone(), w.ttl))
                .collect();
            self.0.set_many(items).await.map_err(|e| e.to_string())
        })
    }
}

/// A response cache: its store, its settings and its counters. Cheap to clone.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    params: CacheParams,
    /// The write queue of a disk or Redis store, started on the runtime of the first call.
    queue: OnceLock<Queue<Write>>,
    runtime: OnceLock<tokio::runtime::Handle>,
    counters: Counters,
    /// Misses being answered upstream, by key (concurrent identical misses wait for one).
    in_flight: coalesce::InFlight,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("type", &self.inner.params.kind)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

impl Cache {
    /// A cache as `params` describe it (opens the disk file; a Redis connection is made on
    /// first use).
    ///
    /// # Errors
    /// `Config` for a type that is not built or a bad parameter, `Backend` for a store that
    /// cannot be opened.
    pub fn new(params: CacheParams) -> Result<Self, CacheError> {
        let store = Store::open(&params)?;
        Ok(Self {
            inner: Arc::new(Inner {
                store: Arc::new(store),
                params,
                queue: OnceLock::new(),
                runtime: OnceLock::new(),
                counters: Counters::default(),
                in_flight: coalesce::InFlight::default(),
            }),
        })
    }

    #[must_use]
    pub fn params(&self) -> &CacheParams {
        &self.inner.params
    }

    /// The lookup and store layers of this cache.
    #[must_use]
    pub fn layers(&self) -> Layers {
        layers::layers(self)
    }

    #[must_use]
    pub fn stats(&self) -> CacheStats {
        let c = &self.inner.counters;
        CacheStats {
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            stores: c.stores.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn count_hit(&self) {
        self.inner.counters.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_miss(&self) {
        self.inner.counters.misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_error(&self, error: &CacheError) {
        self.inner.counters.errors.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(%error, "response cache: served without the cache");
    }

    pub(crate) fn in_flight(&self) -> &coalesce::InFlight {
        &self.inner.in_flight
    }

    /// Misses being answered upstream right now.
    #[must_use]
    pub fn in_flight_len(&self) -> usize {
        self.inner.in_flight.len()
    }

    /// Remember the runtime calls run on (the write queue starts there).
    pub(crate) fn note_runtime(&self) {
        if self.inner.runtime.get().is_none() {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                let _ = self.inner.runtime.set(handle);
            }
        }
    }

    /// The key of `call` (`litellm.cache.get_cache_key(**kwargs)`).
    #[must_use]
    pub fn key_for(&self, call: &Call) -> Option<String> {
        let controls = Controls::of(call);
        key::cache_key(call, &controls, self.inner.params.namespace.as_deref())
    }

    /// The key of a call from the caller's own parameters, in their order (LiteLLM's
    /// `get_cache_key(**kwargs)`), for the edge to hand to the lookup.
    #[must_use]
    pub fn preset_key(
        &self,
        params: &serde_json::Map<String, serde_json::Value>,
    ) -> key::PresetKey {
        self.preset_key_from(params, &[])
    }

    /// [`Cache::preset_key`] with the parameters named in `first` taken first (the SDK's
    /// named arguments: `model`, `messages`, `input`, `prompt`).
    #[must_use]
    pub fn preset_key_from(
        &self,
        params: &serde_json::Map<String, serde_json::Value>,
        first: &[&str],
    ) -> key::PresetKey {
        key::PresetKey(Arc::from(key::key_for_params_from(
            params,
            first,
            self.inner.params.namespace.as_deref(),
        )))
    }

    /// The memory store, when this cache keeps answers in memory (lookups there need no
    /// await).
    pub(crate) fn memory(&self) -> Option<&backend::memory::MemoryStore> {
        match &*self.inner.store {
            Store::Memory(memory) => Some(memory),
            Store::Dual(dual) => Some(dual.memory()),
            _ => None,
        }
    }

    /// Whether answers are kept in this process only (a miss in memory is a miss).
    pub(crate) fn memory_only(&self) -> bool {
        matches!(&*self.inner.store, Store::Memory(_))
    }

    /// The semantic store, when this is a semantic cache.
    #[must_use]
    pub fn semantic(&self) -> Option<&semantic::SemanticStore> {
        match &*self.inner.store {
            Store::Semantic(semantic) => Some(semantic),
            _ => None,
        }
    }

    /// What a semantic cache keys `call` by: its scope and prompt (`None` without prompt
    /// text, or when this is not a semantic cache).
    #[must_use]
    pub fn semantic_pending(
        &self,
        call: &Call,
        controls: &Controls,
    ) -> Option<semantic::SemanticPending> {
        self.semantic()?;
        let prompt = semantic::prompt_text(&call.request)?;
        let params = &self.inner.params;
        let scope = semantic::scope_key(
            call,
            controls,
            params.namespace.as_deref(),
            params.semantic_scope_end_user,
        )?;
        Some(semantic::SemanticPending {
            scope: Arc::from(scope),
            prompt: Arc::from(prompt),
            vector: None,
        })
    }

    /// A semantic cache's answer for `call` (exactly under `key`, else the most similar in
    /// its scope) with its similarity: for the Python API.
    ///
    /// # Errors
    /// The model failed.
    pub async fn semantic_find(
        &self,
        call: &Call,
        key: &str,
    ) -> Result<Option<(Arc<Entry>, f32)>, CacheError> {
        let Some(store) = self.semantic() else {
            return Ok(None);
        };
        if let Some(entry) = store.get(key) {
            return Ok(Some((entry, 1.0)));
        }
        let Some(pending) = self.semantic_pending(call, &Controls::of(call)) else {
            return Ok(None);
        };
        let found = store
            .find(key, &pending.scope, Arc::clone(&pending.prompt))
            .await?;
        if let Some(error) = &found.warning {
            self.count_error(error);
        }
        Ok(found.hit.map(|hit| (hit.entry, hit.similarity)))
    }

    /// Store `entry` for `call` in a semantic cache (the Python API); `false` when the call
    /// has no prompt text.
    ///
    /// # Errors
    /// The model failed, or Redis or Qdrant did not take the answer.
    pub async fn semantic_put(
        &self,
        call: &Call,
        key: &str,
        entry: Arc<Entry>,
        ttl: Option<Duration>,
    ) -> Result<bool, CacheError> {
        let Some(store) = self.semantic() else {
            return Ok(false);
        };
        let Some(pending) = self.semantic_pending(call, &Controls::of(call)) else {
            return Ok(false);
        };
        let vector = store.embed(Arc::clone(&pending.prompt)).await?;
        self.inner.counters.stores.fetch_add(1, Ordering::Relaxed);
        store.put(&pending, key, &vector, entry, ttl).await?;
        Ok(true)
    }

    /// A `redis-semantic` or `qdrant-semantic` cache embeds prompts through `dispatch` (the
    /// proxy's Router, when it serves the embedding model).
    pub fn set_embedding_dispatch(&self, dispatch: Arc<dyn llmrelay_pipeline::Dispatch>) {
        if let Some(store) = self.semantic() {
            store.set_dispatch(dispatch);
        }
    }

    /// Store `entry` of a semantic cache under `key`, in the scope `pending` names, with the
    /// prompt's vector (embedded now, off the call's path, when the lookup did not embed it;
    /// a `redis-semantic` answer is appended to the shared stream, a `qdrant-semantic` one
    /// upserted in the collection, the same way).
    pub fn put_semantic(
        &self,
        pending: &semantic::SemanticPending,
        key: String,
        entry: Arc<Entry>,
        ttl: Option<Duration>,
    ) {
        let Some(store) = self.semantic() else {
            return;
        };
        self.inner.counters.stores.fetch_add(1, Ordering::Relaxed);
        if store.is_in_process() {
            if let Some(vector) = &pending.vector {
                store.insert(&pending.scope, &key, vector, entry, ttl);
                return;
            }
        }
        let handle = tokio::runtime::Handle::try_current()
            .ok()
            .or_else(|| self.inner.runtime.get().cloned());
        let Some(handle) = handle else {
            return;
        };
        let cache = self.clone();
        let pending = pending.clone();
        handle.spawn(async move {
            let Some(store) = cache.semantic() else {
                return;
            };
            let vector = match &pending.vector {
                Some(vector) => Arc::clone(vector),
                None => match store.embed(Arc::clone(&pending.prompt)).await {
                    Ok(vector) => vector,
                    Err(error) => return cache.count_error(&error),
                },
            };
            if let Err(error) = store.put(&pending, &key, &vector, entry, ttl).await {
                cache.count_error(&error);
            }
        });
    }

    /// The entry under `key`.
    ///
    /// # Errors
    /// The store did not answer or holds a value that does not decode.
    pub async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        self.inner.store.get(key).await
    }

    /// Whether an entry of this age may be served under `controls`.
    #[must_use]
    pub fn fresh(entry: &Entry, controls: &Controls) -> bool {
        controls
            .s_maxage
            .is_none_or(|max| entry.age(now_unix()) <= max)
    }

    /// The TTL for a call with `controls`, as LiteLLM's `add_cache` picks it: `cache={"ttl"}`,
    /// else the cache's `ttl`, else the call's top-level `ttl=`, else the store's own.
    #[must_use]
    pub fn ttl_for(&self, controls: &Controls) -> Option<Duration> {
        let params = &self.inner.params;
        controls
            .ttl
            .or(params.ttl)
            .or(controls.request_ttl)
            .or(params.store_ttl)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero())
    }

    /// Store `entry` under `key`: at once in memory, through the write queue for disk and
    /// Redis (a full queue drops the write).
    /// A semantic cache takes answers only with their prompt ([`Cache::put_semantic`]).
    pub fn put(&self, key: String, entry: Arc<Entry>, ttl: Option<Duration>) {
        if self.semantic().is_some() {
            return;
        }
        self.inner.counters.stores.fetch_add(1, Ordering::Relaxed);
        if let Store::Memory(memory) = &*self.inner.store {
            let bytes = serde_json::to_vec(&*entry).map_or(0, |v| v.len() as u64);
            memory.set(key, entry, bytes, ttl);
            return;
        }
        let json = match serde_json::to_vec(&*entry) {
            Ok(json) => json,
            Err(error) => {
                self.count_error(&CacheError::Backend(error.to_string()));
                return;
            }
        };
        if let Store::Dual(dual) = &*self.inner.store {
            dual.remember(key.clone(), entry, json.len() as u64, ttl);
        }
        if let Some(queue) = self.queue() {
            queue.push(Write { key, json, ttl });
        }
    }

    fn queue(&self) -> Option<&Queue<Write>> {
        if let Some(queue) = self.inner.queue.get() {
            return Some(queue);
        }
        let handle = tokio::runtime::Handle::try_current()
            .ok()
            .or_else(|| self.inner.runtime.get().cloned())?;
        let _entered = handle.enter();
        let config = QueueConfig {
            capacity: 10_000,
            batch_size: 200,
            linger: Duration::from_millis(2),
            max_retries: 2,
            on_failure: OnFailure::Drop,
            ..QueueConfig::default()
        };
        let queue = Queue::start(Arc::new(StoreSink(Arc::clone(&self.inner.store))), config);
        // A racing caller may have started one first: theirs is kept, ours stops when dropped.
        let _ = self.inner.queue.set(queue);
        self.inner.queue.get()
    }

    /// Wait until every queued write reached the store.
    pub async fn flush_writes(&self) {
        if let Some(queue) = self.inner.queue.get() {
            queue.flush().await;
        }
    }

    /// Deliver the queued writes and stop the write queue (a disk store's file is closed
    /// once the last handle on the cache is dropped).
    pub async fn shutdown(&self) {
        if let Some(queue) = self.inner.queue.get() {
            queue.shutdown().await;
        }
    }

    /// Remove `keys`; how many were there.
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn delete(&self, keys: &[String]) -> Result<usize, CacheError> {
        self.flush_writes().await;
        self.inner.store.delete(keys).await
    }

    /// Remove every entry.
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn clear(&self) -> Result<(), CacheError> {
        self.flush_writes().await;
        self.inner.store.clear().await
    }

    /// Whether the store answers.
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn ping(&self) -> Result<(), CacheError> {
        self.inner.store.ping().await
    }

    /// Redis's `INFO` (`None` for other stores).
    ///
    /// # Errors
    /// Redis did not answer.
    pub async fn redis_info(&self) -> Result<Option<String>, CacheError> {
        match &*self.inner.store {
            Store::Redis(redis) => redis.info().await.map(Some),
            Store::Dual(dual) => dual.redis().info().await.map(Some),
            _ => Ok(None),
        }
    }

    /// Where the store is, for `/cache/ping` (`None` for memory; Redis without password).
    #[must_use]
    pub fn location(&self) -> Option<String> {
        match &*self.inner.store {
            Store::Memory(_) => None,
            Store::Disk(disk) => Some(disk.path().display().to_string()),
            Store::Redis(redis) => Some(redis.target()),
            Store::Dual(dual) => Some(format!("memory + {}", dual.redis().target())),
            Store::S3(s3) => Some(s3.location()),
            Store::Semantic(semantic) => Some(semantic.location()),
        }
    }
}
