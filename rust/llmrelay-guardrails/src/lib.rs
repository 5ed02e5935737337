//! LiteLLM-compatible guardrails: the `guardrails:` config, built-in guardrails in Rust (PII,
//! secrets, prompt injection, content filter, tool permission), remote guardrail APIs (OpenAI
//! moderation, Bedrock, Lakera v2, Presidio, the generic guardrail API), and the engine the call
//! pipeline runs: pre-call, during-call, post-call on whole and streamed answers, logging-only.
//!
//! ```ignore
//! let guardrails = Guardrails::from_proxy_config(&config, &BuildOptions::default())?;
//! let selection = Selection::from_request(&body)?.with_admin_metadata(key_metadata, team_metadata);
//! if let Some(call) = guardrails.begin_call(&selection, CallMetadata::default()) {
//!     call.pre_call(&mut RequestPayload::Chat(&mut request)).await?;
//!     // … call the model (run `call.during_call(RequestRef::Chat(&request))` beside it) …
//!     call.post_call(Some(&request), &mut response).await?;
//!     let records = call.information(); // → standard_logging_object.guardrail_information
//! }
//! ```

pub mod config;
pub mod content_filter;
pub mod engine;
pub mod error;
pub mod guardrail;
pub mod info;
pub mod injection;
pub mod layers;
pub mod payload;
pub mod pii;
pub(crate) mod remote;
pub(crate) mod rules;
pub(crate) mod scan;
pub mod secrets;
pub mod tool_permission;

pub use config::{ConfigError, EventHook, GuardrailKind, GuardrailSpec, GuardrailsConfig, Mode};
pub use engine::{
    BuildOptions, CustomGuardrailFactory, GuardrailCall, Guardrails, PreCallOutcome,
    RequestedGuardrail, Selection, SelectionError, StreamGuard,
};
pub use error::{Failure, GuardrailError, Violation};
pub use guardrail::{
    CallMetadata, CallState, Channel, ChannelKind, Guardrail, GuardrailFuture, HookContext,
    HookOutcome, StreamContext, StreamMode, StreamStage,
};
pub use info::{Detection, Findings, GuardrailInformation, GuardrailResponse, GuardrailStatus};
pub use payload::{OwnedRequest, RequestPayload, RequestRef, TextKind, TextSlot};
