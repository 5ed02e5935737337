//! InvokeModel embedding answers: Amazon Titan text embeddings (Bedrock user guide, "Amazon
//! Titan Embeddings Text": request `inputText`, `dimensions`, `normalize`; response `embedding`,
//! `inputTextTokenCount`) and Cohere embed ("Cohere Embed models": request `texts`, `input_type`,
//! `embedding_types`; response `id`, `embeddings`, `texts`, `response_type`).

use serde_json::{Value, json};

use crate::faults::ErrorSpec;
use crate::openai::embeddings::{fnv1a, mock_embedding};
use crate::shaping::estimate_tokens;

use super::validation;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Titan v2's dimensions (v1 always answers 1536).
const TITAN_V2_DIMENSIONS: &[u64] = &[256, 512, 1024];

fn vector(text: &str, dimensions: usize) -> Value {
    json!(mock_embedding(
        fnv1a(FNV_OFFSET, text.as_bytes()),
        dimensions
    ))
}

/// The answer for `model`, or the `ValidationException` the API gives for a bad body.
pub(crate) fn render(
    model: &str,
    body: Option<&Value>,
    default_dim: usize,
) -> Result<Vec<u8>, ErrorSpec> {
    let Some(body) = body else {
        return Err(validation(
            "Malformed input request: the request body is not JSON",
        ));
    };
    if model.contains("titan-embed") {
        let Some(text) = body.get("inputText").and_then(Value::as_str) else {
            return Err(validation(
                "Malformed input request: #: required key [inputText] not found, please reformat your input and try again.",
            ));
        };
        if let Some(extra) = body.as_object().and_then(|o| {
            o.keys().find(|k| {
                !matches!(
                    k.as_str(),
                    "inputText" | "dimensions" | "normalize" | "embeddingTypes"
                )
            })
        }) {
            return Err(validation(format!(
                "Malformed input request: #: extraneous key [{extra}] is not permitted, please reformat your input and try again."
            )));
        }
        let dimensions = match body.get("dimensions").and_then(Value::as_u64) {
            Some(d) if model.contains("v2") && TITAN_V2_DIMENSIONS.contains(&d) => d as usize,
            Some(d) => {
                return Err(validation(format!(
                    "Malformed input request: #/dimensions: {d} is not a valid enum value, please reformat your input and try again."
                )));
            }
            None => default_dim,
        };
        let answer = json!({
            "embedding": vector(text, dimensions),
            "inputTextTokenCount": estimate_tokens(text.len()).max(1),
        });
        return Ok(serde_json::to_vec(&answer).unwrap_or_default());
    }
    let Some(texts) = body.get("texts").and_then(Value::as_array) else {
        return Err(validation(
            "Malformed input request: #: required key [texts] not found, please reformat your input and try again.",
        ));
    };
    if body.get("input_type").and_then(Value::as_str).is_none() {
        return Err(validation(
            "Malformed input request: #: required key [input_type] not found, please reformat your input and try again.",
        ));
    }
    let texts: Vec<&str> = texts.iter().filter_map(Value::as_str).collect();
    let vectors: Vec<Value> = texts.iter().map(|t| vector(t, default_dim)).collect();
    let answer = if body.get("embedding_types").is_some() {
        json!({"id": crate::exchange::new_id(""), "embeddings": {"float": vectors}, "texts": texts, "response_type": "embeddings_by_type"})
    } else {
        json!({"id": crate::exchange::new_id(""), "embeddings": vectors, "texts": texts, "response_type": "embeddings_floats"})
    };
    Ok(serde_json::to_vec(&answer).unwrap_or_default())
}
