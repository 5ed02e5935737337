//! The SDK pipeline's swappable layers: a registry keyed by feature (`"logging"` today: the
//! built-in integrations of `litellm.callbacks` / `success_callback` / `failure_callback`),
//! from which the SDK pipeline is rebuilt whenever a feature's settings change. A call takes
//! the current pipeline (one read lock and an `Arc` clone); with nothing registered it is the
//! empty pipeline.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use llmrelay_observe::{Environment, Observe, ObserveSettings};
use llmrelay_pipeline::{Layers, Pipeline};

use crate::runtime;

fn current() -> &'static RwLock<Arc<Pipeline>> {
    static CURRENT: OnceLock<RwLock<Arc<Pipeline>>> = OnceLock::new();
    CURRENT.get_or_init(|| RwLock::new(Arc::new(Pipeline::new(Layers::new()))))
}

fn registry() -> &'static Mutex<BTreeMap<&'static str, Layers>> {
    static REGISTRY: OnceLock<Mutex<BTreeMap<&'static str, Layers>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// The SDK pipeline as configured now.
pub(crate) fn pipeline() -> Arc<Pipeline> {
    Arc::clone(&current().read().unwrap_or_else(PoisonError::into_inner))
}

/// Replace one feature's layers and rebuild the SDK pipeline (features in name order).
pub(crate) fn set_layers(feature: &'static str, layers: Layers) {
    let mut registry = registry().lock().unwrap_or_else(PoisonError::into_inner);
    if layers.is_empty() {
        registry.remove(feature);
    } else {
        registry.insert(feature, layers);
    }
    let mut all = Layers::new();
    for layers in registry.values() {
        all.extend(layers);
    }
    *current().write().unwrap_or_else(PoisonError::into_inner) = Arc::new(Pipeline::new(all));
}

/// The running integrations (flushed when replaced and at exit).
fn observe() -> &'static Mutex<Option<Arc<Observe>>> {
    static OBSERVE: OnceLock<Mutex<Option<Arc<Observe>>>> = OnceLock::new();
    OBSERVE.get_or_init(|| Mutex::new(None))
}

/// The built-in integration names (`langfuse`, `otel`, ...).
#[pyfunction]
pub(crate) fn builtin_integrations() -> Vec<&'static str> {
    llmrelay_observe::settings::BUILTIN.to_vec()
}

/// Run the built-in integrations named in the three lists (other entries are Python
/// callbacks); the previous ones deliver what they hold first. Returns the names running.
///
/// # Errors
/// `ValueError` when an integration lacks its settings (e.g. `LANGFUSE_PUBLIC_KEY`).
#[pyfunction]
#[pyo3(signature = (callbacks, success_callback, failure_callback, turn_off_message_logging=false, redact_user_api_key_info=false))]
pub(crate) fn configure_integrations(
    py: Python<'_>,
    callbacks: Vec<String>,
    success_callback: Vec<String>,
    failure_callback: Vec<String>,
    turn_off_message_logging: bool,
    redact_user_api_key_info: bool,
) -> PyResult<Vec<&'static str>> {
    let settings = ObserveSettings {
        callbacks,
        success_callback,
        failure_callback,
        request_log: None,
        turn_off_message_logging,
        redact_user_api_key_info,
        environment: Environment::process(),
    };
    let built = py.detach(|| {
        let _context = runtime().enter();
        Observe::build(&settings)
    });
    let built = built.map_err(|e| PyValueError::new_err(e.to_string()))?;
    let names: Vec<&'static str> = built.stats().into_iter().map(|(name, _)| name).collect();
    set_layers("logging", built.layers().clone());
    let previous = observe()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .replace(Arc::new(built));
    if let Some(previous) = previous {
        runtime().spawn(async move { previous.shutdown().await });
    }
    Ok(names)
}

/// Deliver everything the integrations hold (tests; called at interpreter exit).
#[pyfunction]
pub(crate) fn flush_integrations(py: Python<'_>) {
    let running = observe()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(running) = running {
        py.detach(|| runtime().block_on(running.flush()));
    }
}

/// Each running integration's counters: `{name: {accepted, delivered, dropped, failures}}`.
#[pyfunction]
pub(crate) fn integration_stats(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let dict = pyo3::types::PyDict::new(py);
    let running = observe()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(running) = running {
        for (name, stats) in running.stats() {
            let entry = pyo3::types::PyDict::new(py);
            entry.set_item("accepted", stats.accepted)?;
            entry.set_item("delivered", stats.delivered)?;
            entry.set_item("dropped", stats.dropped)?;
            entry.set_item("failures", stats.failures)?;
            dict.set_item(name, entry)?;
        }
    }
    Ok(dict)
}
