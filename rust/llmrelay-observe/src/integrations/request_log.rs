//! The request log: one structured line per call (request id, key alias, team, model group,
//! deployment, status, tokens, cost, latency, time to first token, cache hit), as `key=value`
//! text or as JSON (`json_logs: true`). Lines are written by the queue's worker in batches, so
//! a call never waits on the terminal or a pipe.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use llmrelay_pipeline::delivery::Sink;

use crate::Event;
use crate::settings::RequestLogFormat;

pub struct RequestLog {
    format: RequestLogFormat,
    /// Failures only (`LITELLM_LOG=WARNING`).
    failures_only: bool,
    out: Mutex<Box<dyn Write + Send>>,
}

impl RequestLog {
    #[must_use]
    pub fn new(format: RequestLogFormat, failures_only: bool, out: Box<dyn Write + Send>) -> Self {
        Self {
            format,
            failures_only,
            out: Mutex::new(out),
        }
    }

    /// Lines to stderr.
    #[must_use]
    pub fn stderr(format: RequestLogFormat, failures_only: bool) -> Self {
        Self::new(format, failures_only, Box::new(std::io::stderr()))
    }

    /// Whether the line of `event` is written at all.
    #[must_use]
    pub fn wants(&self, event: &Event) -> bool {
        !self.failures_only || !event.is_success()
    }
}

/// The fields of a line, in order; absent values are left out of text lines.
fn fields(event: &Event) -> Vec<(&'static str, Value)> {
    let payload = &event.payload;
    let text = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let round = |seconds: f64| (seconds * 1_000_000.0).round() / 1000.0;
    vec![
        ("request_id", Value::String(payload.id.clone())),
        ("key_alias", text(event.metadata_str("user_api_key_alias"))),
        (
            "team",
            text(
                event
                    .metadata_str("user_api_key_team_alias")
                    .or(event.metadata_str("user_api_key_team_id")),
            ),
        ),
        (
            "model_group",
            text(
                payload
                    .model_group
                    .as_deref()
                    .or(Some(payload.model.as_str())),
            ),
        ),
        ("deployment", text(event.deployment())),
        ("status", Value::String(payload.status.to_owned())),
        ("status_code", json!(event.status_code())),
        ("prompt_tokens", json!(payload.prompt_tokens)),
        ("completion_tokens", json!(payload.completion_tokens)),
        ("total_tokens", json!(payload.total_tokens)),
        ("cost", json!(payload.response_cost)),
        ("latency_ms", json!(round(payload.response_time))),
        (
            "ttft_ms",
            event
                .time_to_first_token()
                .map_or(Value::Null, |s| json!(round(s))),
        ),
        ("cache_hit", Value::Bool(payload.cache_hit)),
        (
            "error",
            payload
                .error_information
                .as_ref()
                .map_or(Value::Null, |e| Value::String(e.error_class.clone())),
        ),
    ]
}

/// One line (with its newline).
#[must_use]
pub fn line(format: RequestLogFormat, event: &Event) -> String {
    let level = if event.is_success() {
        "INFO"
    } else {
        "WARNING"
    };
    let timestamp = super::iso8601(event.payload.end_time);
    match format {
        RequestLogFormat::Json => {
            let mut object = Map::new();
            object.insert("timestamp".to_owned(), Value::String(timestamp));
            object.insert("level".to_owned(), Value::String(level.to_owned()));
            object.insert("message".to_owned(), Value::String("request".to_owned()));
            for (key, value) in fields(event) {
                object.insert(key.to_owned(), value);
            }
            let mut line = Value::Object(object).to_string();
            line.push('\n');
            line
        }
        RequestLogFormat::Text => {
            let mut line = format!("{timestamp} {level} request");
            for (key, value) in fields(event) {
                match value {
                    Value::Null => {}
                    Value::String(text) if text.is_empty() || text.contains([' ', '"', '=']) => {
                        let _ = write!(line, " {key}={}", Value::String(text));
                    }
                    Value::String(text) => {
                        let _ = write!(line, " {key}={text}");
                    }
                    other => {
                        let _ = write!(line, " {key}={other}");
                    }
                }
            }
            line.push('\n');
            line
        }
    }
}

impl Sink for RequestLog {
    type Item = Arc<Event>;

    fn name(&self) -> &'static str {
        "request_log"
    }

    fn deliver<'a>(&'a self, batch: &'a [Arc<Event>]) -> BoxFuture<'a, Result<(), String>> {
        let mut text = String::with_capacity(batch.len() * 300);
        for event in batch {
            text.push_str(&line(self.format, event));
        }
        let written = {
            let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        };
        Box::pin(async move { written.map_err(|e| e.to_string()) })
    }
}
