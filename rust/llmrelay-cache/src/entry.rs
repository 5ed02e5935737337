//! What the cache stores for one answer, and how a hit is served from it: whole, or replayed
//! as a stream of chunks in the shape an upstream stream has.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use llmrelay_core::types::{
    ChatChunk, ChatResponse, ChunkChoice, Delta, EmbeddingResponse, FunctionCallDelta, TextChoice,
    TextCompletionResponse, ToolCallDelta,
};
use llmrelay_providers::engine::{CompletionResult, HiddenParams, Outcome, TextOutcome};

/// A cached answer (our format: a LiteLLM deployment cannot read it, nor we its).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Unix seconds when it was stored (`s-maxage` is checked against it).
    pub timestamp: f64,
    /// The provider and upstream model that produced it (`_hidden_params` of a hit).
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub model: String,
    pub answer: Stored,
}

/// The answer itself, by kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stored {
    Chat(ChatResponse),
    Text(TextCompletionResponse),
    Embedding(EmbeddingResponse),
}

impl Stored {
    /// The answer of a call of this kind from the JSON accounting kept (`record.response`).
    #[must_use]
    pub fn from_json(kind: StoredKind, response: &Value) -> Option<Self> {
        Some(match kind {
            StoredKind::Chat => Self::Chat(serde_json::from_value(response.clone()).ok()?),
            StoredKind::Text => Self::Text(serde_json::from_value(response.clone()).ok()?),
            StoredKind::Embedding => {
                Self::Embedding(serde_json::from_value(response.clone()).ok()?)
            }
        })
    }
}

/// Which kind of answer a call expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredKind {
    Chat,
    Text,
    Embedding,
}

impl Entry {
    /// Seconds since it was stored.
    #[must_use]
    pub fn age(&self, now: f64) -> f64 {
        (now - self.timestamp).max(0.0)
    }

    /// The answer to serve for a call expecting `kind` (a stream when `stream`), marked as a
    /// cache hit under `key`; `None` when the entry holds another kind.
    #[must_use]
    pub fn serve(
        &self,
        kind: StoredKind,
        stream: bool,
        include_usage: bool,
        key: &str,
    ) -> Option<Outcome> {
        let hidden = HiddenParams {
            custom_llm_provider: self.provider.clone(),
            model: self.model.clone(),
            response_cost: Some(0.0),
            cache_hit: true,
            cache_key: Some(key.to_owned()),
            ..HiddenParams::default()
        };
        match (&self.answer, kind) {
            (Stored::Chat(response), StoredKind::Chat) if stream => {
                let chunks = replay_chunks(response, include_usage);
                Some(llmrelay_pipeline::replay::chat_stream(
                    chunks,
                    response.usage.clone(),
                    hidden,
                ))
            }
            (Stored::Chat(response), StoredKind::Chat) => Some(
                llmrelay_pipeline::replay::chat_whole(response.clone(), hidden),
            ),
            (Stored::Text(response), StoredKind::Text) if stream => {
                Some(llmrelay_pipeline::replay::text_stream(
                    replay_text_chunks(response, include_usage),
                    response.usage.clone(),
                    hidden,
                ))
            }
            (Stored::Text(response), StoredKind::Text) => {
                Some(Outcome::Text(TextOutcome::Whole(CompletionResult {
                    response: response.clone(),
                    hidden,
                })))
            }
            (Stored::Embedding(response), StoredKind::Embedding) => {
                Some(Outcome::Embedding(CompletionResult {
                    response: response.clone(),
                    hidden,
                }))
            }
            _ => None,
        }
    }
}

/// A whole chat answer as the chunks of a stream: per choice, the role with the text (and
/// reasoning), the tool calls with their whole arguments, then the finish reason; a usage
/// chunk last when the caller asked for one.
#[must_use]
pub fn replay_chunks(response: &ChatResponse, include_usage: bool) -> Vec<ChatChunk> {
    let chunk = |choices: Vec<ChunkChoice>| ChatChunk {
        id: response.id.clone(),
        object: "chat.completion.chunk".to_owned(),
        created: response.created,
        model: response.model.clone(),
        system_fingerprint: response.system_fingerprint.clone(),
        choices,
        usage: None,
        extra: serde_json::Map::new(),
    };
    let mut chunks = Vec::with_capacity(response.choices.len() * 2 + 1);
    for choice in &response.choices {
        let message = &choice.message;
        let tool_calls = message.tool_calls.as_ref().map(|calls| {
            calls
                .iter()
                .zip(0u32..)
                .map(|(call, index)| ToolCallDelta {
                    index,
                    id: Some(call.id.clone()),
                    kind: Some(call.kind.clone()),
                    function: Some(FunctionCallDelta {
                        name: Some(call.function.name.clone()),
                        arguments: Some(call.function.arguments.clone()),
                    }),
                })
                .collect()
        });
        chunks.push(chunk(vec![ChunkChoice {
            index: choice.index,
            delta: Delta {
                role: Some(message.role.clone()),
                content: message.content.clone(),
                tool_calls,
                function_call: message.function_call.clone(),
                reasoning_content: message.reasoning_content.clone(),
                thinking_blocks: message.thinking_blocks.clone(),
                extra: serde_json::Map::new(),
            },
            finish_reason: None,
            logprobs: choice.logprobs.clone(),
        }]));
        chunks.push(chunk(vec![ChunkChoice {
            index: choice.index,
            delta: Delta::default(),
            finish_reason: choice
                .finish_reason
                .clone()
                .or_else(|| Some("stop".to_owned())),
            logprobs: None,
        }]));
    }
    if include_usage {
        let mut last = chunk(Vec::new());
        last.usage.clone_from(&response.usage);
        chunks.push(last);
    }
    chunks
}

/// A whole text completion as the chunks of a stream: per choice, its text, then its finish
/// reason; a usage chunk (no choices) last when the caller asked for one.
#[must_use]
pub fn replay_text_chunks(
    response: &TextCompletionResponse,
    include_usage: bool,
) -> Vec<TextCompletionResponse> {
    let chunk = |choices: Vec<TextChoice>| TextCompletionResponse {
        id: response.id.clone(),
        object: "text_completion".to_owned(),
        created: response.created,
        model: response.model.clone(),
        system_fingerprint: response.system_fingerprint.clone(),
        choices,
        usage: None,
        extra: serde_json::Map::new(),
    };
    let mut chunks = Vec::with_capacity(response.choices.len() * 2 + 1);
    for choice in &response.choices {
        chunks.push(chunk(vec![TextChoice {
            index: choice.index,
            text: choice.text.clone(),
            logprobs: choice.logprobs.clone(),
            finish_reason: None,
        }]));
        chunks.push(chunk(vec![TextChoice {
            index: choice.index,
            text: String::new(),
            logprobs: None,
            finish_reason: choice
                .finish_reason
                .clone()
                .or_else(|| Some("stop".to_owned())),
        }]));
    }
    if include_usage {
        let mut last = chunk(Vec::new());
        last.usage.clone_from(&response.usage);
        chunks.push(last);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_chat_answer_replays_as_chunks_that_rebuild_it() {
        let response: ChatResponse = serde_json::from_value(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 7, "model": "m",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "hello",
                "tool_calls": [{"id": "c1", "type": "function",
                                "function": {"name": "f", "arguments": "{\"a\":1}"}}]}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }))
        .unwrap_or_else(|e| unreachable!("{e}"));
        let chunks = replay_chunks(&response, true);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].choices[0].delta.content.as_deref(), Some("hello"));
        assert_eq!(
            chunks[1].choices[0].finish_reason.as_deref(),
            Some("tool_calls")
        );
        assert!(chunks[2].choices.is_empty());
        assert_eq!(chunks[2].usage.as_ref().map(|u| u.total_tokens), Some(5));
        let mut assembler = llmrelay_core::assemble::ChatAssembler::new();
        for chunk in &chunks {
            assembler.push(chunk);
        }
        let rebuilt = assembler
            .finish(None)
            .unwrap_or_else(|| unreachable!("chunks rebuild an answer"));
        assert_eq!(rebuilt.choices[0].message.content.as_deref(), Some("hello"));
        assert_eq!(
            rebuilt.choices[0].message.tool_calls.as_ref().map(Vec::len),
            Some(1)
        );
        assert_eq!(replay_chunks(&response, false).len(), 2);
    }

    #[test]
    fn a_text_completion_replays_as_chunks_that_rebuild_it() {
        let response: TextCompletionResponse = serde_json::from_value(json!({
            "id": "cmpl-1", "object": "text_completion", "created": 7, "model": "m",
            "choices": [{"index": 0, "text": "hello there", "finish_reason": "length",
                         "logprobs": null}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }))
        .unwrap_or_else(|e| unreachable!("{e}"));
        let chunks = replay_text_chunks(&response, true);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].choices[0].text, "hello there");
        assert_eq!(
            chunks[1].choices[0].finish_reason.as_deref(),
            Some("length")
        );
        assert!(chunks[2].choices.is_empty());
        assert_eq!(chunks[2].usage.as_ref().map(|u| u.total_tokens), Some(5));
        let mut assembler = llmrelay_core::assemble::TextAssembler::new();
        for chunk in &chunks {
            assembler.push(chunk);
        }
        let rebuilt = assembler
            .finish(None)
            .unwrap_or_else(|| unreachable!("chunks rebuild an answer"));
        assert_eq!(rebuilt.choices[0].text, "hello there");
        assert_eq!(rebuilt.choices[0].finish_reason.as_deref(), Some("length"));
        assert_eq!(replay_text_chunks(&response, false).len(), 2);
    }
}
