//! Where a request for a public model name goes: the [`Dispatch`] trait the server calls, and
//! [`GroupDispatcher`], a plain model-group dispatcher (round-robin over a group's
//! deployments). The Router implements the same trait to add fallbacks, cooldowns and
//! routing strategies.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use llmrelay_core::types::EmbeddingResponse;
use llmrelay_core::{Error, Result};
use llmrelay_providers::Engine;
use llmrelay_providers::engine::{ChatOutcome, CompletionResult, TextOutcome};

use crate::config::{DeploymentConfig, ProxyConfig};

/// A future a dispatcher returns: owned (`'static`) so the server can spawn or race it.
pub type DispatchFuture<T> = BoxFuture<'static, Result<T>>;

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

/// The proxy's view of model routing. Every call takes the request body merged with the
/// proxy's defaults (a flat JSON map, `model` = the public model name) and returns the engine's
/// outcome; implementations add credentials, pick a deployment, retry or fall back.
pub trait Dispatch: Send + Sync + 'static {
    /// `/chat/completions` (also the bridge for `/v1/messages` and `/v1/responses`).
    fn completion(&self, params: Map<String, Value>) -> DispatchFuture<ChatOutcome>;
    /// `/completions`.
    fn text_completion(&self, params: Map<String, Value>) -> DispatchFuture<TextOutcome>;
    /// `/embeddings`.
    fn embedding(
        &self,
        params: Map<String, Value>,
    ) -> DispatchFuture<CompletionResult<EmbeddingResponse>>;
    /// Whether `model` names a model group (or matches a wildcard group) this dispatcher serves.
    fn has_model(&self, model: &str) -> bool;
    /// The `litellm_params.model` the group's first deployment calls (token counting picks its
    /// tokenizer from it); `None` for an unknown group.
    fn underlying_model(&self, model: &str) -> Option<String>;
    /// Every deployment, for `/v1/models` and `/model/info`.
    fn model_list(&self) -> Vec<ModelEntry>;
    /// Probe the deployments of one group (or all) with a minimal request.
    fn health_check(&self, model: Option<String>) -> BoxFuture<'static, HealthReport>;
}

/// Keys of a deployment's `litellm_params` that never appear in listings.
const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "vertex_credentials",
    "azure_ad_token",
    "client_secret",
];

struct Deployment {
    model_name: String,
    /// `litellm_params` with `model`, as configured (`os.environ/` already resolved).
    params: Map<String, Value>,
    model_info: Map<String, Value>,
    id: String,
}

impl Deployment {
    fn new(config: &DeploymentConfig) -> Self {
        let mut params = config.litellm_params.other.clone();
        params.insert(
            "model".to_owned(),
            Value::String(config.litellm_params.model.clone()),
        );
        let id = config
            .model_info
            .get("id")
            .and_then(|id| match id {
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            })
            .unwrap_or_else(|| deployment_id(&config.model_name, &params));
        let mut model_info = config.model_info.clone();
        model_info.insert("id".to_owned(), Value::String(id.clone()));
        Self {
            model_name: config.model_name.clone(),
            params,
            model_info,
            id,
        }
    }

    /// Whether this deployment serves `requested`: its group name, or a wildcard group
    /// (`anthropic/*`, `*`) the name matches.
    fn wildcard_match<'a>(&self, requested: &'a str) -> Option<&'a str> {
        let prefix = self.model_name.strip_suffix('*')?;
        requested.strip_prefix(prefix)
    }

    fn public_params(&self) -> Map<String, Value> {
        let mut params = self.params.clone();
        for key in SECRET_PARAMS {
            params.remove(*key);
        }
        params
    }

    /// Call parameters: the request's (which win, as in LiteLLM's Router) over the
    /// deployment's defaults; `model` is the deployment's, with a wildcard filled in.
    fn call_params(
        &self,
        mut request: Map<String, Value>,
        wildcard: Option<&str>,
    ) -> Map<String, Value> {
        for (key, value) in &self.params {
            if key == "model" {
                continue;
            }
            if !request.contains_key(key) || SECRET_PARAMS.contains(&key.as_str()) {
                request.insert(key.clone(), value.clone());
            }
        }
        let configured = self
            .params
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let model = match (wildcard, configured.strip_suffix('*')) {
            (Some(rest), Some(prefix)) => format!("{prefix}{rest}"),
            _ => configured.to_owned(),
        };
        request.insert("model".to_owned(), Value::String(model));
        request.insert("model_id".to_owned(), Value::String(self.id.clone()));
        request
    }
}

/// LiteLLM derives an id from the deployment when `model_info.id` is not set; any stable hash
/// works, as long as it does not reveal secrets.
fn deployment_id(model_name: &str, params: &Map<String, Value>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(model_name.as_bytes());
    hasher.update(Value::Object(params.clone()).to_string().as_bytes());
    let digest = hasher.finalize();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Requests for a model group go to that group's deployments, in turn.
pub struct GroupDispatcher {
    deployments: Vec<Arc<Deployment>>,
    /// Group name → indexes into `deployments`.
    groups: HashMap<String, Vec<usize>>,
    /// Wildcard groups (`name` ends with `*`), in config order.
    wildcards: Vec<usize>,
    next: Arc<HashMap<String, AtomicUsize>>,
    engine: Engine,
}

impl GroupDispatcher {
    #[must_use]
    pub fn new(config: &ProxyConfig) -> Self {
        let deployments: Vec<Arc<Deployment>> = config
            .model_list
            .iter()
            .map(|d| Arc::new(Deployment::new(d)))
            .collect();
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wildcards = Vec::new();
        for (index, deployment) in deployments.iter().enumerate() {
            groups
                .entry(deployment.model_name.clone())
                .or_default()
                .push(index);
            if deployment.model_name.ends_with('*') {
                wildcards.push(index);
            }
        }
        let next = groups
            .keys()
            .map(|name| (name.clone(), AtomicUsize::new(0)))
            .collect();
        Self {
            deployments,
            groups,
            wildcards,
            next: Arc::new(next),
            engine: Engine,
        }
    }

    /// Pick the deployment for a request and build its call parameters.
    fn route(&self, mut params: Map<String, Value>) -> Result<Map<String, Value>> {
        let model = match params.get("model") {
            Some(Value::String(model)) if !model.is_empty() => model.clone(),
            _ => return Err(Error::bad_request("model is required").with_param("model")),
        };
        if let Some(indexes) = self.groups.get(&model) {
            let turn = self
                .next
                .get(&model)
                .map_or(0, |counter| counter.fetch_add(1, Ordering::Relaxed));
            let deployment = &self.deployments[indexes[turn % indexes.len()]];
            params.remove("model");
            return Ok(deployment.call_params(params, None));
        }
        for &index in &self.wildcards {
            let deployment = &self.deployments[index];
            if let Some(rest) = deployment.wildcard_match(&model) {
                let rest = rest.to_owned();
                params.remove("model");
                return Ok(deployment.call_params(params, Some(&rest)));
            }
        }
        Err(Error::bad_request(format!(
            "Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
        ))
        .with_param("model"))
    }
}

impl Dispatch for GroupDispatcher {
    fn completion(&self, params: Map<String, Value>) -> DispatchFuture<ChatOutcome> {
        let routed = self.route(params);
        let engine = self.engine;
        Box::pin(async move { engine.completion(routed?).await })
    }

    fn text_completion(&self, params: Map<String, Value>) -> DispatchFuture<TextOutcome> {
        let routed = self.route(params);
        let engine = self.engine;
        Box::pin(async move { engine.text_completion(routed?).await })
    }

    fn embedding(
        &self,
        params: Map<String, Value>,
    ) -> DispatchFuture<CompletionResult<EmbeddingResponse>> {
        let routed = self.route(params);
        let engine = self.engine;
        Box::pin(async move { engine.embedding(routed?).await })
    }

    fn has_model(&self, model: &str) -> bool {
        self.groups.contains_key(model)
            || self
                .wildcards
                .iter()
                .any(|&index| self.deployments[index].wildcard_match(model).is_some())
    }

    fn underlying_model(&self, model: &str) -> Option<String> {
        let mut params = Map::new();
        params.insert("model".to_owned(), Value::String(model.to_owned()));
        let routed = self.route(params).ok()?;
        routed
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    fn model_list(&self) -> Vec<ModelEntry> {
        self.deployments
            .iter()
            .map(|d| ModelEntry {
                model_name: d.model_name.clone(),
                litellm_params: d.public_params(),
                model_info: d.model_info.clone(),
            })
            .collect()
    }

    fn health_check(&self, model: Option<String>) -> BoxFuture<'static, HealthReport> {
        let targets: Vec<Arc<Deployment>> = self
            .deployments
            .iter()
            .filter(|d| model.as_ref().is_none_or(|m| &d.model_name == m))
            .filter(|d| !d.model_name.contains('*'))
            .cloned()
            .collect();
        let engine = self.engine;
        Box::pin(async move {
            let probes = targets.into_iter().map(|deployment| async move {
                let mode = deployment
                    .model_info
                    .get("mode")
                    .and_then(Value::as_str)
                    .unwrap_or("chat")
                    .to_owned();
                let result = if mode == "embedding" {
                    let params = deployment.call_params(object(json!({"input": ["ping"]})), None);
                    engine.embedding(params).await.map(|_| ())
                } else {
                    let params = deployment.call_params(
                        object(json!({
                            "messages": [{"role": "user", "content": "ping"}],
                            "max_tokens": 1,
                        })),
                        None,
                    );
                    engine.completion(params).await.map(|_| ())
                };
                let mut entry = deployment.public_params();
                entry.insert("model_id".to_owned(), Value::String(deployment.id.clone()));
                (entry, result)
            });
            let mut report = HealthReport::default();
            for (mut entry, result) in futures::future::join_all(probes).await {
                match result {
                    Ok(()) => report.healthy.push(Value::Object(entry)),
                    Err(error) => {
                        entry.insert("error".to_owned(), Value::String(error.to_string()));
                        report.unhealthy.push(Value::Object(entry));
                    }
                }
            }
            report
        })
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RawConfig, parse_yaml};

    fn dispatcher(yaml: &str) -> GroupDispatcher {
        let config = RawConfig::from_document(parse_yaml(yaml).unwrap())
            .resolve()
            .unwrap();
        GroupDispatcher::new(&config)
    }

    fn request(model: &str) -> Map<String, Value> {
        object(json!({"model": model, "temperature": 0.5}))
    }

    #[test]
    fn round_robin_and_merge() {
        let d = dispatcher(
            "model_list:\n  - model_name: g\n    litellm_params: {model: openai/a, api_key: k1, temperature: 0.1}\n  - model_name: g\n    litellm_params: {model: openai/b, api_key: k2}\n",
        );
        let first = d.route(request("g")).unwrap();
        let second = d.route(request("g")).unwrap();
        assert_eq!(first["model"], "openai/a");
        assert_eq!(second["model"], "openai/b");
        // The request's own value wins over the deployment's default; the key is the deployment's.
        assert_eq!(first["temperature"], 0.5);
        assert_eq!(first["api_key"], "k1");
        assert!(first["model_id"].as_str().unwrap().len() == 64);
        assert_eq!(d.route(request("g")).unwrap()["model"], "openai/a");
    }

    #[test]
    fn wildcard_and_unknown() {
        let d = dispatcher(
            "model_list:\n  - model_name: anthropic/*\n    litellm_params: {model: anthropic/*}\n",
        );
        assert!(d.has_model("anthropic/claude-x"));
        assert_eq!(
            d.route(request("anthropic/claude-x")).unwrap()["model"],
            "anthropic/claude-x"
        );
        let error = d.route(request("gpt-5")).unwrap_err();
        assert_eq!(error.status_code(), 400);
        assert!(
            error
                .message()
                .contains("Invalid model name passed in model=gpt-5")
        );
    }

    #[test]
    fn listing_hides_keys_and_keeps_ids() {
        let d = dispatcher(
            "model_list:\n  - model_name: g\n    litellm_params: {model: openai/a, api_key: secret}\n    model_info: {id: fixed}\n",
        );
        let list = d.model_list();
        assert!(!list[0].litellm_params.contains_key("api_key"));
        assert_eq!(list[0].model_info["id"], "fixed");
    }
}
