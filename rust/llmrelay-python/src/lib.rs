//! `llmrelay._native`: the Python binding. It converts objects, releases the GIL around all
//! engine work, and bridges async; the logic lives in the engine crates.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use futures::StreamExt;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use pythonize::{depythonize, pythonize};
use serde_json::{Map, Value};

use llmrelay_core::types::{ChatChunk, TextCompletionResponse};
use llmrelay_core::{Error, catalog, cost, detect, tokens};
use llmrelay_providers::Engine;
use llmrelay_providers::engine::{ChatOutcome, HiddenParams, StreamResult, TextOutcome};
use llmrelay_providers::litellm_params::LITELLM_PARAMS;
use llmrelay_providers::responses::ResponsesOutcome;
use llmrelay_providers::stream::{AccountedStream, StreamSummary};

mod bridge;
mod proxy;
mod router;

create_exception!(
    _native,
    NativeError,
    PyException,
    "An engine error; the facade maps it to LiteLLM's classes."
);

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Raise an engine error as `NativeError(kind, message, status, provider, model, retry_after,
/// headers, body, num_retries, param)`.
pub(crate) fn to_py_err(error: &Error) -> PyErr {
    let inner = error.inner();
    let body = inner.body.as_ref().map(ToString::to_string);
    NativeError::new_err((
        inner.kind.as_str(),
        inner.message.clone(),
        error.status_code(),
        inner.provider.clone(),
        inner.model.clone(),
        inner.retry_after,
        inner.headers.clone(),
        body,
        inner.num_retries,
        inner.param.clone(),
    ))
}

fn json_err(error: &pythonize::PythonizeError) -> PyErr {
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

// ---------------------------------------------------------------------------------------------
// Tokens, cost, catalog, detection
// ---------------------------------------------------------------------------------------------

fn json_list(value: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<Vec<Value>>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    match depythonize::<Value>(value) {
        Ok(Value::Array(items)) => Ok(Some(items)),
        Ok(_) => Err(to_py_err(
            &Error::bad_request(format!("{name} must be a list")).with_param(name),
        )),
        Err(error) => Err(to_py_err(
            &Error::bad_request(format!("{name}: {error}")).with_param(name),
        )),
    }
}

#[pyfunction]
#[pyo3(signature = (model, messages=None, text=None, tools=None, tool_choice=None, count_response_tokens=false, use_default_image_token_count=false, default_token_count=None))]
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors LiteLLM's token_counter signature"
)]
fn token_counter(
    py: Python<'_>,
    model: &str,
    messages: Option<&Bound<'_, PyAny>>,
    text: Option<&Bound<'_, PyAny>>,
    tools: Option<&Bound<'_, PyAny>>,
    tool_choice: Option<&Bound<'_, PyAny>>,
    count_response_tokens: bool,
    use_default_image_token_count: bool,
    default_token_count: Option<usize>,
) -> PyResult<usize> {
    if let Some(text) = text.filter(|t| !t.is_none()) {
        if let Ok(text) = text.cast::<PyString>() {
            let text = text.to_str()?;
            return Ok(py.detach(|| tokens::count_text_for_model(model, text)));
        }
        let pieces: Vec<String> = text.extract()?;
        return Ok(pieces
            .iter()
            .map(|p| tokens::count_text_for_model(model, p))
            .sum());
    }
    let messages = json_list(messages, "messages")?.unwrap_or_default();
    let tools = json_list(tools, "tools")?;
    let tool_choice = match tool_choice.filter(|t| !t.is_none()) {
        Some(choice) => Some(depythonize::<Value>(choice).map_err(|e| json_err(&e))?),
        None => None,
    };
    let options = tokens::CountOptions {
        count_response_tokens,
        use_default_image_token_count,
        default_token_count,
    };
    tokens::count_messages(
        model,
        &messages,
        tools.as_deref(),
        tool_choice.as_ref(),
        &options,
    )
    .map_err(|e| to_py_err(&Error::bad_request(e.to_string())))
}

fn encoding_named(name: &str) -> PyResult<tokens::Encoding> {
    tokens::Encoding::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown encoding {name:?}: use o200k_base or cl100k_base"
        ))
    })
}

/// Token ids of `text` in the named encoding (tiktoken's, with `disallowed_special=()`).
#[pyfunction]
fn encode(encoding: &str, text: &str) -> PyResult<Vec<u32>> {
    Ok(tokens::encode(encoding_named(encoding)?, text))
}

#[pyfunction]
fn decode(encoding: &str, tokens_list: Vec<u32>) -> PyResult<String> {
    tokens::decode(encoding_named(encoding)?, &tokens_list)
        .map_err(|e| to_py_err(&Error::bad_request(e.to_string())))
}

/// The encoding `token_counter` uses for a model.
#[pyfunction]
fn encoding_name(model: &str) -> &'static str {
    tokens::encoding_for_model(model).name()
}

/// `(prompt_cost, completion_cost, breakdown dict)` in USD.
#[pyfunction]
#[pyo3(signature = (model, prompt_tokens=0, completion_tokens=0, cache_read_tokens=0, cache_creation_tokens=0, reasoning_tokens=0, custom_llm_provider=None, service_tier=None, input_cost_per_token=None, output_cost_per_token=None))]
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors LiteLLM's cost_per_token signature"
)]
fn cost_per_token<'py>(
    py: Python<'py>,
    model: &str,
    prompt_tokens: u64,
    completion_tokens: u64,
    cache_read_tokens: u64,
    cache_creation_tokens: u64,
    reasoning_tokens: u64,
    custom_llm_provider: Option<&str>,
    service_tier: Option<&str>,
    input_cost_per_token: Option<f64>,
    output_cost_per_token: Option<f64>,
) -> PyResult<Bound<'py, PyTuple>> {
    let tokens = cost::TokenCounts {
        prompt_tokens,
        completion_tokens,
        cache_read_tokens,
        cache_creation_tokens,
        reasoning_tokens,
    };
    let overrides = cost::PriceOverrides {
        input_cost_per_token: input_cost_per_token.and_then(catalog::decimal_from_f64),
        output_cost_per_token: output_cost_per_token.and_then(catalog::decimal_from_f64),
    };
    let provider = custom_llm_provider.map(str::to_owned).or_else(|| {
        // Bare names resolve through detection, as LiteLLM's get_llm_provider.
        detect::resolve(model, None, None).ok().map(|r| r.provider)
    });
    let breakdown = cost::for_model(model, provider.as_deref(), tokens, overrides, service_tier)
        .map_err(|e| to_py_err(&e))?;
    let details = PyDict::new(py);
    details.set_item("input_cost", cost::to_f64(breakdown.input_cost))?;
    details.set_item("output_cost", cost::to_f64(breakdown.output_cost))?;
    details.set_item("cache_read_cost", cost::to_f64(breakdown.cache_read_cost))?;
    details.set_item(
        "cache_creation_cost",
        cost::to_f64(breakdown.cache_creation_cost),
    )?;
    details.set_item("reasoning_cost", cost::to_f64(breakdown.reasoning_cost))?;
    details.set_item("total_cost", cost::to_f64(breakdown.total()))?;
    PyTuple::new(
        py,
        [
            cost::to_f64(breakdown.prompt_cost())
                .into_pyobject(py)?
                .into_any(),
            cost::to_f64(breakdown.completion_cost())
                .into_pyobject(py)?
                .into_any(),
            details.into_any(),
        ],
    )
}

/// The catalog entry of a model (raw fields plus `key`), or `None`.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider=None))]
fn model_info<'py>(
    py: Python<'py>,
    model: &str,
    custom_llm_provider: Option<&str>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let catalog = catalog::global();
    let Some(entry) = catalog.lookup(model, custom_llm_provider) else {
        return Ok(None);
    };
    let mut raw = entry.raw.clone();
    raw.insert("key".to_owned(), Value::String(entry.key.clone()));
    pythonize(py, &raw).map(Some).map_err(|e| json_err(&e))
}

/// The text of the cost map in use (bundled, or the override file).
#[pyfunction]
fn model_cost_map_text() -> PyResult<String> {
    for name in ["LLMRELAY_MODEL_COST_MAP", "LITELLM_MODEL_COST_MAP_URL"] {
        if let Ok(path) = std::env::var(name) {
            let path = path.strip_prefix("file://").unwrap_or(&path).to_owned();
            if std::path::Path::new(&path).is_file() {
                return std::fs::read_to_string(&path)
                    .map_err(|e| PyValueError::new_err(format!("cannot read {path}: {e}")));
            }
        }
    }
    Ok(catalog::BUNDLED_MAP.to_owned())
}

/// Merge entries into the catalog; returns the keys added or updated.
#[pyfunction]
#[pyo3(signature = (entries, custom_llm_provider=None))]
fn register_model(
    entries: &Bound<'_, PyDict>,
    custom_llm_provider: Option<&str>,
) -> PyResult<Vec<String>> {
    let map: Map<String, Value> = depythonize(entries.as_any()).map_err(|e| json_err(&e))?;
    Ok(catalog::register(map, custom_llm_provider))
}

/// Replace the catalog from a JSON file; returns the entry count.
#[pyfunction]
fn load_model_cost_map(path: &str) -> PyResult<usize> {
    catalog::load_file(path).map_err(|e| to_py_err(&e))
}

/// `(model, provider)` as LiteLLM's `get_llm_provider` resolves them.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider=None, api_base=None))]
fn get_llm_provider(
    model: &str,
    custom_llm_provider: Option<&str>,
    api_base: Option<&str>,
) -> PyResult<(String, String)> {
    detect::resolve(model, custom_llm_provider, api_base)
        .map(|r| (r.model, r.provider))
        .map_err(|e| to_py_err(&e))
}

#[pyfunction]
fn provider_list() -> Vec<&'static str> {
    detect::PROVIDERS.to_vec()
}

/// The OpenAI parameters a provider accepts for a model (`None`: all of them; unknown provider:
/// `None` too, the facade decides).
#[pyfunction]
fn supported_openai_params(model: &str, provider: &str) -> Option<Vec<&'static str>> {
    llmrelay_providers::provider::lookup(provider)?.supported_openai_params(model)
}

#[pyfunction]
fn implemented_providers() -> Vec<&'static str> {
    llmrelay_providers::provider::implemented()
}

// ---------------------------------------------------------------------------------------------
// The mock upstream
// ---------------------------------------------------------------------------------------------

/// A mock upstream server running on the engine's runtime.
#[pyclass(module = "llmrelay._native")]
struct MockServer {
    server: Option<llmrelay_mock::MockServer>,
    base_url: String,
    port: u16,
}

#[pymethods]
impl MockServer {
    /// Start on `host:port` (port 0 picks a free one) with an optional config dict
    /// (`latency_ms`, `ttft_ms`, `chunk_count`, `chunk_interval_ms`, `content`, …).
    #[new]
    #[pyo3(signature = (host="127.0.0.1", port=0, config=None))]
    fn new(
        py: Python<'_>,
        host: &str,
        port: u16,
        config: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let mut mock_config = llmrelay_mock::MockConfig::default();
        if let Some(config) = config {
            let patch: Value = depythonize(config.as_any()).map_err(|e| json_err(&e))?;
            mock_config = mock_config
                .merge_json(&patch)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        let addr: std::net::SocketAddr = format!("{host}:{port}")
            .parse()
            .map_err(|e| PyValueError::new_err(format!("bad address {host}:{port}: {e}")))?;
        let server = py
            .detach(|| runtime().block_on(llmrelay_mock::MockServer::start(addr, mock_config)))
            .map_err(|e| {
                PyValueError::new_err(format!("cannot start mock server on {addr}: {e}"))
            })?;
        let base_url = server.base_url();
        let port = server.local_addr().port();
        Ok(Self {
            server: Some(server),
            base_url,
            port,
        })
    }

    #[getter]
    fn base_url(&self) -> String {
        self.base_url.clone()
    }

    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// Stop serving (graceful).
    fn stop(&mut self, py: Python<'_>) {
        if let Some(server) = self.server.take() {
            py.detach(|| runtime().block_on(server.shutdown()));
        }
    }

    /// Block (GIL released) until Ctrl-C, then stop.
    fn serve_forever(&mut self, py: Python<'_>) -> PyResult<()> {
        loop {
            let interrupted = py.detach(|| {
                runtime().block_on(async {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => true,
                        () = tokio::time::sleep(std::time::Duration::from_millis(200)) => false,
                    }
                })
            });
            py.check_signals()?;
            if interrupted {
                self.stop(py);
                return Ok(());
            }
        }
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_class::<Stream>()?;
    m.add_class::<MockServer>()?;
    m.add_class::<bridge::AsyncBridge>()?;
    m.add_class::<router::PyRouter>()?;
    m.add_function(wrap_pyfunction!(completion, m)?)?;
    m.add_function(wrap_pyfunction!(responses, m)?)?;
    m.add_function(wrap_pyfunction!(text_completion, m)?)?;
    m.add_function(wrap_pyfunction!(embedding, m)?)?;
    m.add_function(wrap_pyfunction!(operation, m)?)?;
    m.add_function(wrap_pyfunction!(token_counter, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(encoding_name, m)?)?;
    m.add_function(wrap_pyfunction!(cost_per_token, m)?)?;
    m.add_function(wrap_pyfunction!(model_info, m)?)?;
    m.add_function(wrap_pyfunction!(model_cost_map_text, m)?)?;
    m.add_function(wrap_pyfunction!(register_model, m)?)?;
    m.add_function(wrap_pyfunction!(load_model_cost_map, m)?)?;
    m.add_function(wrap_pyfunction!(get_llm_provider, m)?)?;
    m.add_function(wrap_pyfunction!(provider_list, m)?)?;
    m.add_function(wrap_pyfunction!(implemented_providers, m)?)?;
    m.add_function(wrap_pyfunction!(supported_openai_params, m)?)?;
    m.add_function(wrap_pyfunction!(proxy::proxy_prepare, m)?)?;
    m.add_function(wrap_pyfunction!(proxy::proxy_serve, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
