//! A cache's settings, read from LiteLLM's `Cache(...)` keyword arguments or a proxy's
//! `litellm_settings.cache_params` (the same names).

use std::path::PathBuf;

use serde_json::{Map, Value};

use llmrelay_core::redis_target::{Fallback, RedisTarget};

use crate::CacheError;

/// Which store keeps the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheType {
    Local,
    Disk,
    Redis,
    /// Ours: memory in front of Redis.
    Dual,
    /// An S3 bucket (Amazon's or any S3-compatible server).
    S3,
    /// Ours: a sentence-embedding model in this process and an in-process vector index.
    LocalSemantic,
    /// Prompts embedded by a configured embedding model; vectors shared through Redis.
    RedisSemantic,
    /// Prompts embedded by a configured embedding model; vectors in a Qdrant collection.
    QdrantSemantic,
}

impl CacheType {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Disk => "disk",
            Self::Redis => "redis",
            Self::Dual => "dual",
            Self::S3 => "s3",
            Self::LocalSemantic => "local-semantic",
            Self::RedisSemantic => "redis-semantic",
            Self::QdrantSemantic => "qdrant-semantic",
        }
    }

    /// Whether answers are matched by meaning.
    #[must_use]
    pub const fn is_semantic(self) -> bool {
        matches!(
            self,
            Self::LocalSemantic | Self::RedisSemantic | Self::QdrantSemantic
        )
    }

    /// Whether the store is a Redis.
    #[must_use]
    pub const fn uses_redis(self) -> bool {
        matches!(self, Self::Redis | Self::RedisSemantic)
    }

    /// Whether prompts are embedded by an embedding model called like any other model.
    #[must_use]
    pub const fn embeds_remotely(self) -> bool {
        matches!(self, Self::RedisSemantic | Self::QdrantSemantic)
    }
}

/// LiteLLM's `CacheMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// Every call uses the cache unless it opts out.
    DefaultOn,
    /// Only calls with `cache={"use-cache": True}` use it.
    DefaultOff,
}

/// LiteLLM's default `supported_call_types`.
pub const DEFAULT_CALL_TYPES: &[&str] = &[
    "completion",
    "acompletion",
    "embedding",
    "aembedding",
    "atranscription",
    "transcription",
    "atext_completion",
    "text_completion",
    "arerank",
    "rerank",
    "responses",
    "aresponses",
    "anthropic_messages",
    "aanthropic_messages",
];

/// LiteLLM's in-memory cache defaults: 200 entries, 600 s.
pub const DEFAULT_MEMORY_ENTRIES: usize = 200;
pub const DEFAULT_MEMORY_TTL: f64 = 600.0;
/// Ours: the in-memory cache holds at most this many bytes of answers.
pub const DEFAULT_MEMORY_BYTES: u64 = 64 * 1024 * 1024;

/// A cache's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheParams {
    pub kind: CacheType,
    pub mode: CacheMode,
    /// Put in front of every key (`namespace:hash`).
    pub namespace: Option<String>,
    /// Seconds an answer lives (LiteLLM's `Cache.ttl`: `ttl`, or `default_in_memory_ttl` /
    /// `default_in_redis_ttl`), over a call's own `ttl=`.
    pub ttl: Option<f64>,
    /// The store's own TTL, for calls that set none (LiteLLM's in-memory cache keeps an
    /// answer 600 s); `None`: until evicted.
    pub store_ttl: Option<f64>,
    /// `dual`: the most seconds a copy stays in memory (`default_in_memory_ttl`; else
    /// [`crate::backend::dual::DEFAULT_MEMORY_TTL`]).
    pub memory_ttl: Option<f64>,
    pub supported_call_types: Vec<String>,
    /// Memory: at most this many answers …
    pub max_entries: usize,
    /// … and about this many bytes of them.
    pub max_bytes: u64,
    /// Disk: the directory of the store's file.
    pub disk_cache_dir: PathBuf,
    /// Redis: a URL, or host / port / password / username / ssl / db.
    pub redis: Map<String, Value>,
    /// Semantic caches: the cosine similarity a match needs (LiteLLM's
    /// `similarity_threshold`).
    pub similarity_threshold: f32,
    /// `local-semantic`: the directory of the embedding model (else
    /// `$LLMRELAY_SEMANTIC_MODEL_DIR`).
    pub local_semantic_model_dir: Option<PathBuf>,
    /// Semantic caches: scopes also split by end user (LiteLLM's
    /// `semantic_cache_scope: end_user`; `key` is the default).
    pub semantic_scope_end_user: bool,
    /// `redis-semantic` / `qdrant-semantic`: the model prompts are embedded with
    /// (`redis_semantic_cache_embedding_model` / `qdrant_semantic_cache_embedding_model`,
    /// LiteLLM's default `text-embedding-ada-002`).
    pub embedding_model: String,
    /// `redis-semantic`: names the shared stream (`redis_semantic_cache_index_name`).
    pub index_name: String,
    /// `redis-semantic` / `qdrant-semantic` (ours): parameters of the embedding call besides
    /// `model` and `input` (`api_base`, `api_key`, …; LiteLLM's only come from the
    /// environment).
    pub embedding_params: Map<String, Value>,
    /// `s3`: the bucket and how to reach it.
    pub s3: Option<crate::backend::s3::S3Settings>,
    /// `qdrant-semantic`: where the vectors are.
    pub qdrant: QdrantParams,
}

/// How a new Qdrant collection quantizes its vectors (`qdrant_quantization_config`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Quantization {
    /// Ours (`none`): full vectors only.
    None,
    /// LiteLLM's default.
    #[default]
    Binary,
    /// int8, quantile 0.99.
    Scalar,
    /// x16 compression.
    Product,
}

/// A `qdrant-semantic` cache's collection, as LiteLLM names its settings.
#[derive(Clone, Default, PartialEq)]
pub struct QdrantParams {
    /// `qdrant_api_base`, else `$QDRANT_URL`, else `$QDRANT_API_BASE`.
    pub api_base: String,
    /// `qdrant_api_key`, else `$QDRANT_API_KEY`; sent as the `api-key` header.
    pub api_key: Option<String>,
    /// `qdrant_collection_name` (required).
    pub collection: String,
    /// `qdrant_quantization_config`: `binary` (LiteLLM's default), `scalar` or `product`;
    /// ours: `none`.
    pub quantization: Quantization,
    /// `qdrant_semantic_cache_vector_size`: the size of a collection this cache creates
    /// (else the first embedding's length; LiteLLM's default is 1536).
    pub vector_size: Option<usize>,
}

impl std::fmt::Debug for QdrantParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QdrantParams")
            .field("api_base", &self.api_base)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("collection", &self.collection)
            .field("quantization", &self.quantization)
            .field("vector_size", &self.vector_size)
            .finish()
    }
}

/// LiteLLM's defaults for `redis-semantic`.
pub const DEFAULT_EMBEDDING_MODEL: &str = "text-embedding-ada-002";
pub const DEFAULT_INDEX_NAME: &str = "litellm_semantic_cache_index";

impl Default for CacheParams {
    fn default() -> Self {
        Self {
            kind: CacheType::Local,
            mode: CacheMode::DefaultOn,
            namespace: None,
            ttl: None,
            store_ttl: Some(DEFAULT_MEMORY_TTL),
            memory_ttl: None,
            supported_call_types: DEFAULT_CALL_TYPES.iter().map(|s| (*s).to_owned()).collect(),
            max_entries: DEFAULT_MEMORY_ENTRIES,
            max_bytes: DEFAULT_MEMORY_BYTES,
            disk_cache_dir: PathBuf::from(".litellm_cache"),
            redis: Map::new(),
            similarity_threshold: crate::semantic::DEFAULT_THRESHOLD,
            local_semantic_model_dir: None,
            semantic_scope_end_user: false,
            embedding_model: DEFAULT_EMBEDDING_MODEL.to_owned(),
            index_name: DEFAULT_INDEX_NAME.to_owned(),
            embedding_params: Map::new(),
            s3: None,
            qdrant: QdrantParams::default(),
        }
    }
}

fn config(message: impl Into<String>) -> CacheError {
    CacheError::Config(message.into())
}

/// `os.environ/NAME` → the variable's value.
fn resolved(value: &Value) -> Value {
    match value.as_str().and_then(|s| s.strip_prefix("os.environ/")) {
        Some(name) => std::env::var(name).map_or(Value::Null, Value::String),
        None => value.clone(),
    }
}

fn number(value: &Value, name: &str) -> Result<f64, CacheError> {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| {
            config(format!(
                "cache_params.{name}: expected a number ≥ 0, got {value}"
            ))
        })
}

const NOT_BUILT: &[&str] = &["gcs", "azure-blob"];

impl CacheParams {
    /// Settings from LiteLLM's names (`type`, `mode`, `namespace`, `ttl`,
    /// `default_in_memory_ttl`, `default_in_redis_ttl`, `supported_call_types`,
    /// `max_size_in_memory`, `disk_cache_dir`, the Redis settings of
    /// [`CacheParams::redis_target`], the S3 settings, the semantic caches' and Qdrant's
    /// settings; ours: `max_bytes_in_memory`, type `dual`). Other keys (LiteLLM's client
    /// options) are ignored.
    ///
    /// # Errors
    /// `Config` naming the bad key: an unknown or not-built type, a bad number, an S3 cache
    /// without a bucket, a Qdrant cache without a collection or URL.
    pub fn from_map(map: &Map<String, Value>) -> Result<Self, CacheError> {
        Self::from_map_with_env(map, &|name| {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        })
    }

    /// [`CacheParams::from_map`] with the environment variables LiteLLM falls back on
    /// (`QDRANT_URL`, `QDRANT_API_BASE`, `QDRANT_API_KEY`) read through `env`.
    ///
    /// # Errors
    /// As [`CacheParams::from_map`].
    pub fn from_map_with_env(
        map: &Map<String, Value>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, CacheError> {
        let get = |name: &str| map.get(name).map(resolved).filter(|v| !v.is_null());
        let mut params = Self::default();
        if let Some(kind) = get("type") {
            let kind = kind.as_str().unwrap_or_default().to_ascii_lowercase();
            params.kind = match kind.as_str() {
                "local" | "memory" | "in-memory" => CacheType::Local,
                "disk" => CacheType::Disk,
                "redis" => CacheType::Redis,
                "dual" => CacheType::Dual,
                "s3" => CacheType::S3,
                "local-semantic" => CacheType::LocalSemantic,
                "redis-semantic" => CacheType::RedisSemantic,
                "qdrant-semantic" => CacheType::QdrantSemantic,
                other if NOT_BUILT.contains(&other) => {
                    return Err(config(format!(
                        "cache_params.type: the '{other}' cache is not built in llmrelay yet \
                         (built: local, disk, redis, s3, redis-semantic, qdrant-semantic, \
                         local-semantic, dual)"
                    )));
                }
                other => {
                    return Err(config(format!(
                        "cache_params.type: unknown cache type '{other}' (LiteLLM's types: \
                         local, redis, redis-semantic, qdrant-semantic, s3, gcs, azure-blob, \
                         disk; ours: local-semantic, dual)"
                    )));
                }
            };
        }
        if let Some(mode) = get("mode") {
            params.mode = match mode.as_str().unwrap_or_default() {
                "default_on" => CacheMode::DefaultOn,
                "default_off" => CacheMode::DefaultOff,
                other => {
                    return Err(config(format!(
                        "cache_params.mode: expected 'default_on' or 'default_off', got '{other}'"
                    )));
                }
            };
        }
        params.namespace = get("namespace").and_then(|v| v.as_str().map(str::to_owned));
        params.ttl = None;
        params.store_ttl = match params.kind {
            CacheType::Local => Some(DEFAULT_MEMORY_TTL),
            CacheType::Disk
            | CacheType::Redis
            | CacheType::Dual
            | CacheType::S3
            | CacheType::LocalSemantic
            | CacheType::RedisSemantic
            | CacheType::QdrantSemantic => None,
        };
        if let Some(ttl) = get("ttl") {
            params.ttl = Some(number(&ttl, "ttl")?);
        }
        let specific = match params.kind {
            CacheType::Local | CacheType::LocalSemantic => "default_in_memory_ttl",
            CacheType::Redis | CacheType::Dual | CacheType::RedisSemantic => "default_in_redis_ttl",
            // LiteLLM applies no store-specific TTL to disk, S3 or Qdrant.
            CacheType::Disk | CacheType::S3 | CacheType::QdrantSemantic => "",
        };
        if let Some(ttl) = get(specific) {
            params.ttl = Some(number(&ttl, specific)?);
        }
        if params.kind == CacheType::Dual {
            if let Some(ttl) = get("default_in_memory_ttl") {
                params.memory_ttl = Some(number(&ttl, "default_in_memory_ttl")?);
            }
        }
        if let Some(types) = get("supported_call_types") {
            let Some(types) = types.as_array() else {
                return Err(config("cache_params.supported_call_types: expected a list"));
            };
            params.supported_call_types = types
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
        }
        if params.kind.embeds_remotely() {
            // LiteLLM's RedisSemanticCache and QdrantSemanticCache have no default threshold.
            if get("similarity_threshold").is_none() {
                return Err(config(
                    "cache_params.similarity_threshold: similarity_threshold must be provided, \
                     passed None",
                ));
            }
            let model = if params.kind == CacheType::QdrantSemantic {
                "qdrant_semantic_cache_embedding_model"
            } else {
                "redis_semantic_cache_embedding_model"
            };
            if let Some(value) = get(model) {
                model_name(&value, model)?.clone_into(&mut params.embedding_model);
            }
            if let Some(value) =
                get("redis_semantic_cache_index_name").filter(|_| params.kind.uses_redis())
            {
                model_name(&value, "redis_semantic_cache_index_name")?
                    .clone_into(&mut params.index_name);
            }
        }
        if params.kind == CacheType::QdrantSemantic {
            params.qdrant = qdrant_params(&get, env)?;
        }
        if let Some(extra) = get("embedding_params").filter(|_| params.kind.embeds_remotely()) {
            let Value::Object(extra) = extra else {
                return Err(config(
                    "cache_params.embedding_params: expected a map of embedding parameters",
                ));
            };
            params.embedding_params = extra;
        }
        if params.kind.is_semantic() {
            params.max_entries = crate::semantic::DEFAULT_MAX_ENTRIES;
            if let Some(threshold) = get("similarity_threshold") {
                let threshold = number(&threshold, "similarity_threshold")?;
                if threshold > 1.0 {
                    return Err(config(format!(
                        "cache_params.similarity_threshold: expected a number from 0 to 1, \
                         got {threshold}"
                    )));
                }
                params.similarity_threshold = threshold as f32;
            }
            if let Some(scope) = get("semantic_cache_scope") {
                params.semantic_scope_end_user = match scope.as_str().unwrap_or_default() {
                    "key" => false,
                    "end_user" => true,
                    other => {
                        return Err(config(format!(
                            "cache_params.semantic_cache_scope: expected 'key' or 'end_user', \
                             got '{other}'"
                        )));
                    }
                };
            }
            if let Some(dir) =
                get("local_semantic_model_dir").filter(|_| params.kind == CacheType::LocalSemantic)
            {
                let Some(dir) = dir.as_str() else {
                    return Err(config(
                        "cache_params.local_semantic_model_dir: expected a directory path",
                    ));
                };
                params.local_semantic_model_dir = Some(PathBuf::from(dir));
            }
        }
        if let Some(entries) = get("max_size_in_memory") {
            params.max_entries = number(&entries, "max_size_in_memory")? as usize;
        }
        if let Some(bytes) = get("max_bytes_in_memory") {
            params.max_bytes = number(&bytes, "max_bytes_in_memory")? as u64;
        }
        if let Some(dir) = get("disk_cache_dir") {
            if let Some(dir) = dir.as_str() {
                params.disk_cache_dir = PathBuf::from(dir);
            }
        }
        if params.kind == CacheType::S3 {
            let resolved: Map<String, Value> = map
                .iter()
                .filter(|(name, _)| name.starts_with("s3_"))
                .map(|(name, value)| (name.clone(), resolved(value)))
                .collect();
            params.s3 = Some(crate::backend::s3::S3Settings::from_params(&resolved)?);
        }
        for name in REDIS_NAMES {
            if let Some(value) = get(name) {
                params.redis.insert((*name).to_owned(), value);
            }
        }
        Ok(params)
    }

    /// Whether calls of LiteLLM's `call_type` use the cache.
    #[must_use]
    pub fn supports(&self, call_type: &str) -> bool {
        self.supported_call_types.iter().any(|t| t == call_type)
    }

    /// Where the Redis is: the settings LiteLLM's `RedisCache` reads (a URL, host / port /
    /// password / username / ssl / db, Cluster `redis_startup_nodes`, Sentinel
    /// `sentinel_nodes` + `service_name` + `sentinel_password`), else its `REDIS_*`
    /// environment variables (`REDIS_URL`, `REDIS_HOST`, `REDIS_CLUSTER_NODES`,
    /// `REDIS_SENTINEL_NODES`, …), else `localhost:6379` (redis-py's default, which LiteLLM
    /// ends up with when nothing names a host).
    #[must_use]
    pub fn redis_target(&self) -> RedisTarget {
        RedisTarget::from_settings(&self.redis, Fallback::Environment)
            .unwrap_or_else(|| RedisTarget::Single("redis://localhost:6379".to_owned()))
    }
}

/// The `cache_params` names that say where Redis is.
const REDIS_NAMES: &[&str] = &[
    "host",
    "port",
    "password",
    "username",
    "url",
    "redis_url",
    "ssl",
    "db",
    "redis_startup_nodes",
    "startup_nodes",
    "sentinel_nodes",
    "service_name",
    "sentinel_password",
];
/// A non-empty name given to `cache_params.<key>`.
fn model_name<'a>(value: &'a Value, key: &str) -> Result<&'a str, CacheError> {
    value
        .as_str()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| config(format!("cache_params.{key}: expected a name")))
}

/// A `qdrant-semantic` cache's collection settings, with LiteLLM's environment fallbacks and
/// its errors for a missing collection or URL.
fn qdrant_params(
    get: &dyn Fn(&str) -> Option<Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<QdrantParams, CacheError> {
    let text = |key: &str| -> Result<Option<String>, CacheError> {
        get(key)
            .map(|value| model_name(&value, key).map(str::to_owned))
            .transpose()
    };
    let Some(collection) = text("qdrant_collection_name")? else {
        return Err(config(
            "cache_params.qdrant_collection_name: collection_name must be provided, passed None",
        ));
    };
    let Some(api_base) = text("qdrant_api_base")?
        .or_else(|| env("QDRANT_URL"))
        .or_else(|| env("QDRANT_API_BASE"))
    else {
        return Err(config(
            "cache_params.qdrant_api_base: Qdrant url must be provided (qdrant_api_base, or \
             $QDRANT_URL / $QDRANT_API_BASE)",
        ));
    };
    let api_key = text("qdrant_api_key")?.or_else(|| env("QDRANT_API_KEY"));
    let quantization = match text("qdrant_quantization_config")?.as_deref() {
        None | Some("binary") => Quantization::Binary,
        Some("scalar") => Quantization::Scalar,
        Some("product") => Quantization::Product,
        Some("none") => Quantization::None,
        Some(other) => {
            return Err(config(format!(
                "cache_params.qdrant_quantization_config: Quantization config must be one of \
                 'scalar', 'binary' or 'product' (or ours, 'none'), got '{other}'"
            )));
        }
    };
    let vector_size = match get("qdrant_semantic_cache_vector_size") {
        None => None,
        Some(size) => {
            let size = number(&size, "qdrant_semantic_cache_vector_size")?;
            if size < 1.0 || size.fract() != 0.0 {
                return Err(config(format!(
                    "cache_params.qdrant_semantic_cache_vector_size: expected a whole number \
                     ≥ 1, got {size}"
                )));
            }
            Some(size as usize)
        }
    };
    Ok(QdrantParams {
        api_base,
        api_key,
        collection,
        quantization,
        vector_size,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(value: Value) -> Result<CacheParams, CacheError> {
        let Value::Object(map) = value else {
            unreachable!()
        };
        CacheParams::from_map(&map)
    }

    #[test]
    fn reads_litellm_names() {
        let local = params(json!({})).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(local.kind, CacheType::Local);
        assert_eq!((local.ttl, local.store_ttl), (None, Some(600.0)));
        let redis = params(
            json!({"type": "redis", "host": "h", "port": 7000, "password": "p@ss",
                                  "ttl": 60, "namespace": "ns", "mode": "default_off",
                                  "supported_call_types": ["acompletion"]}),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(redis.ttl, Some(60.0));
        assert_eq!(redis.mode, CacheMode::DefaultOff);
        assert!(redis.supports("acompletion") && !redis.supports("aembedding"));
        assert_eq!(
            redis.redis_target(),
            RedisTarget::Single("redis://:p%40ss@h:7000".into())
        );
        let cluster = params(json!({"type": "redis",
                                    "redis_startup_nodes": [{"host": "a", "port": "7001"}]}))
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            cluster.redis_target(),
            RedisTarget::Cluster(vec!["redis://a:7001".into()])
        );
        let sentinel = params(json!({"type": "redis", "service_name": "m",
                                     "sentinel_nodes": [["s", 26379]]}))
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(matches!(
            sentinel.redis_target(),
            RedisTarget::Sentinel { .. }
        ));
        let dual = params(
            json!({"type": "dual", "host": "h", "default_in_memory_ttl": 5,
                                 "default_in_redis_ttl": 50}),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (dual.kind, dual.memory_ttl, dual.ttl),
            (CacheType::Dual, Some(5.0), Some(50.0))
        );
        let disk = params(json!({"type": "disk", "disk_cache_dir": "/tmp/x"}))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(disk.ttl, None);
        assert_eq!(disk.disk_cache_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn unknown_and_unbuilt_types_are_clear_errors() {
        let unknown = params(json!({"type": "memcached"}))
            .err()
            .map(|e| e.to_string());
        assert!(unknown.is_some_and(|e| e.contains("unknown cache type 'memcached'")));
        let unbuilt = params(json!({"type": "gcs"})).err().map(|e| e.to_string());
        assert!(unbuilt.is_some_and(|e| e.contains("not built")));
        let bucketless = params(json!({"type": "s3"})).err().map(|e| e.to_string());
        assert!(bucketless.is_some_and(|e| e.contains("s3_bucket_name")));
        let ttl = params(json!({"ttl": "soon"})).err().map(|e| e.to_string());
        assert!(ttl.is_some_and(|e| e.contains("cache_params.ttl")));
    }
}
