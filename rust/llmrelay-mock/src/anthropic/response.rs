//! Messages answers: the plan (thinking, text, tool calls, stop reason, usage) and the whole `message` object.

use std::borrow::Cow;

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};

use super::request::{Endpoint, MessagesRequest, ToolChoice};
use super::tokens::{CacheCreation, InputUsage, PromptCount, UsageOverrides};
use crate::MockState;
use crate::exchange::{Exchange, new_id};
use crate::faults::ErrorSpec;
use crate::shaping::{char_boundary, cut, estimate_tokens, mock_input};

/// The thinking text of every mock answer with thinking enabled.
pub(super) const THINKING_TEXT: &str = "The user wants a reply. I will answer briefly and clearly, using the tools offered when they help.";

/// The text before tool calls when the model chooses tools itself (`tool_choice` auto).
pub(super) const TOOL_PREAMBLE: &str = "I'll check that.";

/// Anthropic reports the tier that served the request; the mock always serves `standard`.
const SERVICE_TIER: &str = "standard";

#[derive(Debug)]
pub(super) struct PlannedToolUse<'a> {
    pub id: String,
    pub name: &'a str,
    pub input: Map<String, Value>,
    /// `input` as compact JSON, the text streamed in `input_json_delta` pieces.
    pub input_json: String,
}

#[derive(Debug)]
pub(super) enum PlannedBlock<'a> {
    Thinking {
        thinking: &'a str,
        signature: String,
    },
    RedactedThinking {
        data: String,
    },
    Text(Cow<'a, str>),
    ToolUse(PlannedToolUse<'a>),
}

/// Everything a Messages answer needs, decided before rendering it whole or streamed.
#[derive(Debug)]
pub(super) struct MessagePlan<'a> {
    pub model: &'a str,
    pub blocks: Vec<PlannedBlock<'a>>,
    pub stop_reason: &'static str,
    pub stop_sequence: Option<&'a str>,
    pub input: InputUsage,
    pub output_tokens: u64,
    pub stream: bool,
}

impl<'a> MessagePlan<'a> {
    /// Validates the request and picks the answer: optional thinking, then text and/or tool calls.
    ///
    /// Prompt-cache prefixes are looked up and written here, so a valid request counts as a cache write.
    pub(super) fn new(
        body: Option<&'a Value>,
        exchange: &'a Exchange,
        state: &MockState,
        betas: &str,
    ) -> Result<MessagePlan<'a>, ErrorSpec> {
        let request = MessagesRequest::parse(body, Endpoint::Messages, betas)?;
        let prompt = PromptCount::new(&request);
        let prefixes = prompt.prefix_hashes();
        let cache_hit = if prefixes.is_empty() {
            None
        } else {
            state.prompt_cache_read_then_write(&prefixes)
        };
        let input = prompt.usage(cache_hit, UsageOverrides::of(exchange));
        let max_tokens = request.max_tokens.unwrap_or(u64::MAX);

        let mut blocks = Vec::with_capacity(4);
        let mut output_tokens = 0;
        if request.thinking.is_on() {
            blocks.push(PlannedBlock::Thinking {
                thinking: THINKING_TEXT,
                signature: opaque_base64(THINKING_TEXT, 96),
            });
            output_tokens += estimate_tokens(THINKING_TEXT.len());
            if exchange.controls.redacted_thinking {
                let data = opaque_base64(request.model, 192);
                output_tokens += estimate_tokens(data.len());
                blocks.push(PlannedBlock::RedactedThinking { data });
            }
        }
        let mut tool_uses = if request.wants_tool_use() {
            plan_tool_uses(&request)
        } else {
            Vec::new()
        };
        let text: Option<Cow<'a, str>> = match (tool_uses.is_empty(), request.tool_choice) {
            (true, _) => match request.output_schema {
                Some(schema) if !exchange.has_content_override() => {
                    Some(Cow::Owned(crate::shaping::mock_object(Some(schema))))
                }
                _ => Some(Cow::Borrowed(exchange.content())),
            },
            // With `any` or `tool` the API prefills the turn, so no text comes before the tool calls.
            (false, ToolChoice::Auto { .. }) => Some(Cow::Borrowed(TOOL_PREAMBLE)),
            (false, _) => None,
        };
        let mut stop_reason = if tool_uses.is_empty() {
            "end_turn"
        } else {
            "tool_use"
        };
        let mut stop_sequence = None;
        if let Some(text) = text {
            let remaining = max_tokens.saturating_sub(output_tokens);
            let shaped = shape_text(text, &request.stop_sequences, remaining);
            output_tokens += shaped.tokens;
            if let Some((reason, sequence)) = shaped.stop {
                // The answer ended inside the text: no tool calls follow.
                tool_uses.clear();
                stop_reason = reason;
                stop_sequence = sequence;
            }
            if !shaped.text.is_empty() {
                blocks.push(PlannedBlock::Text(shaped.text));
            }
        }
        for tool_use in tool_uses {
            output_tokens += estimate_tokens(tool_use.name.len() + tool_use.input_json.len());
            blocks.push(PlannedBlock::ToolUse(tool_use));
        }
        Ok(MessagePlan {
            model: request.model,
            blocks,
            stop_reason,
            stop_sequence,
            input,
            // "output_tokens will be non-zero, even for an empty string response" (SDK `Message.usage`).
            output_tokens: exchange.completion_tokens().unwrap_or(output_tokens).max(1),
            stream: request.stream,
        })
    }
}

/// The tool calls of an answer: the forced tool, else the first tool, or the first two when parallel use is
/// allowed and there are two or more.
fn plan_tool_uses<'a>(request: &MessagesRequest<'a>) -> Vec<PlannedToolUse<'a>> {
    let chosen: Vec<(&'a str, Option<&'a Value>)> = match request.tool_choice {
        ToolChoice::Tool { name } => {
            let schema = request
                .custom_tools
                .iter()
                .find(|tool| tool.name == name)
                .map(|tool| tool.input_schema);
            vec![(name, schema)]
        }
        ToolChoice::Auto { parallel } | ToolChoice::Any { parallel } => {
            let count = if parallel && request.custom_tools.len() >= 2 {
                2
            } else {
                1
            };
            request
                .custom_tools
                .iter()
                .take(count)
                .map(|tool| (tool.name, Some(tool.input_schema)))
                .collect()
        }
        ToolChoice::None => Vec::new(),
    };
    chosen
        .into_iter()
        .map(|(name, schema)| {
            let input = mock_input(schema);
            let input_json = serde_json::to_string(&input).unwrap_or_default();
            PlannedToolUse {
                id: new_id("toolu_"),
                name,
                input,
                input_json,
            }
        })
        .collect()
}

struct ShapedText<'a> {
    text: Cow<'a, str>,
    tokens: u64,
    /// Why the text ended early: (`stop_sequence`, the sequence) or (`max_tokens`, none).
    stop: Option<(&'static str, Option<&'a str>)>,
}

/// Cuts the text at the first stop sequence, then at the remaining output budget (4 characters per token).
fn shape_text<'a>(text: Cow<'a, str>, stops: &[&'a str], budget: u64) -> ShapedText<'a> {
    let first_stop = stops
        .iter()
        .filter(|stop| !stop.is_empty())
        .filter_map(|stop| text.find(stop).map(|at| (at, *stop)))
        .min_by_key(|(at, _)| *at);
    let (text, mut stop) = match first_stop {
        Some((at, sequence)) => (cut(text, at), Some(("stop_sequence", Some(sequence)))),
        None => (text, None),
    };
    let tokens = estimate_tokens(text.chars().count());
    if tokens > budget {
        let keep = usize::try_from(budget.saturating_mul(4)).unwrap_or(usize::MAX);
        let end = char_boundary(&text, keep);
        stop = Some(("max_tokens", None));
        return ShapedText {
            text: cut(text, end),
            tokens: budget,
            stop,
        };
    }
    ShapedText { text, tokens, stop }
}

/// A deterministic base64 string that looks like Anthropic's opaque `signature` / `data` values.
pub(super) fn opaque_base64(seed: &str, bytes: usize) -> String {
    // FNV-1a of the seed, stretched with splitmix64.
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut raw = Vec::with_capacity(bytes + 8);
    while raw.len() < bytes {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^= mixed >> 31;
        raw.extend_from_slice(&mixed.to_le_bytes());
    }
    raw.truncate(bytes);
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// A content block as it appears in `content` and in `content_block_start`.
/// Follows: anthropic-sdk-python `types/text_block.py`, `thinking_block.py`, `redacted_thinking_block.py`,
/// `tool_use_block.py`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ContentBlock<'a> {
    Text {
        text: &'a str,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a Map<String, Value>,
    },
}

impl<'a> ContentBlock<'a> {
    pub(super) fn of(block: &'a PlannedBlock<'a>) -> ContentBlock<'a> {
        match block {
            PlannedBlock::Thinking {
                thinking,
                signature,
            } => ContentBlock::Thinking {
                thinking,
                signature,
            },
            PlannedBlock::RedactedThinking { data } => ContentBlock::RedactedThinking { data },
            PlannedBlock::Text(text) => ContentBlock::Text { text },
            PlannedBlock::ToolUse(tool_use) => ContentBlock::ToolUse {
                id: &tool_use.id,
                name: tool_use.name,
                input: &tool_use.input,
            },
        }
    }
}

/// `usage` of a message.
/// Follows: anthropic-sdk-python `types/usage.py` (`input_tokens`, `cache_creation_input_tokens`,
/// `cache_read_input_tokens`, `cache_creation`, `output_tokens`, `service_tier`).
#[derive(Serialize)]
pub(super) struct AnthropicUsage {
    input_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
    cache_creation: CacheCreation,
    output_tokens: u64,
    service_tier: &'static str,
}

impl AnthropicUsage {
    pub(super) fn new(input: &InputUsage, output_tokens: u64) -> AnthropicUsage {
        AnthropicUsage {
            input_tokens: input.input_tokens,
            cache_creation_input_tokens: input.cache_creation_input_tokens,
            cache_read_input_tokens: input.cache_read_input_tokens,
            cache_creation: input.cache_creation,
            output_tokens,
            service_tier: SERVICE_TIER,
        }
    }
}

/// The `message` object, whole or (with empty content and no stop reason) in `message_start`.
#[derive(Serialize)]
pub(super) struct AnthropicMessage<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub role: &'static str,
    pub model: &'a str,
    pub content: Vec<ContentBlock<'a>>,
    pub stop_reason: Option<&'static str>,
    pub stop_sequence: Option<&'a str>,
    pub usage: AnthropicUsage,
}

/// A whole `message`.
/// Follows: API reference "Messages" (200 response example); anthropic-sdk-python `types/message.py`
/// (`Message`: `id`, `type`, `role`, `model`, `content`, `stop_reason`, `stop_sequence`, `usage`).
pub(super) fn render_message(plan: &MessagePlan<'_>, id: &str) -> Vec<u8> {
    let message = AnthropicMessage {
        id,
        kind: "message",
        role: "assistant",
        model: plan.model,
        content: plan.blocks.iter().map(ContentBlock::of).collect(),
        stop_reason: Some(plan.stop_reason),
        stop_sequence: plan.stop_sequence,
        usage: AnthropicUsage::new(&plan.input, plan.output_tokens),
    };
    serde_json::to_vec(&message).unwrap_or_default()
}

/// `{"input_tokens": N}` for `POST /v1/messages/count_tokens`, the same estimate as `usage`.
/// Follows: API reference "Count Message tokens"; anthropic-sdk-python `types/message_tokens_count.py`.
pub(super) fn render_token_count(
    body: Option<&Value>,
    exchange: &Exchange,
    betas: &str,
) -> Result<Vec<u8>, ErrorSpec> {
    let request = MessagesRequest::parse(body, Endpoint::CountTokens, betas)?;
    let input_tokens = exchange
        .prompt_tokens()
        .unwrap_or_else(|| PromptCount::new(&request).total_tokens());
    Ok(serde_json::to_vec(&serde_json::json!({"input_tokens": input_tokens})).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_text_applies_stop_sequences_then_the_budget() {
        let shaped = shape_text(Cow::Borrowed("hello world. bye"), &["bye", "."], 100);
        assert_eq!(shaped.text, "hello world");
        assert_eq!(shaped.stop, Some(("stop_sequence", Some("."))));
        assert_eq!(shaped.tokens, 3);
        let shaped = shape_text(Cow::Borrowed("abcdefghijkl"), &[], 2);
        assert_eq!(shaped.text, "abcdefgh");
        assert_eq!(shaped.stop, Some(("max_tokens", None)));
        let shaped = shape_text(Cow::Borrowed("abc"), &[""], 2);
        assert_eq!((shaped.text.as_ref(), shaped.stop), ("abc", None));
    }

    #[test]
    fn opaque_values_are_deterministic_base64() {
        let signature = opaque_base64("seed", 96);
        assert_eq!(signature, opaque_base64("seed", 96));
        assert_ne!(signature, opaque_base64("other", 96));
        assert_eq!(signature.len(), 128);
        assert!(
            base64::engine::general_purpose::STANDARD
                .decode(&signature)
                .is_ok()
        );
    }
}
