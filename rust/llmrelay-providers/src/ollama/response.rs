//! Ollama's native responses → canonical responses.
//!
//! Wire format: <https://github.com/ollama/ollama/blob/main/docs/api.md> ("Generate a chat
//! completion", "Generate a completion", "Generate Embeddings"). Usage comes from
//! `prompt_eval_count` / `eval_count`; tool-call arguments arrive as objects and leave as JSON
//! strings with generated `call_…` ids; `thinking` becomes `reasoning_content`.

use serde_json::{Value, json};

use llmrelay_core::types::{ChatResponse, EmbeddingResponse, TextCompletionResponse, Usage};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::openai::map_finish_reason;

fn invalid(what: &str, body: &[u8], detail: &str) -> Error {
    let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
    Error::new(
        ErrorKind::Api,
        format!("Invalid Ollama {what} response: {detail}. Body: {preview}"),
    )
    .with_status(500)
}

fn parse_object(body: &[u8], what: &str) -> Result<Value> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| invalid(what, body, &e.to_string()))?;
    if let Some(message) = value.get("error").and_then(Value::as_str) {
        return Err(Error::from_upstream(
            500,
            format!("OllamaException - {message}"),
            Some(value.clone()),
        ));
    }
    Ok(value)
}

pub(super) fn call_id() -> String {
    format!("call_{}", uuid::Uuid::new_v4())
}

/// Ollama `tool_calls` → OpenAI tool calls (arguments serialized, ids generated).
pub(super) fn tool_calls(calls: &[Value]) -> Vec<Value> {
    calls
        .iter()
        .map(|call| {
            let function = call.get("function").cloned().unwrap_or(Value::Null);
            let arguments = match function.get("arguments") {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => "{}".to_owned(),
            };
            json!({
                "id": call.get("id").and_then(Value::as_str).map_or_else(call_id, str::to_owned),
                "type": "function",
                "function": {
                    "name": function.get("name").and_then(Value::as_str).unwrap_or_default(),
                    "arguments": arguments,
                },
            })
        })
        .collect()
}

pub(super) fn usage(value: &Value) -> Option<Usage> {
    let prompt = value.get("prompt_eval_count").and_then(Value::as_u64);
    let completion = value.get("eval_count").and_then(Value::as_u64);
    if prompt.is_none() && completion.is_none() {
        return None;
    }
    Some(Usage::new(prompt.unwrap_or(0), completion.unwrap_or(0)))
}

pub(super) fn finish_reason(value: &Value, has_tool_calls: bool) -> String {
    if has_tool_calls {
        return "tool_calls".to_owned();
    }
    map_finish_reason(
        value
            .get("done_reason")
            .and_then(Value::as_str)
            .unwrap_or("stop"),
    )
    .to_owned()
}

fn completion_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4())
}

/// An `/api/chat` response (`ollama_chat/…`).
///
/// # Errors
/// A body that is not a chat response.
pub fn parse_chat(body: &[u8], model: &str) -> Result<ChatResponse> {
    let value = parse_object(body, "chat")?;
    let message = value
        .get("message")
        .ok_or_else(|| invalid("chat", body, "no `message`"))?;
    let calls = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| tool_calls(calls))
        .filter(|calls| !calls.is_empty());
    let content = message
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut out_message = json!({
        "role": "assistant",
        "content": if content.is_empty() && calls.is_some() { Value::Null } else { Value::from(content) },
    });
    if let Some(thinking) = message.get("thinking").and_then(Value::as_str) {
        out_message["reasoning_content"] = Value::from(thinking);
    }
    let has_calls = calls.is_some();
    if let Some(calls) = calls {
        out_message["tool_calls"] = Value::Array(calls);
    }
    let response = json!({
        "id": completion_id(),
        "object": "chat.completion",
        "created": llmrelay_core::clock::now_unix(),
        "model": format!("ollama_chat/{model}"),
        "choices": [{"index": 0, "message": out_message, "finish_reason": finish_reason(&value, has_calls)}],
        "usage": usage(&value),
    });
    serde_json::from_value(response).map_err(|e| invalid("chat", body, &e.to_string()))
}

/// An `/api/generate` response to a chat call (`ollama/…`).
///
/// # Errors
/// A body that is not a generate response.
pub fn parse_generate_chat(body: &[u8], model: &str) -> Result<ChatResponse> {
    let value = parse_object(body, "generate")?;
    let text = value
        .get("response")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("generate", body, "no `response`"))?;
    let mut message = json!({"role": "assistant", "content": text});
    if let Some(thinking) = value.get("thinking").and_then(Value::as_str) {
        message["reasoning_content"] = Value::from(thinking);
    }
    let response = json!({
        "id": completion_id(),
        "object": "chat.completion",
        "created": llmrelay_core::clock::now_unix(),
        "model": format!("ollama/{model}"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(&value, false)}],
        "usage": usage(&value),
    });
    serde_json::from_value(response).map_err(|e| invalid("generate", body, &e.to_string()))
}

/// An `/api/generate` response to `text_completion`.
///
/// # Errors
/// A body that is not a generate response.
pub fn parse_generate_text(body: &[u8], model: &str) -> Result<TextCompletionResponse> {
    let value = parse_object(body, "generate")?;
    let text = value
        .get("response")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("generate", body, "no `response`"))?;
    let response = json!({
        "id": format!("cmpl-{}", uuid::Uuid::new_v4()),
        "object": "text_completion",
        "created": llmrelay_core::clock::now_unix(),
        "model": format!("ollama/{model}"),
        "choices": [{"index": 0, "text": text, "logprobs": null, "finish_reason": finish_reason(&value, false)}],
        "usage": usage(&value),
    });
    serde_json::from_value(response).map_err(|e| invalid("generate", body, &e.to_string()))
}

/// An `/api/embed` response: `embeddings` (one per input) and `prompt_eval_count`.
///
/// # Errors
/// A body without `embeddings`.
pub fn parse_embed(body: &[u8], model: &str) -> Result<EmbeddingResponse> {
    let value = parse_object(body, "embed")?;
    let embeddings = value
        .get("embeddings")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("embed", body, "no `embeddings`"))?;
    let data: Vec<Value> = embeddings
        .iter()
        .enumerate()
        .map(|(index, embedding)| json!({"object": "embedding", "index": index, "embedding": embedding}))
        .collect();
    let prompt = value
        .get("prompt_eval_count")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let response = json!({
        "object": "list",
        "data": data,
        "model": format!("ollama/{model}"),
        "usage": Usage::new(prompt, 0),
    });
    serde_json::from_value(response).map_err(|e| invalid("embed", body, &e.to_string()))
}

/// Ollama errors are `{"error": "<message>"}` with the HTTP status.
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(|e| {
            e.as_str()
                .or_else(|| e.get("message").and_then(Value::as_str))
        })
        .map_or_else(
            || String::from_utf8_lossy(body).trim().to_owned(),
            str::to_owned,
        );
    Error::from_upstream(status, format!("OllamaException - {message}"), parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAT: &str = include_str!("../../tests/fixtures/ollama/chat.json");
    const CHAT_TOOLS: &str = include_str!("../../tests/fixtures/ollama/chat_tool_calls.json");
    const GENERATE: &str = include_str!("../../tests/fixtures/ollama/generate.json");
    const EMBED: &str = include_str!("../../tests/fixtures/ollama/embed.json");

    #[test]
    fn documented_chat_response() {
        let response = parse_chat(CHAT.as_bytes(), "llama3.2").unwrap();
        assert_eq!(response.model, "ollama_chat/llama3.2");
        assert_eq!(
            response.choices[0].message.content.as_deref(),
            Some("Hello! How are you today?")
        );
        assert_eq!(response.choices[0].finish_reason.as_deref(), Some("stop"));
        let usage = response.usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (26, 298, 324)
        );
    }

    #[test]
    fn tool_calls_become_openai_calls() {
        let response = parse_chat(CHAT_TOOLS.as_bytes(), "llama3.2").unwrap();
        let choice = &response.choices[0];
        assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
        let calls = choice.message.tool_calls.as_ref().unwrap();
        assert_eq!(calls[0].function.name, "get_current_weather");
        let arguments: Value = serde_json::from_str(&calls[0].function.arguments).unwrap();
        assert_eq!(
            arguments,
            json!({"format": "celsius", "location": "Paris, FR"})
        );
        assert!(calls[0].id.starts_with("call_"));
        assert_eq!(choice.message.content, None);
    }

    #[test]
    fn generate_and_embed() {
        let response = parse_generate_chat(GENERATE.as_bytes(), "llama3.2").unwrap();
        assert_eq!(
            response.choices[0].message.content.as_deref(),
            Some("The sky is blue because it is the color of the sky.")
        );
        assert_eq!(response.usage.as_ref().unwrap().completion_tokens, 290);
        let text = parse_generate_text(GENERATE.as_bytes(), "llama3.2").unwrap();
        assert_eq!(text.choices[0].finish_reason.as_deref(), Some("stop"));
        let embed = parse_embed(EMBED.as_bytes(), "all-minilm").unwrap();
        assert_eq!(embed.data.len(), 2);
        assert_eq!(embed.data[1].index, 1);
        assert_eq!(embed.usage.unwrap().prompt_tokens, 8);
    }

    #[test]
    fn errors() {
        let error = parse_error(
            404,
            br#"{"error": "model \"nope\" not found, try pulling it first"}"#,
        );
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert_eq!(
            error.message(),
            "OllamaException - model \"nope\" not found, try pulling it first"
        );
    }
}
