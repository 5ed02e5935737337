//! Cohere v2 responses → canonical responses.
//!
//! Chat: `message.content[]` text parts joined, `message.tool_calls` kept (OpenAI's shape),
//! `tool_plan` left out (LiteLLM drops it too), citations under
//! `provider_specific_fields.citations`, usage from `usage.tokens`
//! (<https://docs.cohere.com/v2/reference/chat>). Embed: the `embeddings_by_type` object
//! (<https://docs.cohere.com/v2/reference/embed>). Rerank: LiteLLM's `RerankResponse`
//! (<https://docs.cohere.com/v2/reference/rerank>).

use serde_json::{Map, Value, json};

use llmrelay_core::types::{ChatResponse, EmbeddingResponse, Usage};
use llmrelay_core::{Error, ErrorKind, Result};

use super::request::rerank_document;

fn invalid(what: &str, body: &[u8], detail: &str) -> Error {
    let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
    Error::new(
        ErrorKind::Api,
        format!("Invalid Cohere {what} response: {detail}. Body: {preview}"),
    )
    .with_status(500)
}

/// Cohere finish reasons → OpenAI's.
#[must_use]
pub fn finish_reason(reason: &str) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "TOOL_CALL" => "tool_calls",
        "ERROR_TOXIC" => "content_filter",
        _ => "stop",
    }
}

/// `usage.tokens` (what the model processed), falling back to `billed_units`.
#[must_use]
pub fn usage(value: &Value) -> Option<Usage> {
    let counts = value
        .get("tokens")
        .filter(|t| t.is_object())
        .or_else(|| value.get("billed_units"))?;
    let prompt = counts.get("input_tokens").and_then(Value::as_f64)?;
    let completion = counts
        .get("output_tokens")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "token counts"
    )]
    let usage = Usage::new(prompt as u64, completion as u64);
    Some(usage)
}

/// A `/v2/chat` response.
///
/// # Errors
/// A body that is not a chat response.
pub fn parse_chat(body: &[u8], model: &str) -> Result<ChatResponse> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| invalid("chat", body, &e.to_string()))?;
    let message = value
        .get("message")
        .ok_or_else(|| invalid("chat", body, "no `message`"))?;
    let text: String = message
        .get("content")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let tool_calls = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .filter(|calls| !calls.is_empty())
        .cloned();
    let mut out = json!({"role": "assistant", "content": if tool_calls.is_some() && text.is_empty() { Value::Null } else { Value::from(text) }});
    if let Some(calls) = &tool_calls {
        out["tool_calls"] = Value::Array(calls.clone());
    }
    if let Some(citations) = message
        .get("citations")
        .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
    {
        out["provider_specific_fields"] = json!({"citations": citations});
    }
    let reason = value
        .get("finish_reason")
        .and_then(Value::as_str)
        .unwrap_or("COMPLETE");
    let reason = if tool_calls.is_some() {
        "tool_calls"
    } else {
        finish_reason(reason)
    };
    let response = json!({
        "id": value.get("id").and_then(Value::as_str).unwrap_or_default(),
        "object": "chat.completion",
        "created": llmrelay_core::clock::now_unix(),
        "model": model,
        "choices": [{"index": 0, "message": out, "finish_reason": reason}],
        "usage": value.get("usage").and_then(usage),
    });
    serde_json::from_value(response).map_err(|e| invalid("chat", body, &e.to_string()))
}

/// A `/v2/embed` response: the first embedding type present (`float` first) becomes `data`.
///
/// # Errors
/// A body without embeddings.
pub fn parse_embed(body: &[u8], model: &str) -> Result<EmbeddingResponse> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| invalid("embed", body, &e.to_string()))?;
    let embeddings = value
        .get("embeddings")
        .ok_or_else(|| invalid("embed", body, "no `embeddings`"))?;
    let vectors = match embeddings {
        Value::Array(vectors) => vectors.clone(),
        Value::Object(by_type) => ["float", "int8", "uint8", "binary", "ubinary", "base64"]
            .iter()
            .find_map(|kind| by_type.get(*kind).and_then(Value::as_array).cloned())
            .ok_or_else(|| invalid("embed", body, "no known embedding type"))?,
        _ => {
            return Err(invalid(
                "embed",
                body,
                "`embeddings` is neither a list nor an object",
            ));
        }
    };
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, embedding)| json!({"object": "embedding", "index": index, "embedding": embedding}))
        .collect();
    let prompt = value
        .get("meta")
        .and_then(|m| m.get("billed_units"))
        .and_then(|b| b.get("input_tokens"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "token counts"
    )]
    let usage = Usage::new(prompt as u64, 0);
    let response = json!({"object": "list", "data": data, "model": model, "usage": usage});
    serde_json::from_value(response).map_err(|e| invalid("embed", body, &e.to_string()))
}

/// A `/v2/rerank` response as LiteLLM's `RerankResponse`; with `return_documents` (LiteLLM's
/// default) each result carries `document: {"text": …}` from the request.
///
/// # Errors
/// A body without `results`.
pub fn parse_rerank(body: &[u8], request: &Map<String, Value>) -> Result<Value> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| invalid("rerank", body, &e.to_string()))?;
    let results = value
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("rerank", body, "no `results`"))?;
    let return_documents = request.get("return_documents").and_then(Value::as_bool) != Some(false);
    let results: Vec<Value> = results
        .iter()
        .map(|result| {
            let mut out = json!({
                "index": result.get("index").cloned().unwrap_or(Value::from(0)),
                "relevance_score": result.get("relevance_score").cloned().unwrap_or(Value::from(0.0)),
            });
            if return_documents {
                let document = result.get("document").cloned().or_else(|| {
                    let index = result.get("index").and_then(Value::as_u64)?;
                    let text = rerank_document(request, usize::try_from(index).ok()?)?;
                    Some(json!({"text": text}))
                });
                if let Some(document) = document {
                    out["document"] = document;
                }
            }
            out
        })
        .collect();
    Ok(json!({
        "id": value.get("id").cloned().unwrap_or(Value::Null),
        "results": results,
        "meta": value.get("meta").cloned().unwrap_or(Value::Null),
    }))
}

/// Cohere errors: `{"id": …, "message": …}` (also `{"message": …}` alone).
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("message").and_then(Value::as_str))
        .map_or_else(
            || String::from_utf8_lossy(body).trim().to_owned(),
            str::to_owned,
        );
    Error::from_upstream(status, format!("CohereException - {message}"), parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAT: &str = include_str!("../../tests/fixtures/cohere/chat.json");
    const CHAT_TOOLS: &str = include_str!("../../tests/fixtures/cohere/chat_tool_calls.json");
    const EMBED: &str = include_str!("../../tests/fixtures/cohere/embed.json");
    const RERANK: &str = include_str!("../../tests/fixtures/cohere/rerank.json");

    #[test]
    fn documented_chat() {
        let response = parse_chat(CHAT.as_bytes(), "command-a-03-2025").unwrap();
        assert!(
            response.choices[0]
                .message
                .content
                .as_deref()
                .unwrap()
                .starts_with("Excited to join")
        );
        assert_eq!(response.choices[0].finish_reason.as_deref(), Some("stop"));
        let usage = response.usage.unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (496, 59));
    }

    #[test]
    fn documented_tool_calls() {
        let response = parse_chat(CHAT_TOOLS.as_bytes(), "command-a-03-2025").unwrap();
        let choice = &response.choices[0];
        assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
        let calls = choice.message.tool_calls.as_ref().unwrap();
        assert_eq!(calls[0].function.name, "get_weather");
        assert_eq!(calls[0].function.arguments, "{\"location\":\"Toronto\"}");
        assert_eq!(choice.message.content, None);
    }

    #[test]
    fn documented_embed_and_rerank() {
        let embed = parse_embed(EMBED.as_bytes(), "embed-v4.0").unwrap();
        assert_eq!(embed.data.len(), 1);
        assert_eq!(embed.usage.unwrap().prompt_tokens, 5);
        let request: Map<String, Value> = serde_json::from_value(json!({
            "query": "capital of the US?", "documents": ["Carson City", "Saipan", "Charlotte Amalie", "Washington, D.C.", "Capital punishment"],
        })).unwrap();
        let rerank = parse_rerank(RERANK.as_bytes(), &request).unwrap();
        assert_eq!(rerank["results"][0]["index"], 3);
        assert_eq!(rerank["results"][0]["document"]["text"], "Washington, D.C.");
        assert_eq!(rerank["meta"]["billed_units"]["search_units"], 1);
    }

    #[test]
    fn errors() {
        let error = parse_error(401, br#"{"id": "e1", "message": "invalid api token"}"#);
        assert_eq!(error.kind(), ErrorKind::Authentication);
        assert_eq!(error.message(), "CohereException - invalid api token");
        let error = parse_error(429, br#"{"message": "You are using a Trial key, which is limited to 10 API calls / minute."}"#);
        assert_eq!(error.kind(), ErrorKind::RateLimit);
    }
}
