//! Steps every emulated provider request goes through: controls, recording, scripts, auth, faults, timing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use crate::faults::{self, Controls, ErrorSpec};
use crate::script::ScriptedBody;
use crate::sse::SseEvents;
use crate::{
    DEFAULT_CONTENT, MockConfig, MockState, RecordedRequest, anthropic, bedrock, cohere, google,
    ollama, openai, watsonx,
};

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub(crate) const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");
pub(crate) const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
pub(crate) const EVENT_STREAM: HeaderValue =
    HeaderValue::from_static("text/event-stream; charset=utf-8");

/// The wire dialect of a route: decides auth, error bodies, fault bodies and provider-specific headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    OpenAi,
    Anthropic,
    /// Ollama's native API: NDJSON streams, `{"error": …}` bodies, no auth.
    Ollama,
    /// Cohere v2: `{"id", "message"}` errors, bearer auth.
    Cohere,
    Bedrock,
    /// Google's Gemini API (`x-goog-api-key`).
    Gemini,
    /// Vertex AI (OAuth bearer tokens).
    Vertex,
    /// IBM watsonx.ai (`Bearer` IAM tokens or `ZenApiKey`, `{"errors": […]}` bodies).
    Watsonx,
}

impl Dialect {
    /// The dialect of a path no route serves (for the 404 / 405 bodies).
    fn for_path(path: &str) -> Dialect {
        if path.starts_with("/v1/messages") {
            Dialect::Anthropic
        } else if path.starts_with("/api/") {
            Dialect::Ollama
        } else if path.starts_with("/v2/") {
            Dialect::Cohere
        } else if path.starts_with("/model/") {
            Dialect::Bedrock
        } else if path.starts_with("/ml/") {
            Dialect::Watsonx
        } else if let Some(dialect) = google::owns_path(path) {
            dialect
        } else {
            Dialect::OpenAi
        }
    }

    /// Credentials and other required headers.
    fn check_headers(self, headers: &HeaderMap) -> Result<(), ErrorSpec> {
        match self {
            Dialect::OpenAi if openai::authorized(headers) => Ok(()),
            Dialect::OpenAi => Err(openai::unauthorized_error(headers)),
            Dialect::Anthropic => anthropic::check_headers(headers),
            Dialect::Ollama => Ok(()),
            Dialect::Cohere => cohere::check_headers(headers),
            // SigV4 needs the body too: the Bedrock handlers verify it before the exchange opens.
            Dialect::Bedrock => Ok(()),
            Dialect::Gemini => google::check_api_key(headers),
            Dialect::Vertex => google::check_bearer(headers),
            Dialect::Watsonx => watsonx::check_headers(headers),
        }
    }

    fn fault_error(self, status: StatusCode, model: Option<&str>) -> ErrorSpec {
        match self {
            Dialect::OpenAi => openai::fault_error(status, model),
            Dialect::Anthropic => anthropic::fault_error(status, model),
            Dialect::Ollama => ollama::fault_error(status, model),
            Dialect::Cohere => cohere::fault_error(status, model),
            Dialect::Bedrock => bedrock::fault_error(status, model),
            Dialect::Gemini | Dialect::Vertex => google::fault_error(status, model),
            Dialect::Watsonx => watsonx::fault_error(status, model),
        }
    }

    pub(crate) fn error_body(self, error: &ErrorSpec, request_id: &HeaderValue) -> Bytes {
        match self {
            Dialect::OpenAi => openai::error_body(error),
            Dialect::Anthropic => anthropic::error_body(error, request_id),
            Dialect::Ollama => ollama::error_body(error),
            Dialect::Cohere => cohere::error_body(error),
            Dialect::Bedrock => bedrock::error_body(error),
            Dialect::Gemini | Dialect::Vertex => google::error_body(error),
            Dialect::Watsonx => watsonx::error_body(error),
        }
    }

    /// The SSE event a provider sends when it fails mid-stream.
    fn stream_error_event(self, kind: Option<&str>, message: Option<&str>) -> Bytes {
        match self {
            // OpenAI's mid-stream error keeps its `server_error` type; `x-mock-error-type` is for statuses.
            Dialect::OpenAi => openai::stream_error_event(message),
            Dialect::Anthropic => anthropic::stream_error_event(kind, message),
            Dialect::Ollama => ollama::stream_error_event(message),
            Dialect::Cohere => cohere::stream_error_event(message),
            Dialect::Bedrock => bedrock::stream_error_event(kind, message),
            Dialect::Gemini | Dialect::Vertex => google::stream_error_event(kind, message),
            Dialect::Watsonx => watsonx::stream_error_event(message),
        }
    }

    fn unknown_route_error(self, method: &Method, path: &str) -> ErrorSpec {
        match self {
            Dialect::OpenAi => ErrorSpec::new(
                StatusCode::NOT_FOUND,
                format!("Invalid URL ({method} {path})"),
                "invalid_request_error",
                None,
                None,
            ),
            Dialect::Anthropic => anthropic::not_found_error(),
            Dialect::Ollama => ErrorSpec::new(
                StatusCode::NOT_FOUND,
                "404 page not found",
                "api_error",
                None,
                None,
            ),
            Dialect::Cohere => ErrorSpec::new(
                StatusCode::NOT_FOUND,
                format!("{method} {path}: not found"),
                "api_error",
                None,
                None,
            ),
            Dialect::Bedrock => bedrock::not_found_error(method, path),
            Dialect::Gemini | Dialect::Vertex => google::not_found_error(path),
            Dialect::Watsonx => ErrorSpec::new(
                StatusCode::NOT_FOUND,
                format!("Could not find the requested resource: {method} {path}"),
                "not_found",
                None,
                Some("not_found"),
            ),
        }
    }

    /// A 200 body that is not valid JSON (cut off mid-object).
    fn malformed_body(self) -> &'static [u8] {
        match self {
            Dialect::OpenAi => openai::MALFORMED_JSON,
            Dialect::Anthropic => anthropic::MALFORMED_JSON,
            Dialect::Ollama => ollama::MALFORMED_JSON,
            Dialect::Cohere => cohere::MALFORMED_JSON,
            Dialect::Bedrock => bedrock::MALFORMED_JSON,
            Dialect::Gemini | Dialect::Vertex => google::MALFORMED_JSON,
            // OpenAI-shaped answers: the same cut-off body.
            Dialect::Watsonx => openai::MALFORMED_JSON,
        }
    }

    /// An SSE event whose data is not valid JSON.
    fn malformed_stream_event(self) -> &'static [u8] {
        match self {
            Dialect::OpenAi => openai::MALFORMED_SSE_EVENT,
            Dialect::Anthropic => anthropic::MALFORMED_SSE_EVENT,
            Dialect::Ollama => ollama::MALFORMED_LINE,
            Dialect::Cohere => cohere::MALFORMED_SSE_EVENT,
            Dialect::Bedrock => bedrock::MALFORMED_FRAME,
            Dialect::Gemini | Dialect::Vertex => google::MALFORMED_SSE_EVENT,
            Dialect::Watsonx => openai::MALFORMED_SSE_EVENT,
        }
    }

    fn insert_standard_headers(
        self,
        headers: &mut HeaderMap,
        request_id: HeaderValue,
        started: Instant,
    ) {
        match self {
            Dialect::OpenAi => openai::insert_standard_headers(headers, request_id, started),
            Dialect::Anthropic => anthropic::insert_standard_headers(headers, request_id),
            Dialect::Ollama | Dialect::Cohere | Dialect::Watsonx => {
                headers.insert(X_REQUEST_ID, request_id);
            }
            Dialect::Bedrock => bedrock::insert_standard_headers(headers, request_id),
            Dialect::Gemini | Dialect::Vertex => {
                google::insert_standard_headers(headers, request_id);
            }
        }
    }

    /// Adjusts the headers of an injected fault response (rate-limit state of a 429).
    fn mark_fault(self, status: StatusCode, headers: &mut HeaderMap) {
        if status != StatusCode::TOO_MANY_REQUESTS {
            return;
        }
        match self {
            Dialect::OpenAi => openai::mark_rate_limited(headers),
            Dialect::Anthropic => anthropic::mark_rate_limited(headers),
            Dialect::Ollama | Dialect::Cohere | Dialect::Watsonx => {}
            // Bedrock's throttling answers carry no rate-limit headers.
            Dialect::Bedrock => {}
            // Google sends no retry-after with RESOURCE_EXHAUSTED.
            Dialect::Gemini | Dialect::Vertex => {}
        }
    }
}

/// One provider request in flight, after the common steps have let it through.
pub(crate) struct Exchange {
    pub started: Instant,
    pub dialect: Dialect,
    pub controls: Controls,
    pub config: Arc<MockConfig>,
    pub request_id: HeaderValue,
    /// The parsed JSON body; `None` when the body is empty or not JSON.
    pub body: Option<Value>,
}

impl Exchange {
    /// Records the request, parses its `x-mock-*` controls and serves a pending script.
    ///
    /// Auth and faults are left to [`Exchange::admit`] so that unknown routes still record and replay scripts.
    pub async fn begin(
        state: &MockState,
        dialect: Dialect,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Exchange, Response> {
        let started = Instant::now();
        let config = state.current_config();
        let request_id = headers
            .get(X_REQUEST_ID)
            .cloned()
            .unwrap_or_else(new_request_id);
        let parsed = if body.is_empty() {
            None
        } else {
            serde_json::from_slice::<Value>(body).ok()
        };
        if config.record {
            state.record(RecordedRequest::capture(
                method,
                uri,
                headers,
                body,
                parsed.as_ref(),
            ));
        }
        let exchange = Exchange {
            started,
            dialect,
            controls: Controls::default(),
            config,
            request_id,
            body: parsed,
        };
        let controls = match Controls::from_headers(headers) {
            Ok(controls) => controls,
            Err(message) => {
                return Err(exchange.error(ErrorSpec::invalid_request(message, None, None)));
            }
        };
        let exchange = Exchange {
            controls,
            ..exchange
        };
        sleep_ms(exchange.controls.first_byte_delay_ms).await;
        if let Some(script) = state.take_script(uri.path()) {
            return Err(exchange.scripted(script.status, script.headers, script.body));
        }
        Ok(exchange)
    }

    /// Checks credentials and applies `x-mock-status` / `x-mock-fail-times`.
    pub async fn admit(self, state: &MockState, headers: &HeaderMap) -> Result<Exchange, Response> {
        if let Err(error) = self.dialect.check_headers(headers) {
            return Err(self.error(error));
        }
        let Some(status) = self.controls.fault_status(state) else {
            return Ok(self);
        };
        sleep_ms(self.latency_ms()).await;
        let model = self.model();
        let mut error = self.dialect.fault_error(status, model);
        if let Some(message) = &self.controls.error_message {
            error.message.clone_from(message);
        }
        if let Some(kind) = &self.controls.error_type {
            error.kind.clone_from(kind);
        }
        if let Some(code) = &self.controls.error_code {
            error.code = Some(code.clone());
        }
        let mut response = self.error(error);
        let response_headers = response.headers_mut();
        if let Some(retry_after) = &self.controls.retry_after {
            response_headers.insert(RETRY_AFTER, retry_after.clone());
        }
        if let Some(retry_after_ms) = &self.controls.retry_after_ms {
            response_headers.insert(RETRY_AFTER_MS, retry_after_ms.clone());
        }
        self.dialect.mark_fault(status, response_headers);
        Err(response)
    }

    /// [`Exchange::begin`] then [`Exchange::admit`].
    pub async fn open(
        state: &MockState,
        dialect: Dialect,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Exchange, Response> {
        Self::begin(state, dialect, method, uri, headers, body)
            .await?
            .admit(state, headers)
            .await
    }

    /// Open an exchange for `incoming`, let `render` answer from its JSON body (taken out of
    /// the exchange), and respond — every plain emulated route in one place.
    pub(crate) async fn serve(
        state: &MockState,
        dialect: Dialect,
        incoming: &Incoming,
        render: impl FnOnce(Option<Value>, &Exchange) -> Rendered,
    ) -> Response {
        let mut exchange = match Self::open(
            state,
            dialect,
            &incoming.method,
            &incoming.uri,
            &incoming.headers,
            &incoming.body,
        )
        .await
        {
            Ok(exchange) => exchange,
            Err(response) => return response,
        };
        let request = exchange.body.take();
        render(request, &exchange).respond(exchange).await
    }

    pub fn model(&self) -> Option<&str> {
        self.body.as_ref()?.get("model")?.as_str()
    }

    pub fn latency_ms(&self) -> u64 {
        self.controls.latency_ms.unwrap_or(self.config.latency_ms)
    }

    /// The answer text: `x-mock-content`, else the configured content, else [`DEFAULT_CONTENT`].
    pub fn content(&self) -> &str {
        self.controls
            .content
            .as_deref()
            .or(self.config.content.as_deref())
            .unwrap_or(DEFAULT_CONTENT)
    }

    pub fn has_content_override(&self) -> bool {
        self.controls.content.is_some()
    }

    pub fn chunk_count(&self) -> usize {
        self.controls
            .chunk_count
            .unwrap_or(self.config.chunk_count)
            .max(1)
    }

    pub fn prompt_tokens(&self) -> Option<u64> {
        self.controls.prompt_tokens.or(self.config.prompt_tokens)
    }

    pub fn completion_tokens(&self) -> Option<u64> {
        self.controls
            .completion_tokens
            .or(self.config.completion_tokens)
    }

    pub fn embedding_dim(&self) -> usize {
        self.config.embedding_dim
    }

    /// A response with the dialect's standard headers.
    fn response(&self, status: StatusCode, content_type: HeaderValue, body: Body) -> Response {
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.reserve(12);
        headers.insert(CONTENT_TYPE, content_type);
        self.dialect
            .insert_standard_headers(headers, self.request_id.clone(), self.started);
        response
    }

    /// An error response in the dialect's shape, sent at once.
    pub fn error(&self, error: ErrorSpec) -> Response {
        let body = self.dialect.error_body(&error, &self.request_id);
        let mut response = self.response(error.status, APPLICATION_JSON, Body::from(body));
        if self.dialect == Dialect::Bedrock {
            bedrock::insert_error_type(response.headers_mut(), &error);
        }
        response
    }

    /// A whole (non-streaming) JSON response after the configured latency, with body faults applied.
    pub async fn whole(self, status: StatusCode, body: Vec<u8>) -> Response {
        sleep_ms(self.latency_ms()).await;
        let body = if self.controls.disconnect_after.is_some() {
            faults::aborted_body(Vec::new())
        } else if self.controls.malformed {
            Body::from(self.dialect.malformed_body())
        } else {
            Body::from(body)
        };
        self.response(status, APPLICATION_JSON, body)
    }

    /// An SSE response: headers at once, then the events paced by ttft / chunk interval, with stream faults applied.
    pub fn stream(self, events: &SseEvents) -> Response {
        let controls = &self.controls;
        let first_delay = Duration::from_millis(controls.ttft_ms.unwrap_or(self.config.ttft_ms));
        let interval = Duration::from_millis(
            controls
                .chunk_interval_ms
                .unwrap_or(self.config.chunk_interval_ms),
        );
        let plain = controls.disconnect_after.is_none()
            && controls.error_after.is_none()
            && !controls.malformed;
        let body = if plain && first_delay.is_zero() && interval.is_zero() {
            Body::from(events.all())
        } else {
            let mut segments =
                if let Some(kept) = controls.disconnect_after.or(controls.error_after) {
                    events.content_events(kept)
                } else {
                    events.segments()
                };
            if controls.malformed {
                let position = segments.len().min(1);
                segments.insert(
                    position,
                    Bytes::from_static(self.dialect.malformed_stream_event()),
                );
            }
            let abort = controls.disconnect_after.is_some();
            if !abort && controls.error_after.is_some() {
                segments.push(self.dialect.stream_error_event(
                    controls.error_type.as_deref(),
                    controls.error_message.as_deref(),
                ));
            }
            crate::sse::paced_body(segments, first_delay, interval, abort)
        };
        let content_type = match self.dialect {
            Dialect::Ollama => ollama::NDJSON,
            _ => EVENT_STREAM,
        };
        let mut response = self.response(StatusCode::OK, content_type, body);
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }

    /// Renders a scripted response verbatim (script headers override the standard ones).
    fn scripted(
        &self,
        status: u16,
        headers: std::collections::BTreeMap<String, String>,
        body: ScriptedBody,
    ) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let mut response = match body {
            ScriptedBody::Json(value) => {
                let bytes = serde_json::to_vec(&value).unwrap_or_default();
                self.response(status, APPLICATION_JSON, Body::from(bytes))
            }
            ScriptedBody::Sse {
                events,
                done,
                interval_ms,
            } => {
                let mut writer = crate::sse::SseWriter::with_capacity(events.len() * 128);
                for event in &events {
                    match (event, crate::script::named_event(event)) {
                        (_, Some((name, Value::String(raw)))) => writer.named_raw(name, raw),
                        (_, Some((name, data))) => writer.named_json(name, data),
                        (Value::String(raw), None) => writer.raw(raw),
                        (other, None) => writer.json(other),
                    }
                }
                if done {
                    writer.done();
                }
                let events = writer.finish();
                let body = crate::sse::paced_body(
                    events.segments(),
                    Duration::ZERO,
                    Duration::from_millis(interval_ms),
                    false,
                );
                let mut response = self.response(status, EVENT_STREAM, body);
                response
                    .headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                response
            }
            ScriptedBody::AwsEventStream {
                events,
                interval_ms,
            } => {
                let mut writer = crate::sse::SseWriter::with_capacity(events.len() * 128);
                for item in &events {
                    if let Some(frame) = bedrock::encode_script_item(item) {
                        writer.frame(&frame);
                    }
                }
                let body = crate::sse::paced_body(
                    writer.finish().segments(),
                    Duration::ZERO,
                    Duration::from_millis(interval_ms),
                    false,
                );
                self.response(status, bedrock::EVENT_STREAM_CONTENT_TYPE, body)
            }
            ScriptedBody::Raw { body, content_type } => {
                let content_type = content_type
                    .and_then(|value| HeaderValue::from_str(&value).ok())
                    .unwrap_or(HeaderValue::from_static("text/plain; charset=utf-8"));
                self.response(status, content_type, Body::from(body))
            }
        };
        let response_headers = response.headers_mut();
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name), HeaderValue::try_from(value))
            {
                response_headers.insert(name, value);
            }
        }
        response
    }
}

/// Fallback for paths no route serves: records and replays scripts like any route, else 404.
pub(crate) async fn unknown_route(
    State(state): State<Arc<MockState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // OpenAI-compatible providers serve the OpenAI endpoints under their own base path
    // (`/openai/v1`, `/api/paas/v4`, `/compatible-mode/v1`, `/serving-endpoints`, …): any
    // such path is answered in OpenAI's dialect.
    if method == Method::POST {
        let path = uri.path().to_owned();
        let incoming = Incoming {
            method,
            uri,
            headers,
            body,
        };
        if path.ends_with("/chat/completions") {
            return openai::chat_completions(State(state), incoming).await;
        }
        if path.ends_with("/embeddings") {
            return openai::embeddings(State(state), incoming).await;
        }
        if path.ends_with("/completions") {
            return openai::completions(State(state), incoming).await;
        }
        let Incoming {
            method,
            uri,
            headers,
            body,
        } = incoming;
        return unknown(state, method, uri, headers, body).await;
    }
    unknown(state, method, uri, headers, body).await
}

async fn unknown(
    state: Arc<MockState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let dialect = Dialect::for_path(uri.path());
    let exchange = match Exchange::begin(&state, dialect, &method, &uri, &headers, &body).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    exchange.error(dialect.unknown_route_error(&method, uri.path()))
}

/// Fallback for a known path with the wrong method.
pub(crate) async fn method_not_allowed(
    State(state): State<Arc<MockState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let dialect = Dialect::for_path(uri.path());
    let exchange = match Exchange::begin(&state, dialect, &method, &uri, &headers, &body).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    // Both dialects call a 405 an `invalid_request_error` (Anthropic uses it for 4XX statuses it does not list).
    exchange.error(ErrorSpec::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Invalid method for URL ({method} {})", uri.path()),
        "invalid_request_error",
        None,
        None,
    ))
}

/// What a handler produced, rendered before the exchange is consumed (a plan borrows from it).
/// The parts of a request an emulated route opens its exchange from (one extractor instead of
/// four per handler).
pub(crate) struct Incoming {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for Incoming {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        use axum::response::IntoResponse;
        let (parts, body) = request.into_parts();
        let (method, uri, headers) = (
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
        );
        // `Bytes` honours the router's body limit.
        let body = Bytes::from_request(axum::extract::Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            method,
            uri,
            headers,
            body,
        })
    }
}

/// A whole JSON body or the error to answer instead.
impl From<Result<Vec<u8>, ErrorSpec>> for Rendered {
    fn from(result: Result<Vec<u8>, ErrorSpec>) -> Self {
        match result {
            Ok(body) => Rendered::Whole(body),
            Err(error) => Rendered::Error(error),
        }
    }
}

pub(crate) enum Rendered {
    Whole(Vec<u8>),
    Stream(SseEvents),
    Error(ErrorSpec),
}

impl Rendered {
    pub(crate) async fn respond(self, exchange: Exchange) -> Response {
        match self {
            Rendered::Whole(body) => exchange.whole(StatusCode::OK, body).await,
            Rendered::Stream(events) => exchange.stream(&events),
            Rendered::Error(error) => exchange.error(error),
        }
    }
}

/// `req_` followed by 32 random hex digits, as OpenAI's request ids look.
fn new_request_id() -> HeaderValue {
    let mut buffer = [0_u8; 36];
    buffer[..4].copy_from_slice(b"req_");
    uuid::Uuid::new_v4().simple().encode_lower(&mut buffer[4..]);
    HeaderValue::from_bytes(&buffer).unwrap_or(HeaderValue::from_static("req_mock"))
}

/// A random id with a prefix, such as `chatcmpl-<32 hex>`.
pub(crate) fn new_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 32);
    id.push_str(prefix);
    let mut buffer = [0_u8; 32];
    id.push_str(uuid::Uuid::new_v4().simple().encode_lower(&mut buffer));
    id
}

pub(crate) async fn sleep_ms(milliseconds: u64) {
    if milliseconds > 0 {
        tokio::time::sleep(Duration::from_millis(milliseconds)).await;
    }
}
