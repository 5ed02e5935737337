//! `text-completion-openai`: chat calls to instruct models (`gpt-3.5-turbo-instruct`, …) go
//! to the legacy Completions endpoint, as LiteLLM routes them: the messages' text becomes the
//! prompt (one string for one message, a list of strings for several) and each text choice
//! becomes an assistant message.

use serde_json::{Map, Value};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Delta, EmbeddingRequest,
    EmbeddingResponse, ResponseMessage, TextCompletionRequest, TextCompletionResponse,
};
use llmrelay_core::{Error, Result};

use super::{OpenAi, TextCompletionDecoder};
use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider};
use crate::sse::RawEvent;

/// Chat parameters the Completions endpoint accepts (LiteLLM's list for this provider).
const FORWARDED: &[&str] = &[
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "user",
    "seed",
    "logprobs",
    "stream_options",
    "suffix",
    "echo",
    "best_of",
];

/// Canonical chat request → legacy completions request.
///
/// # Errors
/// Never for valid canonical requests (serialization only).
pub fn to_text_request(request: &ChatRequest) -> Result<TextCompletionRequest> {
    let texts: Vec<String> = request
        .messages
        .iter()
        .map(|m| {
            m.content
                .as_ref()
                .map(|c| c.text().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let prompt = match texts.as_slice() {
        [one] => Value::String(one.clone()),
        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
    };
    let Value::Object(chat) = serde_json::to_value(request)? else {
        return Err(Error::bad_request("invalid request"));
    };
    let mut body = Map::new();
    body.insert("model".to_owned(), Value::String(request.model.clone()));
    body.insert("prompt".to_owned(), prompt);
    if request.stream {
        body.insert("stream".to_owned(), Value::Bool(true));
    }
    for (key, value) in chat {
        if FORWARDED.contains(&key.as_str()) || request.extra.contains_key(&key) {
            body.insert(key, value);
        }
    }
    Ok(serde_json::from_value(Value::Object(body))?)
}

/// Legacy completions response → chat response.
#[must_use]
pub fn to_chat_response(response: TextCompletionResponse) -> ChatResponse {
    ChatResponse {
        id: response.id,
        object: "chat.completion".to_owned(),
        created: response.created,
        model: response.model,
        system_fingerprint: response.system_fingerprint,
        choices: response
            .choices
            .into_iter()
            .map(|c| Choice {
                index: c.index,
                message: ResponseMessage::assistant(Some(c.text)),
                finish_reason: c.finish_reason,
                logprobs: c.logprobs,
                extra: Map::new(),
            })
            .collect(),
        usage: response.usage,
        extra: Map::new(),
    }
}

fn to_chat_chunk(chunk: TextCompletionResponse, first: bool) -> ChatChunk {
    ChatChunk {
        id: chunk.id,
        object: "chat.completion.chunk".to_owned(),
        created: chunk.created,
        model: chunk.model,
        system_fingerprint: chunk.system_fingerprint,
        choices: chunk
            .choices
            .into_iter()
            .map(|c| ChunkChoice {
                index: c.index,
                delta: Delta {
                    role: first.then(|| "assistant".to_owned()),
                    content: Some(c.text).filter(|t| !t.is_empty()),
                    ..Delta::default()
                },
                finish_reason: c.finish_reason,
                logprobs: c.logprobs,
            })
            .collect(),
        usage: chunk.usage,
        extra: Map::new(),
    }
}

/// Decodes a completions stream into chat chunks.
#[derive(Debug, Default)]
struct InstructDecoder {
    inner: TextCompletionDecoder,
    started: bool,
}

impl ChunkDecoder<ChatChunk> for InstructDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        let mut text_chunks = Vec::new();
        let done = self.inner.decode(event, &mut text_chunks)?;
        for chunk in text_chunks {
            let first = !self.started && !chunk.choices.is_empty();
            self.started |= first;
            out.push(to_chat_chunk(chunk, first));
        }
        Ok(done)
    }
}

/// The provider for instruct models.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiInstruct;

impl Provider for OpenAiInstruct {
    fn name(&self) -> &str {
        "text-completion-openai"
    }
    fn default_api_base(&self) -> Option<&str> {
        OpenAi.default_api_base()
    }
    fn api_key_env(&self) -> &[&'static str] {
        OpenAi.api_key_env()
    }
    fn api_base_env(&self) -> &[&'static str] {
        OpenAi.api_base_env()
    }
    fn requires_api_key(&self) -> bool {
        true
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        OpenAi.text_completion_request(&to_text_request(request)?, endpoint)
    }
    fn chat_response(&self, body: &[u8], _request: &ChatRequest) -> Result<ChatResponse> {
        OpenAi.text_completion_response(body).map(to_chat_response)
    }
    fn chat_decoder(&self, _request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(InstructDecoder::default())
    }
    fn text_completion_request(
        &self,
        request: &TextCompletionRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        OpenAi.text_completion_request(request, endpoint)
    }
    fn text_completion_response(&self, body: &[u8]) -> Result<TextCompletionResponse> {
        OpenAi.text_completion_response(body)
    }
    fn text_completion_decoder(&self) -> Box<dyn ChunkDecoder<TextCompletionResponse>> {
        OpenAi.text_completion_decoder()
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        OpenAi.embedding_request(request, endpoint)
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        OpenAi.embedding_response(body)
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        OpenAi.error(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_become_a_prompt() {
        let request: ChatRequest = serde_json::from_value(json!({
            "model": "gpt-3.5-turbo-instruct", "messages": [{"role": "user", "content": "Say hi"}],
            "max_tokens": 5, "tools": [], "top_k": 2
        }))
        .unwrap();
        let text = serde_json::to_value(to_text_request(&request).unwrap()).unwrap();
        assert_eq!(
            text,
            json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi", "max_tokens": 5, "top_k": 2})
        );
        let request: ChatRequest = serde_json::from_value(json!({
            "model": "m", "messages": [{"role": "system", "content": "a"}, {"role": "user", "content": "b"}]
        }))
        .unwrap();
        assert_eq!(to_text_request(&request).unwrap().prompt, json!(["a", "b"]));
    }

    #[test]
    fn text_choices_become_messages() {
        let response: TextCompletionResponse = serde_json::from_value(json!({
            "id": "cmpl-1", "object": "text_completion", "created": 1, "model": "gpt-3.5-turbo-instruct",
            "choices": [{"text": "hi", "index": 0, "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}
        }))
        .unwrap();
        let chat = to_chat_response(response);
        assert_eq!(chat.choices[0].message.content.as_deref(), Some("hi"));
        assert_eq!(chat.usage.unwrap().total_tokens, 3);
    }
}
