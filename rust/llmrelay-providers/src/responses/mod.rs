//! The Responses API (`responses()` / `aresponses()`): OpenAI's own endpoint passed through,
//! and for every other provider a bridge through chat completions — input items ↔ messages,
//! output items, the streaming event sequence, and `previous_response_id` served from a
//! process-wide store of conversations.

pub mod bridge;
pub(crate) mod native;
pub mod request;
pub mod response;
pub mod stream;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use llmrelay_core::types::{CompletionTokensDetails, PromptTokensDetails, Usage};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::provider::ChunkDecoder;
use crate::sse::RawEvent;

/// Conversations kept for `previous_response_id`; the oldest go first.
pub const STORE_CAPACITY: usize = 10_000;

#[derive(Default)]
struct Store {
    conversations: HashMap<String, Arc<Vec<Value>>>,
    order: VecDeque<String>,
}

fn store() -> &'static Mutex<Store> {
    static STORE: OnceLock<Mutex<Store>> = OnceLock::new();
    STORE.get_or_init(Mutex::default)
}

fn lock_store() -> std::sync::MutexGuard<'static, Store> {
    store()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Remember a response's whole conversation (chat messages, its answer included).
pub fn remember(id: &str, conversation: Vec<Value>) {
    let mut store = lock_store();
    if store
        .conversations
        .insert(id.to_owned(), Arc::new(conversation))
        .is_none()
    {
        store.order.push_back(id.to_owned());
    }
    while store.order.len() > STORE_CAPACITY {
        if let Some(oldest) = store.order.pop_front() {
            store.conversations.remove(&oldest);
        }
    }
}

/// The conversation up to and including a stored response.
#[must_use]
pub fn recall(id: &str) -> Option<Arc<Vec<Value>>> {
    lock_store().conversations.get(id).cloned()
}

/// Responses `usage` → canonical usage (for pricing native responses).
pub(crate) fn usage_from_responses(usage: &Value) -> Option<Usage> {
    let input = usage.get("input_tokens")?.as_u64()?;
    let output = usage.get("output_tokens")?.as_u64()?;
    let mut canonical = Usage::new(input, output);
    if let Some(cached) = usage
        .pointer("/input_tokens_details/cached_tokens")
        .and_then(Value::as_u64)
    {
        canonical.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(cached),
            ..PromptTokensDetails::default()
        });
    }
    if let Some(reasoning) = usage
        .pointer("/output_tokens_details/reasoning_tokens")
        .and_then(Value::as_u64)
    {
        canonical.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(reasoning),
            ..CompletionTokensDetails::default()
        });
    }
    Some(canonical)
}

/// Native Responses SSE: each `data:` is one event object; the stream ends with
/// `response.completed` / `response.incomplete` / `response.failed`; `error` events fail it.
pub(crate) struct NativeDecoder;

impl ChunkDecoder<Value> for NativeDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<Value>) -> Result<bool> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(false);
        }
        if data == "[DONE]" {
            return Ok(true);
        }
        let value: Value = serde_json::from_str(data).map_err(|e| {
            Error::new(
                ErrorKind::Api,
                format!("OpenAIException - malformed Responses stream event: {e}"),
            )
        })?;
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "error" {
            let message = value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("stream error");
            return Err(Error::new(
                ErrorKind::Api,
                format!("OpenAIException - {message}"),
            ));
        }
        let done = matches!(
            kind,
            "response.completed" | "response.incomplete" | "response.failed"
        );
        out.push(value);
        Ok(done)
    }
}
