//! Hugging Face (`huggingface/…`): the Inference Providers router and dedicated endpoints.
//!
//! Chat goes to an OpenAI-compatible Chat Completions API: the router
//! (`https://router.huggingface.co/v1/chat/completions`,
//! <https://huggingface.co/docs/inference-providers/tasks/chat-completion>) or, with
//! `api_base`, a dedicated TGI / Inference Endpoint's Messages API (`{api_base}/v1/chat/completions`,
//! <https://huggingface.co/docs/text-generation-inference/messages_api>). On the router,
//! `huggingface/<provider>/<org>/<model>` is sent as `<org>/<model>:<provider>`, the router's own
//! provider-selection syntax (LiteLLM instead looks the provider's model id up on the Hub first).
//! Embeddings use the feature-extraction task
//! (`{router}/hf-inference/models/{model}/pipeline/feature-extraction`, `{"inputs": [...]}`,
//! <https://huggingface.co/docs/inference-providers/tasks/feature-extraction>), or `api_base`
//! as given.

use serde_json::{Map, Value, json};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
    TextCompletionResponse, Usage,
};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::compatible::OPENAI_LIKE_PARAMS;
use crate::openai::{ChatDecoder, TextCompletionDecoder, chat_body, parse_chat};
use crate::params;
use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider};

/// The Inference Providers router.
pub const ROUTER: &str = "https://router.huggingface.co";

/// Hugging Face.
#[derive(Debug, Clone, Copy, Default)]
pub struct HuggingFace;

fn on_router(endpoint: &Endpoint) -> bool {
    endpoint.api_base.trim_end_matches('/') == ROUTER
}

/// LiteLLM's rule: a base ending in `/v1` gets `/chat/completions`, any other base not already
/// ending in `/chat/completions` gets `/v1/chat/completions`.
#[must_use]
pub fn chat_url(base: &str) -> String {
    let mut url = base.trim_end_matches('/').to_owned();
    if url.ends_with("/v1") {
        url.push_str("/chat/completions");
    }
    if !url.ends_with("/chat/completions") {
        url.push_str("/v1/chat/completions");
    }
    url
}

/// `provider/org/model` → `org/model:provider` (the router's syntax); other ids unchanged.
#[must_use]
pub fn router_model(model: &str) -> String {
    match model.split_once('/') {
        Some((provider, rest)) if rest.contains('/') => format!("{rest}:{provider}"),
        _ => model.to_owned(),
    }
}

fn post(endpoint: &Endpoint, url: String, body: Vec<u8>) -> HttpRequest {
    let mut headers = Vec::with_capacity(2 + endpoint.extra_headers.len());
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    if let Some(key) = endpoint.api_key.as_deref().filter(|k| !k.is_empty()) {
        headers.push(("authorization".to_owned(), format!("Bearer {key}")));
    }
    headers.extend(endpoint.extra_headers.iter().cloned());
    HttpRequest { url, headers, body }
}

/// One feature-extraction output as a sentence vector: a flat list as is; token-level output
/// (`[[…], …]`, or `[[[…]]]`) by its first vector, as LiteLLM reads it.
fn sentence_vector(value: &Value) -> Option<Value> {
    let items = value.as_array()?;
    match items.first() {
        Some(Value::Number(_)) => Some(value.clone()),
        Some(Value::Array(_)) => sentence_vector(&items[0]),
        _ => None,
    }
}

/// A feature-extraction response: one vector for a string input, a list for a list input.
///
/// # Errors
/// A body that is not a list of vectors.
pub fn parse_feature_extraction(body: &[u8], model: &str) -> Result<EmbeddingResponse> {
    let invalid = |detail: &str| {
        let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
        Error::new(
            ErrorKind::Api,
            format!("Invalid Hugging Face feature-extraction response: {detail}. Body: {preview}"),
        )
        .with_status(500)
    };
    let value: Value = serde_json::from_slice(body).map_err(|e| invalid(&e.to_string()))?;
    let items = value.as_array().ok_or_else(|| invalid("not a list"))?;
    let vectors: Vec<Value> = if items.first().is_some_and(Value::is_number) {
        vec![value.clone()]
    } else {
        items
            .iter()
            .map(|item| sentence_vector(item).ok_or_else(|| invalid("not a list of vectors")))
            .collect::<Result<_>>()?
    };
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, embedding)| json!({"object": "embedding", "index": index, "embedding": embedding}))
        .collect();
    serde_json::from_value(
        json!({"object": "list", "data": data, "model": model, "usage": Usage::new(0, 0)}),
    )
    .map_err(|e| invalid(&e.to_string()))
}

/// Router and TGI errors: OpenAI's shape, or `{"error": "...", "error_type": "..."}`.
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let error = crate::openai::parse_error(status, body);
    let message = error
        .message()
        .strip_prefix("OpenAIException - ")
        .unwrap_or(error.message())
        .to_owned();
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let mut mapped =
        Error::from_upstream(status, format!("HuggingfaceException - {message}"), parsed);
    if let Some(param) = error.inner().param.clone() {
        mapped = mapped.with_param(param);
    }
    mapped
}

impl Provider for HuggingFace {
    fn name(&self) -> &str {
        "huggingface"
    }
    fn default_api_base(&self) -> Option<&str> {
        Some(ROUTER)
    }
    fn api_key_env(&self) -> &[&'static str] {
        &["HF_TOKEN", "HUGGINGFACE_API_KEY"]
    }
    fn api_base_env(&self) -> &[&'static str] {
        &["HF_API_BASE", "HUGGINGFACE_API_BASE"]
    }
    fn requires_api_key(&self) -> bool {
        true
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        let bytes = chat_body(request)?;
        let mut body: Map<String, Value> = serde_json::from_slice(&bytes)?;
        params::enforce(
            &mut body,
            OPENAI_LIKE_PARAMS,
            "huggingface",
            &request.model,
            endpoint.drop_params,
        )?;
        if on_router(endpoint) {
            body.insert(
                "model".to_owned(),
                Value::from(router_model(&request.model)),
            );
        }
        Ok(post(
            endpoint,
            chat_url(&endpoint.api_base),
            serde_json::to_vec(&body)?,
        ))
    }
    fn chat_response(&self, body: &[u8], _request: &ChatRequest) -> Result<ChatResponse> {
        parse_chat(body)
    }
    fn chat_decoder(&self, _request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(ChatDecoder)
    }
    fn text_completion_decoder(&self) -> Box<dyn ChunkDecoder<TextCompletionResponse>> {
        Box::new(TextCompletionDecoder)
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let inputs = match &request.input {
            Value::String(text) => json!([text]),
            Value::Array(items) if items.iter().all(Value::is_string) => request.input.clone(),
            _ => {
                return Err(Error::bad_request(
                    "Hugging Face embeddings take a string or a list of strings",
                )
                .with_param("input"));
            }
        };
        let url = if on_router(endpoint) {
            format!(
                "{ROUTER}/hf-inference/models/{}/pipeline/feature-extraction",
                request.model
            )
        } else {
            endpoint.api_base.clone()
        };
        let mut body = json!({"inputs": inputs});
        for name in [
            "normalize",
            "truncate",
            "prompt_name",
            "truncation_direction",
        ] {
            if let Some(value) = request.extra.get(name) {
                body[name] = value.clone();
            }
        }
        Ok(post(endpoint, url, serde_json::to_vec(&body)?))
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        // The task does not echo the model.
        parse_feature_extraction(body, "")
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(OPENAI_LIKE_PARAMS.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The feature-extraction output documented on
    /// <https://huggingface.co/docs/inference-providers/tasks/feature-extraction>.
    const FEATURES: &str = include_str!("../tests/fixtures/huggingface/feature_extraction.json");

    fn endpoint(base: &str) -> Endpoint {
        Endpoint {
            api_base: base.to_owned(),
            api_key: Some("hf_x".to_owned()),
            ..Endpoint::default()
        }
    }

    #[test]
    fn urls_and_models() {
        assert_eq!(
            chat_url(ROUTER),
            "https://router.huggingface.co/v1/chat/completions"
        );
        assert_eq!(
            chat_url("https://x.endpoints.huggingface.cloud/v1/"),
            "https://x.endpoints.huggingface.cloud/v1/chat/completions"
        );
        assert_eq!(
            chat_url("https://x.endpoints.huggingface.cloud"),
            "https://x.endpoints.huggingface.cloud/v1/chat/completions"
        );
        assert_eq!(
            router_model("together/deepseek-ai/DeepSeek-R1"),
            "deepseek-ai/DeepSeek-R1:together"
        );
        assert_eq!(
            router_model("meta-llama/Llama-3.3-70B-Instruct"),
            "meta-llama/Llama-3.3-70B-Instruct"
        );
        let request: ChatRequest = serde_json::from_value(json!({
            "model": "together/deepseek-ai/DeepSeek-R1", "messages": [{"role": "user", "content": "hi"}]})).unwrap();
        let sent = HuggingFace
            .chat_request(&request, &endpoint(ROUTER))
            .unwrap();
        let body: Value = serde_json::from_slice(&sent.body).unwrap();
        assert_eq!(body["model"], "deepseek-ai/DeepSeek-R1:together");
        let sent = HuggingFace
            .chat_request(&request, &endpoint("http://tgi:8080"))
            .unwrap();
        let body: Value = serde_json::from_slice(&sent.body).unwrap();
        assert_eq!(body["model"], "together/deepseek-ai/DeepSeek-R1");
        assert_eq!(sent.url, "http://tgi:8080/v1/chat/completions");
    }

    #[test]
    fn feature_extraction() {
        let request: EmbeddingRequest =
            serde_json::from_value(json!({"model": "BAAI/bge-small-en-v1.5", "input": ["a", "b"]}))
                .unwrap();
        let sent = HuggingFace
            .embedding_request(&request, &endpoint(ROUTER))
            .unwrap();
        assert_eq!(
            sent.url,
            "https://router.huggingface.co/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction"
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&sent.body).unwrap(),
            json!({"inputs": ["a", "b"]})
        );
        let response = HuggingFace.embedding_response(FEATURES.as_bytes()).unwrap();
        assert_eq!(response.data.len(), 2);
        assert_eq!(response.data[1].embedding[0], json!(0.062));
        let single = HuggingFace.embedding_response(b"[0.1, 0.2]").unwrap();
        assert_eq!(single.data.len(), 1);
        let tokens = HuggingFace
            .embedding_response(b"[[[0.1, 0.2], [0.3, 0.4]]]")
            .unwrap();
        assert_eq!(tokens.data[0].embedding, json!([0.1, 0.2]));
    }

    #[test]
    fn errors() {
        let error = parse_error(
            503,
            br#"{"error": "Model is overloaded", "error_type": "overloaded"}"#,
        );
        assert_eq!(error.kind(), ErrorKind::ServiceUnavailable);
        assert_eq!(
            error.message(),
            "HuggingfaceException - Model is overloaded"
        );
    }
}
