//! `llmrelay._native`: the Python binding. It converts objects, releases the GIL around all
//! engine work, and bridges async; the logic lives in the engine crates.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use futures::StreamExt;
use pyo3::exceptions::{PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pythonize::{depythonize, pythonize};
use serde_json::{Map, Value};

use llmrelay_core::Error;
use llmrelay_core::types::{ChatChunk, TextCompletionResponse};
use llmrelay_providers::Engine;
use llmrelay_providers::engine::{ChatOutcome, HiddenParams, StreamResult, TextOutcome};
use llmrelay_providers::litellm_params::LITELLM_PARAMS;
use llmrelay_providers::responses::ResponsesOutcome;
use llmrelay_providers::stream::{AccountedStream, StreamSummary};

mod bridge;
mod errors;
mod facts;
mod mock;
mod proxy;
mod router;

pub(crate) use errors::to_py_err;

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

pub(crate) fn json_err(error: &pythonize::PythonizeError) -> PyErr {
    PyValueError::new_err(error.to_string())
}

/// Keyword arguments → JSON map. A value that is not JSON-like is an error naming it, unless
/// it is one of LiteLLM's own parameters that never goes upstream (e.g. `logger_fn`).
pub(crate) fn params_from_py(params: &Bound<'_, PyDict>) -> PyResult<Map<String, Value>> {
    let mut map = Map::with_capacity(params.len());
    for (key, value) in params.iter() {
        let key: String = key.extract()?;
        match depythonize::<Value>(&value) {
            Ok(json) => {
                map.insert(key, json);
            }
            Err(_) if LITELLM_PARAMS.binary_search(&key.as_str()).is_ok() => {}
            Err(error) => {
                return Err(to_py_err(
                    &Error::bad_request(format!(
                        "parameter '{key}' is not JSON-serializable: {error}"
                    ))
                    .with_param(key.clone()),
                ));
            }
        }
    }
    Ok(map)
}

fn hidden_to_py<'py>(py: Python<'py>, hidden: &HiddenParams) -> PyResult<Bound<'py, PyDict>> {
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
    Ok(dict)
}

fn summary_to_py<'py>(py: Python<'py>, summary: &StreamSummary) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let usage = match &summary.usage {
        Some(usage) => Some(pythonize(py, usage).map_err(|e| json_err(&e))?),
        None => None,
    };
    dict.set_item("usage", usage)?;
    dict.set_item("response_cost", summary.response_cost)?;
    let seconds = |t: Option<SystemTime>| t.map(llmrelay_providers::engine::epoch_seconds);
    dict.set_item(
        "completion_start_time",
        seconds(summary.completion_start_time),
    )?;
    dict.set_item("end_time", seconds(summary.end_time))?;
    dict.set_item("finish_reason", &summary.finish_reason)?;
    dict.set_item("chunks", summary.chunks)?;
    dict.set_item("error", &summary.error)?;
    dict.set_item("finished", summary.finished)?;
    Ok(dict)
}

/// `(response dict, hidden params dict)` for a whole response.
pub(crate) fn whole_to_py<T: serde::Serialize>(
    py: Python<'_>,
    response: &T,
    hidden: &HiddenParams,
) -> PyResult<Py<PyAny>> {
    let body = pythonize(py, response).map_err(|e| json_err(&e))?;
    let hidden = hidden_to_py(py, hidden)?;
    Ok(PyTuple::new(py, [body, hidden.into_any()])?
        .into_any()
        .unbind())
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

enum AnyStream {
    Chat(AccountedStream<ChatChunk>),
    Text(AccountedStream<TextCompletionResponse>),
    /// Responses API events.
    Json(futures::stream::BoxStream<'static, Result<Value, Error>>),
}

pub(crate) enum AnyChunk {
    Chat(ChatChunk),
    Text(TextCompletionResponse),
    Json(Value),
}

impl AnyStream {
    async fn next(&mut self) -> Option<Result<AnyChunk, Error>> {
        match self {
            Self::Chat(stream) => stream.next().await.map(|r| r.map(AnyChunk::Chat)),
            Self::Text(stream) => stream.next().await.map(|r| r.map(AnyChunk::Text)),
            Self::Json(stream) => stream.next().await.map(|r| r.map(AnyChunk::Json)),
        }
    }
}

pub(crate) fn chunk_to_py(py: Python<'_>, chunk: &AnyChunk) -> PyResult<Py<PyAny>> {
    let value = match chunk {
        AnyChunk::Chat(chunk) => pythonize(py, chunk),
        AnyChunk::Text(chunk) => pythonize(py, chunk),
        AnyChunk::Json(value) => pythonize(py, value),
    };
    value.map(Bound::unbind).map_err(|e| json_err(&e))
}

/// A stream of chunk dicts, iterable from sync and async code.
#[pyclass(frozen, module = "llmrelay._native")]
pub(crate) struct Stream {
    inner: Arc<tokio::sync::Mutex<Option<AnyStream>>>,
    summary: Arc<Mutex<StreamSummary>>,
    hidden: HiddenParams,
}

type SharedStream = Arc<tokio::sync::Mutex<Option<AnyStream>>>;

impl Stream {
    pub(crate) fn inner(&self) -> SharedStream {
        Arc::clone(&self.inner)
    }

    fn new(stream: AnyStream, summary: Arc<Mutex<StreamSummary>>, hidden: HiddenParams) -> Self {
        Self {
            inner: Arc::new(tokio::sync::Mutex::new(Some(stream))),
            summary,
            hidden,
        }
    }
}

pub(crate) async fn next_item(
    inner: Arc<tokio::sync::Mutex<Option<AnyStream>>>,
) -> Option<Result<AnyChunk, Error>> {
    let mut guard = inner.lock().await;
    let stream = guard.as_mut()?;
    let item = stream.next().await;
    if item.is_none() || matches!(item, Some(Err(_))) {
        // Ended: drop it now so the books close before the caller reads them.
        *guard = None;
    }
    item
}

#[pymethods]
impl Stream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let inner = Arc::clone(&self.inner);
        let item = py.detach(|| runtime().block_on(next_item(inner)));
        match item {
            None => Err(PyStopIteration::new_err(())),
            Some(Ok(chunk)) => chunk_to_py(py, &chunk),
            Some(Err(error)) => Err(to_py_err(&error)),
        }
    }

    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Stop early: the upstream request is cancelled and the books close.
    fn close(&self, py: Python<'_>) {
        let inner = Arc::clone(&self.inner);
        py.detach(|| {
            runtime().block_on(async move {
                inner.lock().await.take();
            });
        });
    }

    /// Usage, cost and timings (final once `finished` is true).
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let summary = match self.summary.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        summary_to_py(py, &summary)
    }

    /// The call's `_hidden_params`.
    fn hidden_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        hidden_to_py(py, &self.hidden)
    }
}

pub(crate) fn chat_outcome_to_py(py: Python<'_>, outcome: ChatOutcome) -> PyResult<Py<PyAny>> {
    match outcome {
        ChatOutcome::Whole(result) => whole_to_py(py, &result.response, &result.hidden),
        ChatOutcome::Stream(StreamResult { stream, hidden }) => {
            let summary = stream.summary();
            let stream = Stream::new(AnyStream::Chat(stream), summary, hidden);
            Ok(Py::new(py, stream)?.into_any())
        }
    }
}

pub(crate) fn text_outcome_to_py(py: Python<'_>, outcome: TextOutcome) -> PyResult<Py<PyAny>> {
    match outcome {
        TextOutcome::Whole(result) => whole_to_py(py, &result.response, &result.hidden),
        TextOutcome::Stream(StreamResult { stream, hidden }) => {
            let summary = stream.summary();
            let stream = Stream::new(AnyStream::Text(stream), summary, hidden);
            Ok(Py::new(py, stream)?.into_any())
        }
    }
}

pub(crate) fn responses_outcome_to_py(
    py: Python<'_>,
    outcome: ResponsesOutcome,
) -> PyResult<Py<PyAny>> {
    match outcome {
        ResponsesOutcome::Whole(result) => whole_to_py(py, &result.response, &result.hidden),
        ResponsesOutcome::Stream(stream) => {
            let inner = Stream::new(
                AnyStream::Json(stream.events),
                stream.summary,
                stream.hidden,
            );
            Ok(Py::new(py, inner)?.into_any())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------

/// Responses API. Returns `(response, hidden_params)` or a `Stream` of event dicts.
#[pyfunction]
fn responses(py: Python<'_>, params: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let params = params_from_py(params)?;
    let outcome = py.detach(|| runtime().block_on(Engine.responses(params)));
    match outcome {
        Ok(outcome) => responses_outcome_to_py(py, outcome),
        Err(error) => Err(to_py_err(&error)),
    }
}

/// Chat completion. Returns `(response, hidden_params)` or a `Stream`.
#[pyfunction]
fn completion(py: Python<'_>, params: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let params = params_from_py(params)?;
    let outcome = py.detach(|| runtime().block_on(Engine.completion(params)));
    match outcome {
        Ok(outcome) => chat_outcome_to_py(py, outcome),
        Err(error) => Err(to_py_err(&error)),
    }
}

#[pyfunction]
fn text_completion(py: Python<'_>, params: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let params = params_from_py(params)?;
    let outcome = py.detach(|| runtime().block_on(Engine.text_completion(params)));
    match outcome {
        Ok(outcome) => text_outcome_to_py(py, outcome),
        Err(error) => Err(to_py_err(&error)),
    }
}

#[pyfunction]
fn embedding(py: Python<'_>, params: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let params = params_from_py(params)?;
    let result = py.detach(|| runtime().block_on(Engine.embedding(params)));
    match result {
        Ok(result) => whole_to_py(py, &result.response, &result.hidden),
        Err(error) => Err(to_py_err(&error)),
    }
}

/// The extra endpoint named by its LiteLLM function name.
pub(crate) fn operation_named(name: &str) -> PyResult<llmrelay_providers::operations::Operation> {
    use llmrelay_providers::operations::Operation;
    match name {
        "image_generation" => Ok(Operation::ImageGeneration),
        "rerank" => Ok(Operation::Rerank),
        "moderation" => Ok(Operation::Moderation),
        "transcription" => Ok(Operation::Transcription),
        "speech" => Ok(Operation::Speech),
        other => Err(PyValueError::new_err(format!(
            "unknown operation '{other}'"
        ))),
    }
}

/// `image_generation` / `rerank` / `moderation`: `(response, hidden_params)`.
#[pyfunction]
fn operation(py: Python<'_>, name: &str, params: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let operation = operation_named(name)?;
    let params = params_from_py(params)?;
    let result = py.detach(|| runtime().block_on(Engine.operation(operation, params)));
    match result {
        Ok(result) => whole_to_py(py, &result.response, &result.hidden),
        Err(error) => Err(to_py_err(&error)),
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<Stream>()?;
    m.add_class::<mock::MockServer>()?;
    m.add_class::<bridge::AsyncBridge>()?;
    m.add_class::<router::PyRouter>()?;
    m.add_function(wrap_pyfunction!(completion, m)?)?;
    m.add_function(wrap_pyfunction!(responses, m)?)?;
    m.add_function(wrap_pyfunction!(text_completion, m)?)?;
    m.add_function(wrap_pyfunction!(embedding, m)?)?;
    m.add_function(wrap_pyfunction!(operation, m)?)?;
    facts::register(m)?;
    m.add_function(wrap_pyfunction!(proxy::proxy_prepare, m)?)?;
    m.add_function(wrap_pyfunction!(proxy::proxy_serve, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
