//! Chat completion → Responses API objects (<https://platform.openai.com/docs/api-reference/responses/object>):
//! the whole response, and the output items both the whole and the streamed paths build.

use serde_json::{Value, json};

use llmrelay_core::types::{ChatResponse, ToolCall, Usage};

use super::request::Echo;

/// A fresh id with the Responses API's prefix (`resp_`, `msg_`, `fc_`, `rs_`).
#[must_use]
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// `usage` in the Responses shape.
#[must_use]
pub fn usage_value(usage: &Usage) -> Value {
    let cached = usage
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
        .unwrap_or(0);
    let written = usage
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cache_creation_tokens)
        .unwrap_or(0);
    let reasoning = usage
        .completion_tokens_details
        .as_ref()
        .and_then(|d| d.reasoning_tokens)
        .unwrap_or(0);
    json!({
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": usage.total_tokens,
    })
}

/// A finished `reasoning` output item.
#[must_use]
pub fn reasoning_item(id: &str, text: &str, signature: Option<&str>) -> Value {
    let mut item = json!({
        "type": "reasoning", "id": id,
        "summary": [{"type": "summary_text", "text": text}],
    });
    if let Some(signature) = signature {
        item["encrypted_content"] = Value::String(signature.to_owned());
    }
    item
}

/// A `message` output item with one `output_text` part.
#[must_use]
pub fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({
        "type": "message", "id": id, "status": status, "role": "assistant",
        "content": [output_text_part(text)],
    })
}

#[must_use]
pub fn output_text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// A `function_call` output item.
#[must_use]
pub fn function_call_item(
    id: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
    status: &str,
) -> Value {
    json!({
        "type": "function_call", "id": id, "call_id": call_id, "name": name,
        "arguments": arguments, "status": status,
    })
}

/// `status` and `incomplete_details` for a chat finish reason.
#[must_use]
pub fn status_for(finish_reason: Option<&str>) -> (&'static str, Value) {
    match finish_reason {
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

/// The response object around `output`, echoing the request as OpenAI does.
#[must_use]
pub fn response_object(
    id: &str,
    created_at: u64,
    model: &str,
    (status, incomplete_details): (&str, Value),
    output: Vec<Value>,
    usage: Option<Value>,
    echo: &Echo,
) -> Value {
    json!({
        "id": id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": false,
        "error": null,
        "incomplete_details": incomplete_details,
        "instructions": echo.instructions,
        "max_output_tokens": echo.max_output_tokens,
        "model": model,
        "output": output,
        "parallel_tool_calls": echo.parallel_tool_calls,
        "previous_response_id": echo.previous_response_id,
        "reasoning": echo.reasoning.clone().unwrap_or_else(|| json!({"effort": null, "summary": null})),
        "service_tier": echo.service_tier,
        "store": echo.store,
        "temperature": echo.temperature.clone().unwrap_or(json!(1.0)),
        "text": echo.text,
        "tool_choice": echo.tool_choice,
        "tools": echo.tools,
        "top_p": echo.top_p.clone().unwrap_or(json!(1.0)),
        "truncation": echo.truncation,
        "usage": usage,
        "user": echo.user,
        "metadata": echo.metadata,
    })
}

fn tool_call_items(calls: &[ToolCall]) -> impl Iterator<Item = Value> + '_ {
    calls.iter().map(|call| {
        function_call_item(
            &new_id("fc"),
            &call.id,
            &call.function.name,
            &call.function.arguments,
            "completed",
        )
    })
}

/// The first thinking block's signature, carried as the reasoning item's `encrypted_content`
/// so the next turn can send it back.
fn signature(blocks: Option<&Vec<Value>>) -> Option<&str> {
    blocks?
        .iter()
        .find_map(|b| b.get("signature").and_then(Value::as_str))
}

/// Output items of a whole chat response (first choice), in OpenAI's order: reasoning,
/// message, function calls.
#[must_use]
pub fn output_items(response: &ChatResponse) -> Vec<Value> {
    let mut output = Vec::new();
    let Some(choice) = response.choices.first() else {
        return output;
    };
    let message = &choice.message;
    if let Some(reasoning) = message
        .reasoning_content
        .as_deref()
        .filter(|r| !r.is_empty())
    {
        output.push(reasoning_item(
            &new_id("rs"),
            reasoning,
            signature(message.thinking_blocks.as_ref()),
        ));
    }
    let calls = message.tool_calls.as_deref().unwrap_or_default();
    match message.content.as_deref() {
        Some(text) if !text.is_empty() => {
            output.push(message_item(&new_id("msg"), text, "completed"));
        }
        _ if calls.is_empty() => output.push(message_item(&new_id("msg"), "", "completed")),
        _ => {}
    }
    output.extend(tool_call_items(calls));
    output
}

/// A whole chat response as a Responses object.
#[must_use]
pub fn from_chat(response: &ChatResponse, id: &str, model: &str, echo: &Echo) -> Value {
    let finish = response
        .choices
        .first()
        .and_then(|c| c.finish_reason.as_deref());
    response_object(
        id,
        response.created,
        model,
        status_for(finish),
        output_items(response),
        response.usage.as_ref().map(usage_value),
        echo,
    )
}

/// The assistant turn of a finished response as a chat message, for the stored history.
#[must_use]
pub fn assistant_message(output: &[Value]) -> Value {
    let mut content = String::new();
    let mut calls = Vec::new();
    let mut reasoning = String::new();
    let mut blocks = Vec::new();
    for item in output {
        match item.get("type").and_then(Value::as_str) {
            Some("message") => {
                for part in item["content"].as_array().into_iter().flatten() {
                    content.push_str(part["text"].as_str().unwrap_or(""));
                }
            }
            Some("function_call") => calls.push(json!({
                "id": item["call_id"], "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            })),
            Some("reasoning") => {
                for part in item["summary"].as_array().into_iter().flatten() {
                    reasoning.push_str(part["text"].as_str().unwrap_or(""));
                }
                if let Some(signature) = item.get("encrypted_content").and_then(Value::as_str) {
                    blocks.push(
                        json!({"type": "thinking", "thinking": reasoning, "signature": signature}),
                    );
                }
            }
            _ => {}
        }
    }
    let mut message = json!({
        "role": "assistant",
        "content": if content.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(content) },
    });
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    if !reasoning.is_empty() {
        message["reasoning_content"] = Value::String(reasoning);
    }
    if !blocks.is_empty() {
        message["thinking_blocks"] = Value::Array(blocks);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(message: Value, finish: &str) -> ChatResponse {
        serde_json::from_value(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000u64, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                      "prompt_tokens_details": {"cached_tokens": 4},
                      "completion_tokens_details": {"reasoning_tokens": 2}}
        }))
        .unwrap()
    }

    #[test]
    fn text_reasoning_and_calls_in_openai_order() {
        let response = chat(
            json!({"role": "assistant", "content": "Let me check.", "reasoning_content": "hmm",
                   "thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": "sig"}],
                   "tool_calls": [{"id": "call_1", "type": "function",
                                   "function": {"name": "f", "arguments": "{\"a\":1}"}}]}),
            "tool_calls",
        );
        let object = from_chat(&response, "resp_1", "claude", &Echo::default());
        let kinds: Vec<&str> = object["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["reasoning", "message", "function_call"]);
        assert_eq!(object["output"][0]["encrypted_content"], "sig");
        assert_eq!(object["output"][2]["call_id"], "call_1");
        assert_eq!(object["status"], "completed");
        assert_eq!(object["usage"]["input_tokens_details"]["cached_tokens"], 4);
        assert_eq!(
            object["usage"]["output_tokens_details"]["reasoning_tokens"],
            2
        );
        let back = assistant_message(object["output"].as_array().unwrap());
        assert_eq!(back["tool_calls"][0]["function"]["name"], "f");
        assert_eq!(back["thinking_blocks"][0]["signature"], "sig");
    }

    #[test]
    fn length_is_incomplete() {
        let response = chat(json!({"role": "assistant", "content": "cut"}), "length");
        let object = from_chat(&response, "resp_1", "m", &Echo::default());
        assert_eq!(object["status"], "incomplete");
        assert_eq!(object["incomplete_details"]["reason"], "max_output_tokens");
    }
}
