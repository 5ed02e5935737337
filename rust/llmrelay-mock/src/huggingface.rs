//! Hugging Face feature extraction
//! (`/hf-inference/models/{model}/pipeline/feature-extraction`, `{"inputs": …}` → vectors), as
//! <https://huggingface.co/docs/inference-providers/tasks/feature-extraction> documents. Chat on
//! the router is OpenAI's Chat Completions and is served by the OpenAI routes.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Rendered};
use crate::faults::ErrorSpec;

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new().route("/hf-inference/models/{*rest}", post(feature_extraction))
}

async fn feature_extraction(
    State(state): State<Arc<MockState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut exchange =
        match Exchange::open(&state, Dialect::OpenAi, &method, &uri, &headers, &body).await {
            Ok(exchange) => exchange,
            Err(response) => return response,
        };
    if !uri.path().ends_with("/pipeline/feature-extraction") {
        return exchange.error(ErrorSpec::new(
            StatusCode::NOT_FOUND,
            "Not Found",
            "not_found",
            None,
            None,
        ));
    }
    let request = exchange.body.take();
    let dimensions = exchange.embedding_dim();
    let rendered = match request.as_ref().and_then(|b| b.get("inputs")) {
        Some(Value::String(text)) => Rendered::Whole(
            serde_json::to_vec(&crate::ollama::embedding_vector(text, dimensions))
                .unwrap_or_default(),
        ),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            let vectors: Vec<Vec<f64>> = items
                .iter()
                .filter_map(Value::as_str)
                .map(|text| crate::ollama::embedding_vector(text, dimensions))
                .collect();
            Rendered::Whole(serde_json::to_vec(&json!(vectors)).unwrap_or_default())
        }
        _ => Rendered::Error(ErrorSpec::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Input should be a valid string or list of strings",
            "validation",
            Some("inputs"),
            None,
        )),
    };
    rendered.respond(exchange).await
}
