//! Anthropic error responses → engine errors, classified as LiteLLM's Anthropic exception
//! mapping does. Envelope: `{"type": "error", "error": {"type", "message"}}`
//! (<https://docs.anthropic.com/en/api/errors>).
//!
//! LiteLLM puts the raw upstream body in the message (`AnthropicException - {"type": "error", …}`),
//! and reports the status of the exception class it raises (a 413 is a 400 `BadRequestError`,
//! a 529 a 500 `InternalServerError`); both are kept here.

use serde_json::Value;

use llmrelay_core::error::is_context_window_message;
use llmrelay_core::{Error, ErrorKind};

/// Classify an error response of the Messages API.
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    classify(status, &text, parsed)
}

/// An `error` event in the middle of a stream. Anthropic sends no status with it; LiteLLM treats
/// it as a 500 and refines by message (`overloaded_error` → `InternalServerError`, "prompt is
/// too long" → `ContextWindowExceededError`, …).
#[must_use]
pub fn stream_error(message: &str, event: Value) -> Error {
    classify(500, message, Some(event))
}

fn build(kind: ErrorKind, status: u16, message: String, body: Option<Value>) -> Error {
    let error = Error::from_upstream(status, message.clone(), body);
    if error.kind() == kind {
        error
    } else {
        Error::new(kind, message).with_status(status)
    }
}

fn classify(status: u16, error_text: &str, body: Option<Value>) -> Error {
    let named = |kind: ErrorKind| {
        build(
            kind,
            kind.default_status(),
            format!("AnthropicError - {error_text}"),
            body.clone(),
        )
    };
    if error_text.contains("prompt is too long")
        || error_text.contains("prompt: length")
        || is_context_window_message(error_text)
    {
        return named(ErrorKind::ContextWindowExceeded);
    }
    if error_text.contains("overloaded_error") || error_text.contains("Overloaded") {
        return named(ErrorKind::InternalServer);
    }
    if error_text.contains("Invalid API Key") {
        return named(ErrorKind::Authentication);
    }
    if error_text.contains("content filtering policy") {
        return named(ErrorKind::ContentPolicyViolation);
    }
    if error_text.contains("Client error '400 Bad Request'") {
        return named(ErrorKind::BadRequest);
    }
    let prefixed = |suffix: &str| format!("AnthropicException - {error_text}{suffix}");
    let (kind, message) = match status {
        401 => (ErrorKind::Authentication, prefixed("")),
        403 => (ErrorKind::PermissionDenied, prefixed("")),
        400 | 413 => (ErrorKind::BadRequest, prefixed("")),
        404 => (ErrorKind::NotFound, prefixed("")),
        408 => (ErrorKind::Timeout, prefixed("")),
        429 => (ErrorKind::RateLimit, prefixed("")),
        500 | 529 => (
            ErrorKind::InternalServer,
            prefixed(". Handle with `litellm.InternalServerError`."),
        ),
        502 => (
            ErrorKind::BadGateway,
            format!("AnthropicException BadGatewayError - {error_text}"),
        ),
        503 => (
            ErrorKind::ServiceUnavailable,
            prefixed(". Handle with `litellm.ServiceUnavailableError`."),
        ),
        504 => {
            let message = format!("AnthropicException Timeout - {error_text}");
            return build(ErrorKind::Timeout, 504, message, body);
        }
        _ => return Error::from_upstream(status, prefixed(""), body),
    };
    build(kind, kind.default_status(), message, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: &str, message: &str) -> String {
        format!(r#"{{"type": "error", "error": {{"type": "{kind}", "message": "{message}"}}}}"#)
    }

    #[test]
    fn status_and_message_as_litellm_reports_them() {
        let cases = [
            (
                401,
                "authentication_error",
                "invalid x-api-key",
                ErrorKind::Authentication,
                401,
            ),
            (
                403,
                "permission_error",
                "no",
                ErrorKind::PermissionDenied,
                403,
            ),
            (404, "not_found_error", "model: x", ErrorKind::NotFound, 404),
            (
                413,
                "request_too_large",
                "too big",
                ErrorKind::BadRequest,
                400,
            ),
            (
                429,
                "rate_limit_error",
                "slow down",
                ErrorKind::RateLimit,
                429,
            ),
            (
                500,
                "api_error",
                "Internal server error",
                ErrorKind::InternalServer,
                500,
            ),
            (
                529,
                "overloaded_error",
                "Overloaded",
                ErrorKind::InternalServer,
                500,
            ),
            (
                400,
                "invalid_request_error",
                "prompt is too long: 200001 tokens > 200000 maximum",
                ErrorKind::ContextWindowExceeded,
                400,
            ),
        ];
        for (status, kind, message, expected, reported) in cases {
            let body = envelope(kind, message);
            let error = parse_error(status, body.as_bytes());
            assert_eq!(error.kind(), expected, "{status} {kind}");
            assert_eq!(error.status_code(), reported, "{status} {kind}");
            assert!(error.message().contains(&body), "{}", error.message());
        }
        let body = envelope("rate_limit_error", "slow down");
        assert_eq!(
            parse_error(429, body.as_bytes()).message(),
            format!("AnthropicException - {body}")
        );
        let body = envelope("api_error", "Internal server error");
        assert_eq!(
            parse_error(500, body.as_bytes()).message(),
            format!("AnthropicException - {body}. Handle with `litellm.InternalServerError`.")
        );
        let body = envelope("overloaded_error", "Overloaded");
        assert_eq!(
            parse_error(529, body.as_bytes()).message(),
            format!("AnthropicError - {body}")
        );
        let error = parse_error(502, b"<html>bad gateway</html>");
        assert_eq!(error.kind(), ErrorKind::BadGateway);
        assert_eq!(
            error.message(),
            "AnthropicException BadGatewayError - <html>bad gateway</html>"
        );
    }

    #[test]
    fn mid_stream_errors_are_server_errors_unless_the_message_says_otherwise() {
        let event = serde_json::json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        let error = stream_error("Overloaded", event.clone());
        assert_eq!(error.kind(), ErrorKind::InternalServer);
        assert_eq!(error.message(), "AnthropicError - Overloaded");
        let error = stream_error("slow down", event.clone());
        assert_eq!(error.kind(), ErrorKind::InternalServer);
        assert_eq!(
            error.message(),
            "AnthropicException - slow down. Handle with `litellm.InternalServerError`."
        );
        let error = stream_error("prompt is too long: 5 tokens", event);
        assert_eq!(error.kind(), ErrorKind::ContextWindowExceeded);
    }

    #[test]
    fn recorded_errors_match_litellm() {
        use crate::anthropic::fixtures;
        fixtures::check_all("resp_error_", &[], |name, case| {
            let body = fixtures::read(case["upstream_file"].as_str().unwrap());
            let status = u16::try_from(case["status"].as_u64().unwrap()).unwrap();
            let error = parse_error(status, body.as_bytes());
            fixtures::assert_error(name, &case["expected_error"], &error);
        });
    }
}
