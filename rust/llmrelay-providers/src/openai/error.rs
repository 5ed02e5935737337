//! OpenAI error bodies → engine errors. Shape: `{"error":{"message","type","param","code"}}`.

use serde_json::Value;

use llmrelay_core::Error;

/// Classify an upstream error response of an OpenAI-compatible server.
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| {
            v.get("error")
                .and_then(|e| {
                    e.get("message")
                        .and_then(Value::as_str)
                        .or_else(|| e.as_str())
                })
                .or_else(|| v.get("message").and_then(Value::as_str))
                .or_else(|| v.get("detail").and_then(Value::as_str))
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
    // LiteLLM names the provider in the message: "OpenAIException - <upstream message>".
    let message = format!("OpenAIException - {message}");
    let param = parsed
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(|e| e.get("param"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut error = Error::from_upstream(status, message, parsed);
    if let Some(param) = param {
        error = error.with_param(param);
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmrelay_core::ErrorKind;

    #[test]
    fn documented_error_shapes() {
        let body = br#"{"error": {"message": "Incorrect API key provided: sk-abc.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}"#;
        let e = parse_error(401, body);
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert_eq!(
            e.message(),
            "OpenAIException - Incorrect API key provided: sk-abc."
        );
        let body = br#"{"error": {"message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}"#;
        let e = parse_error(400, body);
        assert_eq!(e.kind(), ErrorKind::ContextWindowExceeded);
        assert_eq!(e.inner().param.as_deref(), Some("messages"));
        let e = parse_error(502, b"<html>bad gateway</html>");
        assert_eq!(e.kind(), ErrorKind::BadGateway);
        assert_eq!(e.message(), "OpenAIException - <html>bad gateway</html>");
    }
}
