//! Azure OpenAI error bodies → engine errors.
//!
//! Azure answers in OpenAI's shape with extras: a numeric-string or named `code`, a `status`,
//! and for content filtering `code: "content_filter"` with
//! `innererror.code: "ResponsibleAIPolicyViolation"` and the per-category
//! `content_filter_result` (<https://learn.microsoft.com/en-us/azure/ai-foundry/openai/concepts/content-filter>).

use serde_json::Value;

use llmrelay_core::{Error, ErrorKind};

/// Classify an Azure OpenAI (or Azure AI Foundry) error response.
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error_object = parsed.as_ref().and_then(|v| v.get("error"));
    let message = error_object
        .and_then(|e| {
            e.get("message")
                .and_then(Value::as_str)
                .or_else(|| e.as_str())
        })
        .or_else(|| {
            parsed
                .as_ref()
                .and_then(|v| v.get("message"))
                .and_then(Value::as_str)
        })
        .map_or_else(
            || String::from_utf8_lossy(body).trim().to_owned(),
            str::to_owned,
        );
    let message = if message.is_empty() {
        format!("upstream returned status {status}")
    } else {
        message
    };
    let policy_violation = error_object
        .and_then(|e| e.get("innererror"))
        .and_then(|inner| inner.get("code"))
        .and_then(Value::as_str)
        == Some("ResponsibleAIPolicyViolation");
    let param = error_object
        .and_then(|e| e.get("param"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut error = Error::from_upstream(status, format!("AzureException - {message}"), parsed);
    if policy_violation {
        error = error.with_kind(ErrorKind::ContentPolicyViolation);
    }
    if let Some(param) = param {
        error = error.with_param(param);
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prompt-filtered 400 of the content-filter page (see the fixture's `_source`).
    const CONTENT_FILTER: &str =
        include_str!("../../tests/fixtures/azure/error_content_filter.json");
    /// The 429 of <https://learn.microsoft.com/en-us/azure/ai-foundry/openai/quotas-limits>.
    const RATE_LIMIT: &str = include_str!("../../tests/fixtures/azure/error_rate_limit.json");

    #[test]
    fn content_filter_is_a_policy_violation() {
        let error = parse_error(400, CONTENT_FILTER.as_bytes());
        assert_eq!(error.kind(), ErrorKind::ContentPolicyViolation);
        assert_eq!(error.status_code(), 400);
        assert!(
            error
                .message()
                .starts_with("AzureException - The response was filtered")
        );
        assert_eq!(error.inner().param.as_deref(), Some("prompt"));
        let body = error.inner().body.as_ref().unwrap();
        assert_eq!(
            body["error"]["innererror"]["code"],
            "ResponsibleAIPolicyViolation"
        );
    }

    #[test]
    fn inner_error_code_alone_is_enough() {
        let body = br#"{"error": {"message": "blocked", "code": "400", "innererror": {"code": "ResponsibleAIPolicyViolation"}}}"#;
        assert_eq!(
            parse_error(400, body).kind(),
            ErrorKind::ContentPolicyViolation
        );
    }

    #[test]
    fn other_statuses() {
        let error = parse_error(429, RATE_LIMIT.as_bytes());
        assert_eq!(error.kind(), ErrorKind::RateLimit);
        let error = parse_error(
            404,
            br#"{"error": {"code": "404", "message": "Resource not found"}}"#,
        );
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert_eq!(error.message(), "AzureException - Resource not found");
        let error = parse_error(401, br#"{"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}}"#);
        assert_eq!(error.kind(), ErrorKind::Authentication);
    }
}
