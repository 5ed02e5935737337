//! Snowflake Cortex's REST API under `/api/v2`, as Snowflake documents it
//! (<https://docs.snowflake.com/en/user-guide/snowflake-cortex/cortex-rest-api>,
//! <https://docs.snowflake.com/developer-guide/snowflake-rest-api/reference/cortex-embed>):
//! - `POST /api/v2/cortex/v1/chat/completions`: OpenAI's Chat Completions (served by the
//!   OpenAI emulation);
//! - `POST /api/v2/cortex/v1/messages`: Anthropic's Messages API for Claude models (served by
//!   the Anthropic emulation, with the bearer token);
//! - `POST /api/v2/cortex/inference:embed` with `{"text", "model"}` → `{"data": [{"embedding":
//!   [[…]], "index"}], "model", "usage": {"total_tokens"}}` (each embedding a one-row matrix);
//! - every call carries `Authorization: Bearer <token>` and
//!   `X-Snowflake-Authorization-Token-Type` (`KEYPAIR_JWT`, `OAUTH` or
//!   `PROGRAMMATIC_ACCESS_TOKEN`); without them the answer is Snowflake's 401
//!   `{"code", "message", "request_id"}`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered, new_id};
use crate::faults::ErrorSpec;
use crate::openai::embeddings::{FNV_OFFSET, fnv1a, mock_embedding};

const TOKEN_TYPES: &[&str] = &["KEYPAIR_JWT", "OAUTH", "PROGRAMMATIC_ACCESS_TOKEN"];
const EMBEDDING_DIMENSIONS: usize = 768;

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/api/v2/cortex/v1/chat/completions", post(chat_completions))
        .route("/api/v2/cortex/v1/messages", post(messages))
        .route("/api/v2/cortex/inference:embed", post(embed))
}

/// Snowflake's refusal of a call without a usable token, or `None`.
fn refused(incoming: &Incoming) -> Option<Response> {
    let token_type = incoming
        .headers
        .get("x-snowflake-authorization-token-type")
        .and_then(|v| v.to_str().ok());
    let bearer = incoming
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !t.trim().is_empty());
    let message = match token_type {
        _ if !bearer => "Missing or invalid Authorization header.",
        None => "Missing header X-Snowflake-Authorization-Token-Type.",
        Some(kind) if !TOKEN_TYPES.contains(&kind) => "Unsupported authorization token type.",
        Some(_) => return None,
    };
    Some(
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": "390101", "message": message, "request_id": new_id("")})),
        )
            .into_response(),
    )
}

async fn chat_completions(state: State<Arc<MockState>>, incoming: Incoming) -> Response {
    if let Some(refusal) = refused(&incoming) {
        return refusal;
    }
    crate::openai::chat_completions(state, incoming).await
}

async fn messages(state: State<Arc<MockState>>, incoming: Incoming) -> Response {
    if let Some(refusal) = refused(&incoming) {
        return refusal;
    }
    crate::anthropic::messages(state, incoming).await
}

async fn embed(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    if let Some(refusal) = refused(&incoming) {
        return refusal;
    }
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |request, _exchange| {
        let bad = |message: &str| {
            Rendered::Error(ErrorSpec::new(
                StatusCode::BAD_REQUEST,
                message,
                "invalid_request_error",
                None,
                None,
            ))
        };
        let Some(model) = request
            .as_ref()
            .and_then(|b| b.get("model"))
            .and_then(Value::as_str)
        else {
            return bad("Missing required field 'model'");
        };
        let texts: Vec<&str> = match request.as_ref().and_then(|b| b.get("text")) {
            Some(Value::String(text)) => vec![text.as_str()],
            Some(Value::Array(items))
                if !items.is_empty() && items.iter().all(Value::is_string) =>
            {
                items.iter().filter_map(Value::as_str).collect()
            }
            _ => return bad("Field 'text' must be a string or a non-empty array of strings"),
        };
        let mut tokens = 0;
        let data: Vec<Value> = texts
            .iter()
            .zip(0u32..)
            .map(|(text, index)| {
                tokens += text.split_whitespace().count().max(1);
                let vector =
                    mock_embedding(fnv1a(FNV_OFFSET, text.as_bytes()), EMBEDDING_DIMENSIONS);
                json!({"object": "embedding", "embedding": [vector], "index": index})
            })
            .collect();
        let answer = json!({
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"total_tokens": tokens},
        });
        Rendered::Whole(serde_json::to_vec(&answer).unwrap_or_default())
    })
    .await
}
