//! Remote guardrail APIs through one client: the process's pooled HTTP client, a per-guardrail
//! timeout, errors mapped to one type, and LiteLLM's `fail_on_error` / `unreachable_fallback`.

pub(crate) mod bedrock;
pub(crate) mod generic_api;
pub(crate) mod lakera;
pub(crate) mod openai_moderation;
pub(crate) mod presidio;

use std::time::Duration;

use serde_json::Value;

use crate::config::{EventHook, GuardrailSpec, UnreachableFallback};
use crate::error::GuardrailError;
use crate::guardrail::{HookOutcome, StreamMode};
use crate::info::{Findings, GuardrailStatus};

/// Timeout of a guardrail API call when `timeout` is not configured.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a guardrail API call did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RemoteError {
    /// Connection refused, DNS, timeout, or a 502/503/504 from a proxy in front.
    #[error("{0}")]
    Unreachable(String),
    /// Another non-2xx answer.
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    /// A 2xx answer that is not the JSON expected.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
}

impl RemoteError {
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }
}

/// The calls of one remote guardrail.
#[derive(Debug, Clone)]
pub(crate) struct RemoteClient {
    timeout: Duration,
}

fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl RemoteClient {
    pub(crate) fn new(spec: &GuardrailSpec) -> Self {
        Self {
            timeout: spec.timeout.unwrap_or(DEFAULT_TIMEOUT),
        }
    }

    /// POSTs JSON and reads a JSON answer, within the timeout.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Value, RemoteError> {
        let client = llmrelay_providers::http::client();
        let mut request = client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let exchange = async {
            let response = request
                .send()
                .await
                .map_err(|error| RemoteError::Unreachable(describe(&error)))?;
            let status = response.status().as_u16();
            let bytes = response
                .bytes()
                .await
                .map_err(|error| RemoteError::Unreachable(describe(&error)))?;
            Ok::<_, RemoteError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                RemoteError::Unreachable(format!(
                    "timed out after {:.1} s",
                    self.timeout.as_secs_f64()
                ))
            })??;
        if !(200..300).contains(&status) {
            let text = truncate(&String::from_utf8_lossy(&bytes), 300);
            return Err(if matches!(status, 502..=504) {
                RemoteError::Unreachable(format!("HTTP {status}: {text}"))
            } else {
                RemoteError::Status { status, body: text }
            });
        }
        serde_json::from_slice(&bytes)
            .map_err(|error| RemoteError::InvalidResponse(error.to_string()))
    }
}

fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What a remote guardrail does when its API failed: proceed (`fail_on_error: false`, or
/// `unreachable_fallback: fail_open` for an unreachable endpoint) with the failure recorded, or
/// fail the call (`<what> failed: …`, HTTP 500, as LiteLLM raises it).
pub(crate) fn on_remote_error(
    spec: &GuardrailSpec,
    name: &str,
    hook: EventHook,
    what: &str,
    error: &RemoteError,
) -> Result<HookOutcome, GuardrailError> {
    let fail_open = !spec.fail_on_error
        || (error.is_unreachable() && spec.unreachable_fallback == UnreachableFallback::FailOpen);
    let message = format!("{what} failed: {error}");
    if fail_open {
        let findings = Findings {
            status: GuardrailStatus::GuardrailFailedToRespond,
            response: Some(Value::from(message)),
            ..Findings::default()
        };
        return Ok(HookOutcome::with_findings(findings));
    }
    Err(GuardrailError::failure(name, hook, message))
}

/// How remote guardrails treat streams: hold the whole answer until it was checked (default;
/// nothing reaches the client before the verdict), or check it at the end
/// (`streaming_buffer_until_moderated: false` / `streaming_end_of_stream_only: true`).
pub(crate) fn stream_mode_of(spec: &GuardrailSpec) -> StreamMode {
    let buffered = spec
        .options
        .get("streaming_buffer_until_moderated")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let end_only = spec
        .options
        .get("streaming_end_of_stream_only")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !buffered || end_only {
        StreamMode::CheckAtEnd
    } else {
        StreamMode::HoldAll
    }
}

/// Stream options every remote guardrail accepts (read by [`stream_mode_of`]).
pub(crate) const STREAM_KEYS: [&str; 4] = [
    "streaming_buffer_until_moderated",
    "streaming_end_of_stream_only",
    "streaming_sampling_rate",
    "streaming_buffer_release_on_scan",
];

/// The API key: configured, else the environment variable.
pub(crate) fn key_or_env(spec: &GuardrailSpec, variable: &str) -> Option<String> {
    spec.api_key.clone().or_else(|| {
        std::env::var(variable)
            .ok()
            .filter(|value| !value.is_empty())
    })
}

/// Warns about options a remote guardrail does not read.
pub(crate) fn warn_unknown(spec: &GuardrailSpec, known: &[&str], warnings: &mut Vec<String>) {
    for key in spec.options.keys() {
        if !known.contains(&key.as_str()) && !STREAM_KEYS.contains(&key.as_str()) {
            warnings.push(format!(
                "{}: not an option of {}; ignored",
                spec.field_path(key),
                spec.kind.as_str()
            ));
        }
    }
}

/// Converts a character offset (as Python services report them) to a byte offset.
pub(crate) fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_truncation() {
        assert_eq!(byte_offset("héllo", 2), 3);
        assert_eq!(byte_offset("abc", 10), 3);
        assert_eq!(truncate("ééé", 3), "é…");
    }
}
