//! Engine errors crossing into Python: `NativeError(info)`, where `info` is an [`ErrorInfo`]
//! with named fields; the facade turns it into LiteLLM's exception class
//! (`llmrelay._errors.from_native`).

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use llmrelay_core::Error;

create_exception!(
    _native,
    NativeError,
    PyException,
    "An engine error; `args[0]` is its `ErrorInfo`. The facade maps it to LiteLLM's classes."
);

/// What the engine knows about a failure. `str(info)` is the message.
#[pyclass(
    module = "llmrelay._native",
    name = "ErrorInfo",
    get_all,
    frozen,
    skip_from_py_object
)]
#[derive(Debug)]
pub(crate) struct ErrorInfo {
    /// The `ErrorKind` name (`bad_request`, `rate_limit`, …).
    kind: &'static str,
    message: String,
    status: u16,
    provider: Option<String>,
    model: Option<String>,
    /// Seconds the upstream asked to wait.
    retry_after: Option<f64>,
    /// Selected upstream headers, `(name, value)`.
    headers: Vec<(String, String)>,
    /// The upstream error body as JSON text.
    body: Option<String>,
    num_retries: u32,
    param: Option<String>,
    /// LiteLLM's `standard_logging_object` of the failed call, when the caller asked.
    payload: Option<Py<PyAny>>,
}

#[pymethods]
impl ErrorInfo {
    fn __str__(&self) -> String {
        self.message.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "ErrorInfo(kind={:?}, status={}, message={:?})",
            self.kind, self.status, self.message
        )
    }
}

impl ErrorInfo {
    fn from_error(error: &Error) -> Self {
        let inner = error.inner();
        Self {
            kind: inner.kind.as_str(),
            message: inner.message.clone(),
            status: error.status_code(),
            provider: inner.provider.clone(),
            model: inner.model.clone(),
            retry_after: inner.retry_after,
            headers: inner.headers.clone(),
            body: inner.body.as_ref().map(ToString::to_string),
            num_retries: inner.num_retries,
            param: inner.param.clone(),
            payload: None,
        }
    }
}

/// Raise a failed call as `NativeError(ErrorInfo)`, with its logging payload.
pub(crate) fn failure_to_py(py: Python<'_>, failure: &llmrelay_pipeline::Failure) -> PyErr {
    let mut info = ErrorInfo::from_error(&failure.error);
    if let Some(payload) = &failure.payload {
        info.payload = pythonize::pythonize(py, &**payload).ok().map(Bound::unbind);
    }
    NativeError::new_err((info,))
}

/// An engine error's `ErrorInfo` as a Python object (the facade builds LiteLLM's exception from
/// it).
pub(crate) fn error_info<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, ErrorInfo>> {
    Bound::new(py, ErrorInfo::from_error(error))
}

/// Raise an engine error as `NativeError(ErrorInfo)`.
pub(crate) fn to_py_err(error: &Error) -> PyErr {
    NativeError::new_err((ErrorInfo::from_error(error),))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_class::<ErrorInfo>()?;
    Ok(())
}
