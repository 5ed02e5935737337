//! The edge of an LLM route: read the body (bounded), turn it into the pipeline's typed
//! [`Call`] once, run it, and render the answer with LiteLLM's `x-litellm-*` headers. Every
//! LLM handler is a few lines over this.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use llmrelay_core::{CallKind, Error, ErrorKind};
use llmrelay_pipeline::{Answer, Call, Origin, ResponseHeaders, Route, ServedStream, Whole};
use llmrelay_providers::engine::{HiddenParams, Outcome};

use crate::auth::Principal;
use crate::errors::{ApiError, Dialect};
use crate::sse::{ChunkEncoder, SseBody};
use crate::state::{AppState, RequestContext, RouteLabel, principal_of};

const MODEL_ID: HeaderName = HeaderName::from_static("x-litellm-model-id");
const CACHE_KEY: HeaderName = HeaderName::from_static("x-litellm-cache-key");
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

/// Milliseconds with three decimals (`12.345`), from whole microseconds: integer formatting,
/// and the text becomes the header value without a copy.
fn millis(micros: u128) -> HeaderValue {
    let text = format!("{}.{:03}", micros / 1000, micros % 1000);
    HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static("0.000"))
}

/// Headers that set call options (LiteLLM's names).
const OPTION_HEADERS: &[(&str, &str)] = &[
    ("x-litellm-timeout", "timeout"),
    ("x-litellm-stream-timeout", "stream_timeout"),
    ("x-litellm-num-retries", "num_retries"),
];

/// The `s-maxage` directive of a `Cache-Control` header (a number when it is one).
fn s_maxage(header: &str) -> Option<Value> {
    header.split(',').find_map(|directive| {
        let (name, value) = directive.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("s-maxage") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        Some(
            value
                .parse::<u64>()
                .map_or_else(|_| json!(value), |n| json!(n)),
        )
    })
}

/// How much of an oversized body is read (and discarded) before the 413 goes out, so the
/// client, still sending, reads the answer instead of a reset connection.
const DRAIN_FACTOR: usize = 4;
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// The caller's tags as LiteLLM's proxy reads them: the body's `tags` when it is a list, else
/// the `x-litellm-tags` header (comma separated, each tag trimmed).
fn caller_tags(call: &Call, headers: &HeaderMap) -> Vec<String> {
    if let Some(tags @ Value::Array(_)) = call.options.other.get("tags") {
        return llmrelay_pipeline::call::string_list(Some(tags));
    }
    headers
        .get("x-litellm-tags")
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn too_large(size: usize, limit: usize) -> Error {
    Error::bad_request(format!(
        "Request size is too large. Request size is {:.2} MB. Max size is {:.2} MB",
        size as f64 / 1_048_576.0,
        limit as f64 / 1_048_576.0
    ))
    .with_status(413)
}

/// Read the rest of an oversized body (bounded in size and time) so the 413 reaches a client
/// that is still sending.
async fn drain(mut stream: axum::body::BodyDataStream, limit: usize) {
    let cap = limit.saturating_mul(DRAIN_FACTOR);
    let mut read = 0usize;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(piece)) = stream.next().await {
            read = read.saturating_add(piece.len());
            if read > cap {
                break;
            }
        }
    })
    .await;
}

/// Read a JSON object body, bounded by the configured size.
///
/// # Errors
/// 413 for an oversized body, 400 for an empty or malformed one.
pub async fn read_json(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Map<String, Value>, Error> {
    let expects_continue = headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let mut stream = body.into_data_stream();
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if length > limit {
            // A client waiting for `100 Continue` sends nothing more: answer at once.
            if !expects_continue {
                drain(stream, limit).await;
            }
            return Err(too_large(length, limit));
        }
    }
    let mut bytes = Vec::new();
    while let Some(piece) = stream.next().await {
        let piece = piece
            .map_err(|e| Error::bad_request(format!("could not read the request body: {e}")))?;
        if bytes.len() + piece.len() > limit {
            let size = bytes.len() + piece.len();
            drain(stream, limit).await;
            return Err(too_large(size, limit));
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

/// The `general_settings` keys read here.
pub const SETTINGS: &[&str] = &["enforced_params"];

/// `general_settings.enforced_params` (a list of body fields, `a` or `a.b`).
#[must_use]
pub fn enforced_params_setting(config: &crate::config::ProxyConfig) -> Vec<String> {
    match config.general_settings.other.get("enforced_params") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// LiteLLM's `enforced_params` check: each of `required` (`field` or `field.sub`) must be in
/// the body, else a 400 with LiteLLM's message (LiteLLM 1.104 raises it as a `ValueError`,
/// which its proxy answers with a 500; a missing field is the client's error).
fn check_enforced_params(required: &[String], params: &Map<String, Value>) -> Result<(), Error> {
    for param in required {
        let mut parts = param.splitn(2, '.');
        let first = parts.next().unwrap_or_default();
        let missing = match (params.get(first), parts.next()) {
            (None, _) => Some(format!("param={first}")),
            (Some(value), Some(second)) if value.get(second).is_none() => {
                Some(format!("param=[{first}][{second}]"))
            }
            _ => None,
        };
        if let Some(missing) = missing {
            let message = format!(
                "BadRequest please pass {missing} in request body. This is a required param"
            );
            return Err(Error::bad_request(message).with_param(param.clone()));
        }
    }
    Ok(())
}

/// One LLM request at the edge.
pub struct Edge {
    pub state: Arc<AppState>,
    pub context: RequestContext,
    pub principal: Principal,
    pub kind: CallKind,
    /// The route as LiteLLM names it in messages (`/chat/completions`).
    pub route: &'static str,
    pub dialect: Dialect,
    pub model_group: String,
}

impl Edge {
    #[must_use]
    pub fn new(
        state: Arc<AppState>,
        parts: &http::request::Parts,
        kind: CallKind,
        route: &'static str,
        dialect: Dialect,
    ) -> Self {
        let context = parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_else(|| RequestContext {
                call_id: Arc::from(llmrelay_core::ids::uuid()),
                received: std::time::Instant::now(),
                received_wall: std::time::SystemTime::now(),
            });
        Self {
            state,
            context,
            principal: principal_of(&parts.extensions),
            kind,
            route,
            dialect,
            model_group: String::new(),
        }
    }

    /// The model a body names (the public model name answers carry), before validation.
    #[must_use]
    pub fn model_group_of(&self, params: &Map<String, Value>) -> String {
        params
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// Tag a response for the request metrics.
    #[must_use]
    pub fn label(&self, mut response: Response) -> Response {
        response.extensions_mut().insert(RouteLabel {
            route: self.route,
            model_group: self.model_group.clone(),
        });
        response
    }

    /// An error in the route's dialect.
    #[must_use]
    pub fn reject(&self, error: Error) -> Response {
        if error.status_code() >= 500 {
            tracing::info!(error = %error, model_group = %self.model_group, "call failed");
        }
        let mut api_error = ApiError::new(error, self.dialect);
        // The proxy's own key-check refusals (`Authentication Error, …`, the body check's) are
        // LiteLLM's `auth_error`; an upstream's 401 keeps its provider's type.
        if api_error.error.kind() == ErrorKind::Authentication
            && api_error
                .error
                .message()
                .starts_with("Authentication Error, ")
        {
            api_error.type_override = Some("auth_error");
        }
        self.label(api_error.into_response())
    }

    /// Check the model and the body, apply header overrides and defaults, and parse the call.
    ///
    /// # Errors
    /// `BadRequest` for a missing or unknown model, a forbidden parameter, a malformed body.
    pub fn call(
        &mut self,
        mut params: Map<String, Value>,
        headers: &HeaderMap,
    ) -> Result<Box<Call>, Error> {
        // LiteLLM's `is_request_body_safe`, at the key check: a caller may not choose where the
        // call goes, as whom, what it costs or where it is logged (unless the config allows).
        let allow_all = self.state.settings.allow_client_side_credentials;
        if let Err(error) = crate::body_safety::check(&params, allow_all, None) {
            let opt_in = params
                .get("model")
                .and_then(Value::as_str)
                .and_then(|model| self.state.dispatch.clientside_params(model));
            match opt_in {
                Some(deployment) => {
                    crate::body_safety::check(&params, allow_all, Some(&deployment))?
                }
                None => return Err(error),
            }
        }
        // Checked with the key, as LiteLLM does: before the model is looked at.
        let key_enforced = self
            .principal
            .details::<llmrelay_governance::KeyAuth>()
            .map_or(&[][..], |auth| auth.enforced_params.as_slice());
        if !self.state.settings.enforced_params.is_empty() || !key_enforced.is_empty() {
            check_enforced_params(&self.state.settings.enforced_params, &params)?;
            check_enforced_params(key_enforced, &params)?;
        }
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
        // A key's or team's alias names a model group (the answer keeps the name asked for).
        if let Some(target) = self.principal.alias_target(&model) {
            params.insert("model".to_owned(), Value::String(target.to_owned()));
        }
        // A team's own deployment, called by its public name (`team_public_model_name`).
        if let Some(team) = self.principal.team_id.as_deref()
            && let Some(group) = self.state.dispatch.team_model(team, &model)
        {
            params.insert("model".to_owned(), Value::String(group));
        }
        let model = params
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(&model)
            .to_owned();
        if !self.state.dispatch.has_model(&model) {
            // LiteLLM names the route, or the call type for the Anthropic route.
            let prefix = match self.kind {
                CallKind::AnthropicMessages => "anthropic_messages",
                _ => self.route,
            };
            return Err(Error::bad_request(format!(
                "{prefix}: Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
            ))
            .with_param("model"));
        }
        for (header_name, param) in OPTION_HEADERS {
            if let Some(value) = headers.get(*header_name).and_then(|v| v.to_str().ok()) {
                let number = value.trim().parse::<f64>().map_err(|_| {
                    Error::bad_request(format!("{header_name} must be a number, got '{value}'"))
                })?;
                params.insert((*param).to_owned(), json!(number));
            }
        }
        if self.state.cache.is_some() {
            // LiteLLM's proxy reads one directive of a `Cache-Control` request header: its
            // `s-maxage` becomes the call's `ttl` (none when the header has no s-maxage).
            if let Some(value) = headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
            {
                match s_maxage(value) {
                    Some(ttl) => params.insert("ttl".to_owned(), ttl),
                    None => params.remove("ttl"),
                };
            }
        }
        for (key, value) in &self.state.settings.call_defaults {
            params.entry(key.clone()).or_insert_with(|| value.clone());
        }
        // The response cache keys the body as sent (LiteLLM's key follows its order).
        let preset = self.state.cache.as_ref().map(|c| c.preset_key(&params));
        let mut call = Box::new(Call::parse(self.kind, params, Origin::Proxy(self.route))?);
        if let Some(preset) = preset {
            call.extensions.insert(preset);
        }
        self.adopt(&mut call, headers);
        Ok(call)
    }

    /// A call that names no deployment (search tools): parsed as it is, with the caller's
    /// identity, tags and trace context, for [`Edge::run_direct`]. `group` is the name the
    /// caller used (the search tool), for metrics and spend rows.
    ///
    /// # Errors
    /// A malformed body.
    pub fn direct_call(
        &mut self,
        params: Map<String, Value>,
        group: &str,
        headers: &HeaderMap,
    ) -> Result<Box<Call>, Error> {
        group.clone_into(&mut self.model_group);
        let mut call = Box::new(Call::parse(self.kind, params, Origin::Proxy(self.route))?);
        group.clone_into(&mut call.model_group);
        self.adopt(&mut call, headers);
        Ok(call)
    }

    /// The request's identity, ids, times, tags and trace context on a parsed call.
    fn adopt(&mut self, call: &mut Call, headers: &HeaderMap) {
        call.tags.add_caller(caller_tags(call, headers));
        call.id = Arc::clone(&self.context.call_id);
        call.identity = std::mem::take(&mut self.principal);
        call.is_async = true;
        call.started = self.context.received;
        call.started_wall = self.context.received_wall;
        if let Some(parent) = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(llmrelay_observe::TraceParent::parse)
        {
            call.extensions.insert(parent);
        }
    }

    /// Run a call through the pipeline.
    ///
    /// # Errors
    /// The call's failure (already accounted by the pipeline).
    pub async fn run(&self, call: Box<Call>) -> Result<Answer, Error> {
        let dispatch: &dyn llmrelay_pipeline::Dispatch = &*self.state.dispatch;
        self.state
            .pipeline
            .run(call, dispatch)
            .await
            .map_err(Error::from)
    }

    /// Run a call through the pipeline to the engine directly (no Router: the call names its
    /// upstream itself).
    ///
    /// # Errors
    /// The call's failure (already accounted by the pipeline).
    pub async fn run_direct(&self, call: Box<Call>) -> Result<Answer, Error> {
        self.state
            .pipeline
            .run(call, &llmrelay_pipeline::Direct)
            .await
            .map_err(Error::from)
    }

    /// The `x-litellm-*` response headers and the upstream's rate-limit headers.
    fn litellm_headers(
        &self,
        headers: &mut HeaderMap,
        hidden: &HiddenParams,
        route: &Route,
        cost: Option<f64>,
    ) {
        let total_us = self.context.received.elapsed().as_micros();
        // Whole microseconds of the upstream's time (a float of milliseconds; never negative).
        let response_us = (hidden.response_ms.max(0.0) * 1000.0) as u128;
        let overhead_us = total_us.saturating_sub(response_us);
        headers.reserve(16 + hidden.headers.len() * 2);
        headers.insert(RESPONSE_DURATION, millis(total_us));
        headers.insert(OVERHEAD_DURATION, millis(overhead_us));
        let mut put = |name: HeaderName, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        };
        if let Some(id) = &hidden.model_id {
            put(MODEL_ID, id);
        }
        if let Some(key) = &hidden.cache_key {
            put(CACHE_KEY, key);
        }
        if let Some(base) = &hidden.api_base {
            put(MODEL_API_BASE, base);
        }
        let group = if route.model_group.is_empty() {
            &self.model_group
        } else {
            &route.model_group
        };
        put(MODEL_GROUP, group);
        let provider = &hidden.custom_llm_provider;
        let already_qualified = hidden
            .model
            .strip_prefix(provider.as_str())
            .is_some_and(|rest| rest.starts_with('/'));
        if !provider.is_empty() && !already_qualified {
            if let Ok(value) = HeaderValue::try_from(format!("{provider}/{}", hidden.model)) {
                headers.insert(MODEL_NAME, value);
            }
        } else {
            put(MODEL_NAME, &hidden.model);
        }
        if let Some(cost) = cost {
            if let Ok(value) = HeaderValue::try_from(cost.to_string()) {
                headers.insert(RESPONSE_COST, value);
            }
        }
        headers.insert(ATTEMPTED_RETRIES, HeaderValue::from(route.retries));
        headers.insert(ATTEMPTED_FALLBACKS, HeaderValue::from(route.fallbacks));
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

    /// A whole answer: `render` writes the body in the route's dialect; the books are settled
    /// before the response goes out.
    pub fn whole(
        &self,
        mut whole: Whole,
        render: impl FnOnce(&mut Outcome, &Call) -> Result<Vec<u8>, Error>,
    ) -> Response {
        let bytes = match render(&mut whole.outcome, whole.ledger.call()) {
            Ok(bytes) => bytes,
            Err(error) => {
                let hidden = whole.outcome.hidden().clone();
                whole.ledger.settle_error(error.clone(), Some(hidden));
                return self.reject(error);
            }
        };
        let route = whole.ledger.route().clone();
        let (outcome, settlement) = whole.settle();
        let mut response = (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response();
        self.litellm_headers(
            response.headers_mut(),
            outcome.hidden(),
            &route,
            settlement.record.cost,
        );
        layer_headers(response.headers_mut(), &settlement.call);
        self.label(response)
    }

    /// A streamed answer: SSE with keep-alives; the stream settles its books when it ends or
    /// the client leaves.
    pub fn stream<T, E>(&self, stream: ServedStream<T>, encoder: E) -> Response
    where
        T: llmrelay_pipeline::Kept + Serialize + Unpin + Send + 'static,
        E: ChunkEncoder<T>,
    {
        let hidden = stream.hidden().clone();
        let route = stream.route().clone();
        let mut extra = HeaderMap::new();
        layer_headers(&mut extra, stream.call());
        let body = SseBody::new(
            stream,
            encoder,
            self.state.settings.keep_alive,
            Arc::clone(&self.state.metrics),
            self.model_group.clone(),
            self.context.received,
        );
        let mut response = Response::new(Body::from_stream(body));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        self.litellm_headers(response.headers_mut(), &hidden, &route, None);
        response.headers_mut().extend(extra);
        self.label(response)
    }

    /// An answer of a kind this route cannot render (a bug, answered as a 500).
    #[must_use]
    pub fn unexpected(&self, what: &str) -> Response {
        self.reject(Error::new(
            ErrorKind::InternalServer,
            format!("{}: unexpected answer: {what}", self.route),
        ))
    }
}

/// JSON bytes of an answer body naming `model` (the model group the caller asked for) in
/// place of the upstream's model, without copying the answer: the field is swapped in and back.
///
/// # Errors
/// Never for the project's own types; named for safety.
pub fn to_json_as<R: Serialize>(
    response: &mut R,
    field: fn(&mut R) -> &mut String,
    model: &str,
) -> Result<Vec<u8>, Error> {
    let upstream = std::mem::replace(field(response), model.to_owned());
    let bytes = to_json(response);
    *field(response) = upstream;
    bytes
}

/// Headers layers set on the call ([`ResponseHeaders`]: `x-litellm-key-spend`, …).
fn layer_headers(headers: &mut HeaderMap, call: &Call) {
    if let Some(ResponseHeaders(extra)) = call.extensions.get::<ResponseHeaders>() {
        for (name, value) in extra {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
    }
}

/// JSON bytes of an answer body.
///
/// # Errors
/// Never for the project's own types; named for safety.
pub fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| {
        Error::new(
            ErrorKind::InternalServer,
            format!("could not encode the response: {e}"),
        )
    })
}
