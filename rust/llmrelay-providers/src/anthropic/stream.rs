//! Anthropic SSE stream → `chat.completion.chunk`s
//! (<https://docs.anthropic.com/en/docs/build-with-claude/streaming>), as LiteLLM's
//! `ModelResponseIterator` emits them: one chunk per delta (tool-argument deltas are never
//! merged), tool calls numbered by their order among tool blocks, the finish reason on
//! `message_delta`, and a usage-only chunk at `message_stop`.

use std::collections::HashMap;

use serde_json::Value;

use llmrelay_core::Result;
use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChunkChoice, Delta, FunctionCallDelta, JsonMap, ToolCallDelta,
};
use llmrelay_core::{Error, ErrorKind};

use super::error::stream_error;
use super::request::{RESPONSE_FORMAT_TOOL_NAME, json_mode};
use super::response::{json_mode_content, map_stop_reason, new_id, usage_from, web_search_call};
use super::tools::tool_name_reverse_map;
use super::types::{AnthropicContentDelta, AnthropicResponseBlock, AnthropicStreamEvent};
use crate::provider::ChunkDecoder;
use crate::sse::RawEvent;

/// What the content block being streamed is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Text,
    ToolUse,
    Thinking,
    Other(String),
}

/// Decoder for one Messages API stream.
#[derive(Debug)]
pub struct AnthropicChatDecoder {
    id: String,
    created: u64,
    /// LiteLLM's chunks carry the requested model, not the dated one the upstream reports.
    model: String,
    json_mode: bool,
    tool_names: HashMap<String, String>,
    role_sent: bool,
    /// Number of tool-use blocks seen so far (the OpenAI `index` of the current one + 1).
    tool_blocks: u32,
    block: Option<Block>,
    /// The current block's non-text deltas: whether any came, and their JSON / thinking text.
    block_deltas: usize,
    first_delta_is_thinking: bool,
    block_arguments: String,
    block_thinking: String,
    in_json_tool: bool,
    converted_json_tool: bool,
    /// `message_delta` usage is cumulative but may omit what `message_start` reported.
    usage: JsonMap,
    usage_seen: bool,
    reasoning: String,
    web_search_results: Vec<Value>,
    /// Server tool inputs by tool id (complete once the block's JSON has streamed).
    server_tool_inputs: HashMap<String, Value>,
    current_server_tool: Option<String>,
    /// `web_search_call` items by tool id, in the order the searches started.
    web_search_calls: JsonMap,
    tool_results: Vec<Value>,
    compaction_blocks: Vec<Value>,
}

impl AnthropicChatDecoder {
    #[must_use]
    pub fn new(request: &ChatRequest) -> Self {
        Self::with_identity(request, new_id(), llmrelay_core::clock::now_unix())
    }

    /// A decoder with a fixed id and timestamp (tests, replays).
    #[must_use]
    pub fn with_identity(request: &ChatRequest, id: String, created: u64) -> Self {
        Self {
            id,
            created,
            model: request.model.clone(),
            json_mode: json_mode(request),
            tool_names: tool_name_reverse_map(request),
            role_sent: false,
            tool_blocks: 0,
            block: None,
            block_deltas: 0,
            first_delta_is_thinking: false,
            block_arguments: String::new(),
            block_thinking: String::new(),
            in_json_tool: false,
            converted_json_tool: false,
            usage: JsonMap::new(),
            usage_seen: false,
            reasoning: String::new(),
            web_search_results: Vec::new(),
            server_tool_inputs: HashMap::new(),
            current_server_tool: None,
            web_search_calls: JsonMap::new(),
            tool_results: Vec::new(),
            compaction_blocks: Vec::new(),
        }
    }

    fn chunk(&mut self, mut delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        if !self.role_sent {
            delta.role = Some("assistant".to_owned());
            self.role_sent = true;
        }
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

    fn tool_index(&self) -> u32 {
        self.tool_blocks.saturating_sub(1)
    }

    /// A tool-call delta, or — inside the JSON-mode tool — its text as content (nothing when
    /// that text is empty, as LiteLLM's stream wrapper drops empty chunks).
    fn tool_delta(&mut self, call: ToolCallDelta) -> Option<Delta> {
        if call.id.is_some() {
            let name = call.function.as_ref().and_then(|f| f.name.as_deref());
            self.in_json_tool = self.json_mode && name == Some(RESPONSE_FORMAT_TOOL_NAME);
        }
        if self.in_json_tool {
            let arguments = call
                .function
                .as_ref()
                .and_then(|f| f.arguments.as_deref())
                .unwrap_or_default();
            self.converted_json_tool = true;
            let content = json_mode_content(arguments);
            return (!content.is_empty()).then(|| text_delta(content));
        }
        Some(Delta {
            content: Some(String::new()),
            tool_calls: Some(vec![call]),
            ..Delta::default()
        })
    }

    fn provider_fields(fields: JsonMap) -> JsonMap {
        let mut extra = JsonMap::new();
        extra.insert("provider_specific_fields".to_owned(), Value::Object(fields));
        extra
    }

    fn block_start(&mut self, block: AnthropicResponseBlock, out: &mut Vec<ChatChunk>) {
        let server = matches!(block, AnthropicResponseBlock::ServerToolUse(_));
        self.block_deltas = 0;
        self.first_delta_is_thinking = false;
        self.block_arguments.clear();
        self.block_thinking.clear();
        match block {
            AnthropicResponseBlock::Text(text) => {
                self.block = Some(Block::Text);
                if !text.text.is_empty() {
                    let chunk = self.chunk(text_delta(text.text), None);
                    out.push(chunk);
                }
            }
            AnthropicResponseBlock::ToolUse(tool) | AnthropicResponseBlock::ServerToolUse(tool) => {
                self.block = Some(Block::ToolUse);
                self.tool_blocks += 1;
                let mut fields = JsonMap::new();
                if server {
                    self.current_server_tool = Some(tool.id.clone());
                    self.server_tool_inputs
                        .insert(tool.id.clone(), tool.input.clone());
                    if tool.name == "web_search" {
                        let call = web_search_call(
                            &tool.id,
                            &tool.input,
                            &serde_json::json!({"content": []}),
                            Some("in_progress"),
                        );
                        self.web_search_calls.insert(tool.id.clone(), call);
                        fields.insert(
                            "web_search_calls".to_owned(),
                            Value::Object(self.web_search_calls.clone()),
                        );
                    }
                }
                let name = self
                    .tool_names
                    .get(&tool.name)
                    .cloned()
                    .unwrap_or(tool.name);
                let call = ToolCallDelta {
                    index: self.tool_index(),
                    id: Some(tool.id),
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: Some(name),
                        arguments: Some(String::new()),
                    }),
                };
                if let Some(mut delta) = self.tool_delta(call) {
                    if !fields.is_empty() {
                        delta.extra = Self::provider_fields(fields);
                    }
                    let chunk = self.chunk(delta, None);
                    out.push(chunk);
                }
            }
            AnthropicResponseBlock::Thinking(_) => self.block = Some(Block::Thinking),
            AnthropicResponseBlock::RedactedThinking(redacted) => {
                self.block = Some(Block::Other("redacted_thinking".to_owned()));
                let blocks = vec![redacted.to_value()];
                let mut fields = JsonMap::new();
                fields.insert("thinking_blocks".to_owned(), Value::Array(blocks.clone()));
                let delta = Delta {
                    content: Some(String::new()),
                    thinking_blocks: Some(blocks),
                    extra: Self::provider_fields(fields),
                    ..Delta::default()
                };
                let chunk = self.chunk(delta, None);
                out.push(chunk);
            }
            AnthropicResponseBlock::Other(value) => {
                let kind = value
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let mut fields = JsonMap::new();
                match kind.as_str() {
                    "compaction" => {
                        self.compaction_blocks.push(value.clone());
                        fields.insert(
                            "compaction_blocks".to_owned(),
                            Value::Array(self.compaction_blocks.clone()),
                        );
                        fields.insert(
                            "compaction_start".to_owned(),
                            serde_json::json!({"type": "compaction", "content": value.get("content").cloned().unwrap_or(Value::from(""))}),
                        );
                    }
                    "tool_search_tool_result" => {}
                    "web_search_tool_result" => {
                        self.web_search_results.push(value.clone());
                        let id = value.get("tool_use_id").and_then(Value::as_str);
                        if let Some(id) = id.filter(|id| self.web_search_calls.contains_key(*id)) {
                            let input = self
                                .server_tool_inputs
                                .get(id)
                                .cloned()
                                .unwrap_or_else(|| Value::Object(JsonMap::new()));
                            let call = web_search_call(id, &input, &value, None);
                            self.web_search_calls.insert(id.to_owned(), call);
                        }
                        fields.insert(
                            "web_search_results".to_owned(),
                            Value::Array(self.web_search_results.clone()),
                        );
                        fields.insert(
                            "web_search_calls".to_owned(),
                            Value::Object(self.web_search_calls.clone()),
                        );
                    }
                    "web_fetch_tool_result" => {
                        self.web_search_results.push(value.clone());
                        fields.insert(
                            "web_search_results".to_owned(),
                            Value::Array(self.web_search_results.clone()),
                        );
                    }
                    k if k.ends_with("_tool_result") => {
                        self.tool_results.push(value.clone());
                        fields.insert(
                            "tool_results".to_owned(),
                            Value::Array(self.tool_results.clone()),
                        );
                    }
                    _ => {}
                }
                self.block = Some(Block::Other(kind));
                if !fields.is_empty() {
                    let delta = Delta {
                        content: Some(String::new()),
                        extra: Self::provider_fields(fields),
                        ..Delta::default()
                    };
                    let chunk = self.chunk(delta, None);
                    out.push(chunk);
                }
            }
        }
    }

    fn block_delta(&mut self, delta: AnthropicContentDelta, out: &mut Vec<ChatChunk>) {
        if let AnthropicContentDelta::TextDelta { text } = delta {
            if !text.is_empty() {
                let chunk = self.chunk(text_delta(text), None);
                out.push(chunk);
            }
            return;
        }
        if self.block_deltas == 0 {
            self.first_delta_is_thinking =
                matches!(delta, AnthropicContentDelta::ThinkingDelta { .. });
        }
        self.block_deltas += 1;
        let delta = match delta {
            AnthropicContentDelta::InputJsonDelta { partial_json } => {
                self.block_arguments.push_str(&partial_json);
                if self.block != Some(Block::ToolUse) {
                    return;
                }
                let call = ToolCallDelta {
                    index: self.tool_index(),
                    id: None,
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: None,
                        arguments: Some(partial_json),
                    }),
                };
                match self.tool_delta(call) {
                    Some(delta) => delta,
                    None => return,
                }
            }
            AnthropicContentDelta::ThinkingDelta { thinking } => {
                if thinking.is_empty() {
                    return;
                }
                self.block_thinking.push_str(&thinking);
                self.reasoning.push_str(&thinking);
                let blocks = vec![serde_json::json!({"type": "thinking", "thinking": thinking})];
                let mut fields = JsonMap::new();
                fields.insert("thinking_blocks".to_owned(), Value::Array(blocks.clone()));
                Delta {
                    content: Some(String::new()),
                    reasoning_content: Some(thinking),
                    thinking_blocks: Some(blocks),
                    extra: Self::provider_fields(fields),
                    ..Delta::default()
                }
            }
            AnthropicContentDelta::SignatureDelta { signature } => {
                if signature.is_empty() {
                    return;
                }
                // LiteLLM sends the signature with the block's whole thinking text.
                let blocks = vec![serde_json::json!({
                    "type": "thinking", "thinking": self.block_thinking, "signature": signature
                })];
                let mut fields = JsonMap::new();
                fields.insert("thinking_blocks".to_owned(), Value::Array(blocks.clone()));
                Delta {
                    content: Some(String::new()),
                    reasoning_content: Some(String::new()),
                    thinking_blocks: Some(blocks),
                    extra: Self::provider_fields(fields),
                    ..Delta::default()
                }
            }
            AnthropicContentDelta::CitationsDelta { citation } => {
                let mut fields = JsonMap::new();
                fields.insert("citation".to_owned(), citation);
                Delta {
                    content: Some(String::new()),
                    extra: Self::provider_fields(fields),
                    ..Delta::default()
                }
            }
            AnthropicContentDelta::CompactionDelta { content } => {
                let mut fields = JsonMap::new();
                fields.insert(
                    "compaction_delta".to_owned(),
                    serde_json::json!({"type": "compaction_delta", "content": content}),
                );
                Delta {
                    content: Some(String::new()),
                    extra: Self::provider_fields(fields),
                    ..Delta::default()
                }
            }
            AnthropicContentDelta::TextDelta { .. } | AnthropicContentDelta::Unknown => return,
        };
        let chunk = self.chunk(delta, None);
        out.push(chunk);
    }

    fn block_stop(&mut self, out: &mut Vec<ChatChunk>) {
        if self.block == Some(Block::ToolUse)
            && self.block_deltas > 0
            && !self.first_delta_is_thinking
            && self.block_arguments.is_empty()
        {
            // A tool called without arguments streams `""`: close it as `{}`. LiteLLM resets its
            // JSON-mode tracking before this chunk, so it is never turned into content.
            self.in_json_tool = false;
            let call = ToolCallDelta {
                index: self.tool_index(),
                id: None,
                kind: Some("function".to_owned()),
                function: Some(FunctionCallDelta {
                    name: None,
                    arguments: Some("{}".to_owned()),
                }),
            };
            let delta = Delta {
                content: Some(String::new()),
                tool_calls: Some(vec![call]),
                ..Delta::default()
            };
            let chunk = self.chunk(delta, None);
            out.push(chunk);
        }
        if let Some(id) = self.current_server_tool.take() {
            if let Ok(input) = serde_json::from_str::<Value>(&self.block_arguments) {
                self.server_tool_inputs.insert(id, input);
            }
        }
        self.in_json_tool = false;
        self.block = None;
    }

    fn merge_usage(&mut self, usage: JsonMap) {
        self.usage_seen = true;
        self.usage.extend(usage);
    }
}

fn text_delta(text: String) -> Delta {
    Delta {
        content: Some(text),
        ..Delta::default()
    }
}

fn parse_event(data: &str) -> Result<Value> {
    serde_json::from_str(data).map_err(|e| {
        Error::new(
            ErrorKind::Api,
            format!("Malformed stream chunk from upstream: {e}: {data}"),
        )
        .with_status(500)
    })
}

impl ChunkDecoder<ChatChunk> for AnthropicChatDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        let value = parse_event(data)?;
        let parsed: AnthropicStreamEvent = match serde_json::from_value(value.clone()) {
            Ok(parsed) => parsed,
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Api,
                    format!("Unexpected stream event from upstream: {e}: {data}"),
                )
                .with_status(500));
            }
        };
        match parsed {
            AnthropicStreamEvent::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.merge_usage(usage);
                }
            }
            AnthropicStreamEvent::ContentBlockStart { content_block, .. } => {
                self.block_start(content_block, out);
            }
            AnthropicStreamEvent::ContentBlockDelta { delta, .. } => self.block_delta(delta, out),
            AnthropicStreamEvent::ContentBlockStop { .. } => self.block_stop(out),
            AnthropicStreamEvent::MessageDelta { delta, usage } => {
                let finish = if self.converted_json_tool {
                    "stop"
                } else {
                    map_stop_reason(delta.stop_reason.as_deref())
                };
                if let Some(usage) = usage {
                    self.merge_usage(usage);
                }
                let mut chunk_delta = Delta::default();
                if let Some(container) = delta.container {
                    let mut fields = JsonMap::new();
                    fields.insert("container".to_owned(), container);
                    chunk_delta.extra = Self::provider_fields(fields);
                }
                let chunk = self.chunk(chunk_delta, Some(finish.to_owned()));
                out.push(chunk);
            }
            AnthropicStreamEvent::MessageStop => {
                if self.usage_seen {
                    let reasoning = (!self.reasoning.is_empty()).then_some(self.reasoning.as_str());
                    let mut usage = usage_from(&self.usage, reasoning, None);
                    // LiteLLM's stream wrapper rebuilds the usage without these.
                    for key in ["service_tier", "inference_geo", "speed"] {
                        usage.extra.remove(key);
                    }
                    out.push(ChatChunk {
                        id: self.id.clone(),
                        object: "chat.completion.chunk".to_owned(),
                        created: self.created,
                        model: self.model.clone(),
                        system_fingerprint: None,
                        choices: Vec::new(),
                        usage: Some(usage),
                        extra: JsonMap::new(),
                    });
                }
                return Ok(true);
            }
            AnthropicStreamEvent::Ping | AnthropicStreamEvent::Unknown => {}
            AnthropicStreamEvent::Error { error } => {
                let message = if error.message.is_empty() {
                    data.to_owned()
                } else {
                    error.message
                };
                return Err(stream_error(&message, value));
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    fn decode_all(request: &ChatRequest, events: &[Value]) -> (Vec<ChatChunk>, Result<bool>) {
        let mut decoder =
            AnthropicChatDecoder::with_identity(request, "chatcmpl-test".to_owned(), 1);
        let mut chunks = Vec::new();
        let mut last = Ok(false);
        for event in events {
            let raw = RawEvent {
                event: event["type"].as_str().unwrap_or_default().to_owned(),
                data: event.to_string(),
            };
            last = decoder.decode(&raw, &mut chunks);
            if !matches!(last, Ok(false)) {
                break;
            }
        }
        (chunks, last)
    }

    fn start() -> Value {
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null,
            "usage": {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 4}}})
    }

    #[test]
    fn interleaved_tool_deltas_stay_separate_and_are_numbered_by_tool() {
        let request = request(
            json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}),
        );
        let events = [
            start(),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t1", "name": "a", "input": {}}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"x\":"}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": " 1}"}}),
            json!({"type": "content_block_stop", "index": 1}),
            json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "t2", "name": "b", "input": {}}}),
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}}),
            json!({"type": "content_block_stop", "index": 2}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 7}}),
            json!({"type": "message_stop"}),
        ];
        let (chunks, done) = decode_all(&request, &events);
        assert!(done.unwrap());
        assert_eq!(
            chunks[0].choices[0].delta.role.as_deref(),
            Some("assistant")
        );
        assert!(
            chunks[1..]
                .iter()
                .all(|c| c.choices.first().is_none_or(|c| c.delta.role.is_none()))
        );
        let calls: Vec<(u32, Option<String>, String)> = chunks
            .iter()
            .flat_map(|c| &c.choices)
            .filter_map(|c| c.delta.tool_calls.as_ref())
            .flatten()
            .map(|t| {
                let f = t.function.as_ref().unwrap();
                (t.index, t.id.clone(), f.arguments.clone().unwrap())
            })
            .collect();
        assert_eq!(
            calls,
            vec![
                (0, Some("t1".to_owned()), String::new()),
                (0, None, "{\"x\":".to_owned()),
                (0, None, " 1}".to_owned()),
                (1, Some("t2".to_owned()), String::new()),
                (1, None, String::new()),
                (1, None, "{}".to_owned()),
            ]
        );
        let finish = &chunks[chunks.len() - 2];
        assert_eq!(
            finish.choices[0].finish_reason.as_deref(),
            Some("tool_calls")
        );
        let last = chunks.last().unwrap();
        assert!(last.choices.is_empty());
        let usage = last.usage.as_ref().unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (14, 7));
        assert_eq!(usage.cached_tokens(), 4);
        assert!(
            chunks
                .iter()
                .all(|c| c.id == "chatcmpl-test" && c.model == "claude-sonnet-4-5")
        );
    }

    #[test]
    fn error_event_mid_stream() {
        let request = request(
            json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}),
        );
        let events = [
            start(),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}}),
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ];
        let (chunks, result) = decode_all(&request, &events);
        assert_eq!(chunks.len(), 1);
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InternalServer);
        assert_eq!(error.message(), "AnthropicError - Overloaded");
    }

    #[test]
    fn streams_match_litellm() {
        use crate::anthropic::fixtures;
        fixtures::check_all("resp_stream_", &[], |name, case| {
            let request = fixtures::request_of(case);
            let events = match case["upstream_file"].as_str() {
                Some(file) => fixtures::sse_events(&fixtures::read(file)),
                None => fixtures::json_events(case["upstream_events"].as_array().unwrap()),
            };
            let mut decoder =
                AnthropicChatDecoder::with_identity(&request, "chatcmpl-test".to_owned(), 1);
            let mut chunks = Vec::new();
            let mut outcome = Ok(false);
            for event in &events {
                outcome = decoder.decode(event, &mut chunks);
                if !matches!(outcome, Ok(false)) {
                    break;
                }
            }
            let actual: Vec<Value> = chunks
                .iter()
                .map(|chunk| {
                    let mut value = serde_json::to_value(chunk).unwrap();
                    fixtures::remove_path(&mut value, "id");
                    fixtures::remove_path(&mut value, "created");
                    value
                })
                .collect();
            let expected: Vec<Value> = case["expected_chunks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|chunk| {
                    let mut value = chunk.clone();
                    fixtures::remove_path(&mut value, "id");
                    fixtures::remove_path(&mut value, "created");
                    if value.get("usage").is_some() {
                        // LiteLLM's usage chunk keeps an empty choice; the engine's contract is
                        // a usage-only chunk with no choices (as OpenAI sends it).
                        value["choices"] = json!([]);
                        fixtures::strip_usage_extras(&mut value["usage"]);
                    }
                    value
                })
                .collect();
            fixtures::assert_same(name, &Value::Array(expected), &Value::Array(actual));
            match case.get("expected_error") {
                Some(expected) => {
                    let error = outcome.err().unwrap_or_else(|| panic!("{name}: no error"));
                    fixtures::assert_error(name, expected, &error);
                }
                None => assert!(matches!(outcome, Ok(true)), "{name}: {outcome:?}"),
            }
        });
    }
}
