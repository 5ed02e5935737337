//! `/v1/responses` over any provider: the engine's one Responses bridge
//! (`llmrelay_providers::responses::bridge`: input items → chat messages, chat answers →
//! output items, the streaming event sequence, `previous_response_id` from the same
//! conversation store the SDK uses). This module only writes the events as SSE.
//!
//! Shapes follow OpenAI's API reference "Responses" (create, the response object, streaming
//! events) and openai-python `types/responses/*`.

use serde_json::Value;

use llmrelay_core::Error;
use llmrelay_core::types::ChatChunk;
use llmrelay_providers::responses::bridge::{ResponsesCall, StreamRenderer};

/// Write events as Responses SSE (`event: <type>` + `data:`).
fn write(events: Vec<Value>, out: &mut Vec<u8>) {
    for event in &events {
        write_one(event, out);
    }
}

fn write_one(event: &Value, out: &mut Vec<u8>) {
    let kind = event["type"].as_str().unwrap_or("message");
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    // Serializing a `Value` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, event);
    out.extend_from_slice(b"\n\n");
}

/// Writes chat chunks as Responses SSE events.
pub struct ResponseStreamEncoder {
    renderer: StreamRenderer,
}

impl ResponseStreamEncoder {
    #[must_use]
    pub fn new(call: &ResponsesCall, model: &str) -> Self {
        Self {
            renderer: call.stream_renderer(model),
        }
    }

    pub fn chunk(&mut self, chunk: &ChatChunk, out: &mut Vec<u8>) {
        write(self.renderer.chunk(chunk), out);
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        write(self.renderer.finish(), out);
    }

    pub fn error(&mut self, error: &Error, out: &mut Vec<u8>) {
        write(
            self.renderer.fail(error.kind().as_str(), error.message()),
            out,
        );
    }
}

/// Writes a native Responses API stream's events as they came.
#[derive(Debug, Default)]
pub struct EventEncoder;

impl EventEncoder {
    pub fn event(&mut self, event: &Value, out: &mut Vec<u8>) {
        write_one(event, out);
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let _ = out;
    }

    pub fn error(&mut self, error: &Error, out: &mut Vec<u8>) {
        let event = serde_json::json!({
            "type": "error",
            "code": error.kind().as_str(),
            "message": error.message(),
        });
        write_one(&event, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn stream_events_are_named_sse() {
        let (call, _) =
            ResponsesCall::parse(map(json!({"model": "m", "input": "hi", "stream": true})))
                .unwrap();
        assert_eq!(
            call.chat.stream_options.as_ref().unwrap().include_usage,
            Some(true)
        );
        let mut encoder = ResponseStreamEncoder::new(&call, "m");
        let chunk: ChatChunk = serde_json::from_value(json!({
            "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "hey"}, "finish_reason": "stop"}]
        }))
        .unwrap();
        let mut out = Vec::new();
        encoder.chunk(&chunk, &mut out);
        encoder.finish(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("event: response.created\ndata: "));
        assert!(text.contains("event: response.output_text.delta\n"));
        assert!(text.trim_end().ends_with('}'));
        assert!(text.contains("event: response.completed\n"));
    }
}
