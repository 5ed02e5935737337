//! NLP Cloud's text generation (`POST /v1/gpu/{model}/generation`, `Authorization: Token <key>`,
//! `{"text", "max_length", …}` → `{"generated_text", "nb_generated_tokens",
//! "nb_input_tokens"}`), as <https://docs.nlpcloud.com/#generation> documents. Errors are
//! `{"detail": "<message>"}`.

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

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/v1/gpu/{model}/generation", post(generation))
        .route("/v1/{model}/generation", post(generation))
}

fn detail(message: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "detail": message })).unwrap_or_default()
}

async fn generation(
    State(state): State<Arc<MockState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Ollama's dialect checks no credentials: NLP Cloud's `Token` scheme is checked here.
    let mut exchange =
        match Exchange::open(&state, Dialect::Ollama, &method, &uri, &headers, &body).await {
            Ok(exchange) => exchange,
            Err(response) => return response,
        };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Token "))
        .filter(|t| !t.trim().is_empty());
    if token.is_none() {
        return exchange
            .whole(StatusCode::UNAUTHORIZED, detail("Invalid token."))
            .await;
    }
    let request = exchange.body.take();
    let Some(text) = request
        .as_ref()
        .and_then(|b| b.get("text"))
        .and_then(Value::as_str)
    else {
        return exchange
            .whole(
                StatusCode::BAD_REQUEST,
                detail("The text field is required."),
            )
            .await;
    };
    let mut generated = exchange.content().to_owned();
    if let Some(max) = request
        .as_ref()
        .and_then(|b| b.get("max_length"))
        .and_then(Value::as_u64)
    {
        let words: Vec<&str> = generated.split_whitespace().collect();
        if (words.len() as u64) > max {
            generated = words[..usize::try_from(max).unwrap_or(0)].join(" ");
        }
    }
    let answer = json!({
        "generated_text": generated,
        "nb_generated_tokens": generated.split_whitespace().count(),
        "nb_input_tokens": text.split_whitespace().count(),
    });
    Rendered::Whole(serde_json::to_vec(&answer).unwrap_or_default())
        .respond(exchange)
        .await
}
