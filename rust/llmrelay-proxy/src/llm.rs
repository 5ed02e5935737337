//! The LLM routes: parse, check, call the dispatcher, render (OpenAI or Anthropic dialect),
//! with hooks, headers and metrics around each call.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use llmrelay_core::types::Usage;
use llmrelay_core::{Error, ErrorKind, tokens};
use llmrelay_providers::engine::{ChatOutcome, HiddenParams, TextOutcome, now_unix};
use llmrelay_providers::stream::{Accountable, AccountedStream};

use crate::anthropic::{self, MessageStreamEncoder};
use crate::auth::Principal;
use crate::errors::{ApiError, Dialect};
use crate::hooks::{CallType, LogEvent, PreCall};
use crate::responses;
use crate::server::{AppState, RequestContext, RouteLabel, principal_of};
use crate::sse::{ChunkEncoder, OpenAiEncoder, SseBody, StreamContext};

const MODEL_ID: HeaderName = HeaderName::from_static("x-litellm-model-id");
const MODEL_API_BASE: HeaderName = HeaderName::from_static("x-litellm-model-api-base");
const MODEL_GROUP: HeaderName = HeaderName::from_static("x-litellm-model-group");
const MODEL_NAME: HeaderName = HeaderName::from_static("x-litellm-model-name");
const RESPONSE_COST: HeaderName = HeaderName::from_static("x-litellm-response-cost");
const RESPONSE_DURATION: HeaderName = HeaderName::from_static("x-litellm-response-duration-ms");
const OVERHEAD_DURATION: HeaderName = HeaderName::from_static("x-litellm-overhead-duration-ms");
const ATTEMPTED_RETRIES: HeaderName = HeaderName::from_static("x-litellm-attempted-retries");
const ATTEMPTED_FALLBACKS: HeaderName = HeaderName::from_static("x-litellm-attempted-fallbacks");
const VERSION: HeaderName = HeaderName::from_static("x-litellm-version");

/// Upstream header name → (itself, `llm_provider-<name>`) as header names. The same few names
/// come back on every response, so they are parsed once.
fn provider_header_names(name: &str) -> Option<(HeaderName, HeaderName)> {
    static CACHE: std::sync::OnceLock<
        std::sync::RwLock<std::collections::HashMap<String, (HeaderName, HeaderName)>>,
    > = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(guard) = cache.read() {
        if let Some(names) = guard.get(name) {
            return Some(names.clone());
        }
    }
    let plain = HeaderName::from_bytes(name.as_bytes()).ok()?;
    let prefixed = HeaderName::from_bytes(format!("llm_provider-{name}").as_bytes()).ok()?;
    if let Ok(mut guard) = cache.write() {
        // Bounded: upstreams send a fixed set of names; stop caching if one does not.
        if guard.len() < 256 {
            guard.insert(name.to_owned(), (plain.clone(), prefixed.clone()));
        }
    }
    Some((plain, prefixed))
}

/// Parameters a client may not set: they would point the proxy's credentials elsewhere
/// (LiteLLM rejects them unless client-side credentials are allowed).
const CLIENT_FORBIDDEN: &[&str] = &["api_base", "base_url", "api_key"];

/// Read a JSON object body, bounded by the configured size.
async fn read_json(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Map<String, Value>, Error> {
    let too_large = |size: usize| {
        Error::bad_request(format!(
            "Request size is too large. Request size is {:.2} MB. Max size is {:.2} MB",
            size as f64 / 1_048_576.0,
            limit as f64 / 1_048_576.0
        ))
        .with_status(413)
    };
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if length > limit {
            return Err(too_large(length));
        }
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(piece) = stream.next().await {
        let piece = piece
            .map_err(|e| Error::bad_request(format!("could not read the request body: {e}")))?;
        if bytes.len() + piece.len() > limit {
            return Err(too_large(bytes.len() + piece.len()));
        }
        bytes.extend_from_slice(&piece);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::bad_request(
            "Request body is empty: expected a JSON object",
        ));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::bad_request("Request body must be a JSON object")),
        Err(error) => {
            Err(Error::bad_request(format!("Invalid JSON payload: {error}"))
                .with_param("request_body"))
        }
    }
}

/// One LLM request on its way through the proxy.
struct Call {
    state: Arc<AppState>,
    context: RequestContext,
    principal: Principal,
    call_type: CallType,
    route: &'static str,
    dialect: Dialect,
    model_group: String,
}

impl Call {
    fn new(
        state: Arc<AppState>,
        parts: &http::request::Parts,
        call_type: CallType,
        route: &'static str,
        dialect: Dialect,
    ) -> Self {
        let context = parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_else(|| RequestContext {
                call_id: Arc::from(uuid::Uuid::new_v4().to_string()),
                received: std::time::Instant::now(),
                received_wall: std::time::SystemTime::now(),
            });
        Self {
            state,
            context,
            principal: principal_of(&parts.extensions),
            call_type,
            route,
            dialect,
            model_group: String::new(),
        }
    }

    fn label(&self, mut response: Response) -> Response {
        response.extensions_mut().insert(RouteLabel {
            route: self.route,
            model_group: self.model_group.clone(),
        });
        response
    }

    /// A request rejected before any call (bad body, unknown model): no hooks.
    fn reject(&self, error: Error) -> Response {
        self.label(ApiError::new(error, self.dialect).into_response())
    }

    /// A failed call: failure hooks, then the error in the route's dialect.
    async fn fail(&self, error: Error, request: Option<Arc<Map<String, Value>>>) -> Response {
        tracing::info!(error = %error, model_group = %self.model_group, "call failed");
        if let Some(hooks) = &self.state.hooks {
            let data = request.unwrap_or_default();
            hooks
                .post_call_failure(
                    self.call_type,
                    &self.principal,
                    Arc::clone(&data),
                    error.clone(),
                )
                .await;
            let now = std::time::SystemTime::now();
            let event = LogEvent {
                call_type: self.call_type,
                call_id: self.context.call_id.to_string(),
                model_group: self.model_group.clone(),
                request: data,
                response: None,
                chunks: Vec::new(),
                error: Some(error.clone()),
                usage: None,
                response_cost: None,
                stream: false,
                start_time: self.context.received_wall,
                end_time: now,
                completion_start_time: None,
                principal: self.principal.clone(),
                model_id: None,
                api_base: None,
            };
            self.state.spawn_background(hooks.log_failure(event));
        }
        self.reject(error)
    }

    /// Validate the model, apply header overrides and defaults, and run the pre-call hook.
    async fn prepare(
        &mut self,
        mut params: Map<String, Value>,
        headers: &HeaderMap,
    ) -> Result<PreCall, Error> {
        let model = match params.get("model") {
            Some(Value::String(model)) if !model.is_empty() => model.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(Error::bad_request(format!(
                    "{}: Missing required parameter: 'model'.",
                    self.route
                ))
                .with_param("model"));
            }
            Some(_) => return Err(Error::bad_request("model must be a string").with_param("model")),
        };
        self.model_group.clone_from(&model);
        for key in CLIENT_FORBIDDEN {
            if params.get(*key).is_some_and(|v| !v.is_null()) {
                return Err(Error::bad_request(format!(
                    "Rejected Request: {key} is not allowed in request body. The proxy's configured deployments decide where calls go."
                ))
                .with_param(*key));
            }
        }
        if !self.state.dispatch.has_model(&model) {
            // LiteLLM names the route, or the call type for the Anthropic route.
            let prefix = match self.call_type {
                CallType::AnthropicMessages => "anthropic_messages",
                _ => self.route,
            };
            return Err(Error::bad_request(format!(
                "{prefix}: Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
            ))
            .with_param("model"));
        }
        for (header_name, param) in [
            ("x-litellm-timeout", "timeout"),
            ("x-litellm-stream-timeout", "stream_timeout"),
            ("x-litellm-num-retries", "num_retries"),
        ] {
            if let Some(value) = headers.get(header_name).and_then(|v| v.to_str().ok()) {
                let number = value.trim().parse::<f64>().map_err(|_| {
                    Error::bad_request(format!("{header_name} must be a number, got '{value}'"))
                })?;
                params.insert(param.to_owned(), json!(number));
            }
        }
        for (key, value) in &self.state.settings.call_defaults {
            params.entry(key.clone()).or_insert_with(|| value.clone());
        }
        match &self.state.hooks {
            Some(hooks) => {
                hooks
                    .pre_call(self.call_type, &self.principal, params)
                    .await
            }
            None => Ok(PreCall::Continue(params)),
        }
    }

    /// The `x-litellm-*` response headers and the upstream's rate-limit headers.
    fn litellm_headers(&self, headers: &mut HeaderMap, hidden: &HiddenParams, cost: Option<f64>) {
        let total_ms = self.context.received.elapsed().as_secs_f64() * 1000.0;
        let overhead_ms = (total_ms - hidden.response_ms).max(0.0);
        let mut put = |name: HeaderName, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        };
        if let Some(id) = &hidden.model_id {
            put(MODEL_ID, id);
        }
        if let Some(base) = &hidden.api_base {
            put(MODEL_API_BASE, base);
        }
        put(MODEL_GROUP, &self.model_group);
        let provider = &hidden.custom_llm_provider;
        let already_qualified = hidden
            .model
            .strip_prefix(provider.as_str())
            .is_some_and(|rest| rest.starts_with('/'));
        if !provider.is_empty() && !already_qualified {
            put(MODEL_NAME, &format!("{provider}/{}", hidden.model));
        } else {
            put(MODEL_NAME, &hidden.model);
        }
        if let Some(cost) = cost {
            put(RESPONSE_COST, &cost.to_string());
        }
        put(RESPONSE_DURATION, &format!("{total_ms:.3}"));
        put(OVERHEAD_DURATION, &format!("{overhead_ms:.3}"));
        headers.insert(ATTEMPTED_RETRIES, HeaderValue::from(hidden.num_retries));
        headers.insert(ATTEMPTED_FALLBACKS, HeaderValue::from_static("0"));
        headers.insert(VERSION, HeaderValue::from_static(env!("CARGO_PKG_VERSION")));
        for (name, value) in &hidden.headers {
            let Ok(value) = HeaderValue::from_str(value) else {
                continue;
            };
            let Some((plain, prefixed)) = provider_header_names(name) else {
                continue;
            };
            if name.starts_with("x-ratelimit-") {
                headers.insert(plain, value.clone());
            }
            headers.insert(prefixed, value);
        }
    }

    /// A whole response: post-call hook, metrics, logging, headers.
    async fn whole<T: Serialize>(
        &self,
        body: &T,
        hidden: &HiddenParams,
        usage: Option<&Usage>,
        cost: Option<f64>,
        request: Option<Arc<Map<String, Value>>>,
    ) -> Response {
        let upstream = Duration::from_secs_f64(hidden.response_ms.max(0.0) / 1000.0);
        let bytes = match &self.state.hooks {
            None => serde_json::to_vec(body),
            Some(hooks) => {
                let data = request.clone().unwrap_or_default();
                let value = serde_json::to_value(body).unwrap_or(Value::Null);
                let value = match hooks
                    .post_call_success(
                        self.call_type,
                        &self.principal,
                        Arc::clone(&data),
                        value.clone(),
                    )
                    .await
                {
                    Ok(Some(replaced)) => replaced,
                    Ok(None) => value,
                    Err(error) => return self.fail(error, request).await,
                };
                let event = LogEvent {
                    call_type: self.call_type,
                    call_id: self.context.call_id.to_string(),
                    model_group: self.model_group.clone(),
                    request: data,
                    response: Some(value.clone()),
                    chunks: Vec::new(),
                    error: None,
                    usage: usage.cloned(),
                    response_cost: cost,
                    stream: false,
                    start_time: self.context.received_wall,
                    end_time: std::time::SystemTime::now(),
                    completion_start_time: None,
                    principal: self.principal.clone(),
                    model_id: hidden.model_id.clone(),
                    api_base: hidden.api_base.clone(),
                };
                self.state.spawn_background(hooks.log_success(event));
                serde_json::to_vec(&value)
            }
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(error) => {
                return self.reject(Error::new(
                    ErrorKind::InternalServer,
                    format!("could not encode the response: {error}"),
                ));
            }
        };
        self.state.metrics.call(
            &self.model_group,
            self.context.received.elapsed(),
            upstream,
            usage,
            cost,
        );
        let mut response = (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response();
        self.litellm_headers(response.headers_mut(), hidden, cost);
        self.label(response)
    }

    /// A streamed response: SSE with keep-alives; books closed when it ends or the client leaves.
    fn stream<T, E>(
        &self,
        stream: AccountedStream<T>,
        hidden: &HiddenParams,
        encoder: E,
        request: Option<Arc<Map<String, Value>>>,
    ) -> Response
    where
        T: Accountable + Serialize + Unpin + Send + 'static,
        E: ChunkEncoder<T>,
    {
        let context = StreamContext {
            state: Arc::clone(&self.state),
            call_type: self.call_type,
            call_id: self.context.call_id.to_string(),
            model_group: self.model_group.clone(),
            request: request.unwrap_or_default(),
            principal: self.principal.clone(),
            received: self.context.received,
            received_wall: self.context.received_wall,
            upstream_open: Duration::from_secs_f64(hidden.response_ms.max(0.0) / 1000.0),
            model_id: hidden.model_id.clone(),
            api_base: hidden.api_base.clone(),
        };
        let body = SseBody::new(stream, encoder, self.state.settings.keep_alive, context);
        let mut response = Response::new(Body::from_stream(body));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        self.litellm_headers(response.headers_mut(), hidden, None);
        self.label(response)
    }

    /// Keep the request for hooks only when hooks exist.
    fn keep(&self, params: &Map<String, Value>) -> Option<Arc<Map<String, Value>>> {
        self.state.hooks.as_ref().map(|_| Arc::new(params.clone()))
    }
}

/// A chat completion answering with fixed text (a pre-call hook returned a string).
fn canned_chat(model: &str, text: &str) -> Value {
    json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        "object": "chat.completion",
        "created": now_unix(),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    })
}

fn json_response(value: &Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

/// Streamed form of a canned answer.
fn canned_stream(model: &str, text: &str) -> Response {
    let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
    let created = now_unix();
    let first = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": null}]});
    let last = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    let body = format!("data: {first}\n\ndata: {last}\n\ndata: [DONE]\n\n");
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

/// Start a call on an OpenAI-shaped endpoint: its books, and the JSON body with the model
/// named by the path (Azure-style deployment routes), if any.
async fn open_call(
    state: &Arc<AppState>,
    request: Request,
    call_type: CallType,
    path: &'static str,
    path_model: Option<String>,
) -> Result<(Call, Map<String, Value>, axum::http::HeaderMap), Response> {
    let (parts, body) = request.into_parts();
    let call = Call::new(Arc::clone(state), &parts, call_type, path, Dialect::OpenAi);
    let mut params = match read_json(body, &parts.headers, state.settings.max_request_bytes).await {
        Ok(params) => params,
        Err(error) => return Err(call.reject(error)),
    };
    if let Some(model) = path_model {
        params.insert("model".to_owned(), Value::String(model));
    }
    Ok((call, params, parts.headers))
}

async fn chat_inner(
    state: Arc<AppState>,
    request: Request,
    path_model: Option<String>,
) -> Response {
    let (mut call, params, headers) = match open_call(
        &state,
        request,
        CallType::Completion,
        "/chat/completions",
        path_model,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let wants_stream = params.get("stream") == Some(&Value::Bool(true));
    let params = match call.prepare(params, &headers).await {
        Ok(PreCall::Continue(params)) => params,
        Ok(PreCall::Respond(text)) if wants_stream => {
            return call.label(canned_stream(&call.model_group, &text));
        }
        Ok(PreCall::Respond(text)) => {
            return call.label(json_response(&canned_chat(&call.model_group, &text)));
        }
        Err(error) => return call.fail(error, None).await,
    };
    let request_copy = call.keep(&params);
    match state.dispatch.completion(params).await {
        Ok(ChatOutcome::Whole(mut result)) => {
            result.response.model.clone_from(&call.model_group);
            let cost = result.hidden.response_cost;
            call.whole(
                &result.response,
                &result.hidden,
                result.response.usage.as_ref(),
                cost,
                request_copy,
            )
            .await
        }
        Ok(ChatOutcome::Stream(result)) => {
            let encoder = OpenAiEncoder {
                model: call.model_group.clone(),
            };
            call.stream(result.stream, &result.hidden, encoder, request_copy)
        }
        Err(error) => call.fail(error, request_copy).await,
    }
}

/// `POST /v1/chat/completions`, `/chat/completions`.
pub async fn chat(State(state): State<Arc<AppState>>, request: Request) -> Response {
    chat_inner(state, request, None).await
}

/// `POST /openai/deployments/{model}/chat/completions` (Azure clients), `/engines/{model}/…`.
pub async fn chat_for_deployment(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    request: Request,
) -> Response {
    chat_inner(state, request, Some(model)).await
}

async fn text_inner(
    state: Arc<AppState>,
    request: Request,
    path_model: Option<String>,
) -> Response {
    let (mut call, params, headers) = match open_call(
        &state,
        request,
        CallType::TextCompletion,
        "/completions",
        path_model,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let params = match call.prepare(params, &headers).await {
        Ok(PreCall::Continue(params)) => params,
        Ok(PreCall::Respond(text)) => return call.reject(Error::bad_request(text)),
        Err(error) => return call.fail(error, None).await,
    };
    let request_copy = call.keep(&params);
    match state.dispatch.text_completion(params).await {
        Ok(TextOutcome::Whole(mut result)) => {
            result.response.model.clone_from(&call.model_group);
            let cost = result.hidden.response_cost;
            call.whole(
                &result.response,
                &result.hidden,
                result.response.usage.as_ref(),
                cost,
                request_copy,
            )
            .await
        }
        Ok(TextOutcome::Stream(result)) => {
            let encoder = OpenAiEncoder {
                model: call.model_group.clone(),
            };
            call.stream(result.stream, &result.hidden, encoder, request_copy)
        }
        Err(error) => call.fail(error, request_copy).await,
    }
}

/// `POST /v1/completions`, `/completions`.
pub async fn text_completion(State(state): State<Arc<AppState>>, request: Request) -> Response {
    text_inner(state, request, None).await
}

/// `POST /openai/deployments/{model}/completions`.
pub async fn text_completion_for_deployment(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    request: Request,
) -> Response {
    text_inner(state, request, Some(model)).await
}

async fn embeddings_inner(
    state: Arc<AppState>,
    request: Request,
    path_model: Option<String>,
) -> Response {
    let (mut call, params, headers) = match open_call(
        &state,
        request,
        CallType::Embeddings,
        "/embeddings",
        path_model,
    )
    .await
    {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let params = match call.prepare(params, &headers).await {
        Ok(PreCall::Continue(params)) => params,
        Ok(PreCall::Respond(text)) => return call.reject(Error::bad_request(text)),
        Err(error) => return call.fail(error, None).await,
    };
    let request_copy = call.keep(&params);
    match state.dispatch.embedding(params).await {
        Ok(mut result) => {
            result.response.model.clone_from(&call.model_group);
            let cost = result.hidden.response_cost;
            call.whole(
                &result.response,
                &result.hidden,
                result.response.usage.as_ref(),
                cost,
                request_copy,
            )
            .await
        }
        Err(error) => call.fail(error, request_copy).await,
    }
}

/// `POST /v1/embeddings`, `/embeddings`.
pub async fn embeddings(State(state): State<Arc<AppState>>, request: Request) -> Response {
    embeddings_inner(state, request, None).await
}

/// `POST /openai/deployments/{model}/embeddings`.
pub async fn embeddings_for_deployment(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    request: Request,
) -> Response {
    embeddings_inner(state, request, Some(model)).await
}

/// `POST /v1/messages`: Anthropic's Messages API over any provider.
pub async fn messages(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut call = Call::new(
        Arc::clone(&state),
        &parts,
        CallType::AnthropicMessages,
        "/v1/messages",
        Dialect::Anthropic,
    );
    let body = match read_json(body, &parts.headers, state.settings.max_request_bytes).await {
        Ok(body) => body,
        Err(error) => return call.reject(error),
    };
    let params = match anthropic::request_to_chat(&body) {
        Ok(params) => params,
        Err(error) => return call.reject(error),
    };
    let params = match call.prepare(params, &parts.headers).await {
        Ok(PreCall::Continue(params)) => params,
        Ok(PreCall::Respond(text)) => {
            let chat = canned_chat(&call.model_group, &text);
            let message = serde_json::from_value(chat)
                .map(|response| anthropic::response_to_message(&response, &call.model_group))
                .unwrap_or(Value::Null);
            return call.label(json_response(&message));
        }
        Err(error) => return call.fail(error, None).await,
    };
    let request_copy = call.keep(&params);
    match state.dispatch.completion(params).await {
        Ok(ChatOutcome::Whole(result)) => {
            let message = anthropic::response_to_message(&result.response, &call.model_group);
            let cost = result.hidden.response_cost;
            call.whole(
                &message,
                &result.hidden,
                result.response.usage.as_ref(),
                cost,
                request_copy,
            )
            .await
        }
        Ok(ChatOutcome::Stream(result)) => {
            let encoder = MessageStreamEncoder::new(&call.model_group);
            call.stream(result.stream, &result.hidden, encoder, request_copy)
        }
        Err(error) => call.fail(error, request_copy).await,
    }
}

/// `POST /v1/messages/count_tokens`: counted locally with the deployment model's tokenizer.
pub async fn count_tokens(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut call = Call::new(
        Arc::clone(&state),
        &parts,
        CallType::AnthropicMessages,
        "/v1/messages/count_tokens",
        Dialect::Anthropic,
    );
    let body = match read_json(body, &parts.headers, state.settings.max_request_bytes).await {
        Ok(body) => body,
        Err(error) => return call.reject(error),
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    call.model_group.clone_from(&model);
    let Some(underlying) = state.dispatch.underlying_model(&model) else {
        return call.reject(Error::bad_request(format!(
            "anthropic_messages: Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
        )).with_param("model"));
    };
    let (messages, tools) = match anthropic::count_tokens_input(&body) {
        Ok(input) => input,
        Err(error) => return call.reject(error),
    };
    let options = tokens::CountOptions {
        use_default_image_token_count: true,
        ..tokens::CountOptions::default()
    };
    let bare_model = underlying
        .rsplit('/')
        .next()
        .unwrap_or(&underlying)
        .to_owned();
    match tokens::count_messages(&bare_model, &messages, tools.as_deref(), None, &options) {
        Ok(count) => call.label(json_response(&json!({"input_tokens": count}))),
        Err(error) => call.reject(Error::bad_request(format!(
            "could not count tokens: {error}"
        ))),
    }
}

/// `POST /v1/responses`: OpenAI's Responses API, bridged onto chat for every provider.
pub async fn responses(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut call = Call::new(
        Arc::clone(&state),
        &parts,
        CallType::Responses,
        "/responses",
        Dialect::OpenAi,
    );
    let body = match read_json(body, &parts.headers, state.settings.max_request_bytes).await {
        Ok(body) => body,
        Err(error) => return call.reject(error),
    };
    let bridged = match responses::request_to_chat(&body) {
        Ok(bridged) => bridged,
        Err(error) => return call.reject(error),
    };
    let params = match call.prepare(bridged.chat.clone(), &parts.headers).await {
        Ok(PreCall::Continue(params)) => params,
        Ok(PreCall::Respond(text)) => {
            let chat = canned_chat(&call.model_group, &text);
            let response = serde_json::from_value(chat)
                .map(|chat| responses::chat_to_response(&chat, &call.model_group, &bridged))
                .unwrap_or(Value::Null);
            return call.label(json_response(&response));
        }
        Err(error) => return call.fail(error, None).await,
    };
    let request_copy = call.keep(&params);
    match state.dispatch.completion(params).await {
        Ok(ChatOutcome::Whole(result)) => {
            let response =
                responses::chat_to_response(&result.response, &call.model_group, &bridged);
            let cost = result.hidden.response_cost;
            call.whole(
                &response,
                &result.hidden,
                result.response.usage.as_ref(),
                cost,
                request_copy,
            )
            .await
        }
        Ok(ChatOutcome::Stream(result)) => {
            let encoder = responses::ResponseStreamEncoder::new(&call.model_group, bridged);
            call.stream(result.stream, &result.hidden, encoder, request_copy)
        }
        Err(error) => call.fail(error, request_copy).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn body_limits_and_json_errors() {
        let headers = HeaderMap::new();
        let error = read_json(Body::from("{\"a\": 1"), &headers, 100)
            .await
            .unwrap_err();
        assert_eq!(error.status_code(), 400);
        assert!(error.message().starts_with("Invalid JSON payload"));
        let error = read_json(Body::from("[1]"), &headers, 100)
            .await
            .unwrap_err();
        assert!(error.message().contains("JSON object"));
        let error = read_json(Body::from(vec![b' '; 200]), &headers, 100)
            .await
            .unwrap_err();
        assert_eq!(error.status_code(), 413);
        assert!(
            read_json(Body::from("{\"a\": 1}"), &headers, 100)
                .await
                .is_ok()
        );
    }
}
