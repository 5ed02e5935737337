//! `llmrelay._native`: the Python binding. It converts objects, releases the GIL around all
//! engine work, and bridges async; the logic lives in the engine crates.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::depythonize;
use serde_json::{Map, Value};

use llmrelay_core::Error;
use llmrelay_providers::litellm_params::LITELLM_PARAMS;

mod assemble;
mod attempts;
mod bridge;
mod cache;
mod calls;
mod custom_auth;
mod errors;
mod facts;
mod guardrails;
mod integrations;
mod mock;
mod proxy;
mod router;
mod stream;

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

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    assemble::register(m)?;
    m.add_class::<stream::Stream>()?;
    m.add_class::<mock::MockServer>()?;
    m.add_class::<bridge::AsyncBridge>()?;
    m.add_class::<router::PyRouter>()?;
    calls::register(m)?;
    cache::register(m)?;
    facts::register(m)?;
    m.add_function(wrap_pyfunction!(integrations::builtin_integrations, m)?)?;
    m.add_function(wrap_pyfunction!(integrations::configure_integrations, m)?)?;
    m.add_function(wrap_pyfunction!(integrations::flush_integrations, m)?)?;
    m.add_function(wrap_pyfunction!(integrations::integration_stats, m)?)?;
    m.add_function(wrap_pyfunction!(proxy::proxy_prepare, m)?)?;
    m.add_function(wrap_pyfunction!(proxy::proxy_serve, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
