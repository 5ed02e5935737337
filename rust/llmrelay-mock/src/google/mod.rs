//! Google wire formats: the Gemini API (`/v1beta/models/{model}:{method}`, `x-goog-api-key`), Vertex AI
//! (`/v1/projects/{p}/locations/{l}/publishers/{google|anthropic}/models/{model}:{method}`, OAuth bearer tokens
//! issued by the mock's `/token`), embeddings, and Claude on Vertex through the Anthropic dialect's answers.
//!
//! Formats follow the Gemini API reference (ai.google.dev/api: "Generating content", "Embeddings"), the Vertex
//! AI REST reference (`generateContent`, `predict` for text embeddings, "Use Claude models" for `rawPredict`)
//! and Google's OAuth 2.0 service-account flow; each emitting function names its page.

mod error;
mod generate;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Rendered};
use crate::faults::ErrorSpec;

pub(crate) use error::{
    MALFORMED_JSON, MALFORMED_SSE_EVENT, check_api_key, check_bearer, error_body, fault_error,
    stream_error_event,
};

/// Google routes.
pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/v1beta/models/{model_method}", post(gemini_models))
        .route(
            "/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model_method}",
            post(vertex_models),
        )
        .route("/token", post(oauth_token))
}

/// Paths this dialect answers (for the 404 / 405 bodies of other paths under them).
pub(crate) fn owns_path(path: &str) -> Option<Dialect> {
    if path.starts_with("/v1beta/") {
        Some(Dialect::Gemini)
    } else if path.starts_with("/v1/projects/") {
        Some(Dialect::Vertex)
    } else {
        None
    }
}

pub(crate) fn not_found_error(path: &str) -> ErrorSpec {
    error::google_error(
        StatusCode::NOT_FOUND,
        format!("The requested URL {path} was not found on this server."),
    )
}

/// The request id header Google front ends send.
pub(crate) fn insert_standard_headers(headers: &mut HeaderMap, request_id: HeaderValue) {
    headers.insert("x-request-id", request_id);
}

fn split_method(model_method: &str) -> Option<(&str, &str)> {
    model_method
        .rsplit_once(':')
        .filter(|(model, method)| !model.is_empty() && !method.is_empty())
}

fn wants_sse(uri: &Uri) -> bool {
    uri.query()
        .is_some_and(|q| q.split('&').any(|pair| pair == "alt=sse"))
}

fn generate(exchange: &Exchange, model: &str, vertex: bool, stream: bool, uri: &Uri) -> Rendered {
    if stream && !wants_sse(uri) {
        return Rendered::Error(error::invalid_argument(
            "this mock streams only with ?alt=sse (server-sent events)",
        ));
    }
    match generate::Plan::new(exchange.body.as_ref(), model, vertex, exchange) {
        Ok(plan) if stream => Rendered::Stream(plan.render_stream(exchange.chunk_count())),
        Ok(plan) => Rendered::Whole(plan.render()),
        Err(error) => Rendered::Error(error),
    }
}

/// Deterministic unit vectors of the configured size (or `outputDimensionality`).
fn vector(seed: &str, dimensions: usize) -> Vec<f64> {
    let mut state = seed.bytes().fold(1_469_598_103_934_665_603_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1_099_511_628_211)
    });
    let raw: Vec<f64> = (0..dimensions.max(1))
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2000) as f64 / 1000.0 - 1.0
        })
        .collect();
    let norm = raw
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    raw.into_iter().map(|v| v / norm).collect()
}

/// `batchEmbedContents`: one embedding per request.
/// Follows: Gemini API reference "Embeddings" (`BatchEmbedContentsResponse.embeddings[].values`).
fn batch_embed(exchange: &Exchange) -> Rendered {
    let Some(requests) = exchange
        .body
        .as_ref()
        .and_then(|b| b["requests"].as_array())
        .filter(|r| !r.is_empty())
    else {
        return Rendered::Error(error::invalid_argument(
            "* BatchEmbedContentsRequest.requests: requests is not specified",
        ));
    };
    let mut embeddings = Vec::with_capacity(requests.len());
    for request in requests {
        let text: String = request["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["text"].as_str())
            .collect();
        if text.is_empty() {
            return Rendered::Error(error::invalid_argument(
                "* BatchEmbedContentsRequest.requests[].content: contents must not be empty",
            ));
        }
        let dimensions = request["outputDimensionality"]
            .as_u64()
            .map_or(exchange.embedding_dim(), |d| d as usize);
        embeddings.push(json!({"values": vector(&text, dimensions)}));
    }
    Rendered::Whole(serde_json::to_vec(&json!({"embeddings": embeddings})).unwrap_or_default())
}

/// Vertex `predict` for text-embedding models.
/// Follows: Vertex AI "Text embeddings API" (`predictions[].embeddings.values`, `statistics.token_count`).
fn predict(exchange: &Exchange) -> Rendered {
    let Some(instances) = exchange
        .body
        .as_ref()
        .and_then(|b| b["instances"].as_array())
        .filter(|i| !i.is_empty())
    else {
        return Rendered::Error(error::invalid_argument(
            "instances must be a non-empty list",
        ));
    };
    let dimensions = exchange
        .body
        .as_ref()
        .and_then(|b| b["parameters"]["outputDimensionality"].as_u64())
        .map_or(exchange.embedding_dim(), |d| d as usize);
    let predictions: Vec<Value> = instances
        .iter()
        .map(|instance| {
            let text = instance["content"].as_str().unwrap_or("");
            json!({"embeddings": {
                "values": vector(text, dimensions),
                "statistics": {"token_count": crate::shaping::estimate_tokens(text.len()), "truncated": false},
            }})
        })
        .collect();
    Rendered::Whole(serde_json::to_vec(&json!({"predictions": predictions})).unwrap_or_default())
}

async fn gemini_models(
    State(state): State<Arc<MockState>>,
    Path(model_method): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let exchange =
        match Exchange::open(&state, Dialect::Gemini, &method, &uri, &headers, &body).await {
            Ok(exchange) => exchange,
            Err(response) => return response,
        };
    let rendered = match split_method(&model_method) {
        Some((model, "generateContent")) => generate(&exchange, model, false, false, &uri),
        Some((model, "streamGenerateContent")) => generate(&exchange, model, false, true, &uri),
        Some((_, "batchEmbedContents")) => batch_embed(&exchange),
        _ => Rendered::Error(not_found_error(uri.path())),
    };
    rendered.respond(exchange).await
}

async fn vertex_models(
    State(state): State<Arc<MockState>>,
    Path((_project, _location, publisher, model_method)): Path<(String, String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut exchange =
        match Exchange::open(&state, Dialect::Vertex, &method, &uri, &headers, &body).await {
            Ok(exchange) => exchange,
            Err(response) => return response,
        };
    if !error::bearer(&headers).is_some_and(token::is_issued) {
        return exchange.error(error::unauthenticated());
    }
    let rendered = match (publisher.as_str(), split_method(&model_method)) {
        ("google", Some((model, "generateContent"))) => {
            generate(&exchange, model, true, false, &uri)
        }
        ("google", Some((model, "streamGenerateContent"))) => {
            generate(&exchange, model, true, true, &uri)
        }
        ("google", Some((_, "predict"))) => predict(&exchange),
        ("anthropic", Some((model, "rawPredict" | "streamRawPredict"))) => {
            // Claude's own stream: a mid-stream error is Anthropic's `event: error` (faults
            // before the answer, handled above, stay in Google's envelope).
            exchange.dialect = Dialect::Anthropic;
            let request = exchange.body.take();
            crate::anthropic::render_vertex(request, model, &exchange, &state)
        }
        _ => Rendered::Error(not_found_error(uri.path())),
    };
    rendered.respond(exchange).await
}

/// `POST /token`: verifies the service account's signed assertion and issues an access token.
async fn oauth_token(
    State(state): State<Arc<MockState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let exchange =
        match Exchange::begin(&state, Dialect::Vertex, &method, &uri, &headers, &body).await {
            Ok(exchange) => exchange,
            Err(response) => return response,
        };
    drop(exchange);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let token_url = format!("http://{host}{}", uri.path());
    let (status, answer) = token::exchange(&body, &token_url);
    let mut response = Response::new(Body::from(serde_json::to_vec(&answer).unwrap_or_default()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
