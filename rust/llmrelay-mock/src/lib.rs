//! Mock upstream LLM provider: emulates provider HTTP APIs (OpenAI, Anthropic) with fault injection, scripts and request recording.
//!
//! The server is built for three audiences: Rust and Python tests (scripted wire fixtures, recorded
//! requests, per-request fault headers), benchmarks (no logging or heavy work on the hot path) and
//! users load-testing a gateway. See `README.md` for every header and control endpoint.

mod anthropic;
mod azure;
mod bedrock;
mod cohere;
mod exchange;
mod faults;
mod gigachat;
mod google;
mod guardrail_apis;
mod huggingface;
pub mod local_moto;
pub mod local_redis;
mod nlp_cloud;
mod ollama;
mod openai;
mod qdrant;
mod sagemaker;
mod script;
mod search;
mod shaping;
pub mod smtp;
mod snowflake;
mod sse;
mod telemetry_apis;
mod watsonx;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use qdrant::QdrantPoint;
pub use script::{ScriptedBody, ScriptedResponse};

/// How many recorded requests are kept; older ones are dropped first.
pub const RECORDED_REQUESTS_LIMIT: usize = 1000;

/// Largest request body accepted (vision requests carry base64 images).
const BODY_LIMIT_BYTES: usize = 64 * 1024 * 1024;

/// Server-wide defaults; every field can be overridden per request with an `x-mock-*` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// Delay before a whole (non-streaming) response or a fault response is sent.
    pub latency_ms: u64,
    /// Delay before the first chunk of a stream (the headers are sent at once).
    pub ttft_ms: u64,
    /// Number of content chunks a streamed answer is split into.
    pub chunk_count: usize,
    /// Delay between two stream chunks.
    pub chunk_interval_ms: u64,
    /// Reported prompt tokens; `None` estimates them from the request text (chars / 4).
    pub prompt_tokens: Option<u64>,
    /// Reported completion tokens; `None` estimates them from the answer.
    pub completion_tokens: Option<u64>,
    /// Answer text; `None` uses [`DEFAULT_CONTENT`].
    pub content: Option<String>,
    /// Embedding length when the request has no `dimensions`.
    pub embedding_dim: usize,
    /// Record requests for `GET /__mock/requests` (turn off for load tests).
    pub record: bool,
    /// Bedrock: the access key id SigV4 signatures must name.
    pub aws_access_key_id: String,
    /// Bedrock: the secret the mock recomputes SigV4 signatures with.
    pub aws_secret_access_key: String,
    /// Bedrock: the API key accepted as `Authorization: Bearer`.
    pub bedrock_api_key: String,
    /// Qdrant: the key every Qdrant route requires (`api-key` header or `Authorization:
    /// Bearer`); `None` (the default) serves without a key, as a Qdrant started without one.
    pub qdrant_api_key: Option<String>,
}

/// The Bedrock credentials a default mock accepts (documented in the README).
pub const DEFAULT_AWS_ACCESS_KEY_ID: &str = "AKIDLLMRELAYMOCK";
/// See [`DEFAULT_AWS_ACCESS_KEY_ID`].
pub const DEFAULT_AWS_SECRET_ACCESS_KEY: &str = "llmrelay-mock-secret-key";
/// See [`DEFAULT_AWS_ACCESS_KEY_ID`].
pub const DEFAULT_BEDROCK_API_KEY: &str = "llmrelay-mock-bedrock-api-key";

/// The answer text used when neither the config nor the request sets one.
pub const DEFAULT_CONTENT: &str = "This is a mock response from llmrelay-mock.";

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            ttft_ms: 0,
            chunk_count: 8,
            chunk_interval_ms: 0,
            prompt_tokens: None,
            completion_tokens: None,
            content: None,
            embedding_dim: 8,
            record: true,
            aws_access_key_id: DEFAULT_AWS_ACCESS_KEY_ID.to_owned(),
            aws_secret_access_key: DEFAULT_AWS_SECRET_ACCESS_KEY.to_owned(),
            bedrock_api_key: DEFAULT_BEDROCK_API_KEY.to_owned(),
            qdrant_api_key: None,
        }
    }
}

/// Error from [`MockConfig::merge_json`].
#[derive(Debug)]
pub struct ConfigPatchError(String);

impl std::fmt::Display for ConfigPatchError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for ConfigPatchError {}

impl MockConfig {
    /// Returns this config with the fields of a partial JSON object applied (`null` clears an optional field).
    ///
    /// # Errors
    /// When the patch is not an object, names an unknown field or has a value of the wrong type.
    pub fn merge_json(&self, patch: &Value) -> Result<MockConfig, ConfigPatchError> {
        let Value::Object(patch) = patch else {
            return Err(ConfigPatchError(
                "config patch must be a JSON object".to_owned(),
            ));
        };
        let mut merged =
            serde_json::to_value(self).map_err(|error| ConfigPatchError(error.to_string()))?;
        if let Value::Object(fields) = &mut merged {
            for (name, value) in patch {
                fields.insert(name.clone(), value.clone());
            }
        }
        serde_json::from_value(merged).map_err(|error| ConfigPatchError(error.to_string()))
    }
}

/// One request as the mock received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    /// Lowercased header names; repeated headers are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The parsed JSON body, the body as a string when it is not JSON, or `null` when empty.
    pub body: Value,
    pub received_at_ms: u64,
}

impl RecordedRequest {
    fn capture(
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
        parsed: Option<&Value>,
    ) -> Self {
        let mut header_map: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            header_map
                .entry(name.as_str().to_owned())
                .and_modify(|existing| {
                    existing.push_str(", ");
                    existing.push_str(&value);
                })
                .or_insert_with(|| value.into_owned());
        }
        let body = match parsed {
            Some(value) => value.clone(),
            None if body.is_empty() => Value::Null,
            None => Value::String(String::from_utf8_lossy(body).into_owned()),
        };
        Self {
            method: method.as_str().to_owned(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers: header_map,
            body,
            received_at_ms: unix_millis(),
        }
    }
}

/// Shared state of a mock server: config, pending scripts, recorded requests, fail-times counters and the
/// prompt-cache prefixes of Anthropic requests.
#[derive(Debug, Default)]
pub struct MockState {
    config: RwLock<Arc<MockConfig>>,
    scripts: Mutex<VecDeque<ScriptedResponse>>,
    /// Mirrors `scripts.len()` so the hot path skips the lock when no script is pending.
    pending_scripts: AtomicUsize,
    requests: Mutex<VecDeque<RecordedRequest>>,
    failure_counts: Mutex<HashMap<String, u64>>,
    prompt_cache: Mutex<anthropic::PromptCache>,
    /// Responses API ids this server issued (OpenAI keeps responses for `previous_response_id`).
    response_ids: Mutex<ResponseIds>,
    /// OTLP/HTTP trace exports received, as sent (protobuf), oldest first.
    otlp_exports: Mutex<VecDeque<Bytes>>,
    /// The emulated Qdrant's collections and points.
    qdrant: Mutex<qdrant::Collections>,
}

/// The most recent Responses API ids, bounded.
#[derive(Debug, Default)]
struct ResponseIds {
    ids: std::collections::HashSet<String>,
    order: VecDeque<String>,
}

/// How many issued Responses API ids the mock remembers.
const RESPONSE_IDS_KEPT: usize = 10_000;

impl MockState {
    #[must_use]
    pub fn new(config: MockConfig) -> Self {
        Self {
            config: RwLock::new(Arc::new(config)),
            ..Self::default()
        }
    }

    /// The current server-wide config.
    #[must_use]
    pub fn config(&self) -> MockConfig {
        MockConfig::clone(&self.current_config())
    }

    pub fn set_config(&self, config: MockConfig) {
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
    }

    /// Changes the config in place and returns the result.
    pub fn update_config(&self, change: impl FnOnce(&mut MockConfig)) -> MockConfig {
        let mut guard = self.config.write().unwrap_or_else(PoisonError::into_inner);
        let mut config = MockConfig::clone(&guard);
        change(&mut config);
        *guard = Arc::new(config.clone());
        config
    }

    pub(crate) fn current_config(&self) -> Arc<MockConfig> {
        Arc::clone(&self.config.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Queues a scripted response for the next matching request (FIFO).
    pub fn push_script(&self, script: ScriptedResponse) {
        self.push_scripts([script]);
    }

    pub fn push_scripts(&self, scripts: impl IntoIterator<Item = ScriptedResponse>) {
        let mut queue = self.scripts.lock().unwrap_or_else(PoisonError::into_inner);
        queue.extend(scripts);
        self.pending_scripts.store(queue.len(), Ordering::Release);
    }

    pub fn clear_scripts(&self) {
        let mut queue = self.scripts.lock().unwrap_or_else(PoisonError::into_inner);
        queue.clear();
        self.pending_scripts.store(0, Ordering::Release);
    }

    /// Number of scripted responses not consumed yet.
    #[must_use]
    pub fn pending_scripts(&self) -> usize {
        self.pending_scripts.load(Ordering::Acquire)
    }

    /// Removes and returns the first script whose `path` filter matches `path`.
    pub(crate) fn take_script(&self, path: &str) -> Option<ScriptedResponse> {
        if self.pending_scripts.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut queue = self.scripts.lock().unwrap_or_else(PoisonError::into_inner);
        let position = queue.iter().position(|script| script.matches_path(path))?;
        let script = queue.remove(position);
        self.pending_scripts.store(queue.len(), Ordering::Release);
        script
    }

    /// Recorded requests, oldest first (at most [`RECORDED_REQUESTS_LIMIT`]).
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        if requests.len() >= RECORDED_REQUESTS_LIMIT {
            requests.pop_front();
        }
        requests.push_back(request);
    }

    /// Counts one more request carrying `key` and returns how many came before it.
    pub(crate) fn count_attempt(&self, key: &str) -> u64 {
        let mut counts = self
            .failure_counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(key) {
            let previous = *count;
            *count += 1;
            previous
        } else {
            counts.insert(key.to_owned(), 1);
            0
        }
    }

    /// The position of the longest prompt prefix already cached, then caches every prefix given.
    pub(crate) fn prompt_cache_read_then_write(&self, prefixes: &[u64]) -> Option<usize> {
        self.prompt_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .read_then_write(prefixes)
    }

    /// Remember a Responses API id this server issued.
    pub(crate) fn remember_response(&self, id: &str) {
        let mut kept = self
            .response_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if kept.ids.insert(id.to_owned()) {
            kept.order.push_back(id.to_owned());
        }
        while kept.order.len() > RESPONSE_IDS_KEPT {
            if let Some(oldest) = kept.order.pop_front() {
                kept.ids.remove(&oldest);
            }
        }
    }

    /// Whether this server issued a Responses API id.
    pub(crate) fn knows_response(&self, id: &str) -> bool {
        self.response_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ids
            .contains(id)
    }

    /// OTLP/HTTP trace exports received (`ExportTraceServiceRequest` protobuf bytes), oldest
    /// first (at most [`RECORDED_REQUESTS_LIMIT`]).
    #[must_use]
    pub fn otlp_exports(&self) -> Vec<Bytes> {
        self.otlp_exports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn record_otlp(&self, export: Bytes) {
        let mut exports = self
            .otlp_exports
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if exports.len() >= RECORDED_REQUESTS_LIMIT {
            exports.pop_front();
        }
        exports.push_back(export);
    }

    /// Clears recorded requests, pending scripts, `x-mock-fail-times` counters, cached prompt prefixes
    /// and the Qdrant collections; keeps the config.
    pub fn reset(&self) {
        self.clear_requests();
        self.qdrant
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.otlp_exports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.clear_scripts();
        self.failure_counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.prompt_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// A running mock server; dropping it also stops the server (gracefully, in the background).
#[derive(Debug)]
pub struct MockServer {
    local_addr: SocketAddr,
    state: Arc<MockState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl MockServer {
    /// Binds `addr` (port 0 picks a free port) and serves on the current tokio runtime.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(addr: SocketAddr, config: MockConfig) -> std::io::Result<MockServer> {
        Self::start_with_state(addr, Arc::new(MockState::new(config))).await
    }

    /// Like [`MockServer::start`] with a state the caller already holds.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start_with_state(
        addr: SocketAddr,
        state: Arc<MockState>,
    ) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        // Nagle's algorithm would hold back small SSE chunks by up to 40 ms.
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        let (shutdown, shutdown_signal) = oneshot::channel::<()>();
        let app = router(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // A dropped sender also means "stop".
                    let _ = shutdown_signal.await;
                })
                .await
        });
        Ok(MockServer {
            local_addr,
            state,
            shutdown: Some(shutdown),
            task,
        })
    }

    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://HOST:PORT`, with a loopback host when the server listens on every interface.
    #[must_use]
    pub fn base_url(&self) -> String {
        let host = match self.local_addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(host, self.local_addr.port()))
    }

    #[must_use]
    pub fn state(&self) -> Arc<MockState> {
        Arc::clone(&self.state)
    }

    /// Stops accepting connections and waits for the open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// The mock's routes (provider APIs plus `/__mock/*`), for embedding in another server.
pub fn router(state: Arc<MockState>) -> Router {
    let control = Router::new()
        .route("/__mock/health", get(control_health))
        .route(
            "/__mock/requests",
            get(control_requests).delete(control_clear_requests),
        )
        .route(
            "/__mock/config",
            get(control_config).post(control_set_config),
        )
        .route(
            "/__mock/script",
            get(control_scripts)
                .post(control_push_scripts)
                .delete(control_clear_scripts),
        )
        .route("/__mock/reset", axum::routing::post(control_reset))
        .route("/__mock/otlp", get(control_otlp));
    openai::routes()
        .merge(anthropic::routes())
        .merge(azure::routes())
        .merge(ollama::routes())
        .merge(cohere::routes())
        .merge(huggingface::routes())
        .merge(nlp_cloud::routes())
        .merge(search::routes())
        .merge(bedrock::routes())
        .merge(google::routes())
        .merge(guardrail_apis::routes())
        .merge(telemetry_apis::routes())
        .merge(qdrant::routes())
        .merge(watsonx::routes())
        .merge(snowflake::routes())
        .merge(gigachat::routes())
        .merge(sagemaker::routes())
        .merge(control)
        .fallback(exchange::unknown_route)
        .method_not_allowed_fallback(exchange::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(state)
}

/// The OTLP/HTTP exports received, base64 protobuf (`ExportTraceServiceRequest`), oldest first.
async fn control_otlp(State(state): State<Arc<MockState>>) -> Response {
    use base64::Engine;
    let exports: Vec<String> = state
        .otlp_exports()
        .iter()
        .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
        .collect();
    Json(exports).into_response()
}

async fn control_health() -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn control_requests(State(state): State<Arc<MockState>>) -> Response {
    Json(state.requests()).into_response()
}

async fn control_clear_requests(State(state): State<Arc<MockState>>) -> Response {
    state.clear_requests();
    StatusCode::NO_CONTENT.into_response()
}

async fn control_config(State(state): State<Arc<MockState>>) -> Response {
    Json(state.config()).into_response()
}

async fn control_set_config(State(state): State<Arc<MockState>>, body: Bytes) -> Response {
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(patch) => patch,
        Err(error) => return control_error(&format!("config body is not JSON: {error}")),
    };
    let mut outcome = Ok(());
    let config = state.update_config(|config| match config.merge_json(&patch) {
        Ok(merged) => *config = merged,
        Err(error) => outcome = Err(error),
    });
    match outcome {
        Ok(()) => Json(config).into_response(),
        Err(error) => control_error(&format!("invalid config: {error}")),
    }
}

async fn control_scripts(State(state): State<Arc<MockState>>) -> Response {
    Json(serde_json::json!({"pending": state.pending_scripts()})).into_response()
}

async fn control_push_scripts(State(state): State<Arc<MockState>>, body: Bytes) -> Response {
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(error) => return control_error(&format!("script body is not JSON: {error}")),
    };
    // A single object is accepted as a list of one.
    let items = match parsed {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut scripts = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<ScriptedResponse>(item) {
            Ok(script) => scripts.push(script),
            Err(error) => return control_error(&format!("invalid script [{index}]: {error}")),
        }
    }
    state.push_scripts(scripts);
    Json(serde_json::json!({"pending": state.pending_scripts()})).into_response()
}

async fn control_clear_scripts(State(state): State<Arc<MockState>>) -> Response {
    state.clear_scripts();
    StatusCode::NO_CONTENT.into_response()
}

async fn control_reset(State(state): State<Arc<MockState>>) -> Response {
    state.reset();
    StatusCode::NO_CONTENT.into_response()
}

fn control_error(message: &str) -> Response {
    let body = serde_json::json!({
        "error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

pub(crate) fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

pub(crate) fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_json_applies_partial_fields_and_null() {
        let config = MockConfig {
            prompt_tokens: Some(5),
            ..MockConfig::default()
        };
        let merged = config
            .merge_json(
                &serde_json::json!({"latency_ms": 7, "prompt_tokens": null, "content": "hi"}),
            )
            .unwrap();
        assert_eq!(merged.latency_ms, 7);
        assert_eq!(merged.prompt_tokens, None);
        assert_eq!(merged.content.as_deref(), Some("hi"));
        assert_eq!(merged.chunk_count, 8);
        assert!(config.merge_json(&serde_json::json!({"nope": 1})).is_err());
        assert!(config.merge_json(&serde_json::json!([1])).is_err());
    }

    #[test]
    fn recorded_requests_are_bounded() {
        let state = MockState::new(MockConfig::default());
        for index in 0..(RECORDED_REQUESTS_LIMIT + 5) {
            state.record(RecordedRequest {
                method: "POST".to_owned(),
                path: format!("/{index}"),
                query: None,
                headers: BTreeMap::new(),
                body: Value::Null,
                received_at_ms: 0,
            });
        }
        let requests = state.requests();
        assert_eq!(requests.len(), RECORDED_REQUESTS_LIMIT);
        assert_eq!(requests[0].path, "/5");
    }

    #[test]
    fn attempts_are_counted_per_key() {
        let state = MockState::new(MockConfig::default());
        assert_eq!(state.count_attempt("a"), 0);
        assert_eq!(state.count_attempt("a"), 1);
        assert_eq!(state.count_attempt("b"), 0);
        state.reset();
        assert_eq!(state.count_attempt("a"), 0);
    }
}
