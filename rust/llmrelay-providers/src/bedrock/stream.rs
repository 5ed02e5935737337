//! ConverseStream events → OpenAI chunks: a small state machine over the `ConverseStreamOutput`
//! members (`messageStart`, `contentBlockStart`, `contentBlockDelta`, `contentBlockStop`,
//! `messageStop`, `metadata`), ending on `metadata`, which carries the usage.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use llmrelay_core::types::{
    ChatChunk, ChunkChoice, Delta, FunctionCallDelta, JsonMap, ToolCallDelta,
};
use llmrelay_core::{Error, Result};

use super::error::stream_error;
use super::request::RESPONSE_FORMAT_TOOL_NAME;
use super::response::{finish_reason, usage_from};
use super::types::{BedrockReasoningContent, BedrockTokenUsage};
use crate::aws_eventstream::{ERROR_PREFIX, EXCEPTION_PREFIX};
use crate::provider::ChunkDecoder;
use crate::sse::RawEvent;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart {
    #[serde(default)]
    content_block_index: u32,
    #[serde(default)]
    start: Option<StartMember>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartMember {
    #[serde(default)]
    tool_use: Option<ToolUseStart>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseStart {
    tool_use_id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta {
    #[serde(default)]
    content_block_index: u32,
    delta: DeltaMember,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeltaMember {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_use: Option<ToolUseDelta>,
    /// Kept raw too: LiteLLM exposes it as `provider_specific_fields.reasoningContent`.
    #[serde(default)]
    reasoning_content: Option<Value>,
    #[serde(default)]
    citation: Option<Value>,
}

#[derive(Deserialize)]
struct ToolUseDelta {
    #[serde(default)]
    input: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReasoningDelta {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    redacted_content: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageStop {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    usage: Option<BedrockTokenUsage>,
}

/// Where a content block's deltas go.
#[derive(Clone, Copy)]
enum Block {
    /// OpenAI tool-call index.
    Tool(u32),
    /// The JSON-mode tool: its input is the answer text.
    JsonAnswer,
}

/// Decoder for one ConverseStream.
pub struct BedrockChatDecoder {
    id: String,
    model: String,
    created: u64,
    json_mode: bool,
    blocks: HashMap<u32, Block>,
    tool_calls: u32,
    reasoning: String,
    thinking_ran: bool,
    json_answer_only: bool,
}

impl BedrockChatDecoder {
    #[must_use]
    pub fn new(model: &str, json_mode: bool) -> Self {
        Self {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            model: model.to_owned(),
            created: llmrelay_core::clock::now_unix(),
            json_mode,
            blocks: HashMap::new(),
            tool_calls: 0,
            reasoning: String::new(),
            thinking_ran: false,
            json_answer_only: false,
        }
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            system_fingerprint: None,
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
                logprobs: None,
            }],
            usage: None,
            extra: JsonMap::new(),
        }
    }

    fn tool_delta(
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    ) -> Delta {
        Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index,
                kind: id.as_ref().map(|_| "function".to_owned()),
                id,
                function: Some(FunctionCallDelta {
                    name,
                    arguments: Some(arguments),
                }),
            }]),
            ..Delta::default()
        }
    }

    fn on_delta(&mut self, event: BlockDelta, out: &mut Vec<ChatChunk>) {
        let delta = event.delta;
        if let Some(text) = delta.text {
            out.push(self.chunk(
                Delta {
                    content: Some(text),
                    ..Delta::default()
                },
                None,
            ));
        }
        if let Some(tool) = delta.tool_use {
            match self.blocks.get(&event.content_block_index).copied() {
                Some(Block::JsonAnswer) => out.push(self.chunk(
                    Delta {
                        content: Some(tool.input),
                        ..Delta::default()
                    },
                    None,
                )),
                Some(Block::Tool(index)) => {
                    out.push(self.chunk(Self::tool_delta(index, None, None, tool.input), None));
                }
                // Input for a block that never started: count it as a new call.
                None => {
                    let index = self.tool_calls;
                    self.tool_calls += 1;
                    self.blocks
                        .insert(event.content_block_index, Block::Tool(index));
                    out.push(self.chunk(Self::tool_delta(index, None, None, tool.input), None));
                }
            }
        }
        if let Some(raw) = delta.reasoning_content {
            let reasoning: ReasoningDelta =
                serde_json::from_value(raw.clone()).unwrap_or(ReasoningDelta {
                    text: None,
                    signature: None,
                    redacted_content: None,
                });
            self.thinking_ran = true;
            let block = BedrockReasoningContent {
                reasoning_text: (reasoning.text.is_some() || reasoning.signature.is_some()).then(
                    || super::types::BedrockReasoningText {
                        text: reasoning.text.clone().unwrap_or_default(),
                        signature: reasoning.signature.clone(),
                    },
                ),
                redacted_content: reasoning.redacted_content.clone(),
            };
            let mut delta = Delta {
                thinking_blocks: super::response::thinking_block(&block).map(|b| vec![b]),
                ..Delta::default()
            };
            // A signature or redacted delta still carries `reasoning_content: ""`, as LiteLLM
            // (and Anthropic's stream) sends it.
            let text = reasoning.text.unwrap_or_default();
            self.reasoning.push_str(&text);
            delta.reasoning_content = Some(text);
            delta.extra.insert(
                "provider_specific_fields".to_owned(),
                json!({"reasoningContent": raw}),
            );
            out.push(self.chunk(delta, None));
        }
        if let Some(citation) = delta.citation {
            let mut delta = Delta::default();
            delta.extra.insert(
                "provider_specific_fields".to_owned(),
                json!({"citation": citation}),
            );
            out.push(self.chunk(delta, None));
        }
    }
}

fn parse<'a, T: Deserialize<'a>>(event: &'a RawEvent) -> Result<T> {
    serde_json::from_str(&event.data).map_err(|e| {
        Error::connection(format!(
            "BedrockException - malformed {} event ({e}): {}",
            event.event, event.data
        ))
    })
}

impl ChunkDecoder<ChatChunk> for BedrockChatDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        if let Some(kind) = event
            .event
            .strip_prefix(EXCEPTION_PREFIX)
            .or_else(|| event.event.strip_prefix(ERROR_PREFIX))
        {
            return Err(stream_error(kind, &event.data));
        }
        match event.event.as_str() {
            "messageStart" => out.push(self.chunk(
                Delta {
                    role: Some("assistant".to_owned()),
                    content: Some(String::new()),
                    ..Delta::default()
                },
                None,
            )),
            "contentBlockStart" => {
                let start: BlockStart = parse(event)?;
                if let Some(tool) = start.start.and_then(|s| s.tool_use) {
                    if self.json_mode && tool.name == RESPONSE_FORMAT_TOOL_NAME {
                        self.blocks
                            .insert(start.content_block_index, Block::JsonAnswer);
                        self.json_answer_only = self.tool_calls == 0;
                    } else {
                        let index = self.tool_calls;
                        self.tool_calls += 1;
                        self.json_answer_only = false;
                        self.blocks
                            .insert(start.content_block_index, Block::Tool(index));
                        out.push(self.chunk(
                            Self::tool_delta(
                                index,
                                Some(tool.tool_use_id),
                                Some(tool.name),
                                String::new(),
                            ),
                            None,
                        ));
                    }
                }
            }
            "contentBlockDelta" => {
                let delta: BlockDelta = parse(event)?;
                self.on_delta(delta, out);
            }
            "messageStop" => {
                let stop: MessageStop = parse(event)?;
                let mut reason = stop.stop_reason.as_deref().map_or("stop", finish_reason);
                if reason == "tool_calls" && self.json_answer_only {
                    reason = "stop";
                }
                out.push(self.chunk(Delta::default(), Some(reason.to_owned())));
            }
            "metadata" => {
                let metadata: Metadata = parse(event)?;
                if let Some(usage) = metadata.usage {
                    out.push(ChatChunk {
                        choices: Vec::new(),
                        usage: Some(usage_from(&usage, &self.reasoning, self.thinking_ran)),
                        ..self.chunk(Delta::default(), None)
                    });
                }
                return Ok(true);
            }
            // contentBlockStop and members added later carry nothing to emit.
            _ => {}
        }
        Ok(false)
    }
}
