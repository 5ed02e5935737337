//! Integration tests of llmrelay-guardrails: the labelled corpus, the engine's hooks, the stream
//! guard, config errors, and the remote guardrails against the mock server.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod config;
mod corpus;
mod engine;
mod remote;
mod stream;

use llmrelay_core::types::{ChatRequest, ChatResponse};
use llmrelay_guardrails::{
    BuildOptions, CallMetadata, GuardrailCall, Guardrails, GuardrailsConfig, Selection,
};
use serde_json::{Value, json};

/// Guardrails from a `guardrails:` list.
pub(crate) fn guardrails(entries: Value) -> Guardrails {
    let config = GuardrailsConfig::from_sections(Some(&entries), None).unwrap();
    Guardrails::from_config(config, &BuildOptions::default()).unwrap()
}

/// A call where the request names `requested` (default-on guardrails run anyway).
pub(crate) fn call(set: &Guardrails, requested: &[&str]) -> GuardrailCall {
    let body = json!({"guardrails": requested});
    let selection = Selection::from_request(body.as_object().unwrap()).unwrap();
    set.begin_call(&selection, CallMetadata::default())
        .expect("a guardrail runs")
}

pub(crate) fn chat(messages: Value) -> ChatRequest {
    serde_json::from_value(json!({"model": "gpt-4o", "messages": messages})).unwrap()
}

pub(crate) fn user(text: &str) -> ChatRequest {
    chat(json!([{"role": "user", "content": text}]))
}

pub(crate) fn answer(content: &str) -> ChatResponse {
    serde_json::from_value(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
    }))
    .unwrap()
}

pub(crate) fn content_of(request: &ChatRequest, index: usize) -> String {
    request.messages[index]
        .content
        .as_ref()
        .unwrap()
        .text()
        .into_owned()
}
