//! The vectors of a `qdrant-semantic` cache, in a Qdrant collection reached through its REST
//! API: nothing is kept in this process, so every instance pointed at the collection sees
//! every answer at once.
//!
//! The collection is created on the first store when it does not exist (the first vector's
//! size unless `qdrant_semantic_cache_vector_size` names one, `Cosine` distance, the
//! configured quantization, keyword indexes on the scope and key fields). Each answer is one
//! point whose id is a UUID derived from the cache key (the same call stored again replaces
//! its point) and whose payload holds the prompt (`text`, as LiteLLM), the scope, the key,
//! the answer's JSON and, with a TTL, its expiry in unix milliseconds. A lookup asks for the
//! exact key's point first, then searches the scope for the nearest vector at or above the
//! threshold that has not expired; expired points are deleted by a filter on a store at most
//! once a minute per instance.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::index::Hit;
use crate::CacheError;
use crate::config::{QdrantParams, Quantization};
use crate::entry::Entry;

/// Payload fields of a point.
const TEXT: &str = "text";
const SCOPE: &str = "scope";
const KEY: &str = "cache_key";
const ENTRY: &str = "entry";
const EXPIRES: &str = "expires_at_ms";

/// How long one Qdrant request may take before the lookup goes on without the cache.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Expired points are deleted at most this often by one instance.
const SWEEP_EVERY_MS: u64 = 60_000;

/// LiteLLM's scalar quantization quantile (`QDRANT_SCALAR_QUANTILE`).
const SCALAR_QUANTILE: f64 = 0.99;

fn failed(error: impl std::fmt::Display) -> CacheError {
    CacheError::Backend(format!("qdrant-semantic: {error}"))
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The point id of a cache key: a UUID (version 8, "custom") made of the key's SHA-256.
#[must_use]
pub fn point_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// What Qdrant answered other than a result.
#[derive(Debug)]
enum Failure {
    /// A status other than 2xx, with Qdrant's `status.error` (or the body's start).
    Status(u16, String),
    /// No answer, or one that is not Qdrant's envelope.
    Transport(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status(status, message) => write!(f, "HTTP {status}: {message}"),
            Self::Transport(message) => f.write_str(message),
        }
    }
}

/// A Qdrant collection holding a cache's answers.
pub struct QdrantVectors {
    /// The URL without a trailing `/`.
    base: String,
    api_key: Option<String>,
    collection: String,
    quantization: Quantization,
    vector_size: Option<usize>,
    /// The collection is known to exist (seen or created by this instance).
    ready: AtomicBool,
    /// When this instance last deleted expired points (unix ms; 0: never).
    swept_ms: AtomicU64,
}

impl std::fmt::Debug for QdrantVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QdrantVectors")
            .field("base", &self.base)
            .field("collection", &self.collection)
            .field("quantization", &self.quantization)
            .finish_non_exhaustive()
    }
}

impl QdrantVectors {
    #[must_use]
    pub fn new(params: &QdrantParams) -> Self {
        Self {
            base: params.api_base.trim_end_matches('/').to_owned(),
            api_key: params.api_key.clone(),
            collection: params.collection.clone(),
            quantization: params.quantization,
            vector_size: params.vector_size,
            ready: AtomicBool::new(false),
            swept_ms: AtomicU64::new(0),
        }
    }

    /// The URL and the collection (never the key).
    #[must_use]
    pub fn location(&self) -> String {
        format!("{} {}", self.base, self.collection)
    }

    #[must_use]
    pub fn collection(&self) -> &str {
        &self.collection
    }

    fn url(&self, path: &str) -> String {
        format!("{}/collections/{}{path}", self.base, self.collection)
    }

    /// One request; Qdrant's `result` on success.
    async fn call(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let mut request = llmrelay_providers::http::client()
            .request(method, url)
            .timeout(REQUEST_TIMEOUT);
        if let Some(key) = &self.api_key {
            request = request.header("api-key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let answer: Option<Value> = serde_json::from_slice(&bytes).ok();
        if !status.is_success() {
            let message = answer
                .as_ref()
                .and_then(|a| a.pointer("/status/error"))
                .and_then(Value::as_str)
                .map_or_else(
                    || String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned(),
                    str::to_owned,
                );
            return Err(Failure::Status(status.as_u16(), message));
        }
        answer
            .and_then(|mut a| a.get_mut("result").map(Value::take))
            .ok_or_else(|| Failure::Transport("an answer without a `result`".to_owned()))
    }

    /// A failure that means the collection is not there (nothing stored yet, or deleted).
    fn missing(&self, failure: &Failure) -> bool {
        let missing = matches!(failure, Failure::Status(404, _));
        if missing {
            self.ready.store(false, Ordering::Relaxed);
        }
        missing
    }

    /// Whether Qdrant answers (the collection need not exist yet).
    ///
    /// # Errors
    /// Qdrant did not answer, or refused the key.
    pub async fn ping(&self) -> Result<(), CacheError> {
        self.call(reqwest::Method::GET, self.url("/exists"), None)
            .await
            .map(|_| ())
            .map_err(failed)
    }

    /// Make sure the collection exists, creating it for vectors of `dims` floats.
    async fn ensure_collection(&self, dims: usize) -> Result<(), CacheError> {
        if self.ready.load(Ordering::Relaxed) {
            return Ok(());
        }
        let exists = self
            .call(reqwest::Method::GET, self.url("/exists"), None)
            .await
            .map_err(failed)?;
        if exists.get("exists").and_then(Value::as_bool) != Some(true) {
            let mut body = json!({
                "vectors": {"size": self.vector_size.unwrap_or(dims), "distance": "Cosine"},
            });
            if let Some(quantization) = self.quantization_config() {
                body["quantization_config"] = quantization;
            }
            match self
                .call(reqwest::Method::PUT, self.url(""), Some(&body))
                .await
            {
                // 409: another instance created it meanwhile.
                Ok(_) | Err(Failure::Status(409, _)) => {}
                Err(failure) => return Err(failed(failure)),
            }
            for (field, schema) in [(SCOPE, "keyword"), (KEY, "keyword"), (EXPIRES, "integer")] {
                let body = json!({"field_name": field, "field_schema": schema});
                self.call(
                    reqwest::Method::PUT,
                    self.url("/index?wait=true"),
                    Some(&body),
                )
                .await
                .map_err(failed)?;
            }
        }
        self.ready.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// LiteLLM's quantization settings for a new collection.
    fn quantization_config(&self) -> Option<Value> {
        match self.quantization {
            Quantization::None => None,
            Quantization::Binary => Some(json!({"binary": {"always_ram": false}})),
            Quantization::Scalar => Some(json!({"scalar": {
                "type": "int8", "quantile": SCALAR_QUANTILE, "always_ram": false,
            }})),
            Quantization::Product => {
                Some(json!({"product": {"compression": "x16", "always_ram": false}}))
            }
        }
    }

    /// The answer a point's payload holds, unless it expired at `now_ms`.
    fn entry_of(payload: &Value, now_ms: u64) -> Option<(Arc<str>, Arc<Entry>)> {
        if payload
            .get(EXPIRES)
            .and_then(Value::as_u64)
            .is_some_and(|at| at <= now_ms)
        {
            return None;
        }
        let key = payload.get(KEY).and_then(Value::as_str)?;
        let entry = payload.get(ENTRY).and_then(Value::as_str)?;
        let entry: Entry = serde_json::from_str(entry).ok()?;
        Some((Arc::from(key), Arc::new(entry)))
    }

    /// The answer stored under exactly `key`, when it has not expired.
    ///
    /// # Errors
    /// Qdrant did not answer.
    pub async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        let body = json!({"ids": [point_id(key)], "with_payload": true, "with_vector": false});
        let points = match self
            .call(reqwest::Method::POST, self.url("/points"), Some(&body))
            .await
        {
            Ok(points) => points,
            Err(failure) if self.missing(&failure) => return Ok(None),
            Err(failure) => return Err(failed(failure)),
        };
        let now = unix_ms();
        Ok(points
            .as_array()
            .and_then(|points| points.first())
            .and_then(|point| point.get("payload"))
            .and_then(|payload| Self::entry_of(payload, now))
            .map(|(_, entry)| entry))
    }

    /// The nearest answer in `scope` to `vector` with a similarity of at least `threshold`
    /// that has not expired.
    ///
    /// # Errors
    /// Qdrant did not answer.
    pub async fn search(
        &self,
        scope: &str,
        vector: &[f32],
        threshold: f32,
    ) -> Result<Option<Hit>, CacheError> {
        let now = unix_ms();
        let mut body = json!({
            "vector": vector,
            "limit": 1,
            "with_payload": true,
            "score_threshold": threshold,
            "filter": {
                "must": [{"key": SCOPE, "match": {"value": scope}}],
                "must_not": [{"key": EXPIRES, "range": {"lte": now}}],
            },
        });
        if self.quantization != Quantization::None {
            // LiteLLM's search settings: the quantized candidates rescored on the vectors.
            body["params"] = json!({"quantization": {
                "ignore": false, "rescore": true, "oversampling": 3.0,
            }});
        }
        let hits = match self
            .call(
                reqwest::Method::POST,
                self.url("/points/search"),
                Some(&body),
            )
            .await
        {
            Ok(hits) => hits,
            Err(failure) if self.missing(&failure) => return Ok(None),
            Err(failure) => return Err(failed(failure)),
        };
        let Some(best) = hits.as_array().and_then(|hits| hits.first()) else {
            return Ok(None);
        };
        let similarity = best.get("score").and_then(Value::as_f64).unwrap_or(0.0) as f32;
        if similarity < threshold {
            return Ok(None);
        }
        Ok(best
            .get("payload")
            .and_then(|payload| Self::entry_of(payload, now))
            .map(|(key, entry)| Hit {
                similarity,
                key,
                entry,
            }))
    }

    /// Upsert `entry` under `key` in `scope` (creating the collection on the first store),
    /// then delete expired points when a minute has passed since this instance last did.
    ///
    /// # Errors
    /// Qdrant did not answer or refused the point (a collection of another vector size).
    pub async fn insert(
        &self,
        scope: &str,
        key: &str,
        prompt: &str,
        vector: &[f32],
        entry: &Entry,
        ttl: Option<Duration>,
    ) -> Result<(), CacheError> {
        self.ensure_collection(vector.len()).await?;
        let now = unix_ms();
        let mut payload = Map::new();
        payload.insert(TEXT.into(), Value::from(prompt));
        payload.insert(SCOPE.into(), Value::from(scope));
        payload.insert(KEY.into(), Value::from(key));
        let json = serde_json::to_string(entry).map_err(failed)?;
        payload.insert(ENTRY.into(), Value::from(json));
        if let Some(ttl) = ttl {
            let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
            payload.insert(EXPIRES.into(), Value::from(now.saturating_add(ms)));
        }
        let body = json!({"points": [{
            "id": point_id(key), "vector": vector, "payload": payload,
        }]});
        if let Err(failure) = self
            .call(
                reqwest::Method::PUT,
                self.url("/points?wait=true"),
                Some(&body),
            )
            .await
        {
            self.missing(&failure);
            return Err(failed(failure));
        }
        let last = self.swept_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= SWEEP_EVERY_MS
            && self
                .swept_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let expired = json!({"filter": {"must": [{"key": EXPIRES, "range": {"lte": now}}]}});
            self.delete_points(&expired).await?;
        }
        Ok(())
    }

    async fn delete_points(&self, selector: &Value) -> Result<(), CacheError> {
        match self
            .call(
                reqwest::Method::POST,
                self.url("/points/delete?wait=true"),
                Some(selector),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(failure) if self.missing(&failure) => Ok(()),
            Err(failure) => Err(failed(failure)),
        }
    }

    /// Delete the points of `keys`; how many there were.
    ///
    /// # Errors
    /// Qdrant did not answer.
    pub async fn delete(&self, keys: &[String]) -> Result<usize, CacheError> {
        if keys.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = keys.iter().map(|key| point_id(key)).collect();
        let body = json!({"ids": ids, "with_payload": false, "with_vector": false});
        let found = match self
            .call(reqwest::Method::POST, self.url("/points"), Some(&body))
            .await
        {
            Ok(found) => found.as_array().map_or(0, Vec::len),
            Err(failure) if self.missing(&failure) => return Ok(0),
            Err(failure) => return Err(failed(failure)),
        };
        self.delete_points(&json!({"points": ids})).await?;
        Ok(found)
    }

    /// Delete every answer a cache stored in the collection (points with a cache key; other
    /// points are left alone).
    ///
    /// # Errors
    /// Qdrant did not answer.
    pub async fn clear(&self) -> Result<(), CacheError> {
        self.delete_points(&json!({"filter": {"must_not": [{"is_empty": {"key": KEY}}]}}))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_ids_are_uuids_derived_from_the_key() {
        let id = point_id("abc");
        assert_eq!(id, point_id("abc"));
        assert_ne!(id, point_id("abd"));
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('8'), "version 8: {id}");
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{id}");
    }
}
