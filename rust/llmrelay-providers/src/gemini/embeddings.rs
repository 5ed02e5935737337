//! Embeddings: the Gemini API's `batchEmbedContents`
//! (<https://ai.google.dev/api/embeddings#method:-models.batchembedcontents>) and Vertex's
//! `predict` for text-embedding models
//! (<https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api>).

use serde_json::{Value, json};

use llmrelay_core::types::{EmbeddingData, EmbeddingRequest, EmbeddingResponse, Usage};
use llmrelay_core::{Error, ErrorKind, Result};

fn inputs(request: &EmbeddingRequest) -> Result<Vec<String>> {
    match &request.input {
        Value::String(text) => Ok(vec![text.clone()]),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()),
        _ => Err(Error::bad_request(
            "Gemini embeddings take a string or a list of strings (token ids are not supported)",
        )
        .with_param("input")),
    }
}

fn task_type(request: &EmbeddingRequest) -> Option<&Value> {
    request
        .extra
        .get("task_type")
        .or_else(|| request.extra.get("taskType"))
        .filter(|v| v.is_string())
}

/// `batchEmbedContents` body: one request per input.
///
/// # Errors
/// Input that is not text.
pub fn batch_embed_body(request: &EmbeddingRequest) -> Result<Value> {
    let requests: Vec<Value> = inputs(request)?
        .into_iter()
        .map(|text| {
            let mut item = json!({
                "model": format!("models/{}", request.model),
                "content": {"parts": [{"text": text}]},
            });
            if let Some(dimensions) = request.dimensions {
                item["outputDimensionality"] = Value::from(dimensions);
            }
            if let Some(task) = task_type(request) {
                item["taskType"] = task.clone();
            }
            item
        })
        .collect();
    Ok(json!({ "requests": requests }))
}

/// Vertex `predict` body: `instances[{content}]`, `parameters.outputDimensionality`.
///
/// # Errors
/// Input that is not text.
pub fn predict_body(request: &EmbeddingRequest) -> Result<Value> {
    let task = task_type(request);
    let instances: Vec<Value> = inputs(request)?
        .into_iter()
        .map(|text| {
            let mut instance = json!({ "content": text });
            if let Some(task) = task {
                instance["task_type"] = task.clone();
            }
            instance
        })
        .collect();
    let mut body = json!({ "instances": instances });
    if let Some(dimensions) = request.dimensions {
        body["parameters"] = json!({ "outputDimensionality": dimensions });
    }
    Ok(body)
}

fn invalid(body: &[u8], what: &str) -> Error {
    Error::new(
        ErrorKind::Api,
        format!(
            "Unexpected {what} response: {}",
            String::from_utf8_lossy(body)
        ),
    )
    .with_status(500)
}

fn data(vectors: Vec<Value>) -> Vec<EmbeddingData> {
    vectors
        .into_iter()
        .enumerate()
        .map(|(index, embedding)| EmbeddingData {
            object: "embedding".to_owned(),
            index: u32::try_from(index).unwrap_or(u32::MAX),
            embedding,
        })
        .collect()
}

/// Parse `{"embeddings": [{"values": [...]}]}`. The API reports no token counts; the engine
/// counts the input then, as LiteLLM does.
///
/// # Errors
/// A body of another shape.
pub fn parse_batch_embed(body: &[u8], model: &str) -> Result<EmbeddingResponse> {
    let parsed: Value =
        serde_json::from_slice(body).map_err(|_| invalid(body, "batchEmbedContents"))?;
    let vectors = parsed["embeddings"]
        .as_array()
        .ok_or_else(|| invalid(body, "batchEmbedContents"))?
        .iter()
        .map(|e| e["values"].clone())
        .collect();
    let usage = parsed.get("usageMetadata").map(|u| {
        let prompt = u["promptTokenCount"].as_u64().unwrap_or(0);
        Usage::new(prompt, 0)
    });
    Ok(EmbeddingResponse {
        object: "list".to_owned(),
        data: data(vectors),
        model: model.to_owned(),
        usage,
    })
}

/// Parse `{"predictions": [{"embeddings": {"values", "statistics": {"token_count"}}}]}`;
/// usage is the sum of the token counts.
///
/// # Errors
/// A body of another shape.
pub fn parse_predict(body: &[u8], model: &str) -> Result<EmbeddingResponse> {
    let parsed: Value = serde_json::from_slice(body).map_err(|_| invalid(body, "predict"))?;
    let predictions = parsed["predictions"]
        .as_array()
        .ok_or_else(|| invalid(body, "predict"))?;
    let mut tokens = 0;
    let vectors = predictions
        .iter()
        .map(|p| {
            tokens += p["embeddings"]["statistics"]["token_count"]
                .as_f64()
                .map_or(0, |t| t as u64);
            p["embeddings"]["values"].clone()
        })
        .collect();
    Ok(EmbeddingResponse {
        object: "list".to_owned(),
        data: data(vectors),
        model: model.to_owned(),
        usage: Some(Usage::new(tokens, 0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_parsing() {
        let request: EmbeddingRequest = serde_json::from_value(json!({
            "model": "gemini-embedding-001", "input": ["a", "b"], "dimensions": 8, "task_type": "RETRIEVAL_QUERY"
        }))
        .unwrap();
        let body = batch_embed_body(&request).unwrap();
        assert_eq!(body["requests"][1]["model"], "models/gemini-embedding-001");
        assert_eq!(body["requests"][1]["outputDimensionality"], 8);
        assert_eq!(body["requests"][0]["taskType"], "RETRIEVAL_QUERY");
        let predict = predict_body(&request).unwrap();
        assert_eq!(predict["instances"][1]["content"], "b");
        assert_eq!(predict["parameters"]["outputDimensionality"], 8);
        let parsed = parse_predict(
            br#"{"predictions": [{"embeddings": {"values": [0.1], "statistics": {"token_count": 3, "truncated": false}}}]}"#,
            "text-embedding-005",
        )
        .unwrap();
        assert_eq!(parsed.usage.unwrap().prompt_tokens, 3);
        let tokens: EmbeddingRequest =
            serde_json::from_value(json!({"model": "m", "input": [1, 2]})).unwrap();
        assert!(batch_embed_body(&tokens).is_err());
    }
}
