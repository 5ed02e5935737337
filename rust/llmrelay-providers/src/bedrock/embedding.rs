//! Embeddings through `InvokeModel` (POST /model/{modelId}/invoke): Amazon Titan text
//! embeddings (one text per call, so the engine sends one request per input) and Cohere embed
//! (a batch of texts). Bodies follow the Bedrock user guide's model parameter pages
//! ("Amazon Titan Embeddings Text", "Cohere Embed models").

use serde_json::{Map, Value, json};

use llmrelay_core::tokens;
use llmrelay_core::types::{EmbeddingData, EmbeddingRequest, EmbeddingResponse, Usage};
use llmrelay_core::{Error, Result};

/// Which request body a model takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingFamily {
    /// `amazon.titan-embed-text-v1` / `-v2:0`, `amazon.titan-embed-g1-text-02`.
    Titan,
    /// `cohere.embed-*`.
    Cohere,
}

impl EmbeddingFamily {
    #[must_use]
    pub fn of(model: &str) -> Option<Self> {
        if model.contains("titan-embed") && !model.contains("image") {
            Some(Self::Titan)
        } else if model.contains("cohere.embed") {
            Some(Self::Cohere)
        } else {
            None
        }
    }
}

fn texts(input: &Value) -> Result<Vec<String>> {
    match input {
        Value::String(text) => Ok(vec![text.clone()]),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()),
        _ => Err(Error::bad_request(
            "bedrock embeddings take a string or a list of strings (token ids are not supported)",
        )
        .with_param("input")),
    }
}

/// The InvokeModel body for an embedding request. Titan takes exactly one text: the engine
/// splits larger inputs (see `Provider::embedding_batch_size`).
///
/// # Errors
/// A model that is neither Titan text nor Cohere embed, token-id input, or several texts for
/// Titan.
pub fn embedding_body(request: &EmbeddingRequest, model: &str) -> Result<Value> {
    let texts = texts(&request.input)?;
    match EmbeddingFamily::of(model) {
        Some(EmbeddingFamily::Titan) => {
            let [text] = texts.as_slice() else {
                return Err(Error::bad_request(
                    "Amazon Titan text embeddings take one input per request",
                )
                .with_param("input"));
            };
            let mut body = Map::new();
            body.insert("inputText".to_owned(), Value::from(text.clone()));
            // `dimensions` / `normalize` exist on v2 only.
            if model.contains("v2") {
                if let Some(dimensions) = request.dimensions {
                    body.insert("dimensions".to_owned(), Value::from(dimensions));
                }
                if let Some(normalize) = request.extra.get("normalize").filter(|v| v.is_boolean()) {
                    body.insert("normalize".to_owned(), normalize.clone());
                }
                if let Some(types) = request.extra.get("embeddingTypes") {
                    body.insert("embeddingTypes".to_owned(), types.clone());
                }
            }
            Ok(Value::Object(body))
        }
        Some(EmbeddingFamily::Cohere) => {
            let input_type = request
                .extra
                .get("input_type")
                .and_then(Value::as_str)
                .unwrap_or("search_document");
            let mut body = json!({"texts": texts, "input_type": input_type});
            for key in ["embedding_types", "truncate"] {
                if let Some(value) = request.extra.get(key).filter(|v| !v.is_null()) {
                    body[key] = value.clone();
                }
            }
            Ok(body)
        }
        None => Err(Error::bad_request(format!(
            "llmrelay supports Bedrock embeddings for Amazon Titan text and Cohere embed models, \
             not {model}"
        ))
        .with_param("model")),
    }
}

/// An InvokeModel embedding response → OpenAI's shape. Titan reports
/// `inputTextTokenCount`; Cohere reports no usage, so its texts are counted.
///
/// # Errors
/// A body of neither shape.
pub fn parse_embedding(body: &[u8]) -> Result<EmbeddingResponse> {
    let value: Value = serde_json::from_slice(body)?;
    let invalid = || {
        Error::from_upstream(
            500,
            format!(
                "BedrockException - unexpected embedding response: {}",
                String::from_utf8_lossy(body)
            ),
            None,
        )
    };
    if let Some(embedding) = value.get("embedding").filter(|e| e.is_array()) {
        let tokens = value
            .get("inputTextTokenCount")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        return Ok(EmbeddingResponse {
            object: "list".to_owned(),
            data: vec![EmbeddingData {
                object: "embedding".to_owned(),
                index: 0,
                embedding: embedding.clone(),
            }],
            model: String::new(),
            usage: Some(Usage::new(tokens, 0)),
        });
    }
    let embeddings = value.get("embeddings").ok_or_else(invalid)?;
    // `embedding_types` answers `{"float": [[…]], "int8": …}`; otherwise a list of lists.
    let list = match embeddings {
        Value::Array(list) => list,
        Value::Object(by_type) => by_type
            .get("float")
            .or_else(|| by_type.values().next())
            .and_then(Value::as_array)
            .ok_or_else(invalid)?,
        _ => return Err(invalid()),
    };
    let prompt_tokens: u64 = value
        .get("texts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|t| tokens::count_text_for_model("", t) as u64)
        .sum();
    Ok(EmbeddingResponse {
        object: "list".to_owned(),
        data: list
            .iter()
            .enumerate()
            .map(|(index, embedding)| EmbeddingData {
                object: "embedding".to_owned(),
                index: u32::try_from(index).unwrap_or(u32::MAX),
                embedding: embedding.clone(),
            })
            .collect(),
        model: String::new(),
        usage: Some(Usage::new(prompt_tokens, 0)),
    })
}
