//! Cohere v2: `/v2/chat` (whole and streamed), `/v2/embed`, `/v2/rerank`.
//!
//! Follows <https://docs.cohere.com/v2/reference/chat>, <https://docs.cohere.com/v2/docs/streaming>
//! (SSE with `event:` lines named like the data's `type`: `message-start`, `content-start`,
//! `content-delta`, `content-end`, `tool-plan-delta`, `tool-call-start`/`-delta`/`-end`,
//! `message-end` with `finish_reason` and `usage`), <https://docs.cohere.com/v2/reference/embed>
//! and <https://docs.cohere.com/v2/reference/rerank>. Errors are `{"id", "message"}`; a
//! bearer token is required. A failure mid-stream ends with a `message-end` whose
//! `finish_reason` is `ERROR` and whose `delta.error` holds the message.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Map, Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered, new_id};
use crate::faults::ErrorSpec;
use crate::openai::chat::{json_mode_content, plan_tool_calls};
use crate::openai::request::{message_characters, shape_text};
use crate::shaping::{estimate_tokens, split_even};
use crate::sse::SseWriter;

pub(crate) const MALFORMED_JSON: &[u8] = b"{\"id\": \"malformed\", \"message\": {";
pub(crate) const MALFORMED_SSE_EVENT: &[u8] =
    b"event: content-delta\ndata: {\"type\": \"content-delta\", \"delta\": {\n\n";

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/v2/chat", post(chat))
        .route("/v2/embed", post(embed))
        .route("/v2/rerank", post(rerank))
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `{"id": "<uuid>", "message": "<message>"}`.
pub(crate) fn error_body(error: &ErrorSpec) -> Bytes {
    Bytes::from(
        serde_json::to_vec(&json!({"id": uuid(), "message": error.message})).unwrap_or_default(),
    )
}

pub(crate) fn check_headers(headers: &HeaderMap) -> Result<(), ErrorSpec> {
    let ok = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .is_some_and(|key| !key.trim().is_empty());
    if ok {
        Ok(())
    } else {
        Err(ErrorSpec::new(
            StatusCode::UNAUTHORIZED,
            "no api key supplied",
            "unauthorized",
            None,
            None,
        ))
    }
}

/// The message Cohere gives for a status, as injected by `x-mock-status`.
/// Follows <https://docs.cohere.com/reference/errors>.
pub(crate) fn fault_error(status: StatusCode, model: Option<&str>) -> ErrorSpec {
    let model = model.unwrap_or("command-a-03-2025");
    let message = match status.as_u16() {
        400 => "invalid request: message must be at least 1 token long or tool results must be specified.".to_owned(),
        401 => "invalid api token".to_owned(),
        404 => format!("model '{model}' not found, make sure the correct model ID was used and that you have access to the model."),
        422 => "invalid request: unprocessable entity".to_owned(),
        429 => "You are using a Trial key, which is limited to 10 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'. Contact us on 'https://discord.gg/XW44jPfYJu' or email us at support@cohere.com with any questions".to_owned(),
        _ => "internal server error, this has been reported to our developers".to_owned(),
    };
    ErrorSpec::new(status, message, "api_error", None, None)
}

/// The `message-end` event of a stream that failed.
pub(crate) fn stream_error_event(message: Option<&str>) -> Bytes {
    let mut writer = SseWriter::with_capacity(256);
    writer.named_json(
        "message-end",
        &json!({"type": "message-end", "delta": {"finish_reason": "ERROR",
                "error": message.unwrap_or("internal server error, this has been reported to our developers")}}),
    );
    writer.finish().all()
}

fn bad_request(message: impl Into<String>) -> ErrorSpec {
    ErrorSpec::new(StatusCode::BAD_REQUEST, message, "api_error", None, None)
}

fn object(body: Option<&Value>) -> Result<&Map<String, Value>, ErrorSpec> {
    body.and_then(Value::as_object)
        .ok_or_else(|| bad_request("invalid request: body must be a JSON object"))
}

fn model(request: &Map<String, Value>) -> Result<&str, ErrorSpec> {
    request
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad_request("invalid request: model is required"))
}

fn usage(prompt: u64, completion: u64) -> Value {
    json!({"billed_units": {"input_tokens": prompt, "output_tokens": completion},
           "tokens": {"input_tokens": prompt, "output_tokens": completion}})
}

async fn chat(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::Cohere, &incoming, |request, exchange| {
        let rendered = render_chat(request.as_ref(), exchange);
        rendered.unwrap_or_else(Rendered::Error)
    })
    .await
}

fn render_chat(body: Option<&Value>, exchange: &Exchange) -> Result<Rendered, ErrorSpec> {
    let request = object(body)?;
    model(request)?;
    let messages = request
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            bad_request("invalid request: messages must contain at least one message")
        })?;
    // The shared planner reads OpenAI's names.
    let mut adapted = request.clone();
    if let Some(stops) = request.get("stop_sequences") {
        adapted.insert("stop".to_owned(), stops.clone());
    }
    if request.get("tool_choice").and_then(Value::as_str) == Some("NONE") {
        adapted.insert("tool_choice".to_owned(), json!("none"));
    }
    let prompt = exchange
        .prompt_tokens()
        .unwrap_or_else(|| estimate_tokens(message_characters(messages)).max(1));
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    let id = uuid();
    if let Some(calls) = plan_tool_calls(&adapted, messages) {
        let completion = exchange.completion_tokens().unwrap_or(10);
        let tool_calls: Vec<(String, &str, String)> = calls
            .iter()
            .map(|c| {
                (
                    format!("{}_{}", c.name, &new_id("")[..12]),
                    c.name,
                    c.arguments.clone(),
                )
            })
            .collect();
        if !stream {
            let calls: Vec<Value> = tool_calls.iter().map(|(id, name, arguments)| {
                json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
            }).collect();
            let body = json!({"id": id, "finish_reason": "TOOL_CALL",
                "message": {"role": "assistant", "tool_plan": "I will call the tools.", "tool_calls": calls},
                "usage": usage(prompt, completion)});
            return Ok(Rendered::Whole(
                serde_json::to_vec(&body).unwrap_or_default(),
            ));
        }
        let mut writer = SseWriter::with_capacity(2048);
        start_events(&mut writer, &id);
        writer.named_json("tool-plan-delta", &json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will call the tools."}}}));
        for (index, (call_id, name, arguments)) in tool_calls.iter().enumerate() {
            writer.named_json("tool-call-start", &json!({"type": "tool-call-start", "index": index,
                "delta": {"message": {"tool_calls": {"id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}}}}));
            for piece in split_even(arguments, 3) {
                writer.named_json(
                    "tool-call-delta",
                    &json!({"type": "tool-call-delta", "index": index,
                    "delta": {"message": {"tool_calls": {"function": {"arguments": piece}}}}}),
                );
            }
            writer.named_json(
                "tool-call-end",
                &json!({"type": "tool-call-end", "index": index}),
            );
        }
        writer.terminal();
        writer.named_json("message-end", &json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL", "usage": usage(prompt, completion)}}));
        return Ok(Rendered::Stream(writer.finish()));
    }
    let content = if exchange.has_content_override() {
        Cow::Borrowed(exchange.content())
    } else if let Some(json) = json_mode_content(&adapted) {
        Cow::Owned(json)
    } else {
        Cow::Borrowed(exchange.content())
    };
    let stops: Vec<&str> = request
        .get("stop_sequences")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let max_tokens = request.get("max_tokens").and_then(Value::as_u64);
    let (text, reason, completion) =
        shape_text(content, &stops, max_tokens, exchange.completion_tokens());
    let finish = match reason {
        "length" => "MAX_TOKENS",
        _ if stops
            .iter()
            .any(|s| !s.is_empty() && exchange.content().contains(s)) =>
        {
            "STOP_SEQUENCE"
        }
        _ => "COMPLETE",
    };
    if !stream {
        let body = json!({"id": id, "finish_reason": finish,
            "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
            "usage": usage(prompt, completion)});
        return Ok(Rendered::Whole(
            serde_json::to_vec(&body).unwrap_or_default(),
        ));
    }
    let mut writer = SseWriter::with_capacity(256 * (exchange.chunk_count() + 4));
    start_events(&mut writer, &id);
    writer.named_json("content-start", &json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}));
    for piece in split_even(&text, exchange.chunk_count()) {
        writer.named_json("content-delta", &json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": piece}}}}));
    }
    writer.named_json("content-end", &json!({"type": "content-end", "index": 0}));
    writer.terminal();
    writer.named_json("message-end", &json!({"type": "message-end", "delta": {"finish_reason": finish, "usage": usage(prompt, completion)}}));
    Ok(Rendered::Stream(writer.finish()))
}

fn start_events(writer: &mut SseWriter, id: &str) {
    writer.named_json("message-start", &json!({"id": id, "type": "message-start",
        "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}));
}

async fn embed(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::Cohere, &incoming, |request, exchange| {
    let rendered = (|| {
        let request = object(request.as_ref())?;
        model(request)?;
        let texts: Vec<&str> = request
            .get("texts")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .ok_or_else(|| bad_request("invalid request: texts is required"))?;
        if request.get("input_type").and_then(Value::as_str).is_none() {
            return Err(bad_request(
                "invalid request: input_type is required for embed models v3 and higher.",
            ));
        }
        let dimensions = request
            .get("output_dimension")
            .and_then(Value::as_u64)
            .map_or(exchange.embedding_dim(), |d| {
                usize::try_from(d.clamp(1, 65_536)).unwrap_or(1)
            });
        let types: Vec<String> = request
            .get("embedding_types")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_else(|| vec!["float".to_owned()]);
        let mut by_type = Map::new();
        for kind in types {
            let vectors: Vec<Value> = texts
                .iter()
                .map(|text| {
                    let vector = crate::ollama::embedding_vector(text, dimensions);
                    match kind.as_str() {
                        "float" => json!(vector),
                        #[expect(
                            clippy::cast_possible_truncation,
                            reason = "values are in [-1, 1]"
                        )]
                        _ => json!(
                            vector
                                .iter()
                                .map(|v| (v * 127.0).round() as i64)
                                .collect::<Vec<_>>()
                        ),
                    }
                })
                .collect();
            by_type.insert(kind, Value::Array(vectors));
        }
        let characters: usize = texts.iter().map(|t| t.chars().count()).sum();
        let body = json!({"id": uuid(), "embeddings": by_type, "texts": texts,
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": estimate_tokens(characters).max(1)}},
            "response_type": "embeddings_by_type"});
        Ok(Rendered::Whole(
            serde_json::to_vec(&body).unwrap_or_default(),
        ))
    })();
        rendered.unwrap_or_else(Rendered::Error)
    })
    .await
}

/// Relevance: the share of query words found in the document (deterministic, order-stable).
fn relevance(query: &str, document: &str) -> f64 {
    let document = document.to_lowercase();
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return 0.0;
    }
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let score = words
        .iter()
        .filter(|w| document.contains(w.as_str()))
        .count() as f64
        / words.len() as f64;
    (score * 0.9 + 0.05).min(1.0)
}

async fn rerank(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::Cohere, &incoming, |request, _| {
        let rendered = (|| {
            let request = object(request.as_ref())?;
            model(request)?;
            let query = request
                .get("query")
                .and_then(Value::as_str)
                .ok_or_else(|| bad_request("invalid request: query is required"))?;
            let documents = request
                .get("documents")
                .and_then(Value::as_array)
                .filter(|d| !d.is_empty())
                .ok_or_else(|| bad_request("invalid request: documents must not be empty"))?;
            let mut scored: Vec<(usize, f64)> = documents
                .iter()
                .enumerate()
                .map(|(index, document)| {
                    let text = document
                        .as_str()
                        .map_or_else(|| document.to_string(), str::to_owned);
                    (index, relevance(query, &text))
                })
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            if let Some(top) = request.get("top_n").and_then(Value::as_u64) {
                scored.truncate(usize::try_from(top).unwrap_or(usize::MAX));
            }
            let results: Vec<Value> = scored
                .iter()
                .map(|(index, score)| json!({"index": index, "relevance_score": score}))
                .collect();
            let body = json!({"results": results, "id": uuid(),
            "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}});
            Ok(Rendered::Whole(
                serde_json::to_vec(&body).unwrap_or_default(),
            ))
        })();
        rendered.unwrap_or_else(Rendered::Error)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevance_prefers_documents_with_the_query_words() {
        let query = "capital of France";
        assert!(
            relevance(query, "Paris is the capital of France")
                > relevance(query, "Berlin is in Germany")
        );
        assert!(relevance("", "anything") == 0.0);
    }

    #[test]
    fn stream_error_is_a_failed_message_end() {
        let event = stream_error_event(Some("boom"));
        let text = String::from_utf8_lossy(&event);
        assert!(text.starts_with("event: message-end\ndata: "));
        assert!(
            text.contains("\"finish_reason\":\"ERROR\"") && text.contains("\"error\":\"boom\"")
        );
    }
}
