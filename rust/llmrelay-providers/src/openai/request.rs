//! Canonical request → OpenAI wire body.

use serde_json::{Map, Value};

use llmrelay_core::Result;
use llmrelay_core::types::{ChatRequest, EmbeddingRequest, TextCompletionRequest};

/// Models that take `max_completion_tokens` instead of `max_tokens` (o-series, gpt-5 family).
fn uses_max_completion_tokens(model: &str) -> bool {
    let model = model.rsplit('/').next().unwrap_or(model);
    model.starts_with("o1")
        || model.starts_with("o3")
        || model.starts_with("o4")
        || model.starts_with("gpt-5")
}

/// Remove the fields LiteLLM users add for other providers: `cache_control` on messages,
/// parts and tools, and `thinking_blocks` (OpenAI rejects unknown message fields).
fn strip_foreign_fields(body: &mut Map<String, Value>) {
    if let Some(Value::Array(messages)) = body.get_mut("messages") {
        for message in messages {
            let Value::Object(message) = message else {
                continue;
            };
            message.remove("cache_control");
            message.remove("thinking_blocks");
            if let Some(Value::Array(parts)) = message.get_mut("content") {
                for part in parts {
                    if let Value::Object(part) = part {
                        part.remove("cache_control");
                    }
                }
            }
        }
    }
    if let Some(Value::Array(tools)) = body.get_mut("tools") {
        for tool in tools {
            if let Value::Object(tool) = tool {
                tool.remove("cache_control");
            }
        }
    }
}

fn needs_rewrite(request: &ChatRequest) -> bool {
    (request.max_tokens.is_some() && uses_max_completion_tokens(&request.model))
        || request.messages.iter().any(|m| {
            m.thinking_blocks.is_some()
                || m.extra.contains_key("cache_control")
                || matches!(&m.content, Some(llmrelay_core::types::MessageContent::Parts(parts))
                    if parts.iter().any(|p| p.extra.contains_key("cache_control")))
        })
        || request
            .tools
            .as_ref()
            .is_some_and(|tools| tools.iter().any(|t| t.extra.contains_key("cache_control")))
}

/// The Chat Completions body.
///
/// # Errors
/// Serialization failure (not expected for valid canonical requests).
pub fn chat_body(request: &ChatRequest) -> Result<Vec<u8>> {
    if !needs_rewrite(request) {
        return Ok(serde_json::to_vec(request)?);
    }
    let Value::Object(mut body) = serde_json::to_value(request)? else {
        return Ok(serde_json::to_vec(request)?);
    };
    if uses_max_completion_tokens(&request.model) {
        if let Some(max_tokens) = body.remove("max_tokens") {
            body.entry("max_completion_tokens").or_insert(max_tokens);
        }
    }
    strip_foreign_fields(&mut body);
    Ok(serde_json::to_vec(&body)?)
}

/// The legacy Completions body.
///
/// # Errors
/// Serialization failure.
pub fn text_completion_body(request: &TextCompletionRequest) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(request)?)
}

/// The Embeddings body.
///
/// # Errors
/// Serialization failure.
pub fn embedding_body(request: &EmbeddingRequest) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(request)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn plain_request_is_serialized_as_is() {
        let r = request(json!({
            "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.5, "stream": true, "stream_options": {"include_usage": true},
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "tool_choice": "auto", "response_format": {"type": "json_object"}, "top_k": 2
        }));
        let body: Value = serde_json::from_slice(&chat_body(&r).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({
                "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                "stream": true, "stream_options": {"include_usage": true}, "temperature": 0.5,
                "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
                "tool_choice": "auto", "response_format": {"type": "json_object"}, "top_k": 2
            })
        );
    }

    #[test]
    fn reasoning_models_get_max_completion_tokens() {
        let r = request(
            json!({"model": "o3-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10}),
        );
        let body: Value = serde_json::from_slice(&chat_body(&r).unwrap()).unwrap();
        assert_eq!(body["max_completion_tokens"], 10);
        assert!(body.get("max_tokens").is_none());
    }

    #[test]
    fn foreign_fields_are_removed() {
        let r = request(json!({"model": "gpt-4o", "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]},
            {"role": "assistant", "content": "x", "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "s"}]}
        ]}));
        let body: Value = serde_json::from_slice(&chat_body(&r).unwrap()).unwrap();
        assert!(
            body["messages"][0]["content"][0]
                .get("cache_control")
                .is_none()
        );
        assert!(body["messages"][1].get("thinking_blocks").is_none());
    }
}
