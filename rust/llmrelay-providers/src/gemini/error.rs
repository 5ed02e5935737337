//! Google API errors → engine errors. Envelope `{"error": {"code", "message", "status"}}`
//! (<https://cloud.google.com/apis/design/errors>; Gemini API "Troubleshooting":
//! <https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes>), classified by status
//! then message as LiteLLM's Vertex / Gemini exception mapping does. The message keeps the raw
//! body after `VertexAIException - ` / `GeminiException - ` as LiteLLM's does.

use serde_json::Value;

use llmrelay_core::error::{is_content_policy_message, is_context_window_message};
use llmrelay_core::{Error, ErrorKind};

/// Which API produced the error (only the message prefix differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoogleApi {
    Gemini,
    Vertex,
}

impl GoogleApi {
    fn prefix(self) -> &'static str {
        match self {
            GoogleApi::Gemini => "GeminiException",
            GoogleApi::Vertex => "VertexAIException",
        }
    }
}

/// The kind a Google `status` string names.
fn kind_of_status(status: &str) -> Option<ErrorKind> {
    Some(match status {
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimit,
        "UNAVAILABLE" => ErrorKind::ServiceUnavailable,
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::BadRequest,
        "PERMISSION_DENIED" => ErrorKind::PermissionDenied,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "NOT_FOUND" => ErrorKind::NotFound,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "INTERNAL" | "UNKNOWN" => ErrorKind::InternalServer,
        _ => return None,
    })
}

/// Classify an HTTP error response.
#[must_use]
pub fn parse_error(api: GoogleApi, status: u16, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body).into_owned();
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|b| b.get("error"));
    // Some endpoints wrap the error in a one-element list.
    let error = error.or_else(|| parsed.as_ref()?.get(0)?.get("error"));
    let google_status = error
        .and_then(|e| e.get("status"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or(&text);
    classify(api, status, google_status, message, &text, parsed.clone())
}

/// An `error` object sent where a response was expected (inside a stream, or a 200 body).
#[must_use]
pub fn stream_error(error: &Value) -> Error {
    stream_error_for(GoogleApi::Gemini, error)
}

/// [`stream_error`] for a given API.
#[must_use]
pub fn stream_error_for(api: GoogleApi, error: &Value) -> Error {
    let code = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(500);
    let status = error.get("status").and_then(Value::as_str).unwrap_or("");
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    let body = serde_json::json!({ "error": error });
    classify(api, code, status, message, &body.to_string(), Some(body))
}

fn classify(
    api: GoogleApi,
    status: u16,
    google_status: &str,
    message: &str,
    raw: &str,
    body: Option<Value>,
) -> Error {
    let mut kind = kind_of_status(google_status).unwrap_or_else(|| ErrorKind::from_status(status));
    if status == 429 {
        kind = ErrorKind::RateLimit;
    }
    if message.contains("Request payload size exceeds")
        || (matches!(kind, ErrorKind::BadRequest) && is_context_window_message(message))
        || message.contains("input token count")
    {
        kind = ErrorKind::ContextWindowExceeded;
    } else if message.contains("API key not valid") {
        kind = ErrorKind::Authentication;
    } else if message.contains("The response was blocked")
        || message.contains("Output blocked by content filtering policy")
        || (status < 500 && is_content_policy_message(message))
    {
        kind = ErrorKind::ContentPolicyViolation;
    } else if message.contains("The model is overloaded") && status != 503 {
        kind = ErrorKind::InternalServer;
    }
    let status = if kind == ErrorKind::from_status(status) {
        status
    } else {
        kind.default_status()
    };
    let message = format!("{} - {raw}", api.prefix());
    let error = Error::from_upstream(status, message.clone(), body);
    if error.kind() == kind {
        error
    } else {
        Error::new(kind, message).with_status(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google(code: u16, status: &str, message: &str) -> Vec<u8> {
        serde_json::to_vec(
            &serde_json::json!({"error": {"code": code, "message": message, "status": status}}),
        )
        .unwrap()
    }

    #[test]
    fn statuses_map_to_kinds() {
        let cases = [
            (
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
                ErrorKind::RateLimit,
            ),
            (
                503,
                "UNAVAILABLE",
                "The model is overloaded. Please try again later.",
                ErrorKind::ServiceUnavailable,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "Invalid JSON payload received.",
                ErrorKind::BadRequest,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
                ErrorKind::ContextWindowExceeded,
            ),
            (
                403,
                "PERMISSION_DENIED",
                "Permission denied on resource project p.",
                ErrorKind::PermissionDenied,
            ),
            (
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
                ErrorKind::Authentication,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                ErrorKind::Authentication,
            ),
            (
                404,
                "NOT_FOUND",
                "models/nope is not found for API version v1beta",
                ErrorKind::NotFound,
            ),
            (
                500,
                "INTERNAL",
                "An internal error has occurred.",
                ErrorKind::InternalServer,
            ),
        ];
        for (code, status, message, kind) in cases {
            let error = parse_error(GoogleApi::Gemini, code, &google(code, status, message));
            assert_eq!(error.kind(), kind, "{status}: {message}");
            assert!(
                error.message().starts_with("GeminiException - {"),
                "{}",
                error.message()
            );
        }
        let error = parse_error(
            GoogleApi::Vertex,
            429,
            &google(429, "RESOURCE_EXHAUSTED", "Quota exceeded"),
        );
        assert!(error.message().starts_with("VertexAIException - "));
        assert_eq!(error.status_code(), 429);
    }

    #[test]
    fn mid_stream_errors() {
        let error = stream_error(
            &serde_json::json!({"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}),
        );
        assert_eq!(error.kind(), ErrorKind::ServiceUnavailable);
        assert!(error.is_retryable());
    }
}
