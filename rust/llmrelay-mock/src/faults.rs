//! Per-request `x-mock-*` controls and the faults they inject (error statuses, retries, disconnects, bad bodies).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode};

use crate::MockState;

/// Status used by `x-mock-fail-times` when no `x-mock-status` is given.
const DEFAULT_FAIL_STATUS: StatusCode = StatusCode::INTERNAL_SERVER_ERROR;

/// The `x-mock-*` headers of one request. `None` means "use the server config".
#[derive(Debug, Default, Clone)]
pub(crate) struct Controls {
    pub latency_ms: Option<u64>,
    pub ttft_ms: Option<u64>,
    pub chunk_count: Option<usize>,
    pub chunk_interval_ms: Option<u64>,
    pub content: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub status: Option<StatusCode>,
    pub retry_after: Option<HeaderValue>,
    pub retry_after_ms: Option<HeaderValue>,
    pub error_message: Option<String>,
    pub error_type: Option<String>,
    pub error_code: Option<String>,
    pub fail_times: Option<u64>,
    pub fail_key: Option<String>,
    pub disconnect_after: Option<usize>,
    pub error_after: Option<usize>,
    pub malformed: bool,
    pub first_byte_delay_ms: u64,
    /// Anthropic: add a `redacted_thinking` block when thinking is enabled.
    pub redacted_thinking: bool,
    /// Anthropic: forced `usage.cache_read_input_tokens`.
    pub cache_read_tokens: Option<u64>,
    /// Anthropic: forced `usage.cache_creation_input_tokens`.
    pub cache_creation_tokens: Option<u64>,
}

impl Controls {
    /// Reads every `x-mock-*` header in one pass over the header map.
    ///
    /// An unknown `x-mock-*` name or an unparsable number is an error, so typos in tests fail loudly.
    pub fn from_headers(headers: &HeaderMap) -> Result<Controls, String> {
        let mut controls = Controls::default();
        for (name, value) in headers {
            let Some(control) = name.as_str().strip_prefix("x-mock-") else {
                continue;
            };
            match control {
                "latency-ms" => controls.latency_ms = Some(number(name.as_str(), value)?),
                "ttft-ms" => controls.ttft_ms = Some(number(name.as_str(), value)?),
                "chunk-count" => controls.chunk_count = Some(number(name.as_str(), value)?),
                "chunk-interval-ms" => {
                    controls.chunk_interval_ms = Some(number(name.as_str(), value)?)
                }
                "content" => controls.content = Some(text(value)),
                "prompt-tokens" => controls.prompt_tokens = Some(number(name.as_str(), value)?),
                "completion-tokens" => {
                    controls.completion_tokens = Some(number(name.as_str(), value)?)
                }
                "status" => {
                    let code: u16 = number(name.as_str(), value)?;
                    let status = StatusCode::from_u16(code)
                        .map_err(|_| format!("invalid status code in header `{name}`: {code}"))?;
                    controls.status = Some(status);
                }
                "retry-after" => controls.retry_after = Some(value.clone()),
                "retry-after-ms" => controls.retry_after_ms = Some(value.clone()),
                "error-message" => controls.error_message = Some(text(value)),
                "error-type" => controls.error_type = Some(text(value)),
                "error-code" => controls.error_code = Some(text(value)),
                "fail-times" => controls.fail_times = Some(number(name.as_str(), value)?),
                "fail-key" => controls.fail_key = Some(text(value)),
                "disconnect-after" => {
                    controls.disconnect_after = Some(number(name.as_str(), value)?)
                }
                "error-after" => controls.error_after = Some(number(name.as_str(), value)?),
                "malformed" => controls.malformed = flag(name.as_str(), value)?,
                "first-byte-delay-ms" => {
                    controls.first_byte_delay_ms = number(name.as_str(), value)?
                }
                "redacted-thinking" => controls.redacted_thinking = flag(name.as_str(), value)?,
                "cache-read-tokens" => {
                    controls.cache_read_tokens = Some(number(name.as_str(), value)?)
                }
                "cache-creation-tokens" => {
                    controls.cache_creation_tokens = Some(number(name.as_str(), value)?)
                }
                _ => return Err(format!("unknown mock control header `{name}`")),
            }
        }
        Ok(controls)
    }

    /// The error status this request must fail with, if any.
    ///
    /// With `x-mock-fail-times: N` only the first N requests carrying the same `x-mock-fail-key` fail.
    pub fn fault_status(&self, state: &MockState) -> Option<StatusCode> {
        let status = self
            .status
            .filter(|status| status.is_client_error() || status.is_server_error());
        match self.fail_times {
            Some(times) => {
                let earlier = state.count_attempt(self.fail_key.as_deref().unwrap_or(""));
                (earlier < times).then(|| status.unwrap_or(DEFAULT_FAIL_STATUS))
            }
            None => status,
        }
    }
}

fn text(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

fn number<T: std::str::FromStr>(name: &str, value: &HeaderValue) -> Result<T, String> {
    value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| format!("header `{name}` must be a non-negative integer"))
}

fn flag(name: &str, value: &HeaderValue) -> Result<bool, String> {
    match value.as_bytes() {
        b"1" | b"true" | b"yes" => Ok(true),
        b"0" | b"false" | b"no" => Ok(false),
        _ => Err(format!("header `{name}` must be 1/0 or true/false")),
    }
}

/// An error to render in the route's dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorSpec {
    pub status: StatusCode,
    pub message: String,
    /// The provider's error type (`type` in OpenAI's error object).
    pub kind: String,
    pub param: Option<String>,
    pub code: Option<String>,
}

impl ErrorSpec {
    pub fn new(
        status: StatusCode,
        message: impl Into<String>,
        kind: &str,
        param: Option<&str>,
        code: Option<&str>,
    ) -> ErrorSpec {
        ErrorSpec {
            status,
            message: message.into(),
            kind: kind.to_owned(),
            param: param.map(str::to_owned),
            code: code.map(str::to_owned),
        }
    }

    /// A 400 `invalid_request_error`.
    pub fn invalid_request(
        message: impl Into<String>,
        param: Option<&str>,
        code: Option<&str>,
    ) -> ErrorSpec {
        ErrorSpec::new(
            StatusCode::BAD_REQUEST,
            message,
            "invalid_request_error",
            param,
            code,
        )
    }
}

/// A body that sends `prefix` and then aborts the connection (no terminating chunk, no `[DONE]`).
pub(crate) fn aborted_body(prefix: Vec<Bytes>) -> Body {
    let items = prefix
        .into_iter()
        .map(Ok)
        .chain(std::iter::once(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "x-mock-disconnect-after",
        ))));
    Body::from_stream(futures::stream::iter(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MockConfig;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn parses_controls() {
        let controls = Controls::from_headers(&headers(&[
            ("x-mock-latency-ms", "12"),
            ("x-mock-status", "429"),
            ("x-mock-retry-after", "3"),
            ("x-mock-malformed", "1"),
            ("x-mock-content", "hello"),
            ("x-mock-redacted-thinking", "1"),
            ("x-mock-cache-read-tokens", "40"),
            ("authorization", "Bearer x"),
        ]))
        .unwrap();
        assert!(controls.redacted_thinking);
        assert_eq!(controls.cache_read_tokens, Some(40));
        assert_eq!(controls.cache_creation_tokens, None);
        assert_eq!(controls.latency_ms, Some(12));
        assert_eq!(controls.status, Some(StatusCode::TOO_MANY_REQUESTS));
        assert_eq!(controls.retry_after, Some(HeaderValue::from_static("3")));
        assert!(controls.malformed);
        assert_eq!(controls.content.as_deref(), Some("hello"));
    }

    #[test]
    fn rejects_unknown_and_bad_controls() {
        assert!(Controls::from_headers(&headers(&[("x-mock-latncy-ms", "1")])).is_err());
        assert!(Controls::from_headers(&headers(&[("x-mock-latency-ms", "soon")])).is_err());
        assert!(Controls::from_headers(&headers(&[("x-mock-status", "1000")])).is_err());
    }

    #[test]
    fn fail_times_fails_first_requests_per_key() {
        let state = MockState::new(MockConfig::default());
        let controls = Controls::from_headers(&headers(&[
            ("x-mock-fail-times", "2"),
            ("x-mock-fail-key", "k"),
            ("x-mock-status", "503"),
        ]))
        .unwrap();
        assert_eq!(
            controls.fault_status(&state),
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert_eq!(
            controls.fault_status(&state),
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert_eq!(controls.fault_status(&state), None);
        let without_status = Controls::from_headers(&headers(&[
            ("x-mock-fail-times", "1"),
            ("x-mock-fail-key", "other"),
        ]))
        .unwrap();
        assert_eq!(
            without_status.fault_status(&state),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
    }

    #[test]
    fn success_status_is_not_a_fault() {
        let state = MockState::new(MockConfig::default());
        let controls = Controls::from_headers(&headers(&[("x-mock-status", "200")])).unwrap();
        assert_eq!(controls.fault_status(&state), None);
    }
}
