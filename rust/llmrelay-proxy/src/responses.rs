//! `/v1/responses` bridged onto chat completions, so every provider answers it: request items →
//! chat messages, chat response → a `response` object, whole or streamed as Responses events.
//! Stateless: `previous_response_id` needs storage the proxy does not have yet.
//!
//! Shapes follow OpenAI's API reference "Responses" (create, the response object) and
//! openai-python `types/responses/response.py`, `response_input_item_param.py`,
//! `response_output_message.py`, `response_function_tool_call.py`, `response_usage.py`.

use serde_json::{Map, Value, json};

use llmrelay_core::Error;
use llmrelay_core::types::{ChatChunk, ChatResponse, Usage};
use llmrelay_providers::engine::now_unix;

fn bad(message: impl Into<String>, param: &str) -> Error {
    Error::bad_request(message).with_param(param)
}

fn content_parts(content: &Value) -> Value {
    match content {
        Value::String(text) => Value::String(text.clone()),
        Value::Array(parts) => {
            let converted: Vec<Value> = parts
                .iter()
                .filter_map(|part| match part.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text" | "text") => {
                        Some(json!({"type": "text", "text": part.get("text").cloned().unwrap_or(Value::Null)}))
                    }
                    Some("input_image") => {
                        let url = part.get("image_url").and_then(Value::as_str)?;
                        let mut image = json!({"url": url});
                        if let Some(detail) = part.get("detail") {
                            image["detail"] = detail.clone();
                        }
                        Some(json!({"type": "image_url", "image_url": image}))
                    }
                    Some("input_file") => Some(json!({"type": "file", "file": {
                        "file_data": part.get("file_data").cloned().unwrap_or(Value::Null),
                        "file_id": part.get("file_id").cloned().unwrap_or(Value::Null),
                        "filename": part.get("filename").cloned().unwrap_or(Value::Null),
                    }})),
                    _ => None,
                })
                .collect();
            if converted.iter().all(|p| p["type"] == "text") {
                Value::String(
                    converted
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<Vec<_>>()
                        .join(""),
                )
            } else {
                Value::Array(converted)
            }
        }
        _ => Value::Null,
    }
}

/// A Responses API request → chat parameters.
///
/// # Errors
/// `BadRequest` for a missing `model`/`input`, for `previous_response_id` and for `stream`.
pub fn request_to_chat(body: &Map<String, Value>) -> Result<Map<String, Value>, Error> {
    let mut params = Map::new();
    match body.get("model") {
        Some(Value::String(model)) => {
            params.insert("model".to_owned(), Value::String(model.clone()))
        }
        _ => {
            return Err(bad(
                "/responses: Missing required parameter: 'model'.",
                "model",
            ));
        }
    };
    if body
        .get("previous_response_id")
        .is_some_and(|v| !v.is_null())
    {
        return Err(bad(
            "previous_response_id is not supported by the llmrelay proxy yet: send the whole conversation in input",
            "previous_response_id",
        ));
    }
    if body.get("stream") == Some(&Value::Bool(true)) {
        params.insert("stream".to_owned(), Value::Bool(true));
        params.insert("stream_options".to_owned(), json!({"include_usage": true}));
    }
    let mut messages = Vec::new();
    if let Some(Value::String(instructions)) = body.get("instructions") {
        messages.push(json!({"role": "system", "content": instructions}));
    }
    match body.get("input") {
        Some(Value::String(text)) => messages.push(json!({"role": "user", "content": text})),
        Some(Value::Array(items)) => {
            for item in items {
                let kind = item
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("message");
                match kind {
                    "message" => {
                        let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
                        let role = if role == "developer" { "system" } else { role };
                        messages.push(json!({"role": role, "content": content_parts(item.get("content").unwrap_or(&Value::Null))}));
                    }
                    "function_call" => {
                        let call = json!({
                            "id": item.get("call_id").cloned().unwrap_or(Value::Null),
                            "type": "function",
                            "function": {"name": item.get("name").cloned().unwrap_or(Value::Null),
                                         "arguments": item.get("arguments").cloned().unwrap_or_else(|| json!("{}"))},
                        });
                        // Consecutive calls belong to one assistant turn.
                        match messages.last_mut() {
                            Some(last)
                                if last["role"] == "assistant"
                                    && last.get("tool_calls").is_some() =>
                            {
                                if let Some(calls) = last["tool_calls"].as_array_mut() {
                                    calls.push(call);
                                }
                            }
                            _ => messages.push(
                                json!({"role": "assistant", "content": null, "tool_calls": [call]}),
                            ),
                        }
                    }
                    "function_call_output" => messages.push(json!({
                        "role": "tool",
                        "tool_call_id": item.get("call_id").cloned().unwrap_or(Value::Null),
                        "content": match item.get("output") {
                            Some(Value::String(text)) => Value::String(text.clone()),
                            Some(other) => Value::String(other.to_string()),
                            None => Value::String(String::new()),
                        },
                    })),
                    "reasoning" => {}
                    other => {
                        return Err(bad(
                            format!(
                                "input item type '{other}' is not supported by the llmrelay proxy yet"
                            ),
                            "input",
                        ));
                    }
                }
            }
        }
        _ => {
            return Err(bad(
                "/responses: Missing required parameter: 'input'.",
                "input",
            ));
        }
    }
    params.insert("messages".to_owned(), Value::Array(messages));
    if let Some(Value::Array(tools)) = body.get("tools") {
        let mut converted = Vec::new();
        for tool in tools {
            if tool.get("type").and_then(Value::as_str) != Some("function") {
                return Err(bad(
                    "only function tools are supported on /v1/responses by the llmrelay proxy yet",
                    "tools",
                ));
            }
            let mut function = json!({"name": tool.get("name").cloned().unwrap_or(Value::Null),
                                      "parameters": tool.get("parameters").cloned().unwrap_or_else(|| json!({"type": "object"}))});
            if let Some(description) = tool.get("description") {
                function["description"] = description.clone();
            }
            if let Some(strict) = tool.get("strict") {
                function["strict"] = strict.clone();
            }
            converted.push(json!({"type": "function", "function": function}));
        }
        params.insert("tools".to_owned(), Value::Array(converted));
    }
    match body.get("tool_choice") {
        Some(Value::Object(choice))
            if choice.get("type").and_then(Value::as_str) == Some("function") =>
        {
            params.insert("tool_choice".to_owned(), json!({"type": "function", "function": {"name": choice.get("name").cloned().unwrap_or(Value::Null)}}));
        }
        Some(choice @ Value::String(_)) => {
            params.insert("tool_choice".to_owned(), choice.clone());
        }
        _ => {}
    }
    for (from, to) in [
        ("max_output_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("parallel_tool_calls", "parallel_tool_calls"),
        ("user", "user"),
        ("metadata", "metadata"),
    ] {
        if let Some(value) = body.get(from).filter(|v| !v.is_null()) {
            params.insert(to.to_owned(), value.clone());
        }
    }
    if let Some(effort) = body
        .get("reasoning")
        .and_then(|r| r.get("effort"))
        .filter(|v| !v.is_null())
    {
        params.insert("reasoning_effort".to_owned(), effort.clone());
    }
    if let Some(format) = body.get("text").and_then(|t| t.get("format")) {
        match format.get("type").and_then(Value::as_str) {
            Some("json_schema") => {
                let mut schema = format.clone();
                if let Some(object) = schema.as_object_mut() {
                    object.remove("type");
                }
                params.insert(
                    "response_format".to_owned(),
                    json!({"type": "json_schema", "json_schema": schema}),
                );
            }
            Some("json_object") => {
                params.insert("response_format".to_owned(), json!({"type": "json_object"}));
            }
            _ => {}
        }
    }
    Ok(params)
}

/// A chat response → a Responses API `response` object.
#[must_use]
pub fn chat_to_response(chat: &ChatResponse, model: &str, request: &Map<String, Value>) -> Value {
    let mut output = Vec::new();
    let mut finish = None;
    if let Some(choice) = chat.choices.first() {
        finish = choice.finish_reason.as_deref();
        let status = item_status(finish);
        if let Some(text) = choice.message.content.as_deref() {
            output.push(message_item(&new_id("msg"), text, status));
        }
        for call in choice.message.tool_calls.iter().flatten() {
            output.push(function_call_item(
                &new_id("fc"),
                &call.id,
                &call.function.name,
                &call.function.arguments,
                "completed",
            ));
        }
    }
    envelope(
        &new_id("resp"),
        model,
        request,
        output,
        finish,
        chat.usage.as_ref(),
        true,
    )
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn item_status(finish: Option<&str>) -> &'static str {
    if finish == Some("length") {
        "incomplete"
    } else {
        "completed"
    }
}

fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({
        "type": "message",
        "id": id,
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    })
}

fn function_call_item(id: &str, call_id: &str, name: &str, arguments: &str, status: &str) -> Value {
    json!({"type": "function_call", "id": id, "call_id": call_id, "name": name, "arguments": arguments, "status": status})
}

fn usage_json(usage: Option<&Usage>) -> Value {
    usage.map_or(Value::Null, |usage| {
        json!({
            "input_tokens": usage.prompt_tokens,
            "input_tokens_details": {"cached_tokens": usage.cached_tokens()},
            "output_tokens": usage.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens()},
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        })
    })
}

/// The `response` object around some output items; `done` false gives the in-progress form
/// sent at the start of a stream.
fn envelope(
    id: &str,
    model: &str,
    request: &Map<String, Value>,
    output: Vec<Value>,
    finish: Option<&str>,
    usage: Option<&Usage>,
    done: bool,
) -> Value {
    let (status, incomplete) = match (done, finish) {
        (false, _) => ("in_progress", Value::Null),
        (true, Some("length")) => ("incomplete", json!({"reason": "max_output_tokens"})),
        (true, _) => ("completed", Value::Null),
    };
    let field = |name: &str, default: Value| request.get(name).cloned().unwrap_or(default);
    json!({
        "id": id,
        "object": "response",
        "created_at": now_unix(),
        "status": status,
        "error": null,
        "incomplete_details": incomplete,
        "instructions": field("instructions", Value::Null),
        "max_output_tokens": field("max_output_tokens", Value::Null),
        "model": model,
        "output": output,
        "parallel_tool_calls": field("parallel_tool_calls", Value::Bool(true)),
        "previous_response_id": null,
        "temperature": field("temperature", json!(1.0)),
        "text": field("text", json!({"format": {"type": "text"}})),
        "tool_choice": field("tool_choice", json!("auto")),
        "tools": field("tools", json!([])),
        "top_p": field("top_p", json!(1.0)),
        "truncation": "disabled",
        "usage": if done { usage_json(usage) } else { Value::Null },
        "user": field("user", Value::Null),
        "metadata": field("metadata", json!({})),
    })
}

/// One output item being streamed.
enum StreamItem {
    Message {
        id: String,
        text: String,
    },
    Call {
        id: String,
        call_id: String,
        name: String,
        arguments: String,
    },
}

/// Chat chunks → Responses API stream events (`event: <type>` / `data: <json>`, each with a
/// `sequence_number`), as in OpenAI's "Streaming API responses" guide: `response.created`,
/// `response.in_progress`, per item `response.output_item.added`, text through
/// `response.content_part.added` / `response.output_text.delta` / `.done` /
/// `response.content_part.done`, calls through `response.function_call_arguments.delta` /
/// `.done`, then `response.output_item.done`, and finally `response.completed`.
pub struct ResponseStreamEncoder {
    id: String,
    model: String,
    request: Map<String, Value>,
    sequence: u64,
    started: bool,
    /// Items by output index.
    items: Vec<StreamItem>,
    /// Output index of the text message, if one was opened.
    message: Option<usize>,
    /// Chat tool-call index → output index.
    calls: Vec<(u32, usize)>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

impl ResponseStreamEncoder {
    #[must_use]
    pub fn new(model: &str, request: Map<String, Value>) -> Self {
        Self {
            id: new_id("resp"),
            model: model.to_owned(),
            request,
            sequence: 0,
            started: false,
            items: Vec::new(),
            message: None,
            calls: Vec::new(),
            finish_reason: None,
            usage: None,
        }
    }

    fn event(&mut self, kind: &str, mut data: Value, out: &mut Vec<u8>) {
        data["type"] = Value::String(kind.to_owned());
        data["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        let _ = serde_json::to_writer(&mut *out, &data);
        out.extend_from_slice(b"\n\n");
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let response = envelope(
            &self.id,
            &self.model,
            &self.request,
            Vec::new(),
            None,
            None,
            false,
        );
        self.event(
            "response.created",
            json!({"response": response.clone()}),
            out,
        );
        self.event("response.in_progress", json!({"response": response}), out);
    }

    fn item_json(item: &StreamItem, status: &str) -> Value {
        match item {
            StreamItem::Message { id, text } => message_item(id, text, status),
            StreamItem::Call {
                id,
                call_id,
                name,
                arguments,
            } => function_call_item(id, call_id, name, arguments, status),
        }
    }

    /// Encode one chunk.
    pub fn chunk(&mut self, chunk: &ChatChunk, out: &mut Vec<u8>) {
        self.start(out);
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
        let Some(choice) = chunk.choices.first() else {
            return;
        };
        if let Some(text) = choice.delta.content.as_deref().filter(|t| !t.is_empty()) {
            let index = match self.message {
                Some(index) => index,
                None => {
                    let index = self.items.len();
                    let id = new_id("msg");
                    self.items.push(StreamItem::Message {
                        id: id.clone(),
                        text: String::new(),
                    });
                    self.message = Some(index);
                    let item = json!({"type": "message", "id": id, "status": "in_progress", "role": "assistant", "content": []});
                    self.event(
                        "response.output_item.added",
                        json!({"output_index": index, "item": item}),
                        out,
                    );
                    self.event(
                        "response.content_part.added",
                        json!({"item_id": id, "output_index": index, "content_index": 0,
                        "part": {"type": "output_text", "text": "", "annotations": []}}),
                        out,
                    );
                    index
                }
            };
            if let Some(StreamItem::Message { id, text: so_far }) = self.items.get_mut(index) {
                so_far.push_str(text);
                let id = id.clone();
                self.event("response.output_text.delta", json!({"item_id": id, "output_index": index, "content_index": 0, "delta": text, "logprobs": []}), out);
            }
        }
        for call in choice.delta.tool_calls.iter().flatten() {
            let function = call.function.as_ref();
            let existing = self
                .calls
                .iter()
                .find(|(chat_index, _)| *chat_index == call.index)
                .map(|(_, index)| *index);
            let index = match existing {
                Some(index) => index,
                None => {
                    let index = self.items.len();
                    let id = new_id("fc");
                    let item = StreamItem::Call {
                        id,
                        call_id: call.id.clone().unwrap_or_default(),
                        name: function.and_then(|f| f.name.clone()).unwrap_or_default(),
                        arguments: String::new(),
                    };
                    let added = Self::item_json(&item, "in_progress");
                    self.items.push(item);
                    self.calls.push((call.index, index));
                    self.event(
                        "response.output_item.added",
                        json!({"output_index": index, "item": added}),
                        out,
                    );
                    index
                }
            };
            let delta = function
                .and_then(|f| f.arguments.clone())
                .unwrap_or_default();
            if delta.is_empty() {
                continue;
            }
            if let Some(StreamItem::Call { id, arguments, .. }) = self.items.get_mut(index) {
                arguments.push_str(&delta);
                let id = id.clone();
                self.event(
                    "response.function_call_arguments.delta",
                    json!({"item_id": id, "output_index": index, "delta": delta}),
                    out,
                );
            }
        }
        if let Some(reason) = &choice.finish_reason {
            self.finish_reason = Some(reason.clone());
        }
    }

    /// Close every item and send `response.completed` (or `.incomplete` when cut by length).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.start(out);
        let status = item_status(self.finish_reason.as_deref());
        let items = std::mem::take(&mut self.items);
        let mut output = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            match item {
                StreamItem::Message { id, text } => {
                    self.event("response.output_text.done", json!({"item_id": id, "output_index": index, "content_index": 0, "text": text, "logprobs": []}), out);
                    self.event(
                        "response.content_part.done",
                        json!({"item_id": id, "output_index": index, "content_index": 0,
                        "part": {"type": "output_text", "text": text, "annotations": []}}),
                        out,
                    );
                }
                StreamItem::Call { id, arguments, .. } => {
                    self.event(
                        "response.function_call_arguments.done",
                        json!({"item_id": id, "output_index": index, "arguments": arguments}),
                        out,
                    );
                }
            }
            let done = Self::item_json(
                item,
                if matches!(item, StreamItem::Message { .. }) {
                    status
                } else {
                    "completed"
                },
            );
            self.event(
                "response.output_item.done",
                json!({"output_index": index, "item": done.clone()}),
                out,
            );
            output.push(done);
        }
        let response = envelope(
            &self.id,
            &self.model,
            &self.request,
            output,
            self.finish_reason.as_deref(),
            self.usage.as_ref(),
            true,
        );
        let kind = if response["status"] == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.event(kind, json!({"response": response}), out);
    }

    /// An error mid-stream: `response.failed` with the error.
    pub fn error(&mut self, error: &Error, out: &mut Vec<u8>) {
        self.start(out);
        let mut response = envelope(
            &self.id,
            &self.model,
            &self.request,
            Vec::new(),
            None,
            None,
            false,
        );
        response["status"] = json!("failed");
        response["error"] = json!({"code": error.kind().as_str(), "message": error.message()});
        self.event("response.failed", json!({"response": response}), out);
    }
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
    fn items_become_messages() {
        let params = request_to_chat(&map(json!({
            "model": "m", "instructions": "be brief", "max_output_tokens": 50,
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "42"}
            ]
        })))
        .unwrap();
        let messages = params["messages"].as_array().unwrap();
        assert_eq!(messages[0]["role"], "system");
        assert_eq!(messages[1]["content"], "hi");
        assert_eq!(messages[2]["tool_calls"][0]["id"], "c1");
        assert_eq!(messages[3]["role"], "tool");
        assert_eq!(params["max_tokens"], 50);
        assert_eq!(params["tools"][0]["function"]["name"], "f");
        let streamed =
            request_to_chat(&map(json!({"model": "m", "input": "x", "stream": true}))).unwrap();
        assert_eq!(streamed["stream_options"]["include_usage"], true);
        assert!(
            request_to_chat(&map(
                json!({"model": "m", "input": "x", "previous_response_id": "r"})
            ))
            .is_err()
        );
        assert!(request_to_chat(&map(json!({"model": "m"}))).is_err());
    }

    #[test]
    fn chat_becomes_response() {
        let chat: ChatResponse = serde_json::from_value(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hello"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
        }))
        .unwrap();
        let response = chat_to_response(&chat, "group", &Map::new());
        assert_eq!(response["object"], "response");
        assert_eq!(response["output"][0]["content"][0]["text"], "hello");
        assert_eq!(response["usage"]["total_tokens"], 5);
        assert_eq!(response["model"], "group");
    }

    #[test]
    fn stream_events() {
        let mut encoder = ResponseStreamEncoder::new("group", Map::new());
        let mut out = Vec::new();
        let chunk = |value: Value| -> ChatChunk { serde_json::from_value(value).unwrap() };
        encoder.chunk(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]})), &mut out);
        encoder.chunk(
            &chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "lo"}}]})),
            &mut out,
        );
        encoder.chunk(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":"}}]}}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}, "finish_reason": "tool_calls"}]})), &mut out);
        encoder.chunk(&chunk(json!({"id": "c", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}})), &mut out);
        encoder.finish(&mut out);
        let text = String::from_utf8(out).unwrap();
        let events: Vec<Value> = text
            .split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| {
                serde_json::from_str(e.lines().nth(1).unwrap().strip_prefix("data: ").unwrap())
                    .unwrap()
            })
            .collect();
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        assert!(
            events
                .iter()
                .enumerate()
                .all(|(i, e)| e["sequence_number"] == i as u64)
        );
        let done = &events[14]["response"];
        assert_eq!(done["output"][0]["content"][0]["text"], "Hello");
        assert_eq!(done["output"][1]["arguments"], "{\"a\":1}");
        assert_eq!(done["usage"]["total_tokens"], 7);
    }
}
