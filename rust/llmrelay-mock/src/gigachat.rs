//! Sber's GigaChat, as its REST reference documents it
//! (<https://developers.sber.ru/docs/ru/gigachat/api/reference/rest/post-token>, `post-chat`,
//! `post-embeddings`):
//! - `POST /api/v2/oauth` with `Authorization: Basic <authorization key>`, an `RqUID` header
//!   and the form `scope=GIGACHAT_API_PERS|GIGACHAT_API_B2B|GIGACHAT_API_CORP` →
//!   `{"access_token", "expires_at"}` (milliseconds); the mock's tokens are
//!   `giga.<hex of the key>`;
//! - `POST /api/v1/chat/completions`: OpenAI-like, with `functions` / `function_call`; a
//!   function call is answered with `finish_reason: "function_call"` and the arguments as an
//!   object; streams are `data:` chunks with the usage on the last one, then `data: [DONE]`;
//! - `POST /api/v1/embeddings` with `{"model", "input": [...]}` → `{"object": "list", "data":
//!   [{"object": "embedding", "embedding", "index", "usage": {"prompt_tokens"}}], "model"}`;
//! - errors: `{"status", "message"}`.
//!
//! The mock serves these under `/gigachat`: GigaChat's own `/api/v1/…` paths are the base path
//! of OpenAI-compatible servers too (Lemonade), which the mock answers in OpenAI's dialect.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered};
use crate::openai::chat::{ChatPlan, render_chat_completion};
use crate::openai::embeddings::{FNV_OFFSET, fnv1a, mock_embedding};
use crate::shaping::split_even;
use crate::sse::{SseEvents, SseWriter};

const SCOPES: &[&str] = &["GIGACHAT_API_PERS", "GIGACHAT_API_B2B", "GIGACHAT_API_CORP"];
const EMBEDDING_DIMENSIONS: usize = 1024;

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/gigachat/api/v2/oauth", post(oauth))
        .route("/gigachat/api/v1/chat/completions", post(chat))
        .route("/gigachat/api/v1/embeddings", post(embeddings))
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"status": status.as_u16(), "message": message})),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> bool {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !t.trim().is_empty())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn oauth(headers: HeaderMap, body: Bytes) -> Response {
    let Some(key) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .filter(|k| !k.trim().is_empty())
    else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "Authorization error: header is incorrect",
        );
    };
    if headers.get("rquid").is_none_or(|v| v.is_empty()) {
        return refusal(StatusCode::BAD_REQUEST, "RqUID header is required");
    }
    let form = String::from_utf8_lossy(&body);
    let scope = form
        .split('&')
        .find_map(|pair| pair.strip_prefix("scope="))
        .unwrap_or_default();
    if !SCOPES.contains(&scope) {
        return refusal(StatusCode::BAD_REQUEST, "scope is invalid");
    }
    let expires_at = (crate::unix_seconds() + 1800) * 1000;
    Json(json!({
        "access_token": format!("giga.{}", hex(key.as_bytes())),
        "expires_at": expires_at,
    }))
    .into_response()
}

/// GigaChat's `functions` / `function_call` as OpenAI's `tools` / `tool_choice`, so the chat
/// plan decides the answer the same way.
fn as_openai_request(mut body: Map<String, Value>) -> Value {
    if let Some(Value::Array(functions)) = body.remove("functions") {
        let tools: Vec<Value> = functions
            .into_iter()
            .map(|function| json!({"type": "function", "function": function}))
            .collect();
        body.insert("tools".to_owned(), Value::Array(tools));
    }
    match body.remove("function_call") {
        Some(Value::Object(call)) => {
            body.insert(
                "tool_choice".to_owned(),
                json!({"type": "function", "function": {"name": call.get("name").cloned().unwrap_or(Value::Null)}}),
            );
        }
        Some(Value::String(mode)) => {
            body.insert("tool_choice".to_owned(), Value::String(mode));
        }
        _ => {}
    }
    // The plan reads OpenAI's message shapes: function results as tool messages.
    if let Some(Value::Array(messages)) = body.get_mut("messages") {
        for message in messages.iter_mut().filter_map(Value::as_object_mut) {
            if message.get("role").and_then(Value::as_str) == Some("function") {
                message.insert("role".to_owned(), "tool".into());
                message.insert("tool_call_id".to_owned(), "call".into());
            }
            message.remove("function_call");
            message.remove("functions_state_id");
            message.remove("attachments");
        }
    }
    // The answer is planned whole; the handler frames it as a stream when asked.
    body.insert("stream".to_owned(), Value::Bool(false));
    Value::Object(body)
}

/// OpenAI's answer in GigaChat's shape.
fn to_gigachat(answer: &Value) -> Value {
    let choices: Vec<Value> = answer["choices"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|choice| {
            let message = &choice["message"];
            let (content, function_call, finish) = match message["tool_calls"].as_array() {
                Some(calls) if !calls.is_empty() => {
                    let function = &calls[0]["function"];
                    let arguments: Value = function["arguments"]
                        .as_str()
                        .and_then(|a| serde_json::from_str(a).ok())
                        .unwrap_or_else(|| json!({}));
                    (
                        Value::from(""),
                        Some(json!({"name": function["name"], "arguments": arguments})),
                        "function_call",
                    )
                }
                _ => (
                    message["content"].clone(),
                    None,
                    choice["finish_reason"].as_str().unwrap_or("stop"),
                ),
            };
            let mut out = json!({"role": "assistant", "content": content});
            if let Some(call) = function_call {
                out["function_call"] = call;
                out["functions_state_id"] = Value::from(uuid::Uuid::new_v4().to_string());
            }
            json!({"message": out, "index": choice["index"], "finish_reason": finish})
        })
        .collect();
    let usage = &answer["usage"];
    json!({
        "choices": choices,
        "created": answer["created"],
        "model": answer["model"],
        "usage": {
            "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
            "precached_prompt_tokens": 0,
        },
        "object": "chat.completion",
    })
}

/// The answer as GigaChat streams it: content pieces, a function call in one piece, the usage
/// on the last chunk, then `[DONE]`.
fn to_gigachat_stream(answer: &Value, chunk_count: usize) -> SseEvents {
    let mut writer = SseWriter::with_capacity(512 * (chunk_count + 2));
    let (created, model) = (&answer["created"], &answer["model"]);
    let choice = &answer["choices"][0];
    let message = &choice["message"];
    let chunk = |delta: Value, finish: Value, usage: Option<&Value>| {
        let mut chunk = json!({
            "choices": [{"delta": delta, "index": 0, "finish_reason": finish}],
            "created": created, "model": model, "object": "chat.completion",
        });
        if let Some(usage) = usage {
            chunk["usage"] = usage.clone();
        }
        chunk
    };
    let usage = &answer["usage"];
    if let Some(call) = message.get("function_call") {
        writer.json(&chunk(
            json!({"content": "", "role": "assistant", "function_call": call}),
            "function_call".into(),
            Some(usage),
        ));
    } else {
        let content = message["content"].as_str().unwrap_or_default();
        let pieces = split_even(content, chunk_count.max(1));
        let last = pieces.len().saturating_sub(1);
        for (i, piece) in pieces.iter().enumerate() {
            let mut delta = json!({"content": piece});
            if i == 0 {
                delta["role"] = "assistant".into();
            }
            if i == last {
                writer.json(&chunk(delta, choice["finish_reason"].clone(), Some(usage)));
            } else {
                writer.json(&chunk(delta, Value::Null, None));
            }
        }
    }
    writer.done();
    writer.finish()
}

async fn chat(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    if !bearer(&incoming.headers) {
        return refusal(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |request, exchange| {
        let body = match request {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
        let request = as_openai_request(body);
        match ChatPlan::new(Some(&request), exchange) {
            Ok(plan) => {
                let whole = render_chat_completion(&plan, "", crate::unix_seconds());
                let answer: Value = serde_json::from_slice(&whole).unwrap_or(Value::Null);
                let answer = to_gigachat(&answer);
                if stream {
                    Rendered::Stream(to_gigachat_stream(&answer, exchange.chunk_count()))
                } else {
                    Rendered::Whole(serde_json::to_vec(&answer).unwrap_or_default())
                }
            }
            Err(error) => Rendered::Error(error),
        }
    })
    .await
}

async fn embeddings(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    if !bearer(&incoming.headers) {
        return refusal(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |request, _exchange| {
        let model = request
            .as_ref()
            .and_then(|b| b.get("model"))
            .and_then(Value::as_str)
            .unwrap_or("Embeddings")
            .to_owned();
        let Some(inputs) = request
            .as_ref()
            .and_then(|b| b.get("input"))
            .and_then(Value::as_array)
            .filter(|items| !items.is_empty() && items.iter().all(Value::is_string))
        else {
            return Rendered::Error(crate::faults::ErrorSpec::new(
                StatusCode::BAD_REQUEST,
                "input must be a non-empty array of strings",
                "invalid_request_error",
                None,
                None,
            ));
        };
        let data: Vec<Value> = inputs
            .iter()
            .filter_map(Value::as_str)
            .zip(0u32..)
            .map(|(text, index)| {
                let vector =
                    mock_embedding(fnv1a(FNV_OFFSET, text.as_bytes()), EMBEDDING_DIMENSIONS);
                json!({"object": "embedding", "embedding": vector, "index": index,
                       "usage": {"prompt_tokens": text.split_whitespace().count().max(1)}})
            })
            .collect();
        Rendered::Whole(
            serde_json::to_vec(&json!({"object": "list", "data": data, "model": model}))
                .unwrap_or_default(),
        )
    })
    .await
}
