//! Streams: framing → provider decoder → canonical chunks, then accounting (usage, cost,
//! time to first chunk) as the stream is consumed, finished as it ends or is dropped.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

use llmrelay_core::types::{ChatChunk, TextCompletionResponse, Usage};
use llmrelay_core::{Error, Result};

use crate::ndjson;
use crate::provider::{ChunkDecoder, Framing};
use crate::sse::{self, RawEvent};

/// A stream of canonical chunks.
pub type ChunkStream<T> = BoxStream<'static, Result<T>>;

struct DecodeState<T> {
    events: BoxStream<'static, Result<RawEvent>>,
    decoder: Box<dyn ChunkDecoder<T>>,
    pending: VecDeque<T>,
    error: Option<Error>,
    done: bool,
}

/// Decode an SSE body into chunks, with an idle limit between events.
pub fn decode_sse<T, S, E>(
    body: S,
    decoder: Box<dyn ChunkDecoder<T>>,
    idle: Option<Duration>,
) -> ChunkStream<T>
where
    T: Send + 'static,
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    decode(body, Framing::Sse, decoder, idle)
}

/// Decode a streamed body framed as `framing` into chunks, with an idle limit between events.
pub fn decode<T, S, E>(
    body: S,
    framing: Framing,
    decoder: Box<dyn ChunkDecoder<T>>,
    idle: Option<Duration>,
) -> ChunkStream<T>
where
    T: Send + 'static,
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let events = match framing {
        Framing::Sse => sse::events(body).boxed(),
        Framing::NdJson => ndjson::events(body).boxed(),
        Framing::AwsEventStream => crate::aws_eventstream::events(body).boxed(),
    };
    let state = DecodeState {
        events,
        decoder,
        pending: VecDeque::new(),
        error: None,
        done: false,
    };
    futures::stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(item) = state.pending.pop_front() {
                return Some((Ok(item), state));
            }
            if let Some(error) = state.error.take() {
                state.done = true;
                return Some((Err(error), state));
            }
            if state.done {
                return None;
            }
            let next = match idle {
                Some(limit) => match tokio::time::timeout(limit, state.events.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        state.done = true;
                        let message = format!(
                            "Stream timed out: no data for {:.3} seconds",
                            limit.as_secs_f64()
                        );
                        return Some((Err(Error::timeout(message)), state));
                    }
                },
                None => state.events.next().await,
            };
            match next {
                None => {
                    state.done = true;
                    let error = Error::connection("upstream closed the stream before it completed");
                    return Some((Err(error), state));
                }
                Some(Err(error)) => {
                    state.done = true;
                    return Some((Err(error), state));
                }
                Some(Ok(event)) => {
                    let mut out = Vec::new();
                    match state.decoder.decode(&event, &mut out) {
                        Ok(done) => state.done = done,
                        Err(error) => state.error = Some(error),
                    }
                    state.pending.extend(out);
                }
            }
        }
    })
    .boxed()
}

/// What a chunk type tells the accountant.
pub trait Accountable {
    fn usage(&self) -> Option<&Usage>;
    /// A chunk that only carries usage (no choices).
    fn is_usage_only(&self) -> bool;
    /// Append generated text (for token counting when the upstream reports no usage).
    fn append_text(&self, out: &mut String);
    fn finish_reason(&self) -> Option<&str>;
    fn set_model(&mut self, model: &str);
}

impl Accountable for ChatChunk {
    fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }
    fn is_usage_only(&self) -> bool {
        self.choices.is_empty() && self.usage.is_some()
    }
    fn append_text(&self, out: &mut String) {
        for choice in &self.choices {
            if let Some(content) = &choice.delta.content {
                out.push_str(content);
            }
            if let Some(reasoning) = &choice.delta.reasoning_content {
                out.push_str(reasoning);
            }
            for call in choice.delta.tool_calls.iter().flatten() {
                if let Some(function) = &call.function {
                    if let Some(name) = &function.name {
                        out.push_str(name);
                    }
                    if let Some(arguments) = &function.arguments {
                        out.push_str(arguments);
                    }
                }
            }
        }
    }
    fn finish_reason(&self) -> Option<&str> {
        self.choices.iter().find_map(|c| c.finish_reason.as_deref())
    }
    fn set_model(&mut self, model: &str) {
        if self.model.is_empty() {
            model.clone_into(&mut self.model);
        }
    }
}

impl Accountable for TextCompletionResponse {
    fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }
    fn is_usage_only(&self) -> bool {
        self.choices.is_empty() && self.usage.is_some()
    }
    fn append_text(&self, out: &mut String) {
        for choice in &self.choices {
            out.push_str(&choice.text);
        }
    }
    fn finish_reason(&self) -> Option<&str> {
        self.choices.iter().find_map(|c| c.finish_reason.as_deref())
    }
    fn set_model(&mut self, model: &str) {
        if self.model.is_empty() {
            model.clone_into(&mut self.model);
        }
    }
}

/// The outcome of a stream, filled in as it runs and final once `finished`.
#[derive(Debug, Clone, Default)]
pub struct StreamSummary {
    pub usage: Option<Usage>,
    pub response_cost: Option<f64>,
    pub completion_start_time: Option<SystemTime>,
    pub end_time: Option<SystemTime>,
    pub finish_reason: Option<String>,
    pub chunks: usize,
    pub error: Option<String>,
    pub finished: bool,
}

/// Computes usage (when the upstream sent none) and cost once a stream ends.
pub type Finisher = Box<dyn FnOnce(&mut StreamSummary, &str) + Send>;

/// A stream that keeps its own books.
pub struct AccountedStream<T> {
    inner: ChunkStream<T>,
    summary: Arc<Mutex<StreamSummary>>,
    text: String,
    started: Instant,
    /// Drop the usage-only chunk: we asked the upstream for it, the caller did not.
    strip_usage_chunk: bool,
    model: String,
    finisher: Option<Finisher>,
}

impl<T> AccountedStream<T> {
    pub fn new(
        inner: ChunkStream<T>,
        strip_usage_chunk: bool,
        model: String,
        finisher: Finisher,
    ) -> Self {
        Self {
            inner,
            summary: Arc::new(Mutex::new(StreamSummary::default())),
            text: String::new(),
            started: Instant::now(),
            strip_usage_chunk,
            model,
            finisher: Some(finisher),
        }
    }

    /// Shared view of the summary (readable while and after the stream runs).
    #[must_use]
    pub fn summary(&self) -> Arc<Mutex<StreamSummary>> {
        Arc::clone(&self.summary)
    }

    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Also run `hook` with the final summary when the stream ends or is dropped (the router
    /// books tokens and in-flight counts of its deployment there).
    pub fn on_finish(&mut self, hook: impl FnOnce(&StreamSummary) + Send + 'static) {
        if let Some(original) = self.finisher.take() {
            self.finisher = Some(Box::new(move |summary: &mut StreamSummary, text: &str| {
                original(summary, text);
                hook(summary);
            }));
        }
    }

    fn finish(&mut self, error: Option<&Error>) {
        let Some(finisher) = self.finisher.take() else {
            return;
        };
        let mut summary = match self.summary.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        summary.end_time = Some(SystemTime::now());
        summary.error = error.map(ToString::to_string);
        finisher(&mut summary, &self.text);
        summary.finished = true;
    }
}

impl<T> Drop for AccountedStream<T> {
    fn drop(&mut self) {
        // A consumer that stops early still gets its usage and cost recorded.
        self.finish(None);
    }
}

fn lock(summary: &Mutex<StreamSummary>) -> std::sync::MutexGuard<'_, StreamSummary> {
    match summary.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl<T: Accountable + Unpin> Stream for AccountedStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let polled = self.inner.poll_next_unpin(cx);
            match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.finish(None);
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(error))) => {
                    self.finish(Some(&error));
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(Ok(mut chunk))) => {
                    let this = &mut *self;
                    chunk.set_model(&this.model);
                    chunk.append_text(&mut this.text);
                    {
                        let mut summary = lock(&this.summary);
                        if summary.completion_start_time.is_none() {
                            summary.completion_start_time = Some(SystemTime::now());
                        }
                        summary.chunks += 1;
                        if let Some(usage) = chunk.usage() {
                            summary.usage = Some(usage.clone());
                        }
                        if let Some(reason) = chunk.finish_reason() {
                            summary.finish_reason = Some(reason.to_owned());
                        }
                    }
                    if this.strip_usage_chunk && chunk.is_usage_only() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(chunk)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::ChatDecoder;

    fn body(
        text: &'static str,
    ) -> impl Stream<Item = std::result::Result<Bytes, std::convert::Infallible>> {
        // Split at odd places to exercise framing across reads.
        let bytes = text.as_bytes();
        let pieces: Vec<std::result::Result<Bytes, std::convert::Infallible>> = bytes
            .chunks(7)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures::stream::iter(pieces)
    }

    #[tokio::test]
    async fn decodes_across_read_boundaries_and_accounts() {
        let text = include_str!("../tests/fixtures/openai/stream_parallel_tools.sse");
        let inner = decode_sse(body(text), Box::new(ChatDecoder), None);
        let finisher: Finisher = Box::new(|summary, text| {
            summary.response_cost = Some(text.len() as f64);
        });
        let mut stream = AccountedStream::new(inner, true, "gpt-4o".to_owned(), finisher);
        let summary = stream.summary();
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.next().await {
            chunks.push(chunk.unwrap());
        }
        // The usage-only chunk was stripped from what the caller sees but counted.
        assert_eq!(chunks.len(), 8);
        let summary = summary.lock().unwrap().clone();
        assert!(summary.finished);
        assert_eq!(summary.usage.unwrap().total_tokens, 102);
        assert_eq!(summary.finish_reason.as_deref(), Some("tool_calls"));
        assert!(summary.completion_start_time.is_some());
        // name twice + the four argument pieces
        assert_eq!(
            summary.response_cost,
            Some(("get_weather".len() * 2 + 2 * "{\"location\": \"Paris\"}".len()) as f64)
        );
    }

    #[tokio::test]
    async fn missing_done_is_an_error() {
        let text = "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n";
        let mut stream = decode_sse(body(text), Box::new(ChatDecoder), None);
        assert!(stream.next().await.unwrap().is_ok());
        let error = stream.next().await.unwrap().unwrap_err();
        assert_eq!(error.kind(), llmrelay_core::ErrorKind::ApiConnection);
        assert!(stream.next().await.is_none());
    }
}
