//! User hooks around each call (LiteLLM's `CustomLogger` proxy hooks). The proxy only knows
//! the [`Hooks`] trait; the Python binding implements it by calling
//! `litellm_settings.callbacks`. [`layers`] turns a `Hooks` into pipeline layers: the pre-call
//! hook is an admission layer, the post-call success hook a respond layer, the failure and
//! logging hooks an account layer — so a proxy without callbacks registers none and never
//! touches Python.

use std::sync::Arc;
use std::time::SystemTime;

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tokio_util::task::TaskTracker;

use llmrelay_core::types::{ChatResponse, EmbeddingResponse, TextCompletionResponse, Usage};
use llmrelay_core::{CallKind, Error};
use llmrelay_pipeline::{
    Account, Admission, Admit, AdmitStage, Call, CallRecord, Identity, Layers, Respond, Status,
    Step, replay,
};
use llmrelay_providers::engine::{ChatOutcome, Outcome, TextOutcome, parse};

/// What a pre-call hook decided.
#[derive(Debug)]
pub enum PreCall {
    /// Go on with this (possibly rewritten) request body.
    Continue(Map<String, Value>),
    /// Answer the request with this text instead of calling the model (a hook returned a str).
    Respond(String),
}

/// A finished call, for the logging hooks (`async_log_success_event` / `_failure_event`).
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub kind: CallKind,
    pub call_id: String,
    pub model_group: String,
    /// The request body as the model was called with it.
    pub request: Arc<Map<String, Value>>,
    /// The response (OpenAI shape); a stream's assembled from its chunks.
    pub response: Option<Value>,
    pub error: Option<Error>,
    pub usage: Option<Usage>,
    pub response_cost: Option<f64>,
    pub stream: bool,
    pub start_time: SystemTime,
    pub end_time: SystemTime,
    pub completion_start_time: Option<SystemTime>,
    pub principal: Identity,
    pub model_id: Option<String>,
    pub api_base: Option<String>,
    /// LiteLLM's `standard_logging_object`, built by the pipeline.
    pub standard_logging_object: Value,
}

/// Hooks called around every LLM call. Futures are owned so the proxy can spawn the logging
/// ones as tracked background tasks.
pub trait Hooks: Send + Sync + 'static {
    /// Before the call (`async_pre_call_hook`): rewrite, answer or reject (an `Err` is sent
    /// to the client with its status).
    fn pre_call(
        &self,
        kind: CallKind,
        principal: &Identity,
        data: Map<String, Value>,
    ) -> BoxFuture<'static, Result<PreCall, Error>>;

    /// After a successful whole response (`async_post_call_success_hook`): `Some` replaces it;
    /// an `Err` fails the request.
    fn post_call_success(
        &self,
        kind: CallKind,
        principal: &Identity,
        data: Arc<Map<String, Value>>,
        response: Value,
    ) -> BoxFuture<'static, Result<Option<Value>, Error>>;

    /// After a failed call (`async_post_call_failure_hook`).
    fn post_call_failure(
        &self,
        kind: CallKind,
        principal: &Identity,
        data: Arc<Map<String, Value>>,
        error: Error,
    ) -> BoxFuture<'static, ()>;

    /// When a call finished well (whole or stream end): `async_log_success_event`.
    fn log_success(&self, event: LogEvent) -> BoxFuture<'static, ()>;

    /// When a call failed: `async_log_failure_event`.
    fn log_failure(&self, event: LogEvent) -> BoxFuture<'static, ()>;
}

/// The layers that run `hooks`; logging futures are spawned on `tasks` (shutdown waits for
/// them).
#[must_use]
pub fn layers(hooks: Arc<dyn Hooks>, tasks: TaskTracker) -> Layers {
    let mut layers = Layers::new();
    layers
        .admit(Arc::new(PreCallHook(Arc::clone(&hooks))))
        .respond(Arc::new(PostCallHook(Arc::clone(&hooks))))
        .account(Arc::new(LoggingHooks { hooks, tasks }));
    layers
}

/// The request body as hooks see it: the request, with the call's metadata.
fn hook_data(call: &Call) -> Map<String, Value> {
    let mut data = call.request.to_map();
    if let Some(metadata) = &call.options.metadata {
        data.insert("metadata".to_owned(), metadata.clone());
    }
    data
}

struct PreCallHook(Arc<dyn Hooks>);

/// A call a pre-call hook answered with text: LiteLLM treats it as a rejected request
/// (`RejectedRequestError`: the failure hook runs, no success is logged) whose message the
/// client receives as the answer.
#[derive(Debug, Clone)]
struct RejectedByHook(String);

impl Admit for PreCallHook {
    fn name(&self) -> &'static str {
        "pre_call_hook"
    }

    fn stage(&self) -> AdmitStage {
        AdmitStage::Hooks
    }

    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        Step::wait(async move {
            let data = hook_data(call);
            match self.0.pre_call(call.kind, &call.identity, data).await {
                Ok(PreCall::Continue(data)) => match parse(call.kind, data) {
                    Ok((request, options)) => {
                        call.request = request;
                        call.options = options.over(&call.options);
                        Admission::Continue
                    }
                    Err(error) => Admission::Reject(error),
                },
                Ok(PreCall::Respond(text)) if call.kind.is_chat() => {
                    let answer =
                        replay::text_answer(&call.model_group, &text, call.request.stream());
                    call.extensions.insert(RejectedByHook(text));
                    Admission::Respond(answer)
                }
                Ok(PreCall::Respond(text)) => Admission::Reject(Error::bad_request(text)),
                Err(error) => Admission::Reject(error),
            }
        })
    }
}

struct PostCallHook(Arc<dyn Hooks>);

/// Put a hook's replacement answer back into the outcome, in the outcome's type.
fn replace(outcome: &mut Outcome, value: Value) -> Result<(), Error> {
    let invalid = |e: serde_json::Error| {
        Error::new(
            llmrelay_core::ErrorKind::InternalServer,
            format!("post_call_success_hook returned an invalid response: {e}"),
        )
    };
    match outcome {
        Outcome::Chat(ChatOutcome::Whole(result)) => {
            result.response = serde_json::from_value::<ChatResponse>(value).map_err(invalid)?;
        }
        Outcome::Text(TextOutcome::Whole(result)) => {
            result.response =
                serde_json::from_value::<TextCompletionResponse>(value).map_err(invalid)?;
        }
        Outcome::Embedding(result) => {
            result.response =
                serde_json::from_value::<EmbeddingResponse>(value).map_err(invalid)?;
        }
        Outcome::Json(result) => result.response = value,
        _ => {}
    }
    Ok(())
}

fn response_value(outcome: &Outcome) -> Option<Value> {
    match outcome {
        Outcome::Chat(ChatOutcome::Whole(result)) => serde_json::to_value(&result.response).ok(),
        Outcome::Text(TextOutcome::Whole(result)) => serde_json::to_value(&result.response).ok(),
        Outcome::Embedding(result) => serde_json::to_value(&result.response).ok(),
        Outcome::Json(result) => Some(result.response.clone()),
        _ => None,
    }
}

impl Respond for PostCallHook {
    fn name(&self) -> &'static str {
        "post_call_success_hook"
    }

    fn whole<'a>(
        &'a self,
        call: &'a Call,
        outcome: &'a mut Outcome,
    ) -> Step<'a, Result<(), Error>> {
        let Some(mut value) = response_value(outcome) else {
            return Step::Ready(Ok(()));
        };
        if let Some(object) = value.as_object_mut() {
            // Hooks see the public model name, as clients do.
            if object.contains_key("model") {
                object.insert("model".to_owned(), Value::String(call.model_group.clone()));
            }
        }
        Step::wait(async move {
            let data = Arc::new(hook_data(call));
            match self
                .0
                .post_call_success(call.kind, &call.identity, data, value)
                .await?
            {
                Some(replaced) => replace(outcome, replaced),
                None => Ok(()),
            }
        })
    }
}

struct LoggingHooks {
    hooks: Arc<dyn Hooks>,
    tasks: TaskTracker,
}

impl Account for LoggingHooks {
    fn name(&self) -> &'static str {
        "logging_hooks"
    }

    fn wants_response(&self) -> bool {
        true
    }

    fn account(&self, call: &Call, record: &CallRecord) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let hidden = record.hidden.as_ref();
        let data = Arc::new(hook_data(call));
        if let Some(RejectedByHook(message)) = call.extensions.get::<RejectedByHook>() {
            let error = Error::bad_request(message.clone());
            self.tasks.spawn(
                self.hooks
                    .post_call_failure(call.kind, &call.identity, data, error),
            );
            return;
        }
        // A caller that went away mid-stream is logged with what it used, as a success.
        let failed = record.status == Status::Failure;
        let event = LogEvent {
            kind: call.kind,
            call_id: call.id.to_string(),
            model_group: call.model_group.clone(),
            request: Arc::clone(&data),
            // A stream's answer arrives assembled (LiteLLM's `stream_chunk_builder`, in Rust).
            response: record.response.clone(),
            error: if failed { record.error.clone() } else { None },
            usage: record.usage.clone(),
            response_cost: record.cost,
            stream: record.stream,
            start_time: call.started_wall,
            end_time: record.end_time,
            completion_start_time: record.completion_start_time,
            principal: call.identity.clone(),
            model_id: hidden.and_then(|h| h.model_id.clone()),
            api_base: hidden.and_then(|h| h.api_base.clone()),
            standard_logging_object: record.payload(call).to_value(),
        };
        if failed {
            if let Some(error) = &record.error {
                self.tasks.spawn(self.hooks.post_call_failure(
                    call.kind,
                    &call.identity,
                    data,
                    error.clone(),
                ));
            }
            self.tasks.spawn(self.hooks.log_failure(event));
        } else {
            self.tasks.spawn(self.hooks.log_success(event));
        }
    }
}
