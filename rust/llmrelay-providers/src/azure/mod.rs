//! Azure OpenAI (`azure/<deployment>`) and Azure AI Foundry (`azure_ai/<model>`).
//!
//! Azure OpenAI speaks OpenAI's wire format on per-deployment URLs,
//! `{api_base}/openai/deployments/{deployment}/{operation}?api-version=…`, authenticated with an
//! `api-key` header or a Microsoft Entra ID token (`Authorization: Bearer`)
//! (<https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference>). Azure AI Foundry
//! model endpoints are OpenAI-compatible `/chat/completions` on the given base
//! (<https://learn.microsoft.com/en-us/azure/ai-foundry/model-inference/reference/reference-model-inference-chat-completions>).

mod error;

use serde_json::{Map, Value};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    TextCompletionRequest, TextCompletionResponse,
};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::openai::{
    ChatDecoder, TextCompletionDecoder, chat_body, embedding_body, operations, parse_chat,
    parse_embedding, parse_text_completion, text_completion_body,
};
use crate::operations::Operation;
use crate::params;
use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider};
use crate::sse::RawEvent;

pub use error::parse_error;

/// The API version LiteLLM 1.104 sends when neither the call nor `AZURE_API_VERSION` names one
/// (`litellm.AZURE_DEFAULT_API_VERSION`).
pub const DEFAULT_API_VERSION: &str = "2025-02-01-preview";

/// LiteLLM's supported OpenAI parameters for Azure OpenAI chat deployments, as
/// `get_supported_openai_params` returns them (`tools` and `tool_choice` twice included).
pub const AZURE_PARAMS: &[&str] = &[
    "temperature",
    "n",
    "stream",
    "stream_options",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "tools",
    "tool_choice",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "user",
    "function_call",
    "functions",
    "tools",
    "tool_choice",
    "top_p",
    "logprobs",
    "top_logprobs",
    "response_format",
    "seed",
    "extra_headers",
    "parallel_tool_calls",
    "prediction",
    "modalities",
    "audio",
    "web_search_options",
    "prompt_cache_key",
    "store",
];

/// LiteLLM's list for Azure AI Foundry models (the generic list without `tool_choice`).
pub const AZURE_AI_PARAMS: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "n",
    "presence_penalty",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "function_call",
    "functions",
    "max_retries",
    "extra_headers",
    "parallel_tool_calls",
    "audio",
    "web_search_options",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "store",
    "response_format",
];

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The Entra ID token of a call: `azure_ad_token=` or `AZURE_AD_TOKEN`.
fn entra_token(endpoint: &Endpoint) -> Option<String> {
    endpoint
        .credentials
        .get("azure_ad_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .or_else(|| env("AZURE_AD_TOKEN"))
}

/// `api-key` when a key is given, else the Entra token as a bearer token (LiteLLM's order).
fn auth_header(endpoint: &Endpoint, key_header: &str) -> Result<(String, String)> {
    if let Some(key) = endpoint.api_key.as_deref().filter(|k| !k.is_empty()) {
        return Ok(if key_header == "api-key" {
            ("api-key".to_owned(), key.to_owned())
        } else {
            ("authorization".to_owned(), format!("Bearer {key}"))
        });
    }
    if let Some(token) = entra_token(endpoint) {
        let token = token.strip_prefix("Bearer ").unwrap_or(&token).to_owned();
        return Ok(("authorization".to_owned(), format!("Bearer {token}")));
    }
    Err(Error::new(
        ErrorKind::Authentication,
        "Missing Azure credentials: pass api_key= (or set AZURE_OPENAI_API_KEY / AZURE_API_KEY) \
         or azure_ad_token= (or set AZURE_AD_TOKEN)",
    ))
}

fn request(
    url: String,
    endpoint: &Endpoint,
    key_header: &str,
    body: Vec<u8>,
) -> Result<HttpRequest> {
    let mut headers = Vec::with_capacity(2 + endpoint.extra_headers.len());
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    headers.push(auth_header(endpoint, key_header)?);
    headers.extend(endpoint.extra_headers.iter().cloned());
    Ok(HttpRequest { url, headers, body })
}

/// The API version of a call: the call's, else `AZURE_API_VERSION`, else LiteLLM's default.
#[must_use]
pub fn api_version(endpoint: &Endpoint) -> String {
    endpoint
        .api_version
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| env("AZURE_API_VERSION"))
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned())
}

/// `{base}/openai/deployments/{deployment}{path}?api-version={version}`; a base that already
/// ends in `/openai` is not doubled.
#[must_use]
pub fn deployment_url(endpoint: &Endpoint, deployment: &str, path: &str) -> String {
    let base = endpoint.api_base.trim_end_matches('/');
    let base = base.strip_suffix("/openai").unwrap_or(base);
    format!(
        "{base}/openai/deployments/{deployment}{path}?api-version={}",
        api_version(endpoint)
    )
}

/// Azure streams open with a chunk that only carries `prompt_filter_results` (no choices, no
/// usage); it is not part of the answer.
#[derive(Debug, Default)]
pub struct AzureChatDecoder {
    inner: ChatDecoder,
}

impl ChunkDecoder<ChatChunk> for AzureChatDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        let start = out.len();
        let done = self.inner.decode(event, out)?;
        let mut index = start;
        while index < out.len() {
            if out[index].choices.is_empty() && out[index].usage.is_none() {
                out.remove(index);
            } else {
                index += 1;
            }
        }
        Ok(done)
    }
}

/// Azure OpenAI.
#[derive(Debug, Clone, Copy, Default)]
pub struct Azure;

/// The Chat Completions body with unsupported parameters checked (Azure and Azure AI).
fn checked_chat_body(
    request: &ChatRequest,
    supported: &[&str],
    provider: &str,
    drop_params: bool,
) -> Result<Vec<u8>> {
    let bytes = chat_body(request)?;
    let mut body: Map<String, Value> = serde_json::from_slice(&bytes)?;
    if params::unsupported_in(&body, supported).is_empty() {
        return Ok(bytes);
    }
    params::enforce(&mut body, supported, provider, &request.model, drop_params)?;
    Ok(serde_json::to_vec(&body)?)
}

impl Provider for Azure {
    fn name(&self) -> &str {
        "azure"
    }
    fn default_api_base(&self) -> Option<&str> {
        None
    }
    fn api_key_env(&self) -> &[&'static str] {
        &["AZURE_OPENAI_API_KEY", "AZURE_API_KEY"]
    }
    fn api_base_env(&self) -> &[&'static str] {
        &["AZURE_API_BASE"]
    }
    fn requires_api_key(&self) -> bool {
        // An Entra token is the alternative; the request builder reports when both are missing.
        false
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        let body = checked_chat_body(request, AZURE_PARAMS, "azure", endpoint.drop_params)?;
        let url = deployment_url(endpoint, &request.model, "/chat/completions");
        self::request(url, endpoint, "api-key", body)
    }
    fn chat_response(&self, body: &[u8], _request: &ChatRequest) -> Result<ChatResponse> {
        parse_chat(body)
    }
    fn chat_decoder(&self, _request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(AzureChatDecoder::default())
    }
    fn text_completion_request(
        &self,
        request: &TextCompletionRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let url = deployment_url(endpoint, &request.model, "/completions");
        self::request(url, endpoint, "api-key", text_completion_body(request)?)
    }
    fn text_completion_response(&self, body: &[u8]) -> Result<TextCompletionResponse> {
        parse_text_completion(body)
    }
    fn text_completion_decoder(&self) -> Box<dyn ChunkDecoder<TextCompletionResponse>> {
        Box::new(TextCompletionDecoder)
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let url = deployment_url(endpoint, &request.model, "/embeddings");
        self::request(url, endpoint, "api-key", embedding_body(request)?)
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        parse_embedding(body)
    }
    fn operation_request(
        &self,
        operation: Operation,
        body: &Map<String, Value>,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let path = match operation {
            Operation::ImageGeneration => "/images/generations",
            Operation::Transcription => "/audio/transcriptions",
            Operation::Speech => "/audio/speech",
            _ => return Err(crate::operations::unsupported("azure", operation)),
        };
        let deployment = body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let url = deployment_url(endpoint, deployment, path);
        let (bytes, content_type) = operations::encoded(operation, body)?;
        Ok(operations::with_content_type(
            self::request(url, endpoint, "api-key", bytes)?,
            content_type,
        ))
    }
    fn operation_response(
        &self,
        operation: Operation,
        body: &[u8],
        request: &Map<String, Value>,
    ) -> Result<Value> {
        operations::answer(operation, body, request)
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(AZURE_PARAMS.to_vec())
    }
}

/// Azure AI Foundry model inference (`azure_ai/…`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AzureAi;

impl AzureAi {
    /// `api-key` for Azure OpenAI hosts (`*.openai.azure.com`), a bearer token elsewhere, as
    /// LiteLLM chooses.
    fn key_header(endpoint: &Endpoint) -> &'static str {
        let host = endpoint
            .api_base
            .split_once("://")
            .map_or(endpoint.api_base.as_str(), |(_, rest)| rest)
            .split(['/', ':'])
            .next()
            .unwrap_or_default();
        if host.ends_with(".openai.azure.com") {
            "api-key"
        } else {
            "authorization"
        }
    }

    /// `…/models/chat/completions` on `services.ai.azure.com` bases, else `…/chat/completions`;
    /// `api-version` is added when the call names one.
    fn url(endpoint: &Endpoint, path: &str) -> String {
        let (base, query) = endpoint
            .api_base
            .split_once('?')
            .map_or((endpoint.api_base.as_str(), None), |(b, q)| (b, Some(q)));
        let base = base.trim_end_matches('/');
        let path = if base.contains("services.ai.azure.com") && !base.ends_with("/models") {
            format!("/models{path}")
        } else {
            path.to_owned()
        };
        let mut url = format!("{base}{path}");
        let mut query: Vec<String> = query.map(|q| vec![q.to_owned()]).unwrap_or_default();
        if let Some(version) = endpoint.api_version.as_deref().filter(|v| !v.is_empty()) {
            if !query.iter().any(|q| q.contains("api-version=")) {
                query.push(format!("api-version={version}"));
            }
        }
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        url
    }
}

impl Provider for AzureAi {
    fn name(&self) -> &str {
        "azure_ai"
    }
    fn default_api_base(&self) -> Option<&str> {
        None
    }
    fn api_key_env(&self) -> &[&'static str] {
        &["AZURE_AI_API_KEY"]
    }
    fn api_base_env(&self) -> &[&'static str] {
        &["AZURE_AI_API_BASE"]
    }
    fn requires_api_key(&self) -> bool {
        false
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        let body = checked_chat_body(request, AZURE_AI_PARAMS, "azure_ai", endpoint.drop_params)?;
        let url = Self::url(endpoint, "/chat/completions");
        self::request(url, endpoint, Self::key_header(endpoint), body)
    }
    fn chat_response(&self, body: &[u8], _request: &ChatRequest) -> Result<ChatResponse> {
        parse_chat(body)
    }
    fn chat_decoder(&self, _request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(AzureChatDecoder::default())
    }
    fn text_completion_decoder(&self) -> Box<dyn ChunkDecoder<TextCompletionResponse>> {
        Box::new(TextCompletionDecoder)
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let url = Self::url(endpoint, "/embeddings");
        self::request(
            url,
            endpoint,
            Self::key_header(endpoint),
            embedding_body(request)?,
        )
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        parse_embedding(body)
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(AZURE_AI_PARAMS.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CONTENT_FILTER: &str =
        include_str!("../../tests/fixtures/azure/chat_content_filter.json");
    const STREAM: &str = include_str!("../../tests/fixtures/azure/stream_prompt_filter.sse");

    fn endpoint(key: Option<&str>) -> Endpoint {
        Endpoint {
            api_base: "https://my-resource.openai.azure.com/".to_owned(),
            api_key: key.map(str::to_owned),
            ..Endpoint::default()
        }
    }

    fn chat(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn deployment_urls_and_api_key() {
        let mut e = endpoint(Some("k1"));
        e.api_version = Some("2024-10-21".to_owned());
        let request = Azure
            .chat_request(
                &chat(
                    json!({"model": "gpt4o-prod", "messages": [{"role": "user", "content": "hi"}]}),
                ),
                &e,
            )
            .unwrap();
        assert_eq!(
            request.url,
            "https://my-resource.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(header(&request, "api-key"), Some("k1"));
        assert_eq!(header(&request, "authorization"), None);
        e.api_version = None;
        e.api_base = "https://my-resource.openai.azure.com/openai".to_owned();
        assert!(
            deployment_url(&e, "emb", "/embeddings").ends_with(
                ".azure.com/openai/deployments/emb/embeddings?api-version=2025-02-01-preview"
            ) || std::env::var("AZURE_API_VERSION").is_ok()
        );
    }

    #[test]
    fn entra_token_is_a_bearer() {
        let mut e = endpoint(None);
        e.credentials
            .insert("azure_ad_token".to_owned(), json!("eyJ0eXAi"));
        let (name, value) = auth_header(&e, "api-key").unwrap();
        assert_eq!(
            (name.as_str(), value.as_str()),
            ("authorization", "Bearer eyJ0eXAi")
        );
        if std::env::var("AZURE_AD_TOKEN").is_err() {
            let error = auth_header(&endpoint(None), "api-key").unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Authentication);
        }
    }

    #[test]
    fn unsupported_params_are_checked() {
        let request = chat(
            json!({"model": "d", "messages": [{"role": "user", "content": "hi"}],
                                  "reasoning_effort": "low"}),
        );
        let error = Azure
            .chat_request(&request, &endpoint(Some("k")))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnsupportedParams);
        let mut e = endpoint(Some("k"));
        e.drop_params = true;
        let sent = Azure.chat_request(&request, &e).unwrap();
        let body: Value = serde_json::from_slice(&sent.body).unwrap();
        assert!(body.get("reasoning_effort").is_none());
    }

    #[test]
    fn content_filter_finish_reason_is_kept() {
        let response = parse_chat(CONTENT_FILTER.as_bytes()).unwrap();
        assert_eq!(
            response.choices[0].finish_reason.as_deref(),
            Some("content_filter")
        );
        assert!(response.extra.contains_key("prompt_filter_results"));
    }

    #[test]
    fn stream_skips_the_prompt_filter_chunk() {
        let mut decoder = AzureChatDecoder::default();
        let mut out = Vec::new();
        let mut done = false;
        for block in STREAM.split("\n\n") {
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            if data.is_empty() {
                continue;
            }
            done = decoder
                .decode(
                    &RawEvent {
                        event: String::new(),
                        data,
                    },
                    &mut out,
                )
                .unwrap();
        }
        assert!(done);
        assert_eq!(out.len(), 3);
        assert_eq!(out[1].choices[0].delta.content.as_deref(), Some("Hello"));
        assert_eq!(out[2].choices[0].finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn azure_ai_urls_and_auth() {
        let mut e = Endpoint {
            api_base: "https://my-project.services.ai.azure.com".to_owned(),
            api_key: Some("k".to_owned()),
            ..Endpoint::default()
        };
        e.api_version = Some("2024-05-01-preview".to_owned());
        let request = AzureAi
            .chat_request(
                &chat(json!({"model": "Meta-Llama-3-70B", "messages": [{"role": "user", "content": "hi"}]})),
                &e,
            )
            .unwrap();
        assert_eq!(
            request.url,
            "https://my-project.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview"
        );
        assert_eq!(header(&request, "authorization"), Some("Bearer k"));
        e.api_base = "https://x.openai.azure.com/openai/v1".to_owned();
        e.api_version = None;
        let request = AzureAi
            .chat_request(
                &chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})),
                &e,
            )
            .unwrap();
        assert_eq!(
            request.url,
            "https://x.openai.azure.com/openai/v1/chat/completions"
        );
        assert_eq!(header(&request, "api-key"), Some("k"));
    }
}
