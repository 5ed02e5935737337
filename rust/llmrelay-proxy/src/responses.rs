//! `/v1/responses` bridged onto chat completions, so every provider answers it: request items →
//! chat messages, chat response → a `response` object. Stateless: `previous_response_id` and
//! `store` need storage the proxy does not have yet, and streaming is not bridged.
//!
//! Shapes follow OpenAI's API reference "Responses" (create, the response object) and
//! openai-python `types/responses/response.py`, `response_input_item_param.py`,
//! `response_output_message.py`, `response_function_tool_call.py`, `response_usage.py`.

use serde_json::{Map, Value, json};

use llmrelay_core::Error;
use llmrelay_core::types::ChatResponse;
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
        return Err(bad(
            "stream is not supported on /v1/responses by the llmrelay proxy yet; use /v1/chat/completions for streaming",
            "stream",
        ));
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
    let mut incomplete = Value::Null;
    let mut status = "completed";
    if let Some(choice) = chat.choices.first() {
        if choice.finish_reason.as_deref() == Some("length") {
            status = "incomplete";
            incomplete = json!({"reason": "max_output_tokens"});
        }
        if let Some(text) = choice.message.content.as_deref() {
            output.push(json!({
                "type": "message",
                "id": format!("msg_{}", uuid::Uuid::new_v4().simple()),
                "status": status,
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }));
        }
        for call in choice.message.tool_calls.iter().flatten() {
            output.push(json!({
                "type": "function_call",
                "id": format!("fc_{}", uuid::Uuid::new_v4().simple()),
                "call_id": call.id,
                "name": call.function.name,
                "arguments": call.function.arguments,
                "status": "completed",
            }));
        }
    }
    let usage = chat.usage.as_ref().map_or(Value::Null, |usage| {
        json!({
            "input_tokens": usage.prompt_tokens,
            "input_tokens_details": {"cached_tokens": usage.cached_tokens()},
            "output_tokens": usage.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens()},
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        })
    });
    let field = |name: &str, default: Value| request.get(name).cloned().unwrap_or(default);
    json!({
        "id": format!("resp_{}", uuid::Uuid::new_v4().simple()),
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
        "usage": usage,
        "user": field("user", Value::Null),
        "metadata": field("metadata", json!({})),
    })
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
        assert!(
            request_to_chat(&map(json!({"model": "m", "input": "x", "stream": true}))).is_err()
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
}
