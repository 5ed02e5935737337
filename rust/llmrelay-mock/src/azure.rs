//! Azure OpenAI: OpenAI's wire format on per-deployment paths
//! (`/openai/deployments/{deployment}/…?api-version=…`), as the Azure OpenAI REST reference
//! (learn.microsoft.com/azure/ai-foundry/openai/reference) describes. A request without
//! `api-version` gets Azure's 404 "Resource not found"; the deployment name is the model.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::MockState;
use crate::exchange::Incoming;
use crate::openai;

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            post(|s, m, u, h, b| serve(s, m, u, h, b, Operation::Chat)),
        )
        .route(
            "/openai/deployments/{deployment}/completions",
            post(|s, m, u, h, b| serve(s, m, u, h, b, Operation::Completions)),
        )
        .route(
            "/openai/deployments/{deployment}/embeddings",
            post(|s, m, u, h, b| serve(s, m, u, h, b, Operation::Embeddings)),
        )
        .route(
            "/openai/deployments/{deployment}/images/generations",
            post(|s, m, u, h, b| serve(s, m, u, h, b, Operation::Images)),
        )
        .route(
            "/openai/deployments/{deployment}/audio/transcriptions",
            post(|s, m, u, h, b| serve(s, m, u, h, b, Operation::Transcriptions)),
        )
        .route(
            "/openai/deployments/{deployment}/audio/speech",
            post(|s, m, u, h, b| serve(s, m, u, h, b, Operation::Speech)),
        )
}

#[derive(Clone, Copy)]
enum Operation {
    Chat,
    Completions,
    Embeddings,
    Images,
    Transcriptions,
    Speech,
}

async fn serve(
    state: State<Arc<MockState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    operation: Operation,
) -> Response {
    let has_version = uri
        .query()
        .is_some_and(|q| q.split('&').any(|pair| pair.starts_with("api-version=")));
    if !has_version {
        let body = serde_json::json!({"error": {"code": "404", "message": "Resource not found"}});
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    }
    // The deployment stands in for the model when the body names none.
    let deployment = uri
        .path()
        .strip_prefix("/openai/deployments/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    let incoming = Incoming {
        body: with_model(body, &deployment),
        method,
        uri,
        headers,
    };
    match operation {
        Operation::Chat => openai::chat_completions(state, incoming).await,
        Operation::Completions => openai::completions(state, incoming).await,
        Operation::Embeddings => openai::embeddings(state, incoming).await,
        Operation::Images => openai::image_generations(state, incoming).await,
        Operation::Transcriptions => openai::audio_transcriptions(state, incoming).await,
        Operation::Speech => openai::audio_speech(state, incoming).await,
    }
}

fn with_model(body: Bytes, deployment: &str) -> Bytes {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(mut map)) if !map.contains_key("model") => {
            map.insert("model".to_owned(), serde_json::Value::from(deployment));
            serde_json::to_vec(&map).map_or(body, Bytes::from)
        }
        _ => body,
    }
}
