//! `general_settings.custom_auth: module.function` for the proxy: the factory imports the
//! function relative to the config file (through `llmrelay._custom_auth_host.build`) when the
//! proxy is built, and [`PythonCustomAuth`] runs it for each request on the host's event loop,
//! awaited without the GIL. The host answers `{"ok": {"caller": {...}}}` (the returned
//! `UserAPIKeyAuth`'s fields), `{"ok": {"api_key": "..."}}` (a returned key) or
//! `{"error": {"status", "message", "type"}}` (LiteLLM's answer to what the function raised).

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use futures::future::BoxFuture;
use pyo3::prelude::*;
use pythonize::pythonize;
use serde_json::{Value, json};

use llmrelay_proxy::custom_auth::{AuthRequest, CustomAuth, CustomAuthFactory, Refusal, Verdict};

use crate::guardrails::await_python;

/// Imports `custom_auth` functions next to `directory` (the config's).
pub(crate) struct PythonCustomAuthFactory {
    pub directory: PathBuf,
}

impl CustomAuthFactory for PythonCustomAuthFactory {
    fn load(&self, function: &str) -> Result<Arc<dyn CustomAuth>, String> {
        let directory = self.directory.display().to_string();
        let adapter = Python::attach(|py| -> PyResult<Py<PyAny>> {
            Ok(py
                .import("llmrelay._custom_auth_host")?
                .call_method1("build", (function, directory))?
                .unbind())
        })
        .map_err(|error| {
            format!("general_settings.custom_auth: cannot load '{function}': {error}")
        })?;
        Ok(Arc::new(PythonCustomAuth {
            adapter: Arc::new(adapter),
        }))
    }
}

/// One loaded function (its `AuthAdapter`).
struct PythonCustomAuth {
    adapter: Arc<Py<PyAny>>,
}

fn payload(request: &AuthRequest) -> Value {
    json!({
        "method": request.method,
        "path_and_query": request.path_and_query,
        "host": request.host,
        "headers": request.headers,
        "client": request.client.map(|addr| json!([addr.ip().to_string(), addr.port()])),
        "body": base64::engine::general_purpose::STANDARD.encode(&request.body),
        "api_key": request.api_key,
    })
}

fn verdict(reply: Result<Value, String>) -> Result<Verdict, Refusal> {
    let reply = reply.map_err(|message| Refusal {
        status: 500,
        message: format!("custom_auth failed: {message}"),
        error_type: "internal_server_error".to_owned(),
    })?;
    if let Some(error) = reply.get("error") {
        return Err(Refusal {
            status: error
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(401),
            message: error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("Authentication Error")
                .to_owned(),
            error_type: error
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("auth_error")
                .to_owned(),
        });
    }
    let ok = reply.get("ok").cloned().unwrap_or(Value::Null);
    if let Some(key) = ok.get("api_key").and_then(Value::as_str) {
        return Ok(Verdict::Key(key.to_owned()));
    }
    match ok.get("caller") {
        Some(Value::Object(fields)) => Ok(Verdict::Caller(fields.clone())),
        _ => Err(Refusal {
            status: 500,
            message: "custom_auth returned neither a UserAPIKeyAuth nor a key".to_owned(),
            error_type: "internal_server_error".to_owned(),
        }),
    }
}

impl CustomAuth for PythonCustomAuth {
    fn check(&self, request: AuthRequest) -> BoxFuture<'static, Result<Verdict, Refusal>> {
        let adapter = Arc::clone(&self.adapter);
        let payload = payload(&request);
        Box::pin(async move {
            let reply = await_python(adapter, move |adapter| {
                let payload = pythonize(adapter.py(), &payload)
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
                adapter.call_method1("submit", (payload,))
            })
            .await;
            verdict(reply)
        })
    }
}
