//! Streamed Messages answers: named SSE events in Anthropic's order, one content block at a time.

use serde::Serialize;
use serde_json::Map;

use super::response::{AnthropicMessage, AnthropicUsage, ContentBlock, MessagePlan, PlannedBlock};
use crate::shaping::split_even;
use crate::sse::{SseEvents, SseWriter};

/// Tool input JSON is streamed in at least this many non-empty pieces, so clients must join deltas.
const MIN_INPUT_JSON_PIECES: usize = 3;

/// One stream event; the SSE event name is the `type` of its data.
/// Follows: anthropic-sdk-python `types/raw_message_stream_event.py` (`RawMessageStartEvent`,
/// `RawContentBlockStartEvent`, `RawContentBlockDeltaEvent`, `RawContentBlockStopEvent`,
/// `RawMessageDeltaEvent`, `RawMessageStopEvent`) plus the `ping` event of "Streaming Messages".
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent<'a> {
    MessageStart {
        message: AnthropicMessage<'a>,
    },
    ContentBlockStart {
        index: usize,
        content_block: ContentBlock<'a>,
    },
    Ping,
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta<'a>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDeltaBody<'a>,
        usage: MessageDeltaUsage,
    },
    MessageStop,
}

impl StreamEvent<'_> {
    fn name(&self) -> &'static str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::Ping => "ping",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
        }
    }
}

/// Follows: anthropic-sdk-python `types/raw_content_block_delta_event.py` (`TextDelta`, `InputJSONDelta`,
/// `ThinkingDelta`, `SignatureDelta`).
#[derive(Serialize)]
#[serde(tag = "type")]
enum BlockDelta<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
}

/// Follows: anthropic-sdk-python `types/raw_message_delta_event.py` (`Delta`).
#[derive(Serialize)]
struct MessageDeltaBody<'a> {
    stop_reason: &'static str,
    stop_sequence: Option<&'a str>,
}

/// Cumulative usage at the end of the stream.
/// Follows: anthropic-sdk-python `types/message_delta_usage.py`.
#[derive(Serialize)]
struct MessageDeltaUsage {
    input_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
    output_tokens: u64,
}

struct EventWriter {
    writer: SseWriter,
}

impl EventWriter {
    fn send(&mut self, event: &StreamEvent<'_>) {
        self.writer.named_json(event.name(), event);
    }

    fn delta(&mut self, index: usize, delta: BlockDelta<'_>) {
        self.send(&StreamEvent::ContentBlockDelta { index, delta });
    }
}

/// A Messages stream: `message_start`, then per block `content_block_start`, its deltas and
/// `content_block_stop` (a `ping` after the first block starts), `message_delta` with the stop reason and
/// usage, `message_stop`.
/// Follows: "Streaming Messages" ("Event types", "Content block delta types", and the full HTTP stream
/// examples: basic, with tool use, with thinking).
pub(super) fn render_message_stream(
    plan: &MessagePlan<'_>,
    id: &str,
    chunk_count: usize,
) -> SseEvents {
    let mut out = EventWriter {
        writer: SseWriter::with_capacity(600 + 220 * (plan.blocks.len() + 1) * (chunk_count + 2)),
    };
    out.send(&StreamEvent::MessageStart {
        message: AnthropicMessage {
            id,
            kind: "message",
            role: "assistant",
            model: plan.model,
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: AnthropicUsage::new(&plan.input, 1),
        },
    });
    let empty_input = Map::new();
    for (index, block) in plan.blocks.iter().enumerate() {
        let start = match block {
            PlannedBlock::Thinking { .. } => ContentBlock::Thinking {
                thinking: "",
                signature: "",
            },
            PlannedBlock::RedactedThinking { data } => ContentBlock::RedactedThinking { data },
            PlannedBlock::Text(_) => ContentBlock::Text { text: "" },
            PlannedBlock::ToolUse(tool_use) => ContentBlock::ToolUse {
                id: &tool_use.id,
                name: tool_use.name,
                input: &empty_input,
            },
        };
        out.send(&StreamEvent::ContentBlockStart {
            index,
            content_block: start,
        });
        if index == 0 {
            out.send(&StreamEvent::Ping);
        }
        match block {
            PlannedBlock::Thinking {
                thinking,
                signature,
            } => {
                for piece in split_even(thinking, chunk_count) {
                    out.delta(index, BlockDelta::Thinking { thinking: piece });
                }
                out.delta(index, BlockDelta::Signature { signature });
            }
            PlannedBlock::RedactedThinking { .. } => {}
            PlannedBlock::Text(text) => {
                for piece in split_even(text, chunk_count) {
                    out.delta(index, BlockDelta::Text { text: piece });
                }
            }
            PlannedBlock::ToolUse(tool_use) => {
                // Anthropic opens every tool input with an empty piece.
                out.delta(index, BlockDelta::InputJson { partial_json: "" });
                let pieces =
                    split_even(&tool_use.input_json, chunk_count.max(MIN_INPUT_JSON_PIECES));
                for piece in pieces {
                    out.delta(
                        index,
                        BlockDelta::InputJson {
                            partial_json: piece,
                        },
                    );
                }
            }
        }
        out.send(&StreamEvent::ContentBlockStop { index });
    }
    if plan.blocks.is_empty() {
        out.send(&StreamEvent::Ping);
    }
    out.send(&StreamEvent::MessageDelta {
        delta: MessageDeltaBody {
            stop_reason: plan.stop_reason,
            stop_sequence: plan.stop_sequence,
        },
        usage: MessageDeltaUsage {
            input_tokens: plan.input.input_tokens,
            cache_creation_input_tokens: plan.input.cache_creation_input_tokens,
            cache_read_input_tokens: plan.input.cache_read_input_tokens,
            output_tokens: plan.output_tokens,
        },
    });
    out.writer.terminal();
    out.send(&StreamEvent::MessageStop);
    out.writer.finish()
}
