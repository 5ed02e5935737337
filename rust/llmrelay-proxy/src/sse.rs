//! Streamed responses: engine chunks → SSE bytes, with keep-alive comments while the upstream
//! is quiet, and the books closed (metrics, logging hooks) when the stream ends or the client
//! goes away. Dropping the body drops the engine stream, which cancels the upstream request.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::time::Sleep;

use llmrelay_core::Error;
use llmrelay_core::types::{ChatChunk, TextCompletionResponse};
use llmrelay_providers::stream::{Accountable, AccountedStream, StreamSummary};

use crate::anthropic::MessageStreamEncoder;
use crate::auth::Principal;
use crate::hooks::{CallType, LogEvent};
use crate::responses::ResponseStreamEncoder;
use crate::server::AppState;

/// Turns chunks into wire bytes for one dialect.
pub trait ChunkEncoder<T>: Send + Unpin + 'static {
    fn chunk(&mut self, chunk: &mut T, out: &mut Vec<u8>);
    fn finish(&mut self, out: &mut Vec<u8>);
    fn error(&mut self, error: &Error, out: &mut Vec<u8>);
}

/// OpenAI's framing: `data: <chunk>\n\n` … `data: [DONE]\n\n`; an error mid-stream is a
/// `data: {"error": …}` event.
pub struct OpenAiEncoder {
    /// The public model name the client asked for (LiteLLM reports the group, not the deployment).
    pub model: String,
}

/// Chunks whose `model` can be replaced by the public name.
pub trait PublicModel {
    fn set_public_model(&mut self, model: &str);
}

impl PublicModel for ChatChunk {
    fn set_public_model(&mut self, model: &str) {
        model.clone_into(&mut self.model);
    }
}

impl PublicModel for TextCompletionResponse {
    fn set_public_model(&mut self, model: &str) {
        model.clone_into(&mut self.model);
    }
}

impl<T: Serialize + PublicModel> ChunkEncoder<T> for OpenAiEncoder {
    fn chunk(&mut self, chunk: &mut T, out: &mut Vec<u8>) {
        chunk.set_public_model(&self.model);
        out.extend_from_slice(b"data: ");
        // Serializing our own types into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, chunk);
        out.extend_from_slice(b"\n\n");
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"data: [DONE]\n\n");
    }

    fn error(&mut self, error: &Error, out: &mut Vec<u8>) {
        out.extend_from_slice(b"data: ");
        let body = crate::errors::ApiError::openai(error.clone()).body();
        let _ = serde_json::to_writer(&mut *out, &body);
        out.extend_from_slice(b"\n\n");
    }
}

impl ChunkEncoder<ChatChunk> for MessageStreamEncoder {
    fn chunk(&mut self, chunk: &mut ChatChunk, out: &mut Vec<u8>) {
        MessageStreamEncoder::chunk(self, chunk, out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        MessageStreamEncoder::finish(self, out);
    }

    fn error(&mut self, error: &Error, out: &mut Vec<u8>) {
        MessageStreamEncoder::error(self, error, out);
    }
}

impl ChunkEncoder<ChatChunk> for ResponseStreamEncoder {
    fn chunk(&mut self, chunk: &mut ChatChunk, out: &mut Vec<u8>) {
        ResponseStreamEncoder::chunk(self, chunk, out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        ResponseStreamEncoder::finish(self, out);
    }

    fn error(&mut self, error: &Error, out: &mut Vec<u8>) {
        ResponseStreamEncoder::error(self, error, out);
    }
}

/// What is needed to close the books of a stream.
pub struct StreamContext {
    pub state: Arc<AppState>,
    pub call_type: CallType,
    pub call_id: String,
    pub model_group: String,
    pub request: Arc<Map<String, Value>>,
    pub principal: Principal,
    /// When the proxy received the request.
    pub received: Instant,
    pub received_wall: SystemTime,
    /// Time the engine spent before the stream opened (upstream until headers).
    pub upstream_open: Duration,
    pub model_id: Option<String>,
    pub api_base: Option<String>,
}

/// The response body of a streamed call.
pub struct SseBody<T, E> {
    inner: Option<AccountedStream<T>>,
    summary: Arc<Mutex<StreamSummary>>,
    encoder: E,
    keep_alive: Duration,
    timer: Pin<Box<Sleep>>,
    done: bool,
    error: Option<Error>,
    /// Chunks as JSON, kept only when logging hooks want them.
    chunks: Option<Vec<Value>>,
    first_chunk_seen: bool,
    context: Option<StreamContext>,
}

impl<T, E> SseBody<T, E>
where
    T: Accountable + Serialize + Unpin + Send + 'static,
    E: ChunkEncoder<T>,
{
    #[must_use]
    pub fn new(
        stream: AccountedStream<T>,
        encoder: E,
        keep_alive: Duration,
        context: StreamContext,
    ) -> Self {
        let chunks = context.state.hooks.is_some().then(Vec::new);
        Self {
            summary: stream.summary(),
            inner: Some(stream),
            encoder,
            keep_alive,
            timer: Box::pin(tokio::time::sleep(keep_alive)),
            done: false,
            error: None,
            chunks,
            first_chunk_seen: false,
            context: Some(context),
        }
    }

    /// Metrics and logging hooks, once: at the end of the stream or when the client left.
    fn end_stream(&mut self) {
        // Dropping the engine stream cancels the upstream request and runs its finisher.
        self.inner.take();
        if let Some(context) = self.context.take() {
            close_books(
                context,
                &self.summary,
                self.chunks.take(),
                self.error.take(),
                self.done,
            );
        }
    }
}

/// Upstream time after the stream opened: from open to the last chunk.
fn summary_duration(
    summary: &StreamSummary,
    received: SystemTime,
    opened_after: Duration,
) -> Duration {
    let opened = received + opened_after;
    summary
        .end_time
        .and_then(|end| end.duration_since(opened).ok())
        .unwrap_or_default()
}

impl<T, E> Stream for SseBody<T, E>
where
    T: Accountable + Serialize + Unpin + Send + 'static,
    E: ChunkEncoder<T>,
{
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(mut chunk))) => {
                let mut out = Vec::with_capacity(256);
                if !this.first_chunk_seen {
                    this.first_chunk_seen = true;
                    if let Some(context) = &this.context {
                        context
                            .state
                            .metrics
                            .first_token(&context.model_group, context.received.elapsed());
                    }
                }
                this.encoder.chunk(&mut chunk, &mut out);
                if let Some(chunks) = this.chunks.as_mut() {
                    if let Ok(value) = serde_json::to_value(&chunk) {
                        chunks.push(value);
                    }
                }
                let deadline = tokio::time::Instant::now() + this.keep_alive;
                this.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(Bytes::from(out))))
            }
            Poll::Ready(Some(Err(error))) => {
                let mut out = Vec::with_capacity(256);
                this.encoder.error(&error, &mut out);
                tracing::warn!(error = %error, "stream failed mid-way");
                this.error = Some(error);
                this.done = true;
                this.end_stream();
                Poll::Ready(Some(Ok(Bytes::from(out))))
            }
            Poll::Ready(None) => {
                let mut out = Vec::with_capacity(64);
                this.encoder.finish(&mut out);
                this.done = true;
                this.end_stream();
                Poll::Ready(Some(Ok(Bytes::from(out))))
            }
            Poll::Pending => {
                if this.timer.as_mut().poll(cx).is_ready() {
                    let deadline = tokio::time::Instant::now() + this.keep_alive;
                    this.timer.as_mut().reset(deadline);
                    // Re-register the timer's waker for the next period.
                    let _ = this.timer.as_mut().poll(cx);
                    return Poll::Ready(Some(Ok(Bytes::from_static(b": keep-alive\n\n"))));
                }
                Poll::Pending
            }
        }
    }
}

impl<T, E> Drop for SseBody<T, E> {
    fn drop(&mut self) {
        // The client went away (or the stream ended): cancel upstream, record what was used.
        self.inner.take();
        if let Some(context) = self.context.take() {
            close_books(
                context,
                &self.summary,
                self.chunks.take(),
                self.error.take(),
                self.done,
            );
        }
    }
}

/// Record a finished (or abandoned) stream: metrics, then the logging hooks in the background.
fn close_books(
    context: StreamContext,
    summary: &Arc<Mutex<StreamSummary>>,
    chunks: Option<Vec<Value>>,
    error: Option<Error>,
    done: bool,
) {
    let summary = match summary.lock() {
        Ok(guard) => guard.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    let state = Arc::clone(&context.state);
    state.metrics.call(
        &context.model_group,
        context.received.elapsed(),
        context.upstream_open
            + summary_duration(&summary, context.received_wall, context.upstream_open),
        summary.usage.as_ref(),
        summary.response_cost,
    );
    if !done {
        tracing::info!(call_id = %context.call_id, "client disconnected mid-stream; upstream request cancelled");
    }
    let Some(hooks) = state.hooks.clone() else {
        return;
    };
    let event = LogEvent {
        call_type: context.call_type,
        call_id: context.call_id,
        model_group: context.model_group,
        request: context.request,
        response: None,
        chunks: chunks.unwrap_or_default(),
        error: error.clone(),
        usage: summary.usage.clone(),
        response_cost: summary.response_cost,
        stream: true,
        start_time: context.received_wall,
        end_time: summary.end_time.unwrap_or_else(SystemTime::now),
        completion_start_time: summary.completion_start_time,
        principal: context.principal,
        model_id: context.model_id,
        api_base: context.api_base,
    };
    let future = if error.is_some() {
        hooks.log_failure(event)
    } else {
        hooks.log_success(event)
    };
    state.spawn_background(future);
}
