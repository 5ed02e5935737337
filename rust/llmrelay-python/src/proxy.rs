//! The proxy server for the `llmrelay` command: it runs with the GIL released for its whole
//! life, and `litellm_settings.callbacks` are called through [`PythonHooks`], which submits
//! coroutines to the Python host's event loop (`llmrelay._proxy_hooks.HookHost`) and awaits
//! their results without holding the GIL. With no callbacks configured, no request touches
//! Python.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use futures::future::BoxFuture;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::{depythonize, pythonize};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use llmrelay_core::{CallKind, Error, ErrorKind};
use llmrelay_proxy::auth::Principal;
use llmrelay_proxy::cli::{CliOptions, USAGE};
use llmrelay_proxy::hooks::{Hooks, LogEvent, PreCall};
use llmrelay_proxy::init_logging;
use llmrelay_proxy::startup::{Callbacks, StartupError, run_command};

use crate::runtime;

/// Completes a Rust channel when the Python future is done (runs on the host loop's thread).
#[pyclass(module = "llmrelay._native")]
pub(crate) struct DoneCallback {
    sender: Mutex<Option<oneshot::Sender<Result<Value, String>>>>,
}

impl DoneCallback {
    pub(crate) fn new(sender: oneshot::Sender<Result<Value, String>>) -> Self {
        Self {
            sender: Mutex::new(Some(sender)),
        }
    }
}

#[pymethods]
impl DoneCallback {
    fn __call__(&self, future: &Bound<'_, PyAny>) {
        let outcome = match future.call_method0("result") {
            Ok(value) => depythonize::<Value>(&value).map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let sender = match self.sender.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(sender) = sender {
            let _ = sender.send(outcome);
        }
    }
}

/// [`Hooks`] backed by the Python host object.
struct PythonHooks {
    host: Arc<Py<PyAny>>,
}

fn epoch(time: SystemTime) -> f64 {
    llmrelay_core::clock::epoch_seconds(time)
}

fn principal_json(principal: &Principal) -> Value {
    json!({
        "api_key": principal.key_hash,
        "token": principal.key_hash,
        "user_id": principal.user_id,
        "team_id": principal.team_id,
        "key_alias": principal.key_alias,
        "user_role": principal.role.clone().unwrap_or_else(|| {
            if principal.is_admin { "proxy_admin" } else { "internal_user" }.to_owned()
        }),
        "team_alias": principal.team_alias,
        "org_id": principal.org_id,
        "end_user_id": principal.end_user_id,
    })
}

fn error_json(error: &Error) -> Value {
    json!({
        "kind": error.kind().as_str(),
        "message": error.message(),
        "status": error.status_code(),
        "provider": error.inner().provider,
        "model": error.inner().model,
    })
}

impl PythonHooks {
    /// Call `host.submit(method, payload)` and await the `{"ok": ...}` / `{"error": ...}` reply.
    fn call(
        &self,
        method: &'static str,
        payload: Value,
    ) -> BoxFuture<'static, Result<Value, Error>> {
        let host = Arc::clone(&self.host);
        Box::pin(async move {
            // Taking the GIL may block: do it off the async workers.
            let submitted = tokio::task::spawn_blocking(move || {
                Python::attach(|py| -> PyResult<oneshot::Receiver<Result<Value, String>>> {
                    let payload = pythonize(py, &payload)
                        .map_err(|e| PyValueError::new_err(e.to_string()))?;
                    let future = host.bind(py).call_method1("submit", (method, payload))?;
                    let (sender, receiver) = oneshot::channel();
                    let callback = Py::new(
                        py,
                        DoneCallback {
                            sender: Mutex::new(Some(sender)),
                        },
                    )?;
                    future.call_method1("add_done_callback", (callback,))?;
                    Ok(receiver)
                })
            })
            .await
            .map_err(|e| Error::new(ErrorKind::InternalServer, format!("hook task failed: {e}")))?
            .map_err(|e| {
                Error::new(
                    ErrorKind::InternalServer,
                    format!("hook {method} could not start: {e}"),
                )
            })?;
            let reply = submitted
                .await
                .map_err(|_| {
                    Error::new(
                        ErrorKind::InternalServer,
                        format!("hook {method} was dropped"),
                    )
                })?
                .map_err(|e| {
                    Error::new(
                        ErrorKind::InternalServer,
                        format!("hook {method} failed: {e}"),
                    )
                })?;
            if let Some(error) = reply.get("error") {
                let status = error
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(500);
                let message = error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("hook error")
                    .to_owned();
                return Err(Error::from_upstream(status, message, None).with_status(status));
            }
            Ok(reply.get("ok").cloned().unwrap_or(Value::Null))
        })
    }

    fn event_json(event: &LogEvent) -> Value {
        json!({
            "call_type": event.kind.hook_call_type(),
            "call_id": event.call_id,
            "model_group": event.model_group,
            "request": Value::Object((*event.request).clone()),
            "response": event.response,
            "error": event.error.as_ref().map(error_json),
            "usage": event.usage,
            "response_cost": event.response_cost,
            "stream": event.stream,
            "start_time": epoch(event.start_time),
            "end_time": epoch(event.end_time),
            "completion_start_time": event.completion_start_time.map(epoch),
            "user_api_key_dict": principal_json(&event.principal),
            "model_id": event.model_id,
            "api_base": event.api_base,
            "standard_logging_object": event.standard_logging_object,
        })
    }
}

impl Hooks for PythonHooks {
    fn pre_call(
        &self,
        kind: CallKind,
        principal: &Principal,
        data: Map<String, Value>,
    ) -> BoxFuture<'static, Result<PreCall, Error>> {
        let reply = self.call(
            "pre_call",
            json!({"call_type": kind.hook_call_type(), "data": Value::Object(data), "user_api_key_dict": principal_json(principal)}),
        );
        Box::pin(async move {
            let reply = reply.await?;
            if let Some(text) = reply.get("respond").and_then(Value::as_str) {
                return Ok(PreCall::Respond(text.to_owned()));
            }
            match reply.get("data") {
                Some(Value::Object(data)) => Ok(PreCall::Continue(data.clone())),
                _ => Err(Error::new(
                    ErrorKind::InternalServer,
                    "pre_call hook returned no request body",
                )),
            }
        })
    }

    fn post_call_success(
        &self,
        kind: CallKind,
        principal: &Principal,
        data: Arc<Map<String, Value>>,
        response: Value,
    ) -> BoxFuture<'static, Result<Option<Value>, Error>> {
        let reply = self.call(
            "post_call_success",
            json!({"call_type": kind.hook_call_type(), "data": Value::Object((*data).clone()), "response": response, "user_api_key_dict": principal_json(principal)}),
        );
        Box::pin(async move {
            let reply = reply.await?;
            Ok(reply.get("response").filter(|v| !v.is_null()).cloned())
        })
    }

    fn post_call_failure(
        &self,
        kind: CallKind,
        principal: &Principal,
        data: Arc<Map<String, Value>>,
        error: Error,
    ) -> BoxFuture<'static, ()> {
        let reply = self.call(
            "post_call_failure",
            json!({"call_type": kind.hook_call_type(), "data": Value::Object((*data).clone()), "error": error_json(&error), "user_api_key_dict": principal_json(principal)}),
        );
        Box::pin(async move {
            if let Err(error) = reply.await {
                tracing::warn!(error = %error, "post_call_failure hook failed");
            }
        })
    }

    fn log_success(&self, event: LogEvent) -> BoxFuture<'static, ()> {
        let reply = self.call("log_success", Self::event_json(&event));
        Box::pin(async move {
            if let Err(error) = reply.await {
                tracing::warn!(error = %error, "log_success hook failed");
            }
        })
    }

    fn log_failure(&self, event: LogEvent) -> BoxFuture<'static, ()> {
        let reply = self.call("log_failure", Self::event_json(&event));
        Box::pin(async move {
            if let Err(error) = reply.await {
                tracing::warn!(error = %error, "log_failure hook failed");
            }
        })
    }
}

fn parse(argv: Vec<String>) -> PyResult<CliOptions> {
    CliOptions::parse(argv).map_err(PyValueError::new_err)
}

/// What the Python command needs before serving: `{"help", "version", "usage", "serves",
/// "environment": [(name, value)], "callbacks": [...], "config_dir"}`. Bad flags raise
/// `ValueError`, an unreadable config `RuntimeError` (exit codes 2 and 1, as LiteLLM's).
#[pyfunction]
pub(crate) fn proxy_prepare<'py>(
    py: Python<'py>,
    argv: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let options = parse(argv)?;
    let dict = PyDict::new(py);
    dict.set_item("help", options.help)?;
    dict.set_item("version", options.version)?;
    dict.set_item("usage", USAGE)?;
    dict.set_item("serves", !(options.health || options.test))?;
    let raw = if options.help || options.version {
        None
    } else {
        options.raw_config().map_err(PyRuntimeError::new_err)?
    };
    let environment = match &raw {
        Some(raw) => raw
            .environment_variables()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?,
        None => Vec::new(),
    };
    dict.set_item("environment", environment)?;
    dict.set_item(
        "callbacks",
        raw.as_ref()
            .map(llmrelay_proxy::RawConfig::callback_names)
            .unwrap_or_default(),
    )?;
    dict.set_item(
        "config_dir",
        raw.as_ref().map(|r| r.directory.display().to_string()),
    )?;
    Ok(dict)
}

/// Run the proxy until Ctrl-C / SIGTERM (GIL released throughout). `hooks` is the
/// `HookHost` when callbacks are configured.
#[pyfunction]
#[pyo3(signature = (argv, hooks=None))]
pub(crate) fn proxy_serve(
    py: Python<'_>,
    argv: Vec<String>,
    hooks: Option<Py<PyAny>>,
) -> PyResult<()> {
    let options = parse(argv)?;
    init_logging(options.debug, options.detailed_debug);
    let raw = options.raw_config().map_err(PyRuntimeError::new_err)?;
    // Custom guardrail classes in the config are imported next to it when it is resolved.
    llmrelay_proxy::config::set_custom_guardrail_factory(Arc::new(
        crate::guardrails::PythonGuardrailFactory {
            directory: raw.as_ref().map_or_else(
                || std::path::PathBuf::from("."),
                |raw| raw.directory.clone(),
            ),
        },
    ));
    // A `general_settings.custom_auth` function is imported next to the config too.
    llmrelay_proxy::custom_auth::set_factory(Arc::new(
        crate::custom_auth::PythonCustomAuthFactory {
            directory: raw.as_ref().map_or_else(
                || std::path::PathBuf::from("."),
                |raw| raw.directory.clone(),
            ),
        },
    ));
    let hooks = hooks.map(|host| {
        Arc::new(PythonHooks {
            host: Arc::new(host),
        }) as Arc<dyn Hooks>
    });
    // The start-up sequence the `llmrelay-proxy` binary runs too (validation, --health,
    // --test, serving), on the shared runtime (the Router's tasks need one).
    py.detach(|| run_command(&options, raw.as_ref(), Callbacks::Python(hooks), runtime()))
        .map_err(|error| match error {
            StartupError::Usage(message) => PyValueError::new_err(message),
            StartupError::Failed(message) => PyRuntimeError::new_err(message),
        })?;
    // Ctrl-C also set Python's interrupt flag: it was a shutdown request, not an error.
    match py.check_signals() {
        Err(error) if !error.is_instance_of::<PyKeyboardInterrupt>(py) => Err(error),
        _ => Ok(()),
    }
}
