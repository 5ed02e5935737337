//! Cohere v2 (`cohere/…`, `cohere_chat/…`): chat (`/v2/chat`), embed (`/v2/embed`), rerank
//! (`/v2/rerank`), bearer-token auth (`COHERE_API_KEY` / `CO_API_KEY`).
//!
//! As in LiteLLM, an `api_base` that already ends in the endpoint path is used as given; any
//! other base gets the path appended (default base `https://api.cohere.com`).

mod request;
mod response;
mod stream;

use serde_json::{Map, Value};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    TextCompletionResponse,
};
use llmrelay_core::{Error, Result};

use crate::operations::Operation;
use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider};

pub use request::{COHERE_PARAMS, DEFAULT_INPUT_TYPE, chat_body, embed_body, rerank_body};
pub use response::{parse_chat, parse_embed, parse_error, parse_rerank};
pub use stream::CohereChatDecoder;

const DEFAULT_BASE: &str = "https://api.cohere.com";

/// Cohere under one of its two LiteLLM names (both use the v2 API).
#[derive(Debug, Clone, Copy)]
pub struct Cohere {
    pub name: &'static str,
}

/// `base` + `path`, unless `base` already ends with a Cohere endpoint path.
fn url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with(path) {
        return base.to_owned();
    }
    let root = [
        "/v2/chat",
        "/v2/embed",
        "/v2/rerank",
        "/v1/chat",
        "/v1/embed",
        "/v1/rerank",
    ]
    .iter()
    .find_map(|suffix| base.strip_suffix(suffix))
    .unwrap_or(base);
    let root = root
        .strip_suffix("/v2")
        .or_else(|| root.strip_suffix("/v1"))
        .unwrap_or(root);
    format!("{root}{path}")
}

fn post(endpoint: &Endpoint, path: &str, body: Vec<u8>) -> HttpRequest {
    let mut headers = Vec::with_capacity(3 + endpoint.extra_headers.len());
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    headers.push(("accept".to_owned(), "application/json".to_owned()));
    if let Some(key) = endpoint.api_key.as_deref().filter(|k| !k.is_empty()) {
        headers.push(("authorization".to_owned(), format!("Bearer {key}")));
    }
    headers.extend(endpoint.extra_headers.iter().cloned());
    HttpRequest {
        url: url(&endpoint.api_base, path),
        headers,
        body,
    }
}

impl Provider for Cohere {
    fn name(&self) -> &str {
        self.name
    }
    fn default_api_base(&self) -> Option<&str> {
        Some(DEFAULT_BASE)
    }
    fn api_key_env(&self) -> &[&'static str] {
        &["COHERE_API_KEY", "CO_API_KEY"]
    }
    fn api_base_env(&self) -> &[&'static str] {
        &["COHERE_API_BASE"]
    }
    fn requires_api_key(&self) -> bool {
        true
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        Ok(post(
            endpoint,
            "/v2/chat",
            chat_body(request, self.name, endpoint.drop_params)?,
        ))
    }
    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        parse_chat(body, &request.model)
    }
    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(CohereChatDecoder::new(&request.model))
    }
    fn text_completion_decoder(&self) -> Box<dyn ChunkDecoder<TextCompletionResponse>> {
        Box::new(crate::openai::TextCompletionDecoder)
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        Ok(post(endpoint, "/v2/embed", embed_body(request)?))
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        let model = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("model").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        parse_embed(body, &model)
    }
    fn operation_request(
        &self,
        operation: Operation,
        body: &Map<String, Value>,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        match operation {
            Operation::Rerank => Ok(post(endpoint, "/v2/rerank", rerank_body(body)?)),
            other => Err(crate::operations::unsupported(self.name, other)),
        }
    }
    fn operation_response(
        &self,
        operation: Operation,
        body: &[u8],
        request: &Map<String, Value>,
    ) -> Result<Value> {
        match operation {
            Operation::Rerank => parse_rerank(body, request),
            other => Err(crate::operations::unsupported(self.name, other)),
        }
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(COHERE_PARAMS.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_litellm_base_rules() {
        assert_eq!(
            url("https://api.cohere.com", "/v2/chat"),
            "https://api.cohere.com/v2/chat"
        );
        assert_eq!(
            url("https://api.cohere.com/v2/chat", "/v2/chat"),
            "https://api.cohere.com/v2/chat"
        );
        assert_eq!(
            url("https://api.cohere.com/v2/chat", "/v2/rerank"),
            "https://api.cohere.com/v2/rerank"
        );
        assert_eq!(
            url("http://127.0.0.1:9/v2/", "/v2/embed"),
            "http://127.0.0.1:9/v2/embed"
        );
    }
}
