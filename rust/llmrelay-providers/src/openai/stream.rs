//! OpenAI SSE streams: one JSON chunk per `data:` event, `[DONE]` last, an `error` object
//! when the upstream fails mid-stream.

use serde_json::Value;

use llmrelay_core::types::{ChatChunk, TextCompletionResponse};
use llmrelay_core::{Error, ErrorKind, Result};

use super::response::map_finish_reason;
use crate::provider::ChunkDecoder;
use crate::sse::RawEvent;

fn mid_stream_error(value: &Value) -> Option<Error> {
    let error = value.get("error")?;
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| error.as_str())
        .unwrap_or("upstream error mid-stream")
        .to_owned();
    let kind_hint = error.get("type").and_then(Value::as_str).unwrap_or("");
    let code = error.get("code").and_then(Value::as_str).unwrap_or("");
    let status = match (kind_hint, code) {
        (_, "rate_limit_exceeded") | ("rate_limit_error" | "requests" | "tokens", _) => 429,
        ("invalid_request_error", _) => 400,
        ("overloaded_error", _) => 529,
        _ => 500,
    };
    Some(Error::from_upstream(status, message, Some(value.clone())))
}

fn parse_event<T: serde::de::DeserializeOwned>(data: &str) -> Result<Option<T>> {
    let value: Value = serde_json::from_str(data).map_err(|e| {
        Error::new(
            ErrorKind::Api,
            format!("Malformed stream chunk from upstream: {e}: {data}"),
        )
        .with_status(500)
    })?;
    if let Some(error) = mid_stream_error(&value) {
        return Err(error);
    }
    serde_json::from_value(value).map(Some).map_err(|e| {
        Error::new(
            ErrorKind::Api,
            format!("Unexpected stream chunk from upstream: {e}"),
        )
        .with_status(500)
    })
}

/// Decoder for `chat.completion.chunk` streams.
#[derive(Debug, Default)]
pub struct ChatDecoder;

impl ChunkDecoder<ChatChunk> for ChatDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        if let Some(mut chunk) = parse_event::<ChatChunk>(data)? {
            for choice in &mut chunk.choices {
                if let Some(reason) = choice.finish_reason.as_deref() {
                    let mapped = map_finish_reason(reason);
                    if mapped != reason {
                        choice.finish_reason = Some(mapped.to_owned());
                    }
                }
            }
            out.push(chunk);
        }
        Ok(false)
    }
}

/// Decoder for legacy `text_completion` streams.
#[derive(Debug, Default)]
pub struct TextCompletionDecoder;

impl ChunkDecoder<TextCompletionResponse> for TextCompletionDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<TextCompletionResponse>) -> Result<bool> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        if let Some(chunk) = parse_event::<TextCompletionResponse>(data)? {
            out.push(chunk);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixture: OpenAI streaming with two parallel tool calls whose argument deltas interleave,
    /// shaped as <https://platform.openai.com/docs/api-reference/chat/streaming> and
    /// openai-python `types/chat/chat_completion_chunk.py`.
    const TOOL_STREAM: &str = include_str!("../../tests/fixtures/openai/stream_parallel_tools.sse");

    fn events(text: &str) -> Vec<RawEvent> {
        text.split("\n\n")
            .filter_map(|block| block.strip_prefix("data: "))
            .map(|data| RawEvent {
                event: String::new(),
                data: data.to_owned(),
            })
            .collect()
    }

    #[test]
    fn interleaved_tool_call_deltas_stay_separate() {
        let mut decoder = ChatDecoder;
        let mut chunks = Vec::new();
        let mut done = false;
        for event in events(TOOL_STREAM) {
            done = decoder.decode(&event, &mut chunks).unwrap();
        }
        assert!(done);
        let deltas: Vec<(u32, String)> = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .filter_map(|c| c.delta.tool_calls.as_ref())
            .flatten()
            .map(|t| {
                (
                    t.index,
                    t.function
                        .as_ref()
                        .and_then(|f| f.arguments.clone())
                        .unwrap_or_default(),
                )
            })
            .collect();
        // Every delta is its own item, in the order sent: no merging.
        assert_eq!(
            deltas,
            vec![
                (0, String::new()),
                (1, String::new()),
                (0, "{\"loc".to_owned()),
                (1, "{\"loc".to_owned()),
                (0, "ation\": \"Paris\"}".to_owned()),
                (1, "ation\": \"Tokyo\"}".to_owned()),
            ]
        );
        let last = chunks.last().unwrap();
        assert!(last.choices.is_empty());
        assert_eq!(last.usage.as_ref().unwrap().total_tokens, 102);
        assert_eq!(
            chunks[chunks.len() - 2].choices[0].finish_reason.as_deref(),
            Some("tool_calls")
        );
    }

    #[test]
    fn error_event_mid_stream() {
        let mut chunks = Vec::new();
        let event = RawEvent {
            event: String::new(),
            data: r#"{"error": {"message": "The server had an error", "type": "server_error", "code": null}}"#.to_owned(),
        };
        let error = ChatDecoder.decode(&event, &mut chunks).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InternalServer);
        let event = RawEvent {
            event: String::new(),
            data: "{oops".to_owned(),
        };
        assert_eq!(
            ChatDecoder.decode(&event, &mut chunks).unwrap_err().kind(),
            ErrorKind::Api
        );
    }
}
