//! The call pipeline: validate → detect provider → translate → call (with retries and
//! timeouts) → normalize → account (usage and cost).

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Map, Value};

use llmrelay_core::cost::{self, PriceOverrides, TokenCounts};
use llmrelay_core::detect;
use llmrelay_core::tokens;
use llmrelay_core::types::{
    ChatChunk, ChatMessage, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    StreamOptions, TextCompletionRequest, TextCompletionResponse, Usage,
};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::http::{self, Timeouts};
use crate::mock;
use crate::options::{self, CallOptions};
use crate::provider::{self, Endpoint, HttpRequest, Provider};
use crate::stream::{AccountedStream, ChunkStream, Finisher, StreamSummary, decode};

/// What LiteLLM exposes as `response._hidden_params`.
#[derive(Debug, Clone, Default)]
pub struct HiddenParams {
    pub custom_llm_provider: String,
    /// The model id sent upstream (prefix removed).
    pub model: String,
    pub api_base: Option<String>,
    pub response_cost: Option<f64>,
    pub response_ms: f64,
    pub model_id: Option<String>,
    /// Upstream response headers worth exposing (rate limits, request id).
    pub headers: Vec<(String, String)>,
    pub num_retries: u32,
}

#[derive(Debug, Clone)]
pub struct CompletionResult<T> {
    pub response: T,
    pub hidden: HiddenParams,
}

#[expect(
    clippy::large_enum_variant,
    reason = "one value per call, moved once to the caller"
)]
pub enum ChatOutcome {
    Whole(CompletionResult<ChatResponse>),
    Stream(StreamResult<ChatChunk>),
}

#[expect(
    clippy::large_enum_variant,
    reason = "one value per call, moved once to the caller"
)]
pub enum TextOutcome {
    Whole(CompletionResult<TextCompletionResponse>),
    Stream(StreamResult<TextCompletionResponse>),
}

pub struct StreamResult<T> {
    pub stream: AccountedStream<T>,
    pub hidden: HiddenParams,
}

/// The engine. Stateless: the HTTP client and the catalog are process-wide.
#[derive(Debug, Clone, Copy, Default)]
pub struct Engine;

/// Upstream response headers kept in `_hidden_params` / forwarded by the proxy.
fn keep_header(name: &str) -> bool {
    name.starts_with("x-ratelimit-")
        || name.starts_with("anthropic-ratelimit-")
        || name == "x-request-id"
        || name == "request-id"
        || name == "openai-processing-ms"
        || name == "retry-after"
        || name == "retry-after-ms"
}

fn collect_headers(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| keep_header(name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// Everything resolved about where a call goes.
pub(crate) struct Target {
    pub(crate) provider: &'static dyn Provider,
    pub(crate) provider_name: String,
    pub(crate) model: String,
    pub(crate) endpoint: Endpoint,
}

pub(crate) fn resolve_target(model: &str, options: &CallOptions) -> Result<Target> {
    let resolved = detect::resolve(
        model,
        options.custom_llm_provider.as_deref(),
        options.api_base.as_deref(),
    )?;
    let provider = provider::lookup(&resolved.provider).ok_or_else(|| {
        Error::bad_request(format!(
            "llmrelay does not support provider '{}' yet (model={model}). Supported: {}",
            resolved.provider,
            provider::implemented().join(", ")
        ))
        .with_provider(&resolved.provider)
        .with_model(model)
    })?;
    let api_base = options
        .api_base
        .clone()
        .or_else(|| env_first(provider.api_base_env()))
        .or_else(|| provider.derived_api_base(&options.credentials))
        .or_else(|| provider.default_api_base().map(str::to_owned))
        .ok_or_else(|| {
            Error::bad_request(format!(
                "api_base is required for provider '{}': pass api_base= or set {}",
                resolved.provider,
                provider.api_base_env().join(" / ")
            ))
            .with_provider(&resolved.provider)
            .with_model(model)
        })?;
    let api_key = options
        .api_key
        .clone()
        .or_else(|| env_first(provider.api_key_env()));
    if api_key.is_none() && provider.requires_api_key() && options.api_base.is_none() {
        return Err(Error::new(
            ErrorKind::Authentication,
            format!(
                "Missing API key for provider '{}': pass api_key= or set {}",
                resolved.provider,
                provider.api_key_env().join(" / ")
            ),
        )
        .with_provider(&resolved.provider)
        .with_model(model));
    }
    // The OpenAI organization header belongs to the official API only.
    let organization = options.organization.clone().or_else(|| {
        (resolved.provider == "openai").then(|| env_first(&["OPENAI_ORGANIZATION"]))?
    });
    Ok(Target {
        provider,
        provider_name: resolved.provider,
        model: resolved.model,
        endpoint: Endpoint {
            api_base,
            api_key,
            api_version: options.api_version.clone(),
            organization,
            extra_headers: options.extra_headers.clone(),
            drop_params: options.drop_params,
            credentials: options.credentials.clone(),
        },
    })
}

/// Deserialize, naming the offending field in the error.
fn from_value_at<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = format!("Invalid {what}: {path}: {}", e.inner());
        let error = Error::bad_request(message);
        if path == "." {
            error
        } else {
            error.with_param(path)
        }
    })
}

/// Parse and validate a chat request body before any network call.
///
/// # Errors
/// `BadRequest` naming what is wrong.
pub fn parse_chat_request(mut body: Map<String, Value>) -> Result<ChatRequest> {
    match body.get("model") {
        Some(Value::String(model)) if !model.is_empty() => {}
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(Error::bad_request("model is required").with_param("model"));
        }
        Some(_) => return Err(Error::bad_request("model must be a string").with_param("model")),
    }
    let messages = match body.remove("messages") {
        None | Some(Value::Null) => {
            return Err(
                Error::bad_request("messages is required: a list of message dicts")
                    .with_param("messages"),
            );
        }
        Some(Value::Array(messages)) => messages,
        Some(_) => {
            return Err(
                Error::bad_request("messages must be a list of message dicts")
                    .with_param("messages"),
            );
        }
    };
    if messages.is_empty() {
        return Err(Error::bad_request("messages must not be empty").with_param("messages"));
    }
    let mut parsed = Vec::with_capacity(messages.len());
    for (index, message) in messages.into_iter().enumerate() {
        if !message.is_object() {
            return Err(Error::bad_request(format!(
                "messages[{index}] must be a dict with 'role' and 'content'"
            ))
            .with_param("messages"));
        }
        let message: ChatMessage = from_value_at(message, &format!("messages[{index}]"))?;
        parsed.push(message);
    }
    body.insert("messages".to_owned(), Value::Array(Vec::new()));
    let mut request: ChatRequest = from_value_at(Value::Object(body), "request parameter")?;
    request.messages = parsed;
    Ok(request)
}

/// Prompt tokens of a chat request, counted locally (used when the upstream reports none).
fn count_prompt_tokens(request: &ChatRequest) -> u64 {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .filter_map(|m| serde_json::to_value(m).ok())
        .collect();
    let tools: Option<Vec<Value>> = request.tools.as_ref().map(|tools| {
        tools
            .iter()
            .filter_map(|t| serde_json::to_value(t).ok())
            .collect()
    });
    let options = tokens::CountOptions {
        use_default_image_token_count: true,
        ..tokens::CountOptions::default()
    };
    tokens::count_messages(
        &request.model,
        &messages,
        tools.as_deref(),
        request.tool_choice.as_ref(),
        &options,
    )
    .map_or(0, |n| n as u64)
}

fn count_completion_tokens(model: &str, text: &str) -> u64 {
    tokens::count_text_for_model(model, text) as u64
}

/// Price a usage; `None` when the model is unknown to the catalog (LiteLLM logs and moves on).
pub(crate) fn price(
    model: &str,
    provider: &str,
    usage: &Usage,
    overrides: PriceOverrides,
    service_tier: Option<&str>,
) -> Option<f64> {
    cost::for_model(
        model,
        Some(provider),
        TokenCounts::from(usage),
        overrides,
        service_tier,
    )
    .ok()
    .map(|c| cost::to_f64(c.total()))
}

/// An HTTP exchange with retries on retryable errors (honouring Retry-After) and timeouts.
pub(crate) struct Call<'a> {
    pub(crate) target: &'a Target,
    pub(crate) timeouts: Timeouts,
    pub(crate) num_retries: u32,
    pub(crate) model_for_errors: &'a str,
    pub(crate) stream: bool,
}

/// A successful HTTP response: headers read, body not yet consumed.
pub(crate) struct Opened {
    pub(crate) response: reqwest::Response,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) retries: u32,
}

impl Call<'_> {
    pub(crate) fn decorate(&self, error: Error, retries: u32) -> Error {
        let mut error = error
            .with_provider(&self.target.provider_name)
            .with_model(self.model_for_errors);
        error.set_num_retries(retries);
        error
    }

    async fn open_once(&self, request: &HttpRequest, body: &Bytes) -> Result<reqwest::Response> {
        let mut builder = http::client().post(&request.url).body(body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // A whole response is bounded as a whole; a stream's body is bounded by the idle limit
        // between chunks, so its total limit applies only until the headers arrive.
        let mut first_byte = self.timeouts.read.or(self.timeouts.connect);
        if let Some(total) = self.timeouts.total {
            if self.stream {
                first_byte = Some(first_byte.map_or(total, |limit| limit.min(total)));
            } else {
                builder = builder.timeout(total);
            }
        }
        let response = http::with_limit(first_byte, "waiting for response headers", async {
            builder.send().await.map_err(|e| http::transport_error(&e))
        })
        .await?;
        let status = response.status().as_u16();
        if status < 400 {
            return Ok(response);
        }
        let retry_after = http::retry_after_seconds(response.headers());
        let headers = collect_headers(response.headers());
        let all_headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        let body = response.bytes().await.unwrap_or_default();
        Err(self
            .target
            .provider
            .classify_error(status, &all_headers, &body)
            .with_retry_after(retry_after)
            .with_headers(headers))
    }

    /// Open the response, retrying retryable failures before any byte reached the caller.
    /// `used` retries were already spent on this call (a stream that failed before its
    /// first chunk re-opens with the rest of the budget).
    pub(crate) async fn open(&self, request: &HttpRequest, used: u32) -> Result<Opened> {
        let body = Bytes::from(request.body.clone());
        let mut attempt = used;
        loop {
            match self.open_once(request, &body).await {
                Ok(response) => {
                    let headers = collect_headers(response.headers());
                    return Ok(Opened {
                        response,
                        headers,
                        retries: attempt,
                    });
                }
                Err(error) if error.is_retryable() && attempt < self.num_retries => {
                    tokio::time::sleep(http::backoff(attempt, error.retry_after())).await;
                    attempt += 1;
                }
                Err(error) => return Err(self.decorate(error, attempt)),
            }
        }
    }

    /// Let the provider authenticate a built request (signing, tokens).
    pub(crate) async fn authorized(&self, mut request: HttpRequest) -> Result<HttpRequest> {
        self.target
            .provider
            .authorize(&mut request, &self.target.endpoint)
            .await
            .map_err(|e| self.decorate(e, 0))?;
        Ok(request)
    }

    /// Whole-body call: open (with retries) and read the body.
    pub(crate) async fn whole(
        &self,
        request: &HttpRequest,
    ) -> Result<(Bytes, Vec<(String, String)>, u32)> {
        let opened = self.open(request, 0).await?;
        let retries = opened.retries;
        match opened.response.bytes().await {
            Ok(bytes) => Ok((bytes, opened.headers, retries)),
            Err(error) => Err(self.decorate(http::transport_error(&error), retries)),
        }
    }
}

pub(crate) fn hidden(
    target: &Target,
    headers: Vec<(String, String)>,
    retries: u32,
    started: Instant,
    options: &CallOptions,
) -> HiddenParams {
    HiddenParams {
        custom_llm_provider: target.provider_name.clone(),
        model: target.model.clone(),
        api_base: Some(target.endpoint.api_base.clone()),
        response_cost: None,
        response_ms: started.elapsed().as_secs_f64() * 1000.0,
        model_id: options.model_id.clone(),
        headers: {
            let mut headers = headers;
            let mapped = target.provider.rate_limit_headers(&headers);
            headers.extend(mapped);
            headers
        },
        num_retries: retries,
    }
}

/// Peek the first chunk so a failure before any data is retried like any other failure.
pub(crate) async fn peek_first<T: Send + 'static>(
    mut stream: ChunkStream<T>,
) -> Result<ChunkStream<T>> {
    match stream.next().await {
        None => Ok(futures::stream::empty().boxed()),
        Some(Err(error)) => Err(error),
        Some(Ok(first)) => Ok(futures::stream::once(async { Ok(first) })
            .chain(stream)
            .boxed()),
    }
}

impl Engine {
    /// `completion` / `acompletion`.
    ///
    /// # Errors
    /// Every failure, classified (see `ErrorKind`).
    pub async fn completion(self, params: Map<String, Value>) -> Result<ChatOutcome> {
        let started = Instant::now();
        let (body, options) = options::split(params)?;
        let mut request = parse_chat_request(body)?;
        let original_model = request.model.clone();
        let provider_name = match &options.mock_response {
            Some(_) => detect::resolve(
                &original_model,
                options.custom_llm_provider.as_deref(),
                options.api_base.as_deref(),
            )
            .map_or_else(|_| "openai".to_owned(), |r| r.provider),
            None => String::new(),
        };
        if let Some(mock) = &options.mock_response {
            return mock::chat(&request, &options, mock, &provider_name, started).await;
        }
        let target = resolve_target(&original_model, &options)?;
        request.model.clone_from(&target.model);
        let provider = target.provider;
        crate::images::inline_image_urls(&mut request, &|url| provider.inlines_image_url(url))
            .await
            .map_err(|e| {
                e.with_provider(&target.provider_name)
                    .with_model(&original_model)
            })?;
        let call = Call {
            target: &target,
            timeouts: options.timeouts,
            num_retries: options.num_retries,
            model_for_errors: &original_model,
            stream: request.stream,
        };
        if request.stream {
            // Decoders end with a usage chunk when the upstream reports usage; callers that did
            // not ask for one do not see it. The official OpenAI API reports usage only when
            // asked, so ask it: the cost is then exact.
            let strip_usage = !request.include_usage();
            if strip_usage && target.provider_name == "openai" {
                request
                    .stream_options
                    .get_or_insert_with(StreamOptions::default)
                    .include_usage = Some(true);
            }
            let http_request = call
                .authorized(
                    target
                        .provider
                        .chat_request(&request, &target.endpoint)
                        .map_err(|e| call.decorate(e, 0))?,
                )
                .await?;
            let idle = options.stream_timeout.or(options.timeouts.read);
            let mut used = 0;
            let (stream, headers, retries) = loop {
                let opened = call.open(&http_request, used).await?;
                let inner = decode(
                    opened.response.bytes_stream(),
                    target.provider.framing(),
                    target.provider.chat_decoder(&request),
                    idle,
                );
                match peek_first(inner).await {
                    Ok(stream) => break (stream, opened.headers, opened.retries),
                    Err(error) if error.is_retryable() && opened.retries < options.num_retries => {
                        tokio::time::sleep(http::backoff(opened.retries, error.retry_after()))
                            .await;
                        used = opened.retries + 1;
                    }
                    Err(error) => return Err(call.decorate(error, opened.retries)),
                }
            };
            let hidden = hidden(&target, headers, retries, started, &options);
            let finisher = chat_finisher(request, &target.provider_name, options.price_overrides);
            let stream = AccountedStream::new(stream, strip_usage, target.model.clone(), finisher);
            return Ok(ChatOutcome::Stream(StreamResult { stream, hidden }));
        }
        let http_request = call
            .authorized(
                target
                    .provider
                    .chat_request(&request, &target.endpoint)
                    .map_err(|e| call.decorate(e, 0))?,
            )
            .await?;
        let (bytes, headers, retries) = call.whole(&http_request).await?;
        let mut response = target
            .provider
            .chat_response(&bytes, &request)
            .map_err(|e| call.decorate(e, retries))?;
        if response.usage.is_none() {
            let completion_text: String = response
                .choices
                .iter()
                .filter_map(|c| c.message.content.as_deref())
                .collect();
            response.usage = Some(Usage::new(
                count_prompt_tokens(&request),
                count_completion_tokens(&request.model, &completion_text),
            ));
        }
        let mut hidden = hidden(&target, headers, retries, started, &options);
        let service_tier = response.extra.get("service_tier").and_then(Value::as_str);
        hidden.response_cost = response.usage.as_ref().and_then(|usage| {
            price(
                &response_model_for_cost(&request.model, &response.model),
                &target.provider_name,
                usage,
                options.price_overrides,
                service_tier,
            )
            .or_else(|| {
                price(
                    &request.model,
                    &target.provider_name,
                    usage,
                    options.price_overrides,
                    service_tier,
                )
            })
        });
        Ok(ChatOutcome::Whole(CompletionResult { response, hidden }))
    }

    /// `text_completion` / `atext_completion`.
    ///
    /// # Errors
    /// Every failure, classified.
    pub async fn text_completion(self, params: Map<String, Value>) -> Result<TextOutcome> {
        let started = Instant::now();
        let (body, options) = options::split(params)?;
        let mut request: TextCompletionRequest = match body.get("prompt") {
            None | Some(Value::Null) => {
                return Err(Error::bad_request("prompt is required").with_param("prompt"));
            }
            Some(Value::String(_) | Value::Array(_)) => {
                from_value_at(Value::Object(body), "request parameter")?
            }
            Some(_) => {
                return Err(
                    Error::bad_request("prompt must be a string or a list").with_param("prompt")
                );
            }
        };
        let original_model = request.model.clone();
        if let Some(mock) = &options.mock_response {
            let provider_name = detect::resolve(
                &original_model,
                options.custom_llm_provider.as_deref(),
                None,
            )
            .map_or_else(|_| "text-completion-openai".to_owned(), |r| r.provider);
            return mock::text(&request, &options, mock, &provider_name, started).await;
        }
        let target = resolve_target(&original_model, &options)?;
        request.model.clone_from(&target.model);
        let call = Call {
            target: &target,
            timeouts: options.timeouts,
            num_retries: options.num_retries,
            model_for_errors: &original_model,
            stream: request.stream,
        };
        let http_request = call
            .authorized(
                target
                    .provider
                    .text_completion_request(&request, &target.endpoint)
                    .map_err(|e| call.decorate(e, 0))?,
            )
            .await?;
        if request.stream {
            let opened = call.open(&http_request, 0).await?;
            let idle = options.stream_timeout.or(options.timeouts.read);
            let inner = decode(
                opened.response.bytes_stream(),
                target.provider.framing(),
                target.provider.text_completion_decoder(),
                idle,
            );
            let inner = peek_first(inner)
                .await
                .map_err(|e| call.decorate(e, opened.retries))?;
            let hidden = hidden(&target, opened.headers, opened.retries, started, &options);
            let prompt_text = prompt_text(&request.prompt);
            let model = request.model.clone();
            let provider_name = target.provider_name.clone();
            let overrides = options.price_overrides;
            let finisher: Finisher = Box::new(move |summary: &mut StreamSummary, text: &str| {
                let usage = summary.usage.clone().unwrap_or_else(|| {
                    let encoding = tokens::encoding_for_model(&model);
                    Usage::new(
                        tokens::count_text(encoding, &prompt_text) as u64,
                        tokens::count_text(encoding, text) as u64,
                    )
                });
                summary.response_cost = price(&model, &provider_name, &usage, overrides, None);
                summary.usage = Some(usage);
            });
            let stream = AccountedStream::new(inner, false, target.model.clone(), finisher);
            return Ok(TextOutcome::Stream(StreamResult { stream, hidden }));
        }
        let (bytes, headers, retries) = call.whole(&http_request).await?;
        let response = target
            .provider
            .text_completion_response(&bytes)
            .map_err(|e| call.decorate(e, retries))?;
        let mut hidden = hidden(&target, headers, retries, started, &options);
        hidden.response_cost = response.usage.as_ref().and_then(|usage| {
            price(
                &request.model,
                &target.provider_name,
                usage,
                options.price_overrides,
                None,
            )
        });
        Ok(TextOutcome::Whole(CompletionResult { response, hidden }))
    }

    /// `embedding` / `aembedding`.
    ///
    /// # Errors
    /// Every failure, classified.
    pub async fn embedding(
        self,
        params: Map<String, Value>,
    ) -> Result<CompletionResult<EmbeddingResponse>> {
        let started = Instant::now();
        let (body, options) = options::split(params)?;
        validate_embedding_input(body.get("input"))?;
        let mut request: EmbeddingRequest =
            from_value_at(Value::Object(body), "request parameter")?;
        let original_model = request.model.clone();
        if let Some(mock) = &options.mock_response {
            return mock::embedding(&request, &options, mock, started).await;
        }
        let target = resolve_target(&original_model, &options)?;
        request.model.clone_from(&target.model);
        let call = Call {
            target: &target,
            timeouts: options.timeouts,
            num_retries: options.num_retries,
            model_for_errors: &original_model,
            stream: false,
        };
        let (mut response, headers, retries) = match (
            target.provider.embedding_batch_size(&request.model),
            &request.input,
        ) {
            (Some(size), Value::Array(items)) if items.len() > size => {
                embed_in_batches(&call, &request, items, size).await?
            }
            _ => embed_once(&call, &request).await?,
        };
        if response.model.is_empty() {
            response.model.clone_from(&request.model);
        }
        // Some APIs (Gemini's batchEmbedContents) report no usage: count the input, as LiteLLM.
        if response.usage.is_none() {
            let prompt = tokens::count_text_for_model(&request.model, &prompt_text(&request.input));
            response.usage = Some(Usage::new(prompt as u64, 0));
        }
        let mut hidden = hidden(&target, headers, retries, started, &options);
        hidden.response_cost = response.usage.as_ref().and_then(|usage| {
            price(
                &request.model,
                &target.provider_name,
                usage,
                options.price_overrides,
                None,
            )
        });
        Ok(CompletionResult { response, hidden })
    }
}

/// One embedding request.
async fn embed_once(
    call: &Call<'_>,
    request: &EmbeddingRequest,
) -> Result<(EmbeddingResponse, Vec<(String, String)>, u32)> {
    let target = call.target;
    let http_request = call
        .authorized(
            target
                .provider
                .embedding_request(request, &target.endpoint)
                .map_err(|e| call.decorate(e, 0))?,
        )
        .await?;
    let (bytes, headers, retries) = call.whole(&http_request).await?;
    let response = target
        .provider
        .embedding_response(&bytes)
        .map_err(|e| call.decorate(e, retries))?;
    Ok((response, headers, retries))
}

/// How many split embedding requests are in flight at once.
const EMBEDDING_BATCH_CONCURRENCY: usize = 8;

/// An embedding call split into requests of at most `size` inputs (a few in flight at once),
/// joined in input order with their usage summed.
async fn embed_in_batches(
    call: &Call<'_>,
    request: &EmbeddingRequest,
    items: &[Value],
    size: usize,
) -> Result<(EmbeddingResponse, Vec<(String, String)>, u32)> {
    use futures::TryStreamExt as _;
    // Owned parts first: a closure over borrowed chunks would make the future non-`Send`
    // across the Python bridge (higher-ranked lifetimes in the stream adapter).
    let parts: Vec<EmbeddingRequest> = items
        .chunks(size.max(1))
        .map(|chunk| {
            let mut part = request.clone();
            part.input = Value::Array(chunk.to_vec());
            part
        })
        .collect();
    let answers: Vec<_> = futures::stream::iter(parts)
        .map(|part| async move { embed_once(call, &part).await })
        .buffered(EMBEDDING_BATCH_CONCURRENCY)
        .try_collect()
        .await?;
    let mut joined: Option<EmbeddingResponse> = None;
    let mut headers = Vec::new();
    let mut retries = 0;
    for (answer, answer_headers, answer_retries) in answers {
        retries = retries.max(answer_retries);
        headers = answer_headers;
        let Some(total) = joined.as_mut() else {
            joined = Some(answer);
            continue;
        };
        let offset = u32::try_from(total.data.len()).unwrap_or(u32::MAX);
        total.data.extend(answer.data.into_iter().map(|mut d| {
            d.index += offset;
            d
        }));
        if let (Some(sum), Some(usage)) = (total.usage.as_mut(), answer.usage) {
            sum.prompt_tokens += usage.prompt_tokens;
            sum.completion_tokens += usage.completion_tokens;
            sum.total_tokens += usage.total_tokens;
        }
    }
    let response = joined.ok_or_else(|| Error::bad_request("input must not be empty"))?;
    Ok((response, headers, retries))
}

/// Prefer the catalog entry of the exact model the upstream reports, when it is known.
/// What `acount_tokens` returns (LiteLLM's `TokenCountResponse`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenCount {
    pub total_tokens: u64,
    pub request_model: String,
    pub model_used: String,
    /// `"<provider>_api"` when the provider's endpoint counted, else `"local_tokenizer"`.
    pub tokenizer_type: String,
    pub original_response: Option<Value>,
}

impl Engine {
    /// `acount_tokens`: the provider's token-counting endpoint when it has one and a key is
    /// available, else (and, as in LiteLLM, when that call fails) the local count.
    ///
    /// # Errors
    /// Malformed messages or tools.
    pub async fn count_tokens(self, params: Map<String, Value>) -> Result<TokenCount> {
        let (mut body, options) = options::split(params)?;
        let request_model = match body.get("model") {
            Some(Value::String(model)) if !model.is_empty() => model.clone(),
            _ => return Err(Error::bad_request("model parameter is required").with_param("model")),
        };
        if let Some(system) = body.remove("system").filter(|s| !s.is_null()) {
            let messages = body
                .entry("messages")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = messages {
                list.insert(0, serde_json::json!({"role": "system", "content": system}));
            }
        }
        body.entry("messages")
            .or_insert_with(|| Value::Array(Vec::new()));
        let request = parse_chat_request(body)?;
        let target = resolve_target(&request_model, &options).ok();
        let model_used = target
            .as_ref()
            .map_or_else(|| request_model.clone(), |t| t.model.clone());
        if let Some(target) = target.filter(|_| !request.messages.is_empty()) {
            let mut upstream = request.clone();
            upstream.model.clone_from(&target.model);
            if let Some(counted) = count_with_provider(&target, &upstream, options.timeouts).await {
                return Ok(TokenCount {
                    total_tokens: counted.0,
                    request_model,
                    model_used,
                    tokenizer_type: format!("{}_api", target.provider_name),
                    original_response: Some(counted.1),
                });
            }
        }
        Ok(TokenCount {
            total_tokens: count_prompt_tokens(&request),
            request_model,
            model_used,
            tokenizer_type: "local_tokenizer".to_owned(),
            original_response: None,
        })
    }
}

/// One call to the provider's token-counting endpoint; `None` when it has none or it failed.
async fn count_with_provider(
    target: &Target,
    request: &ChatRequest,
    timeouts: Timeouts,
) -> Option<(u64, Value)> {
    let mut http_request = target
        .provider
        .count_tokens_request(request, &target.endpoint)?
        .ok()?;
    target
        .provider
        .authorize(&mut http_request, &target.endpoint)
        .await
        .ok()?;
    let call = Call {
        target,
        timeouts,
        num_retries: 0,
        model_for_errors: &request.model,
        stream: false,
    };
    let (bytes, _, _) = call.whole(&http_request).await.ok()?;
    let total = target.provider.count_tokens_response(&bytes).ok()?;
    let original = serde_json::from_slice(&bytes).ok()?;
    Some((total, original))
}

fn response_model_for_cost(requested: &str, reported: &str) -> String {
    if reported.is_empty() {
        requested.to_owned()
    } else {
        reported.to_owned()
    }
}

/// Takes the request by value: it is kept only to count prompt tokens in the rare case the
/// upstream reports no usage.
fn chat_finisher(request: ChatRequest, provider_name: &str, overrides: PriceOverrides) -> Finisher {
    let model = request.model.clone();
    let provider_name = provider_name.to_owned();
    let request_for_count = request;
    Box::new(move |summary: &mut StreamSummary, text: &str| {
        let usage = summary.usage.clone().unwrap_or_else(|| {
            Usage::new(
                count_prompt_tokens(&request_for_count),
                count_completion_tokens(&model, text),
            )
        });
        summary.response_cost = price(&model, &provider_name, &usage, overrides, None);
        summary.usage = Some(usage);
    })
}

fn prompt_text(prompt: &Value) -> String {
    match prompt {
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

fn validate_embedding_input(input: Option<&Value>) -> Result<()> {
    let ok = match input {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => {
            !items.is_empty()
                && (items.iter().all(Value::is_string)
                    || items.iter().all(Value::is_u64)
                    || items
                        .iter()
                        .all(|i| i.as_array().is_some_and(|a| a.iter().all(Value::is_u64))))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::bad_request(
            "input must be a string, a non-empty list of strings, or token id lists",
        )
        .with_param("input"))
    }
}

/// Milliseconds since the Unix epoch, for logging payloads.
#[must_use]
pub fn epoch_seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The current time as Unix seconds (response `created`).
#[must_use]
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Sleep helper shared by mocks.
pub(crate) async fn sleep(duration: Option<Duration>) {
    if let Some(duration) = duration {
        tokio::time::sleep(duration).await;
    }
}

impl Engine {
    /// `image_generation` / `rerank` / `moderation` and their async forms.
    ///
    /// A moderation call without a model goes to OpenAI with no `model` in the body (the API's
    /// default model), as LiteLLM's does.
    ///
    /// # Errors
    /// Every failure, classified.
    pub async fn operation(
        self,
        operation: crate::operations::Operation,
        params: Map<String, Value>,
    ) -> Result<CompletionResult<Value>> {
        use crate::operations::Operation;
        let started = Instant::now();
        let (mut body, mut options) = options::split(params)?;
        operation.validate(&body)?;
        let original_model = match body.get("model") {
            Some(Value::String(model)) if !model.is_empty() => model.clone(),
            None | Some(Value::Null) if operation == Operation::Moderation => {
                options
                    .custom_llm_provider
                    .get_or_insert_with(|| "openai".to_owned());
                String::new()
            }
            None | Some(Value::Null) if operation == Operation::ImageGeneration => {
                // LiteLLM's default, as OpenAI's.
                "dall-e-2".to_owned()
            }
            _ => return Err(Error::bad_request("model is required").with_param("model")),
        };
        let routing_model = if original_model.is_empty() {
            "omni-moderation-latest"
        } else {
            &original_model
        };
        let target = resolve_target(routing_model, &options)?;
        if original_model.is_empty() {
            body.remove("model");
        } else {
            body.insert("model".to_owned(), Value::String(target.model.clone()));
        }
        let call = Call {
            target: &target,
            timeouts: options.timeouts,
            num_retries: options.num_retries,
            model_for_errors: routing_model,
            stream: false,
        };
        let http_request = call
            .authorized(
                target
                    .provider
                    .operation_request(operation, &body, &target.endpoint)
                    .map_err(|e| call.decorate(e, 0))?,
            )
            .await?;
        let (bytes, headers, retries) = call.whole(&http_request).await?;
        let response = target
            .provider
            .operation_response(operation, &bytes, &body)
            .map_err(|e| call.decorate(e, retries))?;
        let mut hidden = hidden(&target, headers, retries, started, &options);
        if operation == Operation::Rerank {
            hidden.response_cost = rerank_cost(&target.model, &target.provider_name, &response);
        }
        Ok(CompletionResult { response, hidden })
    }
}

/// LiteLLM's rerank cost: the catalog's `input_cost_per_query` times the search units the
/// upstream billed (one when it reports none); `None` for a model the catalog does not price.
fn rerank_cost(model: &str, provider: &str, response: &Value) -> Option<f64> {
    let catalog = llmrelay_core::catalog::global();
    let entry = catalog.lookup(model, Some(provider))?;
    let per_query = entry
        .raw
        .get("input_cost_per_query")
        .and_then(llmrelay_core::catalog::decimal_from_json)?;
    let units = response
        .pointer("/meta/billed_units/search_units")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    Some(cost::to_f64(per_query * rust_decimal::Decimal::from(units)))
}
