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
use llmrelay_core::types::EmbeddingResponse;
use llmrelay_providers::Engine;
use llmrelay_providers::engine::{ChatOutcome, CompletionResult, TextOutcome};

use serde_json::Value;

use crate::router::PyRouter;
use crate::{
    AnyChunk, Stream, chat_outcome_to_py, chunk_to_py, next_item, params_from_py, runtime,
    text_outcome_to_py, to_py_err, whole_to_py,
};

/// A finished piece of work, still in Rust form.
enum Finished {
    Chat(Result<ChatOutcome, Error>),
    Text(Result<TextOutcome, Error>),
    Embedding(Result<CompletionResult<EmbeddingResponse>, Error>),
    Chunk(Option<Result<AnyChunk, Error>>),
    Responses(Result<llmrelay_providers::responses::ResponsesOutcome, Error>),
    /// Any engine answer that crosses as plain JSON (`acount_tokens`).
    Json(Result<serde_json::Value, Error>),
    Operation(Result<CompletionResult<serde_json::Value>, Error>),
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
        Finished::Chat(Ok(outcome)) => chat_outcome_to_py(py, outcome),
        Finished::Text(Ok(outcome)) => text_outcome_to_py(py, outcome),
        Finished::Embedding(Ok(result)) => whole_to_py(py, &result.response, &result.hidden),
        Finished::Chunk(Some(Ok(chunk))) => chunk_to_py(py, &chunk),
        Finished::Operation(Ok(result)) => whole_to_py(py, &result.response, &result.hidden),
        Finished::Chunk(None) => Err(PyStopAsyncIteration::new_err(())),
        Finished::Responses(Ok(outcome)) => crate::responses_outcome_to_py(py, outcome),
        Finished::Json(Ok(value)) => pythonize::pythonize(py, &value)
            .map(Bound::unbind)
            .map_err(|e| PyValueError::new_err(e.to_string())),
        Finished::Chat(Err(error))
        | Finished::Text(Err(error))
        | Finished::Embedding(Err(error))
        | Finished::Json(Err(error))
        | Finished::Responses(Err(error))
        | Finished::Chunk(Some(Err(error)))
        | Finished::Operation(Err(error)) => Err(to_py_err(&error)),
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

    fn submit_completion(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        let params = params_from_py(params)?;
        self.spawn(token, async move {
            Finished::Chat(Engine.completion(params).await)
        });
        Ok(())
    }

    fn submit_text_completion(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        let params = params_from_py(params)?;
        self.spawn(token, async move {
            Finished::Text(Engine.text_completion(params).await)
        });
        Ok(())
    }

    fn submit_embedding(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        let params = params_from_py(params)?;
        self.spawn(token, async move {
            Finished::Embedding(Engine.embedding(params).await)
        });
        Ok(())
    }

    fn submit_responses(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        let params = params_from_py(params)?;
        self.spawn(token, async move {
            Finished::Responses(Engine.responses(params).await)
        });
        Ok(())
    }

    fn submit_operation(&self, name: &str, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        let operation = crate::operation_named(name)?;
        let params = params_from_py(params)?;
        self.spawn(token, async move {
            Finished::Operation(Engine.operation(operation, params).await)
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

    fn submit_image_generation(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        self.submit_operation("image_generation", params, token)
    }

    fn submit_rerank(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        self.submit_operation("rerank", params, token)
    }

    fn submit_moderation(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        self.submit_operation("moderation", params, token)
    }

    fn submit_transcription(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        self.submit_operation("transcription", params, token)
    }

    fn submit_speech(&self, params: &Bound<'_, PyDict>, token: u64) -> PyResult<()> {
        self.submit_operation("speech", params, token)
    }

    /// A router call: `call` is `(router, kind, params)` with kind `completion`,
    /// `text_completion`, `embedding` or `health_check` (params: `{"model": ...}`).
    fn submit_router(&self, call: &Bound<'_, PyTuple>, token: u64) -> PyResult<()> {
        let (router, kind, params): (Bound<'_, PyRouter>, String, Bound<'_, PyDict>) =
            call.extract()?;
        let router = router.get().inner.clone();
        let params = params_from_py(&params)?;
        match kind.as_str() {
            "completion" => self.spawn(token, async move {
                Finished::Chat(router.completion(params).await)
            }),
            "text_completion" => self.spawn(token, async move {
                Finished::Text(router.text_completion(params).await)
            }),
            "embedding" => self.spawn(token, async move {
                Finished::Embedding(router.embedding(params).await)
            }),
            "health_check" => {
                let model = params
                    .get("model")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                self.spawn(token, async move {
                    let report = router.health_check(model.as_deref()).await;
                    Finished::Json(serde_json::to_value(report).map_err(Into::into))
                });
            }
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "unknown router call {other:?}"
                )));
            }
        }
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
