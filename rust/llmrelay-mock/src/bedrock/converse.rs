//! Bedrock `Converse` / `ConverseStream` answers, shaped after the AWS Bedrock Runtime API
//! reference ("Converse", "ConverseStream": `ConverseResponse`, `ConverseStreamOutput`,
//! `ContentBlock`, `ReasoningContentBlock`, `ToolUseBlock`, `TokenUsage`) and the validation the
//! API applies (`ValidationException` wording from its error responses).

use base64::Engine as _;
use serde_json::{Value, json};

use crate::exchange::{Exchange, new_id};
use crate::faults::ErrorSpec;
use crate::shaping::{estimate_tokens, mock_input, split_even};
use crate::sse::{SseEvents, SseWriter};

use super::{encode_event, validation};

/// The reasoning text of a thinking answer.
const REASONING_TEXT: &str = "Let me think about this step by step.";
/// The text before tool calls under `auto`.
const TOOL_PREAMBLE: &str = "I'll check that.";
/// What a guardrail that intervenes answers.
const GUARDRAIL_TEXT: &str = "Sorry, the model cannot answer this question.";
/// The guardrail identifier that makes the mock's guardrail intervene.
const INTERVENING_GUARDRAIL: &str = "mock-intervene";

/// One block of the answer.
enum Block {
    Reasoning {
        text: String,
        signature: String,
    },
    Redacted(String),
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
}

/// The answer to one Converse request, rendered whole or streamed.
pub(crate) struct ConversePlan {
    blocks: Vec<Block>,
    stop_reason: &'static str,
    input_tokens: u64,
    output_tokens: u64,
    cache_read: Option<u64>,
    cache_write: Option<u64>,
    trace: Option<Value>,
}

fn blocks_of(message: &Value) -> &[Value] {
    message
        .get("content")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Characters of everything a prompt holds (text, tool inputs and results, tool specs).
fn prompt_chars(body: &Value) -> usize {
    let mut chars = 0;
    for block in body
        .get("system")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        chars += block
            .get("text")
            .and_then(Value::as_str)
            .map_or(0, str::len);
    }
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for block in blocks_of(message) {
            chars += block
                .get("text")
                .and_then(Value::as_str)
                .map_or(0, str::len);
            if let Some(tool) = block.get("toolUse") {
                chars += tool.get("input").map_or(0, |i| i.to_string().len());
            }
            if let Some(result) = block.get("toolResult") {
                chars += result.get("content").map_or(0, |c| c.to_string().len());
            }
        }
    }
    if let Some(tools) = body.pointer("/toolConfig/tools") {
        chars += tools.to_string().len();
    }
    chars.max(1)
}

/// Checks what the API checks before answering.
fn validate(body: &Value) -> Result<(), ErrorSpec> {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err(validation(
            "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null",
        ));
    };
    if messages.is_empty() {
        return Err(validation(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ));
    }
    let mut previous: Option<&str> = None;
    let mut uses_tools = false;
    for message in messages {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(role, "user" | "assistant") {
            return Err(validation(format!(
                "1 validation error detected: Value '{role}' at 'messages.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]"
            )));
        }
        if previous.is_none() && role != "user" {
            return Err(validation(
                "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
            ));
        }
        if previous == Some(role) {
            return Err(validation(
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
            ));
        }
        previous = Some(role);
        let blocks = blocks_of(message);
        if blocks.is_empty() {
            return Err(validation(
                "The content field in the Message object is empty. Add a ContentBlock object to the content field and try again.",
            ));
        }
        for block in blocks {
            if block.get("toolUse").is_some() || block.get("toolResult").is_some() {
                uses_tools = true;
            }
            if let Some(text) = block.get("text").and_then(Value::as_str) {
                if text.trim().is_empty() {
                    return Err(validation(
                        "The text field in the ContentBlock object is blank. Add text to the text field, and try again.",
                    ));
                }
            }
            if let Some(image) = block.get("image") {
                let bytes = image.pointer("/source/bytes").and_then(Value::as_str);
                let valid = bytes
                    .is_some_and(|b| base64::engine::general_purpose::STANDARD.decode(b).is_ok());
                let format_ok = matches!(
                    image.get("format").and_then(Value::as_str),
                    Some("png" | "jpeg" | "gif" | "webp")
                );
                if !valid || !format_ok {
                    return Err(validation(
                        "The image block must have a format of png, jpeg, gif or webp and a base64 bytes source.",
                    ));
                }
            }
        }
    }
    if uses_tools && body.get("toolConfig").is_none() {
        return Err(validation(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ));
    }
    Ok(())
}

/// A deterministic base64 signature for a reasoning text.
fn signature_of(text: &str) -> String {
    let digest: u64 = text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    base64::engine::general_purpose::STANDARD.encode(format!("mock-signature-{digest:016x}"))
}

impl ConversePlan {
    pub(crate) fn new(
        body: Option<&Value>,
        exchange: &Exchange,
    ) -> Result<ConversePlan, ErrorSpec> {
        let Some(body) = body else {
            return Err(validation(
                "Malformed input request: the request body is not JSON",
            ));
        };
        validate(body)?;
        let controls = &exchange.controls;
        let mut blocks = Vec::new();
        let thinking = body
            .pointer("/additionalModelRequestFields/thinking/type")
            .and_then(Value::as_str)
            .is_some_and(|t| matches!(t, "enabled" | "adaptive"));
        if thinking {
            blocks.push(Block::Reasoning {
                text: REASONING_TEXT.to_owned(),
                signature: signature_of(REASONING_TEXT),
            });
            if controls.redacted_thinking {
                blocks.push(Block::Redacted(
                    base64::engine::general_purpose::STANDARD.encode("mock-redacted-reasoning"),
                ));
            }
        }
        let guardrail = body
            .pointer("/guardrailConfig/guardrailIdentifier")
            .and_then(Value::as_str);
        let mut trace = None;
        let stop_reason = if guardrail == Some(INTERVENING_GUARDRAIL) {
            blocks.push(Block::Text(GUARDRAIL_TEXT.to_owned()));
            if body
                .pointer("/guardrailConfig/trace")
                .and_then(Value::as_str)
                == Some("enabled")
            {
                trace = Some(
                    json!({"guardrail": {"inputAssessment": {INTERVENING_GUARDRAIL: {
                    "contentPolicy": {"filters": [{"type": "VIOLENCE", "confidence": "HIGH", "action": "BLOCKED"}]}}}}}),
                );
            }
            "guardrail_intervened"
        } else if let Some(calls) = tool_calls(body) {
            let (preamble, calls) = calls;
            if preamble {
                blocks.push(Block::Text(TOOL_PREAMBLE.to_owned()));
            }
            blocks.extend(calls);
            "tool_use"
        } else {
            let (text, reason) = shaped_text(body, exchange.content());
            if !text.is_empty() {
                blocks.push(Block::Text(text));
            }
            reason
        };
        let output_chars: usize = blocks
            .iter()
            .map(|b| match b {
                Block::Reasoning { text, .. } | Block::Text(text) | Block::Redacted(text) => {
                    text.len()
                }
                Block::ToolUse { input, .. } => input.to_string().len(),
            })
            .sum();
        let has_cache_point = body.to_string().contains("\"cachePoint\"");
        let cache_read = controls.cache_read_tokens.or(has_cache_point.then_some(0));
        let cache_write = controls
            .cache_creation_tokens
            .or(has_cache_point.then_some(0));
        Ok(ConversePlan {
            blocks,
            stop_reason,
            input_tokens: exchange
                .prompt_tokens()
                .unwrap_or_else(|| estimate_tokens(prompt_chars(body))),
            output_tokens: exchange
                .completion_tokens()
                .unwrap_or_else(|| estimate_tokens(output_chars).max(1)),
            cache_read,
            cache_write,
            trace,
        })
    }

    fn usage(&self) -> Value {
        let mut usage = json!({
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "totalTokens": self.input_tokens + self.output_tokens
                + self.cache_read.unwrap_or(0) + self.cache_write.unwrap_or(0),
        });
        if let Some(read) = self.cache_read {
            usage["cacheReadInputTokens"] = Value::from(read);
        }
        if let Some(write) = self.cache_write {
            usage["cacheWriteInputTokens"] = Value::from(write);
        }
        usage
    }

    /// `ConverseResponse`.
    pub(crate) fn render(&self, latency_ms: u64) -> Vec<u8> {
        let content: Vec<Value> = self
            .blocks
            .iter()
            .map(|block| match block {
                Block::Reasoning { text, signature } => {
                    json!({"reasoningContent": {"reasoningText": {"text": text, "signature": signature}}})
                }
                Block::Redacted(data) => json!({"reasoningContent": {"redactedContent": data}}),
                Block::Text(text) => json!({"text": text}),
                Block::ToolUse { id, name, input } => {
                    json!({"toolUse": {"toolUseId": id, "name": name, "input": input}})
                }
            })
            .collect();
        let mut response = json!({
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": self.stop_reason,
            "usage": self.usage(),
            "metrics": {"latencyMs": latency_ms},
        });
        if let Some(trace) = &self.trace {
            response["trace"] = trace.clone();
        }
        serde_json::to_vec(&response).unwrap_or_default()
    }

    /// `ConverseStream` events as event-stream frames.
    pub(crate) fn render_stream(&self, chunk_count: usize) -> SseEvents {
        let mut writer = SseWriter::with_capacity(4096);
        let push = |writer: &mut SseWriter, event: &str, data: Value| {
            writer.frame(&encode_event(event, &data.to_string()));
        };
        push(&mut writer, "messageStart", json!({"role": "assistant"}));
        for (index, block) in self.blocks.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            match block {
                Block::Reasoning { text, signature } => {
                    for piece in split_even(text, chunk_count) {
                        push(
                            &mut writer,
                            "contentBlockDelta",
                            json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"text": piece}}}),
                        );
                    }
                    push(
                        &mut writer,
                        "contentBlockDelta",
                        json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"signature": signature}}}),
                    );
                }
                Block::Redacted(data) => {
                    push(
                        &mut writer,
                        "contentBlockDelta",
                        json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"redactedContent": data}}}),
                    );
                }
                Block::Text(text) => {
                    for piece in split_even(text, chunk_count) {
                        push(
                            &mut writer,
                            "contentBlockDelta",
                            json!({"contentBlockIndex": index, "delta": {"text": piece}}),
                        );
                    }
                }
                Block::ToolUse { id, name, input } => {
                    push(
                        &mut writer,
                        "contentBlockStart",
                        json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": id, "name": name}}}),
                    );
                    let arguments = input.to_string();
                    for piece in split_even(&arguments, 3) {
                        push(
                            &mut writer,
                            "contentBlockDelta",
                            json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": piece}}}),
                        );
                    }
                }
            }
            push(
                &mut writer,
                "contentBlockStop",
                json!({"contentBlockIndex": index}),
            );
        }
        writer.terminal();
        push(
            &mut writer,
            "messageStop",
            json!({"stopReason": self.stop_reason}),
        );
        push(
            &mut writer,
            "metadata",
            json!({"usage": self.usage(), "metrics": {"latencyMs": 1}}),
        );
        writer.finish()
    }
}

/// The tool calls the answer makes, if any: when tools are configured, `toolChoice` is given or
/// `auto`, and the last turn is the user's and not only tool results. `any` / `tool` answers
/// with calls only; `auto` says a short sentence first.
fn tool_calls(body: &Value) -> Option<(bool, Vec<Block>)> {
    let specs: Vec<&Value> = body
        .pointer("/toolConfig/tools")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|t| t.get("toolSpec"))
        .collect();
    if specs.is_empty() {
        return None;
    }
    let last = body.get("messages").and_then(Value::as_array)?.last()?;
    let only_results = blocks_of(last)
        .iter()
        .all(|b| b.get("toolResult").is_some());
    if only_results {
        return None;
    }
    let choice = body.pointer("/toolConfig/toolChoice");
    let named = choice
        .and_then(|c| c.pointer("/tool/name"))
        .and_then(Value::as_str);
    let forced = choice.is_some_and(|c| c.get("any").is_some() || c.get("tool").is_some());
    let chosen: Vec<&Value> = if let Some(name) = named {
        specs
            .iter()
            .copied()
            .filter(|s| s.get("name").and_then(Value::as_str) == Some(name))
            .take(1)
            .collect()
    } else {
        let parallel = body
            .pointer("/additionalModelRequestFields/tool_choice/disable_parallel_tool_use")
            .and_then(Value::as_bool)
            != Some(true);
        specs
            .iter()
            .copied()
            .take(if parallel { 2 } else { 1 })
            .collect()
    };
    if chosen.is_empty() {
        return None;
    }
    let calls = chosen
        .into_iter()
        .map(|spec| Block::ToolUse {
            id: new_id("tooluse_"),
            name: spec
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            input: Value::Object(mock_input(spec.pointer("/inputSchema/json"))),
        })
        .collect();
    Some((!forced, calls))
}

/// The answer text cut at a stop sequence or at `maxTokens` (4 characters a token).
fn shaped_text(body: &Value, content: &str) -> (String, &'static str) {
    let stops: Vec<&str> = body
        .pointer("/inferenceConfig/stopSequences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if let Some(end) = stops.iter().filter_map(|s| content.find(s)).min() {
        return (content[..end].to_owned(), "stop_sequence");
    }
    if let Some(max) = body
        .pointer("/inferenceConfig/maxTokens")
        .and_then(Value::as_u64)
    {
        let limit = usize::try_from(max.saturating_mul(4)).unwrap_or(usize::MAX);
        if content.len() > limit {
            let end = crate::shaping::char_boundary(content, limit);
            return (content[..end].to_owned(), "max_tokens");
        }
    }
    (content.to_owned(), "end_turn")
}
