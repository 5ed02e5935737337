//! The runner: admit → dispatch (with per-attempt layers, beside the around tasks) → respond →
//! the answer with its books, for every call whatever its origin.

use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;

use llmrelay_core::types::ChatChunk;
use llmrelay_core::{Error, Result};
use llmrelay_providers::engine::{ChatOutcome, Outcome, RawReply, StreamResult, TextOutcome};
use llmrelay_providers::stream::ChunkStream;

use crate::attempt::Attempts;
use crate::call::Call;
use crate::dispatch::Dispatch;
use crate::layer::{Admission, Around};
use crate::layers::Layers;
use crate::ledger::Ledger;
use crate::record::{Dispatched, Route};
use crate::served::{Answer, RawAnswer, ServedStream, Whole};

/// A call that failed (already accounted), with its logging payload when the caller asked.
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    pub payload: Option<Arc<crate::payload::StandardLoggingPayload>>,
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        failure.error
    }
}

/// A pipeline: the layers every call runs through.
#[derive(Clone, Default)]
pub struct Pipeline {
    layers: Arc<Layers>,
}

impl Pipeline {
    #[must_use]
    pub fn new(layers: Layers) -> Self {
        Self {
            layers: Arc::new(layers),
        }
    }

    #[must_use]
    pub fn layers(&self) -> &Layers {
        &self.layers
    }

    /// Run a call through the layers and `dispatch`.
    ///
    /// # Errors
    /// The call's failure (already accounted): a rejection, the upstream's error after retries
    /// and fallbacks, or a respond layer's refusal.
    pub async fn run(
        &self,
        mut call: Box<Call>,
        dispatch: &dyn Dispatch,
    ) -> Result<Answer, Failure> {
        let mut answered = None;
        for layer in &self.layers.admit {
            match layer.admit(&mut call).resolve().await {
                Admission::Continue => {}
                Admission::Reject(error) => return Err(self.fail(call, error)),
                Admission::Respond(outcome) => {
                    // A layer's own answer (a hook's text) is final: respond layers skip it.
                    let ledger =
                        Ledger::new(call, Arc::clone(&self.layers), Route::default(), false);
                    return Ok(self.serve_as_is(outcome, ledger));
                }
                Admission::CacheHit(outcome) => {
                    answered = Some(outcome);
                    break;
                }
            }
        }
        let (outcome, route, cache_hit) = match answered {
            Some(outcome) => (outcome, Route::default(), true),
            None => {
                let attempts = Attempts::new(&self.layers.attempt, &call);
                let dispatched = dispatch.dispatch(&call, attempts);
                let result = if self.layers.around.is_empty() {
                    dispatched.await
                } else {
                    beside(&self.layers.around, &call, dispatched).await
                };
                match result {
                    Ok(Dispatched { outcome, route }) => (outcome, route, false),
                    Err(error) => return Err(self.fail(call, error)),
                }
            }
        };
        self.respond(call, outcome, route, cache_hit).await
    }

    /// An answer served without respond layers.
    fn serve_as_is(&self, outcome: Outcome, ledger: Ledger) -> Answer {
        match outcome {
            Outcome::Chat(ChatOutcome::Stream(StreamResult { stream, hidden })) => {
                let summary = stream.summary();
                Answer::Chat(ServedStream::new(stream.boxed(), summary, hidden, ledger))
            }
            Outcome::Text(TextOutcome::Stream(StreamResult { stream, hidden })) => {
                let summary = stream.summary();
                Answer::Text(ServedStream::new(stream.boxed(), summary, hidden, ledger))
            }
            Outcome::Events(events) => Answer::Events(ServedStream::new(
                events.events,
                events.summary,
                events.hidden,
                ledger,
            )),
            Outcome::Raw(raw) => Answer::Raw(raw_answer(raw, ledger)),
            whole => Answer::Whole(Whole {
                outcome: whole,
                ledger,
            }),
        }
    }

    /// Book a failed call and hand its error back.
    fn fail(&self, call: Box<Call>, error: Error) -> Failure {
        let ledger = Ledger::new(call, Arc::clone(&self.layers), Route::default(), false);
        let settlement = ledger.settle_error(error.clone(), None);
        Failure {
            error,
            payload: settlement.payload(),
        }
    }

    async fn respond(
        &self,
        call: Box<Call>,
        mut outcome: Outcome,
        route: Route,
        cache_hit: bool,
    ) -> Result<Answer, Failure> {
        let layers = Arc::clone(&self.layers);
        match outcome {
            Outcome::Chat(ChatOutcome::Stream(StreamResult { stream, hidden })) => {
                let summary = stream.summary();
                let mut chunks: ChunkStream<ChatChunk> = stream.boxed();
                for layer in &layers.respond {
                    chunks = layer.stream(&call, chunks);
                }
                let ledger = Ledger::new(call, layers, route, cache_hit);
                Ok(Answer::Chat(ServedStream::new(
                    chunks, summary, hidden, ledger,
                )))
            }
            Outcome::Text(TextOutcome::Stream(StreamResult { stream, hidden })) => {
                let summary = stream.summary();
                let ledger = Ledger::new(call, layers, route, cache_hit);
                Ok(Answer::Text(ServedStream::new(
                    stream.boxed(),
                    summary,
                    hidden,
                    ledger,
                )))
            }
            Outcome::Raw(raw) => {
                // Bytes in the provider's own format: respond layers see typed answers only.
                let ledger = Ledger::new(call, layers, route, cache_hit);
                Ok(Answer::Raw(raw_answer(raw, ledger)))
            }
            Outcome::Events(events) => {
                let ledger = Ledger::new(call, layers, route, cache_hit);
                Ok(Answer::Events(ServedStream::new(
                    events.events,
                    events.summary,
                    events.hidden,
                    ledger,
                )))
            }
            _ => {
                for layer in &layers.respond {
                    if let Err(error) = layer.whole(&call, &mut outcome).resolve().await {
                        let ledger = Ledger::new(call, Arc::clone(&layers), route, cache_hit);
                        let settlement = ledger.settle_refused(&outcome, error.clone());
                        return Err(Failure {
                            error,
                            payload: settlement.payload(),
                        });
                    }
                }
                let ledger = Ledger::new(call, layers, route, cache_hit);
                Ok(Answer::Whole(Whole { outcome, ledger }))
            }
        }
    }
}

fn raw_answer(raw: RawReply, ledger: Ledger) -> RawAnswer {
    RawAnswer {
        status: raw.status,
        headers: raw.headers,
        body: ServedStream::new(raw.body, raw.summary, raw.hidden, ledger),
    }
}

/// Run the dispatch beside the around tasks: a task's error cancels the upstream call (its
/// future, or the stream it returned, is dropped); the answer waits for every task.
async fn beside<'a>(
    layers: &'a [Arc<dyn Around>],
    call: &'a Call,
    mut dispatched: BoxFuture<'a, Result<Dispatched>>,
) -> Result<Dispatched> {
    let mut tasks: FuturesUnordered<_> = layers.iter().filter_map(|l| l.around(call)).collect();
    let mut done: Option<Dispatched> = None;
    loop {
        tokio::select! {
            result = &mut dispatched, if done.is_none() => done = Some(result?),
            task = tasks.next() => match task {
                Some(Err(error)) => return Err(error),
                Some(Ok(())) => {}
                None => {
                    return match done.take() {
                        Some(dispatched) => Ok(dispatched),
                        None => dispatched.await,
                    };
                }
            },
        }
    }
}
