//! llmrelay-router: LiteLLM's Router in Rust — load balancing over deployments, retries,
//! fallbacks, cooldowns, rpm/tpm limits with backpressure, health checks and state shared
//! through Redis. Used by the Python `llmrelay.Router` and by the proxy.
//!
//! # Use
//!
//! ```no_run
//! # async fn run() -> llmrelay_core::Result<()> {
//! use llmrelay_router::{Router, RouterConfig};
//! use serde_json::json;
//!
//! let config = RouterConfig::from_value(json!({
//!     "model_list": [
//!         {"model_name": "gpt-4o", "litellm_params": {"model": "azure/gpt4o-eu", "api_base": "https://eu.example", "rpm": 600}},
//!         {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "tpm": 100000}}
//!     ],
//!     "routing_strategy": "latency-based-routing",
//!     "num_retries": 2,
//!     "fallbacks": [{"gpt-4o": ["claude-sonnet"]}],
//!     "redis_url": "redis://127.0.0.1:6379"
//! }))?;
//! let router = Router::new(config)?; // inside a tokio runtime when Redis is configured
//! let params = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
//!                     "priority": 0, "fallbacks": ["gpt-4o-mini"]});
//! let serde_json::Value::Object(params) = params else { unreachable!() };
//! let dispatched = router.call(llmrelay_core::CallKind::Chat, params).await?;
//! // dispatched.outcome: the engine's Outcome; dispatched.route: group, deployment, retries
//! # let _ = dispatched; Ok(()) }
//! ```
//!
//! # API (what the proxy uses)
//!
//! - Build: [`RouterConfig::from_value`] (LiteLLM's `model_list` + `router_settings` JSON,
//!   errors name the bad field path), [`Router::new`], [`Router::from_value`].
//! - Calls: the Router is a [`llmrelay_pipeline::Dispatch`]: the pipeline runs a typed call
//!   through its layers and hands it to the Router, which tells the per-attempt layers about
//!   every attempt. [`Router::call`] runs one without layers. Per request the Router reads
//!   `fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks`, `num_retries`,
//!   `priority`, `max_queue_wait` and LiteLLM's `mock_testing_*fallbacks` (the call's
//!   `CallOptions::router`). The answer's hidden params carry `model_id` (the deployment);
//!   the [`llmrelay_pipeline::Route`] says which group answered after how many retries and
//!   fallbacks.
//! - Deployments: [`Router::get_model_list`], [`Router::get_model_names`],
//!   [`Router::get_model_ids`], [`Router::get_model_info`], [`Router::deployment`],
//!   [`Router::deployments`], [`Router::set_model_list`], [`Router::add_deployment`],
//!   [`Router::delete_deployment`], [`Router::get_available_deployment`].
//! - State as data: [`Router::deployment_stats`] (usage, limits, in flight, cooldown,
//!   latency, time to first token, last health), [`Router::cooldown_list`],
//!   [`Router::queue_len`], [`Router::shared_state_up`].
//! - Health: [`Router::health_check`] → [`HealthReport`] (`healthy_endpoints`,
//!   `unhealthy_endpoints`, counts), also run every `health_check_interval` seconds with
//!   `background_health_checks`.
//! - [`Router::on_cooldown`]: a callback told each time a deployment is cooled down
//!   (alerting).
//! - [`Router::shutdown`] stops background tasks (dropping the last clone does too).
//!
//! # Behaviour
//!
//! - Tags ([`tags`], with `enable_tag_filtering`): the request's tags (the call's
//!   [`llmrelay_pipeline::RequestTags`]) narrow its group to the deployments carrying them,
//!   or to those tagged `"default"`, before anything else.
//! - Selection ([`strategy`]): cooldown → health (with `enable_health_check_routing`) →
//!   context window (with `enable_pre_call_checks`) → rpm/tpm of the current minute → the
//!   lowest `order` tier → the strategy (`simple-shuffle`, `least-busy`,
//!   `usage-based-routing(-v2)`, `latency-based-routing`, `cost-based-routing`).
//! - Retries: per group, `num_retries` or the retry policy's count for the error class; an
//!   immediate retry on another deployment when one is free, else backoff honouring the
//!   upstream's Retry-After. The engine is called with `num_retries=0`.
//! - Fallbacks: context-window / content-policy lists for those errors, else the request's
//!   or router's `fallbacks` (`"*"` applies to every group), else `default_fallbacks`; at
//!   most `max_fallbacks` hops. A stream falls back only before its first chunk, which the
//!   engine reads before it returns the stream.
//! - Cooldowns follow LiteLLM's rules (`allowed_fails`, `allowed_fails_policy`,
//!   `cooldown_time`, 429 at once in multi-deployment groups). When every deployment is
//!   cooling down the request waits (up to `max_cooldown_wait`) for the first to return.
//! - Backpressure: when every deployment is at its rpm/tpm limit the request waits in a
//!   bounded priority queue (`priority`, `max_queue_wait`, `max_queue_size`), then fails
//!   with a RateLimit error carrying Retry-After.
//! - Shared state ([`shared`]): with Redis, rpm/tpm windows, cooldowns, fail counters and
//!   latency samples are shared by every instance; an unreachable Redis degrades to local
//!   state with a warning, never an error.
//!
//! No lock is held across an `.await`: state is atomics plus short std-mutex sections.

mod booking;
mod call;
pub mod config;
pub mod deployment;
mod health;
mod pick;
pub mod queue;
mod registry;
mod request;
mod router;
pub mod shared;
pub mod strategy;
pub mod tags;

pub use config::{RouterConfig, RoutingStrategy};
pub use deployment::{Deployment, HealthStatus, Usage};
pub use health::{EndpointHealth, HealthReport};
pub use router::{CooldownEvent, DEFAULT_PRIORITY, DeploymentStats, Router};
