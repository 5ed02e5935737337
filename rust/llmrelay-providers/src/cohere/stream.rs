//! Cohere v2 chat streams → canonical chunks.
//!
//! Events (<https://docs.cohere.com/v2/docs/streaming>): `message-start`, `content-start`,
//! `content-delta` (text), `content-end`, `tool-plan-delta`, `tool-call-start` (id and name),
//! `tool-call-delta` (argument pieces), `tool-call-end`, `citation-start`/`-end`, and
//! `message-end` with `finish_reason` and `usage` (`billed_units`, `tokens`). The event type is
//! read from the data's `type` (the SSE `event:` line carries the same name).

use serde_json::{Value, json};

use llmrelay_core::types::ChatChunk;
use llmrelay_core::{Error, ErrorKind, Result};

use super::response::{finish_reason, usage};
use crate::provider::ChunkDecoder;
use crate::sse::RawEvent;

/// One stream's state: the message id, and which tool call an index belongs to.
#[derive(Debug)]
pub struct CohereChatDecoder {
    id: String,
    model: String,
    created: u64,
    saw_tool_call: bool,
}

impl CohereChatDecoder {
    #[must_use]
    pub fn new(model: &str) -> Self {
        Self {
            id: String::new(),
            model: model.to_owned(),
            created: llmrelay_core::clock::now_unix(),
            saw_tool_call: false,
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> Result<ChatChunk> {
        to_chunk(json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }))
    }
}

fn to_chunk(value: Value) -> Result<ChatChunk> {
    serde_json::from_value(value).map_err(|e| {
        Error::new(
            ErrorKind::Api,
            format!("Unexpected Cohere stream event: {e}"),
        )
        .with_status(500)
    })
}

impl ChunkDecoder<ChatChunk> for CohereChatDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        let value: Value = serde_json::from_str(data).map_err(|e| {
            Error::new(
                ErrorKind::Api,
                format!("Malformed Cohere stream event: {e}: {data}"),
            )
            .with_status(500)
        })?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(event.event.as_str());
        let message = value.get("delta").and_then(|d| d.get("message"));
        let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            "message-start" => {
                if let Some(id) = value.get("id").and_then(Value::as_str) {
                    id.clone_into(&mut self.id);
                }
                out.push(self.chunk(json!({"role": "assistant", "content": ""}), None)?);
            }
            "content-delta" => {
                let text = message
                    .and_then(|m| m.get("content"))
                    .and_then(|c| c.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !text.is_empty() {
                    out.push(self.chunk(json!({"content": text}), None)?);
                }
            }
            "tool-call-start" => {
                self.saw_tool_call = true;
                let call = message
                    .and_then(|m| m.get("tool_calls"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let function = call.get("function").cloned().unwrap_or(Value::Null);
                out.push(self.chunk(
                    json!({"tool_calls": [{
                        "index": index,
                        "id": call.get("id").cloned().unwrap_or(Value::Null),
                        "type": "function",
                        "function": {
                            "name": function.get("name").cloned().unwrap_or(Value::Null),
                            "arguments": function.get("arguments").and_then(Value::as_str).unwrap_or_default(),
                        },
                    }]}),
                    None,
                )?);
            }
            "tool-call-delta" => {
                let arguments = message
                    .and_then(|m| m.get("tool_calls"))
                    .and_then(|c| c.get("function"))
                    .and_then(|f| f.get("arguments"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !arguments.is_empty() {
                    out.push(self.chunk(
                        json!({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]}),
                        None,
                    )?);
                }
            }
            "message-end" => {
                let delta = value.get("delta").cloned().unwrap_or(Value::Null);
                if let Some(error) = delta.get("error").and_then(Value::as_str) {
                    return Err(Error::from_upstream(
                        500,
                        format!("CohereException - {error}"),
                        Some(value.clone()),
                    ));
                }
                let reason = delta
                    .get("finish_reason")
                    .and_then(Value::as_str)
                    .unwrap_or("COMPLETE");
                let reason = if self.saw_tool_call {
                    "tool_calls"
                } else {
                    finish_reason(reason)
                };
                out.push(self.chunk(json!({}), Some(reason))?);
                if let Some(usage) = delta.get("usage").and_then(usage) {
                    out.push(to_chunk(json!({
                        "id": self.id, "object": "chat.completion.chunk", "created": self.created,
                        "model": self.model, "choices": [], "usage": usage,
                    }))?);
                }
                return Ok(true);
            }
            // content-start/-end, tool-plan-delta, tool-call-end, citation-*: nothing to emit.
            _ => {}
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = include_str!("../../tests/fixtures/cohere/chat_stream.sse");
    const TOOL_STREAM: &str =
        include_str!("../../tests/fixtures/cohere/chat_stream_tool_calls.sse");

    fn run(text: &str) -> Result<(Vec<ChatChunk>, bool)> {
        let mut decoder = CohereChatDecoder::new("command-a-03-2025");
        let mut out = Vec::new();
        let mut done = false;
        for block in text.split("\n\n") {
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event = name.to_owned();
                } else if let Some(rest) = line.strip_prefix("data: ") {
                    data.push_str(rest);
                }
            }
            if data.is_empty() {
                continue;
            }
            done = decoder.decode(&RawEvent { event, data }, &mut out)?;
        }
        Ok((out, done))
    }

    #[test]
    fn documented_text_stream() {
        let (chunks, done) = run(STREAM).unwrap();
        assert!(done);
        let text: String = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .filter_map(|c| c.delta.content.clone())
            .collect();
        assert_eq!(text, "Hello! How can I help you today?");
        let last = chunks.last().unwrap();
        assert!(last.choices.is_empty());
        let usage = last.usage.as_ref().unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (2, 9));
        assert_eq!(chunks[0].id, "29f14a5a-11de-4cae-9800-25e4747408ea");
    }

    #[test]
    fn documented_tool_stream() {
        let (chunks, _) = run(TOOL_STREAM).unwrap();
        let deltas: Vec<_> = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .filter_map(|c| c.delta.tool_calls.clone())
            .flatten()
            .collect();
        assert_eq!(
            deltas[0].function.as_ref().unwrap().name.as_deref(),
            Some("get_weather")
        );
        let arguments: String = deltas
            .iter()
            .filter(|d| d.index == 0)
            .filter_map(|d| d.function.as_ref()?.arguments.clone())
            .collect();
        assert_eq!(arguments, "{\"location\": \"Toronto\"}");
        let reasons: Vec<_> = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .filter_map(|c| c.finish_reason.clone())
            .collect();
        assert_eq!(reasons, ["tool_calls"]);
    }

    #[test]
    fn error_at_message_end() {
        let text = "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"ERROR\",\"error\":\"internal error\"}}\n\n";
        let error = run(text).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InternalServer);
    }
}
