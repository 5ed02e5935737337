//! Why a guardrail stopped a call (a violation, or a failure to judge), rendered as LiteLLM renders it.

use serde_json::{Map, Value, json};

use crate::config::EventHook;
use crate::info::Findings;

/// A guardrail stopped the call. Both kinds end the call; the pipeline maps them to the caller.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GuardrailError {
    /// The content broke a rule (HTTP 400 by default).
    #[error("{}", .0.message)]
    Violation(Box<Violation>),
    /// The guardrail could not judge the content and fails closed (HTTP 500 by default).
    #[error("{}", .0.message)]
    Failure(Box<Failure>),
}

/// What LiteLLM raises when content is refused: an `HTTPException` with a `detail` object, a
/// `GuardrailRaisedException` or a `BlockedPiiEntityError` (those two carry only a message).
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub guardrail_name: String,
    /// The hook the guardrail ran in (`guardrail_mode` in the error and the logging payload).
    pub mode: EventHook,
    pub status: u16,
    pub message: String,
    /// The `HTTPException.detail` object (its `error` field is the message). LiteLLM's proxy
    /// returns it, plus `guardrail_name` and `guardrail_mode`, as `provider_specific_fields`.
    pub detail: Option<Map<String, Value>>,
    /// What the guardrail found before it refused (for `guardrail_information`).
    pub findings: Findings,
}

/// A guardrail that could not run (remote API down, bad answer, timeout) and fails closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub guardrail_name: String,
    pub mode: EventHook,
    pub status: u16,
    pub message: String,
}

impl GuardrailError {
    /// A refusal with an `HTTPException`-style detail; `detail["error"]` is the message.
    #[must_use]
    pub fn http_detail(
        guardrail_name: &str,
        mode: EventHook,
        detail: Map<String, Value>,
        findings: Findings,
    ) -> Self {
        let message = detail
            .get("error")
            .and_then(Value::as_str)
            .map_or_else(|| Value::Object(detail.clone()).to_string(), str::to_owned);
        Self::Violation(Box::new(Violation {
            guardrail_name: guardrail_name.to_owned(),
            mode,
            status: 400,
            message,
            detail: Some(detail),
            findings,
        }))
    }

    /// LiteLLM's `GuardrailRaisedException(guardrail_name, message)`, wrapped in its default text
    /// (`Guardrail raised an exception, Guardrail: <name>, Message: <message>`) unless `wrap` is false.
    #[must_use]
    pub fn raised(
        guardrail_name: &str,
        mode: EventHook,
        message: &str,
        wrap: bool,
        findings: Findings,
    ) -> Self {
        let message = if wrap {
            format!(
                "Guardrail raised an exception, Guardrail: {guardrail_name}, Message: {message}"
            )
        } else {
            message.to_owned()
        };
        Self::Violation(Box::new(Violation {
            guardrail_name: guardrail_name.to_owned(),
            mode,
            status: 400,
            message,
            detail: None,
            findings,
        }))
    }

    /// LiteLLM's `BlockedPiiEntityError(entity_type, guardrail_name)`.
    #[must_use]
    pub fn blocked_entity(
        guardrail_name: &str,
        mode: EventHook,
        entity_type: &str,
        findings: Findings,
    ) -> Self {
        Self::Violation(Box::new(Violation {
            guardrail_name: guardrail_name.to_owned(),
            mode,
            status: 400,
            message: format!(
                "Blocked entity detected: {entity_type} by Guardrail: {guardrail_name}. This entity is not allowed to be used in this request."
            ),
            detail: None,
            findings,
        }))
    }

    /// A guardrail that could not judge (fails closed, 500).
    #[must_use]
    pub fn failure(guardrail_name: &str, mode: EventHook, message: impl Into<String>) -> Self {
        Self::Failure(Box::new(Failure {
            guardrail_name: guardrail_name.to_owned(),
            mode,
            status: 500,
            message: message.into(),
        }))
    }

    #[must_use]
    pub fn guardrail_name(&self) -> &str {
        match self {
            Self::Violation(violation) => &violation.guardrail_name,
            Self::Failure(failure) => &failure.guardrail_name,
        }
    }

    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Violation(violation) => violation.status,
            Self::Failure(failure) => failure.status,
        }
    }

    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::Violation(violation) => &violation.message,
            Self::Failure(failure) => &failure.message,
        }
    }

    /// Whether the content itself was refused (as opposed to the guardrail failing).
    #[must_use]
    pub fn is_violation(&self) -> bool {
        matches!(self, Self::Violation(_))
    }

    /// The hook it happened in.
    #[must_use]
    pub fn mode(&self) -> EventHook {
        match self {
            Self::Violation(violation) => violation.mode,
            Self::Failure(failure) => failure.mode,
        }
    }

    /// The OpenAI error type LiteLLM's proxy reports for this status.
    #[must_use]
    pub fn openai_type(&self) -> &'static str {
        if self.status() < 500 {
            "invalid_request_error"
        } else {
            "internal_server_error"
        }
    }

    /// The JSON body LiteLLM's proxy answers with:
    /// `{"error": {"message", "type", "param": null, "code": "400", "provider_specific_fields"?}}`.
    /// `provider_specific_fields` is the `HTTPException.detail` plus `guardrail_name` and
    /// `guardrail_mode`, present only for detail-style refusals (as observed on LiteLLM 1.104).
    #[must_use]
    pub fn to_openai_json(&self) -> Value {
        let mut error = json!({
            "message": self.message(),
            "type": self.openai_type(),
            "param": null,
            "code": self.status().to_string(),
        });
        if let Self::Violation(violation) = self {
            if let (Some(detail), Value::Object(object)) = (&violation.detail, &mut error) {
                let mut fields = detail.clone();
                fields.insert(
                    "guardrail_name".to_owned(),
                    Value::from(violation.guardrail_name.clone()),
                );
                fields.insert(
                    "guardrail_mode".to_owned(),
                    Value::from(violation.mode.as_str()),
                );
                object.insert("provider_specific_fields".to_owned(), Value::Object(fields));
            }
        }
        json!({ "error": error })
    }

    /// As the engine's error type: `BadRequest` (400) for a violation, `InternalServer` for a
    /// failure, with the same `provider_specific_fields` as [`GuardrailError::to_openai_json`].
    #[must_use]
    pub fn to_core_error(&self) -> llmrelay_core::Error {
        let kind = if self.status() < 500 {
            llmrelay_core::ErrorKind::BadRequest
        } else {
            llmrelay_core::ErrorKind::InternalServer
        };
        let error = llmrelay_core::Error::new(kind, self.message()).with_status(self.status());
        match self.to_openai_json()["error"].get("provider_specific_fields") {
            Some(fields) => error.with_provider_specific_fields(fields.clone()),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_refusals_render_like_litellm_proxy() {
        let mut detail = Map::new();
        detail.insert(
            "error".to_owned(),
            Value::from("Content blocked: keyword 'forbiddenword' detected (not allowed)"),
        );
        detail.insert("keyword".to_owned(), Value::from("forbiddenword"));
        detail.insert("description".to_owned(), Value::from("not allowed"));
        let error =
            GuardrailError::http_detail("cf", EventHook::PreCall, detail, Findings::default());
        // Observed from LiteLLM 1.104's proxy with the same guardrail config.
        assert_eq!(
            error.to_openai_json(),
            json!({"error": {
                "message": "Content blocked: keyword 'forbiddenword' detected (not allowed)",
                "type": "invalid_request_error", "param": null, "code": "400",
                "provider_specific_fields": {
                    "error": "Content blocked: keyword 'forbiddenword' detected (not allowed)",
                    "keyword": "forbiddenword", "description": "not allowed",
                    "guardrail_name": "cf", "guardrail_mode": "pre_call"
                }
            }})
        );
        assert_eq!(error.status(), 400);
    }

    #[test]
    fn raised_and_blocked_entity_messages() {
        let raised = GuardrailError::raised(
            "custom",
            EventHook::PreCall,
            "bad thing",
            true,
            Findings::default(),
        );
        assert_eq!(
            raised.to_openai_json(),
            json!({"error": {"message": "Guardrail raised an exception, Guardrail: custom, Message: bad thing",
                "type": "invalid_request_error", "param": null, "code": "400"}})
        );
        let blocked = GuardrailError::blocked_entity(
            "custom",
            EventHook::PreCall,
            "EMAIL_ADDRESS",
            Findings::default(),
        );
        assert_eq!(
            blocked.message(),
            "Blocked entity detected: EMAIL_ADDRESS by Guardrail: custom. This entity is not allowed to be used in this request."
        );
        let failure = GuardrailError::failure("g", EventHook::PostCall, "down");
        assert_eq!(failure.status(), 500);
        assert_eq!(
            failure.to_openai_json()["error"]["type"],
            "internal_server_error"
        );
        assert_eq!(failure.to_core_error().status_code(), 500);
    }
}
