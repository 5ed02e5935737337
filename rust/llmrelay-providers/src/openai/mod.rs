//! OpenAI and every OpenAI-compatible server: Chat Completions, legacy Completions, Embeddings.
//!
//! Wire format: <https://platform.openai.com/docs/api-reference/chat>. The official API and the
//! compatible servers (`api_base` + `openai/` or `hosted_vllm/` …) share this one implementation;
//! what differs between them is data (`OpenAiCompatible` rows).

pub mod audio;
mod error;
mod instruct;
pub mod operations;
mod request;
mod response;
mod stream;

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    TextCompletionRequest, TextCompletionResponse,
};
use llmrelay_core::{Error, Result};

use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider};

pub use error::parse_error;
pub use instruct::OpenAiInstruct;
pub use request::{chat_body, embedding_body, text_completion_body};
pub use response::{map_finish_reason, parse_chat, parse_embedding, parse_text_completion};
pub use stream::{ChatDecoder, TextCompletionDecoder};

/// The official OpenAI API.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAi;

pub use crate::compatible::OpenAiCompatible;

const OPENAI_BASE: &str = "https://api.openai.com/v1";

/// LiteLLM sends this key to OpenAI-compatible servers when none is configured (the OpenAI SDK
/// it uses always sends one; servers started without auth ignore it).
const PLACEHOLDER_KEY: &str = "fake-api-key";

pub(crate) fn post(endpoint: &Endpoint, path: &str, body: Vec<u8>) -> HttpRequest {
    let base = endpoint.api_base.trim_end_matches('/');
    let mut headers = Vec::with_capacity(3 + endpoint.extra_headers.len());
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    let key = endpoint
        .api_key
        .as_deref()
        .filter(|k| !k.is_empty())
        .unwrap_or(PLACEHOLDER_KEY);
    headers.push(("authorization".to_owned(), format!("Bearer {key}")));
    if let Some(organization) = endpoint.organization.as_deref() {
        headers.push(("openai-organization".to_owned(), organization.to_owned()));
    }
    headers.extend(endpoint.extra_headers.iter().cloned());
    HttpRequest {
        url: format!("{base}{path}"),
        headers,
        body,
    }
}

macro_rules! openai_family {
    ($ty:ty, $name:expr, $base:expr, $key_env:expr, $base_env:expr, $key_required:expr) => {
        impl Provider for $ty {
            fn name(&self) -> &str {
                $name(self)
            }
            fn default_api_base(&self) -> Option<&str> {
                $base(self)
            }
            fn api_key_env(&self) -> &[&'static str] {
                $key_env(self)
            }
            fn api_base_env(&self) -> &[&'static str] {
                $base_env(self)
            }
            fn requires_api_key(&self) -> bool {
                $key_required(self)
            }
            fn chat_request(
                &self,
                request: &ChatRequest,
                endpoint: &Endpoint,
            ) -> Result<HttpRequest> {
                Ok(post(endpoint, "/chat/completions", chat_body(request)?))
            }
            fn chat_response(&self, body: &[u8], _request: &ChatRequest) -> Result<ChatResponse> {
                parse_chat(body)
            }
            fn responses_request(
                &self,
                body: &serde_json::Map<String, serde_json::Value>,
                endpoint: &Endpoint,
            ) -> Option<Result<HttpRequest>> {
                // Only the official API is sure to have `/responses`; compatible servers are
                // bridged through chat completions, as LiteLLM does.
                (self.name() == "openai").then(|| {
                    serde_json::to_vec(body)
                        .map(|bytes| post(endpoint, "/responses", bytes))
                        .map_err(Into::into)
                })
            }
            fn chat_decoder(&self, _request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
                Box::new(ChatDecoder::default())
            }
            fn text_completion_request(
                &self,
                request: &TextCompletionRequest,
                endpoint: &Endpoint,
            ) -> Result<HttpRequest> {
                Ok(post(
                    endpoint,
                    "/completions",
                    text_completion_body(request)?,
                ))
            }
            fn text_completion_response(&self, body: &[u8]) -> Result<TextCompletionResponse> {
                parse_text_completion(body)
            }
            fn text_completion_decoder(&self) -> Box<dyn ChunkDecoder<TextCompletionResponse>> {
                Box::new(TextCompletionDecoder::default())
            }
            fn embedding_request(
                &self,
                request: &EmbeddingRequest,
                endpoint: &Endpoint,
            ) -> Result<HttpRequest> {
                Ok(post(endpoint, "/embeddings", embedding_body(request)?))
            }
            fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
                parse_embedding(body)
            }
            fn error(&self, status: u16, body: &[u8]) -> Error {
                parse_error(status, body)
            }
            fn operation_request(
                &self,
                operation: crate::operations::Operation,
                body: &serde_json::Map<String, serde_json::Value>,
                endpoint: &Endpoint,
            ) -> Result<HttpRequest> {
                let path = operations::path(operation)
                    .ok_or_else(|| crate::operations::unsupported(self.name(), operation))?;
                let (bytes, content_type) = operations::encoded(operation, body)?;
                Ok(operations::with_content_type(
                    post(endpoint, path, bytes),
                    content_type,
                ))
            }
            fn operation_response(
                &self,
                operation: crate::operations::Operation,
                body: &[u8],
                request: &serde_json::Map<String, serde_json::Value>,
            ) -> Result<serde_json::Value> {
                operations::answer(operation, body, request)
            }
        }
    };
}

openai_family!(
    OpenAi,
    |_: &OpenAi| "openai",
    |_: &OpenAi| Some(OPENAI_BASE),
    |_: &OpenAi| &["OPENAI_API_KEY"][..],
    |_: &OpenAi| &["OPENAI_BASE_URL", "OPENAI_API_BASE"][..],
    |_: &OpenAi| true
);
