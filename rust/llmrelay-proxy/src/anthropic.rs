//! `/v1/messages` in Anthropic's format, served by any provider through the engine's chat path:
//! Anthropic request → OpenAI chat parameters, chat response → Anthropic message, chat chunks →
//! Anthropic stream events. Pure translation, no I/O.
//!
//! Wire shapes follow Anthropic's API reference "Messages" and the guide "Streaming Messages";
//! types as in anthropic-sdk-python `types/message_create_params.py`, `types/message.py`,
//! `types/raw_message_stream_event.py`, `types/message_delta_usage.py`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use llmrelay_core::Error;
use llmrelay_core::types::{ChatChunk, ChatResponse, Usage};

use crate::errors::anthropic_error_type;

fn bad(message: impl Into<String>) -> Error {
    Error::bad_request(message)
}

/// Anthropic request body → OpenAI chat parameters (`model` kept as requested).
///
/// # Errors
/// `BadRequest` naming the field that is missing or of the wrong shape.
pub fn request_to_chat(body: &Map<String, Value>) -> Result<Map<String, Value>, Error> {
    let mut params = Map::new();
    match body.get("model") {
        Some(Value::String(model)) if !model.is_empty() => {
            params.insert("model".to_owned(), Value::String(model.clone()));
        }
        _ => return Err(bad("model: Field required").with_param("model")),
    }
    match body.get("max_tokens") {
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n >= 1) => {
            params.insert("max_tokens".to_owned(), Value::Number(n.clone()));
        }
        Some(_) => {
            return Err(
                bad("max_tokens: Input should be a valid integer ≥ 1").with_param("max_tokens")
            );
        }
        None => return Err(bad("max_tokens: Field required").with_param("max_tokens")),
    }
    let mut messages = Vec::new();
    match body.get("system") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => messages.push(json!({"role": "system", "content": text})),
        Some(Value::Array(blocks)) => {
            let parts: Vec<Value> = blocks.iter().filter_map(text_part).collect();
            messages.push(json!({"role": "system", "content": parts}));
        }
        Some(_) => {
            return Err(
                bad("system: must be a string or a list of text blocks").with_param("system")
            );
        }
    }
    let Some(Value::Array(input)) = body.get("messages") else {
        return Err(bad("messages: Field required (a list of messages)").with_param("messages"));
    };
    if input.is_empty() {
        return Err(bad("messages: at least one message is required").with_param("messages"));
    }
    for (index, message) in input.iter().enumerate() {
        translate_message(message, index, &mut messages)?;
    }
    params.insert("messages".to_owned(), Value::Array(messages));
    if let Some(Value::Array(tools)) = body.get("tools") {
        let tools: Vec<Value> = tools.iter().map(tool_to_openai).collect();
        params.insert("tools".to_owned(), Value::Array(tools));
    }
    if let Some(Value::Object(choice)) = body.get("tool_choice") {
        let mapped = match choice.get("type").and_then(Value::as_str) {
            Some("auto") => json!("auto"),
            Some("any") => json!("required"),
            Some("none") => json!("none"),
            Some("tool") => {
                let name = choice
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                json!({"type": "function", "function": {"name": name}})
            }
            _ => {
                return Err(bad("tool_choice.type: must be auto, any, tool or none")
                    .with_param("tool_choice"));
            }
        };
        params.insert("tool_choice".to_owned(), mapped);
        if choice.get("disable_parallel_tool_use") == Some(&Value::Bool(true)) {
            params.insert("parallel_tool_calls".to_owned(), Value::Bool(false));
        }
    }
    for (from, to) in [
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("top_k", "top_k"),
        ("stop_sequences", "stop"),
        ("thinking", "thinking"),
        ("stream", "stream"),
        ("service_tier", "service_tier"),
    ] {
        if let Some(value) = body.get(from).filter(|v| !v.is_null()) {
            params.insert(to.to_owned(), value.clone());
        }
    }
    if let Some(user) = body
        .get("metadata")
        .and_then(|m| m.get("user_id"))
        .and_then(Value::as_str)
    {
        params.insert("user".to_owned(), Value::String(user.to_owned()));
    }
    // As on every LiteLLM route, the request's metadata is the call's metadata (logging,
    // tags, layers); `litellm_metadata` too.
    for key in ["metadata", "litellm_metadata"] {
        if let Some(metadata) = body.get(key).filter(|m| m.is_object()) {
            params.insert(key.to_owned(), metadata.clone());
        }
    }
    if params.get("stream") == Some(&Value::Bool(true)) {
        // Usage arrives in the last chunk; message_delta needs it.
        params.insert("stream_options".to_owned(), json!({"include_usage": true}));
    }
    Ok(params)
}

fn text_part(block: &Value) -> Option<Value> {
    let text = block.get("text")?.as_str()?;
    let mut part = json!({"type": "text", "text": text});
    if let Some(cache) = block.get("cache_control") {
        part["cache_control"] = cache.clone();
    }
    Some(part)
}

fn tool_to_openai(tool: &Value) -> Value {
    // Server tools (a versioned `type` such as `web_search_20250305`) pass through as they are.
    let custom = tool
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(|kind| kind == "custom");
    if !custom {
        return tool.clone();
    }
    let mut function = json!({
        "name": tool.get("name").cloned().unwrap_or(Value::Null),
        "parameters": tool.get("input_schema").cloned().unwrap_or_else(|| json!({"type": "object"})),
    });
    if let Some(description) = tool.get("description") {
        function["description"] = description.clone();
    }
    let mut out = json!({"type": "function", "function": function});
    if let Some(cache) = tool.get("cache_control") {
        out["cache_control"] = cache.clone();
    }
    out
}

fn image_part(block: &Value) -> Option<Value> {
    let source = block.get("source")?;
    let url = match source.get("type").and_then(Value::as_str)? {
        "base64" => format!(
            "data:{};base64,{}",
            source.get("media_type")?.as_str()?,
            source.get("data")?.as_str()?
        ),
        "url" => source.get("url")?.as_str()?.to_owned(),
        _ => return None,
    };
    Some(json!({"type": "image_url", "image_url": {"url": url}}))
}

fn document_part(block: &Value) -> Option<Value> {
    let source = block.get("source")?;
    match source.get("type").and_then(Value::as_str)? {
        "base64" => Some(json!({"type": "file", "file": {"file_data": format!(
            "data:{};base64,{}",
            source.get("media_type")?.as_str()?,
            source.get("data")?.as_str()?
        )}})),
        "text" => Some(json!({"type": "text", "text": source.get("data")?.as_str()?})),
        "url" => Some(json!({"type": "file", "file": {"file_id": source.get("url")?.as_str()?}})),
        _ => None,
    }
}

fn tool_result_text(content: Option<&Value>) -> Value {
    match content {
        None | Some(Value::Null) => Value::String(String::new()),
        Some(Value::String(text)) => Value::String(text.clone()),
        Some(Value::Array(blocks)) => {
            let parts: Vec<Value> = blocks
                .iter()
                .filter_map(|b| match b.get("type").and_then(Value::as_str) {
                    Some("text") => text_part(b),
                    Some("image") => image_part(b),
                    _ => None,
                })
                .collect();
            if parts.iter().all(|p| p["type"] == "text") {
                Value::String(
                    parts
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            } else {
                Value::Array(parts)
            }
        }
        Some(other) => Value::String(other.to_string()),
    }
}

fn translate_message(message: &Value, index: usize, out: &mut Vec<Value>) -> Result<(), Error> {
    let role = message
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if role != "user" && role != "assistant" {
        return Err(bad(format!(
            "messages.{index}.role: Input should be 'user' or 'assistant'"
        ))
        .with_param("messages"));
    }
    let blocks = match message.get("content") {
        Some(Value::String(text)) => {
            out.push(json!({"role": role, "content": text}));
            return Ok(());
        }
        Some(Value::Array(blocks)) => blocks,
        _ => {
            return Err(
                bad(format!("messages.{index}.content: Field required")).with_param("messages")
            );
        }
    };
    if role == "assistant" {
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        let mut thinking_blocks = Vec::new();
        let mut reasoning = String::new();
        for block in blocks {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or_default()),
                Some("tool_use") => tool_calls.push(json!({
                    "id": block.get("id").cloned().unwrap_or(Value::Null),
                    "type": "function",
                    "function": {
                        "name": block.get("name").cloned().unwrap_or(Value::Null),
                        "arguments": block.get("input").map_or_else(|| "{}".to_owned(), Value::to_string),
                    },
                })),
                Some("thinking") => {
                    reasoning.push_str(block.get("thinking").and_then(Value::as_str).unwrap_or_default());
                    thinking_blocks.push(block.clone());
                }
                Some("redacted_thinking") => thinking_blocks.push(block.clone()),
                _ => {}
            }
        }
        let mut assistant = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { Value::String(text) }});
        if !tool_calls.is_empty() {
            assistant["tool_calls"] = Value::Array(tool_calls);
        }
        if !thinking_blocks.is_empty() {
            assistant["thinking_blocks"] = Value::Array(thinking_blocks);
            assistant["reasoning_content"] = Value::String(reasoning);
        }
        out.push(assistant);
        return Ok(());
    }
    // A user turn: tool results become `tool` messages, which must directly follow the
    // assistant's tool calls, so they go first.
    let mut parts = Vec::new();
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => parts.extend(text_part(block)),
            Some("image") => parts.extend(image_part(block)),
            Some("document") => parts.extend(document_part(block)),
            Some("tool_result") => out.push(json!({
                "role": "tool",
                "tool_call_id": block.get("tool_use_id").cloned().unwrap_or(Value::Null),
                "content": tool_result_text(block.get("content")),
            })),
            _ => {}
        }
    }
    if !parts.is_empty() {
        out.push(json!({"role": "user", "content": parts}));
    }
    Ok(())
}

/// OpenAI finish reason → Anthropic stop reason.
#[must_use]
pub fn stop_reason(finish_reason: Option<&str>) -> &'static str {
    match finish_reason {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// OpenAI usage → Anthropic usage (input excludes cached reads and cache writes).
#[must_use]
pub fn usage_to_anthropic(usage: Option<&Usage>) -> Value {
    let Some(usage) = usage else {
        return json!({"input_tokens": 0, "output_tokens": 0});
    };
    let cached = usage.cached_tokens();
    let created = usage.cache_creation_tokens();
    json!({
        "input_tokens": usage.prompt_tokens.saturating_sub(cached + created),
        "output_tokens": usage.completion_tokens,
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": cached,
    })
}

fn parse_arguments(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    serde_json::from_str(arguments).unwrap_or_else(|_| json!({}))
}

/// A whole chat response → an Anthropic `message`.
#[must_use]
pub fn response_to_message(response: &ChatResponse, model: &str) -> Value {
    let mut content = Vec::new();
    let mut finish = None;
    if let Some(choice) = response.choices.first() {
        finish = choice.finish_reason.as_deref();
        let message = &choice.message;
        match &message.thinking_blocks {
            Some(blocks) if !blocks.is_empty() => content.extend(blocks.iter().cloned()),
            _ => {
                if let Some(reasoning) = message
                    .reasoning_content
                    .as_deref()
                    .filter(|r| !r.is_empty())
                {
                    content
                        .push(json!({"type": "thinking", "thinking": reasoning, "signature": ""}));
                }
            }
        }
        if let Some(text) = message.content.as_deref().filter(|t| !t.is_empty()) {
            content.push(json!({"type": "text", "text": text}));
        }
        for call in message.tool_calls.iter().flatten() {
            content.push(json!({
                "type": "tool_use",
                "id": call.id,
                "name": call.function.name,
                "input": parse_arguments(&call.function.arguments),
            }));
        }
    }
    json!({
        "id": anthropic_id(&response.id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(finish),
        "stop_sequence": null,
        "usage": usage_to_anthropic(response.usage.as_ref()),
    })
}

fn anthropic_id(id: &str) -> String {
    if id.starts_with("msg_") || id.is_empty() {
        if id.is_empty() {
            return format!("msg_{}", uuid::Uuid::new_v4().simple());
        }
        return id.to_owned();
    }
    format!("msg_{id}")
}

/// Which block is open in the Anthropic stream.
#[derive(Debug, Clone, PartialEq)]
enum Open {
    None,
    Text,
    Thinking,
    /// A tool call, by its OpenAI `index`.
    Tool(u32),
}

#[derive(Debug, Default)]
struct PendingTool {
    id: String,
    name: String,
    arguments: String,
}

/// Turns chat chunks into Anthropic stream events (`event: <type>\ndata: <json>\n\n`).
///
/// Anthropic blocks are sequential while OpenAI tool-call deltas may interleave by `index`:
/// the first call streams live; calls that start while it is still receiving arguments are
/// collected and sent, each as one block, when the live one ends.
pub struct MessageStreamEncoder {
    model: String,
    started: bool,
    open: Open,
    next_index: usize,
    /// Tool indexes whose block was already sent.
    closed_tools: Vec<u32>,
    live_tool_has_arguments: bool,
    pending: BTreeMap<u32, PendingTool>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

fn event(out: &mut Vec<u8>, kind: &str, data: &Value) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    // Writing a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, data);
    out.extend_from_slice(b"\n\n");
}

impl MessageStreamEncoder {
    #[must_use]
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            started: false,
            open: Open::None,
            next_index: 0,
            closed_tools: Vec::new(),
            live_tool_has_arguments: false,
            pending: BTreeMap::new(),
            finish_reason: None,
            usage: None,
        }
    }

    fn start(&mut self, id: &str, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        event(
            out,
            "message_start",
            &json!({
                "type": "message_start",
                "message": {
                    "id": anthropic_id(id),
                    "type": "message",
                    "role": "assistant",
                    "model": self.model,
                    "content": [],
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": {"input_tokens": 0, "output_tokens": 0},
                },
            }),
        );
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if self.open == Open::None {
            return;
        }
        if let Open::Tool(index) = self.open {
            self.closed_tools.push(index);
        }
        event(
            out,
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": self.next_index - 1}),
        );
        self.open = Open::None;
    }

    fn open_block(&mut self, open: Open, block: Value, out: &mut Vec<u8>) {
        self.close(out);
        event(
            out,
            "content_block_start",
            &json!({
                "type": "content_block_start", "index": self.next_index, "content_block": block,
            }),
        );
        self.next_index += 1;
        self.open = open;
    }

    fn delta(&self, delta: Value, out: &mut Vec<u8>) {
        event(
            out,
            "content_block_delta",
            &json!({
                "type": "content_block_delta", "index": self.next_index - 1, "delta": delta,
            }),
        );
    }

    /// Send the tool calls collected while another one streamed.
    fn flush_pending(&mut self, out: &mut Vec<u8>) {
        let pending = std::mem::take(&mut self.pending);
        for (index, tool) in pending {
            self.open_block(
                Open::Tool(index),
                json!({"type": "tool_use", "id": tool.id, "name": tool.name, "input": {}}),
                out,
            );
            if !tool.arguments.is_empty() {
                self.delta(
                    json!({"type": "input_json_delta", "partial_json": tool.arguments}),
                    out,
                );
            }
            self.close(out);
        }
    }

    /// Encode one chunk.
    pub fn chunk(&mut self, chunk: &ChatChunk, out: &mut Vec<u8>) {
        self.start(&chunk.id, out);
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
        let Some(choice) = chunk.choices.first() else {
            return;
        };
        let delta = &choice.delta;
        if let Some(reasoning) = delta.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
            if self.open != Open::Thinking {
                self.open_block(
                    Open::Thinking,
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    out,
                );
            }
            self.delta(
                json!({"type": "thinking_delta", "thinking": reasoning}),
                out,
            );
        }
        for block in delta.thinking_blocks.iter().flatten() {
            match block.get("type").and_then(Value::as_str) {
                Some("redacted_thinking") => {
                    self.open_block(Open::Thinking, block.clone(), out);
                    self.close(out);
                }
                _ => {
                    if let Some(signature) = block
                        .get("signature")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                    {
                        if self.open != Open::Thinking {
                            self.open_block(
                                Open::Thinking,
                                json!({"type": "thinking", "thinking": "", "signature": ""}),
                                out,
                            );
                        }
                        self.delta(
                            json!({"type": "signature_delta", "signature": signature}),
                            out,
                        );
                    }
                }
            }
        }
        if let Some(text) = delta.content.as_deref().filter(|t| !t.is_empty()) {
            if self.open != Open::Text {
                if matches!(self.open, Open::Tool(_)) {
                    self.close(out);
                    self.flush_pending(out);
                }
                self.open_block(Open::Text, json!({"type": "text", "text": ""}), out);
            }
            self.delta(json!({"type": "text_delta", "text": text}), out);
        }
        for call in delta.tool_calls.iter().flatten() {
            let function = call.function.as_ref();
            let name = function.and_then(|f| f.name.clone());
            let arguments = function
                .and_then(|f| f.arguments.clone())
                .unwrap_or_default();
            if call.id.is_some() || name.is_some() {
                let live_busy = matches!(self.open, Open::Tool(_)) && !self.live_tool_has_arguments;
                if self.open == Open::Tool(call.index) {
                    // A repeated header for the live call.
                } else if live_busy
                    || self.pending.contains_key(&call.index)
                    || !self.pending.is_empty()
                {
                    let pending = self.pending.entry(call.index).or_default();
                    pending.id = call.id.clone().unwrap_or_else(|| pending.id.clone());
                    pending.name = name.clone().unwrap_or_else(|| pending.name.clone());
                    pending.arguments.push_str(&arguments);
                    continue;
                } else {
                    self.open_block(
                        Open::Tool(call.index),
                        json!({"type": "tool_use", "id": call.id.clone().unwrap_or_default(), "name": name.unwrap_or_default(), "input": {}}),
                        out,
                    );
                    self.live_tool_has_arguments = false;
                }
            }
            if arguments.is_empty() {
                continue;
            }
            if self.open == Open::Tool(call.index) {
                self.live_tool_has_arguments = true;
                self.delta(
                    json!({"type": "input_json_delta", "partial_json": arguments}),
                    out,
                );
            } else if let Some(pending) = self.pending.get_mut(&call.index) {
                pending.arguments.push_str(&arguments);
            } else {
                tracing::warn!(
                    index = call.index,
                    "tool-call arguments after the call's block ended were dropped"
                );
            }
        }
        if let Some(reason) = &choice.finish_reason {
            self.finish_reason = Some(reason.clone());
        }
    }

    /// Close the message: last block, `message_delta` with stop reason and usage, `message_stop`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.start("", out);
        self.close(out);
        self.flush_pending(out);
        let usage = usage_to_anthropic(self.usage.as_ref());
        event(
            out,
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason(self.finish_reason.as_deref()), "stop_sequence": null},
                "usage": usage,
            }),
        );
        event(out, "message_stop", &json!({"type": "message_stop"}));
    }

    /// An error mid-stream, as Anthropic sends it (`event: error`).
    pub fn error(&mut self, error: &Error, out: &mut Vec<u8>) {
        event(
            out,
            "error",
            &json!({
                "type": "error",
                "error": {"type": anthropic_error_type(error.kind(), error.status_code()), "message": error.message()},
            }),
        );
    }
}

/// `/v1/messages/count_tokens` body → (messages, tools) in OpenAI's shape for the tokenizer.
///
/// # Errors
/// As [`request_to_chat`].
pub fn count_tokens_input(
    body: &Map<String, Value>,
) -> Result<(Vec<Value>, Option<Vec<Value>>), Error> {
    let mut body = body.clone();
    body.entry("max_tokens").or_insert(json!(1));
    let params = request_to_chat(&body)?;
    let messages = params
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let tools = params.get("tools").and_then(Value::as_array).cloned();
    Ok((messages, tools))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn request_translation() {
        // Shapes from Anthropic's API reference "Messages" (tool use round trip).
        let body = map(json!({
            "model": "claude", "max_tokens": 100, "system": [{"type": "text", "text": "be brief"}],
            "stop_sequences": ["X"], "metadata": {"user_id": "u1"}, "stream": true,
            "tools": [{"name": "get_weather", "description": "w", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "messages": [
                {"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "Paris"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "sunny"}]},
                    {"type": "text", "text": "thanks"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
                ]}
            ]
        }));
        let params = request_to_chat(&body).unwrap();
        let messages = params["messages"].as_array().unwrap();
        assert_eq!(messages[0]["role"], "system");
        assert_eq!(
            messages[2]["tool_calls"][0]["function"]["arguments"],
            "{\"location\":\"Paris\"}"
        );
        assert_eq!(messages[2]["thinking_blocks"][0]["signature"], "sig");
        assert_eq!(messages[3]["role"], "tool");
        assert_eq!(messages[3]["content"], "sunny");
        assert_eq!(
            messages[4]["content"][1]["image_url"]["url"],
            "data:image/png;base64,AAAA"
        );
        assert_eq!(params["tool_choice"], "required");
        assert_eq!(params["parallel_tool_calls"], false);
        assert_eq!(params["stop"], json!(["X"]));
        assert_eq!(params["user"], "u1");
        assert_eq!(
            params["tools"][0]["function"]["parameters"]["properties"]["location"]["type"],
            "string"
        );
        assert_eq!(params["stream_options"]["include_usage"], true);
    }

    #[test]
    fn missing_fields_are_bad_requests() {
        let error = request_to_chat(&map(json!({"model": "m", "messages": []}))).unwrap_err();
        assert!(error.message().contains("max_tokens"));
        let error = request_to_chat(&map(json!({"model": "m", "max_tokens": 5, "messages": []})))
            .unwrap_err();
        assert!(error.message().contains("at least one message"));
        let error = request_to_chat(&map(
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "bot", "content": "x"}]}),
        ))
        .unwrap_err();
        assert_eq!(error.status_code(), 400);
    }

    fn chunk(value: Value) -> ChatChunk {
        serde_json::from_value(value).unwrap()
    }

    fn events(bytes: &[u8]) -> Vec<(String, Value)> {
        String::from_utf8(bytes.to_vec())
            .unwrap()
            .split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| {
                let mut lines = e.lines();
                let kind = lines
                    .next()
                    .unwrap()
                    .strip_prefix("event: ")
                    .unwrap()
                    .to_owned();
                let data =
                    serde_json::from_str(lines.next().unwrap().strip_prefix("data: ").unwrap())
                        .unwrap();
                (kind, data)
            })
            .collect()
    }

    #[test]
    fn stream_with_text_and_interleaved_tools() {
        let mut encoder = MessageStreamEncoder::new("claude");
        let mut out = Vec::new();
        encoder.chunk(&chunk(json!({"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "a", "arguments": ""}}]}}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "b", "arguments": ""}}]}}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"x\":"}}]}}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": "{\"y\":2}"}}]}}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "c1", "choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}})), &mut out);
        encoder.finish(&mut out);
        let events = events(&out);
        let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
            ]
        );
        assert_eq!(events[4].1["content_block"]["name"], "a");
        assert_eq!(events[5].1["delta"]["partial_json"], "{\"x\":");
        assert_eq!(events[8].1["index"], 2);
        assert_eq!(events[8].1["content_block"]["id"], "call_b");
        assert_eq!(events[9].1["delta"]["partial_json"], "{\"y\":2}");
        assert_eq!(events[11].1["delta"]["stop_reason"], "tool_use");
        assert_eq!(events[11].1["usage"]["output_tokens"], 3);
        assert_eq!(events[11].1["usage"]["input_tokens"], 7);
    }

    #[test]
    fn stream_thinking_then_text() {
        let mut encoder = MessageStreamEncoder::new("claude");
        let mut out = Vec::new();
        encoder.chunk(&chunk(json!({"id": "msg_1", "choices": [{"index": 0, "delta": {"content": "", "reasoning_content": "Let me think"}}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "msg_1", "choices": [{"index": 0, "delta": {"content": "", "reasoning_content": "", "thinking_blocks": [{"type": "thinking", "thinking": "Let me think", "signature": "c2ln"}]}}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "msg_1", "choices": [{"index": 0, "delta": {"content": "Answer"}, "finish_reason": "stop"}]})), &mut out);
        encoder.finish(&mut out);
        let events = events(&out);
        assert_eq!(events[0].1["message"]["id"], "msg_1");
        assert_eq!(events[1].1["content_block"]["type"], "thinking");
        assert_eq!(events[2].1["delta"]["type"], "thinking_delta");
        assert_eq!(events[3].1["delta"]["type"], "signature_delta");
        assert_eq!(events[5].1["content_block"]["type"], "text");
        assert_eq!(events[5].1["index"], 1);
        assert_eq!(events[8].1["delta"]["stop_reason"], "end_turn");
    }

    #[test]
    fn whole_response_translation() {
        let response: ChatResponse = serde_json::from_value(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "x",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "ok",
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14, "prompt_tokens_details": {"cached_tokens": 6}}
        }))
        .unwrap();
        let message = response_to_message(&response, "claude");
        assert_eq!(message["id"], "msg_chatcmpl-1");
        assert_eq!(message["content"][0]["text"], "ok");
        assert_eq!(message["content"][1]["input"]["a"], 1);
        assert_eq!(message["stop_reason"], "tool_use");
        assert_eq!(message["usage"]["input_tokens"], 4);
        assert_eq!(message["usage"]["cache_read_input_tokens"], 6);
    }
}
