//! The Responses API (`responses()` / `aresponses()`): OpenAI's own endpoint passed through,
//! and for every other provider a bridge through chat completions — input items ↔ messages,
//! output items, the streaming event sequence, and `previous_response_id` served from a
//! process-wide store of conversations.

pub mod request;
pub mod response;
pub mod stream;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Map, Value, json};

use llmrelay_core::types::{CompletionTokensDetails, PromptTokensDetails, Usage};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::engine::{
    Call, ChatOutcome, CompletionResult, Engine, HiddenParams, StreamResult, hidden, now_unix,
    peek_first, price, resolve_target,
};
use crate::options;
use crate::provider::ChunkDecoder;
use crate::sse::RawEvent;
use crate::stream::{StreamSummary, decode};

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

/// A Responses API stream: event objects, and the books of the call behind it.
pub struct ResponsesStream {
    pub events: BoxStream<'static, Result<Value>>,
    pub summary: Arc<Mutex<StreamSummary>>,
    pub hidden: HiddenParams,
}

pub enum ResponsesOutcome {
    Whole(CompletionResult<Value>),
    Stream(ResponsesStream),
}

/// Responses `usage` → canonical usage (for pricing native responses).
fn usage_from_responses(usage: &Value) -> Option<Usage> {
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
struct NativeDecoder;

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

impl Engine {
    /// `responses` / `aresponses`.
    ///
    /// # Errors
    /// Every failure, classified; a `previous_response_id` this process has not stored is a
    /// `BadRequest` (as OpenAI answers).
    pub async fn responses(self, params: Map<String, Value>) -> Result<ResponsesOutcome> {
        let model = match params.get("model") {
            Some(Value::String(model)) if !model.is_empty() => model.clone(),
            _ => return Err(Error::bad_request("model is required").with_param("model")),
        };
        if params.get("input").is_none_or(Value::is_null) {
            return Err(Error::bad_request("input is required").with_param("input"));
        }
        let mock = params.get("mock_response").is_some_and(|v| !v.is_null());
        if !mock {
            let (body, options) = options::split(params.clone())?;
            let target = resolve_target(&model, &options)?;
            let mut native_body = body;
            native_body.insert("model".to_owned(), Value::String(target.model.clone()));
            if let Some(request) = target
                .provider
                .responses_request(&native_body, &target.endpoint)
            {
                let stream = native_body.get("stream").and_then(Value::as_bool) == Some(true);
                return native(self, &target, request?, stream, &options, &model).await;
            }
        }
        bridged(self, params, model).await
    }
}

async fn native(
    _engine: Engine,
    target: &crate::engine::Target,
    request: crate::provider::HttpRequest,
    stream: bool,
    options: &options::CallOptions,
    model: &str,
) -> Result<ResponsesOutcome> {
    let started = Instant::now();
    let call = Call {
        target,
        timeouts: options.timeouts,
        num_retries: options.num_retries,
        model_for_errors: model,
        stream,
    };
    let request = call.authorized(request).await?;
    let provider_name = target.provider_name.clone();
    let upstream_model = target.model.clone();
    let overrides = options.price_overrides;
    if stream {
        let opened = call.open(&request, 0).await?;
        let idle = options.stream_timeout.or(options.timeouts.read);
        let events = decode(
            opened.response.bytes_stream(),
            target.provider.framing(),
            Box::new(NativeDecoder),
            idle,
        );
        let events = peek_first(events)
            .await
            .map_err(|e| call.decorate(e, opened.retries))?;
        let summary = Arc::new(Mutex::new(StreamSummary::default()));
        let books = Arc::clone(&summary);
        let events = events
            .inspect(move |item| {
                let mut summary = books
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                summary.chunks += 1;
                if summary.completion_start_time.is_none() {
                    summary.completion_start_time = Some(std::time::SystemTime::now());
                }
                match item {
                    Ok(event) => {
                        let usage = event
                            .pointer("/response/usage")
                            .and_then(usage_from_responses);
                        if let Some(usage) = usage {
                            summary.response_cost =
                                price(&upstream_model, &provider_name, &usage, overrides, None);
                            summary.usage = Some(usage);
                            summary.finished = true;
                            summary.end_time = Some(std::time::SystemTime::now());
                        }
                    }
                    Err(error) => {
                        summary.error = Some(error.message().to_owned());
                        summary.finished = true;
                    }
                }
            })
            .boxed();
        let hidden = hidden(target, opened.headers, opened.retries, started, options);
        return Ok(ResponsesOutcome::Stream(ResponsesStream {
            events,
            summary,
            hidden,
        }));
    }
    let (bytes, headers, retries) = call.whole(&request).await?;
    let response: Value = serde_json::from_slice(&bytes).map_err(|e| {
        call.decorate(
            Error::new(
                ErrorKind::Api,
                format!("OpenAIException - malformed Responses API response: {e}"),
            ),
            retries,
        )
    })?;
    let mut hidden = hidden(target, headers, retries, started, options);
    hidden.response_cost = response
        .get("usage")
        .and_then(usage_from_responses)
        .and_then(|usage| {
            price(
                &target.model,
                &target.provider_name,
                &usage,
                overrides,
                None,
            )
        });
    Ok(ResponsesOutcome::Whole(CompletionResult {
        response,
        hidden,
    }))
}

async fn bridged(
    engine: Engine,
    params: Map<String, Value>,
    model: String,
) -> Result<ResponsesOutcome> {
    let request::Bridged {
        mut chat,
        new_messages,
        echo,
    } = request::bridge(params)?;
    let mut conversation: Vec<Value> = match &echo.previous_response_id {
        Some(previous) => recall(previous)
            .ok_or_else(|| {
                Error::bad_request(format!("Previous response with id '{previous}' not found."))
                    .with_param("previous_response_id")
            })?
            .as_ref()
            .clone(),
        None => Vec::new(),
    };
    conversation.extend(new_messages);
    chat.insert("messages".to_owned(), Value::Array(conversation.clone()));
    let stream = chat.get("stream").and_then(Value::as_bool) == Some(true);
    if stream {
        let options = chat.entry("stream_options").or_insert_with(|| json!({}));
        if let Value::Object(options) = options {
            options.insert("include_usage".to_owned(), Value::Bool(true));
        }
    }
    let id = response::new_id("resp");
    match engine.completion(chat).await? {
        ChatOutcome::Whole(CompletionResult { response, hidden }) => {
            let reported = if response.model.is_empty() {
                model.as_str()
            } else {
                response.model.as_str()
            };
            let object = response::from_chat(&response, &id, reported, &echo);
            if echo.store {
                let mut stored = conversation;
                if let Some(output) = object["output"].as_array() {
                    stored.push(response::assistant_message(output));
                }
                remember(&id, stored);
            }
            Ok(ResponsesOutcome::Whole(CompletionResult {
                response: object,
                hidden,
            }))
        }
        ChatOutcome::Stream(StreamResult { stream, hidden }) => {
            let summary = stream.summary();
            let upstream_model = hidden.model.clone();
            let store_it = echo.store;
            let mut builder =
                stream::EventBuilder::new(id.clone(), upstream_model, now_unix(), echo);
            let start = builder.start();
            struct State {
                chunks: crate::stream::AccountedStream<llmrelay_core::types::ChatChunk>,
                builder: stream::EventBuilder,
                pending: VecDeque<Value>,
                conversation: Option<Vec<Value>>,
                id: String,
                done: bool,
            }
            let state = State {
                chunks: stream,
                builder,
                pending: start.into(),
                conversation: store_it.then_some(conversation),
                id,
                done: false,
            };
            let events = futures::stream::unfold(state, |mut state| async move {
                loop {
                    if let Some(event) = state.pending.pop_front() {
                        return Some((Ok(event), state));
                    }
                    if state.done {
                        return None;
                    }
                    match state.chunks.next().await {
                        Some(Ok(chunk)) => state.pending.extend(state.builder.push(&chunk)),
                        Some(Err(error)) => {
                            state.done = true;
                            return Some((Err(error), state));
                        }
                        None => {
                            state.done = true;
                            let (tail, response) = state.builder.finish();
                            if let Some(mut stored) = state.conversation.take() {
                                if let Some(output) = response["output"].as_array() {
                                    stored.push(response::assistant_message(output));
                                }
                                remember(&state.id, stored);
                            }
                            state.pending.extend(tail);
                        }
                    }
                }
            })
            .boxed();
            Ok(ResponsesOutcome::Stream(ResponsesStream {
                events,
                summary,
                hidden,
            }))
        }
    }
}
