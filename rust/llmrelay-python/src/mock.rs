//! `llmrelay.mock.MockServer`: the mock upstream on the engine's runtime.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::depythonize;
use serde_json::Value;

use crate::{json_err, runtime};

// ---------------------------------------------------------------------------------------------

/// A mock upstream server running on the engine's runtime.
#[pyclass(module = "llmrelay._native")]
pub(crate) struct MockServer {
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
