//! What a caller gets back: a whole answer with its books still open, or a stream that keeps
//! its books and settles them exactly once — when it ends, fails, or is dropped.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use serde_json::Value;

use llmrelay_core::assemble::{ChatAssembler, TextAssembler};
use llmrelay_core::types::{ChatChunk, TextCompletionResponse};
use llmrelay_core::{Error, Result};
use llmrelay_providers::engine::{HiddenParams, Outcome};
use llmrelay_providers::stream::{ChunkStream, StreamSummary};

use crate::call::Call;
use crate::ledger::{Ledger, Settlement};
use crate::record::{Route, Status};

/// A whole answer: render it, then [`Whole::settle`] (before the last byte goes out, so a
/// spend record exists for everything delivered). Dropping it unsettled books the call as
/// cancelled.
pub struct Whole {
    pub outcome: Outcome,
    pub ledger: Ledger,
}

impl Whole {
    /// Book the answer as delivered.
    pub fn settle(self) -> (Outcome, Settlement) {
        let settlement = self.ledger.settle_whole(&self.outcome);
        (self.outcome, settlement)
    }
}

/// A call's answer after the pipeline.
pub enum Answer {
    Whole(Whole),
    Chat(ServedStream<ChatChunk>),
    Text(ServedStream<TextCompletionResponse>),
    /// A native Responses API stream.
    Events(ServedStream<Value>),
    /// A pass-through answer: the upstream's status and headers, its bytes as they come.
    Raw(RawAnswer),
}

/// A pass-through answer on its way to the caller (settles when the body ends).
pub struct RawAnswer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: ServedStream<bytes::Bytes>,
}

impl Answer {
    /// The call the answer is for.
    #[must_use]
    pub fn call(&self) -> &Call {
        match self {
            Self::Whole(whole) => whole.ledger.call(),
            Self::Chat(stream) => stream.call(),
            Self::Text(stream) => stream.call(),
            Self::Events(stream) => stream.call(),
            Self::Raw(raw) => raw.body.call(),
        }
    }

    /// How the call was routed.
    #[must_use]
    pub fn route(&self) -> &Route {
        match self {
            Self::Whole(whole) => whole.ledger.route(),
            Self::Chat(stream) => stream.route(),
            Self::Text(stream) => stream.route(),
            Self::Events(stream) => stream.route(),
            Self::Raw(raw) => raw.body.route(),
        }
    }

    /// The answer's `_hidden_params`.
    #[must_use]
    pub fn hidden(&self) -> &HiddenParams {
        match self {
            Self::Whole(whole) => whole.outcome.hidden(),
            Self::Chat(stream) => stream.hidden(),
            Self::Text(stream) => stream.hidden(),
            Self::Events(stream) => stream.hidden(),
            Self::Raw(raw) => raw.body.hidden(),
        }
    }
}

/// What a stream keeps of its chunks when someone reads the answer: the assembled response.
pub trait Kept: Sized {
    type Kept: Send + Unpin + 'static;
    fn start() -> Self::Kept;
    fn keep(kept: &mut Self::Kept, item: &Self);
    /// The answer as JSON, with the stream's usage.
    fn answer(kept: Self::Kept, usage: Option<&llmrelay_core::types::Usage>) -> Option<Value>;
}

impl Kept for ChatChunk {
    type Kept = ChatAssembler;
    fn start() -> ChatAssembler {
        ChatAssembler::new()
    }
    fn keep(kept: &mut ChatAssembler, item: &Self) {
        kept.push(item);
    }
    fn answer(kept: ChatAssembler, usage: Option<&llmrelay_core::types::Usage>) -> Option<Value> {
        let mut response = kept.finish(None)?;
        if response.usage.is_none() {
            response.usage = usage.cloned();
        }
        serde_json::to_value(response).ok()
    }
}

impl Kept for TextCompletionResponse {
    type Kept = TextAssembler;
    fn start() -> TextAssembler {
        TextAssembler::new()
    }
    fn keep(kept: &mut TextAssembler, item: &Self) {
        kept.push(item);
    }
    fn answer(kept: TextAssembler, usage: Option<&llmrelay_core::types::Usage>) -> Option<Value> {
        let mut response = kept.finish(None)?;
        if let Some(usage) = usage {
            response.usage = Some(usage.clone());
        }
        serde_json::to_value(response).ok()
    }
}

/// A native Responses API stream keeps its final `response` object.
impl Kept for Value {
    type Kept = Option<Value>;
    fn start() -> Option<Value> {
        None
    }
    fn keep(kept: &mut Option<Value>, item: &Self) {
        if matches!(
            item.get("type").and_then(Value::as_str),
            Some("response.completed" | "response.incomplete" | "response.failed")
        ) {
            *kept = item.get("response").cloned();
        }
    }
    fn answer(kept: Option<Value>, _usage: Option<&llmrelay_core::types::Usage>) -> Option<Value> {
        kept
    }
}

/// Pass-through bytes keep nothing: their usage is read as they go by (`RawReply::summary`).
impl Kept for bytes::Bytes {
    type Kept = ();
    fn start() {}
    fn keep((): &mut (), _item: &Self) {}
    fn answer((): (), _usage: Option<&llmrelay_core::types::Usage>) -> Option<Value> {
        None
    }
}

/// A streamed answer that settles its call's books once.
pub struct ServedStream<T: Kept> {
    inner: Option<ChunkStream<T>>,
    summary: Arc<Mutex<StreamSummary>>,
    hidden: HiddenParams,
    ledger: Option<Ledger>,
    /// The answer assembled as it went out, when an account layer or the caller reads it.
    kept: Option<T::Kept>,
    /// Where the settlement goes for the caller to read (the SDK's payload).
    settled: Arc<Mutex<Option<Settlement>>>,
    route: Route,
    opened_after: std::time::Duration,
}

impl<T: Kept> ServedStream<T> {
    pub(crate) fn new(
        inner: ChunkStream<T>,
        summary: Arc<Mutex<StreamSummary>>,
        hidden: HiddenParams,
        ledger: Ledger,
    ) -> Self {
        let kept = ledger.wants_response().then(T::start);
        let route = ledger.route().clone();
        let opened_after = ledger.call().started.elapsed();
        Self {
            inner: Some(inner),
            summary,
            hidden,
            ledger: Some(ledger),
            kept,
            settled: Arc::new(Mutex::new(None)),
            route,
            opened_after,
        }
    }

    /// The call, while the stream runs.
    ///
    /// # Panics
    /// After the stream settled (read what you need before consuming it).
    #[must_use]
    #[expect(
        clippy::expect_used,
        reason = "documented: readable until the stream settles"
    )]
    pub fn call(&self) -> &Call {
        self.ledger
            .as_ref()
            .expect("the call of a stream is readable until the stream settles")
            .call()
    }

    #[must_use]
    pub fn route(&self) -> &Route {
        &self.route
    }

    #[must_use]
    pub fn hidden(&self) -> &HiddenParams {
        &self.hidden
    }

    /// Usage, cost and timings (final once `finished`).
    #[must_use]
    pub fn summary(&self) -> Arc<Mutex<StreamSummary>> {
        Arc::clone(&self.summary)
    }

    /// The settlement, once the stream settled (the payload for the SDK's callbacks).
    #[must_use]
    pub fn settlement(&self) -> Arc<Mutex<Option<Settlement>>> {
        Arc::clone(&self.settled)
    }

    fn settle(&mut self, status: Status, error: Option<&Error>) {
        // Drop the upstream stream first: its own books (usage, cost) close on drop.
        self.inner.take();
        let Some(ledger) = self.ledger.take() else {
            return;
        };
        let summary = self
            .summary
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let hidden = self.hidden.clone();
        let kept = self.kept.take();
        let opened_after = self.opened_after;
        let error = error.cloned().or_else(|| {
            (status == Status::Cancelled)
                .then(|| Error::connection("the caller went away before the stream ended"))
        });
        let settlement = ledger.settle_with(
            |mut record| {
                record.stream = true;
                record.served_after = Some(opened_after);
                record.usage = summary.usage;
                record.cost = if record.cache_hit {
                    Some(0.0)
                } else {
                    summary.response_cost
                };
                record.completion_start_time = summary.completion_start_time;
                if let Some(end) = summary.end_time {
                    record.end_time = end;
                }
                record.hidden = Some(hidden);
                record.error = error;
                let answer = kept.and_then(|kept| T::answer(kept, record.usage.as_ref()));
                record.response = answer;
                record
            },
            status,
        );
        *self.settled.lock().unwrap_or_else(PoisonError::into_inner) = Some(settlement);
    }
}

impl<T: Kept + Unpin> Stream for ServedStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.settle(Status::Success, None);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => {
                this.settle(Status::Failure, Some(&error));
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(kept) = this.kept.as_mut() {
                    T::keep(kept, &chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
        }
    }
}

impl<T: Kept> Drop for ServedStream<T> {
    fn drop(&mut self) {
        if self.ledger.is_some() {
            self.settle(Status::Cancelled, None);
        }
    }
}
