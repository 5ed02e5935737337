//! Ollama NDJSON streams → canonical chunks: one JSON object per line, `done: true` last (with
//! the usage counts), `{"error": …}` when the server fails mid-stream.

use serde_json::{Value, json};

use llmrelay_core::types::ChatChunk;
use llmrelay_core::types::TextCompletionResponse;
use llmrelay_core::{Error, ErrorKind, Result};

use super::response::{finish_reason, tool_calls, usage};
use crate::provider::ChunkDecoder;
use crate::sse::RawEvent;

fn parse_line(data: &str) -> Result<Value> {
    let value: Value = serde_json::from_str(data).map_err(|e| {
        Error::new(
            ErrorKind::Api,
            format!("Malformed Ollama stream line: {e}: {data}"),
        )
        .with_status(500)
    })?;
    if let Some(message) = value.get("error").and_then(Value::as_str) {
        return Err(Error::from_upstream(
            500,
            format!("OllamaException - {message}"),
            Some(value.clone()),
        ));
    }
    Ok(value)
}

fn chunk(value: Value) -> Result<ChatChunk> {
    serde_json::from_value(value).map_err(|e| {
        Error::new(
            ErrorKind::Api,
            format!("Unexpected Ollama stream line: {e}"),
        )
        .with_status(500)
    })
}

/// Which API the stream comes from: chat lines carry `message`, generate lines `response`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Chat,
    Generate,
}

/// Decoder for `/api/chat` and `/api/generate` streams answering a chat call.
#[derive(Debug)]
pub struct OllamaChatDecoder {
    api: Api,
    id: String,
    model: String,
    created: u64,
    sent_role: bool,
    tool_calls: u32,
}

impl OllamaChatDecoder {
    #[must_use]
    pub fn new(api: Api, model: &str) -> Self {
        let prefix = match api {
            Api::Chat => "ollama_chat",
            Api::Generate => "ollama",
        };
        Self {
            api,
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            model: format!("{prefix}/{model}"),
            created: llmrelay_core::clock::now_unix(),
            sent_role: false,
            tool_calls: 0,
        }
    }

    fn chunk(&self, choices: Value, usage: Option<Value>) -> Result<ChatChunk> {
        let mut value = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": choices,
        });
        if let Some(usage) = usage {
            value["usage"] = usage;
        }
        chunk(value)
    }
}

impl ChunkDecoder<ChatChunk> for OllamaChatDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        let line = parse_line(data)?;
        let mut delta = serde_json::Map::new();
        if !self.sent_role {
            delta.insert("role".to_owned(), Value::from("assistant"));
            self.sent_role = true;
        }
        let (text, thinking, calls) = match self.api {
            Api::Chat => {
                let message = line.get("message").cloned().unwrap_or(Value::Null);
                (
                    message
                        .get("content")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    message
                        .get("thinking")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    message.get("tool_calls").and_then(Value::as_array).cloned(),
                )
            }
            Api::Generate => (
                line.get("response")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                line.get("thinking")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                None,
            ),
        };
        if !text.is_empty() {
            delta.insert("content".to_owned(), Value::from(text));
        }
        if let Some(thinking) = thinking.filter(|t| !t.is_empty()) {
            delta.insert("reasoning_content".to_owned(), Value::from(thinking));
        }
        if let Some(calls) = calls.filter(|c| !c.is_empty()) {
            // Ollama sends each call whole in one line: one delta per call, arguments complete.
            let deltas: Vec<Value> = tool_calls(&calls)
                .into_iter()
                .map(|mut call| {
                    call["index"] = Value::from(self.tool_calls);
                    self.tool_calls += 1;
                    call
                })
                .collect();
            delta.insert("tool_calls".to_owned(), Value::Array(deltas));
        }
        let done = line.get("done").and_then(Value::as_bool) == Some(true);
        if !delta.is_empty() {
            out.push(self.chunk(
                json!([{"index": 0, "delta": delta, "finish_reason": null}]),
                None,
            )?);
        }
        if done {
            let reason = finish_reason(&line, self.tool_calls > 0);
            out.push(self.chunk(
                json!([{"index": 0, "delta": {}, "finish_reason": reason}]),
                None,
            )?);
            if let Some(usage) = usage(&line) {
                out.push(self.chunk(json!([]), Some(serde_json::to_value(usage)?))?);
            }
        }
        Ok(done)
    }
}

/// Decoder for `/api/generate` streams answering `text_completion`.
#[derive(Debug)]
pub struct OllamaTextDecoder {
    id: String,
    created: u64,
}

impl Default for OllamaTextDecoder {
    fn default() -> Self {
        Self {
            id: format!("cmpl-{}", uuid::Uuid::new_v4()),
            created: llmrelay_core::clock::now_unix(),
        }
    }
}

impl ChunkDecoder<TextCompletionResponse> for OllamaTextDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<TextCompletionResponse>) -> Result<bool> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        let line = parse_line(data)?;
        let done = line.get("done").and_then(Value::as_bool) == Some(true);
        let text = line
            .get("response")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let model = line
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut value = json!({
            "id": self.id, "object": "text_completion", "created": self.created,
            "model": format!("ollama/{model}"),
            "choices": [{"index": 0, "text": text, "logprobs": null,
                         "finish_reason": if done { Value::from(finish_reason(&line, false)) } else { Value::Null }}],
        });
        if done {
            if let Some(usage) = usage(&line) {
                value["usage"] = serde_json::to_value(usage)?;
            }
        }
        out.push(serde_json::from_value(value).map_err(|e| {
            Error::new(
                ErrorKind::Api,
                format!("Unexpected Ollama stream line: {e}"),
            )
            .with_status(500)
        })?);
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = include_str!("../../tests/fixtures/ollama/chat_stream.ndjson");
    const TOOL_STREAM: &str =
        include_str!("../../tests/fixtures/ollama/chat_stream_tool_calls.ndjson");

    fn run(decoder: &mut OllamaChatDecoder, text: &str) -> Result<(Vec<ChatChunk>, bool)> {
        let mut out = Vec::new();
        let mut done = false;
        for line in text.lines().filter(|l| !l.starts_with("//")) {
            done = decoder.decode(
                &RawEvent {
                    event: String::new(),
                    data: line.to_owned(),
                },
                &mut out,
            )?;
        }
        Ok((out, done))
    }

    #[test]
    fn documented_stream() {
        let (chunks, done) =
            run(&mut OllamaChatDecoder::new(Api::Chat, "llama3.2"), STREAM).unwrap();
        assert!(done);
        let text: String = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .filter_map(|c| c.delta.content.clone())
            .collect();
        assert_eq!(text, "The sky is blue.");
        let last = chunks.last().unwrap();
        assert!(last.choices.is_empty());
        assert_eq!(last.usage.as_ref().unwrap().prompt_tokens, 26);
        assert_eq!(last.usage.as_ref().unwrap().completion_tokens, 298);
        let finish = &chunks[chunks.len() - 2];
        assert_eq!(finish.choices[0].finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn streamed_tool_calls() {
        let (chunks, _) =
            run(&mut OllamaChatDecoder::new(Api::Chat, "qwen3"), TOOL_STREAM).unwrap();
        let calls: Vec<_> = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .filter_map(|c| c.delta.tool_calls.clone())
            .flatten()
            .collect();
        assert_eq!(calls.len(), 2);
        assert_eq!((calls[0].index, calls[1].index), (0, 1));
        assert_eq!(
            calls[1].function.as_ref().unwrap().name.as_deref(),
            Some("get_time")
        );
        let reasons: Vec<_> = chunks
            .iter()
            .flat_map(|c| c.choices.iter())
            .filter_map(|c| c.finish_reason.clone())
            .collect();
        assert_eq!(reasons, ["tool_calls"]);
    }

    #[test]
    fn error_line_mid_stream() {
        let text = "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n{\"error\":\"an error was encountered while running the model\"}";
        let error = run(&mut OllamaChatDecoder::new(Api::Chat, "m"), text).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InternalServer);
        assert!(error.message().contains("an error was encountered"));
    }
}
