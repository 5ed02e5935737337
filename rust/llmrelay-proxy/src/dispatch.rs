//! Where a request for a public model name goes: the [`Dispatch`] trait the server calls.
//! [`crate::RouterDispatch`] implements it with the Router (strategies, limits, retries,
//! fallbacks, cooldowns); tests may plug in their own.

use futures::future::BoxFuture;
use serde_json::{Map, Value};

/// One deployment as `/model/info` shows it (credentials removed).
#[derive(Debug, Clone)]
pub struct ModelEntry {
    pub model_name: String,
    /// The deployment's `litellm_params` without `api_key` and other secrets.
    pub litellm_params: Map<String, Value>,
    /// `model_info` with the deployment `id` filled in.
    pub model_info: Map<String, Value>,
}

/// Result of probing deployments (`GET /health`).
#[derive(Debug, Clone, Default)]
pub struct HealthReport {
    /// One object per deployment: its public `litellm_params` plus `model_id`.
    pub healthy: Vec<Value>,
    /// Same, plus an `error` string.
    pub unhealthy: Vec<Value>,
}

/// The proxy's view of model routing: executes calls (a pipeline [`llmrelay_pipeline::Dispatch`])
/// and knows which model groups exist.
pub trait Dispatch: llmrelay_pipeline::Dispatch + Send + Sync + 'static {
    /// Whether `model` names a model group (or matches a wildcard group) this dispatcher serves.
    fn has_model(&self, model: &str) -> bool;
    /// The `litellm_params.model` the group's first deployment calls (token counting picks its
    /// tokenizer from it); `None` for an unknown group.
    fn underlying_model(&self, model: &str) -> Option<String>;
    /// The group a team's deployment is served under when the team names it by its
    /// `team_public_model_name` (LiteLLM's `map_team_model`); `None` when it is no such name.
    fn team_model(&self, team_id: &str, model: &str) -> Option<String> {
        let _ = (team_id, model);
        None
    }
    /// What the group's deployments let callers set in the body
    /// (`configurable_clientside_auth_params`); `None` when none does.
    fn clientside_params(&self, model: &str) -> Option<crate::body_safety::ClientsideParams> {
        let _ = model;
        None
    }
    /// Every deployment, for `/v1/models` and `/model/info`.
    fn model_list(&self) -> Vec<ModelEntry>;
    /// Probe the deployments of one group (or all) with a minimal request.
    fn health_check(&self, model: Option<String>) -> BoxFuture<'static, HealthReport>;
}
