//! OpenAI wire response → canonical response (the canonical shape *is* OpenAI's).

use serde::de::DeserializeOwned;

use llmrelay_core::types::{ChatResponse, EmbeddingResponse, TextCompletionResponse};
use llmrelay_core::{Error, ErrorKind, Result};

fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
        Error::new(
            ErrorKind::Api,
            format!("Invalid {what} response from upstream: {e}. Body: {preview}"),
        )
        .with_status(500)
    })
}

/// Map a provider finish reason onto OpenAI's set (`stop|length|tool_calls|content_filter|function_call`).
#[must_use]
pub fn map_finish_reason(reason: &str) -> &str {
    match reason {
        "stop" | "length" | "tool_calls" | "content_filter" | "function_call" => reason,
        "eos" | "eos_token" | "end_turn" | "stop_sequence" | "STOP" | "COMPLETE" => "stop",
        "max_tokens" | "MAX_TOKENS" | "model_length" => "length",
        "tool_use" => "tool_calls",
        "SAFETY" | "RECITATION" | "content_filtered" | "guardrail_intervened" => "content_filter",
        other => other,
    }
}

/// # Errors
/// A body that is not a chat completion.
pub fn parse_chat(body: &[u8]) -> Result<ChatResponse> {
    let mut response: ChatResponse = parse(body, "chat completion")?;
    for choice in &mut response.choices {
        if let Some(reason) = choice.finish_reason.as_deref() {
            let mapped = map_finish_reason(reason);
            if mapped != reason {
                choice.finish_reason = Some(mapped.to_owned());
            }
        }
    }
    Ok(response)
}

/// # Errors
/// A body that is not a text completion.
pub fn parse_text_completion(body: &[u8]) -> Result<TextCompletionResponse> {
    parse(body, "text completion")
}

/// # Errors
/// A body that is not an embedding list.
pub fn parse_embedding(body: &[u8]) -> Result<EmbeddingResponse> {
    parse(body, "embedding")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixture: the example response of <https://platform.openai.com/docs/api-reference/chat/object>.
    const CHAT_OBJECT: &str = include_str!("../../tests/fixtures/openai/chat_completion.json");

    #[test]
    fn parses_documented_chat_object() {
        let response = parse_chat(CHAT_OBJECT.as_bytes()).unwrap();
        assert_eq!(response.object, "chat.completion");
        assert_eq!(
            response.choices[0].message.content.as_deref(),
            Some("Hello! How can I assist you today?")
        );
        let usage = response.usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (19, 10, 29)
        );
        assert_eq!(usage.cached_tokens(), 0);
        assert_eq!(response.extra["service_tier"], "default");
    }

    #[test]
    fn malformed_body_is_an_api_error() {
        let error = parse_chat(b"{not json").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Api);
        assert_eq!(error.status_code(), 500);
    }
}
