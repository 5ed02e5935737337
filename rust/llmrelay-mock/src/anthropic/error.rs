//! Anthropic error bodies: the `{"type": "error", "error": {..}}` envelope, the error of each status, header checks.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

use crate::faults::ErrorSpec;
use crate::sse::SseWriter;

/// A 200 body that is not valid JSON (cut off mid-object).
pub(crate) const MALFORMED_JSON: &[u8] =
    b"{\"id\": \"msg_malformed\", \"type\": \"message\", \"role\": \"assistant\", \"content\": [{";

/// An SSE event whose data is not valid JSON.
pub(crate) const MALFORMED_SSE_EVENT: &[u8] =
    b"event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\n\n";

/// An API key (any non-blank one) and `anthropic-version` are required on every request.
///
/// The key comes in `x-api-key`, or in `Authorization: Bearer <key>`, which is how anthropic-sdk-python 2.x
/// sends it (`_api_key_auth`).
/// Follows: API reference "Messages" (headers `x-api-key` and `anthropic-version` required); the API's
/// answers without them: 401 `x-api-key header is required` / `invalid x-api-key`, 400
/// `anthropic-version: header is required`.
pub(crate) fn check_headers(headers: &HeaderMap) -> Result<(), ErrorSpec> {
    let key = match (headers.get("x-api-key"), headers.get(AUTHORIZATION)) {
        (Some(key), _) => Some(key.as_bytes()),
        (None, Some(authorization)) => {
            let value = authorization.as_bytes();
            Some(
                if value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer ") {
                    &value[7..]
                } else {
                    &[][..]
                },
            )
        }
        (None, None) => None,
    };
    match key {
        None => return Err(authentication_error("x-api-key header is required")),
        Some(key) if key.iter().all(u8::is_ascii_whitespace) => {
            return Err(authentication_error("invalid x-api-key"));
        }
        Some(_) => {}
    }
    if headers
        .get("anthropic-version")
        .is_none_or(HeaderValue::is_empty)
    {
        return Err(invalid_request("anthropic-version: header is required"));
    }
    Ok(())
}

fn authentication_error(message: &str) -> ErrorSpec {
    ErrorSpec::new(
        StatusCode::UNAUTHORIZED,
        message,
        "authentication_error",
        None,
        None,
    )
}

/// A 400 `invalid_request_error`.
pub(crate) fn invalid_request(message: impl Into<String>) -> ErrorSpec {
    ErrorSpec::invalid_request(message, None, None)
}

/// The 404 of a path the API does not serve.
pub(crate) fn not_found_error() -> ErrorSpec {
    ErrorSpec::new(
        StatusCode::NOT_FOUND,
        "Not Found",
        "not_found_error",
        None,
        None,
    )
}

/// The error Anthropic returns for a status, as injected by `x-mock-status`.
/// Follows: API reference "Errors" (HTTP errors: 400 `invalid_request_error`, 401 `authentication_error`,
/// 403 `permission_error`, 404 `not_found_error`, 413 `request_too_large`, 429 `rate_limit_error`,
/// 500 `api_error`, 529 `overloaded_error`; other 4XX use `invalid_request_error`) and anthropic-sdk-python
/// `types/shared/error_type.py` (`billing_error`, `timeout_error`).
pub(crate) fn fault_error(status: StatusCode, model: Option<&str>) -> ErrorSpec {
    let model = model.unwrap_or("claude-sonnet-4-20250514");
    let (message, kind): (Cow<'static, str>, &str) = match status.as_u16() {
        400 => ("Invalid request.".into(), "invalid_request_error"),
        401 => ("invalid x-api-key".into(), "authentication_error"),
        402 => (
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade \
             or purchase credits."
                .into(),
            "billing_error",
        ),
        403 => (
            "Your API key does not have permission to use the specified resource.".into(),
            "permission_error",
        ),
        404 => (format!("model: {model}").into(), "not_found_error"),
        408 | 504 => ("Request timed out.".into(), "timeout_error"),
        413 => (
            "Request exceeds the maximum allowed number of bytes.".into(),
            "request_too_large",
        ),
        429 => (
            "This request would exceed the rate limit for your organization (00000000-0000-4000-8000-000000000000) \
             of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You \
             can see the response headers for current usage. Please reduce the prompt length or the maximum \
             tokens requested, or try again later. You may also contact sales at \
             https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase."
                .into(),
            "rate_limit_error",
        ),
        500 => ("Internal server error".into(), "api_error"),
        529 => ("Overloaded".into(), "overloaded_error"),
        other if status.is_client_error() => (
            format!("Request failed with status {other}.").into(),
            "invalid_request_error",
        ),
        other => (
            format!("Request failed with status {other}.").into(),
            "api_error",
        ),
    };
    ErrorSpec::new(status, message, kind, None, None)
}

#[derive(Serialize)]
struct AnthropicErrorEnvelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: AnthropicErrorObject<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

#[derive(Serialize)]
struct AnthropicErrorObject<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
}

/// `{"type": "error", "error": {"type", "message"}, "request_id"}`.
/// Follows: API reference "Errors" ("Error shapes"); anthropic-sdk-python `types/shared/error_response.py`.
pub(crate) fn error_body(error: &ErrorSpec, request_id: &HeaderValue) -> Bytes {
    let envelope = AnthropicErrorEnvelope {
        kind: "error",
        error: AnthropicErrorObject {
            kind: &error.kind,
            message: &error.message,
        },
        request_id: request_id.to_str().ok(),
    };
    Bytes::from(serde_json::to_vec(&envelope).unwrap_or_default())
}

/// The `error` event Anthropic sends when a stream fails after it started (an `overloaded_error` by default).
/// Follows: "Streaming Messages" ("Error events": `event: error` with
/// `{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`).
pub(crate) fn stream_error_event(kind: Option<&str>, message: Option<&str>) -> Bytes {
    let envelope = AnthropicErrorEnvelope {
        kind: "error",
        error: AnthropicErrorObject {
            kind: kind.unwrap_or("overloaded_error"),
            message: message.unwrap_or("Overloaded"),
        },
        request_id: None,
    };
    let mut writer = SseWriter::with_capacity(128);
    writer.named_json("error", &envelope);
    writer.finish().all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_errors_use_anthropic_types() {
        for (status, kind) in [
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (403, "permission_error"),
            (404, "not_found_error"),
            (413, "request_too_large"),
            (422, "invalid_request_error"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (503, "api_error"),
            (504, "timeout_error"),
            (529, "overloaded_error"),
        ] {
            let error = fault_error(StatusCode::from_u16(status).unwrap(), Some("claude-x"));
            assert_eq!(error.kind, kind, "status {status}");
        }
        assert_eq!(
            fault_error(StatusCode::NOT_FOUND, Some("claude-x")).message,
            "model: claude-x"
        );
    }

    #[test]
    fn error_body_has_the_envelope_and_request_id() {
        let body = error_body(
            &invalid_request("max_tokens: Field required"),
            &HeaderValue::from_static("req_1"),
        );
        assert_eq!(
            &body[..],
            br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"},"request_id":"req_1"}"#
        );
        assert_eq!(
            &stream_error_event(None, None)[..],
            b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
        );
    }

    #[test]
    fn headers_need_a_key_and_a_version() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            check_headers(&headers).unwrap_err().message,
            "x-api-key header is required"
        );
        headers.insert("x-api-key", HeaderValue::from_static(" "));
        assert_eq!(
            check_headers(&headers).unwrap_err().kind,
            "authentication_error"
        );
        headers.insert("x-api-key", HeaderValue::from_static("sk-ant-test"));
        let missing_version = check_headers(&headers).unwrap_err();
        assert_eq!(missing_version.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            missing_version.message,
            "anthropic-version: header is required"
        );
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        assert!(check_headers(&headers).is_ok());

        let mut bearer = HeaderMap::new();
        bearer.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        bearer.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer sk-ant-test"),
        );
        assert!(check_headers(&bearer).is_ok());
        bearer.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(
            check_headers(&bearer).unwrap_err().message,
            "invalid x-api-key"
        );
    }
}
