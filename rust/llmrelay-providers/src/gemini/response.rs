//! `GenerateContentResponse` → `chat.completion`, as LiteLLM reads it: thought parts become
//! `reasoning_content`, function calls become tool calls whose ids carry the thought signature,
//! `promptFeedback.blockReason` is a `content_filter` answer, usage counts thoughts as
//! completion tokens.

use serde_json::{Map, Value, json};

use llmrelay_core::types::{
    ChatRequest, ChatResponse, Choice, CompletionTokensDetails, FunctionCall, JsonMap,
    PromptTokensDetails, ResponseMessage, ToolCall, Usage,
};
use llmrelay_core::{Error, ErrorKind, Result};

use super::error::stream_error;
use super::request::THOUGHT_SIGNATURE_SEPARATOR;
use super::types::{GeminiCandidate, GeminiPart, GeminiResponse, GeminiUsageMetadata};
use llmrelay_core::clock::now_unix;

/// `call_` and 28 hex digits, the shape of LiteLLM's generated Gemini tool call ids.
#[must_use]
pub fn new_call_id() -> String {
    let mut buffer = [0_u8; 32];
    let hex = uuid::Uuid::new_v4().simple().encode_lower(&mut buffer);
    format!("call_{}", &hex[..28])
}

#[must_use]
pub fn new_response_id() -> String {
    let mut buffer = [0_u8; 32];
    format!(
        "chatcmpl-{}",
        uuid::Uuid::new_v4().simple().encode_lower(&mut buffer)
    )
}

/// Gemini finish reasons in OpenAI's terms (LiteLLM's table).
#[must_use]
pub fn map_finish_reason(reason: &str) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY"
        | "RECITATION"
        | "LANGUAGE"
        | "OTHER"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "NO_IMAGE"
        | "IMAGE_RECITATION"
        | "IMAGE_OTHER"
        | "ESCALATION" => "content_filter",
        _ => "stop",
    }
}

/// Usage as LiteLLM reports it: prompt = `promptTokenCount` (+ tool-use prompt tokens),
/// completion = candidates + thoughts, cached tokens and reasoning tokens in the details.
#[must_use]
pub fn usage_from(metadata: &GeminiUsageMetadata) -> Usage {
    let prompt = metadata.prompt_token_count + metadata.tool_use_prompt_token_count.unwrap_or(0);
    let thoughts = metadata.thoughts_token_count.unwrap_or(0);
    let completion = metadata.candidates_token_count + thoughts;
    let total = if metadata.total_token_count > 0 {
        metadata.total_token_count
    } else {
        prompt + completion
    };
    let cached = metadata.cached_content_token_count;
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: total,
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: cached,
            text_tokens: Some(prompt - cached.unwrap_or(0).min(prompt)),
            ..PromptTokensDetails::default()
        }),
        completion_tokens_details: metadata.thoughts_token_count.map(|reasoning| {
            CompletionTokensDetails {
                reasoning_tokens: Some(reasoning),
                text_tokens: Some(metadata.candidates_token_count),
                ..CompletionTokensDetails::default()
            }
        }),
        extra: JsonMap::new(),
    }
}

/// A function-call part as an OpenAI tool call (id carrying the signature, LiteLLM's way).
#[must_use]
pub fn tool_call_from(part: &GeminiPart) -> Option<ToolCall> {
    let call = part.function_call.as_ref()?;
    let arguments = match &call.args {
        Some(args) => serde_json::to_string(args).unwrap_or_else(|_| "{}".to_owned()),
        None => "{}".to_owned(),
    };
    let base = call
        .id
        .clone()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(new_call_id);
    let mut extra = JsonMap::new();
    let id = match &part.thought_signature {
        Some(signature) => {
            extra.insert(
                "provider_specific_fields".to_owned(),
                json!({ "thought_signature": signature }),
            );
            format!("{base}{THOUGHT_SIGNATURE_SEPARATOR}{signature}")
        }
        None => base,
    };
    Some(ToolCall {
        id,
        kind: "function".to_owned(),
        function: FunctionCall {
            name: call.name.clone(),
            arguments,
        },
        extra,
    })
}

/// What one candidate's parts add up to.
#[derive(Debug, Default)]
pub struct CandidateParts {
    pub text: Option<String>,
    pub reasoning: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub signatures: Vec<String>,
}

#[must_use]
pub fn split_parts(candidate: &GeminiCandidate) -> CandidateParts {
    let mut out = CandidateParts::default();
    for part in candidate.content.iter().flat_map(|c| &c.parts) {
        if let Some(signature) = &part.thought_signature {
            out.signatures.push(signature.clone());
        }
        if let Some(call) = tool_call_from(part) {
            out.tool_calls.push(call);
            continue;
        }
        let Some(text) = part.text.as_deref() else {
            continue;
        };
        let target = if part.thought == Some(true) {
            &mut out.reasoning
        } else {
            &mut out.text
        };
        target.get_or_insert_with(String::new).push_str(text);
    }
    out
}

/// A candidate's finish reason: `tool_calls` whenever it called a function.
#[must_use]
pub fn finish_reason(candidate: &GeminiCandidate, has_tool_calls: bool) -> String {
    if has_tool_calls {
        return "tool_calls".to_owned();
    }
    candidate
        .finish_reason
        .as_deref()
        .map_or("stop", map_finish_reason)
        .to_owned()
}

/// Parse a whole `generateContent` response.
///
/// # Errors
/// A body that is not a `GenerateContentResponse`.
pub fn parse_response(body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Api,
            format!(
                "Invalid JSON from Gemini: {e}: {}",
                String::from_utf8_lossy(body)
            ),
        )
        .with_status(500)
    })?;
    if let Some(error) = value.get("error") {
        return Err(stream_error(error));
    }
    let parsed: GeminiResponse = serde_json::from_value(value).map_err(|e| {
        Error::new(ErrorKind::Api, format!("Unexpected Gemini response: {e}")).with_status(500)
    })?;
    Ok(to_chat_response(&parsed, request))
}

/// The canonical response of a parsed `GenerateContentResponse`.
#[must_use]
pub fn to_chat_response(parsed: &GeminiResponse, request: &ChatRequest) -> ChatResponse {
    let mut choices = Vec::with_capacity(parsed.candidates.len().max(1));
    let blocked = parsed
        .prompt_feedback
        .as_ref()
        .and_then(|f| f.block_reason.as_ref())
        .is_some();
    if blocked || parsed.candidates.is_empty() {
        choices.push(Choice {
            index: 0,
            message: ResponseMessage::assistant(None),
            finish_reason: Some(if blocked { "content_filter" } else { "stop" }.to_owned()),
            logprobs: None,
            extra: JsonMap::new(),
        });
    } else {
        for (position, candidate) in parsed.candidates.iter().enumerate() {
            let parts = split_parts(candidate);
            let finish = finish_reason(candidate, !parts.tool_calls.is_empty());
            let mut message = ResponseMessage::assistant(parts.text);
            message.reasoning_content = parts.reasoning;
            if !parts.tool_calls.is_empty() {
                message.tool_calls = Some(parts.tool_calls);
            }
            if !parts.signatures.is_empty() {
                let mut fields = Map::new();
                fields.insert("thought_signatures".to_owned(), json!(parts.signatures));
                message
                    .extra
                    .insert("provider_specific_fields".to_owned(), Value::Object(fields));
            }
            let mut extra = JsonMap::new();
            if let Some(ratings) = &candidate.safety_ratings {
                extra.insert("safety_ratings".to_owned(), ratings.clone());
            }
            choices.push(Choice {
                index: candidate
                    .index
                    .unwrap_or(u32::try_from(position).unwrap_or(0)),
                message,
                finish_reason: Some(finish),
                logprobs: candidate.logprobs_result.clone(),
                extra,
            });
        }
    }
    ChatResponse {
        id: parsed
            .response_id
            .clone()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(new_response_id),
        object: "chat.completion".to_owned(),
        created: now_unix(),
        model: parsed
            .model_version
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| request.model.clone()),
        system_fingerprint: None,
        choices,
        usage: parsed.usage_metadata.as_ref().map(usage_from),
        extra: JsonMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_thoughts_and_cache() {
        let metadata: GeminiUsageMetadata = serde_json::from_value(json!({
            "promptTokenCount": 1200, "candidatesTokenCount": 50, "totalTokenCount": 1330,
            "cachedContentTokenCount": 1000, "thoughtsTokenCount": 80
        }))
        .unwrap();
        let usage = usage_from(&metadata);
        assert_eq!(usage.prompt_tokens, 1200);
        assert_eq!(usage.completion_tokens, 130);
        assert_eq!(usage.total_tokens, 1330);
        assert_eq!(usage.cached_tokens(), 1000);
        assert_eq!(usage.reasoning_tokens(), 80);
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(map_finish_reason("STOP"), "stop");
        assert_eq!(map_finish_reason("MAX_TOKENS"), "length");
        for filtered in [
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
        ] {
            assert_eq!(map_finish_reason(filtered), "content_filter");
        }
        assert_eq!(map_finish_reason("MALFORMED_FUNCTION_CALL"), "stop");
    }
}
