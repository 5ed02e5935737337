//! The provider trait every upstream implements, and dispatch by provider name.
//!
//! Translation is pure: a provider turns canonical requests into `HttpRequest`s and upstream
//! bytes into canonical responses or chunks, with no I/O, so it is unit-tested on recorded
//! fixtures. The engine does the I/O.

use futures::future::BoxFuture;
use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    TextCompletionRequest, TextCompletionResponse,
};
use llmrelay_core::{Error, Result};
use serde_json::{Map, Value};

use crate::operations::Operation;
use crate::sse::RawEvent;

/// Where and as whom to call.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    pub api_base: String,
    pub api_key: Option<String>,
    pub api_version: Option<String>,
    pub organization: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    /// LiteLLM's `drop_params`: drop parameters the provider does not support instead of
    /// rejecting the call.
    pub drop_params: bool,
    /// Cloud credentials and placement given with the call (`aws_*`, `vertex_*`, `azure_*`).
    pub credentials: Map<String, Value>,
}

/// How a provider frames its streamed responses on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events (`event:` / `data:` lines).
    Sse,
    /// One JSON document per line; each line becomes a `RawEvent` with an empty event name.
    NdJson,
    /// AWS binary event-stream messages (Bedrock); see `aws_eventstream`.
    AwsEventStream,
}

/// A request ready to send: always a POST of a JSON body in this providers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// Whether the request already carries an `Authorization` header (set when it was built
    /// from a ready token, so `authorize` has nothing to exchange).
    #[must_use]
    pub fn is_authorized(&self) -> bool {
        self.headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
    }
}

/// `content-type` and `accept` JSON, the caller's extra headers, then `authorization` when
/// known: the headers of a JSON POST to a provider that authenticates by one header.
#[must_use]
pub fn json_headers(endpoint: &Endpoint, authorization: Option<String>) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(3 + endpoint.extra_headers.len());
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    headers.push(("accept".to_owned(), "application/json".to_owned()));
    headers.extend(endpoint.extra_headers.iter().cloned());
    if let Some(value) = authorization {
        headers.push(("authorization".to_owned(), value));
    }
    headers
}

/// Turns framed stream events into canonical chunks.
pub trait ChunkDecoder<T>: Send {
    /// Decode one event, appending zero or more chunks. Returns `true` on the terminal event.
    ///
    /// # Errors
    /// A malformed event, or an error event sent by the upstream mid-stream.
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<T>) -> Result<bool>;
}

/// One upstream API family.
pub trait Provider: Send + Sync {
    /// The provider name as LiteLLM spells it (`custom_llm_provider`).
    fn name(&self) -> &str;

    /// Base URL used when neither the call nor the environment gives one.
    fn default_api_base(&self) -> Option<&str>;

    /// Environment variables that hold the API key, first wins.
    fn api_key_env(&self) -> &[&'static str];

    /// Environment variables that hold the API base, first wins.
    fn api_base_env(&self) -> &[&'static str];

    /// Whether a call without any API key is an error before sending.
    fn requires_api_key(&self) -> bool;

    /// A base URL computed from the call's credentials (a cloud region or location), used when
    /// neither the call nor the environment names one, before `default_api_base`.
    fn derived_api_base(&self, credentials: &Map<String, Value>) -> Option<String> {
        let _ = credentials;
        None
    }

    /// Whether an `image_url` part's URL must be downloaded and sent inline (the engine fetches
    /// it before translation; see `images`).
    fn inlines_image_url(&self, url: &str) -> bool {
        let _ = url;
        false
    }

    /// How streamed responses are framed.
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    /// Authenticate a built request just before it is sent (request signing, OAuth tokens).
    /// The default sends it as built.
    ///
    /// # Errors
    /// Missing or unusable credentials, or a failed token exchange.
    fn authorize<'a>(
        &'a self,
        request: &'a mut HttpRequest,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<()>> {
        let _ = (request, endpoint);
        Box::pin(async { Ok(()) })
    }

    /// # Errors
    /// A request this provider cannot express.
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest>;

    /// # Errors
    /// A body that is not a valid response.
    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse>;

    /// A fresh decoder for one stream of this request. Decoders emit a final usage-only chunk
    /// (`choices: []`) whenever the upstream reports usage; the engine hides it from callers
    /// that did not ask for `stream_options.include_usage`.
    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>>;

    /// # Errors
    /// When the provider has no legacy completions endpoint.
    fn text_completion_request(
        &self,
        request: &TextCompletionRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let _ = (request, endpoint);
        Err(Error::bad_request(format!(
            "{} does not support text_completion",
            self.name()
        )))
    }

    /// # Errors
    /// A body that is not a valid response.
    fn text_completion_response(&self, body: &[u8]) -> Result<TextCompletionResponse> {
        let _ = body;
        Err(Error::bad_request(format!(
            "{} does not support text_completion",
            self.name()
        )))
    }

    /// A fresh decoder for a legacy completion stream; the default is for providers without
    /// `/completions` (their `text_completion_request` refuses first).
    fn text_completion_decoder(&self) -> Box<dyn ChunkDecoder<TextCompletionResponse>> {
        Box::new(NoTextCompletions(self.name().to_owned()))
    }

    /// # Errors
    /// When the provider has no embeddings endpoint.
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let _ = (request, endpoint);
        Err(Error::bad_request(format!(
            "{} does not support embeddings",
            self.name()
        )))
    }

    /// # Errors
    /// A body that is not a valid response.
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        let _ = body;
        Err(Error::bad_request(format!(
            "{} does not support embeddings",
            self.name()
        )))
    }

    /// The request of an extra endpoint (image generation, rerank, moderation).
    ///
    /// # Errors
    /// When the provider does not serve it, or cannot express the request.
    fn operation_request(
        &self,
        operation: Operation,
        body: &Map<String, Value>,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let _ = (body, endpoint);
        Err(crate::operations::unsupported(self.name(), operation))
    }

    /// The canonical JSON answer of an extra endpoint; `request` is the body it answers.
    ///
    /// # Errors
    /// A body that is not a valid response.
    fn operation_response(
        &self,
        operation: Operation,
        body: &[u8],
        request: &Map<String, Value>,
    ) -> Result<Value> {
        let _ = (body, request);
        Err(crate::operations::unsupported(self.name(), operation))
    }

    /// Classify an upstream error response.
    fn error(&self, status: u16, body: &[u8]) -> Error;

    /// A native Responses API request (`POST /responses`) when the provider has one; `None`
    /// bridges `responses()` through chat completions.
    fn responses_request(
        &self,
        body: &Map<String, Value>,
        endpoint: &Endpoint,
    ) -> Option<Result<HttpRequest>> {
        let _ = (body, endpoint);
        None
    }

    /// The provider's token-counting endpoint for a chat request's prompt, when it has one
    /// (`acount_tokens`); `None` means "count locally".
    fn count_tokens_request(
        &self,
        request: &ChatRequest,
        endpoint: &Endpoint,
    ) -> Option<Result<HttpRequest>> {
        let _ = (request, endpoint);
        None
    }

    /// The input-token total of a token-counting response.
    ///
    /// # Errors
    /// A body that is not a valid token-counting response.
    fn count_tokens_response(&self, body: &[u8]) -> Result<u64> {
        let _ = body;
        Err(Error::bad_request(format!(
            "{} has no token counting endpoint",
            self.name()
        )))
    }

    /// Classify an upstream error response with all its headers (AWS names the exception in
    /// `x-amzn-ErrorType`). The default ignores the headers.
    fn classify_error(&self, status: u16, headers: &[(String, String)], body: &[u8]) -> Error {
        let _ = headers;
        self.error(status, body)
    }

    /// How many inputs one embedding request may carry (Amazon Titan takes one); the engine
    /// splits larger calls and joins the answers in order. `None`: no limit.
    fn embedding_batch_size(&self, model: &str) -> Option<usize> {
        let _ = model;
        None
    }

    /// The OpenAI parameters this provider accepts for a model; `None` means all of them
    /// (OpenAI-compatible servers).
    fn supported_openai_params(&self, model: &str) -> Option<Vec<&'static str>> {
        let _ = model;
        None
    }

    /// The provider's rate-limit headers under OpenAI's `x-ratelimit-*` names (LiteLLM exposes
    /// them so in `_hidden_params["additional_headers"]`).
    fn rate_limit_headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        let _ = headers;
        Vec::new()
    }
}

/// The decoder of a provider without legacy completions.
struct NoTextCompletions(String);

impl ChunkDecoder<TextCompletionResponse> for NoTextCompletions {
    fn decode(
        &mut self,
        _event: &RawEvent,
        _out: &mut Vec<TextCompletionResponse>,
    ) -> Result<bool> {
        Err(Error::bad_request(format!(
            "{} does not support text_completion",
            self.0
        )))
    }
}
