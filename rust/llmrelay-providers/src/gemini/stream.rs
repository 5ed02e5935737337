//! `streamGenerateContent?alt=sse` → `chat.completion.chunk`s. Each SSE `data:` event is a
//! whole `GenerateContentResponse` holding the new parts
//! (<https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent>).
//! The stream has no terminal event: it is complete once every candidate reported a
//! `finishReason` (or the prompt was blocked); usage comes last, as its own chunk.

use serde_json::{Value, json};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChunkChoice, Delta, FunctionCallDelta, JsonMap, ToolCallDelta, Usage,
};
use llmrelay_core::{Error, ErrorKind, Result};

use super::error::{GoogleApi, stream_error_for};
use super::response::{finish_reason, new_response_id, split_parts, usage_from};
use super::types::GeminiResponse;
use crate::provider::ChunkDecoder;
use crate::sse::RawEvent;
use llmrelay_core::clock::now_unix;

/// Decoder for one Gemini stream.
#[derive(Debug)]
pub struct GeminiChatDecoder {
    api: GoogleApi,
    id: Option<String>,
    created: u64,
    model: String,
    expected_candidates: usize,
    /// Per candidate: tool calls sent so far (the next OpenAI `index`), whether it finished.
    tool_calls: Vec<u32>,
    finished: Vec<bool>,
    role_sent: Vec<bool>,
    usage: Option<Usage>,
}

impl GeminiChatDecoder {
    #[must_use]
    pub fn new(request: &ChatRequest, api: GoogleApi) -> Self {
        let expected = request.n.map_or(1, |n| n.max(1) as usize);
        Self {
            api,
            id: None,
            created: now_unix(),
            model: request.model.clone(),
            expected_candidates: expected,
            tool_calls: vec![0; expected],
            finished: vec![false; expected],
            role_sent: vec![false; expected],
            usage: None,
        }
    }

    fn chunk(&self, choices: Vec<ChunkChoice>, usage: Option<Usage>) -> ChatChunk {
        ChatChunk {
            id: self.id.clone().unwrap_or_default(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            system_fingerprint: None,
            choices,
            usage,
            extra: JsonMap::new(),
        }
    }

    fn slot(&mut self, index: usize) -> usize {
        if index >= self.finished.len() {
            self.finished.resize(index + 1, false);
            self.tool_calls.resize(index + 1, 0);
            self.role_sent.resize(index + 1, false);
        }
        index
    }

    fn finish(&self, out: &mut Vec<ChatChunk>) -> bool {
        if let Some(usage) = &self.usage {
            out.push(self.chunk(Vec::new(), Some(usage.clone())));
        }
        true
    }
}

impl ChunkDecoder<ChatChunk> for GeminiChatDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(data == "[DONE]" && self.finish(out));
        }
        let value: Value = serde_json::from_str(data).map_err(|e| {
            Error::new(
                ErrorKind::Api,
                format!("Unexpected stream event from upstream: {e}: {data}"),
            )
            .with_status(500)
        })?;
        // An error in place of a chunk; some proxies wrap it in a list.
        let error = value
            .get("error")
            .or_else(|| value.get(0).and_then(|v| v.get("error")));
        if let Some(error) = error {
            return Err(stream_error_for(self.api, error));
        }
        let parsed: GeminiResponse = serde_json::from_value(value).map_err(|e| {
            Error::new(
                ErrorKind::Api,
                format!("Unexpected Gemini stream chunk: {e}"),
            )
            .with_status(500)
        })?;
        if self.id.is_none() {
            self.id = Some(
                parsed
                    .response_id
                    .clone()
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(new_response_id),
            );
        }
        if let Some(metadata) = &parsed.usage_metadata {
            self.usage = Some(usage_from(metadata));
        }
        let blocked = parsed
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.as_ref())
            .is_some();
        if blocked {
            let delta = Delta {
                role: Some("assistant".to_owned()),
                ..Delta::default()
            };
            let choice = ChunkChoice {
                index: 0,
                delta,
                finish_reason: Some("content_filter".to_owned()),
                logprobs: None,
            };
            out.push(self.chunk(vec![choice], None));
            return Ok(self.finish(out));
        }
        let mut choices = Vec::with_capacity(parsed.candidates.len());
        for (position, candidate) in parsed.candidates.iter().enumerate() {
            let index = self.slot(candidate.index.map_or(position, |i| i as usize));
            let parts = split_parts(candidate);
            let mut delta = Delta {
                content: parts.text,
                reasoning_content: parts.reasoning,
                ..Delta::default()
            };
            if !self.role_sent[index] {
                delta.role = Some("assistant".to_owned());
                self.role_sent[index] = true;
            }
            if !parts.signatures.is_empty() {
                delta.extra.insert(
                    "provider_specific_fields".to_owned(),
                    json!({ "thought_signatures": parts.signatures }),
                );
            }
            let had_calls = self.tool_calls[index] > 0;
            if !parts.tool_calls.is_empty() {
                let deltas = parts
                    .tool_calls
                    .into_iter()
                    .map(|call| {
                        let delta = ToolCallDelta {
                            index: self.tool_calls[index],
                            id: Some(call.id),
                            kind: Some("function".to_owned()),
                            function: Some(FunctionCallDelta {
                                name: Some(call.function.name),
                                arguments: Some(call.function.arguments),
                            }),
                        };
                        self.tool_calls[index] += 1;
                        delta
                    })
                    .collect();
                delta.tool_calls = Some(deltas);
            }
            let finish = candidate.finish_reason.as_ref().map(|_| {
                self.finished[index] = true;
                finish_reason(candidate, had_calls || self.tool_calls[index] > 0)
            });
            choices.push(ChunkChoice {
                index: u32::try_from(index).unwrap_or(0),
                delta,
                finish_reason: finish,
                logprobs: candidate.logprobs_result.clone(),
            });
        }
        if !choices.is_empty() {
            out.push(self.chunk(choices, None));
        }
        let done = self.finished.iter().filter(|f| **f).count() >= self.expected_candidates;
        Ok(done && self.finish(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ChatRequest {
        serde_json::from_value(
            json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .unwrap()
    }

    fn decode_all(events: &[Value]) -> (Vec<ChatChunk>, Result<bool>) {
        let mut decoder = GeminiChatDecoder::new(&request(), GoogleApi::Gemini);
        let mut out = Vec::new();
        let mut last = Ok(false);
        for event in events {
            let raw = RawEvent {
                event: String::new(),
                data: event.to_string(),
            };
            last = decoder.decode(&raw, &mut out);
            if !matches!(last, Ok(false)) {
                break;
            }
        }
        (out, last)
    }

    #[test]
    fn text_thoughts_tools_and_usage() {
        let (chunks, last) = decode_all(&[
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "plan", "thought": true}]}}], "responseId": "r1"}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hello"}]}}]}),
            json!({"candidates": [{"content": {"role": "model", "parts": [
                {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "U0lH"}]},
                "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 3, "totalTokenCount": 18}}),
        ]);
        assert!(matches!(last, Ok(true)));
        assert_eq!(chunks[0].id, "r1");
        assert_eq!(
            chunks[0].choices[0].delta.reasoning_content.as_deref(),
            Some("plan")
        );
        assert_eq!(
            chunks[0].choices[0].delta.role.as_deref(),
            Some("assistant")
        );
        assert_eq!(chunks[1].choices[0].delta.content.as_deref(), Some("Hello"));
        let call = &chunks[2].choices[0].delta.tool_calls.as_ref().unwrap()[0];
        assert!(call.id.as_ref().unwrap().ends_with("__thought__U0lH"));
        assert_eq!(
            call.function.as_ref().unwrap().arguments.as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(
            chunks[2].choices[0].finish_reason.as_deref(),
            Some("tool_calls")
        );
        let usage = chunks[3].usage.as_ref().unwrap();
        assert_eq!(usage.completion_tokens, 8);
        assert!(chunks[3].choices.is_empty());
    }

    #[test]
    fn blocked_prompt_and_errors() {
        let (chunks, last) = decode_all(&[json!({"promptFeedback": {"blockReason": "SAFETY"}})]);
        assert!(matches!(last, Ok(true)));
        assert_eq!(
            chunks[0].choices[0].finish_reason.as_deref(),
            Some("content_filter")
        );
        let (_, last) = decode_all(&[
            json!({"candidates": [{"content": {"parts": [{"text": "a"}]}}]}),
            json!({"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}),
        ]);
        assert_eq!(last.unwrap_err().kind(), ErrorKind::RateLimit);
    }
}
