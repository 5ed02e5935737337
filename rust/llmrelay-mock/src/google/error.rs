//! Google error bodies (`{"error": {"code", "message", "status"}}`, <https://cloud.google.com/apis/design/errors>)
//! and the credential checks of the Gemini API (`x-goog-api-key`) and Vertex AI (`Authorization: Bearer`).

use axum::body::Bytes;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use serde_json::json;

use crate::faults::ErrorSpec;
use crate::sse::SseWriter;

/// A 200 body that is not valid JSON (cut off mid-object).
pub(crate) const MALFORMED_JSON: &[u8] = b"{\"candidates\": [{\"content\": {\"parts\": [{";

/// An SSE event whose data is not valid JSON.
pub(crate) const MALFORMED_SSE_EVENT: &[u8] = b"data: {\"candidates\": [{\"content\": {\n\n";

/// The canonical Google status string of an HTTP status.
/// Follows: "Errors" design guide, table of `google.rpc.Code` ↔ HTTP mappings.
pub(crate) fn status_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// A Google error with the canonical status name of `status`.
pub(crate) fn google_error(status: StatusCode, message: impl Into<String>) -> ErrorSpec {
    ErrorSpec::new(status, message, status_name(status), None, None)
}

pub(crate) fn invalid_argument(message: impl Into<String>) -> ErrorSpec {
    google_error(StatusCode::BAD_REQUEST, message)
}

/// The error an injected fault status produces, with the message Gemini sends for it.
/// Follows: Gemini API "Troubleshooting" (error codes table).
pub(crate) fn fault_error(status: StatusCode, _model: Option<&str>) -> ErrorSpec {
    let message = match status.as_u16() {
        400 => "Request contains an invalid argument.",
        401 => {
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
        }
        403 => "The caller does not have permission",
        404 => "Requested entity was not found.",
        429 => "Resource has been exhausted (e.g. check quota).",
        503 => "The model is overloaded. Please try again later.",
        504 => "Deadline expired before operation could complete.",
        _ => {
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
        }
    };
    google_error(status, message)
}

/// `{"error": {"code", "message", "status"}}`; `x-mock-error-type` replaces `status`.
pub(crate) fn error_body(error: &ErrorSpec) -> Bytes {
    let body = json!({"error": {
        "code": error.status.as_u16(),
        "message": error.message,
        "status": error.kind,
    }});
    Bytes::from(serde_json::to_vec_pretty(&body).unwrap_or_default())
}

/// A failure in the middle of a stream: a `data:` event holding the error object.
pub(crate) fn stream_error_event(kind: Option<&str>, message: Option<&str>) -> Bytes {
    let status = kind.unwrap_or("INTERNAL");
    let code = match status {
        "RESOURCE_EXHAUSTED" => 429,
        "UNAVAILABLE" => 503,
        "INVALID_ARGUMENT" => 400,
        _ => 500,
    };
    let mut writer = SseWriter::with_capacity(160);
    writer.json(&json!({"error": {
        "code": code,
        "message": message.unwrap_or("An internal error has occurred."),
        "status": status,
    }}));
    writer.finish().all()
}

/// The Gemini API takes its key in `x-goog-api-key` (or `?key=`, not emulated).
/// Follows: Gemini API reference "API keys" (the `x-goog-api-key` header).
pub(crate) fn check_api_key(headers: &HeaderMap) -> Result<(), ErrorSpec> {
    match headers.get("x-goog-api-key").map(|v| v.as_bytes()) {
        Some(key) if !key.iter().all(u8::is_ascii_whitespace) => Ok(()),
        Some(_) => Err(invalid_argument(
            "API key not valid. Please pass a valid API key.",
        )),
        None => Err(ErrorSpec::new(
            StatusCode::FORBIDDEN,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            "PERMISSION_DENIED",
            None,
            None,
        )),
    }
}

/// The bearer token of a Vertex request; whether the mock issued it is checked by the handler.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    (!token.trim().is_empty()).then_some(token)
}

/// Vertex rejects calls without OAuth credentials.
pub(crate) fn check_bearer(headers: &HeaderMap) -> Result<(), ErrorSpec> {
    bearer(headers).map(|_| ()).ok_or_else(unauthenticated)
}

pub(crate) fn unauthenticated() -> ErrorSpec {
    google_error(
        StatusCode::UNAUTHORIZED,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    )
}
