//! The proxy's model routing through the Router (`llmrelay-router`), as LiteLLM's proxy routes
//! every call through its `Router`: strategies, rpm/tpm limits, retries, fallbacks, cooldowns,
//! health, and state shared through Redis when `router_settings` names one.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use llmrelay_router::Router;

use crate::config::ProxyConfig;
use crate::dispatch::{Dispatch, HealthReport, ModelEntry};

/// `litellm_settings` keys that LiteLLM's proxy hands to its Router.
pub(crate) const ROUTER_KEYS_IN_LITELLM_SETTINGS: &[&str] = &[
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "default_fallbacks",
    "allowed_fails",
    "cooldown_time",
    "retry_policy",
    "allowed_fails_policy",
    "model_group_alias",
    "expose_router_debug_in_errors",
];

/// [`Dispatch`] over a [`Router`] built from the config's `model_list` and `router_settings`.
pub struct RouterDispatch {
    router: Router,
}

/// The Router's configuration for a proxy config: `model_list`, then `router_settings`, then
/// the router-related `litellm_settings` (as LiteLLM passes them to its Router).
#[must_use]
pub fn router_config(config: &ProxyConfig) -> Value {
    let mut out = Map::new();
    let model_list: Vec<Value> = config
        .model_list
        .iter()
        .map(|deployment| {
            // In config order: the deployment id is a hash of the params as LiteLLM reads them.
            let params = deployment.litellm_params.to_map();
            let mut entry = Map::new();
            entry.insert(
                "model_name".to_owned(),
                Value::String(deployment.model_name.clone()),
            );
            entry.insert("litellm_params".to_owned(), Value::Object(params));
            if !deployment.model_info.is_empty() {
                entry.insert(
                    "model_info".to_owned(),
                    Value::Object(deployment.model_info.clone()),
                );
            }
            Value::Object(entry)
        })
        .collect();
    out.insert("model_list".to_owned(), Value::Array(model_list));
    for key in ROUTER_KEYS_IN_LITELLM_SETTINGS {
        if let Some(value) = config.litellm_settings.other.get(*key) {
            out.insert((*key).to_owned(), value.clone());
        }
    }
    if let Some(retries) = config.litellm_settings.num_retries {
        out.insert("num_retries".to_owned(), Value::from(retries));
    }
    for (key, value) in &config.router_settings {
        out.insert(key.clone(), value.clone());
    }
    Value::Object(out)
}

impl RouterDispatch {
    /// # Errors
    /// An invalid `model_list` / `router_settings`, naming the field.
    pub fn from_config(config: &ProxyConfig) -> Result<Self, String> {
        let mut settings = llmrelay_router::RouterConfig::from_value(router_config(config))
            .map_err(|e| e.message().to_owned())?;
        // The deployment limits follow the same failure policy as the key limits.
        let limits = crate::limits::limiter_config(config)?;
        settings.limits_on_failure = Some((limits.policy, limits.timeout));
        let router = Router::new(settings).map_err(|e| e.message().to_owned())?;
        Ok(Self { router })
    }

    /// The Router behind the proxy (stats, cooldowns, queue length).
    #[must_use]
    pub fn router(&self) -> &Router {
        &self.router
    }
}

impl llmrelay_pipeline::Dispatch for RouterDispatch {
    fn dispatch<'a>(
        &'a self,
        call: &'a llmrelay_pipeline::Call,
        attempts: llmrelay_pipeline::Attempts<'a>,
    ) -> BoxFuture<'a, llmrelay_core::Result<llmrelay_pipeline::Dispatched>> {
        llmrelay_pipeline::Dispatch::dispatch(&self.router, call, attempts)
    }
}

impl Dispatch for RouterDispatch {
    fn has_model(&self, model: &str) -> bool {
        self.router.serves(model)
    }

    fn team_model(&self, team_id: &str, model: &str) -> Option<String> {
        self.router.map_team_model(model, team_id)
    }

    fn clientside_params(&self, model: &str) -> Option<crate::body_safety::ClientsideParams> {
        // LiteLLM looks the group up, then the provider wildcard (`openai/*` for `openai/x`).
        let deployments = self.router.group_deployments(model).or_else(|| {
            let provider = model.split_once('/')?.0;
            self.router.group_deployments(provider)
        })?;
        deployments.iter().find_map(|deployment| {
            deployment
                .litellm_params
                .get("configurable_clientside_auth_params")
                .map(crate::body_safety::ClientsideParams::parse)
        })
    }

    fn underlying_model(&self, model: &str) -> Option<String> {
        let deployments = self.router.group_deployments(model)?;
        Some(deployments.first()?.upstream_model(model))
    }

    fn model_list(&self) -> Vec<ModelEntry> {
        self.router
            .deployments()
            .iter()
            .map(|d| ModelEntry {
                model_name: d.model_name.clone(),
                litellm_params: d.public_params(),
                model_info: d.model_info.clone(),
            })
            .collect()
    }

    fn health_check(&self, model: Option<String>) -> BoxFuture<'static, HealthReport> {
        let router = self.router.clone();
        async move {
            let report = router.health_check(model.as_deref()).await;
            let entry = |health: &llmrelay_router::EndpointHealth| {
                let mut value = health.params.clone();
                value.insert(
                    "model_id".to_owned(),
                    Value::String(health.model_id.clone()),
                );
                value.insert(
                    "model_name".to_owned(),
                    Value::String(health.model_name.clone()),
                );
                value.insert("latency_ms".to_owned(), Value::from(health.latency_ms));
                if let Some(error) = &health.error {
                    value.insert("error".to_owned(), Value::String(error.clone()));
                }
                Value::Object(value)
            };
            HealthReport {
                healthy: report.healthy_endpoints.iter().map(entry).collect(),
                unhealthy: report.unhealthy_endpoints.iter().map(entry).collect(),
            }
        }
        .boxed()
    }
}
