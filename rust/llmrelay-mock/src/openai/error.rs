//! OpenAI error bodies: the `{"error": {..}}` shape, the error of each injected status, validation errors.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::faults::ErrorSpec;
use crate::sse::SseWriter;

/// A 200 body that is not valid JSON (cut off mid-object).
pub(crate) const MALFORMED_JSON: &[u8] =
    b"{\"id\": \"chatcmpl-malformed\", \"object\": \"chat.completion\", \"choices\": [{\"index\": 0, \"message\": {";

/// An SSE event whose data is not valid JSON.
pub(crate) const MALFORMED_SSE_EVENT: &[u8] =
    b"data: {\"id\": \"chatcmpl-malformed\", \"object\": \"chat.completion.chunk\", \"choices\": [{\"delta\": {\n\n";

/// The 401 OpenAI sends without a usable key.
/// Follows: API reference "Error codes" (401 Invalid Authentication / Incorrect API key provided).
pub(crate) fn unauthorized_error(headers: &HeaderMap) -> ErrorSpec {
    let message = if headers.contains_key(AUTHORIZATION) {
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
    } else {
        "You didn't provide an API key. You need to provide your API key in an Authorization header using \
         Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if \
         you're accessing the API from your browser and are prompted for a username and password. You can \
         obtain an API key from https://platform.openai.com/account/api-keys."
    };
    ErrorSpec::new(
        StatusCode::UNAUTHORIZED,
        message,
        "invalid_request_error",
        None,
        Some("invalid_api_key"),
    )
}

/// The error OpenAI returns for a status, as injected by `x-mock-status`.
/// Follows: API reference "Error codes" (platform.openai.com/docs/guides/error-codes).
pub(crate) fn fault_error(status: StatusCode, model: Option<&str>) -> ErrorSpec {
    let model = model.unwrap_or("gpt-4o");
    let (message, kind, code): (Cow<'static, str>, &str, Option<&str>) = match status.as_u16() {
        400 => ("Invalid request.".into(), "invalid_request_error", None),
        401 => (
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
                .into(),
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        403 => (
            "You are not allowed to perform this request.".into(),
            "permission_error",
            Some("permission_denied"),
        ),
        404 => (
            format!("The model `{model}` does not exist or you do not have access to it.").into(),
            "invalid_request_error",
            Some("model_not_found"),
        ),
        408 | 504 => ("Request timed out.".into(), "server_error", Some("timeout")),
        409 => ("Conflict.".into(), "invalid_request_error", Some("conflict")),
        413 => ("Request too large.".into(), "invalid_request_error", Some("request_too_large")),
        422 => (
            "The request was well-formed but could not be processed.".into(),
            "invalid_request_error",
            Some("unprocessable_entity"),
        ),
        429 => (
            format!(
                "Rate limit reached for {model} in organization org-llmrelaymock on requests per min (RPM): \
                 Limit 3, Used 3, Requested 1. Please try again in 20s. Visit \
                 https://platform.openai.com/account/rate-limits to learn more."
            )
            .into(),
            "requests",
            Some("rate_limit_exceeded"),
        ),
        500 => (
            "The server had an error while processing your request. Sorry about that!".into(),
            "server_error",
            None,
        ),
        502 => ("Bad gateway.".into(), "server_error", Some("bad_gateway")),
        503 => (
            "The engine is currently overloaded, please try again later.".into(),
            "server_error",
            Some("service_unavailable"),
        ),
        529 => (
            "The server is currently overloaded. Please try again later.".into(),
            "server_error",
            Some("overloaded"),
        ),
        other if status.is_client_error() => {
            (format!("Request failed with status {other}.").into(), "invalid_request_error", None)
        }
        other => (format!("Request failed with status {other}.").into(), "server_error", None),
    };
    ErrorSpec::new(status, message, kind, None, code)
}

#[derive(Serialize)]
pub(super) struct ErrorEnvelope<'a> {
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
pub(super) struct ErrorObject<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

/// `{"error": {"message", "type", "param", "code"}}`.
/// Follows: API reference "Error codes"; openai-python `APIError` (body fields message/type/param/code).
pub(crate) fn error_body(error: &ErrorSpec) -> Bytes {
    let envelope = ErrorEnvelope {
        error: ErrorObject {
            message: &error.message,
            kind: &error.kind,
            param: error.param.as_deref(),
            code: error.code.as_deref(),
        },
    };
    Bytes::from(serde_json::to_vec(&envelope).unwrap_or_default())
}

/// The event OpenAI sends when a stream fails after it started: an `error` object instead of a chunk.
/// Follows: openai-python `Stream.__stream__` (an SSE `data` with an `error` key raises `APIError`).
pub(crate) fn stream_error_event(message: Option<&str>) -> Bytes {
    let envelope = ErrorEnvelope {
        error: ErrorObject {
            message: message.unwrap_or(
                "The server had an error while processing your request. Sorry about that!",
            ),
            kind: "server_error",
            param: None,
            code: None,
        },
    };
    let mut writer = SseWriter::with_capacity(160);
    writer.json(&envelope);
    writer.finish().all()
}

/// Follows: OpenAI's 400 for a body that is not JSON.
pub(super) fn invalid_json() -> ErrorSpec {
    ErrorSpec::invalid_request(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP \
         library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you \
         have trouble figuring out how to fix this, please contact us through our help center at \
         help.openai.com.)",
        None,
        None,
    )
}

pub(super) fn missing(param: &str) -> ErrorSpec {
    ErrorSpec::invalid_request(
        format!("Missing required parameter: '{param}'."),
        Some(param),
        Some("missing_required_parameter"),
    )
}

pub(super) fn invalid_type(param: &str, expected: &str, got: &Value) -> ErrorSpec {
    ErrorSpec::invalid_request(
        format!(
            "Invalid type for '{param}': expected {expected}, but got {} instead.",
            json_type_name(got)
        ),
        Some(param),
        Some("invalid_type"),
    )
}

pub(super) fn invalid_value(param: &str, detail: &str) -> ErrorSpec {
    ErrorSpec::invalid_request(
        format!("Invalid value for '{param}': {detail}"),
        Some(param),
        Some("invalid_value"),
    )
}

pub(super) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a decimal",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_errors_fit_the_status() {
        let rate_limited = fault_error(StatusCode::TOO_MANY_REQUESTS, Some("gpt-x"));
        assert_eq!(rate_limited.kind, "requests");
        assert_eq!(rate_limited.code.as_deref(), Some("rate_limit_exceeded"));
        assert!(rate_limited.message.contains("gpt-x"));
        assert_eq!(
            fault_error(StatusCode::NOT_FOUND, None).code.as_deref(),
            Some("model_not_found")
        );
        assert_eq!(
            fault_error(StatusCode::from_u16(599).unwrap(), None).kind,
            "server_error"
        );
    }
}
