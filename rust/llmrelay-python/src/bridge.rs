//! The asyncio bridge: engine tasks complete without touching the GIL.
//!
//! A task pushes its Rust result onto a queue and, if the queue was idle, writes one byte to a
//! socket the event loop watches (`loop.add_reader`). The loop thread then drains every
//! finished result at once and converts it to Python objects while it holds the GIL anyway.
//! Compared with one `call_soon_threadsafe` per call from a tokio thread, this never makes a
//! runtime thread wait for the GIL and batches wake-ups under load.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyOSError, PyStopAsyncIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use tokio::task::AbortHandle;

use llmrelay_core::Error;
use llmrelay_providers::Engine;

use serde_json::Value;

use crate::calls::{self, Dispatcher, Ready, kind_named, parse_call, ready_to_py};
use crate::router::PyRouter;
use crate::stream::{AnyChunk, Stream, chunk_to_py, next_item};
use crate::{params_from_py, runtime, to_py_err};

/// A finished piece of work, still in Rust form.
#[expect(
    clippy::large_enum_variant,
    reason = "one value per call, moved once to the loop thread"
)]
enum Finished {
    /// A call's answer, books settled.
    Answer(Result<Ready, llmrelay_pipeline::Failure>),
    Chunk(Option<Result<AnyChunk, Error>>),
    /// Any engine answer that crosses as plain JSON (`acount_tokens`, health checks).
    Json(Result<serde_json::Value, Error>),
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

struct Shared {
    queue: Mutex<Vec<(u64, Finished)>>,
    signaled: AtomicBool,
    wake: UnixDatagram,
    running: Mutex<HashMap<u64, AbortHandle>>,
}

impl Shared {
    fn finish(&self, token: u64, finished: Finished) {
        lock(&self.running).remove(&token);
        lock(&self.queue).push((token, finished));
        if !self.signaled.swap(true, Ordering::SeqCst) {
            // A full socket buffer means a wake-up is already pending: nothing is lost.
            let _ = self.wake.send(&[1]);
        }
    }
}

/// One per event loop: submit work with a token, drain `(token, ok, value)` triples.
#[pyclass(frozen, module = "llmrelay._native")]
pub struct AsyncBridge {
    shared: Arc<Shared>,
    watched: UnixDatagram,
}

impl AsyncBridge {
    fn spawn(
        &self,
        token: u64,
        work: impl std::future::Future<Output = Finished> + Send + 'static,
    ) {
        let shared = Arc::clone(&self.shared);
        // Hold the registry lock across the spawn: a task that finishes at once waits in
        // `finish` until its handle is registered, so it always removes it (no stale entries).
        let mut running = lock(&self.shared.running);
        let handle = runtime().spawn(async move {
            let finished = work.await;
            shared.finish(token, finished);
        });
        running.insert(token, handle.abort_handle());
    }
}

fn convert(py: Python<'_>, finished: Finished) -> PyResult<(bool, Py<PyAny>)> {
    let result = match finished {
        Finished::Answer(Ok(ready)) => ready_to_py(py, ready),
        Finished::Chunk(Some(Ok(chunk))) => chunk_to_py(py, &chunk),
        Finished::Chunk(None) => Err(PyStopAsyncIteration::new_err(())),
        Finished::Json(Ok(value)) => pythonize::pythonize(py, &value)
            .map(Bound::unbind)
            .map_err(|e| PyValueError::new_err(e.to_string())),
        Finished::Answer(Err(failure)) => Err(crate::errors::failure_to_py(py, &failure)),
        Finished::Json(Err(error)) | Finished::Chunk(Some(Err(error))) => Err(to_py_err(&error)),
    };
    Ok(match result {
        Ok(value) => (true, value),
        Err(error) => (false, error.into_value(py).into_any()),
    })
}

#[pymethods]
impl AsyncBridge {
    #[new]
    fn new() -> PyResult<Self> {
        let (wake, watched) =
            UnixDatagram::pair().map_err(|e| PyOSError::new_err(e.to_string()))?;
        wake.set_nonblocking(true)
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        watched
            .set_nonblocking(true)
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        Ok(Self {
            shared: Arc::new(Shared {
                queue: Mutex::new(Vec::new()),
                signaled: AtomicBool::new(false),
                wake,
                running: Mutex::new(HashMap::new()),
            }),
            watched,
        })
    }

    /// The descriptor to watch for readability.
    fn fileno(&self) -> i32 {
        self.watched.as_raw_fd()
    }

    /// A call of `kind` (a LiteLLM function name): the answer arrives through `drain`.
    fn submit_call(
        &self,
        kind: &str,
        params: &Bound<'_, PyDict>,
        log: bool,
        token: u64,
    ) -> PyResult<()> {
        let call = parse_call(kind_named(kind)?, params, log, true)?;
        self.spawn(token, async move {
            Finished::Answer(calls::run(call, Dispatcher::Direct, None).await)
        });
        Ok(())
    }

    fn submit_count_tokens(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        let params = params_from_py(params)?;
        self.spawn(token, async move {
            Finished::Json(
                Engine
                    .count_tokens(params)
                    .await
                    .and_then(|count| Ok(serde_json::to_value(count)?)),
            )
        });
        Ok(())
    }

    /// A router call: `call` is `(router, kind, params, log)` with kind a LiteLLM function
    /// name (`completion`, `text_completion`, `embedding`, …) or `health_check` (params:
    /// `{"model": ...}`).
    fn submit_router(&self, call: &Bound<'_, PyTuple>, token: u64) -> PyResult<()> {
        let (router, kind, params, log, attempts): (
            Bound<'_, PyRouter>,
            String,
            Bound<'_, PyDict>,
            bool,
            Option<Py<PyAny>>,
        ) = call.extract()?;
        let router = router.get().inner.clone();
        if kind == "health_check" {
            let params = params_from_py(&params)?;
            let model = params
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_owned);
            self.spawn(token, async move {
                let report = router.health_check(model.as_deref()).await;
                Finished::Json(serde_json::to_value(report).map_err(Into::into))
            });
            return Ok(());
        }
        let call = parse_call(kind_named(&kind)?, &params, log, true)?;
        self.spawn(token, async move {
            Finished::Answer(calls::run(call, Dispatcher::Router(router), attempts).await)
        });
        Ok(())
    }

    /// The next chunk of a stream (`StopAsyncIteration` at its end).
    fn submit_next(&self, stream: &Bound<'_, Stream>, token: u64) {
        let inner = stream.get().inner();
        self.spawn(
            token,
            async move { Finished::Chunk(next_item(inner).await) },
        );
    }

    /// Abort the work of a cancelled awaitable.
    fn cancel(&self, token: u64) {
        if let Some(handle) = lock(&self.shared.running).remove(&token) {
            handle.abort();
        }
    }

    /// Every finished result as `(token, ok, value)`; `value` is the exception when not ok.
    fn drain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        // Order matters: consume wake bytes, then clear the flag, then take the queue. Anything
        // pushed after the take sees the flag clear and sends a new wake byte.
        let mut buffer = [0_u8; 256];
        while self.watched.recv(&mut buffer).is_ok() {}
        self.shared.signaled.store(false, Ordering::SeqCst);
        let finished = std::mem::take(&mut *lock(&self.shared.queue));
        let out = PyList::empty(py);
        for (token, item) in finished {
            let (ok, value) = convert(py, item)?;
            out.append(PyTuple::new(
                py,
                [
                    token.into_pyobject(py)?.into_any(),
                    ok.into_pyobject(py)?.to_owned().into_any(),
                    value.into_bound(py),
                ],
            )?)?;
        }
        Ok(out)
    }
}
