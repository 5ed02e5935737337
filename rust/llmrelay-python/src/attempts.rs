//! The user's per-attempt callbacks on Router calls: LiteLLM's Router runs one
//! `litellm.completion` per attempt, so `log_pre_api_call` fires for every retry and fallback
//! with the deployment's model and the failures so far (`metadata.previous_models`). The
//! facade's `CallLog.attempt(info, error)` does the Python side; this layer calls it before
//! each attempt and after each failed one. It is added only to calls whose callbacks listen.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use llmrelay_core::{Error, Result};
use llmrelay_pipeline::{AttemptInfo, Call, Layers, PerAttempt, Pipeline, Step};
use llmrelay_providers::engine::Outcome;

use crate::errors::error_info;

/// Calls `hook(info, error)`: before an attempt with `error=None`, after a failed one with its
/// `ErrorInfo`.
struct PythonAttempts {
    hook: Py<PyAny>,
}

impl PythonAttempts {
    fn notify(&self, attempt: &AttemptInfo<'_>, error: Option<&Error>) {
        Python::attach(|py| {
            let result = (|| -> PyResult<()> {
                let info = PyDict::new(py);
                info.set_item("index", attempt.index)?;
                info.set_item("retry", attempt.retry)?;
                info.set_item("fallback", attempt.fallback)?;
                info.set_item("model_group", attempt.model_group)?;
                info.set_item("model_id", attempt.deployment_id)?;
                info.set_item("model", attempt.model)?;
                let error = error.map(|e| error_info(py, e)).transpose()?;
                self.hook.call1(py, (info, error))?;
                Ok(())
            })();
            // A user callback never breaks a call (the facade already guards each listener).
            if let Err(error) = result {
                error.print(py);
            }
        });
    }
}

impl PerAttempt for PythonAttempts {
    fn name(&self) -> &'static str {
        "python_attempts"
    }

    fn before<'a>(&'a self, _call: &'a Call, attempt: &'a AttemptInfo<'a>) -> Step<'a, Result<()>> {
        self.notify(attempt, None);
        Step::Ready(Ok(()))
    }

    fn after(&self, _call: &Call, attempt: &AttemptInfo<'_>, result: Result<&Outcome, &Error>) {
        if let Err(error) = result {
            self.notify(attempt, Some(error));
        }
    }
}

/// `base` with the attempt hook added, for one call.
pub(crate) fn with_hook(base: &Pipeline, hook: Py<PyAny>) -> Pipeline {
    let mut layers: Layers = base.layers().clone();
    layers.attempt(Arc::new(PythonAttempts { hook }));
    Pipeline::new(layers)
}
