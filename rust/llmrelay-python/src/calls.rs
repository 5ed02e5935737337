//! The SDK's call entry points: a typed call from keyword arguments, through the SDK pipeline
//! and a dispatcher (the engine directly, or a Router), and its answer as Python objects. The
//! GIL is released for the whole call and for settling its books.

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pythonize::pythonize;
use serde_json::Value;

use llmrelay_core::CallKind;
use llmrelay_pipeline::{
    Answer, Call, Direct, Dispatch, Failure, Origin, Pipeline, Route, StandardLoggingPayload,
};
use llmrelay_providers::engine::{ChatOutcome, HiddenParams, Outcome, Request, TextOutcome};
use llmrelay_router::Router;

use crate::errors::failure_to_py;
use crate::stream::{AnyStream, Stream};
use crate::{json_err, params_from_py, runtime, to_py_err};

/// The pipeline every SDK call runs through: the layers features registered (see
/// `crate::integrations::set_layers`; the logging integrations today).
pub(crate) fn sdk_pipeline() -> Arc<Pipeline> {
    crate::integrations::pipeline()
}

/// Install (`Some`) or remove (`None`) a feature's layers in the SDK pipeline.
pub(crate) fn install_sdk_layers(feature: &'static str, layers: Option<llmrelay_pipeline::Layers>) {
    crate::integrations::set_layers(feature, layers.unwrap_or_default());
}

/// Who executes an SDK call.
#[derive(Clone)]
pub(crate) enum Dispatcher {
    Direct,
    Router(Router),
}

impl Dispatcher {
    fn as_dispatch(&self) -> &dyn Dispatch {
        match self {
            Self::Direct => &Direct,
            Self::Router(router) => router,
        }
    }
}

/// A call's answer, books settled, ready to cross into Python.
#[expect(
    clippy::large_enum_variant,
    reason = "one value per call, moved once to Python"
)]
pub(crate) enum Ready {
    Whole {
        outcome: Outcome,
        route: Route,
        /// The answer in the caller's shape when it differs from the outcome's (a bridged
        /// Responses call).
        rendered: Option<Value>,
        payload: Option<Arc<StandardLoggingPayload>>,
    },
    Stream(Stream),
}

/// The call kind a LiteLLM function name stands for.
pub(crate) fn kind_named(name: &str) -> PyResult<CallKind> {
    CallKind::from_call_type(name)
        .ok_or_else(|| PyValueError::new_err(format!("unknown call kind '{name}'")))
}

/// A typed call from keyword arguments (the GIL is held: values are converted here).
pub(crate) fn parse_call(
    kind: CallKind,
    params: &Bound<'_, PyDict>,
    log: bool,
    is_async: bool,
) -> PyResult<Box<Call>> {
    let params = params_from_py(params)?;
    let preset = crate::cache::preset(&params);
    let mut call = Box::new(Call::parse(kind, params, Origin::Sdk).map_err(|e| to_py_err(&e))?);
    if let Some(preset) = preset {
        call.extensions.insert(preset);
    }
    call.wants_payload = log;
    call.is_async = is_async;
    Ok(call)
}

/// Run a call and settle a whole answer (no GIL needed). `attempts` is the facade's
/// per-attempt callback (`CallLog.attempt`), for calls whose callbacks listen to attempts.
pub(crate) async fn run(
    call: Box<Call>,
    dispatcher: Dispatcher,
    attempts: Option<Py<PyAny>>,
) -> Result<Ready, Failure> {
    let answer = match attempts {
        None => sdk_pipeline().run(call, dispatcher.as_dispatch()).await?,
        Some(hook) => {
            crate::attempts::with_hook(&sdk_pipeline(), hook)
                .run(call, dispatcher.as_dispatch())
                .await?
        }
    };
    Ok(ready(answer))
}

fn ready(answer: Answer) -> Ready {
    match answer {
        Answer::Whole(whole) => {
            let rendered = match (&whole.outcome, &whole.ledger.call().request) {
                (Outcome::Chat(ChatOutcome::Whole(result)), Request::Responses(bridge)) => {
                    let reported = if result.response.model.is_empty() {
                        whole.ledger.call().model_group.as_str()
                    } else {
                        result.response.model.as_str()
                    };
                    Some(bridge.render_whole(&result.response, reported))
                }
                (Outcome::Chat(ChatOutcome::Whole(result)), _)
                    if whole.ledger.call().kind == CallKind::AnthropicMessages =>
                {
                    let model = whole.ledger.call().model_group.clone();
                    Some(llmrelay_proxy::anthropic::response_to_message(
                        &result.response,
                        &model,
                    ))
                }
                _ => None,
            };
            let route = whole.ledger.route().clone();
            let (outcome, settlement) = whole.settle();
            Ready::Whole {
                outcome,
                route,
                rendered,
                payload: settlement.payload(),
            }
        }
        Answer::Chat(stream) => {
            let summary = stream.summary();
            let settlement = stream.settlement();
            let hidden = with_route(stream.hidden(), stream.route());
            let inner = match &stream.call().request {
                Request::Responses(bridge) => {
                    let bridge = bridge.clone();
                    let model = hidden.model.clone();
                    AnyStream::Json(bridge.render_stream(Box::pin(stream), &model))
                }
                _ if stream.call().kind == CallKind::AnthropicMessages => {
                    let model = stream.call().model_group.clone();
                    AnyStream::Sse(anthropic_events(stream, &model))
                }
                _ => AnyStream::Chat(stream),
            };
            Ready::Stream(Stream::new(inner, summary, hidden, settlement))
        }
        Answer::Text(stream) => {
            let summary = stream.summary();
            let settlement = stream.settlement();
            let hidden = with_route(stream.hidden(), stream.route());
            Ready::Stream(Stream::new(
                AnyStream::Text(stream),
                summary,
                hidden,
                settlement,
            ))
        }
        // The engine forwards no pass-through call; a Rust dispatcher that does hands its
        // bytes over as text pieces.
        Answer::Raw(raw) => {
            let stream = raw.body;
            let summary = stream.summary();
            let settlement = stream.settlement();
            let hidden = with_route(stream.hidden(), stream.route());
            let pieces = futures::StreamExt::map(stream, |piece| {
                piece.map(|bytes| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            });
            Ready::Stream(Stream::new(
                AnyStream::Json(Box::pin(pieces)),
                summary,
                hidden,
                settlement,
            ))
        }
        Answer::Events(stream) => {
            let summary = stream.summary();
            let settlement = stream.settlement();
            let hidden = with_route(stream.hidden(), stream.route());
            Ready::Stream(Stream::new(
                AnyStream::Json(Box::pin(stream)),
                summary,
                hidden,
                settlement,
            ))
        }
    }
}

/// The hidden params with LiteLLM's Router headers (`x-litellm-model-group`,
/// `x-litellm-attempted-retries`, `x-litellm-attempted-fallbacks`) for Router calls, as
/// LiteLLM's Router puts them in `_hidden_params["additional_headers"]`.
fn with_route(hidden: &HiddenParams, route: &Route) -> HiddenParams {
    let mut hidden = hidden.clone();
    if !route.model_group.is_empty() {
        hidden.headers.extend([
            (
                "x-litellm-model-group".to_owned(),
                route.model_group.clone(),
            ),
            (
                "x-litellm-attempted-retries".to_owned(),
                route.retries.to_string(),
            ),
            (
                "x-litellm-attempted-fallbacks".to_owned(),
                route.fallbacks.to_string(),
            ),
        ]);
    }
    hidden
}

/// A chat stream as Anthropic's Messages API events, one SSE event (bytes) each; an error
/// mid-stream is an `event: error` and the end, as LiteLLM's SDK yields it.
fn anthropic_events(
    stream: llmrelay_pipeline::ServedStream<llmrelay_core::types::ChatChunk>,
    model: &str,
) -> futures::stream::BoxStream<'static, Result<Vec<u8>, llmrelay_core::Error>> {
    use futures::StreamExt;
    use llmrelay_proxy::anthropic::MessageStreamEncoder;

    struct State {
        stream: llmrelay_pipeline::ServedStream<llmrelay_core::types::ChatChunk>,
        encoder: MessageStreamEncoder,
        ready: std::collections::VecDeque<Vec<u8>>,
        ended: bool,
    }
    /// Split an encoder's output into its events.
    fn push_events(out: &[u8], ready: &mut std::collections::VecDeque<Vec<u8>>) {
        let mut start = 0;
        while let Some(at) = out[start..].windows(2).position(|w| w == b"\n\n") {
            ready.push_back(out[start..start + at + 2].to_vec());
            start += at + 2;
        }
        if start < out.len() {
            ready.push_back(out[start..].to_vec());
        }
    }
    let state = State {
        stream,
        encoder: MessageStreamEncoder::new(model),
        ready: std::collections::VecDeque::new(),
        ended: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.ready.pop_front() {
                return Some((Ok(event), state));
            }
            if state.ended {
                return None;
            }
            let mut out = Vec::new();
            match state.stream.next().await {
                Some(Ok(chunk)) => state.encoder.chunk(&chunk, &mut out),
                Some(Err(error)) => {
                    state.encoder.error(&error, &mut out);
                    state.ended = true;
                }
                None => {
                    state.encoder.finish(&mut out);
                    state.ended = true;
                }
            }
            push_events(&out, &mut state.ready);
        }
    })
    .boxed()
}

/// Anthropic Messages API keyword arguments as the chat call the engine runs
/// (`litellm.anthropic.messages.create`): the request translated as the proxy's `/v1/messages`
/// does, and every other keyword (`api_key`, `api_base`, `mock_response`, …) passed along.
#[pyfunction]
pub(crate) fn anthropic_chat_params<'py>(
    py: Python<'py>,
    params: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    const MESSAGES_API: &[&str] = &[
        "model",
        "max_tokens",
        "system",
        "messages",
        "tools",
        "tool_choice",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "thinking",
        "stream",
        "service_tier",
    ];
    let body = params_from_py(params)?;
    let mut chat = llmrelay_proxy::anthropic::request_to_chat(&body).map_err(|e| to_py_err(&e))?;
    for (key, value) in body {
        if !MESSAGES_API.contains(&key.as_str()) && !value.is_null() {
            chat.entry(key).or_insert(value);
        }
    }
    pythonize(py, &chat).map_err(|e| json_err(&e))
}

/// `_hidden_params` as a dict.
pub(crate) fn hidden_to_py<'py>(
    py: Python<'py>,
    hidden: &HiddenParams,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("custom_llm_provider", &hidden.custom_llm_provider)?;
    dict.set_item("litellm_model_name", &hidden.model)?;
    dict.set_item("api_base", &hidden.api_base)?;
    dict.set_item("response_cost", hidden.response_cost)?;
    dict.set_item("_response_ms", hidden.response_ms)?;
    dict.set_item("model_id", &hidden.model_id)?;
    let headers = PyDict::new(py);
    for (name, value) in &hidden.headers {
        headers.set_item(name, value)?;
    }
    dict.set_item("additional_headers", headers)?;
    dict.set_item("num_retries", hidden.num_retries)?;
    if hidden.cache_hit {
        dict.set_item("cache_hit", true)?;
        dict.set_item("cache_key", &hidden.cache_key)?;
    }
    Ok(dict)
}

fn pair(py: Python<'_>, body: Bound<'_, PyAny>, hidden: Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    Ok(PyTuple::new(py, [body, hidden.into_any()])?
        .into_any()
        .unbind())
}

/// `(response dict, hidden params dict)` for a whole answer (the payload, when asked for,
/// under `_standard_logging_object`), or a `Stream`.
pub(crate) fn ready_to_py(py: Python<'_>, ready: Ready) -> PyResult<Py<PyAny>> {
    match ready {
        Ready::Stream(stream) => Ok(Py::new(py, stream)?.into_any()),
        Ready::Whole {
            outcome,
            route,
            rendered,
            payload,
        } => {
            let hidden = hidden_to_py(py, &with_route(outcome.hidden(), &route))?;
            if let Some(payload) = payload {
                hidden.set_item(
                    "_standard_logging_object",
                    pythonize(py, &*payload).map_err(|e| json_err(&e))?,
                )?;
            }
            let body = match (&rendered, &outcome) {
                (Some(rendered), _) => pythonize(py, rendered),
                (None, Outcome::Chat(ChatOutcome::Whole(r))) => pythonize(py, &r.response),
                (None, Outcome::Text(TextOutcome::Whole(r))) => pythonize(py, &r.response),
                (None, Outcome::Embedding(r)) => pythonize(py, &r.response),
                (None, Outcome::Json(r)) => pythonize(py, &r.response),
                (None, _) => return Err(PyValueError::new_err("a stream answered as whole")),
            }
            .map_err(|e| json_err(&e))?;
            pair(py, body, hidden)
        }
    }
}

/// Run a call synchronously with the GIL released.
pub(crate) fn call_sync(
    py: Python<'_>,
    call: Box<Call>,
    dispatcher: Dispatcher,
    attempts: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    match py.detach(|| runtime().block_on(run(call, dispatcher, attempts))) {
        Ok(ready) => ready_to_py(py, ready),
        Err(failure) => Err(failure_to_py(py, &failure)),
    }
}

/// A call of `kind` (a LiteLLM function name: `completion`, `embedding`, `image_generation`,
/// …): `(response, hidden_params)` or a `Stream`.
#[pyfunction]
#[pyo3(signature = (kind, params, log=false))]
fn call(py: Python<'_>, kind: &str, params: &Bound<'_, PyDict>, log: bool) -> PyResult<Py<PyAny>> {
    let call = parse_call(kind_named(kind)?, params, log, false)?;
    call_sync(py, call, Dispatcher::Direct, None)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(call, m)?)?;
    m.add_function(wrap_pyfunction!(anthropic_chat_params, m)?)?;
    Ok(())
}
