//! `litellm.cache`: the response cache (`llmrelay-cache`) as a Python object, and its layers
//! in the SDK pipeline while it is installed (`install_cache`, called by the facade when
//! `litellm.cache` changes).

use std::sync::{PoisonError, RwLock};

use pyo3::exceptions::{PyConnectionError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::{depythonize, pythonize};
use serde_json::{Map, Value};

use llmrelay_cache::key::PresetKey;
use llmrelay_cache::{Cache, CacheParams, Entry, Stored, StoredKind};

use crate::{json_err, params_from_py, runtime};

/// The cache the SDK pipeline uses (the facade's `litellm.cache`), if any.
static INSTALLED: RwLock<Option<Cache>> = RwLock::new(None);

/// The key of an SDK call from its keyword arguments, in their order, when a cache is
/// installed.
pub(crate) fn preset(params: &Map<String, Value>) -> Option<PresetKey> {
    let installed = INSTALLED.read().unwrap_or_else(PoisonError::into_inner);
    // completion(model, messages, **kwargs): the facade appends the named arguments last;
    // LiteLLM's callers pass them first.
    installed
        .as_ref()
        .map(|cache| cache.preset_key_from(params, &["model", "messages", "input", "prompt"]))
}

fn kind_named(kind: &str) -> PyResult<StoredKind> {
    match kind {
        "chat" => Ok(StoredKind::Chat),
        "text" => Ok(StoredKind::Text),
        "embedding" => Ok(StoredKind::Embedding),
        other => Err(PyValueError::new_err(format!(
            "unknown answer kind '{other}' (chat, text, embedding)"
        ))),
    }
}

/// The call a semantic cache's Python API is asked about, from LiteLLM's keyword arguments.
fn semantic_call(
    kind: StoredKind,
    params: &Bound<'_, PyDict>,
) -> PyResult<llmrelay_pipeline::Call> {
    let params = params_from_py(params)?;
    let kind = match kind {
        StoredKind::Chat => llmrelay_core::CallKind::Chat,
        StoredKind::Text => llmrelay_core::CallKind::TextCompletion,
        StoredKind::Embedding => llmrelay_core::CallKind::Embedding,
    };
    llmrelay_pipeline::Call::parse(kind, params, llmrelay_pipeline::Origin::Sdk)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Which kind of call LiteLLM's keyword arguments describe.
fn kind_of_params(params: &Bound<'_, PyDict>) -> PyResult<StoredKind> {
    if params.contains("messages")? {
        Ok(StoredKind::Chat)
    } else if params.contains("prompt")? {
        Ok(StoredKind::Text)
    } else {
        Ok(StoredKind::Embedding)
    }
}

fn failed(error: &llmrelay_cache::CacheError) -> PyErr {
    PyConnectionError::new_err(error.to_string())
}

/// A response cache (what `litellm.caching.caching.Cache` wraps).
#[pyclass(name = "ResponseCache", frozen)]
pub(crate) struct PyResponseCache {
    inner: Cache,
}

#[pymethods]
impl PyResponseCache {
    /// A cache from LiteLLM's `Cache(...)` keyword arguments (the non-`None` ones).
    #[new]
    fn new(params: &Bound<'_, PyDict>) -> PyResult<Self> {
        let params: Map<String, Value> = depythonize(params).map_err(|e| json_err(&e))?;
        let params =
            CacheParams::from_map(&params).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let inner = Cache::new(params).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Self { inner })
    }

    /// `type`: local, disk, redis, redis-semantic or local-semantic.
    #[getter]
    fn cache_type(&self) -> &'static str {
        self.inner.params().kind.as_str()
    }

    /// LiteLLM's `get_cache_key(**kwargs)`.
    fn key(&self, params: &Bound<'_, PyDict>) -> PyResult<String> {
        let params = params_from_py(params)?;
        Ok(self.inner.preset_key(&params).0.to_string())
    }

    /// The answer stored under `key` as a dict (`None` when absent, expired, or older than
    /// `max_age` seconds). A semantic cache given the call's keyword arguments (`params`)
    /// also finds the most similar prompt in the call's scope.
    #[pyo3(signature = (key, max_age=None, params=None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &str,
        max_age: Option<f64>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let cache = self.inner.clone();
        let entry = match params.filter(|_| cache.semantic().is_some()) {
            Some(params) => {
                let call = semantic_call(kind_of_params(params)?, params)?;
                py.detach(|| runtime().block_on(cache.semantic_find(&call, key)))
                    .map_err(|e| failed(&e))?
                    .map(|(entry, _)| entry)
            }
            None => py
                .detach(|| runtime().block_on(cache.get(key)))
                .map_err(|e| failed(&e))?,
        };
        let Some(entry) = entry else {
            return Ok(None);
        };
        let controls = llmrelay_cache::Controls {
            s_maxage: max_age,
            ..llmrelay_cache::Controls::default()
        };
        if !Cache::fresh(&entry, &controls) {
            return Ok(None);
        }
        let value = match &entry.answer {
            Stored::Chat(response) => serde_json::to_value(response),
            Stored::Text(response) => serde_json::to_value(response),
            Stored::Embedding(response) => serde_json::to_value(response),
        }
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Some(
            pythonize(py, &value).map_err(|e| json_err(&e))?.unbind(),
        ))
    }

    /// Store `response` (a dict of the kind named) under `key` for `ttl` seconds (the cache's
    /// TTL when `None`). A semantic cache needs the call's keyword arguments (`params`) for
    /// the prompt; without prompt text nothing is stored, as in LiteLLM.
    #[pyo3(signature = (key, kind, response, ttl=None, params=None))]
    fn set(
        &self,
        py: Python<'_>,
        key: String,
        kind: &str,
        response: &Bound<'_, PyAny>,
        ttl: Option<f64>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let kind = kind_named(kind)?;
        let value: Value = depythonize(response).map_err(|e| json_err(&e))?;
        let answer = Stored::from_json(kind, &value).ok_or_else(|| {
            PyValueError::new_err("the response does not have the shape of its kind")
        })?;
        let entry = Entry {
            timestamp: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64(),
            provider: String::new(),
            model: value
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            answer,
        };
        let controls = llmrelay_cache::Controls {
            ttl,
            ..llmrelay_cache::Controls::default()
        };
        let ttl = self.inner.ttl_for(&controls);
        if self.inner.semantic().is_some() {
            let Some(params) = params else {
                return Err(PyValueError::new_err(
                    "a semantic cache stores an answer with its call's parameters",
                ));
            };
            let call = semantic_call(kind, params)?;
            let cache = self.inner.clone();
            let entry = std::sync::Arc::new(entry);
            py.detach(|| runtime().block_on(cache.semantic_put(&call, &key, entry, ttl)))
                .map_err(|e| failed(&e))?;
            return Ok(());
        }
        // A disk or Redis write goes through the write queue, which runs on our runtime.
        let _entered = runtime().enter();
        self.inner.put(key, std::sync::Arc::new(entry), ttl);
        Ok(())
    }

    /// Remove `keys`; how many were there.
    fn delete(&self, py: Python<'_>, keys: Vec<String>) -> PyResult<usize> {
        let cache = self.inner.clone();
        py.detach(|| runtime().block_on(cache.delete(&keys)))
            .map_err(|e| failed(&e))
    }

    /// Remove everything.
    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        let cache = self.inner.clone();
        py.detach(|| runtime().block_on(cache.clear()))
            .map_err(|e| failed(&e))
    }

    /// Raise `ConnectionError` when the store does not answer.
    fn ping(&self, py: Python<'_>) -> PyResult<()> {
        let cache = self.inner.clone();
        py.detach(|| runtime().block_on(cache.ping()))
            .map_err(|e| failed(&e))
    }

    /// Wait until queued writes reached the store.
    fn flush_writes(&self, py: Python<'_>) {
        let cache = self.inner.clone();
        py.detach(|| runtime().block_on(cache.flush_writes()));
    }

    /// Stop the write queue (the disk file closes when the cache is dropped).
    fn close(&self, py: Python<'_>) {
        let cache = self.inner.clone();
        py.detach(|| runtime().block_on(cache.shutdown()));
    }

    /// `{"hits", "misses", "stores", "errors"}`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.inner.stats();
        let dict = PyDict::new(py);
        dict.set_item("hits", stats.hits)?;
        dict.set_item("misses", stats.misses)?;
        dict.set_item("stores", stats.stores)?;
        dict.set_item("errors", stats.errors)?;
        Ok(dict)
    }
}

/// Use `cache` for SDK calls (`None`: no cache; the pipeline then has no cache layers).
#[pyfunction]
#[pyo3(signature = (cache=None))]
fn install_cache(cache: Option<&Bound<'_, PyResponseCache>>) {
    let cache = cache.map(|c| c.get().inner.clone());
    let layers = cache.as_ref().map(Cache::layers);
    *INSTALLED.write().unwrap_or_else(PoisonError::into_inner) = cache;
    crate::calls::install_sdk_layers("cache", layers);
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyResponseCache>()?;
    m.add_function(wrap_pyfunction!(install_cache, m)?)?;
    Ok(())
}
