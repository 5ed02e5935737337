//! Responses API request → chat completion parameters, for providers without a native
//! Responses endpoint (<https://platform.openai.com/docs/api-reference/responses/create>).

use serde_json::{Map, Value, json};

use llmrelay_core::{Error, Result};

/// Fields of a Responses request that shape the chat call; everything else in the parameters
/// (call options such as `api_key`, provider extras) passes to the chat call unchanged.
const RESPONSES_FIELDS: &[&str] = &[
    "input",
    "instructions",
    "max_output_tokens",
    "tools",
    "tool_choice",
    "reasoning",
    "text",
    "previous_response_id",
    "store",
    "include",
    "truncation",
    "metadata",
    "background",
    "prompt",
    "text_format",
    "safety_identifier",
    "max_tool_calls",
    "prompt_cache_key",
    "conversation",
];

/// What the bridge echoes back on the response object (the request as the caller sent it).
#[derive(Debug, Clone, Default)]
pub struct Echo {
    pub instructions: Option<Value>,
    pub max_output_tokens: Option<Value>,
    pub tools: Value,
    pub tool_choice: Value,
    pub reasoning: Option<Value>,
    pub text: Value,
    pub previous_response_id: Option<String>,
    pub store: bool,
    pub truncation: Value,
    pub metadata: Value,
    pub temperature: Option<Value>,
    pub top_p: Option<Value>,
    pub parallel_tool_calls: bool,
    pub user: Option<Value>,
    pub service_tier: Option<Value>,
}

/// A bridged request: chat parameters plus what the response echoes.
#[derive(Debug, Clone)]
pub struct Bridged {
    /// The chat call's parameters, `messages` included.
    pub chat: Map<String, Value>,
    /// The conversation items this request adds (for `previous_response_id` on the next turn),
    /// as chat messages: the stored history is prepended separately.
    pub new_messages: Vec<Value>,
    pub echo: Echo,
}

fn bad(message: impl Into<String>, param: &str) -> Error {
    Error::bad_request(message).with_param(param)
}

/// Text of an `output` given as a string or a list of content parts.
fn output_text(value: &Value) -> Value {
    match value {
        Value::Array(parts) => Value::Array(
            parts
                .iter()
                .map(|part| match part.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text") => {
                        json!({"type": "text", "text": part.get("text").cloned().unwrap_or(Value::Null)})
                    }
                    Some("input_image") => image_part(part),
                    _ => part.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn image_part(part: &Value) -> Value {
    let url = part
        .get("image_url")
        .cloned()
        .or_else(|| part.get("file_id").cloned())
        .unwrap_or(Value::Null);
    let mut image = json!({"url": url});
    if let Some(detail) = part.get("detail").filter(|d| !d.is_null()) {
        image["detail"] = detail.clone();
    }
    json!({"type": "image_url", "image_url": image})
}

fn file_part(part: &Value) -> Value {
    let mut file = Map::new();
    for key in ["file_id", "file_data", "filename"] {
        if let Some(value) = part.get(key).filter(|v| !v.is_null()) {
            file.insert(key.to_owned(), value.clone());
        }
    }
    if let Some(url) = part.get("file_url").filter(|v| !v.is_null()) {
        file.insert("file_id".to_owned(), url.clone());
    }
    json!({"type": "file", "file": file})
}

fn message_content(content: &Value, index: usize) -> Result<Value> {
    match content {
        Value::String(_) | Value::Null => Ok(content.clone()),
        Value::Array(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for (part_index, part) in parts.iter().enumerate() {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
                out.push(match kind {
                    "input_text" | "output_text" | "text" => {
                        json!({"type": "text", "text": part.get("text").cloned().unwrap_or(Value::Null)})
                    }
                    "input_image" => image_part(part),
                    "input_file" => file_part(part),
                    "refusal" => {
                        json!({"type": "text", "text": part.get("refusal").cloned().unwrap_or(Value::Null)})
                    }
                    other => {
                        return Err(bad(
                            format!("input[{index}].content[{part_index}]: unsupported content type '{other}'"),
                            "input",
                        ));
                    }
                });
            }
            Ok(Value::Array(out))
        }
        _ => Err(bad(
            format!("input[{index}].content must be a string or a list of content parts"),
            "input",
        )),
    }
}

/// Responses input items → chat messages. Consecutive `function_call` items join one assistant
/// message; a `reasoning` item's summary rides on the next assistant message.
///
/// # Errors
/// An item of an unknown type or with a malformed field.
pub fn input_messages(input: &Value) -> Result<Vec<Value>> {
    let items = match input {
        Value::String(text) => return Ok(vec![json!({"role": "user", "content": text})]),
        Value::Array(items) => items,
        Value::Null => return Ok(Vec::new()),
        _ => return Err(bad("input must be a string or a list of items", "input")),
    };
    let mut messages: Vec<Value> = Vec::with_capacity(items.len());
    let mut pending_reasoning: Option<(String, Vec<Value>)> = None;
    // Whether the last message is an assistant turn built from this input's items, which
    // later function_call items may join.
    let mut open_assistant = false;
    for (index, item) in items.iter().enumerate() {
        let kind = item.get("type").and_then(Value::as_str);
        let role = item.get("role").and_then(Value::as_str);
        match (kind, role) {
            (Some("message") | None, Some(role)) => {
                let content = message_content(item.get("content").unwrap_or(&Value::Null), index)?;
                let role = match role {
                    "user" | "system" | "developer" | "assistant" => role,
                    other => {
                        return Err(bad(
                            format!("input[{index}].role '{other}' is not valid"),
                            "input",
                        ));
                    }
                };
                let mut message = json!({"role": role, "content": content});
                if role == "assistant" {
                    attach_reasoning(&mut message, pending_reasoning.take());
                }
                messages.push(message);
                open_assistant = role == "assistant";
            }
            (Some("function_call"), _) => {
                let call_id = item
                    .get("call_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("input[{index}].call_id is required"), "input"))?;
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("input[{index}].name is required"), "input"))?;
                let arguments = match item.get("arguments") {
                    Some(Value::String(text)) => text.clone(),
                    Some(Value::Null) | None => "{}".to_owned(),
                    Some(other) => other.to_string(),
                };
                let call = json!({"id": call_id, "type": "function",
                                  "function": {"name": name, "arguments": arguments}});
                match messages.last_mut().filter(|_| open_assistant) {
                    Some(last) => {
                        let calls = last
                            .as_object_mut()
                            .map(|m| m.entry("tool_calls").or_insert_with(|| json!([])));
                        if let Some(Value::Array(calls)) = calls {
                            calls.push(call);
                        }
                    }
                    None => {
                        let mut message =
                            json!({"role": "assistant", "content": null, "tool_calls": [call]});
                        attach_reasoning(&mut message, pending_reasoning.take());
                        messages.push(message);
                        open_assistant = true;
                    }
                }
            }
            (Some("function_call_output"), _) => {
                let call_id = item
                    .get("call_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("input[{index}].call_id is required"), "input"))?;
                let output = output_text(item.get("output").unwrap_or(&Value::Null));
                messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": output}));
                open_assistant = false;
            }
            (Some("reasoning"), _) => {
                let text: String = item
                    .get("summary")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n");
                let mut blocks = Vec::new();
                if let Some(signature) = item.get("encrypted_content").and_then(Value::as_str) {
                    blocks.push(
                        json!({"type": "thinking", "thinking": text, "signature": signature}),
                    );
                }
                pending_reasoning = Some((text, blocks));
            }
            (Some("item_reference"), _) => {
                return Err(bad(
                    format!(
                        "input[{index}]: item_reference is only supported by OpenAI's Responses API"
                    ),
                    "input",
                ));
            }
            (Some(other), _) => {
                return Err(bad(
                    format!("input[{index}]: unsupported item type '{other}'"),
                    "input",
                ));
            }
            (None, None) => {
                return Err(bad(
                    format!("input[{index}] needs a 'type' or a 'role'"),
                    "input",
                ));
            }
        }
    }
    Ok(messages)
}

fn attach_reasoning(message: &mut Value, reasoning: Option<(String, Vec<Value>)>) {
    if let Some((text, blocks)) = reasoning {
        if !text.is_empty() {
            message["reasoning_content"] = Value::String(text);
        }
        if !blocks.is_empty() {
            message["thinking_blocks"] = Value::Array(blocks);
        }
    }
}

/// Responses function tools → chat tools.
fn chat_tools(tools: &Value) -> Result<Option<Value>> {
    let Some(list) = tools.as_array() else {
        return match tools {
            Value::Null => Ok(None),
            _ => Err(bad("tools must be a list", "tools")),
        };
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, tool) in list.iter().enumerate() {
        match tool.get("type").and_then(Value::as_str) {
            Some("function") => {
                let mut function = Map::new();
                for key in ["name", "description", "parameters", "strict"] {
                    if let Some(value) = tool.get(key).filter(|v| !v.is_null()) {
                        function.insert(key.to_owned(), value.clone());
                    }
                }
                if !function.contains_key("name") {
                    return Err(bad(format!("tools[{index}].name is required"), "tools"));
                }
                out.push(json!({"type": "function", "function": function}));
            }
            other => {
                return Err(bad(
                    format!(
                        "tools[{index}]: tool type '{}' is only supported by OpenAI's Responses API; \
                         other providers take function tools",
                        other.unwrap_or("?")
                    ),
                    "tools",
                ));
            }
        }
    }
    Ok(Some(Value::Array(out)))
}

fn chat_tool_choice(choice: &Value) -> Option<Value> {
    match choice {
        Value::Null => None,
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("function") => Some(
            json!({"type": "function", "function": {"name": map.get("name").cloned().unwrap_or(Value::Null)}}),
        ),
        other => Some(other.clone()),
    }
}

/// `text.format` → chat `response_format`.
fn response_format(text: &Value) -> Option<Value> {
    let format = text.get("format")?;
    match format.get("type").and_then(Value::as_str)? {
        "json_schema" => {
            let mut schema = Map::new();
            for key in ["name", "schema", "strict", "description"] {
                if let Some(value) = format.get(key).filter(|v| !v.is_null()) {
                    schema.insert(key.to_owned(), value.clone());
                }
            }
            Some(json!({"type": "json_schema", "json_schema": schema}))
        }
        "json_object" => Some(json!({"type": "json_object"})),
        _ => None,
    }
}

/// Split Responses parameters into the chat call (without the stored history) and the echo.
///
/// # Errors
/// Malformed input items or tools.
pub fn bridge(mut params: Map<String, Value>) -> Result<Bridged> {
    let mut taken = Map::new();
    for key in RESPONSES_FIELDS {
        if let Some(value) = params.remove(*key) {
            taken.insert((*key).to_owned(), value);
        }
    }
    let get = |key: &str| taken.get(key).filter(|v| !v.is_null()).cloned();
    let mut new_messages = Vec::new();
    if let Some(instructions) = get("instructions") {
        new_messages.push(json!({"role": "system", "content": instructions}));
    }
    new_messages.extend(input_messages(taken.get("input").unwrap_or(&Value::Null))?);
    let mut chat = params;
    if let Some(max) = get("max_output_tokens") {
        chat.insert("max_tokens".to_owned(), max);
    }
    let tools = get("tools").unwrap_or_else(|| json!([]));
    if let Some(converted) =
        chat_tools(&tools)?.filter(|t| t.as_array().is_some_and(|a| !a.is_empty()))
    {
        chat.insert("tools".to_owned(), converted);
        if let Some(choice) = get("tool_choice").as_ref().and_then(chat_tool_choice) {
            chat.insert("tool_choice".to_owned(), choice);
        }
    }
    let reasoning = get("reasoning");
    if let Some(effort) = reasoning
        .as_ref()
        .and_then(|r| r.get("effort"))
        .filter(|e| e.is_string())
    {
        chat.insert("reasoning_effort".to_owned(), effort.clone());
    }
    let text = get("text").unwrap_or_else(|| json!({"format": {"type": "text"}}));
    if let Some(format) = response_format(&text) {
        chat.insert("response_format".to_owned(), format);
    }
    let echo = Echo {
        instructions: get("instructions"),
        max_output_tokens: get("max_output_tokens"),
        tools,
        tool_choice: get("tool_choice").unwrap_or_else(|| json!("auto")),
        reasoning,
        text,
        previous_response_id: get("previous_response_id")
            .and_then(|v| v.as_str().map(str::to_owned)),
        store: get("store").and_then(|v| v.as_bool()).unwrap_or(true),
        truncation: get("truncation").unwrap_or_else(|| json!("disabled")),
        metadata: get("metadata").unwrap_or_else(|| json!({})),
        temperature: chat.get("temperature").cloned().filter(|v| !v.is_null()),
        top_p: chat.get("top_p").cloned().filter(|v| !v.is_null()),
        parallel_tool_calls: chat
            .get("parallel_tool_calls")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        user: chat.get("user").cloned().filter(|v| !v.is_null()),
        service_tier: chat.get("service_tier").cloned().filter(|v| !v.is_null()),
    };
    Ok(Bridged {
        chat,
        new_messages,
        echo,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn string_input_and_instructions() {
        let bridged = bridge(map(json!({
            "model": "anthropic/claude-sonnet-4-5", "input": "hi", "instructions": "be brief",
            "max_output_tokens": 50, "temperature": 0.2, "api_key": "k"
        })))
        .unwrap();
        assert_eq!(
            bridged.new_messages,
            vec![
                json!({"role": "system", "content": "be brief"}),
                json!({"role": "user", "content": "hi"})
            ]
        );
        assert_eq!(bridged.chat["max_tokens"], 50);
        assert_eq!(bridged.chat["api_key"], "k");
        assert!(!bridged.chat.contains_key("input"));
        assert_eq!(bridged.echo.tool_choice, "auto");
        assert!(bridged.echo.store);
    }

    /// Items per the API reference's input item list (message, function_call,
    /// function_call_output, reasoning).
    #[test]
    fn items_become_chat_messages() {
        let messages = input_messages(&json!([
            {"role": "user", "content": [{"type": "input_text", "text": "weather?"},
                                         {"type": "input_image", "image_url": "data:image/png;base64,AAA", "detail": "low"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "think"}], "encrypted_content": "sig"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call", "call_id": "call_2", "name": "get_time", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "noon"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Sunny at noon."}]}
        ]))
        .unwrap();
        assert_eq!(messages.len(), 5);
        assert_eq!(messages[0]["content"][1]["image_url"]["detail"], "low");
        assert_eq!(messages[1]["tool_calls"].as_array().unwrap().len(), 2);
        assert_eq!(messages[1]["reasoning_content"], "think");
        assert_eq!(messages[1]["thinking_blocks"][0]["signature"], "sig");
        assert_eq!(
            messages[2],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "sunny"})
        );
        assert_eq!(messages[3]["content"][0]["text"], "noon");
        assert_eq!(
            messages[4]["content"][0],
            json!({"type": "text", "text": "Sunny at noon."})
        );
    }

    #[test]
    fn tools_choice_and_formats() {
        let bridged = bridge(map(json!({
            "model": "m", "input": "x",
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": true}],
            "tool_choice": {"type": "function", "name": "f"},
            "reasoning": {"effort": "low", "summary": "auto"},
            "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}}
        })))
        .unwrap();
        assert_eq!(bridged.chat["tools"][0]["function"]["name"], "f");
        assert_eq!(bridged.chat["tools"][0]["function"]["strict"], true);
        assert_eq!(
            bridged.chat["tool_choice"],
            json!({"type": "function", "function": {"name": "f"}})
        );
        assert_eq!(bridged.chat["reasoning_effort"], "low");
        assert_eq!(
            bridged.chat["response_format"]["json_schema"]["name"],
            "out"
        );
    }

    #[test]
    fn bad_items_are_named() {
        let error = input_messages(&json!([{"type": "computer_call", "id": "x"}])).unwrap_err();
        assert!(error.message().contains("input[0]"), "{error}");
        let error = input_messages(&json!([{"type": "function_call", "name": "f"}])).unwrap_err();
        assert!(error.message().contains("call_id"), "{error}");
        let error = bridge(map(
            json!({"model": "m", "input": "x", "tools": [{"type": "web_search"}]}),
        ))
        .unwrap_err();
        assert!(error.message().contains("web_search"), "{error}");
    }
}
