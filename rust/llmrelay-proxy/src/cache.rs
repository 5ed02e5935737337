//! The response cache in the proxy: `litellm_settings.cache: true` with `cache_params`
//! (type `redis` when none is named, as LiteLLM's proxy), its layers, and LiteLLM's cache
//! routes (`/cache/ping`, `/cache/delete`, `/cache/flushall`, `/cache/redis/info`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use llmrelay_cache::{Cache, CacheParams};
use llmrelay_pipeline::Layers;

use crate::config::ProxyConfig;
use crate::state::AppState;

/// The cache's settings when `litellm_settings.cache` is on.
///
/// # Errors
/// A bad `cache_params` (an unknown or not-built type, a bad number, a Redis without a host),
/// named by its path under `litellm_settings`.
pub fn params(
    cache: Option<bool>,
    cache_params: Option<&Map<String, Value>>,
) -> Result<Option<CacheParams>, String> {
    if cache != Some(true) {
        return Ok(None);
    }
    let mut map = cache_params.cloned().unwrap_or_default();
    map.entry("type")
        .or_insert_with(|| Value::String("redis".to_owned()));
    let params = CacheParams::from_map(&map).map_err(|e| format!("litellm_settings.{e}"))?;
    Ok(Some(params))
}

/// Build the configured cache and add its layers (nothing when it is off). A store that
/// cannot be opened was configured correctly but is unusable: the proxy serves without it,
/// with an error in the log.
pub fn register(config: &ProxyConfig, layers: &mut Layers) -> Option<Cache> {
    let settings = &config.litellm_settings;
    let params = match params(settings.cache, settings.cache_params.as_ref()) {
        Ok(params) => params?,
        Err(error) => {
            tracing::error!(%error, "response cache off");
            return None;
        }
    };
    match Cache::new(params) {
        Ok(cache) => {
            layers.extend(&cache.layers());
            Some(cache)
        }
        Err(error) => {
            tracing::error!(%error, "response cache off: its store cannot be opened");
            None
        }
    }
}

/// A `redis-semantic` cache embeds prompts through the proxy's Router when the Router serves
/// its embedding model (LiteLLM's `llm_router.aembedding`), else straight through the engine.
pub fn embed_through(cache: &Cache, dispatch: &Arc<dyn crate::dispatch::Dispatch>) {
    let Some(model) = cache.semantic().and_then(|s| s.embedding_model()) else {
        return;
    };
    if dispatch.has_model(model) {
        let router: Arc<dyn llmrelay_pipeline::Dispatch> = dispatch.clone();
        cache.set_embedding_dispatch(router);
    }
}

/// The cache's own counters beside LiteLLM's series: lookups that failed (each served as a
/// miss with a warning; the call went on) and answers handed to the store.
pub fn append_metrics(text: &mut String, stats: &llmrelay_cache::CacheStats) {
    let series = format!(
        "# HELP llmrelay_cache_errors Response-cache lookups that failed (served as misses, with a warning).\n\
         # TYPE llmrelay_cache_errors counter\n\
         llmrelay_cache_errors_total {}\n\
         # HELP llmrelay_cache_stores Answers handed to the response cache's store.\n\
         # TYPE llmrelay_cache_stores counter\n\
         llmrelay_cache_stores_total {}\n",
        stats.errors, stats.stores
    );
    match text.rfind("# EOF") {
        Some(at) => text.insert_str(at, &series),
        None => text.push_str(&series),
    }
}

/// LiteLLM's cache routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/cache/ping", get(ping))
        .route("/cache/delete", post(delete))
        .route("/cache/flushall", post(flush_all))
        .route("/cache/redis/info", get(redis_info))
}

fn not_initialized() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"error": {
            "message": "Cache not initialized. litellm.cache is None",
            "type": "service_unavailable", "param": null, "code": "503",
        }})),
    )
        .into_response()
}

fn failed(error: &llmrelay_cache::CacheError) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"error": {
            "message": format!("Service Unhealthy ({error})"),
            "type": "service_unavailable", "param": null, "code": "503",
        }})),
    )
        .into_response()
}

async fn ping(State(state): State<Arc<AppState>>) -> Response {
    let Some(cache) = &state.cache else {
        return not_initialized();
    };
    if let Err(error) = cache.ping().await {
        return failed(&error);
    }
    let params = cache.params();
    axum::Json(json!({
        "status": "healthy",
        "cache_type": params.kind.as_str(),
        "ping_response": true,
        "litellm_cache_params": {
            "namespace": params.namespace,
            "ttl": params.ttl.or(params.store_ttl),
            "supported_call_types": params.supported_call_types,
            "location": cache.location(),
        },
        "stats": {
            "hits": cache.stats().hits,
            "misses": cache.stats().misses,
            "stores": cache.stats().stores,
            "errors": cache.stats().errors,
        },
    }))
    .into_response()
}

async fn delete(State(state): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let Some(cache) = &state.cache else {
        return not_initialized();
    };
    let keys: Option<Vec<String>> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("keys").cloned())
        .and_then(|keys| serde_json::from_value(keys).ok());
    let Some(keys) = keys else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {
                "message": "Invalid request: expected a JSON body {\"keys\": [\"<cache key>\", ...]}",
                "type": "invalid_request_error", "param": "keys", "code": "400",
            }})),
        )
            .into_response();
    };
    match cache.delete(&keys).await {
        Ok(deleted) => axum::Json(json!({"status": "success", "deleted": deleted})).into_response(),
        Err(error) => failed(&error),
    }
}

async fn flush_all(State(state): State<Arc<AppState>>) -> Response {
    let Some(cache) = &state.cache else {
        return not_initialized();
    };
    match cache.clear().await {
        Ok(()) => axum::Json(json!({"status": "success"})).into_response(),
        Err(error) => failed(&error),
    }
}

async fn redis_info(State(state): State<Arc<AppState>>) -> Response {
    let Some(cache) = &state.cache else {
        return not_initialized();
    };
    match cache.redis_info().await {
        Ok(Some(text)) => {
            let info: Map<String, Value> = text
                .lines()
                .filter(|line| !line.starts_with('#'))
                .filter_map(|line| line.trim().split_once(':'))
                .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                .collect();
            let clients = info
                .get("connected_clients")
                .and_then(|v| v.as_str())
                .and_then(|v| v.parse::<u64>().ok());
            axum::Json(json!({"num_clients": clients, "info": info})).into_response()
        }
        Ok(None) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {
                "message": "the response cache is not a Redis cache",
                "type": "invalid_request_error", "param": null, "code": "400",
            }})),
        )
            .into_response(),
        Err(error) => failed(&error),
    }
}
