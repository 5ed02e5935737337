//! LiteLLM's generic guardrail API (`POST /beta/litellm_basic_guardrail_api`), the contract of
//! <https://docs.litellm.ai/docs/adding_provider/generic_guardrail_api>: a request with `texts`,
//! `input_type`, `request_data`, `structured_messages`, `tools`, `tool_calls`,
//! `additional_provider_specific_params`, … and an answer `{action: "BLOCKED" | "NONE" |
//! "GUARDRAIL_INTERVENED", blocked_reason?, texts?}`. Rules: a text containing `blocked` (or
//! `additional_provider_specific_params.block_all: true`) is blocked with the reason
//! `Content contains forbidden word`; `secret` is replaced by `[REDACTED]`; else `NONE`. When
//! the request sends `x-api-key`, it must not be blank (401 otherwise).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered};
use crate::faults::ErrorSpec;

fn render(body: Option<&Value>) -> Result<Vec<u8>, ErrorSpec> {
    let request = super::object(body)?;
    if !matches!(
        request.get("input_type").and_then(Value::as_str),
        Some("request" | "response")
    ) {
        return Err(ErrorSpec::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input_type must be 'request' or 'response'",
            "validation_error",
            Some("input_type"),
            None,
        ));
    }
    let texts: Vec<String> = request
        .get("texts")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let block_all = request
        .get("additional_provider_specific_params")
        .and_then(|params| params.get("block_all"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let answer = if block_all
        || texts
            .iter()
            .any(|text| text.to_lowercase().contains("blocked"))
    {
        json!({"action": "BLOCKED", "blocked_reason": "Content contains forbidden word"})
    } else if texts.iter().any(|text| text.contains("secret")) {
        let rewritten: Vec<String> = texts
            .iter()
            .map(|text| text.replace("secret", "[REDACTED]"))
            .collect();
        json!({"action": "GUARDRAIL_INTERVENED", "texts": rewritten})
    } else {
        json!({"action": "NONE"})
    };
    Ok(serde_json::to_vec(&answer).unwrap_or_default())
}

pub(crate) async fn apply(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let blank_key = incoming
        .headers
        .get("x-api-key")
        .is_some_and(|value| value.as_bytes().iter().all(u8::is_ascii_whitespace));
    Exchange::serve(&state, Dialect::Ollama, &incoming, |body, _| {
        if blank_key {
            return Rendered::Error(ErrorSpec::new(
                StatusCode::UNAUTHORIZED,
                "Invalid API key",
                "authentication_error",
                None,
                None,
            ));
        }
        match render(body.as_ref()) {
            Ok(body) => Rendered::Whole(body),
            Err(error) => Rendered::Error(error),
        }
    })
    .await
}
