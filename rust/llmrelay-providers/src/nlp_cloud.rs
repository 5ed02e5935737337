//! NLP Cloud's text generation API, called for chat as LiteLLM 1.104 does.
//!
//! Wire format: <https://docs.nlpcloud.com/#generation> — `POST {base}{model}/generation` with
//! `Authorization: Token <key>` and `{"text", "max_length", …}`; the answer is
//! `{"generated_text", "nb_input_tokens", "nb_generated_tokens"}`. The messages are joined
//! into one `text` with spaces (LiteLLM's `transform_request`), and the OpenAI parameters are
//! renamed as LiteLLM's `map_openai_params` does (`max_tokens` → `max_length`, `n` →
//! `num_return_sequences`, `stop` → `stop_sequences`). The API streams raw text, not events:
//! a streamed call is refused before sending (see docs/providers/index.md).

use serde_json::{Map, Value, json};

use llmrelay_core::types::{ChatChunk, ChatRequest, ChatResponse, Usage};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::openai::chat_body;
use crate::params;
use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider};
use crate::sse::RawEvent;

/// NLP Cloud (`nlp_cloud/<model>`, or a bare model of the price map such as `chatdolphin`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NlpCloud;

/// LiteLLM 1.104.9's `NLPCloudConfig.get_supported_openai_params`.
pub const PARAMS: &[&str] = &[
    "max_tokens",
    "stream",
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "n",
    "stop",
];

/// Body keys that belong to the OpenAI request, not to NLP Cloud's.
const NOT_FORWARDED: &[&str] = &["model", "messages", "stream", "stream_options", "user"];

/// The text of a message's content: a string, or its text parts concatenated.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// The generation body for a chat request.
///
/// # Errors
/// `UnsupportedParams` (unless dropped), or a body that cannot be serialized.
pub fn generation_body(request: &ChatRequest, drop_params: bool) -> Result<Vec<u8>> {
    let mut body: Map<String, Value> = serde_json::from_slice(&chat_body(request)?)?;
    params::enforce(&mut body, PARAMS, "nlp_cloud", &request.model, drop_params)?;
    let text = body
        .get("messages")
        .and_then(Value::as_array)
        .map(|messages| {
            messages
                .iter()
                .map(|m| content_text(m.get("content")))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert("text".to_owned(), Value::from(text));
    for (key, value) in body {
        if NOT_FORWARDED.contains(&key.as_str()) || value.is_null() {
            continue;
        }
        let key = match key.as_str() {
            "max_tokens" | "max_completion_tokens" => "max_length".to_owned(),
            "n" => "num_return_sequences".to_owned(),
            "stop" => "stop_sequences".to_owned(),
            _ => key,
        };
        out.entry(key).or_insert(value);
    }
    Ok(serde_json::to_vec(&out)?)
}

fn invalid(body: &[u8], detail: &str) -> Error {
    let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
    Error::new(
        ErrorKind::Api,
        format!("Invalid NLP Cloud response: {detail}. Body: {preview}"),
    )
    .with_status(500)
}

/// A generation answer as a chat completion.
///
/// # Errors
/// A body that is not a generation answer, or an `{"error": …}` body.
pub fn parse_generation(body: &[u8], model: &str) -> Result<ChatResponse> {
    let value: Value = serde_json::from_slice(body).map_err(|e| invalid(body, &e.to_string()))?;
    if let Some(error) = value.get("error") {
        let message = error
            .as_str()
            .map_or_else(|| error.to_string(), str::to_owned);
        return Err(Error::from_upstream(
            500,
            format!("NLPCloudException - {message}"),
            Some(value.clone()),
        ));
    }
    let text = value
        .get("generated_text")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(body, "no `generated_text`"))?;
    let prompt = value
        .get("nb_input_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let completion = value
        .get("nb_generated_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let response = json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4()),
        "object": "chat.completion",
        "created": llmrelay_core::clock::now_unix(),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": Usage::new(prompt, completion),
    });
    serde_json::from_value(response).map_err(|e| invalid(body, &e.to_string()))
}

/// NLP Cloud errors are `{"detail": "<message>"}` (or `{"error": …}`) with the HTTP status.
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("detail").or_else(|| v.get("error")))
        .map_or_else(
            || String::from_utf8_lossy(body).trim().to_owned(),
            |m| m.as_str().map_or_else(|| m.to_string(), str::to_owned),
        );
    Error::from_upstream(status, format!("NLPCloudException - {message}"), parsed)
}

/// Never used: streamed calls are refused in `chat_request`.
struct NoStream;

impl ChunkDecoder<ChatChunk> for NoStream {
    fn decode(&mut self, _event: &RawEvent, _out: &mut Vec<ChatChunk>) -> Result<bool> {
        Err(Error::bad_request(
            "nlp_cloud does not stream through llmrelay",
        ))
    }
}

impl Provider for NlpCloud {
    fn name(&self) -> &str {
        "nlp_cloud"
    }
    fn default_api_base(&self) -> Option<&str> {
        Some("https://api.nlpcloud.io/v1/gpu/")
    }
    fn api_key_env(&self) -> &[&'static str] {
        &["NLP_CLOUD_API_KEY"]
    }
    fn api_base_env(&self) -> &[&'static str] {
        &["NLP_CLOUD_API_BASE"]
    }
    fn requires_api_key(&self) -> bool {
        true
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        if request.stream {
            return Err(Error::bad_request(
                "nlp_cloud does not stream through llmrelay: its API streams raw text; call without stream=True",
            )
            .with_provider("nlp_cloud"));
        }
        let body = generation_body(request, endpoint.drop_params)?;
        let base = endpoint.api_base.trim_end_matches('/');
        let mut headers = vec![
            ("accept".to_owned(), "application/json".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        if let Some(key) = endpoint.api_key.as_deref().filter(|k| !k.is_empty()) {
            headers.push(("authorization".to_owned(), format!("Token {key}")));
        }
        headers.extend(endpoint.extra_headers.iter().cloned());
        Ok(HttpRequest {
            url: format!("{base}/{}/generation", request.model),
            headers,
            body,
        })
    }
    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        parse_generation(body, &request.model)
    }
    fn chat_decoder(&self, _request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(NoStream)
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(PARAMS.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixture: a generation answer with the fields of <https://docs.nlpcloud.com/#generation>.
    const GENERATION: &str = include_str!("../tests/fixtures/nlp_cloud/generation.json");

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn body_joins_messages_and_renames_parameters() {
        let r = request(json!({
            "model": "chatdolphin",
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
            "max_tokens": 50, "n": 2, "stop": ["\n"], "temperature": 0.5, "top_k": 3
        }));
        let body: Value = serde_json::from_slice(&generation_body(&r, false).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"text": "Be brief. Hello", "max_length": 50, "num_return_sequences": 2,
                   "stop_sequences": ["\n"], "temperature": 0.5, "top_k": 3})
        );
    }

    #[test]
    fn tools_are_unsupported_unless_dropped() {
        let r = request(
            json!({"model": "chatdolphin", "messages": [{"role": "user", "content": "hi"}],
                               "tools": [{"type": "function", "function": {"name": "f"}}]}),
        );
        let error = generation_body(&r, false).unwrap_err();
        assert!(
            error
                .message()
                .contains("nlp_cloud does not support parameters: ['tools']")
        );
        let body: Value = serde_json::from_slice(&generation_body(&r, true).unwrap()).unwrap();
        assert!(body.get("tools").is_none());
    }

    #[test]
    fn parses_documented_generation() {
        let response = parse_generation(GENERATION.as_bytes(), "chatdolphin").unwrap();
        assert_eq!(
            response.choices[0].message.content.as_deref(),
            Some(
                "GPT Neo is a powerful NLP model that does what every model should do: generate text."
            )
        );
        let usage = response.usage.unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (7, 18));
        assert_eq!(response.choices[0].finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn errors_keep_the_status_and_detail() {
        let error = parse_error(401, br#"{"detail": "Invalid token."}"#);
        assert_eq!(error.kind(), ErrorKind::Authentication);
        assert!(error.message().contains("Invalid token."));
    }
}
