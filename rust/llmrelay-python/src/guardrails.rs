//! Custom guardrail classes (`litellm_params.guardrail: module.ClassName`) for the proxy: the
//! factory imports the class relative to the config file (through
//! `llmrelay._guardrail_host.build`) when the config is resolved, and [`PythonGuardrail`] runs
//! its hooks on the host's event loop, awaited without the GIL:
//!
//! - `pre_call` → `async_pre_call_hook` (its returned dict's `messages` / `input` / `prompt`
//!   replace the request's; a string answers instead of the model), else `apply_guardrail`
//!   on the request's texts;
//! - `during_call` → `async_moderation_hook`, beside the upstream call;
//! - `post_call` → `async_post_call_success_hook` (a returned response replaces the answer),
//!   else `apply_guardrail` on the answer's texts; on streams
//!   `async_post_call_streaming_iterator_hook` gets the chunks as they arrive and what it
//!   yields is what the caller gets.
//!
//! An exception raised by a hook refuses the call: an `HTTPException`'s status and `detail`
//! (a dict's `error` is the message, the dict goes to `provider_specific_fields`), 500 with the
//! exception's text for anything else, as LiteLLM's proxy answers.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt as _;
use pyo3::prelude::*;
use pythonize::{depythonize, pythonize};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use llmrelay_core::Error;
use llmrelay_core::types::{ChatChunk, ChatRequest, ChatResponse};
use llmrelay_guardrails::payload::{collect_response_texts, replace_response_texts};
use llmrelay_guardrails::{
    ConfigError, CustomGuardrailFactory, EventHook, Findings, Guardrail, GuardrailError,
    GuardrailFuture, GuardrailSpec, HookContext, HookOutcome, RequestPayload, StreamContext,
    StreamMode,
};
use llmrelay_providers::stream::ChunkStream;

use crate::proxy::DoneCallback;

/// Builds custom guardrail classes, imported relative to `directory` (the config's).
pub(crate) struct PythonGuardrailFactory {
    pub directory: PathBuf,
}

impl CustomGuardrailFactory for PythonGuardrailFactory {
    fn build(
        &self,
        spec: &GuardrailSpec,
        class_path: &str,
    ) -> Result<Arc<dyn Guardrail>, ConfigError> {
        if spec.mode.hooks().contains(&EventHook::LoggingOnly) {
            return Err(ConfigError::new(
                spec.field_path("mode"),
                "logging_only is not supported for custom guardrail classes (the logging payload is built without awaiting Python); use post_call, or a built-in guardrail",
            ));
        }
        let directory = self.directory.display().to_string();
        let built = Python::attach(|py| -> PyResult<(Py<PyAny>, Value)> {
            let params = pythonize(py, &Value::Object(spec.litellm_params.clone()))
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            let adapter = py
                .import("llmrelay._guardrail_host")?
                .call_method1("build", (class_path, directory, spec.name.as_str(), params))?;
            let hooks: Value = depythonize(&adapter.getattr("hooks")?)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            Ok((adapter.unbind(), hooks))
        });
        let (adapter, hooks) = built.map_err(|error| {
            ConfigError::new(
                spec.field_path("guardrail"),
                format!("cannot load custom guardrail class '{class_path}': {error}"),
            )
        })?;
        let flag = |name: &str| hooks.get(name).and_then(Value::as_bool).unwrap_or(false);
        Ok(Arc::new(PythonGuardrail {
            adapter: Arc::new(adapter),
            provider: class_path.to_owned(),
            pre_call: flag("pre_call") || flag("apply"),
            during_call: flag("during_call"),
            post_call: flag("post_call") || flag("apply"),
            streams: flag("stream"),
        }))
    }
}

/// One custom guardrail instance (its `GuardrailAdapter`).
pub(crate) struct PythonGuardrail {
    adapter: Arc<Py<PyAny>>,
    provider: String,
    pre_call: bool,
    during_call: bool,
    post_call: bool,
    streams: bool,
}

/// Starts a Python call returning a `concurrent.futures.Future` and awaits its result (the
/// `{"ok"}` / `{"error"}` reply) without holding the GIL.
pub(crate) async fn await_python<F>(adapter: Arc<Py<PyAny>>, start: F) -> Result<Value, String>
where
    F: for<'py> FnOnce(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> + Send + 'static,
{
    let receiver = tokio::task::spawn_blocking(move || {
        Python::attach(|py| -> PyResult<oneshot::Receiver<Result<Value, String>>> {
            let future = start(adapter.bind(py))?;
            let (sender, receiver) = oneshot::channel();
            let callback = Py::new(py, DoneCallback::new(sender))?;
            future.call_method1("add_done_callback", (callback,))?;
            Ok(receiver)
        })
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    receiver
        .await
        .map_err(|_| "the guardrail's task was dropped".to_owned())?
}

/// A Python call off the async workers (short, synchronous adapter methods).
async fn call_python<F, T>(adapter: Arc<Py<PyAny>>, call: F) -> Result<T, String>
where
    F: for<'py> FnOnce(&Bound<'py, PyAny>) -> PyResult<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(move || Python::attach(|py| call(adapter.bind(py))))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// An exception a hook raised, as LiteLLM's proxy answers it.
fn raised(name: &str, hook: EventHook, info: &Value) -> GuardrailError {
    let status = info
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (400..600).contains(s))
        .unwrap_or(500);
    let message = info
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("guardrail raised an exception");
    let mut error = match info.get("detail").and_then(Value::as_object) {
        Some(detail) => {
            GuardrailError::http_detail(name, hook, detail.clone(), Findings::default())
        }
        None => GuardrailError::raised(name, hook, message, false, Findings::default()),
    };
    if let GuardrailError::Violation(violation) = &mut error {
        violation.status = status;
    }
    error
}

/// The hook's reply, or the error it raised / the bridge's failure.
fn reply_of(
    name: &str,
    hook: EventHook,
    reply: Result<Value, String>,
) -> Result<Value, GuardrailError> {
    let reply = reply.map_err(|message| {
        GuardrailError::failure(name, hook, format!("custom guardrail failed: {message}"))
    })?;
    if let Some(info) = reply.get("error") {
        return Err(raised(name, hook, info));
    }
    Ok(reply.get("ok").cloned().unwrap_or(Value::Null))
}

/// LiteLLM's `UserAPIKeyAuth` fields a hook reads.
fn user_api_key_dict(context: &HookContext<'_>) -> Value {
    let key = &context.call.metadata.user_api_key;
    let field = |name: &str| key.get(name).cloned().unwrap_or(Value::Null);
    json!({
        "api_key": field("user_api_key_hash"),
        "token": field("user_api_key_hash"),
        "key_alias": field("user_api_key_alias"),
        "user_id": field("user_api_key_user_id"),
        "team_id": field("user_api_key_team_id"),
        "team_alias": field("user_api_key_team_alias"),
        "org_id": field("user_api_key_org_id"),
        "end_user_id": field("user_api_key_end_user_id"),
    })
}

/// The request as hooks get it (`data`): the body, naming this guardrail in `guardrails` (the
/// engine already chose to run it, so `should_run_guardrail(data, …)` holds), with the tags.
fn request_data(mut body: Value, name: &str, tags: &[String]) -> Value {
    if let Some(object) = body.as_object_mut() {
        object.insert("guardrails".to_owned(), json!([name]));
        let metadata = object
            .entry("metadata")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(metadata) = metadata.as_object_mut() {
            metadata.insert("guardrails".to_owned(), json!([name]));
            if !tags.is_empty() {
                metadata.insert("tags".to_owned(), json!(tags));
            }
        }
    }
    body
}

fn request_json(request: &RequestPayload<'_>) -> (Value, &'static str) {
    match request {
        RequestPayload::Chat(chat) => (
            serde_json::to_value(&**chat).unwrap_or(Value::Null),
            "completion",
        ),
        RequestPayload::Embedding(embedding) => (
            serde_json::to_value(&**embedding).unwrap_or(Value::Null),
            "embeddings",
        ),
        RequestPayload::TextCompletion(text) => (
            serde_json::to_value(&**text).unwrap_or(Value::Null),
            "text_completion",
        ),
    }
}

/// Puts a pre-call hook's returned request back.
fn apply_data(request: &mut RequestPayload<'_>, data: &Value) -> Result<(), String> {
    match request {
        RequestPayload::Chat(chat) => {
            if let Some(messages) = data.get("messages") {
                chat.messages =
                    serde_json::from_value(messages.clone()).map_err(|e| e.to_string())?;
            }
        }
        RequestPayload::Embedding(embedding) => {
            if let Some(input) = data.get("input") {
                embedding.input = input.clone();
            }
        }
        RequestPayload::TextCompletion(text) => {
            if let Some(prompt) = data.get("prompt") {
                text.prompt = prompt.clone();
            }
        }
    }
    Ok(())
}

fn texts_of(reply: &Value) -> Option<Vec<String>> {
    reply.get("texts").and_then(Value::as_array).map(|texts| {
        texts
            .iter()
            .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned))
            .collect()
    })
}

impl PythonGuardrail {
    fn submit(
        &self,
        method: &'static str,
        payload: Value,
    ) -> impl Future<Output = Result<Value, String>> + Send + 'static {
        await_python(Arc::clone(&self.adapter), move |adapter| {
            let payload = pythonize(adapter.py(), &payload)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            adapter.call_method1("submit", (method, payload))
        })
    }
}

impl Guardrail for PythonGuardrail {
    fn provider(&self) -> &str {
        &self.provider
    }

    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        let hook = context.hook;
        let runs = match hook {
            EventHook::PreCall => self.pre_call,
            EventHook::DuringCall => self.during_call,
            _ => false,
        };
        if !runs {
            return Box::pin(std::future::ready(Ok(HookOutcome::default())));
        }
        let name = context.guardrail_name.to_owned();
        let roles = context.spec.roles.clone();
        let (body, call_type) = request_json(request);
        let texts: Vec<String> = request
            .collect_texts(roles.as_deref())
            .into_iter()
            .map(|(_, _, text)| text)
            .collect();
        let payload = json!({
            "data": request_data(body, &name, &context.call.metadata.tags),
            "call_type": call_type,
            "user_api_key_dict": user_api_key_dict(&context),
            "texts": texts,
        });
        let method = if hook == EventHook::PreCall {
            "pre_call"
        } else {
            "during_call"
        };
        let reply = self.submit(method, payload);
        Box::pin(async move {
            let reply = reply_of(&name, hook, reply.await)?;
            if hook != EventHook::PreCall {
                return Ok(HookOutcome::default());
            }
            if let Some(text) = reply.get("respond").and_then(Value::as_str) {
                return Ok(HookOutcome {
                    respond: Some(text.to_owned()),
                    ..HookOutcome::default()
                });
            }
            if let Some(data) = reply.get("data") {
                apply_data(request, data).map_err(|message| {
                    GuardrailError::failure(
                        &name,
                        hook,
                        format!("async_pre_call_hook returned an invalid request: {message}"),
                    )
                })?;
            } else if let Some(texts) = texts_of(&reply) {
                request.replace_texts(roles.as_deref(), &texts);
            }
            Ok(HookOutcome::default())
        })
    }

    fn check_response<'a>(
        &'a self,
        response: &'a mut ChatResponse,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        if context.hook != EventHook::PostCall || !self.post_call {
            return Box::pin(std::future::ready(Ok(HookOutcome::default())));
        }
        let name = context.guardrail_name.to_owned();
        let hook = context.hook;
        let body = context
            .request
            .and_then(|request| serde_json::to_value(request).ok())
            .unwrap_or_else(|| json!({}));
        let payload = json!({
            "data": request_data(body, &name, &context.call.metadata.tags),
            "call_type": "completion",
            "user_api_key_dict": user_api_key_dict(&context),
            "response": serde_json::to_value(&*response).unwrap_or(Value::Null),
            "texts": collect_response_texts(response),
        });
        let reply = self.submit("post_call", payload);
        Box::pin(async move {
            let reply = reply_of(&name, hook, reply.await)?;
            if let Some(replaced) = reply.get("response").filter(|v| !v.is_null()) {
                *response = serde_json::from_value(replaced.clone()).map_err(|e| {
                    GuardrailError::failure(
                        &name,
                        hook,
                        format!("async_post_call_success_hook returned an invalid response: {e}"),
                    )
                })?;
            } else if let Some(texts) = texts_of(&reply) {
                replace_response_texts(response, &texts);
            }
            Ok(HookOutcome::default())
        })
    }

    fn stream_mode(&self, _context: HookContext<'_>) -> StreamMode {
        if self.streams {
            StreamMode::Rewrite
        } else if self.post_call {
            StreamMode::HoldAll
        } else {
            StreamMode::CheckAtEnd
        }
    }

    fn rewrite_stream(
        self: Arc<Self>,
        chunks: ChunkStream<ChatChunk>,
        context: StreamContext,
    ) -> ChunkStream<ChatChunk> {
        let hook_context = HookContext {
            guardrail_name: &context.guardrail_name,
            hook: EventHook::PostCall,
            spec: &context.spec,
            call: &context.call,
            request: context.request.as_ref(),
        };
        let body = context
            .request
            .as_ref()
            .and_then(|request: &ChatRequest| serde_json::to_value(request).ok())
            .unwrap_or_else(|| json!({}));
        let payload = json!({
            "data": request_data(body, &context.guardrail_name, &context.call.metadata.tags),
            "user_api_key_dict": user_api_key_dict(&hook_context),
        });
        let state = Rewriting {
            adapter: Arc::clone(&self.adapter),
            name: context.guardrail_name,
            payload: Some(payload),
            upstream: Some(chunks),
            handle: None,
            feeder: None,
            upstream_error: Arc::new(Mutex::new(None)),
            done: false,
        };
        futures::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        })
        .boxed()
    }
}

/// A stream going through a Python `async_post_call_streaming_iterator_hook`: a task feeds the
/// upstream chunks to the hook's input as they arrive; the caller's stream reads what it
/// yields. Dropping the stream stops the feeder (and so the upstream) and the hook.
struct Rewriting {
    adapter: Arc<Py<PyAny>>,
    name: String,
    payload: Option<Value>,
    upstream: Option<ChunkStream<ChatChunk>>,
    handle: Option<u64>,
    feeder: Option<tokio::task::JoinHandle<()>>,
    upstream_error: Arc<Mutex<Option<Error>>>,
    done: bool,
}

impl Rewriting {
    fn fail(&mut self, message: String) -> Option<Result<ChatChunk, Error>> {
        self.done = true;
        Some(Err(GuardrailError::failure(
            &self.name,
            EventHook::PostCall,
            format!("custom guardrail stream failed: {message}"),
        )
        .to_core_error()))
    }

    async fn open(&mut self) -> Result<u64, String> {
        let payload = self.payload.take().unwrap_or(Value::Null);
        let handle: u64 = call_python(Arc::clone(&self.adapter), move |adapter| {
            let payload = pythonize(adapter.py(), &payload)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            adapter.call_method1("stream_open", (payload,))?.extract()
        })
        .await?;
        self.handle = Some(handle);
        let Some(mut upstream) = self.upstream.take() else {
            return Ok(handle);
        };
        let adapter = Arc::clone(&self.adapter);
        let upstream_error = Arc::clone(&self.upstream_error);
        self.feeder = Some(tokio::spawn(async move {
            loop {
                let chunk = match upstream.next().await {
                    Some(Ok(chunk)) => serde_json::to_value(&chunk).ok(),
                    Some(Err(error)) => {
                        *upstream_error
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner) = Some(error);
                        None
                    }
                    None => None,
                };
                let last = chunk.is_none();
                let fed = call_python(Arc::clone(&adapter), move |adapter| {
                    let chunk = match &chunk {
                        Some(chunk) => pythonize(adapter.py(), chunk)
                            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?,
                        None => adapter.py().None().into_bound(adapter.py()),
                    };
                    adapter
                        .call_method1("stream_feed", (handle, chunk))
                        .map(|_| ())
                })
                .await;
                if last || fed.is_err() {
                    break;
                }
            }
        }));
        Ok(handle)
    }

    async fn next(&mut self) -> Option<Result<ChatChunk, Error>> {
        if self.done {
            return None;
        }
        let handle = match self.handle {
            Some(handle) => handle,
            None => match self.open().await {
                Ok(handle) => handle,
                Err(message) => return self.fail(message),
            },
        };
        let reply = await_python(Arc::clone(&self.adapter), move |adapter| {
            adapter.call_method1("stream_next", (handle,))
        })
        .await;
        let item = match reply {
            Ok(reply) => reply.get("ok").cloned().unwrap_or(Value::Null),
            Err(message) => return self.fail(message),
        };
        if let Some(chunk) = item.get("chunk") {
            return match serde_json::from_value::<ChatChunk>(chunk.clone()) {
                Ok(chunk) => Some(Ok(chunk)),
                Err(error) => self.fail(format!("the hook yielded an invalid chunk: {error}")),
            };
        }
        self.done = true;
        if let Some(info) = item.get("error") {
            return Some(Err(
                raised(&self.name, EventHook::PostCall, info).to_core_error()
            ));
        }
        let upstream_error = self
            .upstream_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        upstream_error.map(Err)
    }
}

impl Drop for Rewriting {
    fn drop(&mut self) {
        if let Some(feeder) = self.feeder.take() {
            feeder.abort();
        }
        if let Some(handle) = self.handle.take() {
            let adapter = Arc::clone(&self.adapter);
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn_blocking(move || {
                    Python::attach(|py| {
                        let _ = adapter.bind(py).call_method1("stream_close", (handle,));
                    });
                });
            }
        }
    }
}
