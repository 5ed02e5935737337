//! Bedrock error responses and mid-stream exception frames → engine errors, classified as
//! LiteLLM's `_map_bedrock_exception` does: message text first (context window, credentials,
//! throttling, timeouts), then the HTTP status (a 500 is a `ServiceUnavailableError` there).
//!
//! AWS names the exception in the `x-amzn-ErrorType` header (`ThrottlingException:http://…`)
//! or a `__type` body field; the body is `{"message": "…"}`
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors>).

use serde_json::Value;

use llmrelay_core::error::is_content_policy_message;
use llmrelay_core::{Error, ErrorKind};

/// Context-window phrases LiteLLM looks for in Bedrock errors.
const CONTEXT_WINDOW_PHRASES: &[&str] = &[
    "too many tokens",
    "expected maxLength:",
    "Input is too long",
    "prompt is too long",
    "prompt: length: 1..",
    "Too many input tokens",
];

/// The exception type named by a response: header first, then `__type` in the body.
#[must_use]
pub fn exception_type(headers: &[(String, String)], body: Option<&Value>) -> Option<String> {
    let raw = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amzn-errortype"))
        .map(|(_, value)| value.clone())
        .or_else(|| {
            body.and_then(|b| b.get("__type"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })?;
    // `ThrottlingException:http://internal.amazon.com/…` or `com.amazon…#ThrottlingException`.
    let name = raw.split(':').next().unwrap_or(&raw);
    let name = name.rsplit('#').next().unwrap_or(name);
    Some(name.to_owned())
}

/// The status AWS models for each ConverseStream exception member (botocore's
/// `ConverseStreamOutput` shape), which LiteLLM reports for a mid-stream failure.
#[must_use]
pub fn stream_exception_status(kind: &str) -> u16 {
    match kind.to_ascii_lowercase().as_str() {
        "throttlingexception" => 429,
        "validationexception" => 400,
        "servicenavailableexception" | "serviceunavailableexception" => 503,
        "modelstreamerrorexception" => 424,
        _ => 500,
    }
}

/// Classify an HTTP error response.
#[must_use]
pub fn parse_error(status: u16, headers: &[(String, String)], body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body).into_owned();
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let kind = exception_type(headers, parsed.as_ref());
    classify(status, kind.as_deref(), &text, parsed)
}

/// An exception frame in the middle of a ConverseStream (`kind` is `:exception-type`).
#[must_use]
pub fn stream_error(kind: &str, data: &str) -> Error {
    let parsed: Option<Value> = serde_json::from_str(data).ok();
    let text = format!("{kind} {data}");
    classify(stream_exception_status(kind), Some(kind), &text, parsed)
}

fn build(kind: ErrorKind, status: u16, message: String, body: Option<Value>) -> Error {
    let error = Error::from_upstream(status, message.clone(), body);
    if error.kind() == kind {
        error
    } else {
        Error::new(kind, message).with_status(status)
    }
}

fn classify(status: u16, exception: Option<&str>, text: &str, body: Option<Value>) -> Error {
    let exception = exception.unwrap_or_default();
    let is = |name: &str| exception.eq_ignore_ascii_case(name);
    let named = |kind: ErrorKind, message: String| {
        build(kind, kind.default_status(), message, body.clone())
    };
    if CONTEXT_WINDOW_PHRASES.iter().any(|p| text.contains(p)) {
        return named(
            ErrorKind::ContextWindowExceeded,
            format!("BedrockException: Context Window Error - {text}"),
        );
    }
    if text.contains("Unable to locate credentials")
        || text.contains("The security token included in the request is invalid")
        || text.contains("The request signature we calculated does not match")
        || is("UnrecognizedClientException")
        || is("InvalidSignatureException")
    {
        return named(
            ErrorKind::Authentication,
            format!("BedrockException Invalid Authentication - {text}"),
        );
    }
    if text.contains("AccessDeniedException") || is("AccessDeniedException") {
        return named(
            ErrorKind::PermissionDenied,
            format!("BedrockException PermissionDeniedError - {text}"),
        );
    }
    if text.contains("throttlingException")
        || text.contains("ThrottlingException")
        || is("ThrottlingException")
    {
        return named(
            ErrorKind::RateLimit,
            format!("BedrockException: Rate Limit Error - {text}"),
        );
    }
    if text.contains("timed out") || is("ModelTimeoutException") {
        return named(
            ErrorKind::Timeout,
            format!("BedrockException: Timeout Error - {text}"),
        );
    }
    if text.contains("Could not process image") {
        return named(
            ErrorKind::InternalServer,
            format!("BedrockException - {text}"),
        );
    }
    let message = format!("BedrockException - {text}");
    let kind = match status {
        400 | 422 if is_content_policy_message(text) => ErrorKind::ContentPolicyViolation,
        400 | 422 => ErrorKind::BadRequest,
        401 => ErrorKind::Authentication,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimit,
        // LiteLLM raises ServiceUnavailableError for Bedrock's 500s.
        500 | 503 => ErrorKind::ServiceUnavailable,
        _ => return Error::from_upstream(status, message, body),
    };
    let reported = if status == 500 {
        kind.default_status()
    } else {
        status
    };
    build(kind, reported, message, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: &str) -> Vec<(String, String)> {
        vec![(
            "x-amzn-ErrorType".to_owned(),
            format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        )]
    }

    #[test]
    fn http_errors_map_to_litellm_classes() {
        let cases: &[(u16, &str, &str, ErrorKind)] = &[
            (
                429,
                "ThrottlingException",
                "Too many requests, please wait before trying again.",
                ErrorKind::RateLimit,
            ),
            (
                400,
                "ValidationException",
                "Malformed input request: #: required key [messages] not found",
                ErrorKind::BadRequest,
            ),
            (
                400,
                "ValidationException",
                "Input is too long for requested model.",
                ErrorKind::ContextWindowExceeded,
            ),
            (
                403,
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID.",
                ErrorKind::PermissionDenied,
            ),
            (
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                ErrorKind::Authentication,
            ),
            (
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
                ErrorKind::Authentication,
            ),
            (
                404,
                "ResourceNotFoundException",
                "Could not resolve the foundation model from the provided model identifier.",
                ErrorKind::NotFound,
            ),
            (
                408,
                "ModelTimeoutException",
                "Model has timed out in processing the request.",
                ErrorKind::Timeout,
            ),
            (
                503,
                "ServiceUnavailableException",
                "Bedrock is unable to process your request.",
                ErrorKind::ServiceUnavailable,
            ),
            (
                429,
                "ModelNotReadyException",
                "Model is not ready to serve inference requests.",
                ErrorKind::RateLimit,
            ),
            (
                500,
                "InternalServerException",
                "The server encountered an internal error.",
                ErrorKind::ServiceUnavailable,
            ),
        ];
        for (status, kind, message, expected) in cases {
            let body = format!(r#"{{"message":"{message}"}}"#);
            let error = parse_error(*status, &header(kind), body.as_bytes());
            assert_eq!(error.kind(), *expected, "{kind}: {message}");
            assert!(
                error.message().starts_with("BedrockException"),
                "{}",
                error.message()
            );
        }
        // `__type` in the body names the exception when the header is absent.
        let error = parse_error(
            403,
            &[],
            br#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"no"}"#,
        );
        assert_eq!(error.kind(), ErrorKind::PermissionDenied);
        assert_eq!(error.status_code(), 403);
    }

    #[test]
    fn stream_exceptions_use_modeled_statuses() {
        let error = stream_error("throttlingException", r#"{"message":"slow down"}"#);
        assert_eq!(error.kind(), ErrorKind::RateLimit);
        let error = stream_error("internalServerException", r#"{"message":"boom"}"#);
        assert_eq!(error.kind(), ErrorKind::ServiceUnavailable);
        let error = stream_error(
            "validationException",
            r#"{"message":"Too many input tokens"}"#,
        );
        assert_eq!(error.kind(), ErrorKind::ContextWindowExceeded);
        let error = stream_error(
            "modelStreamErrorException",
            r#"{"message":"bad","originalStatusCode":500}"#,
        );
        assert_eq!(error.status_code(), 424);
        assert!(error.message().contains("modelStreamErrorException"));
    }
}
