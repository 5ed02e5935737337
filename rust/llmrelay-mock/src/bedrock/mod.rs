//! AWS Bedrock Runtime wire format: `Converse`, `ConverseStream` (binary AWS event-stream frames)
//! and `InvokeModel` for Titan / Cohere embeddings, with SigV4 verification, AWS error bodies and
//! headers.
//!
//! Formats follow the AWS Bedrock Runtime API reference ("Converse", "ConverseStream",
//! "InvokeModel", "Common Errors") and botocore's `bedrock-runtime` service model; frames are
//! encoded with `aws-smithy-eventstream`, the AWS SDK for Rust's codec (prelude and message CRCs).

mod converse;
mod embeddings;
mod guardrail;
mod sigv4;

use std::sync::Arc;

use aws_smithy_types::event_stream::{Header, HeaderValue as FrameHeaderValue, Message};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use crate::exchange::{APPLICATION_JSON, Dialect, Exchange, Rendered};
use crate::faults::ErrorSpec;
use crate::{MockState, RecordedRequest};

/// The header AWS names the exception in.
pub(crate) const ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
/// ConverseStream's content type.
pub(crate) const EVENT_STREAM_CONTENT_TYPE: HeaderValue =
    HeaderValue::from_static("application/vnd.amazon.eventstream");

/// A 200 body that is not valid JSON.
pub(crate) const MALFORMED_JSON: &[u8] =
    b"{\"output\": {\"message\": {\"role\": \"assistant\", \"content\": [{";

/// An event-stream frame whose prelude CRC is wrong (total length 16, no headers, zero CRCs).
pub(crate) const MALFORMED_FRAME: &[u8] = &[0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/model/{model_id}/converse", post(converse))
        .route("/model/{model_id}/converse-stream", post(converse_stream))
        .route("/model/{model_id}/invoke", post(invoke))
        .route(
            "/guardrail/{identifier}/version/{version}/apply",
            post(guardrail::apply),
        )
}

/// One event-stream `event` message.
pub(crate) fn encode_event(event_type: &str, payload: &str) -> Vec<u8> {
    encode(
        &[
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.as_bytes(),
    )
}

/// One event-stream `exception` message (a failure after the stream started).
pub(crate) fn encode_exception(exception_type: &str, payload: &str) -> Vec<u8> {
    encode(
        &[
            (":exception-type", exception_type),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        payload.as_bytes(),
    )
}

fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let headers = headers
        .iter()
        .map(|(name, value)| {
            Header::new(
                (*name).to_owned(),
                FrameHeaderValue::String((*value).to_owned().into()),
            )
        })
        .collect();
    let message = Message::new_from_parts(headers, Bytes::copy_from_slice(payload));
    let mut out = Vec::with_capacity(payload.len() + 96);
    // Encoding string headers into a Vec cannot fail.
    let _ = aws_smithy_eventstream::frame::write_message_to(&message, &mut out);
    out
}

/// A scripted `aws_event_stream` item: `{"event": <type>, "data": <json>}` or
/// `{"exception": <type>, "data": <json>}`; anything else is skipped.
pub(crate) fn encode_script_item(item: &Value) -> Option<Vec<u8>> {
    let data = item
        .get("data")
        .map_or_else(|| "{}".to_owned(), Value::to_string);
    if let Some(event) = item.get("event").and_then(Value::as_str) {
        return Some(encode_event(event, &data));
    }
    item.get("exception")
        .and_then(Value::as_str)
        .map(|kind| encode_exception(kind, &data))
}

/// A 400 `ValidationException`.
pub(crate) fn validation(message: impl Into<String>) -> ErrorSpec {
    ErrorSpec::new(
        StatusCode::BAD_REQUEST,
        message,
        "ValidationException",
        None,
        None,
    )
}

/// The AWS error body: `{"message": "..."}` (the type travels in `x-amzn-ErrorType`).
pub(crate) fn error_body(error: &ErrorSpec) -> Bytes {
    Bytes::from(serde_json::to_vec(&json!({"message": error.message})).unwrap_or_default())
}

/// The exception Bedrock answers a status with, as injected by `x-mock-status`
/// (API reference "Converse" → Errors, with their HTTP statuses).
pub(crate) fn fault_error(status: StatusCode, model: Option<&str>) -> ErrorSpec {
    let (kind, message): (&str, String) = match status.as_u16() {
        400 => (
            "ValidationException",
            "Malformed input request, please reformat your input and try again.".to_owned(),
        ),
        401 | 403 => (
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.".to_owned(),
        ),
        404 => (
            "ResourceNotFoundException",
            format!(
                "Could not resolve the foundation model from the provided model identifier {}.",
                model.unwrap_or("model")
            ),
        ),
        408 => (
            "ModelTimeoutException",
            "Model has timed out in processing the request. Try your request again.".to_owned(),
        ),
        424 => (
            "ModelErrorException",
            "The model returned an error while processing the request.".to_owned(),
        ),
        429 => (
            "ThrottlingException",
            "Too many requests, please wait before trying again.".to_owned(),
        ),
        503 | 529 => (
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.".to_owned(),
        ),
        _ => (
            "InternalServerException",
            "The server encountered an internal error while processing the request.".to_owned(),
        ),
    };
    ErrorSpec::new(status, message, kind, None, None)
}

/// The exception frame sent by `x-mock-error-after` (`internalServerException` by default).
pub(crate) fn stream_error_event(kind: Option<&str>, message: Option<&str>) -> Bytes {
    let payload = json!({"message": message.unwrap_or("The server encountered an internal error while processing the request.")});
    Bytes::from(encode_exception(
        kind.unwrap_or("internalServerException"),
        &payload.to_string(),
    ))
}

pub(crate) fn not_found_error(method: &Method, path: &str) -> ErrorSpec {
    ErrorSpec::new(
        StatusCode::NOT_FOUND,
        format!("Unknown operation: {method} {path}"),
        "UnknownOperationException",
        None,
        None,
    )
}

pub(crate) fn insert_standard_headers(headers: &mut HeaderMap, request_id: HeaderValue) {
    headers.insert(REQUEST_ID, request_id);
}

/// The error type header of an error response.
pub(crate) fn insert_error_type(headers: &mut HeaderMap, error: &ErrorSpec) {
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        error.kind
    )) {
        headers.insert(ERROR_TYPE, value);
    }
}

/// Rejects a request whose credentials do not check out, before anything else runs (so scripts
/// and faults never answer an unauthenticated request); the request is still recorded.
pub(crate) fn rejection(
    state: &MockState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    let config = state.current_config();
    let failure = sigv4::verify(&config, method, uri, headers, body).err()?;
    if config.record {
        let parsed = serde_json::from_slice::<Value>(body).ok();
        state.record(RecordedRequest::capture(
            method,
            uri,
            headers,
            body,
            parsed.as_ref(),
        ));
    }
    let error = ErrorSpec::new(
        StatusCode::FORBIDDEN,
        failure.message,
        failure.exception,
        None,
        None,
    );
    let mut response = Response::new(Body::from(error_body(&error)));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, APPLICATION_JSON);
    insert_error_type(response.headers_mut(), &error);
    Some(response)
}

async fn open(
    state: &MockState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Exchange, Response> {
    if let Some(response) = rejection(state, method, uri, headers, body) {
        return Err(response);
    }
    Exchange::open(state, Dialect::Bedrock, method, uri, headers, body).await
}

async fn converse(
    State(state): State<Arc<MockState>>,
    Path(model_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _ = model_id;
    let mut exchange = match open(&state, &method, &uri, &headers, &body).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let request = exchange.body.take();
    let rendered = match converse::ConversePlan::new(request.as_ref(), &exchange) {
        Ok(plan) => Rendered::Whole(plan.render(exchange.latency_ms())),
        Err(error) => Rendered::Error(error),
    };
    rendered.respond(exchange).await
}

async fn converse_stream(
    State(state): State<Arc<MockState>>,
    Path(model_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _ = model_id;
    let mut exchange = match open(&state, &method, &uri, &headers, &body).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let request = exchange.body.take();
    match converse::ConversePlan::new(request.as_ref(), &exchange) {
        Ok(plan) => {
            let events = plan.render_stream(exchange.chunk_count());
            let mut response = exchange.stream(&events);
            response
                .headers_mut()
                .insert(CONTENT_TYPE, EVENT_STREAM_CONTENT_TYPE);
            response
        }
        Err(error) => exchange.error(error),
    }
}

async fn invoke(
    State(state): State<Arc<MockState>>,
    Path(model_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut exchange = match open(&state, &method, &uri, &headers, &body).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let request = exchange.body.take();
    let rendered = if model_id.contains("titan-embed") || model_id.contains("cohere.embed") {
        match embeddings::render(&model_id, request.as_ref(), exchange.embedding_dim()) {
            Ok(body) => Rendered::Whole(body),
            Err(error) => Rendered::Error(error),
        }
    } else {
        Rendered::Error(validation(format!(
            "The mock serves InvokeModel for Titan text and Cohere embedding models only, not {model_id}."
        )))
    };
    rendered.respond(exchange).await
}
