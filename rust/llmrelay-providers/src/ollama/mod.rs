//! Ollama's native API: `ollama_chat/…` → `/api/chat`, `ollama/…` → `/api/generate`,
//! embeddings → `/api/embed`; streams are NDJSON.
//!
//! Wire format: <https://github.com/ollama/ollama/blob/main/docs/api.md>. No key is needed for
//! a local server; `OLLAMA_API_KEY` (or `api_key=`) is sent as a bearer token for hosted ones.

mod request;
mod response;
mod stream;

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    TextCompletionRequest, TextCompletionResponse,
};
use llmrelay_core::{Error, Result};

use crate::provider::{ChunkDecoder, Endpoint, Framing, HttpRequest, Provider};

pub use request::{
    OLLAMA_CHAT_PARAMS, OLLAMA_GENERATE_PARAMS, chat_body, completion_body, embed_body,
    generate_body,
};
pub use response::{
    parse_chat, parse_embed, parse_error, parse_generate_chat, parse_generate_text,
};
pub use stream::{Api, OllamaChatDecoder, OllamaTextDecoder};

const DEFAULT_BASE: &str = "http://localhost:11434";

/// `ollama/` (generate API) or `ollama_chat/` (chat API).
#[derive(Debug, Clone, Copy)]
pub struct Ollama {
    pub api: Api,
}

fn post(endpoint: &Endpoint, path: &str, body: Vec<u8>) -> HttpRequest {
    let base = endpoint.api_base.trim_end_matches('/');
    let mut headers = Vec::with_capacity(2 + endpoint.extra_headers.len());
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    if let Some(key) = endpoint.api_key.as_deref().filter(|k| !k.is_empty()) {
        headers.push(("authorization".to_owned(), format!("Bearer {key}")));
    }
    headers.extend(endpoint.extra_headers.iter().cloned());
    HttpRequest {
        url: format!("{base}{path}"),
        headers,
        body,
    }
}

impl Provider for Ollama {
    fn name(&self) -> &str {
        match self.api {
            Api::Chat => "ollama_chat",
            Api::Generate => "ollama",
        }
    }
    fn default_api_base(&self) -> Option<&str> {
        Some(DEFAULT_BASE)
    }
    fn api_key_env(&self) -> &[&'static str] {
        &["OLLAMA_API_KEY"]
    }
    fn api_base_env(&self) -> &[&'static str] {
        &["OLLAMA_API_BASE"]
    }
    fn requires_api_key(&self) -> bool {
        false
    }
    fn framing(&self) -> Framing {
        Framing::NdJson
    }
    /// Ollama takes images as base64 only: the engine downloads links first, as LiteLLM does.
    fn inlines_image_url(&self, url: &str) -> bool {
        url.starts_with("http://") || url.starts_with("https://")
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        Ok(match self.api {
            Api::Chat => post(
                endpoint,
                "/api/chat",
                chat_body(request, endpoint.drop_params)?,
            ),
            Api::Generate => post(
                endpoint,
                "/api/generate",
                generate_body(request, endpoint.drop_params)?,
            ),
        })
    }
    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        match self.api {
            Api::Chat => parse_chat(body, &request.model),
            Api::Generate => parse_generate_chat(body, &request.model),
        }
    }
    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(OllamaChatDecoder::new(self.api, &request.model))
    }
    fn text_completion_request(
        &self,
        request: &TextCompletionRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        Ok(post(endpoint, "/api/generate", completion_body(request)?))
    }
    fn text_completion_response(&self, body: &[u8]) -> Result<TextCompletionResponse> {
        let model = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("model").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_default();
        parse_generate_text(body, &model)
    }
    fn text_completion_decoder(&self) -> Box<dyn ChunkDecoder<TextCompletionResponse>> {
        Box::new(OllamaTextDecoder::default())
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        Ok(post(endpoint, "/api/embed", embed_body(request)?))
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        let model = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("model").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_default();
        parse_embed(body, &model)
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(match self.api {
            Api::Chat => OLLAMA_CHAT_PARAMS.to_vec(),
            Api::Generate => OLLAMA_GENERATE_PARAMS.to_vec(),
        })
    }
}
