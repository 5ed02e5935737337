//! The trait every guardrail implements (built-in, remote, or backed by Python), and what its
//! hooks receive: the hook, its config, and the state shared by the guardrails of one call.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

use llmrelay_core::types::{ChatChunk, ChatRequest, ChatResponse};
use llmrelay_providers::stream::ChunkStream;

use crate::config::{EventHook, GuardrailSpec};
use crate::error::GuardrailError;
use crate::info::Findings;
use crate::payload::RequestPayload;

/// The future a hook returns (boxed so the trait stays object-safe).
pub type GuardrailFuture<'a> =
    Pin<Box<dyn Future<Output = Result<HookOutcome, GuardrailError>> + Send + 'a>>;

/// What a hook decided, when it let the call go on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookOutcome {
    pub findings: Findings,
    /// Answer the call with this text instead (a pre-call hook returning a string in LiteLLM,
    /// Bedrock's `disable_exception_on_block`). The model is not called.
    pub respond: Option<String>,
}

impl HookOutcome {
    #[must_use]
    pub fn with_findings(findings: Findings) -> Self {
        Self {
            findings,
            respond: None,
        }
    }
}

/// What a hook receives besides the payload.
#[derive(Debug, Clone, Copy)]
pub struct HookContext<'a> {
    pub guardrail_name: &'a str,
    pub hook: EventHook,
    pub spec: &'a GuardrailSpec,
    pub call: &'a Arc<CallState>,
    /// The call's request, for response hooks (`None` in request hooks).
    pub request: Option<&'a ChatRequest>,
}

/// A stream of chat chunks is processed per text channel: one choice's content, or one of its
/// tool calls' arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel {
    pub choice: u32,
    pub kind: ChannelKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelKind {
    Content,
    /// Arguments of the tool call with this `index`.
    ToolArguments(u32),
}

/// Chunk-by-chunk processing of streamed text, with a bounded look-behind window.
pub trait StreamStage: Send {
    /// The most bytes it holds back per channel.
    fn window(&self) -> usize;
    /// Adds text to a channel; appends what can be released to `out`.
    ///
    /// # Errors
    /// The guardrail refuses the text: the stream stops.
    fn push(
        &mut self,
        channel: Channel,
        text: &str,
        out: &mut String,
    ) -> Result<(), GuardrailError>;
    /// The channel ended: releases what is held.
    ///
    /// # Errors
    /// The guardrail refuses the text: the stream stops.
    fn flush(&mut self, channel: Channel, out: &mut String) -> Result<(), GuardrailError>;
    /// What it found so far (for `guardrail_information`), leaving it empty.
    fn take_findings(&mut self) -> Findings;
}

/// How a guardrail handles a streamed answer (post-call).
pub enum StreamMode {
    /// Text is processed as it arrives.
    Incremental(Box<dyn StreamStage>),
    /// Text flows; tool calls are held until their choice ends, then checked as a whole answer.
    HoldToolCalls,
    /// The whole answer is held until the stream ends, then checked (and possibly rewritten) as
    /// a whole answer before anything is released.
    HoldAll,
    /// The answer flows; it is checked as a whole at the end (a refusal stops the stream there;
    /// rewrites cannot apply to text already sent).
    CheckAtEnd,
    /// The guardrail takes the stream and gives back the one the caller gets
    /// ([`Guardrail::rewrite_stream`]: a Python `async_post_call_streaming_iterator_hook`).
    Rewrite,
}

/// What [`Guardrail::rewrite_stream`] receives: owned, as the stream outlives the call's layers.
#[derive(Debug, Clone)]
pub struct StreamContext {
    pub guardrail_name: String,
    pub spec: Arc<GuardrailSpec>,
    pub call: Arc<CallState>,
    pub request: Option<ChatRequest>,
}

impl std::fmt::Debug for StreamMode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::Incremental(_) => "Incremental",
            Self::HoldToolCalls => "HoldToolCalls",
            Self::HoldAll => "HoldAll",
            Self::CheckAtEnd => "CheckAtEnd",
            Self::Rewrite => "Rewrite",
        })
    }
}

/// A guardrail. Hooks run in the order guardrails are configured; a refusal or failure stops
/// the call. Implementations must not hold locks across awaits.
pub trait Guardrail: Send + Sync {
    /// LiteLLM's `guardrail_provider` label (`presidio`, `litellm_content_filter`, …).
    fn provider(&self) -> &str;

    /// Checks (and may rewrite) a request: `pre_call`, `during_call` (on a copy; rewrites are
    /// dropped) and `logging_only` (on the logged copy).
    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a>;

    /// Checks (and may rewrite) a whole answer: `post_call` and `logging_only`.
    fn check_response<'a>(
        &'a self,
        response: &'a mut ChatResponse,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a>;

    /// How it handles streamed answers.
    fn stream_mode(&self, _context: HookContext<'_>) -> StreamMode {
        StreamMode::HoldAll
    }

    /// With [`StreamMode::Rewrite`]: the stream the caller gets instead of `chunks` (chunks may
    /// be rewritten, dropped, added, or the stream ended early; an `Err` item ends it with that
    /// error).
    fn rewrite_stream(
        self: Arc<Self>,
        chunks: ChunkStream<ChatChunk>,
        _context: StreamContext,
    ) -> ChunkStream<ChatChunk> {
        chunks
    }
}

/// Who is calling and how, as remote guardrails forward it (`request_data` of the generic API).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallMetadata {
    pub litellm_call_id: Option<String>,
    pub litellm_trace_id: Option<String>,
    /// `user_api_key_hash`, `user_api_key_alias`, `user_api_key_team_id`, … (as LiteLLM names them).
    pub user_api_key: Map<String, Value>,
    /// Request tags (for tag-based modes).
    pub tags: Vec<String>,
}

/// Masked PII values of one call (`output_parse_pii`): token ↔ original.
#[derive(Debug, Default)]
struct PiiTokens {
    by_token: HashMap<String, String>,
    by_original: HashMap<(String, String), String>,
    order: Vec<String>,
}

/// State shared by the guardrails of one call.
#[derive(Debug, Default)]
pub struct CallState {
    pub metadata: CallMetadata,
    /// `extra_body` a request passed per guardrail (`guardrails: [{name: {extra_body: {...}}}]`).
    pub dynamic_params: HashMap<String, Map<String, Value>>,
    tokens: Mutex<PiiTokens>,
}

impl CallState {
    #[must_use]
    pub fn new(
        metadata: CallMetadata,
        dynamic_params: HashMap<String, Map<String, Value>>,
    ) -> Self {
        Self {
            metadata,
            dynamic_params,
            tokens: Mutex::new(PiiTokens::default()),
        }
    }

    /// The numbered token for a masked value (`<EMAIL_ADDRESS_1>`); the same value gets the same
    /// token within a call.
    pub fn pii_token(&self, entity_type: &str, original: &str) -> String {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (entity_type.to_owned(), original.to_owned());
        if let Some(token) = tokens.by_original.get(&key) {
            return token.clone();
        }
        let token = format!("<{entity_type}_{}>", tokens.order.len() + 1);
        tokens.by_token.insert(token.clone(), original.to_owned());
        tokens.by_original.insert(key, token.clone());
        tokens.order.push(token.clone());
        token
    }

    /// Every token and its original, in the order they were made.
    #[must_use]
    pub fn pii_tokens(&self) -> Vec<(String, String)> {
        let tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        tokens
            .order
            .iter()
            .filter_map(|token| {
                tokens
                    .by_token
                    .get(token)
                    .map(|original| (token.clone(), original.clone()))
            })
            .collect()
    }

    /// The `extra_body` a request passed to this guardrail.
    #[must_use]
    pub fn extra_body(&self, guardrail_name: &str) -> Option<&Map<String, Value>> {
        self.dynamic_params.get(guardrail_name)
    }
}

/// A boxed ready future (for guardrails that decide without I/O).
pub(crate) fn ready<'a>(result: Result<HookOutcome, GuardrailError>) -> GuardrailFuture<'a> {
    Box::pin(std::future::ready(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_numbered_per_call_and_reused() {
        let state = CallState::default();
        assert_eq!(
            state.pii_token("EMAIL_ADDRESS", "a@b.co"),
            "<EMAIL_ADDRESS_1>"
        );
        assert_eq!(state.pii_token("PERSON", "Ann"), "<PERSON_2>");
        assert_eq!(
            state.pii_token("EMAIL_ADDRESS", "a@b.co"),
            "<EMAIL_ADDRESS_1>"
        );
        assert_eq!(state.pii_tokens().len(), 2);
    }
}
