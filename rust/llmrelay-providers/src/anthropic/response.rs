//! Anthropic `Message` → canonical chat completion (<https://docs.anthropic.com/en/api/messages>,
//! anthropic-sdk-python `types/message.py`, `types/usage.py`), as LiteLLM's
//! `AnthropicConfig.transform_response` builds it.

use std::collections::HashMap;

use serde_json::{Value, json};

use llmrelay_core::tokens;
use llmrelay_core::types::{
    ChatRequest, ChatResponse, Choice, CompletionTokensDetails, FunctionCall, JsonMap,
    MessageContent, PromptTokensDetails, ResponseMessage, Role, ToolCall, Usage,
};
use llmrelay_core::{Error, ErrorKind, Result};

use super::python_json;
use super::request::{RESPONSE_FORMAT_TOOL_NAME, json_mode};
use super::tools::tool_name_reverse_map;
use super::types::{AnthropicMessagesResponse, AnthropicResponseBlock};

/// LiteLLM's response ids: `chatcmpl-<uuid4>` (the upstream `msg_…` id is not kept).
#[must_use]
pub fn new_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4())
}

/// `stop_reason` → OpenAI `finish_reason`. Reasons LiteLLM does not map (`pause_turn`, …) are
/// reported as `stop`, as it does.
#[must_use]
pub fn map_stop_reason(reason: Option<&str>) -> &'static str {
    match reason {
        Some("max_tokens" | "length" | "compaction") => "length",
        Some("tool_use" | "tool_calls") => "tool_calls",
        Some("refusal" | "content_filter") => "content_filter",
        Some("function_call") => "function_call",
        _ => "stop",
    }
}

/// The JSON-mode tool's arguments as message content: its `values` when present, else the
/// whole object, re-serialized; text that is not JSON is kept as it is.
#[must_use]
pub fn json_mode_content(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(parsed) => match parsed.get("values").filter(|v| !v.is_null()) {
            Some(values) if parsed.is_object() => python_json::dumps(values),
            _ => python_json::dumps(&parsed),
        },
        Err(_) => arguments.to_owned(),
    }
}

/// A web search as an OpenAI Responses `web_search_call` item (LiteLLM exposes these in
/// `provider_specific_fields.web_search_calls`).
#[must_use]
pub fn web_search_call(
    tool_id: &str,
    input: &Value,
    result: &Value,
    status: Option<&str>,
) -> Value {
    let query = input.get("query").and_then(Value::as_str).unwrap_or("");
    let content = result.get("content");
    let sources: Vec<Value> = content
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|item| item.get("type").and_then(Value::as_str) == Some("web_search_result"))
        .filter_map(|item| item.get("url").and_then(Value::as_str))
        .map(|url| json!({"type": "url", "url": url}))
        .collect();
    let failed = content.and_then(|c| c.get("type")).and_then(Value::as_str)
        == Some("web_search_tool_result_error");
    let status = status.unwrap_or(if failed { "failed" } else { "completed" });
    json!({
        "id": format!("ws_{tool_id}"),
        "type": "web_search_call",
        "status": status,
        "action": {
            "type": "search",
            "query": query,
            "queries": if query.is_empty() { vec![] } else { vec![query] },
            "sources": sources,
        },
    })
}

fn count(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::Number(n)) => n.as_u64().or_else(|| {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "token counts, truncated as Python's int() does"
            )]
            n.as_f64().filter(|f| *f > 0.0).map(|f| f as u64)
        }),
        _ => None,
    }
    .unwrap_or(0)
}

fn thinking_tokens(usage: &Value) -> Option<u64> {
    usage
        .get("output_tokens_details")
        .and_then(|d| d.get("thinking_tokens"))
        .and_then(Value::as_u64)
}

/// Anthropic usage → canonical usage, as LiteLLM's `calculate_usage` computes it:
/// `prompt_tokens` includes cache reads and writes, reasoning tokens come from
/// `output_tokens_details.thinking_tokens`, else are estimated from the thinking text.
///
/// `content` is the response's content when known (whole responses): a thinking block with no
/// text there means the reasoning tokens are unknown.
#[must_use]
pub fn usage_from(
    usage: &JsonMap,
    reasoning_content: Option<&str>,
    content: Option<&[AnthropicResponseBlock]>,
) -> Usage {
    let mut prompt = count(usage.get("input_tokens"));
    let mut completion = count(usage.get("output_tokens"));
    let iterations: Option<&Vec<Value>> = usage
        .get("iterations")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty());
    let (cache_creation, cache_read) = if let Some(iterations) = iterations {
        let sum = |key: &str| iterations.iter().map(|i| count(i.get(key))).sum::<u64>();
        prompt = sum("input_tokens");
        completion = sum("output_tokens");
        let (creation, read) = (
            sum("cache_creation_input_tokens"),
            sum("cache_read_input_tokens"),
        );
        prompt += creation + read;
        (creation, read)
    } else {
        let creation = count(usage.get("cache_creation_input_tokens"));
        let read = count(usage.get("cache_read_input_tokens"));
        prompt += creation + read;
        (creation, read)
    };
    let server_tool_use = usage.get("server_tool_use").filter(|v| !v.is_null());
    let web_search_requests = server_tool_use
        .and_then(|s| s.get("web_search_requests"))
        .and_then(Value::as_u64);
    let mut tool_search_requests = server_tool_use
        .and_then(|s| s.get("tool_search_requests"))
        .and_then(Value::as_u64);
    if tool_search_requests.is_none() {
        let searches = content
            .into_iter()
            .flatten()
            .filter(|b| matches!(b, AnthropicResponseBlock::ServerToolUse(t) if t.name.contains("tool_search")))
            .count() as u64;
        tool_search_requests = (searches > 0).then_some(searches);
    }

    let reported_thinking = match iterations {
        Some(iterations) => {
            let per: Vec<Option<u64>> = iterations.iter().map(thinking_tokens).collect();
            per.iter()
                .all(Option::is_some)
                .then(|| per.iter().flatten().sum())
        }
        None => thinking_tokens(&Value::Object(usage.clone())),
    };
    let has_thinking_block = content.into_iter().flatten().any(|b| {
        matches!(
            b,
            AnthropicResponseBlock::Thinking(_) | AnthropicResponseBlock::RedactedThinking(_)
        )
    });
    let (reasoning_tokens, text_tokens) = if let Some(reported) = reported_thinking {
        let capped = reported.min(completion);
        (Some(capped), Some(completion - capped))
    } else if let Some(reasoning) = reasoning_content.filter(|r| !r.is_empty()) {
        let estimated = (tokens::count_text_for_model("", reasoning) as u64).min(completion);
        (Some(estimated), Some(completion - estimated))
    } else if has_thinking_block {
        (None, None)
    } else {
        (Some(0), Some(completion))
    };

    let mut extra = JsonMap::new();
    extra.insert(
        "cache_creation_input_tokens".to_owned(),
        Value::from(cache_creation),
    );
    extra.insert(
        "cache_read_input_tokens".to_owned(),
        Value::from(cache_read),
    );
    if web_search_requests.is_some() || tool_search_requests.is_some() {
        extra.insert(
            "server_tool_use".to_owned(),
            json!({"web_search_requests": web_search_requests, "tool_search_requests": tool_search_requests}),
        );
    }
    if let Some(iterations) = iterations {
        extra.insert("iterations".to_owned(), Value::Array(iterations.clone()));
    }
    for key in ["inference_geo", "speed", "service_tier"] {
        if let Some(value) = usage.get(key).filter(|v| !v.is_null()) {
            extra.insert(key.to_owned(), value.clone());
        }
    }
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: Some(cache_read),
            cache_creation_tokens: Some(cache_creation),
            text_tokens: Some(prompt.saturating_sub(cache_read + cache_creation)),
            ..PromptTokensDetails::default()
        }),
        completion_tokens_details: Some(CompletionTokensDetails {
            reasoning_tokens,
            text_tokens,
            ..CompletionTokensDetails::default()
        }),
        extra,
    }
}

/// A tool use as an OpenAI tool call; `arguments` is `json.dumps(input)`, as LiteLLM writes it.
fn tool_call(
    index: usize,
    id: &str,
    name: &str,
    input: &Value,
    caller: Option<&Value>,
    names: &HashMap<String, String>,
) -> ToolCall {
    let mut extra = JsonMap::new();
    extra.insert("index".to_owned(), Value::from(index));
    if let Some(caller) = caller {
        extra.insert("caller".to_owned(), caller.clone());
    }
    ToolCall {
        id: id.to_owned(),
        kind: "function".to_owned(),
        function: FunctionCall {
            name: names.get(name).cloned().unwrap_or_else(|| name.to_owned()),
            arguments: python_json::dumps(input),
        },
        extra,
    }
}

/// The text a trailing `{"role": "assistant", "content": …, "prefix": true}` asked to continue.
fn prefix_prompt(request: &ChatRequest) -> Option<&str> {
    let last = request.messages.last()?;
    if last.role != Role::Assistant || last.extra.get("prefix") != Some(&Value::Bool(true)) {
        return None;
    }
    match &last.content {
        Some(MessageContent::Text(text)) => Some(text),
        _ => None,
    }
}

fn upstream_error(message: String) -> Error {
    Error::new(ErrorKind::Api, message).with_status(500)
}

/// Parse a Messages API response body.
///
/// # Errors
/// A body that is not a `Message` (or is an error envelope sent with a success status).
pub fn parse_response(body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
        upstream_error(format!(
            "AnthropicException - Unable to get json response - {e}, Original Response: {text}"
        ))
    })?;
    if let Some(error) = value.get("error") {
        return Err(upstream_error(format!("AnthropicException - {error}")));
    }
    let response: AnthropicMessagesResponse = serde_json::from_value(value).map_err(|e| {
        upstream_error(format!(
            "AnthropicException - Invalid Messages API response from upstream: {e}"
        ))
    })?;
    Ok(to_chat_response(&response, request))
}

#[derive(Default)]
struct Collected {
    text: String,
    citations: Option<Vec<Value>>,
    thinking_blocks: Option<Vec<Value>>,
    tool_calls: Vec<ToolCall>,
    web_search_results: Option<Vec<Value>>,
    tool_results: Option<Vec<Value>>,
    compaction_blocks: Option<Vec<Value>>,
}

fn collect(content: &[AnthropicResponseBlock], names: &HashMap<String, String>) -> Collected {
    let mut out = Collected::default();
    for (index, block) in content.iter().enumerate() {
        match block {
            AnthropicResponseBlock::Text(text) => {
                out.text.push_str(&text.text);
                if let Some(citations) = &text.citations {
                    let with_text: Vec<Value> = citations
                        .iter()
                        .map(|c| {
                            let mut c = c.clone();
                            if let Value::Object(map) = &mut c {
                                map.insert(
                                    "supported_text".to_owned(),
                                    Value::from(text.text.clone()),
                                );
                            }
                            c
                        })
                        .collect();
                    out.citations
                        .get_or_insert_with(Vec::new)
                        .push(Value::Array(with_text));
                }
            }
            AnthropicResponseBlock::ToolUse(tool) | AnthropicResponseBlock::ServerToolUse(tool) => {
                out.tool_calls.push(tool_call(
                    index,
                    &tool.id,
                    &tool.name,
                    &tool.input,
                    tool.caller.as_ref(),
                    names,
                ));
            }
            AnthropicResponseBlock::Thinking(thinking) => out
                .thinking_blocks
                .get_or_insert_with(Vec::new)
                .push(thinking.to_value()),
            AnthropicResponseBlock::RedactedThinking(redacted) => out
                .thinking_blocks
                .get_or_insert_with(Vec::new)
                .push(redacted.to_value()),
            AnthropicResponseBlock::Other(value) => {
                let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
                let target = match kind {
                    "tool_search_tool_result" => None,
                    "web_search_tool_result" | "web_fetch_tool_result" => {
                        Some(&mut out.web_search_results)
                    }
                    k if k.ends_with("_tool_result") => Some(&mut out.tool_results),
                    "compaction" => Some(&mut out.compaction_blocks),
                    _ => None,
                };
                if let Some(target) = target {
                    target.get_or_insert_with(Vec::new).push(value.clone());
                }
            }
        }
    }
    out
}

/// The translation proper, on a parsed response.
#[must_use]
pub fn to_chat_response(
    response: &AnthropicMessagesResponse,
    request: &ChatRequest,
) -> ChatResponse {
    let names = tool_name_reverse_map(request);
    let collected = collect(&response.content, &names);
    let reasoning_content = collected.thinking_blocks.as_ref().map(|blocks| {
        blocks
            .iter()
            .filter_map(|b| b.get("thinking").and_then(Value::as_str))
            .collect::<String>()
    });
    let mut text = collected.text;
    if let Some(prefix) = prefix_prompt(request) {
        if !text.starts_with(prefix) {
            text = format!("{prefix}{text}");
        }
    }

    let mut fields = JsonMap::new();
    fields.insert(
        "citations".to_owned(),
        collected.citations.map_or(Value::Null, Value::Array),
    );
    fields.insert(
        "thinking_blocks".to_owned(),
        collected
            .thinking_blocks
            .clone()
            .map_or(Value::Null, Value::Array),
    );
    if let Some(management) = &response.context_management {
        fields.insert("context_management".to_owned(), management.clone());
    }
    if let Some(results) = collected.web_search_results {
        let inputs: HashMap<&str, &Value> = response
            .content
            .iter()
            .filter_map(|block| match block {
                AnthropicResponseBlock::ServerToolUse(tool)
                    if tool.name == "web_search" && tool.input.is_object() =>
                {
                    Some((tool.id.as_str(), &tool.input))
                }
                _ => None,
            })
            .collect();
        let calls: Vec<Value> = results
            .iter()
            .filter(|r| r.get("type").and_then(Value::as_str) == Some("web_search_tool_result"))
            .filter_map(|r| {
                let id = r.get("tool_use_id").and_then(Value::as_str)?;
                Some(web_search_call(id, inputs.get(id)?, r, None))
            })
            .collect();
        fields.insert("web_search_results".to_owned(), Value::Array(results));
        fields.insert("web_search_calls".to_owned(), Value::Array(calls));
    }
    if let Some(results) = collected.tool_results {
        fields.insert("tool_results".to_owned(), Value::Array(results));
    }
    if let Some(container) = &response.container {
        fields.insert("container".to_owned(), container.clone());
    }
    if let Some(blocks) = collected.compaction_blocks {
        fields.insert("compaction_blocks".to_owned(), Value::Array(blocks));
    }

    let mut tool_calls = collected.tool_calls;
    let mut finish_reason = map_stop_reason(response.stop_reason.as_deref());
    let mut message = None;
    if json_mode(request) {
        let json_calls: Vec<usize> = tool_calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.function.name == RESPONSE_FORMAT_TOOL_NAME)
            .map(|(i, _)| i)
            .collect();
        if let Some(first) = json_calls.first() {
            let content = json_mode_content(&tool_calls[*first].function.arguments);
            if json_calls.len() == tool_calls.len() {
                // The answer was the JSON tool's input: a plain message, finished normally.
                message = Some(ResponseMessage::assistant(Some(content)));
                finish_reason = "stop";
            } else {
                tool_calls.retain(|c| c.function.name != RESPONSE_FORMAT_TOOL_NAME);
                text.push_str(&content);
            }
        }
    }
    let message = message.unwrap_or_else(|| {
        let mut extra = JsonMap::new();
        extra.insert("provider_specific_fields".to_owned(), Value::Object(fields));
        ResponseMessage {
            role: "assistant".to_owned(),
            content: (!text.is_empty()).then_some(text),
            tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
            function_call: None,
            reasoning_content: reasoning_content.clone(),
            thinking_blocks: collected.thinking_blocks,
            extra,
        }
    });
    let usage = usage_from(
        &response.usage,
        reasoning_content.as_deref(),
        Some(&response.content),
    );
    ChatResponse {
        id: new_id(),
        object: "chat.completion".to_owned(),
        created: llmrelay_core::clock::now_unix(),
        model: response.model.clone(),
        system_fingerprint: None,
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(finish_reason.to_owned()),
            logprobs: None,
            extra: JsonMap::new(),
        }],
        usage: Some(usage),
        extra: JsonMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    fn plain_request() -> ChatRequest {
        request(
            json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}),
        )
    }

    #[test]
    fn tool_use_and_thinking_blocks() {
        let body = json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
            "content": [
                {"type": "thinking", "thinking": "Hmm.", "signature": "sigA"},
                {"type": "redacted_thinking", "data": "RD=="},
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris", "n": 1.5}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 100, "output_tokens": 30, "cache_creation_input_tokens": 20,
                      "cache_read_input_tokens": 10}
        });
        let response = parse_response(body.to_string().as_bytes(), &plain_request()).unwrap();
        assert!(response.id.starts_with("chatcmpl-"));
        let choice = &response.choices[0];
        assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
        let message = &choice.message;
        assert_eq!(message.content.as_deref(), Some("Let me check."));
        assert_eq!(message.reasoning_content.as_deref(), Some("Hmm."));
        let calls = message.tool_calls.as_ref().unwrap();
        assert_eq!(
            calls[0].function.arguments,
            r#"{"city": "Paris", "n": 1.5}"#
        );
        assert_eq!(calls[0].extra["index"], 3);
        assert_eq!(
            message.thinking_blocks.as_ref().unwrap()[1],
            json!({"type": "redacted_thinking", "data": "RD=="})
        );
        let usage = response.usage.unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (130, 30));
        assert_eq!(usage.cached_tokens(), 10);
        assert_eq!(usage.cache_creation_tokens(), 20);
        assert_eq!(usage.extra["cache_read_input_tokens"], 10);
        assert_eq!(usage.reasoning_tokens(), 2);
    }

    #[test]
    fn stop_reasons() {
        assert_eq!(map_stop_reason(Some("end_turn")), "stop");
        assert_eq!(map_stop_reason(Some("stop_sequence")), "stop");
        assert_eq!(map_stop_reason(Some("max_tokens")), "length");
        assert_eq!(map_stop_reason(Some("refusal")), "content_filter");
        assert_eq!(map_stop_reason(Some("pause_turn")), "stop");
        assert_eq!(map_stop_reason(None), "stop");
    }

    #[test]
    fn json_mode_tool_becomes_content() {
        let request = request(json!({
            "model": "claude-3-7-sonnet-20250219", "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object"}}}
        }));
        let body = json!({
            "id": "msg_02", "model": "claude-3-7-sonnet-20250219",
            "content": [{"type": "tool_use", "id": "toolu_3", "name": "json_tool_call", "input": {"name": "Bob"}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 6}
        });
        let response = parse_response(body.to_string().as_bytes(), &request).unwrap();
        let choice = &response.choices[0];
        assert_eq!(choice.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            choice.message.content.as_deref(),
            Some(r#"{"name": "Bob"}"#)
        );
        assert!(choice.message.tool_calls.is_none());
        assert_eq!(json_mode_content(r#"{"values": [1, 2]}"#), "[1, 2]");
        assert_eq!(json_mode_content("{\"partial"), "{\"partial");
    }

    #[test]
    fn error_envelope_with_success_status_is_an_error() {
        let error = parse_response(
            br#"{"type": "error", "error": {"type": "api_error", "message": "x"}}"#,
            &plain_request(),
        )
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Api);
        assert!(parse_response(b"{not json", &plain_request()).is_err());
    }

    #[test]
    fn responses_match_litellm() {
        use crate::anthropic::fixtures;
        fixtures::check_all("resp_", &["resp_stream_", "resp_error_"], |name, case| {
            let request = fixtures::request_of(case);
            let upstream = case["upstream_file"]
                .as_str()
                .map_or_else(|| case["upstream"].to_string(), fixtures::read);
            let response = parse_response(upstream.as_bytes(), &request);
            if let Some(expected) = case.get("expected_error") {
                fixtures::assert_error(name, expected, &response.unwrap_err());
                return;
            }
            let response = response.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(response.id.starts_with("chatcmpl-"), "{name}");
            let mut actual = serde_json::to_value(&response).unwrap();
            let mut expected = case["expected"].clone();
            for value in [&mut actual, &mut expected] {
                fixtures::remove_path(value, "id");
                fixtures::remove_path(value, "created");
                fixtures::strip_usage_extras(&mut value["usage"]);
            }
            fixtures::assert_same(name, &expected, &actual);
        });
    }
}
