//! Streams crossing into Python: an iterator class over the pipeline's served stream, with its
//! books (usage, cost, timings) and, when the caller asked, the logging payload at its end.

use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use futures::stream::BoxStream;
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::pythonize;
use serde_json::Value;

use llmrelay_core::Error;
use llmrelay_core::clock::epoch_seconds;
use llmrelay_core::types::{ChatChunk, TextCompletionResponse};
use llmrelay_pipeline::{ServedStream, Settlement};
use llmrelay_providers::engine::HiddenParams;
use llmrelay_providers::stream::StreamSummary;

use crate::calls::hidden_to_py;
use crate::{json_err, runtime, to_py_err};

pub(crate) enum AnyStream {
    Chat(ServedStream<ChatChunk>),
    Text(ServedStream<TextCompletionResponse>),
    /// Responses API events (native, or rendered from a chat stream).
    Json(BoxStream<'static, Result<Value, Error>>),
    /// Server-sent events as bytes, one event each (Anthropic's Messages API stream).
    Sse(BoxStream<'static, Result<Vec<u8>, Error>>),
}

pub(crate) enum AnyChunk {
    Chat(ChatChunk),
    Text(TextCompletionResponse),
    Json(Value),
    Sse(Vec<u8>),
}

impl AnyStream {
    async fn next(&mut self) -> Option<Result<AnyChunk, Error>> {
        match self {
            Self::Chat(stream) => stream.next().await.map(|r| r.map(AnyChunk::Chat)),
            Self::Text(stream) => stream.next().await.map(|r| r.map(AnyChunk::Text)),
            Self::Json(stream) => stream.next().await.map(|r| r.map(AnyChunk::Json)),
            Self::Sse(stream) => stream.next().await.map(|r| r.map(AnyChunk::Sse)),
        }
    }
}

pub(crate) fn chunk_to_py(py: Python<'_>, chunk: &AnyChunk) -> PyResult<Py<PyAny>> {
    if let AnyChunk::Sse(bytes) = chunk {
        return Ok(pyo3::types::PyBytes::new(py, bytes).into_any().unbind());
    }
    let value = match chunk {
        AnyChunk::Chat(chunk) => pythonize(py, chunk),
        AnyChunk::Text(chunk) => pythonize(py, chunk),
        AnyChunk::Json(value) => pythonize(py, value),
        AnyChunk::Sse(_) => unreachable!("answered above"),
    };
    value.map(Bound::unbind).map_err(|e| json_err(&e))
}

type SharedStream = Arc<tokio::sync::Mutex<Option<AnyStream>>>;

/// A stream of chunk dicts, iterable from sync and async code.
#[pyclass(frozen, module = "llmrelay._native")]
pub(crate) struct Stream {
    inner: SharedStream,
    summary: Arc<Mutex<StreamSummary>>,
    hidden: HiddenParams,
    settlement: Arc<Mutex<Option<Settlement>>>,
}

impl Stream {
    pub(crate) fn inner(&self) -> SharedStream {
        Arc::clone(&self.inner)
    }

    pub(crate) fn new(
        stream: AnyStream,
        summary: Arc<Mutex<StreamSummary>>,
        hidden: HiddenParams,
        settlement: Arc<Mutex<Option<Settlement>>>,
    ) -> Self {
        Self {
            inner: Arc::new(tokio::sync::Mutex::new(Some(stream))),
            summary,
            hidden,
            settlement,
        }
    }
}

pub(crate) async fn next_item(inner: SharedStream) -> Option<Result<AnyChunk, Error>> {
    let mut guard = inner.lock().await;
    let stream = guard.as_mut()?;
    let item = stream.next().await;
    if item.is_none() || matches!(item, Some(Err(_))) {
        // Ended: drop it now so the books close before the caller reads them.
        *guard = None;
    }
    item
}

fn summary_to_py<'py>(py: Python<'py>, summary: &StreamSummary) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let usage = match &summary.usage {
        Some(usage) => Some(pythonize(py, usage).map_err(|e| json_err(&e))?),
        None => None,
    };
    dict.set_item("usage", usage)?;
    dict.set_item("response_cost", summary.response_cost)?;
    dict.set_item(
        "completion_start_time",
        summary.completion_start_time.map(epoch_seconds),
    )?;
    dict.set_item("end_time", summary.end_time.map(epoch_seconds))?;
    dict.set_item("finish_reason", &summary.finish_reason)?;
    dict.set_item("chunks", summary.chunks)?;
    dict.set_item("error", &summary.error)?;
    dict.set_item("finished", summary.finished)?;
    Ok(dict)
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
        let summary = self
            .summary
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        summary_to_py(py, &summary)
    }

    /// The call's `_hidden_params`.
    fn hidden_params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        hidden_to_py(py, &self.hidden)
    }

    /// LiteLLM's `standard_logging_object`, once the stream ended (when asked for).
    fn payload(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let payload = self
            .settlement
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(Settlement::payload);
        match payload {
            Some(payload) => pythonize(py, &*payload)
                .map(|p| Some(p.unbind()))
                .map_err(|e| json_err(&e)),
            None => Ok(None),
        }
    }
}
