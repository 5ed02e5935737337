//! OpenAI wire format: chat completions, legacy completions, embeddings, models, error bodies and response headers.
//!
//! Formats follow the OpenAI API reference (platform.openai.com/docs/api-reference) and the types of the
//! official `openai-python` SDK; each emitting function names the page and SDK type it follows.

mod audio;
pub(crate) mod chat;
mod completions;
pub(crate) mod embeddings;
mod error;
mod images;
mod models;
pub(crate) mod request;
mod responses;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered, X_REQUEST_ID, new_id};
use crate::faults::ErrorSpec;

pub(crate) use error::{
    MALFORMED_JSON, MALFORMED_SSE_EVENT, error_body, fault_error, stream_error_event,
    unauthorized_error,
};

const SYSTEM_FINGERPRINT: &str = "fp_llmrelay_mock";
const SERVICE_TIER: &str = "default";

/// OpenAI routes, each served with and without the `/v1` prefix.
pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route("/completions", post(completions))
        .route("/v1/responses", post(responses_create))
        .route("/responses", post(responses_create))
        .route("/v1/embeddings", post(embeddings))
        .route("/embeddings", post(embeddings))
        .route("/v1/images/generations", post(image_generations))
        .route("/images/generations", post(image_generations))
        .route("/v1/moderations", post(moderations))
        .route("/moderations", post(moderations))
        .route("/v1/audio/transcriptions", post(audio_transcriptions))
        .route("/audio/transcriptions", post(audio_transcriptions))
        .route("/v1/audio/speech", post(audio_speech))
        .route("/audio/speech", post(audio_speech))
        .route("/v1/models", get(list_models))
        .route("/models", get(list_models))
        .route("/v1/models/{*id}", get(retrieve_model))
        .route("/models/{*id}", get(retrieve_model))
}

pub(crate) async fn chat_completions(
    State(state): State<Arc<MockState>>,
    incoming: Incoming,
) -> Response {
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |request, exchange| {
        let (id, created) = (new_id("chatcmpl-"), crate::unix_seconds());
        match chat::ChatPlan::new(request.as_ref(), exchange) {
            Ok(plan) if plan.stream => Rendered::Stream(chat::render_chat_stream(
                &plan,
                &id,
                created,
                exchange.chunk_count(),
            )),
            Ok(plan) => Rendered::Whole(chat::render_chat_completion(&plan, &id, created)),
            Err(error) => Rendered::Error(error),
        }
    })
    .await
}

async fn responses_create(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |request, exchange| {
        let (id, created) = (new_id("resp_"), crate::unix_seconds());
        // OpenAI keeps the responses it created; an id it never issued is a 400.
        // Follows: API reference "Responses" → create, `previous_response_id`.
        if let Some(previous) = request
            .as_ref()
            .and_then(|r| r.get("previous_response_id"))
            .and_then(serde_json::Value::as_str)
        {
            if !state.knows_response(previous) {
                return Rendered::Error(crate::faults::ErrorSpec::invalid_request(
                    format!("Previous response with id '{previous}' not found."),
                    Some("previous_response_id"),
                    Some("previous_response_not_found"),
                ));
            }
        }
        state.remember_response(&id);
        match responses::ResponsesPlan::new(request.as_ref(), exchange) {
            Ok(plan) if plan.stream => Rendered::Stream(responses::render_response_stream(
                &plan,
                &id,
                created,
                exchange.chunk_count(),
            )),
            Ok(plan) => Rendered::Whole(responses::render_response(&plan, &id, created)),
            Err(error) => Rendered::Error(error),
        }
    })
    .await
}

pub(crate) async fn completions(
    State(state): State<Arc<MockState>>,
    incoming: Incoming,
) -> Response {
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |request, exchange| {
        let (id, created) = (new_id("cmpl-"), crate::unix_seconds());
        match completions::CompletionPlan::new(request.as_ref(), exchange) {
            Ok(plan) if plan.stream => Rendered::Stream(completions::render_completion_stream(
                &plan,
                &id,
                created,
                exchange.chunk_count(),
            )),
            Ok(plan) => Rendered::Whole(completions::render_completion(&plan, &id, created)),
            Err(error) => Rendered::Error(error),
        }
    })
    .await
}

pub(crate) async fn embeddings(
    State(state): State<Arc<MockState>>,
    incoming: Incoming,
) -> Response {
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |request, exchange| {
        embeddings::render_embeddings(request.as_ref(), exchange).into()
    })
    .await
}

pub(crate) async fn image_generations(
    State(state): State<Arc<MockState>>,
    incoming: Incoming,
) -> Response {
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |request, _| {
        images::render_images(request.as_ref(), crate::unix_seconds()).into()
    })
    .await
}

async fn moderations(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |request, _| {
        images::render_moderation(request.as_ref(), &new_id("modr-")).into()
    })
    .await
}

/// An audio answer: the rendered bytes with their own content type.
async fn audio_answer(
    exchange: Exchange,
    rendered: Result<(Vec<u8>, HeaderValue), ErrorSpec>,
) -> Response {
    match rendered {
        Ok((body, content_type)) => {
            let mut response = exchange.whole(StatusCode::OK, body).await;
            response
                .headers_mut()
                .insert(axum::http::header::CONTENT_TYPE, content_type);
            response
        }
        Err(error) => exchange.error(error),
    }
}

pub(crate) async fn audio_transcriptions(
    State(state): State<Arc<MockState>>,
    incoming: Incoming,
) -> Response {
    let exchange = match Exchange::open(
        &state,
        Dialect::OpenAi,
        &incoming.method,
        &incoming.uri,
        &incoming.headers,
        &incoming.body,
    )
    .await
    {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let rendered = audio::render_transcription(&incoming.headers, &incoming.body);
    audio_answer(exchange, rendered).await
}

pub(crate) async fn audio_speech(
    State(state): State<Arc<MockState>>,
    incoming: Incoming,
) -> Response {
    let mut exchange = match Exchange::open(
        &state,
        Dialect::OpenAi,
        &incoming.method,
        &incoming.uri,
        &incoming.headers,
        &incoming.body,
    )
    .await
    {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let request = exchange.body.take();
    let rendered = audio::render_speech(request.as_ref());
    audio_answer(exchange, rendered).await
}

async fn list_models(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |_, _| {
        Rendered::Whole(models::render_model_list())
    })
    .await
}

async fn retrieve_model(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let id = incoming
        .uri
        .path()
        .split_once("/models/")
        .map_or("", |(_, id)| id)
        .to_owned();
    Exchange::serve(
        &state,
        Dialect::OpenAi,
        &incoming,
        |_, _| match models::render_model(&id) {
            Some(body) => Rendered::Whole(body),
            None => Rendered::Error(ErrorSpec::new(
                StatusCode::NOT_FOUND,
                format!("The model `{id}` does not exist or you do not have access to it."),
                "invalid_request_error",
                None,
                Some("model_not_found"),
            )),
        },
    )
    .await
}

/// `Authorization: Bearer <key>` (or Azure's `api-key: <key>`) with a non-empty key.
pub(crate) fn authorized(headers: &HeaderMap) -> bool {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.as_bytes();
        return value.len() > 7
            && value[..7].eq_ignore_ascii_case(b"bearer ")
            && value[7..].iter().any(|byte| !byte.is_ascii_whitespace());
    }
    headers
        .get("api-key")
        .is_some_and(|value| !value.is_empty())
}

const OPENAI_PROCESSING_MS: HeaderName = HeaderName::from_static("openai-processing-ms");
const OPENAI_VERSION: HeaderName = HeaderName::from_static("openai-version");
const LIMIT_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-limit-requests");
const REMAINING_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-requests");
const LIMIT_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-limit-tokens");
const REMAINING_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-tokens");
const RESET_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-reset-requests");
const RESET_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-reset-tokens");

/// Headers OpenAI sends with every response.
/// Follows: API reference "Debugging requests" (x-request-id, openai-processing-ms, openai-version) and the
/// rate-limits guide (x-ratelimit-* headers).
pub(crate) fn insert_standard_headers(
    headers: &mut HeaderMap,
    request_id: HeaderValue,
    started: Instant,
) {
    let processing_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    headers.insert(X_REQUEST_ID, request_id);
    headers.insert(OPENAI_PROCESSING_MS, HeaderValue::from(processing_ms));
    headers.insert(OPENAI_VERSION, HeaderValue::from_static("2020-10-01"));
    headers.insert(LIMIT_REQUESTS, HeaderValue::from_static("10000"));
    headers.insert(REMAINING_REQUESTS, HeaderValue::from_static("9999"));
    headers.insert(LIMIT_TOKENS, HeaderValue::from_static("30000000"));
    headers.insert(REMAINING_TOKENS, HeaderValue::from_static("29999000"));
    headers.insert(RESET_REQUESTS, HeaderValue::from_static("6ms"));
    headers.insert(RESET_TOKENS, HeaderValue::from_static("0s"));
}

/// Rate-limit headers of a 429: nothing left until the window resets.
pub(crate) fn mark_rate_limited(headers: &mut HeaderMap) {
    headers.insert(REMAINING_REQUESTS, HeaderValue::from_static("0"));
    headers.insert(RESET_REQUESTS, HeaderValue::from_static("20s"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_requires_a_non_empty_bearer_key() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
            authorized(&headers)
        };
        assert!(with("Bearer sk-test"));
        assert!(with("bearer sk-test"));
        assert!(!with("Bearer "));
        assert!(!with("Basic abc"));
        assert!(!authorized(&HeaderMap::new()));
    }
}
