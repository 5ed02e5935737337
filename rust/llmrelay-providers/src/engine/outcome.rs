//! What one call produced: a whole response or a stream, with LiteLLM's `_hidden_params`.

use std::sync::{Arc, Mutex};

use futures::stream::BoxStream;
use serde_json::Value;

use llmrelay_core::Result;
use llmrelay_core::types::{
    ChatChunk, ChatResponse, EmbeddingResponse, TextCompletionResponse, Usage,
};

use crate::stream::{AccountedStream, StreamSummary};

/// What LiteLLM exposes as `response._hidden_params`.
#[derive(Debug, Clone, Default)]
pub struct HiddenParams {
    pub custom_llm_provider: String,
    /// The model id sent upstream (prefix removed).
    pub model: String,
    pub api_base: Option<String>,
    pub response_cost: Option<f64>,
    pub response_ms: f64,
    pub model_id: Option<String>,
    /// Upstream response headers worth exposing (rate limits, request id).
    pub headers: Vec<(String, String)>,
    pub num_retries: u32,
    /// Answered from the response cache (LiteLLM's `_hidden_params["cache_hit"]`).
    pub cache_hit: bool,
    /// The response cache's key for this call (`_hidden_params["cache_key"]`, the proxy's
    /// `x-litellm-cache-key`), when a cache answered it.
    pub cache_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CompletionResult<T> {
    pub response: T,
    pub hidden: HiddenParams,
}

pub struct StreamResult<T> {
    pub stream: AccountedStream<T>,
    pub hidden: HiddenParams,
}

#[expect(
    clippy::large_enum_variant,
    reason = "one value per call, moved once to the caller"
)]
pub enum ChatOutcome {
    Whole(CompletionResult<ChatResponse>),
    Stream(StreamResult<ChatChunk>),
}

#[expect(
    clippy::large_enum_variant,
    reason = "one value per call, moved once to the caller"
)]
pub enum TextOutcome {
    Whole(CompletionResult<TextCompletionResponse>),
    Stream(StreamResult<TextCompletionResponse>),
}

/// A stream of JSON events (the Responses API's own), with the books of the call behind it.
pub struct EventStream {
    pub events: BoxStream<'static, Result<Value>>,
    pub summary: Arc<Mutex<StreamSummary>>,
    pub hidden: HiddenParams,
}

/// The answer of one call, for every call kind.
pub enum Outcome {
    Chat(ChatOutcome),
    Text(TextOutcome),
    Embedding(CompletionResult<EmbeddingResponse>),
    /// Image generation, rerank, moderation, a native Responses API response: JSON.
    Json(CompletionResult<Value>),
    /// A native Responses API stream.
    Events(EventStream),
    /// A provider pass-through answer: the upstream's status, headers and bytes.
    Raw(RawReply),
}

/// A pass-through answer, streamed back byte for byte; `summary` is filled in (usage, cost)
/// from what went by when the body ends.
pub struct RawReply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: BoxStream<'static, Result<bytes::Bytes>>,
    pub summary: Arc<Mutex<StreamSummary>>,
    pub hidden: HiddenParams,
}

impl Outcome {
    #[must_use]
    pub fn hidden(&self) -> &HiddenParams {
        match self {
            Self::Chat(ChatOutcome::Whole(r)) => &r.hidden,
            Self::Chat(ChatOutcome::Stream(s)) => &s.hidden,
            Self::Text(TextOutcome::Whole(r)) => &r.hidden,
            Self::Text(TextOutcome::Stream(s)) => &s.hidden,
            Self::Embedding(r) => &r.hidden,
            Self::Json(r) => &r.hidden,
            Self::Events(s) => &s.hidden,
            Self::Raw(r) => &r.hidden,
        }
    }

    pub fn hidden_mut(&mut self) -> &mut HiddenParams {
        match self {
            Self::Chat(ChatOutcome::Whole(r)) => &mut r.hidden,
            Self::Chat(ChatOutcome::Stream(s)) => &mut s.hidden,
            Self::Text(TextOutcome::Whole(r)) => &mut r.hidden,
            Self::Text(TextOutcome::Stream(s)) => &mut s.hidden,
            Self::Embedding(r) => &mut r.hidden,
            Self::Json(r) => &mut r.hidden,
            Self::Events(s) => &mut s.hidden,
            Self::Raw(r) => &mut r.hidden,
        }
    }

    /// Whether the answer is a stream (its usage is known only when it ends).
    #[must_use]
    pub const fn is_stream(&self) -> bool {
        matches!(
            self,
            Self::Chat(ChatOutcome::Stream(_))
                | Self::Text(TextOutcome::Stream(_))
                | Self::Events(_)
                | Self::Raw(_)
        )
    }

    /// The usage of a whole answer (`None` for streams and answers without usage).
    #[must_use]
    pub fn usage(&self) -> Option<&Usage> {
        match self {
            Self::Chat(ChatOutcome::Whole(r)) => r.response.usage.as_ref(),
            Self::Text(TextOutcome::Whole(r)) => r.response.usage.as_ref(),
            Self::Embedding(r) => r.response.usage.as_ref(),
            _ => None,
        }
    }

    /// The stream's shared summary (usage, cost, timings), for streamed answers.
    #[must_use]
    pub fn stream_summary(&self) -> Option<Arc<Mutex<StreamSummary>>> {
        match self {
            Self::Chat(ChatOutcome::Stream(s)) => Some(s.stream.summary()),
            Self::Text(TextOutcome::Stream(s)) => Some(s.stream.summary()),
            Self::Events(s) => Some(Arc::clone(&s.summary)),
            Self::Raw(r) => Some(Arc::clone(&r.summary)),
            _ => None,
        }
    }
}

fn wrong_kind(expected: &str) -> llmrelay_core::Error {
    llmrelay_core::Error::new(
        llmrelay_core::ErrorKind::InternalServer,
        format!("the engine answered another kind of call than {expected}"),
    )
}

impl Outcome {
    /// The chat answer.
    ///
    /// # Errors
    /// When the outcome is of another kind.
    pub fn into_chat(self) -> Result<ChatOutcome> {
        match self {
            Self::Chat(outcome) => Ok(outcome),
            _ => Err(wrong_kind("chat")),
        }
    }

    /// The legacy completion answer.
    ///
    /// # Errors
    /// When the outcome is of another kind.
    pub fn into_text(self) -> Result<TextOutcome> {
        match self {
            Self::Text(outcome) => Ok(outcome),
            _ => Err(wrong_kind("text completion")),
        }
    }

    /// The embedding answer.
    ///
    /// # Errors
    /// When the outcome is of another kind.
    pub fn into_embedding(self) -> Result<CompletionResult<EmbeddingResponse>> {
        match self {
            Self::Embedding(result) => Ok(result),
            _ => Err(wrong_kind("embedding")),
        }
    }

    /// A JSON answer (operations, native Responses).
    ///
    /// # Errors
    /// When the outcome is of another kind.
    pub fn into_json(self) -> Result<CompletionResult<Value>> {
        match self {
            Self::Json(result) => Ok(result),
            _ => Err(wrong_kind("a JSON endpoint")),
        }
    }
}
