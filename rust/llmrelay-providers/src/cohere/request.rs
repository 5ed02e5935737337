//! Canonical requests → Cohere v2 bodies (`/v2/chat`, `/v2/embed`, `/v2/rerank`).
//!
//! Wire format: <https://docs.cohere.com/v2/reference/chat>,
//! <https://docs.cohere.com/v2/reference/embed>, <https://docs.cohere.com/v2/reference/rerank>.
//! Chat messages and tools keep OpenAI's shape (v2 accepts it: roles, string or text-part
//! content, `tool_calls` with string arguments, `tool_call_id`); parameters are renamed as
//! LiteLLM maps them (`top_p` → `p`, `stop` → `stop_sequences`, `max_completion_tokens` →
//! `max_tokens`, `n` → `num_generations`); `top_k` → `k` and `documents` pass through.

use serde_json::{Map, Value, json};

use llmrelay_core::types::{ChatRequest, EmbeddingRequest};
use llmrelay_core::{Error, Result};

use crate::openai::chat_body as openai_chat_body;
use crate::operations::document_text;
use crate::params;

/// LiteLLM's supported OpenAI parameters for `cohere/` and `cohere_chat/`.
pub const COHERE_PARAMS: &[&str] = &[
    "stream",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "n",
    "tools",
    "tool_choice",
    "seed",
    "extra_headers",
];

/// LiteLLM's default `input_type` for Cohere embeddings (`COHERE_DEFAULT_EMBEDDING_INPUT_TYPE`).
pub const DEFAULT_INPUT_TYPE: &str = "search_document";

/// Body fields Cohere v2 chat takes under the same name.
const SAME_NAME: &[&str] = &[
    "model",
    "messages",
    "stream",
    "temperature",
    "max_tokens",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "tools",
    "documents",
    "citation_options",
    "safety_mode",
    "k",
    "p",
    "stop_sequences",
    "strict_tools",
    "logprobs",
    "thinking",
    "priority",
];

/// The `/v2/chat` body.
///
/// # Errors
/// Unsupported parameters (without `drop_params`).
pub fn chat_body(request: &ChatRequest, provider: &str, drop_params: bool) -> Result<Vec<u8>> {
    let mut openai: Map<String, Value> = serde_json::from_slice(&openai_chat_body(request)?)?;
    params::enforce(
        &mut openai,
        COHERE_PARAMS,
        provider,
        &request.model,
        drop_params,
    )?;
    let mut body = Map::new();
    for (name, value) in openai {
        match name.as_str() {
            "max_completion_tokens" => {
                body.insert("max_tokens".to_owned(), value);
            }
            "top_p" => {
                body.insert("p".to_owned(), value);
            }
            "top_k" => {
                body.insert("k".to_owned(), value);
            }
            "stop" => {
                let stops = match value {
                    Value::String(stop) => json!([stop]),
                    other => other,
                };
                body.insert("stop_sequences".to_owned(), stops);
            }
            "n" => {
                body.insert("num_generations".to_owned(), value);
            }
            "tool_choice" => match value.as_str() {
                Some("required") => {
                    body.insert("tool_choice".to_owned(), Value::from("REQUIRED"));
                }
                Some("none") => {
                    body.insert("tool_choice".to_owned(), Value::from("NONE"));
                }
                // `auto` is Cohere's default; a named function has no v2 equivalent.
                _ => {}
            },
            "response_format" => {
                body.insert("response_format".to_owned(), value);
            }
            other if SAME_NAME.contains(&other) => {
                body.insert(name, value);
            }
            _ => {}
        }
    }
    if request.stream {
        body.insert("stream".to_owned(), Value::Bool(true));
    } else {
        body.remove("stream");
    }
    Ok(serde_json::to_vec(&body)?)
}

/// The `/v2/embed` body: `texts`, `input_type` (LiteLLM's default unless given),
/// `embedding_types` from `encoding_format`, `output_dimension` from `dimensions`.
///
/// # Errors
/// Input that is not text.
pub fn embed_body(request: &EmbeddingRequest) -> Result<Vec<u8>> {
    let texts: Vec<Value> = match &request.input {
        Value::String(text) => vec![Value::from(text.clone())],
        Value::Array(items) if items.iter().all(Value::is_string) => items.clone(),
        _ => {
            return Err(
                Error::bad_request("Cohere embeddings take a string or a list of strings")
                    .with_param("input"),
            );
        }
    };
    let mut body = Map::new();
    body.insert("model".to_owned(), Value::from(request.model.clone()));
    body.insert("texts".to_owned(), Value::Array(texts));
    let input_type = request
        .extra
        .get("input_type")
        .cloned()
        .unwrap_or_else(|| Value::from(DEFAULT_INPUT_TYPE));
    body.insert("input_type".to_owned(), input_type);
    let embedding_types = match (
        &request.encoding_format,
        request.extra.get("embedding_types"),
    ) {
        (_, Some(types)) => types.clone(),
        (Some(format), None) => json!([format]),
        (None, None) => json!(["float"]),
    };
    body.insert("embedding_types".to_owned(), embedding_types);
    if let Some(dimensions) = request.dimensions {
        body.insert("output_dimension".to_owned(), Value::from(dimensions));
    }
    if let Some(truncate) = request.extra.get("truncate") {
        body.insert("truncate".to_owned(), truncate.clone());
    }
    Ok(serde_json::to_vec(&body)?)
}

/// The `/v2/rerank` body: LiteLLM's rerank parameters as given.
///
/// # Errors
/// Serialization failure.
pub fn rerank_body(request: &Map<String, Value>) -> Result<Vec<u8>> {
    let mut body = Map::new();
    for name in [
        "model",
        "query",
        "documents",
        "top_n",
        "rank_fields",
        "return_documents",
        "max_tokens_per_doc",
        "max_chunks_per_doc",
    ] {
        if let Some(value) = request.get(name).filter(|v| !v.is_null()) {
            body.insert(name.to_owned(), value.clone());
        }
    }
    Ok(serde_json::to_vec(&body)?)
}

/// The text of the `index`-th document of a rerank request.
#[must_use]
pub fn rerank_document(request: &Map<String, Value>, index: usize) -> Option<String> {
    request
        .get("documents")
        .and_then(Value::as_array)
        .and_then(|documents| documents.get(index))
        .map(document_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn chat_parameters_are_renamed() {
        let request = chat(json!({
            "model": "command-r-plus", "messages": [{"role": "system", "content": "be brief"},
                                                      {"role": "user", "content": "hi"}],
            "max_completion_tokens": 20, "top_p": 0.5, "stop": "END", "top_k": 3, "seed": 4,
            "tool_choice": "required", "stream": true,
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "documents": [{"id": "d1", "data": {"text": "Paris is in France"}}]
        }));
        let body: Value =
            serde_json::from_slice(&chat_body(&request, "cohere_chat", false).unwrap()).unwrap();
        assert_eq!(body["max_tokens"], 20);
        assert_eq!(body["p"], 0.5);
        assert_eq!(body["k"], 3);
        assert_eq!(body["stop_sequences"], json!(["END"]));
        assert_eq!(body["tool_choice"], "REQUIRED");
        assert_eq!(body["stream"], true);
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["tools"][0]["function"]["name"], "f");
        assert_eq!(body["documents"][0]["id"], "d1");
        assert!(body.get("top_p").is_none() && body.get("stop").is_none());
    }

    #[test]
    fn unsupported_params() {
        let request = chat(
            json!({"model": "command-r", "messages": [{"role": "user", "content": "hi"}],
                                  "logprobs": true}),
        );
        let error = chat_body(&request, "cohere_chat", false).unwrap_err();
        assert!(
            error
                .message()
                .starts_with("cohere_chat does not support parameters: ['logprobs']")
        );
    }

    #[test]
    fn embed_defaults() {
        let request: EmbeddingRequest = serde_json::from_value(
            json!({"model": "embed-english-v3.0", "input": ["a", "b"], "dimensions": 256}),
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&embed_body(&request).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"model": "embed-english-v3.0", "texts": ["a", "b"], "input_type": "search_document",
                   "embedding_types": ["float"], "output_dimension": 256})
        );
    }
}
