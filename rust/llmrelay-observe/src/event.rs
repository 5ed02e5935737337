//! What every integration receives: the call's logging payload (redacted as configured) and
//! the caller's trace context, shared behind one `Arc`.

use std::sync::Arc;

use serde_json::{Value, json};

use llmrelay_pipeline::StandardLoggingPayload;

use crate::trace_context::{SpanIds, TraceParent};

/// LiteLLM's placeholder for redacted content.
pub const REDACTED: &str = "redacted-by-litellm";

/// One finished call, as the integrations see it.
#[derive(Debug, Clone)]
pub struct Event {
    pub payload: Arc<StandardLoggingPayload>,
    pub trace_parent: Option<TraceParent>,
    /// The call's own span ids, when `otel` fixed them before the upstream call.
    pub span: Option<SpanIds>,
}

impl Event {
    /// The HTTP status the call ended with (200 on success).
    #[must_use]
    pub fn status_code(&self) -> u16 {
        self.payload
            .error_information
            .as_ref()
            .and_then(|e| e.error_code.parse().ok())
            .unwrap_or(if self.payload.status == "success" {
                200
            } else {
                500
            })
    }

    /// A metadata string (`user_api_key_alias`, …).
    #[must_use]
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.payload.metadata.get(key).and_then(Value::as_str)
    }

    /// The deployment that answered: its `model_info.id`, else the upstream model name.
    #[must_use]
    pub fn deployment(&self) -> Option<&str> {
        self.payload.model_id.as_deref().or(self
            .payload
            .hidden_params
            .litellm_model_name
            .as_deref())
    }

    pub fn is_success(&self) -> bool {
        self.payload.status == "success"
    }
}

/// `turn_off_message_logging` and `redact_user_api_key_info`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redaction {
    pub messages: bool,
    pub user_api_key_info: bool,
}

impl Redaction {
    #[must_use]
    pub fn is_none(self) -> bool {
        !self.messages && !self.user_api_key_info
    }

    /// The payload with what is redacted taken out (the payload itself when nothing is).
    #[must_use]
    pub fn apply(self, payload: Arc<StandardLoggingPayload>) -> Arc<StandardLoggingPayload> {
        if self.is_none() {
            return payload;
        }
        let mut payload = StandardLoggingPayload::clone(&payload);
        if self.messages {
            payload.messages = json!([{"role": "user", "content": REDACTED}]);
            if let Some(response) = payload.response.as_mut() {
                redact_response(response);
            }
        }
        if self.user_api_key_info {
            // LiteLLM drops every `user_api_key_*` field from what integrations get.
            payload
                .metadata
                .retain(|key, _| !key.starts_with("user_api_key"));
            payload.end_user = None;
        }
        Arc::new(payload)
    }
}

/// Replace the text of an answer (chat, text completion or embedding) with the placeholder.
fn redact_response(response: &mut Value) {
    let Some(object) = response.as_object_mut() else {
        *response = Value::String(REDACTED.to_owned());
        return;
    };
    if let Some(Value::Array(choices)) = object.get_mut("choices") {
        for choice in choices {
            if let Some(message) = choice.get_mut("message").and_then(Value::as_object_mut) {
                message.insert("content".to_owned(), Value::String(REDACTED.to_owned()));
                message.remove("tool_calls");
                message.remove("reasoning_content");
            }
            if let Some(text) = choice.get_mut("text") {
                *text = Value::String(REDACTED.to_owned());
            }
        }
    } else if object.contains_key("data") {
        object.insert("data".to_owned(), Value::String(REDACTED.to_owned()));
    } else if object.contains_key("output") {
        object.insert("output".to_owned(), Value::String(REDACTED.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_chat_and_text_answers() {
        let mut chat = json!({"choices": [{"message": {"role": "assistant", "content": "secret", "tool_calls": []}}]});
        redact_response(&mut chat);
        assert_eq!(chat["choices"][0]["message"]["content"], REDACTED);
        assert!(chat["choices"][0]["message"].get("tool_calls").is_none());
        let mut text = json!({"choices": [{"text": "secret"}]});
        redact_response(&mut text);
        assert_eq!(text["choices"][0]["text"], REDACTED);
    }
}
