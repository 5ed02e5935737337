//! Ollama's native API: `/api/chat`, `/api/generate`, `/api/embed`, NDJSON streams.
//!
//! Follows <https://github.com/ollama/ollama/blob/main/docs/api.md>: requests stream unless
//! `"stream": false`; every line is a JSON object, the last one has `"done": true`,
//! `done_reason` and the counts (`prompt_eval_count`, `eval_count`); errors are
//! `{"error": "<message>"}` (also as a line mid-stream). Tool calls arrive whole with
//! arguments as objects; `format` (`"json"` or a schema) shapes the answer; `options.stop` and
//! `options.num_predict` cut it.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Map, Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered};
use crate::faults::ErrorSpec;
use crate::openai::chat::{json_mode_content, plan_tool_calls};
use crate::openai::request::{message_characters, shape_text, stop_sequences};
use crate::shaping::{estimate_tokens, split_even};
use crate::sse::SseWriter;

pub(crate) const MALFORMED_JSON: &[u8] = b"{\"model\": \"llama3.2\", \"message\": {";
pub(crate) const MALFORMED_LINE: &[u8] = b"{\"model\": \"llama3.2\", \"message\": {\n";
pub(crate) const NDJSON: HeaderValue = HeaderValue::from_static("application/x-ndjson");

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/api/chat", post(chat))
        .route("/api/generate", post(generate))
        .route("/api/embed", post(embed))
}

/// `{"error": "<message>"}`.
pub(crate) fn error_body(error: &ErrorSpec) -> Bytes {
    Bytes::from(serde_json::to_vec(&json!({"error": error.message})).unwrap_or_default())
}

/// The error line a failing model sends mid-stream.
pub(crate) fn stream_error_event(message: Option<&str>) -> Bytes {
    let message =
        message.unwrap_or("an error was encountered while running the model: unexpected EOF");
    let mut line = serde_json::to_vec(&json!({"error": message})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// The message Ollama gives for a status, as injected by `x-mock-status`.
pub(crate) fn fault_error(status: StatusCode, model: Option<&str>) -> ErrorSpec {
    let model = model.unwrap_or("llama3.2");
    let message = match status.as_u16() {
        400 => "invalid request".to_owned(),
        401 => "unauthorized".to_owned(),
        404 => format!("model \"{model}\" not found, try pulling it first"),
        429 => "too many requests".to_owned(),
        503 => "server busy, please try again.  maximum pending requests exceeded".to_owned(),
        _ => "an error was encountered while running the model".to_owned(),
    };
    ErrorSpec::new(status, message, "api_error", None, None)
}

fn bad_request(message: impl Into<String>) -> ErrorSpec {
    ErrorSpec::new(StatusCode::BAD_REQUEST, message, "api_error", None, None)
}

fn request_object(body: Option<&Value>) -> Result<&Map<String, Value>, ErrorSpec> {
    body.and_then(Value::as_object)
        .ok_or_else(|| bad_request("unexpected EOF"))
}

fn model(request: &Map<String, Value>) -> Result<&str, ErrorSpec> {
    request
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad_request("model is required"))
}

fn streams(request: &Map<String, Value>) -> bool {
    request.get("stream").and_then(Value::as_bool) != Some(false)
}

/// Ollama's `format` as the OpenAI `response_format` the shared planner reads.
fn as_response_format(request: &Map<String, Value>) -> Map<String, Value> {
    let mut adapted = request.clone();
    match request.get("format") {
        Some(Value::String(format)) if format == "json" => {
            adapted.insert("response_format".to_owned(), json!({"type": "json_object"}));
        }
        Some(schema @ Value::Object(_)) => {
            adapted.insert(
                "response_format".to_owned(),
                json!({"type": "json_schema", "json_schema": {"schema": schema}}),
            );
        }
        _ => {}
    }
    if let Some(stop) = request.get("options").and_then(|o| o.get("stop")) {
        adapted.insert("stop".to_owned(), stop.clone());
    }
    adapted
}

struct Answer {
    text: String,
    tool_calls: Vec<Value>,
    done_reason: &'static str,
    prompt_tokens: u64,
    completion_tokens: u64,
}

fn answer(
    request: &Map<String, Value>,
    messages: &[Value],
    prompt_characters: usize,
    exchange: &Exchange,
) -> Answer {
    let adapted = as_response_format(request);
    let prompt_tokens = exchange
        .prompt_tokens()
        .unwrap_or_else(|| estimate_tokens(prompt_characters).max(1));
    if let Some(calls) = plan_tool_calls(&adapted, messages) {
        let tool_calls: Vec<Value> = calls
            .iter()
            .map(|call| {
                let arguments: Value =
                    serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
                json!({"function": {"name": call.name, "arguments": arguments}})
            })
            .collect();
        let tokens = exchange.completion_tokens().unwrap_or(10);
        return Answer {
            text: String::new(),
            tool_calls,
            done_reason: "stop",
            prompt_tokens,
            completion_tokens: tokens,
        };
    }
    let content = if exchange.has_content_override() {
        Cow::Borrowed(exchange.content())
    } else if let Some(json) = json_mode_content(&adapted) {
        Cow::Owned(json)
    } else {
        Cow::Borrowed(exchange.content())
    };
    let max_tokens = request
        .get("options")
        .and_then(|o| o.get("num_predict"))
        .and_then(Value::as_u64);
    let (text, reason, tokens) = shape_text(
        content,
        &stop_sequences(&adapted),
        max_tokens,
        exchange.completion_tokens(),
    );
    Answer {
        text: text.into_owned(),
        tool_calls: Vec::new(),
        done_reason: reason,
        prompt_tokens,
        completion_tokens: tokens,
    }
}

/// Now in RFC 3339 (UTC), as Ollama's `created_at`.
pub(crate) fn created_at() -> String {
    let seconds = crate::unix_seconds();
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rest = seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn final_fields(line: &mut Value, answer: &Answer) {
    line["done"] = Value::Bool(true);
    line["done_reason"] = Value::from(answer.done_reason);
    line["total_duration"] = Value::from(1_000_000_u64);
    line["load_duration"] = Value::from(1_000_u64);
    line["prompt_eval_count"] = Value::from(answer.prompt_tokens);
    line["prompt_eval_duration"] = Value::from(100_000_u64);
    line["eval_count"] = Value::from(answer.completion_tokens);
    line["eval_duration"] = Value::from(800_000_u64);
}

/// `field` is `message` (chat) or `response` (generate).
fn render(model: &str, answer: &Answer, stream: bool, chunks: usize, chat: bool) -> Rendered {
    let piece = |text: &str, calls: Option<&[Value]>| -> Value {
        if chat {
            let mut message = json!({"role": "assistant", "content": text});
            if let Some(calls) = calls {
                message["tool_calls"] = Value::Array(calls.to_vec());
            }
            json!({"model": model, "created_at": created_at(), "message": message, "done": false})
        } else {
            json!({"model": model, "created_at": created_at(), "response": text, "done": false})
        }
    };
    if !stream {
        let mut whole = piece(
            &answer.text,
            (!answer.tool_calls.is_empty()).then_some(answer.tool_calls.as_slice()),
        );
        final_fields(&mut whole, answer);
        return Rendered::Whole(serde_json::to_vec(&whole).unwrap_or_default());
    }
    let mut writer = SseWriter::with_capacity(256 * (chunks + 2));
    if answer.tool_calls.is_empty() {
        for text in split_even(&answer.text, chunks) {
            writer.line_json(&piece(text, None));
        }
    } else {
        for call in &answer.tool_calls {
            writer.line_json(&piece("", Some(std::slice::from_ref(call))));
        }
    }
    writer.terminal();
    let mut last = piece("", None);
    final_fields(&mut last, answer);
    writer.line_json(&last);
    Rendered::Stream(writer.finish())
}

async fn chat(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::Ollama, &incoming, |request, exchange| {
        let rendered = (|| {
            let request = request_object(request.as_ref())?;
            let model = model(request)?;
            let messages = request
                .get("messages")
                .and_then(Value::as_array)
                .ok_or_else(|| bad_request("messages is required"))?;
            let answer = answer(request, messages, message_characters(messages), exchange);
            Ok::<Rendered, ErrorSpec>(render(
                model,
                &answer,
                streams(request),
                exchange.chunk_count(),
                true,
            ))
        })();
        rendered.unwrap_or_else(Rendered::Error)
    })
    .await
}

async fn generate(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::Ollama, &incoming, |request, exchange| {
        let rendered = (|| {
            let request = request_object(request.as_ref())?;
            let model = model(request)?;
            let prompt = request
                .get("prompt")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let answer = answer(request, &[], prompt.chars().count(), exchange);
            Ok::<Rendered, ErrorSpec>(render(
                model,
                &answer,
                streams(request),
                exchange.chunk_count(),
                false,
            ))
        })();
        rendered.unwrap_or_else(Rendered::Error)
    })
    .await
}

/// Deterministic unit-length vector for a text.
fn vector(text: &str, dimensions: usize) -> Vec<f64> {
    let seed = text.bytes().fold(17_u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    let raw: Vec<f64> = (0..dimensions)
        .map(|i| {
            let mixed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add((i as u64).wrapping_mul(1_442_695_040_888_963_407));
            ((mixed >> 11) as f64 / (1_u64 << 53) as f64) - 0.5
        })
        .collect();
    let norm = raw
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(f64::EPSILON);
    raw.into_iter().map(|v| v / norm).collect()
}

pub(crate) fn embedding_vector(text: &str, dimensions: usize) -> Vec<f64> {
    vector(text, dimensions)
}

async fn embed(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::Ollama, &incoming, |request, exchange| {
    let rendered = (|| {
        let request = request_object(request.as_ref())?;
        let model = model(request)?;
        let inputs: Vec<&str> = match request.get("input") {
            Some(Value::String(text)) => vec![text.as_str()],
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                items.iter().filter_map(Value::as_str).collect()
            }
            _ => return Err(bad_request("invalid input type")),
        };
        let dimensions = request
            .get("dimensions")
            .and_then(Value::as_u64)
            .map_or(exchange.embedding_dim(), |d| {
                usize::try_from(d.clamp(1, 65_536)).unwrap_or(1)
            });
        let embeddings: Vec<Vec<f64>> =
            inputs.iter().map(|text| vector(text, dimensions)).collect();
        let characters: usize = inputs.iter().map(|t| t.chars().count()).sum();
        let body = json!({"model": model, "embeddings": embeddings, "total_duration": 1_000_000,
                          "load_duration": 1_000, "prompt_eval_count": estimate_tokens(characters).max(1)});
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
    fn created_at_is_rfc3339() {
        let stamp = created_at();
        assert_eq!(stamp.len(), 20, "{stamp}");
        assert!(stamp.starts_with("20") && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T');
    }

    #[test]
    fn vectors_are_deterministic_unit_vectors() {
        let a = vector("hello", 16);
        assert_eq!(a, vector("hello", 16));
        assert_ne!(a, vector("world", 16));
        let norm: f64 = a.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-9);
    }

    #[test]
    fn format_becomes_a_response_format() {
        let request: Map<String, Value> = serde_json::from_value(
            json!({"format": {"type": "object"}, "options": {"stop": ["x"]}}),
        )
        .unwrap();
        let adapted = as_response_format(&request);
        assert_eq!(adapted["response_format"]["type"], "json_schema");
        assert_eq!(adapted["stop"], json!(["x"]));
    }
}
