//! `llmrelay._native.Router`: the Rust router behind `llmrelay.Router`. Calls release the GIL
//! (sync) or complete through the `AsyncBridge` (async); results are the same objects
//! `completion()` returns.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pythonize::{depythonize, pythonize};
use serde_json::{Map, Value};

use llmrelay_core::Error;
use llmrelay_router::Router;

use crate::calls::{Dispatcher, call_sync, kind_named, parse_call};
use crate::{params_from_py, runtime, to_py_err};

/// A router over deployments (LiteLLM's `Router`), built from a config dict.
#[pyclass(name = "Router", frozen, module = "llmrelay._native")]
pub struct PyRouter {
    pub(crate) inner: Router,
}

fn json_from_py(value: &Bound<'_, PyAny>, name: &str) -> PyResult<Value> {
    depythonize::<Value>(value).map_err(|e| {
        to_py_err(&Error::bad_request(format!("{name} must be JSON-like: {e}")).with_param(name))
    })
}

fn to_py(py: Python<'_>, value: &impl serde::Serialize) -> PyResult<Py<PyAny>> {
    pythonize(py, value)
        .map(Bound::unbind)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

#[pymethods]
impl PyRouter {
    /// Build from `Router(**kwargs)` as a dict (`model_list` plus router settings).
    #[new]
    fn new(py: Python<'_>, config: &Bound<'_, PyDict>) -> PyResult<Self> {
        let config = json_from_py(config.as_any(), "config")?;
        // Background tasks (Redis sync, health checks) run on the engine's runtime.
        let inner = py.detach(|| {
            let _guard = runtime().enter();
            Router::from_value(config)
        });
        inner.map(|inner| Self { inner }).map_err(|e| to_py_err(&e))
    }

    /// A call of `kind` (a LiteLLM function name) through the router: `(response,
    /// hidden_params)` or a `Stream`. `attempts(info, error)` is called before every attempt
    /// and after each failed one (the facade's per-attempt callbacks).
    #[pyo3(signature = (kind, params, log=false, attempts=None))]
    fn call(
        &self,
        py: Python<'_>,
        kind: &str,
        params: &Bound<'_, PyDict>,
        log: bool,
        attempts: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let call = parse_call(kind_named(kind)?, params, log, false)?;
        call_sync(py, call, Dispatcher::Router(self.inner.clone()), attempts)
    }

    /// Deployments as `{"model_name", "litellm_params", "model_info"}` dicts.
    #[pyo3(signature = (model_name=None))]
    fn get_model_list(&self, py: Python<'_>, model_name: Option<&str>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner.get_model_list(model_name))
    }

    fn get_model_names(&self) -> Vec<String> {
        self.inner.get_model_names()
    }

    #[pyo3(signature = (model_name=None))]
    fn get_model_ids(&self, model_name: Option<&str>) -> Vec<String> {
        self.inner.get_model_ids(model_name)
    }

    fn get_model_info(&self, py: Python<'_>, id: &str) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner.get_model_info(id))
    }

    /// The deployment a call would use now (no call is made).
    fn get_available_deployment(
        &self,
        py: Python<'_>,
        model: &str,
        params: &Bound<'_, PyDict>,
    ) -> PyResult<Py<PyAny>> {
        let params: Map<String, Value> = params_from_py(params)?;
        let chosen = self
            .inner
            .get_available_deployment(model, params)
            .map_err(|e| to_py_err(&e))?;
        to_py(py, &chosen)
    }

    fn set_model_list(&self, model_list: &Bound<'_, PyList>) -> PyResult<()> {
        let list = json_from_py(model_list.as_any(), "model_list")?;
        self.inner.set_model_list(list).map_err(|e| to_py_err(&e))
    }

    /// Add a deployment; `None` when one with its id exists.
    fn add_deployment(
        &self,
        py: Python<'_>,
        deployment: &Bound<'_, PyDict>,
    ) -> PyResult<Py<PyAny>> {
        let deployment = json_from_py(deployment.as_any(), "deployment")?;
        let added = self
            .inner
            .add_deployment(deployment)
            .map_err(|e| to_py_err(&e))?;
        to_py(py, &added)
    }

    fn delete_deployment(&self, py: Python<'_>, id: &str) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner.delete_deployment(id))
    }

    /// Probe deployments (GIL released) → `{"healthy_endpoints", "unhealthy_endpoints", ...}`.
    #[pyo3(signature = (model=None))]
    fn health_check(&self, py: Python<'_>, model: Option<String>) -> PyResult<Py<PyAny>> {
        let router = self.inner.clone();
        let report = py.detach(|| runtime().block_on(router.health_check(model.as_deref())));
        to_py(py, &report)
    }

    /// Usage, limits, in-flight, cooldown, latency and health per deployment.
    fn deployment_stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner.deployment_stats())
    }

    fn cooldown_list(&self) -> Vec<String> {
        self.inner.cooldown_list()
    }

    fn queue_len(&self) -> usize {
        self.inner.queue_len()
    }

    /// `None` without Redis; else whether Redis is in use right now.
    fn shared_state_up(&self) -> Option<bool> {
        self.inner.shared_state_up()
    }

    /// Stop background tasks.
    fn shutdown(&self) {
        self.inner.shutdown();
    }
}
