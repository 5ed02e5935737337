//! Receivers of the logging integrations, recording what they got (`GET /__mock/requests`;
//! OTLP exports as raw protobuf bytes through [`MockState::otlp_exports`]). Each checks the
//! documented request shape and answers as the vendor does:
//!
//! - Langfuse ingestion, `POST /api/public/ingestion`: Basic auth, `{"batch": [{id, type,
//!   timestamp, body}]}`, answered 207 with per-event `successes` / `errors`
//!   (<https://api.reference.langfuse.com/#tag/ingestion/POST/api/public/ingestion>);
//! - Datadog logs intake, `POST /api/v2/logs`: `DD-API-KEY`, a JSON array of items with a
//!   `message`, answered 202 `{}` (403 without a key)
//!   (<https://docs.datadoghq.com/api/latest/logs/#send-logs>);
//! - LangSmith batch run ingestion, `POST /runs/batch`: `x-api-key`, `{"post": [run],
//!   "patch": [run]}`, each run with `id`, `trace_id`, `dotted_order`, `name`, `run_type`,
//!   `start_time`; answered 200 `{}` (401 without a key, 422 for a bad run)
//!   (<https://docs.langchain.com/langsmith/smith-api/run/create-runs-batch-proxy>);
//! - Sentry envelopes, `POST /api/{project}/envelope/`: `X-Sentry-Auth` with a `sentry_key`,
//!   newline-delimited JSON (envelope header, then item header + payload pairs); answered 200
//!   `{"id": event_id}` (401 without a key, 400 for a malformed envelope)
//!   (<https://develop.sentry.dev/sdk/data-model/envelopes/>);
//! - a webhook for LiteLLM's `generic_api` logger, `POST /webhook`: a JSON array of logging
//!   payloads, answered 200 (<https://docs.litellm.ai/docs/observability/generic_api>);
//! - Slack incoming webhooks, `POST /services/{team}/{bot}/{secret}` (LiteLLM's Slack alerting):
//!   `Content-Type: application/json` with a JSON object carrying a non-empty `text` string (or
//!   a non-empty `blocks` list), answered 200 with the body `ok`; a body that is not a JSON
//!   object is 400 `invalid_payload`, one without text 400 `no_text`, as Slack answers
//!   (<https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks>);
//! - OTLP/HTTP traces, `POST /v1/traces`: an `ExportTraceServiceRequest` in protobuf
//!   (`Content-Type: application/x-protobuf`), answered 200 with an empty
//!   `ExportTraceServiceResponse` (<https://opentelemetry.io/docs/specs/otlp/#otlphttp>).
//!
//! `latency_ms` in the config slows every receiver; a scripted response for a path replaces
//! its answer (a failing receiver).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming};
use crate::faults::ErrorSpec;

pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/api/public/ingestion", post(langfuse_ingestion))
        .route("/api/v2/logs", post(datadog_logs))
        .route("/runs/batch", post(langsmith_runs))
        .route("/api/{project}/envelope/", post(sentry_envelope))
        .route("/webhook", post(webhook))
        .route("/services/{team}/{bot}/{secret}", post(slack_webhook))
        .route("/v1/traces", post(otlp_traces))
}

async fn open(state: &MockState, incoming: &Incoming) -> Result<Exchange, Response> {
    Exchange::open(
        state,
        Dialect::Ollama,
        &incoming.method,
        &incoming.uri,
        &incoming.headers,
        &incoming.body,
    )
    .await
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// `public:secret` from a Basic authorization header, both non-empty.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (public, secret) = text.split_once(':')?;
    (!public.is_empty() && !secret.is_empty()).then(|| (public.to_owned(), secret.to_owned()))
}

const LANGFUSE_TYPES: &[&str] = &[
    "trace-create",
    "generation-create",
    "generation-update",
    "span-create",
    "span-update",
    "event-create",
    "score-create",
    "sdk-log",
];

async fn langfuse_ingestion(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let mut exchange = match open(&state, &incoming).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    if basic_credentials(&incoming.headers).is_none() {
        return exchange.error(ErrorSpec::new(
            StatusCode::UNAUTHORIZED,
            "Invalid credentials: Basic auth with a public and a secret key is required",
            "authentication_error",
            None,
            None,
        ));
    }
    let body = exchange.body.take();
    let Some(batch) = body
        .as_ref()
        .and_then(|b| b.get("batch"))
        .and_then(Value::as_array)
    else {
        return exchange.error(ErrorSpec::invalid_request(
            "Invalid request data: `batch` must be an array",
            Some("batch"),
            None,
        ));
    };
    let mut successes = Vec::new();
    let mut errors = Vec::new();
    for event in batch {
        let id = event.get("id").and_then(Value::as_str).unwrap_or_default();
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let valid = !id.is_empty()
            && LANGFUSE_TYPES.contains(&kind)
            && event.get("timestamp").is_some_and(Value::is_string)
            && event.get("body").is_some_and(Value::is_object);
        if valid {
            successes.push(json!({"id": id, "status": 201}));
        } else {
            errors.push(json!({"id": id, "status": 400, "message": "Invalid request data"}));
        }
    }
    let answer = json!({"successes": successes, "errors": errors});
    exchange
        .whole(StatusCode::MULTI_STATUS, json_bytes(&answer))
        .await
}

async fn datadog_logs(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let mut exchange = match open(&state, &incoming).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let key = incoming
        .headers
        .get("dd-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if key.trim().is_empty() {
        return exchange.error(ErrorSpec::new(
            StatusCode::FORBIDDEN,
            "Forbidden: a valid DD-API-KEY header is required",
            "authentication_error",
            None,
            None,
        ));
    }
    let body = exchange.body.take();
    let items = match &body {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Object(item)) => vec![Value::Object(item.clone())],
        _ => Vec::new(),
    };
    if items.is_empty()
        || items.len() > 1000
        || !items
            .iter()
            .all(|item| item.get("message").is_some_and(Value::is_string))
    {
        return exchange.error(ErrorSpec::invalid_request(
            "Bad request: a log item or an array of at most 1000 items, each with a message",
            None,
            None,
        ));
    }
    exchange
        .whole(StatusCode::ACCEPTED, json_bytes(&json!({})))
        .await
}

async fn langsmith_runs(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let mut exchange = match open(&state, &incoming).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let key = incoming
        .headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if key.trim().is_empty() {
        return exchange.error(ErrorSpec::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: an x-api-key header is required",
            "authentication_error",
            None,
            None,
        ));
    }
    let body = exchange.body.take();
    let runs: Vec<&Value> = ["post", "patch"]
        .iter()
        .filter_map(|key| {
            body.as_ref()
                .and_then(|b| b.get(*key))
                .and_then(Value::as_array)
        })
        .flatten()
        .collect();
    let valid = |run: &Value| {
        [
            "id",
            "trace_id",
            "dotted_order",
            "name",
            "run_type",
            "start_time",
        ]
        .iter()
        .all(|field| run.get(*field).is_some_and(Value::is_string))
    };
    if runs.is_empty() || !runs.iter().all(|run| valid(run)) {
        return exchange.error(ErrorSpec::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "each run needs id, trace_id, dotted_order, name, run_type and start_time",
            "validation_error",
            None,
            None,
        ));
    }
    exchange.whole(StatusCode::OK, json_bytes(&json!({}))).await
}

async fn sentry_envelope(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let exchange = match open(&state, &incoming).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let keyed = incoming
        .headers
        .get("x-sentry-auth")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("sentry_key=") && !v.contains("sentry_key=,"));
    if !keyed {
        return exchange.error(ErrorSpec::new(
            StatusCode::UNAUTHORIZED,
            "missing authorization information (sentry_key)",
            "authentication_error",
            None,
            None,
        ));
    }
    let text = String::from_utf8_lossy(&incoming.body);
    let lines: Option<Vec<Value>> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).ok())
        .collect();
    let Some(lines) = lines.filter(|l| l.len() >= 3 && l.len() % 2 == 1) else {
        return exchange.error(ErrorSpec::invalid_request(
            "a Sentry envelope: a header line, then item header and payload lines",
            None,
            None,
        ));
    };
    let id = lines[0].get("event_id").cloned().unwrap_or(Value::Null);
    exchange
        .whole(StatusCode::OK, json_bytes(&json!({"id": id})))
        .await
}

async fn webhook(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let mut exchange = match open(&state, &incoming).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    match exchange.body.take() {
        Some(Value::Array(_) | Value::Object(_)) => {
            exchange
                .whole(StatusCode::OK, json_bytes(&json!({"status": "ok"})))
                .await
        }
        _ => exchange.error(ErrorSpec::invalid_request(
            "the webhook takes a JSON array of logging payloads",
            None,
            None,
        )),
    }
}

/// Slack's answer: a status and a short plain-text reason.
fn slack_answer(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [("content-type", "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

async fn slack_webhook(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let json = incoming
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut exchange = match open(&state, &incoming).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let body = exchange.body.take();
    crate::exchange::sleep_ms(exchange.latency_ms()).await;
    let Some(Value::Object(message)) = body.filter(|_| json) else {
        return slack_answer(StatusCode::BAD_REQUEST, "invalid_payload");
    };
    let has_text = message
        .get("text")
        .and_then(Value::as_str)
        .is_some_and(|text| !text.trim().is_empty());
    let has_blocks = message
        .get("blocks")
        .and_then(Value::as_array)
        .is_some_and(|blocks| !blocks.is_empty());
    if has_text || has_blocks {
        slack_answer(StatusCode::OK, "ok")
    } else {
        slack_answer(StatusCode::BAD_REQUEST, "no_text")
    }
}

async fn otlp_traces(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let protobuf = incoming
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-protobuf"));
    let exchange = match open(&state, &incoming).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    if !protobuf {
        return exchange.error(ErrorSpec::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "OTLP/HTTP takes application/x-protobuf here",
            "invalid_request_error",
            None,
            None,
        ));
    }
    state.record_otlp(incoming.body.clone());
    crate::exchange::sleep_ms(exchange.latency_ms()).await;
    // An empty ExportTraceServiceResponse (all spans accepted) encodes as no bytes.
    (
        StatusCode::OK,
        [("content-type", "application/x-protobuf")],
        Vec::<u8>::new(),
    )
        .into_response()
}
