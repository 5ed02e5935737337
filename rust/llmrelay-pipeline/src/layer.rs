//! The layer API: what a stage of the pipeline may do at each point of a call.
//!
//! - [`Admit`] runs before routing, in stage order (identity → access → limits → budget →
//!   guardrails → cache → hooks): it may rewrite the call, reject it, or answer it at once
//!   (whole or as a replayed stream).
//! - [`PerAttempt`] runs for every attempt after a deployment was picked (each retry and
//!   fallback): it may refuse the attempt and sees how it ended.
//! - [`Around`] runs beside the upstream call and may cancel it.
//! - [`Respond`] transforms the answer before the caller gets it: the whole body, or the stream
//!   chunk by chunk.
//! - [`Account`] sees the call exactly once when it is over: finished, failed or cut off.
//!
//! Layers that can decide synchronously return [`Step::Ready`] and cost no allocation.

use std::future::Future;

use futures::future::BoxFuture;

use llmrelay_core::types::ChatChunk;
use llmrelay_core::{Error, Result};
use llmrelay_providers::engine::Outcome;
use llmrelay_providers::stream::ChunkStream;

use crate::attempt::AttemptInfo;
use crate::call::Call;
use crate::record::CallRecord;

/// A layer's answer: ready now, or a future to await.
pub enum Step<'a, T> {
    Ready(T),
    Wait(BoxFuture<'a, T>),
}

impl<'a, T: Send + 'a> Step<'a, T> {
    /// Wrap a future.
    pub fn wait(future: impl Future<Output = T> + Send + 'a) -> Self {
        Self::Wait(Box::pin(future))
    }

    /// The value, awaiting it if needed.
    pub async fn resolve(self) -> T {
        match self {
            Self::Ready(value) => value,
            Self::Wait(future) => future.await,
        }
    }
}

impl<T> From<T> for Step<'_, T> {
    fn from(value: T) -> Self {
        Self::Ready(value)
    }
}

/// Where an admission layer runs; layers run in this order, then in registration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AdmitStage {
    /// Who is calling (keys, JWT, custom auth).
    Identity,
    /// Which models the caller may use.
    Access,
    /// Rate limits (rpm, tpm, parallel requests).
    Limits,
    /// Budgets: reserve the call's cost, settled by accounting.
    Budget,
    /// Pre-call guardrails (may rewrite the request).
    Guardrails,
    /// Response cache lookup (may answer at once).
    Cache,
    /// User hooks (LiteLLM's `async_pre_call_hook`).
    Hooks,
}

/// What an admission layer decided.
pub enum Admission {
    /// Go on (the layer may have rewritten the call).
    Continue,
    /// Refuse the call with this error (sent to the caller in the OpenAI error shape).
    Reject(Error),
    /// Answer without calling upstream: a whole answer or a replayed stream.
    Respond(Outcome),
    /// Answer from the response cache (booked as a cache hit: no upstream call, no cost).
    CacheHit(Outcome),
}

/// Before routing.
pub trait Admit: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn stage(&self) -> AdmitStage;
    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission>;
}

/// Around every attempt (after a deployment was chosen).
pub trait PerAttempt: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Before the attempt goes upstream; an error fails this attempt (the dispatcher may retry
    /// or fall back, as for an upstream error).
    fn before<'a>(&'a self, call: &'a Call, attempt: &'a AttemptInfo<'a>) -> Step<'a, Result<()>> {
        let _ = (call, attempt);
        Step::Ready(Ok(()))
    }

    /// After the attempt: its answer, or why it failed.
    fn after(&self, call: &Call, attempt: &AttemptInfo<'_>, result: Result<&Outcome, &Error>) {
        let _ = (call, attempt, result);
    }
}

/// A task beside the upstream call (LiteLLM's `during_call` guardrails): an error cancels the
/// upstream call and fails the call with it. The answer is held back until every such task
/// finished.
pub trait Around: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn around<'a>(&'a self, call: &'a Call) -> Option<BoxFuture<'a, Result<()>>>;
}

/// Before the caller gets the answer (post-call guardrails, LiteLLM's
/// `async_post_call_success_hook`).
pub trait Respond: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// A whole answer: rewrite it, or fail the call.
    fn whole<'a>(&'a self, call: &'a Call, outcome: &'a mut Outcome) -> Step<'a, Result<()>> {
        let _ = (call, outcome);
        Step::Ready(Ok(()))
    }

    /// A streamed chat answer: return the stream the caller gets (the same one when the layer
    /// has nothing to do for this call). [`transform`] adapts a chunk-by-chunk
    /// [`StreamTransform`].
    fn stream(&self, call: &Call, chunks: ChunkStream<ChatChunk>) -> ChunkStream<ChatChunk> {
        let _ = call;
        chunks
    }
}

/// What a chunk transform says after a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// End the stream after the chunks written so far (and those `end` writes).
    Stop,
}

/// A chunk-by-chunk rewrite of a chat stream, holding back what it needs (a bounded
/// look-behind) and writing the chunks the caller gets.
pub trait StreamTransform: Send + 'static {
    /// One upstream chunk; write zero or more chunks to `out`.
    ///
    /// # Errors
    /// Ends the stream with this error (a violation).
    fn chunk(&mut self, chunk: ChatChunk, out: &mut Vec<ChatChunk>) -> Result<Flow>;

    /// The upstream ended (or the transform stopped it): write what was held back.
    ///
    /// # Errors
    /// Ends the stream with this error.
    fn end(&mut self, out: &mut Vec<ChatChunk>) -> Result<()>;
}

/// A stream rewritten by `transform`.
#[must_use]
pub fn transform(
    chunks: ChunkStream<ChatChunk>,
    transform: impl StreamTransform,
) -> ChunkStream<ChatChunk> {
    use futures::StreamExt;
    struct State<T> {
        chunks: ChunkStream<ChatChunk>,
        transform: T,
        pending: std::collections::VecDeque<Result<ChatChunk>>,
        out: Vec<ChatChunk>,
        ended: bool,
    }
    let state = State {
        chunks,
        transform,
        pending: std::collections::VecDeque::new(),
        out: Vec::new(),
        ended: false,
    };
    fn finish<T: StreamTransform>(state: &mut State<T>) {
        state.ended = true;
        let ended = state.transform.end(&mut state.out);
        state.pending.extend(state.out.drain(..).map(Ok));
        if let Err(error) = ended {
            state.pending.push_back(Err(error));
        }
    }
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.pending.pop_front() {
                return Some((item, state));
            }
            if state.ended {
                return None;
            }
            match state.chunks.next().await {
                Some(Ok(chunk)) => match state.transform.chunk(chunk, &mut state.out) {
                    Ok(Flow::Continue) => state.pending.extend(state.out.drain(..).map(Ok)),
                    Ok(Flow::Stop) => {
                        state.pending.extend(state.out.drain(..).map(Ok));
                        finish(&mut state);
                    }
                    Err(error) => {
                        state.ended = true;
                        state.pending.extend(state.out.drain(..).map(Ok));
                        state.pending.push_back(Err(error));
                    }
                },
                Some(Err(error)) => {
                    state.ended = true;
                    state.pending.push_back(Err(error));
                }
                None => finish(&mut state),
            }
        }
    })
    .boxed()
}

/// When the call is over (exactly once, whatever happened). Must not block: work that takes
/// time goes through the delivery queue or a spawned task.
pub trait Account: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Whether this layer reads `record.response` (the answer as JSON; for a stream, the
    /// assembled chunks), so streams keep their chunks.
    fn wants_response(&self) -> bool {
        false
    }

    fn account(&self, call: &Call, record: &CallRecord);
}
