//! What every handler shares: the dispatcher and pipeline, auth, metrics, settings, and the
//! per-request facts the outer middleware sets.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tokio_util::task::TaskTracker;

use llmrelay_pipeline::Pipeline;

use crate::auth::{Authenticator, Principal};
use crate::dispatch::Dispatch;
use crate::metrics::Metrics;
use crate::passthrough::PassthroughCredentials;

/// Default largest request body (LiteLLM has no limit by default; an unbounded body is a
/// memory hazard, so llmrelay caps it unless `max_request_size_mb` says otherwise).
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// Per-request facts set by the outer middleware.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub call_id: Arc<str>,
    pub received: Instant,
    pub received_wall: SystemTime,
}

/// Set by LLM handlers on their response: which route and model group it was, for metrics.
#[derive(Debug, Clone)]
pub struct RouteLabel {
    pub route: &'static str,
    pub model_group: String,
}

/// Settings the handlers read on every request.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_request_bytes: usize,
    /// Call parameters added when the request does not set them (`drop_params`,
    /// `num_retries`, `timeout` from `request_timeout`).
    pub call_defaults: Map<String, Value>,
    /// Interval of SSE keep-alive comments.
    pub keep_alive: Duration,
    /// Names of the configured Python callbacks, for `/health/readiness` details.
    pub callbacks: Vec<String>,
    /// `general_settings.enforced_params`: body fields every request must carry (with the
    /// key's own `metadata.enforced_params`).
    pub enforced_params: Vec<String>,
    /// `general_settings.allow_client_side_credentials`: callers may set `api_base`, cloud
    /// credentials, prices and logging destinations in the body (LiteLLM's opt-in).
    pub allow_client_side_credentials: bool,
}

/// Everything the handlers share.
pub struct AppState {
    pub dispatch: Arc<dyn Dispatch>,
    /// The layers every call runs through (hooks, metrics, and the layers of later issues).
    pub pipeline: Pipeline,
    pub auth: Arc<dyn Authenticator>,
    pub metrics: Arc<Metrics>,
    pub settings: Settings,
    pub shutting_down: AtomicBool,
    /// Provider credentials from the config for the pass-through routes.
    pub passthrough: PassthroughCredentials,
    /// Virtual keys, budgets and spend, when a database is configured.
    pub governance: Option<crate::governance::Governed>,
    pub(crate) tasks: TaskTracker,
    /// The configured guardrails (`/guardrails/list`; their layers are in `pipeline`).
    pub guardrails: Arc<llmrelay_guardrails::Guardrails>,
    /// The logging integrations' queues (flushed on shutdown; their drop counters).
    pub observe: llmrelay_observe::Observe,
    /// Alerting (`general_settings.alerting`), when configured.
    pub alerting: Option<llmrelay_observe::alerting::Alerting>,
    /// The response cache (`litellm_settings.cache`), for its routes.
    pub cache: Option<llmrelay_cache::Cache>,
    /// The config file and the Router its `model_list` feeds, for a reload (SIGHUP).
    pub reload: Option<crate::reload::Reloader>,
    /// The MCP gateway (`mcp_servers`), for `/mcp` and `/mcp-rest`.
    pub mcp: Option<crate::mcp::McpState>,
    /// `general_settings.custom_auth`, in front of [`Self::auth`] when configured.
    pub custom_auth: Option<crate::custom_auth::Gate>,
    /// The Files and Batches APIs (with the database).
    pub files: Option<Arc<crate::files::Files>>,
    /// `search_tools:`, for the search routes.
    pub search_tools: Arc<Vec<crate::config::SearchToolConfig>>,
}

impl AppState {
    /// Run a background task (logging hooks) that shutdown waits for.
    pub fn spawn_background(&self, future: BoxFuture<'static, ()>) {
        if tokio::runtime::Handle::try_current().is_ok() {
            self.tasks.spawn(future);
        }
    }
}

/// The principal of an authenticated request (the auth layer always sets one).
#[must_use]
pub fn principal_of(extensions: &http::Extensions) -> Principal {
    extensions.get::<Principal>().cloned().unwrap_or_default()
}
