//! IBM watsonx.ai, as IBM's API reference documents it
//! (<https://cloud.ibm.com/apidocs/watsonx-ai#text-chat>, `#text-chat-stream`,
//! `#text-embeddings`) and IBM Cloud IAM's API-key grant
//! (<https://cloud.ibm.com/apidocs/iam-identity-token-api#gettoken-apikey>):
//! - `POST /identity/token` (form `grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=…`)
//!   → `{"access_token", "refresh_token", "token_type": "Bearer", "expires_in", "expiration",
//!   "scope"}`; the mock's tokens are `wxiam.<hex of the key>`, so a test can tell an exchanged
//!   token from a key sent as is;
//! - `POST /ml/v1/text/chat?version=…` (and `/ml/v1/deployments/{id}/text/chat`): an
//!   OpenAI-shaped body with `model_id` and `project_id` or `space_id`; the answer has IBM's
//!   `model_id`, `model_version` and `created_at` beside the OpenAI fields;
//! - `…/text/chat_stream`: server-sent `event: message` items, the last one carrying `usage`,
//!   no end marker;
//! - `POST /ml/v1/text/embeddings?version=…` → `{"model_id", "results": [{"embedding"}],
//!   "created_at", "input_token_count"}`;
//! - errors: `{"errors": [{"code", "message", "more_info"}], "trace", "status_code"}`.
//!
//! `Authorization` is `Bearer <token>` or `ZenApiKey <key>`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered, new_id};
use crate::faults::ErrorSpec;
use crate::openai::chat::{ChatPlan, render_chat_completion, render_chat_stream};
use crate::openai::embeddings::{FNV_OFFSET, fnv1a, mock_embedding};
use crate::sse::{SseEvents, SseWriter};

const MODEL_VERSION: &str = "1.1.0";
const EMBEDDING_DIMENSIONS: usize = 384;

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/identity/token", post(iam_token))
        .route("/ml/v1/text/chat", post(chat))
        .route("/ml/v1/text/chat_stream", post(chat_stream))
        .route("/ml/v1/deployments/{deployment}/text/chat", post(chat))
        .route(
            "/ml/v1/deployments/{deployment}/text/chat_stream",
            post(chat_stream),
        )
        .route("/ml/v1/text/embeddings", post(embeddings))
}

/// The watsonx error body.
pub(crate) fn error_body(error: &ErrorSpec) -> Bytes {
    let code = error.code.clone().unwrap_or_else(|| error.kind.clone());
    Bytes::from(
        serde_json::to_vec(&json!({
            "errors": [{
                "code": code,
                "message": error.message,
                "more_info": "https://cloud.ibm.com/apidocs/watsonx-ai",
            }],
            "trace": new_id(""),
            "status_code": error.status.as_u16(),
        }))
        .unwrap_or_default(),
    )
}

pub(crate) fn fault_error(status: StatusCode, model: Option<&str>) -> ErrorSpec {
    let model = model.unwrap_or("ibm/granite-3-8b-instruct");
    let (code, message) = match status.as_u16() {
        400 => (
            "json_validation_error",
            "Json document validation error".to_owned(),
        ),
        401 => (
            "authentication_token_not_valid",
            "Failed to authenticate the request due to invalid token".to_owned(),
        ),
        404 => (
            "model_not_supported",
            format!("Model '{model}' is not supported"),
        ),
        429 => ("token_quota_reached", "Rate limit exceeded".to_owned()),
        _ => ("internal_error", "Internal server error".to_owned()),
    };
    ErrorSpec::new(status, message, code, None, Some(code))
}

/// The event a failed stream ends with.
pub(crate) fn stream_error_event(message: Option<&str>) -> Bytes {
    let error = fault_error(StatusCode::INTERNAL_SERVER_ERROR, None);
    let error = ErrorSpec {
        message: message.map_or(error.message.clone(), str::to_owned),
        ..error
    };
    let mut writer = SseWriter::with_capacity(256);
    let body: Value = serde_json::from_slice(&error_body(&error)).unwrap_or(Value::Null);
    writer.named_json("error", &body);
    writer.finish().all()
}

pub(crate) fn check_headers(headers: &HeaderMap) -> Result<(), ErrorSpec> {
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let credential = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("ZenApiKey "));
    if credential.is_some_and(|c| !c.trim().is_empty()) {
        return Ok(());
    }
    Err(ErrorSpec::new(
        StatusCode::UNAUTHORIZED,
        "Failed to authenticate the request due to missing or invalid Authorization header",
        "authorization_rejected",
        None,
        Some("authorization_rejected"),
    ))
}

fn invalid(message: &str) -> ErrorSpec {
    ErrorSpec::new(
        StatusCode::BAD_REQUEST,
        message,
        "json_validation_error",
        None,
        Some("json_validation_error"),
    )
}

/// IBM's required `version` query parameter and the placement fields of the body.
fn check_call(uri: &Uri, body: Option<&Value>, deployment: bool) -> Result<(), ErrorSpec> {
    let has_version = uri
        .query()
        .is_some_and(|q| q.split('&').any(|pair| pair.starts_with("version=")));
    if !has_version {
        return Err(ErrorSpec::new(
            StatusCode::BAD_REQUEST,
            "Missing query parameter 'version'",
            "missing_version",
            None,
            Some("missing_version"),
        ));
    }
    if deployment {
        return Ok(());
    }
    let body = body.and_then(Value::as_object);
    let has = |key: &str| {
        body.and_then(|b| b.get(key))
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    if !has("model_id") {
        return Err(invalid("Missing required field 'model_id'"));
    }
    if !has("project_id") && !has("space_id") {
        return Err(invalid(
            "Either 'project_id' or 'space_id' must be specified",
        ));
    }
    Ok(())
}

fn deployment_of(uri: &Uri) -> Option<&str> {
    uri.path()
        .strip_prefix("/ml/v1/deployments/")
        .and_then(|rest| rest.split('/').next())
}

/// IBM's fields on an OpenAI-shaped answer or chunk.
fn to_watsonx(mut value: Value, model: &str, created_at: &str) -> Value {
    if let Some(map) = value.as_object_mut() {
        for key in ["object", "system_fingerprint", "service_tier"] {
            map.remove(key);
        }
        map.insert("model_id".to_owned(), Value::from(model));
        map.insert("model".to_owned(), Value::from(model));
        map.insert("model_version".to_owned(), Value::from(MODEL_VERSION));
        map.insert("created_at".to_owned(), Value::from(created_at));
    }
    value
}

/// The OpenAI stream re-framed as IBM's: `event: message` items, the usage on the last one.
fn to_watsonx_stream(events: &SseEvents, model: &str, created_at: &str) -> SseEvents {
    let all = events.all();
    let text = String::from_utf8_lossy(&all);
    let chunks: Vec<Value> = text
        .split("\n\n")
        .filter_map(|event| event.lines().find_map(|line| line.strip_prefix("data: ")))
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| serde_json::from_str(data).ok())
        .collect();
    let mut writer = SseWriter::with_capacity(all.len() + 64 * chunks.len());
    let mut pending: Option<Value> = None;
    for chunk in chunks {
        let usage_only = chunk
            .get("choices")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty);
        if usage_only {
            if let (Some(last), Some(usage)) = (pending.as_mut(), chunk.get("usage")) {
                last["usage"] = usage.clone();
            }
            continue;
        }
        if let Some(previous) = pending.replace(to_watsonx(chunk, model, created_at)) {
            writer.named_json("message", &previous);
        }
    }
    if let Some(last) = pending {
        writer.terminal();
        writer.named_json("message", &last);
    }
    writer.finish()
}

async fn chat(state: axum::extract::State<Arc<MockState>>, incoming: Incoming) -> Response {
    serve_chat(&state, &incoming, false).await
}

async fn chat_stream(state: axum::extract::State<Arc<MockState>>, incoming: Incoming) -> Response {
    serve_chat(&state, &incoming, true).await
}

async fn serve_chat(state: &MockState, incoming: &Incoming, stream: bool) -> Response {
    let deployment = deployment_of(&incoming.uri).map(str::to_owned);
    Exchange::serve(state, Dialect::Watsonx, incoming, |request, exchange| {
        if let Err(error) = check_call(&incoming.uri, request.as_ref(), deployment.is_some()) {
            return Rendered::Error(error);
        }
        let mut body = match request {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let model = body
            .get("model_id")
            .or_else(|| body.get("model"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| deployment.clone())
            .unwrap_or_default();
        // The path says whether the answer streams; the usage rides on the last item.
        body.insert("model".to_owned(), Value::from(model.as_str()));
        body.insert("stream".to_owned(), Value::Bool(stream));
        if stream {
            body.insert("stream_options".to_owned(), json!({"include_usage": true}));
        }
        let body = Value::Object(body);
        let (id, created, created_at) = (
            new_id("chat-"),
            crate::unix_seconds(),
            crate::ollama::created_at(),
        );
        match ChatPlan::new(Some(&body), exchange) {
            Ok(plan) if stream => {
                let events = render_chat_stream(&plan, &id, created, exchange.chunk_count());
                Rendered::Stream(to_watsonx_stream(&events, &model, &created_at))
            }
            Ok(plan) => {
                let whole = render_chat_completion(&plan, &id, created);
                let value: Value = serde_json::from_slice(&whole).unwrap_or(Value::Null);
                Rendered::Whole(
                    serde_json::to_vec(&to_watsonx(value, &model, &created_at)).unwrap_or_default(),
                )
            }
            Err(error) => Rendered::Error(error),
        }
    })
    .await
}

async fn embeddings(state: axum::extract::State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::Watsonx, &incoming, |request, _exchange| {
        if let Err(error) = check_call(&incoming.uri, request.as_ref(), false) {
            return Rendered::Error(error);
        }
        let Some(inputs) = request
            .as_ref()
            .and_then(|b| b.get("inputs"))
            .and_then(Value::as_array)
            .filter(|items| !items.is_empty() && items.iter().all(Value::is_string))
        else {
            return Rendered::Error(invalid(
                "Field 'inputs' must be a non-empty array of strings",
            ));
        };
        let model = request
            .as_ref()
            .and_then(|b| b.get("model_id"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut tokens = 0;
        let results: Vec<Value> = inputs
            .iter()
            .filter_map(Value::as_str)
            .map(|text| {
                tokens += text.split_whitespace().count().max(1);
                let seed = fnv1a(FNV_OFFSET, text.as_bytes());
                json!({"embedding": mock_embedding(seed, EMBEDDING_DIMENSIONS)})
            })
            .collect();
        let answer = json!({
            "model_id": model,
            "results": results,
            "created_at": crate::ollama::created_at(),
            "input_token_count": tokens,
        });
        Rendered::Whole(serde_json::to_vec(&answer).unwrap_or_default())
    })
    .await
}

/// `application/x-www-form-urlencoded` fields (`+` and `%XX` decoded).
fn form_fields(body: &[u8]) -> HashMap<String, String> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let digits = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(digits, 16) {
                        Ok(byte) => {
                            out.push(byte);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                byte => out.push(byte),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The IAM API-key grant.
async fn iam_token(body: Bytes) -> Response {
    let form = form_fields(&body);
    let field = |name: &str| form.get(name).map(String::as_str);
    let iam_error = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            axum::Json(json!({
                "errorCode": code,
                "errorMessage": message,
                "context": {"requestId": new_id("")},
            })),
        )
            .into_response()
    };
    if field("grant_type") != Some("urn:ibm:params:oauth:grant-type:apikey") {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "BXNIM0109E",
            "Property missing or empty. Property name: grant_type",
        );
    }
    let Some(api_key) = field("apikey").filter(|k| !k.is_empty()) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "BXNIM0415E",
            "Provided API key could not be found.",
        );
    };
    let expiration = crate::unix_seconds() + 3600;
    axum::Json(json!({
        "access_token": format!("wxiam.{}", hex(api_key.as_bytes())),
        "refresh_token": "not_supported",
        "token_type": "Bearer",
        "expires_in": 3600,
        "expiration": expiration,
        "scope": "ibm openid",
    }))
    .into_response()
}
