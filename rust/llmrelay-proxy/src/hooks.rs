//! User hooks around each call (LiteLLM's `CustomLogger` proxy hooks). The proxy only knows
//! this trait; the Python binding implements it by calling `litellm_settings.callbacks`, so a
//! proxy without callbacks never touches Python.

use std::sync::Arc;
use std::time::SystemTime;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use llmrelay_core::Error;
use llmrelay_core::types::Usage;

use crate::auth::Principal;

/// The kind of call, with LiteLLM's `call_type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallType {
    Completion,
    TextCompletion,
    Embeddings,
    AnthropicMessages,
    Responses,
}

impl CallType {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Completion => "completion",
            Self::TextCompletion => "text_completion",
            Self::Embeddings => "embeddings",
            Self::AnthropicMessages => "anthropic_messages",
            Self::Responses => "responses",
        }
    }
}

/// What a pre-call hook decided.
#[derive(Debug)]
pub enum PreCall {
    /// Go on with this (possibly rewritten) request body.
    Continue(Map<String, Value>),
    /// Answer the request with this text instead of calling the model (a hook returned a str).
    Respond(String),
}

/// A finished call, for the logging hooks (`async_log_success_event` / `_failure_event`).
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub call_type: CallType,
    pub call_id: String,
    pub model_group: String,
    /// The request body as the model was called with it.
    pub request: Arc<Map<String, Value>>,
    /// The whole response (OpenAI shape); for a stream, the chunks in order.
    pub response: Option<Value>,
    pub chunks: Vec<Value>,
    pub error: Option<Error>,
    pub usage: Option<Usage>,
    pub response_cost: Option<f64>,
    pub stream: bool,
    pub start_time: SystemTime,
    pub end_time: SystemTime,
    pub completion_start_time: Option<SystemTime>,
    pub principal: Principal,
    pub model_id: Option<String>,
    pub api_base: Option<String>,
}

/// Hooks called around every LLM call. Futures are owned so the server can spawn the logging
/// ones as tracked background tasks.
pub trait Hooks: Send + Sync + 'static {
    /// Before the call (`async_pre_call_hook`): rewrite, answer or reject (an `Err` is sent
    /// to the client with its status).
    fn pre_call(
        &self,
        call_type: CallType,
        principal: &Principal,
        data: Map<String, Value>,
    ) -> BoxFuture<'static, Result<PreCall, Error>>;

    /// After a successful whole response (`async_post_call_success_hook`): `Some` replaces it;
    /// an `Err` fails the request.
    fn post_call_success(
        &self,
        call_type: CallType,
        principal: &Principal,
        data: Arc<Map<String, Value>>,
        response: Value,
    ) -> BoxFuture<'static, Result<Option<Value>, Error>>;

    /// After a failed call (`async_post_call_failure_hook`).
    fn post_call_failure(
        &self,
        call_type: CallType,
        principal: &Principal,
        data: Arc<Map<String, Value>>,
        error: Error,
    ) -> BoxFuture<'static, ()>;

    /// When a call finished well (whole or stream end): `async_log_success_event`.
    fn log_success(&self, event: LogEvent) -> BoxFuture<'static, ()>;

    /// When a call failed: `async_log_failure_event`.
    fn log_failure(&self, event: LogEvent) -> BoxFuture<'static, ()>;
}
