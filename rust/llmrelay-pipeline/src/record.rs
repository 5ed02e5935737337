//! What accounting sees when a call is over, and how the call was routed.

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use serde_json::Value;

use llmrelay_core::Error;
use llmrelay_core::types::Usage;
use llmrelay_providers::engine::{HiddenParams, Outcome};

use crate::call::Call;
use crate::payload::StandardLoggingPayload;

/// How a call was routed: the group that answered and the attempts it took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// The model group that answered (a fallback's when one answered).
    pub model_group: String,
    /// The deployment that answered (`model_info.id`).
    pub deployment_id: Option<String>,
    /// Retries within the answering group.
    pub retries: u32,
    /// Fallback groups tried.
    pub fallbacks: u32,
    /// Attempts in all.
    pub attempts: u32,
}

/// What a dispatcher produced: the answer and how it got there.
pub struct Dispatched {
    pub outcome: Outcome,
    pub route: Route,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
    /// The caller went away (client disconnect, a stream dropped early).
    Cancelled,
}

impl Status {
    /// LiteLLM's `status` in the logging payload (`success` / `failure`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure | Self::Cancelled => "failure",
        }
    }
}

/// A finished call, as every account layer sees it.
pub struct CallRecord {
    pub status: Status,
    pub error: Option<Error>,
    pub usage: Option<Usage>,
    /// USD; `None` when the catalog does not price the model.
    pub cost: Option<f64>,
    /// The answer's `_hidden_params` (provider, upstream model, api_base, deployment id).
    pub hidden: Option<HiddenParams>,
    pub route: Route,
    pub end_time: SystemTime,
    /// When the first chunk arrived (streams).
    pub completion_start_time: Option<SystemTime>,
    /// How long after the call started its stream was handed to the caller (streams).
    pub served_after: Option<std::time::Duration>,
    pub stream: bool,
    /// Answered from the cache (no upstream call, no cost).
    pub cache_hit: bool,
    /// The answer as JSON (a stream's assembled chunks), when a layer asked for it.
    pub response: Option<Value>,
    payload: OnceLock<Arc<StandardLoggingPayload>>,
}

impl CallRecord {
    #[must_use]
    pub fn new(status: Status) -> Self {
        Self {
            status,
            error: None,
            usage: None,
            cost: None,
            hidden: None,
            route: Route::default(),
            end_time: SystemTime::now(),
            completion_start_time: None,
            served_after: None,
            stream: false,
            cache_hit: false,
            response: None,
            payload: OnceLock::new(),
        }
    }

    /// A call that failed with `error`.
    #[must_use]
    pub fn failed(error: Error) -> Self {
        let mut record = Self::new(Status::Failure);
        record.error = Some(error);
        record
    }

    /// LiteLLM's `standard_logging_object` for this call, built once on first use.
    #[must_use]
    pub fn payload(&self, call: &Call) -> Arc<StandardLoggingPayload> {
        Arc::clone(
            self.payload
                .get_or_init(|| Arc::new(StandardLoggingPayload::build(call, self))),
        )
    }
}
