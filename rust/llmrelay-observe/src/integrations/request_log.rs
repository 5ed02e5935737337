//! The request log: one structured line per call (request id, key alias, team, model group,
//! deployment, status, tokens, cost, latency, time to first token, cache hit), as `key=value`
//! text or as JSON (`json_logs: true`). Lines are written by the queue's worker in batches, so
//! a call never waits on the terminal or a pipe.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use llmrelay_core::Error;
use llmrelay_core::clock::epoch_seconds;
use llmrelay_pipeline::delivery::Sink;
use llmrelay_pipeline::{Call, CallRecord, Status};

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

    /// Failures only (`LITELLM_LOG=WARNING`).
    #[must_use]
    pub fn failures_only(&self) -> bool {
        self.failures_only
    }
}

/// What one line says, taken from the call and its record when the call is accounted (the
/// logging payload is not built for it: most proxies run with the request log alone).
#[derive(Debug, Clone)]
pub struct RequestLine {
    pub request_id: Arc<str>,
    pub key_alias: Option<String>,
    pub team: Option<String>,
    pub model_group: String,
    pub deployment: Option<String>,
    pub success: bool,
    pub status_code: u16,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost: f64,
    /// Seconds from the call's start to its end.
    pub latency: f64,
    /// Seconds to the first token (streams).
    pub time_to_first_token: Option<f64>,
    pub cache_hit: bool,
    /// LiteLLM's exception class name of a failure.
    pub error: Option<&'static str>,
    /// The call's end, in seconds since the epoch.
    pub end_time: f64,
}

impl RequestLine {
    /// The line of a finished call; `redact_key_info` leaves out the key alias and team (as
    /// `redact_user_api_key_info` takes them out of the logging payload).
    #[must_use]
    pub fn new(call: &Call, record: &CallRecord, redact_key_info: bool) -> Self {
        let usage = record.usage.as_ref();
        let hidden = record.hidden.as_ref();
        let start = epoch_seconds(call.started_wall);
        let end_time = epoch_seconds(record.end_time);
        let identity = &call.identity;
        let model_group = if record.route.model_group.is_empty() {
            call.metadata()
                .and_then(|m| m.get("model_group"))
                .and_then(Value::as_str)
                .unwrap_or(&call.model_group)
                .to_owned()
        } else {
            record.route.model_group.clone()
        };
        Self {
            request_id: Arc::clone(&call.id),
            key_alias: identity.key_alias.clone().filter(|_| !redact_key_info),
            team: identity
                .team_alias
                .clone()
                .or_else(|| identity.team_id.clone())
                .filter(|_| !redact_key_info),
            model_group,
            deployment: hidden.and_then(|h| {
                h.model_id
                    .clone()
                    .or_else(|| (!h.model.is_empty()).then(|| h.model.clone()))
            }),
            success: record.status == Status::Success,
            status_code: record.error.as_ref().map_or(
                if record.status == Status::Success {
                    200
                } else {
                    500
                },
                Error::status_code,
            ),
            prompt_tokens: usage.map_or(0, |u| u.prompt_tokens),
            completion_tokens: usage.map_or(0, |u| u.completion_tokens),
            cost: record.cost.unwrap_or(0.0),
            latency: end_time - start,
            time_to_first_token: record
                .completion_start_time
                .filter(|_| record.stream)
                .map(epoch_seconds)
                .filter(|first| *first > start)
                .map(|first| first - start),
            cache_hit: record.cache_hit,
            error: record.error.as_ref().map(|e| e.kind().litellm_class()),
            end_time,
        }
    }
}

/// The fields of a line, in order; absent values are left out of text lines.
fn fields(line: &RequestLine) -> [(&'static str, Value); 15] {
    let text = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let round = |seconds: f64| (seconds * 1_000_000.0).round() / 1000.0;
    [
        ("request_id", Value::String(line.request_id.to_string())),
        ("key_alias", text(line.key_alias.as_deref())),
        ("team", text(line.team.as_deref())),
        ("model_group", Value::String(line.model_group.clone())),
        ("deployment", text(line.deployment.as_deref())),
        (
            "status",
            Value::String(if line.success { "success" } else { "failure" }.to_owned()),
        ),
        ("status_code", json!(line.status_code)),
        ("prompt_tokens", json!(line.prompt_tokens)),
        ("completion_tokens", json!(line.completion_tokens)),
        (
            "total_tokens",
            json!(line.prompt_tokens + line.completion_tokens),
        ),
        ("cost", json!(line.cost)),
        ("latency_ms", json!(round(line.latency))),
        (
            "ttft_ms",
            line.time_to_first_token
                .map_or(Value::Null, |s| json!(round(s))),
        ),
        ("cache_hit", Value::Bool(line.cache_hit)),
        ("error", text(line.error)),
    ]
}

/// One line (with its newline).
#[must_use]
pub fn line(format: RequestLogFormat, request: &RequestLine) -> String {
    let level = if request.success { "INFO" } else { "WARNING" };
    let timestamp = super::iso8601(request.end_time);
    match format {
        RequestLogFormat::Json => {
            let mut object = Map::new();
            object.insert("timestamp".to_owned(), Value::String(timestamp));
            object.insert("level".to_owned(), Value::String(level.to_owned()));
            object.insert("message".to_owned(), Value::String("request".to_owned()));
            for (key, value) in fields(request) {
                object.insert(key.to_owned(), value);
            }
            let mut line = Value::Object(object).to_string();
            line.push('\n');
            line
        }
        RequestLogFormat::Text => {
            let mut line = format!("{timestamp} {level} request");
            for (key, value) in fields(request) {
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
    type Item = RequestLine;

    fn name(&self) -> &'static str {
        "request_log"
    }

    fn deliver<'a>(&'a self, batch: &'a [RequestLine]) -> BoxFuture<'a, Result<(), String>> {
        let mut text = String::with_capacity(batch.len() * 300);
        for request in batch {
            text.push_str(&line(self.format, request));
        }
        let written = {
            let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        };
        Box::pin(async move { written.map_err(|e| e.to_string()) })
    }
}
