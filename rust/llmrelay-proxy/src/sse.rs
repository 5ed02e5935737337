//! Streamed responses: the pipeline's chunks → SSE bytes in the route's dialect, with keep-alive
//! comments while the upstream is quiet. The books (spend, metrics, logging hooks) are the
//! pipeline's: the stream settles them when it ends, and dropping the body (the client left)
//! drops the stream, which cancels the upstream request and settles them as cancelled.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Sleep;

use llmrelay_core::Error;
use llmrelay_core::types::{ChatChunk, TextCompletionResponse};
use llmrelay_pipeline::ServedStream;

use crate::anthropic::MessageStreamEncoder;
use crate::metrics::Metrics;
use crate::responses::{EventEncoder, ResponseStreamEncoder};

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

impl ChunkEncoder<Value> for EventEncoder {
    fn chunk(&mut self, event: &mut Value, out: &mut Vec<u8>) {
        EventEncoder::event(self, event, out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        EventEncoder::finish(self, out);
    }

    fn error(&mut self, error: &Error, out: &mut Vec<u8>) {
        EventEncoder::error(self, error, out);
    }
}

/// The response body of a streamed call.
pub struct SseBody<T: llmrelay_pipeline::Kept, E> {
    inner: ServedStream<T>,
    encoder: E,
    keep_alive: Duration,
    timer: Pin<Box<Sleep>>,
    done: bool,
    first_chunk_seen: bool,
    metrics: Arc<Metrics>,
    model_group: String,
    received: Instant,
}

impl<T, E> SseBody<T, E>
where
    T: llmrelay_pipeline::Kept + Serialize + Unpin + Send + 'static,
    E: ChunkEncoder<T>,
{
    #[must_use]
    pub fn new(
        inner: ServedStream<T>,
        encoder: E,
        keep_alive: Duration,
        metrics: Arc<Metrics>,
        model_group: String,
        received: Instant,
    ) -> Self {
        Self {
            inner,
            encoder,
            keep_alive,
            timer: Box::pin(tokio::time::sleep(keep_alive)),
            done: false,
            first_chunk_seen: false,
            metrics,
            model_group,
            received,
        }
    }
}

impl<T, E> Stream for SseBody<T, E>
where
    T: llmrelay_pipeline::Kept + Serialize + Unpin + Send + 'static,
    E: ChunkEncoder<T>,
{
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(mut chunk))) => {
                let mut out = Vec::with_capacity(256);
                if !this.first_chunk_seen {
                    this.first_chunk_seen = true;
                    this.metrics
                        .first_token(&this.model_group, this.received.elapsed());
                }
                this.encoder.chunk(&mut chunk, &mut out);
                let deadline = tokio::time::Instant::now() + this.keep_alive;
                this.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(Bytes::from(out))))
            }
            Poll::Ready(Some(Err(error))) => {
                let mut out = Vec::with_capacity(256);
                this.encoder.error(&error, &mut out);
                tracing::warn!(error = %error, "stream failed mid-way");
                this.done = true;
                Poll::Ready(Some(Ok(Bytes::from(out))))
            }
            Poll::Ready(None) => {
                // The stream has settled its books: the last bytes follow.
                let mut out = Vec::with_capacity(64);
                this.encoder.finish(&mut out);
                this.done = true;
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
