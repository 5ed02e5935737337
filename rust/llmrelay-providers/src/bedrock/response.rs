//! Bedrock `ConverseResponse` → OpenAI chat response (LiteLLM's `transform_response`).

use serde_json::{Value, json};

use llmrelay_core::tokens;
use llmrelay_core::types::{
    ChatResponse, Choice, CompletionTokensDetails, FunctionCall, JsonMap, PromptTokensDetails,
    ResponseMessage, ToolCall, Usage,
};
use llmrelay_core::{Error, Result};

use super::request::RESPONSE_FORMAT_TOOL_NAME;
use super::types::{BedrockContentBlock, BedrockConverseResponse, BedrockTokenUsage};
use crate::anthropic::python_json;

/// `stopReason` → OpenAI `finish_reason`.
#[must_use]
pub fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => "stop",
    }
}

/// Bedrock `TokenUsage` → canonical usage: prompt tokens include cache reads and writes, as
/// LiteLLM's `transform_usage` counts them; reasoning tokens are estimated from the text.
#[must_use]
pub fn usage_from(usage: &BedrockTokenUsage, reasoning_text: &str, thinking_ran: bool) -> Usage {
    let cache_read = usage.cache_read_input_tokens.unwrap_or(0);
    let cache_write = usage.cache_write_input_tokens.unwrap_or(0);
    let prompt = usage.input_tokens + cache_read + cache_write;
    let completion = usage.output_tokens;
    let reasoning = if reasoning_text.is_empty() {
        0
    } else {
        (tokens::count_text_for_model("", reasoning_text) as u64).min(completion)
    };
    let completion_details = if reasoning > 0 {
        CompletionTokensDetails {
            reasoning_tokens: Some(reasoning),
            text_tokens: Some(completion - reasoning),
            ..CompletionTokensDetails::default()
        }
    } else if thinking_ran {
        CompletionTokensDetails::default()
    } else {
        CompletionTokensDetails {
            reasoning_tokens: Some(0),
            text_tokens: Some(completion),
            ..CompletionTokensDetails::default()
        }
    };
    let mut extra = JsonMap::new();
    extra.insert(
        "cache_creation_input_tokens".to_owned(),
        Value::from(cache_write),
    );
    extra.insert(
        "cache_read_input_tokens".to_owned(),
        Value::from(cache_read),
    );
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: usage.total_tokens.unwrap_or(prompt + completion),
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: Some(cache_read),
            cache_creation_tokens: Some(cache_write),
            text_tokens: Some(usage.input_tokens),
            ..PromptTokensDetails::default()
        }),
        completion_tokens_details: Some(completion_details),
        extra,
    }
}

/// A Bedrock reasoning block as LiteLLM's `thinking_blocks` entry.
#[must_use]
pub fn thinking_block(block: &super::types::BedrockReasoningContent) -> Option<Value> {
    if let Some(text) = &block.reasoning_text {
        let mut out = json!({"type": "thinking", "thinking": text.text});
        if let Some(signature) = &text.signature {
            out["signature"] = Value::from(signature.clone());
        }
        return Some(out);
    }
    block
        .redacted_content
        .as_ref()
        .map(|data| json!({"type": "redacted_thinking", "data": data}))
}

/// Parse a whole Converse response.
///
/// # Errors
/// A body that is not a `ConverseResponse`.
pub fn parse_response(body: &[u8], model: &str, json_mode: bool) -> Result<ChatResponse> {
    let response: BedrockConverseResponse = serde_json::from_slice(body).map_err(|e| {
        Error::from_upstream(
            500,
            format!(
                "BedrockException - invalid Converse response ({e}): {}",
                String::from_utf8_lossy(body)
            ),
            None,
        )
    })?;
    let blocks: &[BedrockContentBlock] = response
        .output
        .message
        .as_ref()
        .map_or(&[], |m| m.content.as_slice());
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut tool_calls = Vec::new();
    let mut citations = Vec::new();
    for block in blocks {
        if let Some(t) = &block.text {
            text.push_str(t);
        }
        if let Some(r) = &block.reasoning_content {
            if let Some(t) = &r.reasoning_text {
                reasoning.push_str(&t.text);
            }
            if let Some(b) = thinking_block(r) {
                thinking_blocks.push(b);
            }
        }
        if let Some(tool) = &block.tool_use {
            tool_calls.push(ToolCall {
                id: tool.tool_use_id.clone(),
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: tool.name.clone(),
                    arguments: python_json::dumps(&tool.input),
                },
                extra: JsonMap::new(),
            });
        }
        if let Some(c) = &block.citations_content {
            citations.push(c.clone());
        }
    }
    let mut finish = response
        .stop_reason
        .as_deref()
        .map_or("stop", finish_reason)
        .to_owned();
    // JSON mode: the forced `json_tool_call` is the answer, as text.
    if json_mode {
        let (json_calls, real): (Vec<ToolCall>, Vec<ToolCall>) = tool_calls
            .into_iter()
            .partition(|c| c.function.name == RESPONSE_FORMAT_TOOL_NAME);
        if let Some(call) = json_calls.into_iter().next() {
            if text.is_empty() {
                text = call.function.arguments;
            }
            if real.is_empty() && finish == "tool_calls" {
                finish = "stop".to_owned();
            }
        }
        tool_calls = real;
    }
    let mut message = ResponseMessage::assistant((!text.is_empty()).then_some(text));
    if !tool_calls.is_empty() {
        message.tool_calls = Some(tool_calls);
    }
    if !reasoning.is_empty() {
        message.reasoning_content = Some(reasoning.clone());
    }
    if !thinking_blocks.is_empty() {
        message.thinking_blocks = Some(thinking_blocks.clone());
    }
    if !citations.is_empty() {
        message.extra.insert(
            "provider_specific_fields".to_owned(),
            json!({"citations": citations}),
        );
    }
    let usage = response
        .usage
        .as_ref()
        .map(|u| usage_from(u, &reasoning, !thinking_blocks.is_empty()));
    let mut extra = JsonMap::new();
    if let Some(trace) = response.trace.filter(|t| !t.is_null()) {
        extra.insert("trace".to_owned(), trace);
    }
    Ok(ChatResponse {
        id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
        object: "chat.completion".to_owned(),
        created: llmrelay_core::clock::now_unix(),
        model: model.to_owned(),
        system_fingerprint: None,
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(finish),
            logprobs: None,
            extra: JsonMap::new(),
        }],
        usage,
        extra,
    })
}
