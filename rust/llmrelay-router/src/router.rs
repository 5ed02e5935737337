//! The Router: resolve a model group, pick a deployment, call the engine, and own retries,
//! fallbacks, cooldowns, usage accounting and backpressure.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use llmrelay_core::types::EmbeddingResponse;
use llmrelay_core::{Error, ErrorKind, Result, tokens};
use llmrelay_providers::engine::{ChatOutcome, CompletionResult, HiddenParams, TextOutcome};
use llmrelay_providers::{Engine, http};

use crate::config::{
    DEFAULT_MAX_FALLBACKS, DEFAULT_NUM_RETRIES, FallbackList, RouterConfig, RoutingStrategy,
};
use crate::deployment::{Deployment, LatencySample, Usage, capture, minute_of, now_ms};
use crate::queue::Queue;
use crate::shared::{Shared, SharedWrite};
use crate::strategy::{self, Decision, NoDeployment, RequestShape};

/// Request keys the router consumes (never sent to the engine).
const ROUTER_REQUEST_KEYS: &[&str] = &[
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "num_retries",
    "max_retries",
    "priority",
    "max_queue_wait",
    "specific_deployment",
    "model_list",
];

/// The kind of call, which picks the engine entry point and how a probe looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Chat,
    Text,
    Embedding,
}

impl CallKind {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "completion",
            Self::Text => "text_completion",
            Self::Embedding => "embedding",
        }
    }
}

/// What the engine returned, for any call kind.
pub(crate) enum Outcome {
    Chat(ChatOutcome),
    Text(TextOutcome),
    Embedding(CompletionResult<EmbeddingResponse>),
}

/// The deployments of a router, indexed for lookups. Replaced whole on `set_model_list`.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) all: Vec<Arc<Deployment>>,
    groups: HashMap<String, Vec<Arc<Deployment>>>,
    /// Wildcard groups, most specific (longest fixed part) first.
    patterns: Vec<(String, Vec<Arc<Deployment>>)>,
    by_id: HashMap<String, Arc<Deployment>>,
}

impl Registry {
    fn build(deployments: Vec<Arc<Deployment>>) -> Self {
        let mut groups: HashMap<String, Vec<Arc<Deployment>>> = HashMap::new();
        let mut by_id = HashMap::new();
        for deployment in &deployments {
            groups
                .entry(deployment.model_name.clone())
                .or_default()
                .push(Arc::clone(deployment));
            by_id.insert(deployment.id.clone(), Arc::clone(deployment));
        }
        let mut patterns: Vec<(String, Vec<Arc<Deployment>>)> = groups
            .iter()
            .filter(|(name, _)| name.contains('*'))
            .map(|(name, list)| (name.clone(), list.clone()))
            .collect();
        patterns.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Self {
            all: deployments,
            groups,
            patterns,
            by_id,
        }
    }

    /// The deployments serving `model`: its exact group, else the most specific wildcard.
    pub(crate) fn resolve(&self, model: &str) -> Option<&[Arc<Deployment>]> {
        if let Some(list) = self.groups.get(model) {
            return Some(list);
        }
        self.patterns
            .iter()
            .find(|(pattern, _)| capture(pattern, model).is_some())
            .map(|(_, list)| list.as_slice())
    }
}

/// Per-request router options taken out of the call's parameters.
#[derive(Debug, Clone, Default)]
struct RequestOptions {
    model: String,
    fallbacks: Option<FallbackList>,
    context_window_fallbacks: Option<FallbackList>,
    content_policy_fallbacks: Option<FallbackList>,
    num_retries: Option<u32>,
    priority: Option<i64>,
    max_queue_wait: Option<f64>,
}

fn fallback_list(value: Value, name: &str) -> Result<Option<FallbackList>> {
    match value {
        Value::Null => Ok(None),
        // Per-request fallbacks may be a plain list of group names (LiteLLM accepts both).
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(Some(vec![
            std::iter::once((
                "*".to_owned(),
                items
                    .into_iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            ))
            .collect(),
        ])),
        other => serde_json::from_value(other).map(Some).map_err(|e| {
            Error::bad_request(format!(
                "{name} must be a list of {{\"model group\": [\"fallback\", ...]}}: {e}"
            ))
            .with_param(name)
        }),
    }
}

fn number(value: &Value, name: &str) -> Result<Option<f64>> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| Error::bad_request(format!("{name} must be a number")).with_param(name)),
        _ => Err(Error::bad_request(format!("{name} must be a number")).with_param(name)),
    }
}

impl RequestOptions {
    fn take(params: &mut Map<String, Value>) -> Result<Self> {
        let model = match params.get("model") {
            Some(Value::String(model)) if !model.is_empty() => model.clone(),
            _ => return Err(Error::bad_request("model is required").with_param("model")),
        };
        let mut options = Self {
            model,
            ..Self::default()
        };
        for key in ROUTER_REQUEST_KEYS {
            let Some(value) = params.remove(*key) else {
                continue;
            };
            match *key {
                "fallbacks" => options.fallbacks = fallback_list(value, key)?,
                "context_window_fallbacks" => {
                    options.context_window_fallbacks = fallback_list(value, key)?;
                }
                "content_policy_fallbacks" => {
                    options.content_policy_fallbacks = fallback_list(value, key)?;
                }
                "num_retries" | "max_retries" => {
                    options.num_retries = number(&value, key)?
                        .map(|n| if n <= 0.0 { 0 } else { n.min(100.0) as u32 });
                }
                "priority" => options.priority = number(&value, key)?.map(|p| p as i64),
                "max_queue_wait" => options.max_queue_wait = number(&value, key)?,
                _ => {}
            }
        }
        Ok(options)
    }
}

/// Per-deployment data for the proxy's `/health` and dashboards.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeploymentStats {
    pub model_id: String,
    pub model_name: String,
    pub model: String,
    pub usage: Usage,
    pub rpm_limit: Option<u64>,
    pub tpm_limit: Option<u64>,
    pub in_flight: i64,
    /// Epoch ms the cooldown ends, while cooling down.
    pub cooldown_until_ms: Option<u64>,
    /// Average of recent latency samples (seconds per output token, or per call).
    pub average_latency: Option<f64>,
    /// Average time to first token of recent streams, in seconds.
    pub average_ttft: Option<f64>,
    pub health: Option<crate::deployment::HealthStatus>,
}

pub(crate) struct Inner {
    pub(crate) config: RouterConfig,
    registry: RwLock<Arc<Registry>>,
    pub(crate) shared: Option<Arc<Shared>>,
    queue: Arc<Queue>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The router. Cheap to clone (shared state); safe to use from many tasks at once.
#[derive(Clone)]
pub struct Router {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("deployments", &self.registry().all.len())
            .field("routing_strategy", &self.inner.config.routing_strategy)
            .field("shared", &self.inner.shared)
            .finish_non_exhaustive()
    }
}

fn build_deployments(
    config: &RouterConfig,
    existing: Option<&Registry>,
) -> Result<Vec<Arc<Deployment>>> {
    let mut out: Vec<Arc<Deployment>> = Vec::with_capacity(config.model_list.len());
    for (index, entry) in config.model_list.iter().enumerate() {
        let deployment = Deployment::from_config(entry, &format!("model_list[{index}]"))?;
        if out.iter().any(|d| d.id == deployment.id) {
            // LiteLLM keeps the first of two deployments with one id.
            tracing::warn!(id = %deployment.id, "router: duplicate deployment id skipped");
            continue;
        }
        out.push(keep_state(deployment, existing));
    }
    Ok(out)
}

/// A deployment whose id was already known keeps its live state only if its config is the
/// same; a changed config starts fresh.
fn keep_state(deployment: Deployment, existing: Option<&Registry>) -> Arc<Deployment> {
    if let Some(old) = existing.and_then(|r| r.by_id.get(&deployment.id)) {
        if old.litellm_params == deployment.litellm_params
            && old.model_name == deployment.model_name
        {
            return Arc::clone(old);
        }
    }
    Arc::new(deployment)
}

impl Router {
    /// Build a router. Background work (Redis sync, health checks) is spawned on the current
    /// tokio runtime, which must exist when either is configured.
    ///
    /// # Errors
    /// `BadRequest` naming the bad field of the config.
    pub fn new(config: RouterConfig) -> Result<Self> {
        let deployments = build_deployments(&config, None)?;
        let shared = match config.redis_target() {
            Some(target) => Some(Shared::new(&target)?),
            None => None,
        };
        let needs_runtime = shared.is_some() || config.background_health_checks;
        if needs_runtime && tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::bad_request(
                "Router with Redis or background health checks must be created inside a tokio runtime",
            ));
        }
        let queue = Queue::new(config.max_queue_size.unwrap_or(1000));
        let router = Self {
            inner: Arc::new(Inner {
                config,
                registry: RwLock::new(Arc::new(Registry::build(deployments))),
                shared,
                queue,
                tasks: Mutex::new(Vec::new()),
            }),
        };
        router.start_background();
        Ok(router)
    }

    /// Parse a JSON config (see [`RouterConfig::from_value`]) and build the router.
    ///
    /// # Errors
    /// `BadRequest` naming the bad field.
    pub fn from_value(config: Value) -> Result<Self> {
        Self::new(RouterConfig::from_value(config)?)
    }

    fn start_background(&self) {
        let mut tasks = Vec::new();
        if let Some(shared) = &self.inner.shared {
            let weak = Arc::downgrade(&self.inner);
            let shared = Arc::clone(shared);
            let interval = Duration::from_millis(
                self.inner
                    .config
                    .redis_sync_interval_ms
                    .unwrap_or(100)
                    .max(5),
            );
            let read_latency = self.inner.config.routing_strategy == RoutingStrategy::LatencyBased;
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(inner) = weak.upgrade() else { return };
                    let registry = Arc::clone(&*read_registry(&inner.registry));
                    drop(inner);
                    shared.sync(&registry.all, read_latency).await;
                    tokio::time::sleep(interval).await;
                }
            }));
        }
        if self.inner.config.background_health_checks {
            let weak = Arc::downgrade(&self.inner);
            let interval = Duration::from_secs_f64(
                self.inner
                    .config
                    .health_check_interval
                    .unwrap_or(300.0)
                    .max(0.05),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(inner) = weak.upgrade() else { return };
                    let router = Self { inner };
                    let _ = router.health_check(None).await;
                    drop(router);
                    tokio::time::sleep(interval).await;
                }
            }));
        }
        lock(&self.inner.tasks).extend(tasks);
    }

    /// Stop background work (also done when the last clone is dropped).
    pub fn shutdown(&self) {
        for task in lock(&self.inner.tasks).drain(..) {
            task.abort();
        }
    }

    pub(crate) fn registry(&self) -> Arc<Registry> {
        Arc::clone(&*read_registry(&self.inner.registry))
    }

    /// The router's settings.
    #[must_use]
    pub fn config(&self) -> &RouterConfig {
        &self.inner.config
    }

    // -----------------------------------------------------------------------------------------
    // Deployments
    // -----------------------------------------------------------------------------------------

    /// Replace every deployment (`set_model_list`); unchanged deployments keep their state.
    ///
    /// # Errors
    /// `BadRequest` naming the bad field; the old list stays.
    pub fn set_model_list(&self, model_list: Value) -> Result<()> {
        let list: Vec<crate::config::DeploymentConfig> =
            serde_path_to_error::deserialize(model_list).map_err(|e| {
                let path = format!("model_list{}", e.path()).replace("model_list.", "model_list");
                Error::bad_request(format!("Invalid router config: {path}: {}", e.inner()))
                    .with_param(path)
            })?;
        let mut config = self.inner.config.clone();
        config.model_list = list;
        let current = self.registry();
        let check = RouterConfig::from_value(serde_json::json!({
            "model_list": config.model_list.iter().map(|d| serde_json::json!({
                "model_name": d.model_name, "litellm_params": d.litellm_params, "model_info": d.model_info
            })).collect::<Vec<_>>()
        }))?;
        let deployments = build_deployments(&check, Some(&current))?;
        *write_registry(&self.inner.registry) = Arc::new(Registry::build(deployments));
        Ok(())
    }

    /// Add one deployment (`add_deployment`); `None` when its id already exists.
    ///
    /// # Errors
    /// `BadRequest` naming the bad field.
    pub fn add_deployment(&self, deployment: Value) -> Result<Option<Value>> {
        let config: crate::config::DeploymentConfig = serde_path_to_error::deserialize(deployment)
            .map_err(|e| {
                Error::bad_request(format!("Invalid deployment: {}: {}", e.path(), e.inner()))
                    .with_param(e.path().to_string())
            })?;
        let check = RouterConfig::from_value(serde_json::json!({"model_list": [{
            "model_name": config.model_name, "litellm_params": config.litellm_params, "model_info": config.model_info
        }]}))?;
        let Some(entry) = check.model_list.first() else {
            return Ok(None);
        };
        let deployment = Deployment::from_config(entry, "deployment")?;
        let mut registry = write_registry(&self.inner.registry);
        if registry.by_id.contains_key(&deployment.id) {
            return Ok(None);
        }
        let json = deployment.to_json();
        let mut all = registry.all.clone();
        all.push(Arc::new(deployment));
        *registry = Arc::new(Registry::build(all));
        Ok(Some(json))
    }

    /// Remove a deployment by id (`delete_deployment`); returns it when it existed.
    pub fn delete_deployment(&self, id: &str) -> Option<Value> {
        let mut registry = write_registry(&self.inner.registry);
        let removed = registry.by_id.get(id).map(|d| d.to_json())?;
        let all = registry
            .all
            .iter()
            .filter(|d| d.id != id)
            .cloned()
            .collect();
        *registry = Arc::new(Registry::build(all));
        Some(removed)
    }

    /// Every deployment as `{"model_name", "litellm_params", "model_info"}`, optionally only
    /// those serving `model_name` (aliases and wildcards resolved), plus visible aliases.
    #[must_use]
    pub fn get_model_list(&self, model_name: Option<&str>) -> Vec<Value> {
        let registry = self.registry();
        let Some(name) = model_name else {
            let mut out: Vec<Value> = registry.all.iter().map(|d| d.to_json()).collect();
            for (alias, target) in &self.inner.config.model_group_alias {
                if target.hidden() {
                    continue;
                }
                if let Some(list) = registry.groups.get(target.group()) {
                    for deployment in list {
                        let mut json = deployment.to_json();
                        if let Some(object) = json.as_object_mut() {
                            object.insert("model_name".to_owned(), Value::String(alias.clone()));
                        }
                        out.push(json);
                    }
                }
            }
            return out;
        };
        let group = self.group_for(name);
        registry
            .resolve(&group)
            .map(|list| list.iter().map(|d| d.to_json()).collect())
            .unwrap_or_default()
    }

    /// The model group names (`get_model_names`).
    #[must_use]
    pub fn get_model_names(&self) -> Vec<String> {
        let registry = self.registry();
        let mut names: Vec<String> = Vec::new();
        for deployment in &registry.all {
            if !names.contains(&deployment.model_name) {
                names.push(deployment.model_name.clone());
            }
        }
        names
    }

    /// Deployment ids, optionally of one group (`get_model_ids`).
    #[must_use]
    pub fn get_model_ids(&self, model_name: Option<&str>) -> Vec<String> {
        let registry = self.registry();
        match model_name {
            None => registry.all.iter().map(|d| d.id.clone()).collect(),
            Some(name) => registry
                .groups
                .get(name)
                .map(|list| list.iter().map(|d| d.id.clone()).collect())
                .unwrap_or_default(),
        }
    }

    /// One deployment by id as `get_model_list` shows it (`get_model_info` / `get_deployment`).
    #[must_use]
    pub fn get_model_info(&self, id: &str) -> Option<Value> {
        self.registry().by_id.get(id).map(|d| d.to_json())
    }

    /// The deployment by id, for callers that want the typed view.
    #[must_use]
    pub fn deployment(&self, id: &str) -> Option<Arc<Deployment>> {
        self.registry().by_id.get(id).cloned()
    }

    /// Every deployment (typed).
    #[must_use]
    pub fn deployments(&self) -> Vec<Arc<Deployment>> {
        self.registry().all.clone()
    }

    /// Usage, cooldown, latency and health of every deployment, as plain data.
    #[must_use]
    pub fn deployment_stats(&self) -> Vec<DeploymentStats> {
        let now = now_ms();
        let ttl_ms = (self.inner.config.routing_strategy_args.ttl * 1000.0) as u64;
        let max = self
            .inner
            .config
            .routing_strategy_args
            .max_latency_list_size;
        self.registry()
            .all
            .iter()
            .map(|d| DeploymentStats {
                model_id: d.id.clone(),
                model_name: d.model_name.clone(),
                model: d.model.clone(),
                usage: d.state.usage(now),
                rpm_limit: d.rpm,
                tpm_limit: d.tpm,
                in_flight: d.state.active.load(Ordering::Relaxed),
                cooldown_until_ms: d.state.cooldown_until(now),
                average_latency: d.state.average_latency(false, now, ttl_ms, max),
                average_ttft: d
                    .state
                    .latency_samples()
                    .iter()
                    .any(|s| s.ttft.is_some())
                    .then(|| d.state.average_latency(true, now, ttl_ms, max))
                    .flatten(),
                health: d.state.health(),
            })
            .collect()
    }

    /// Ids of deployments cooling down now.
    #[must_use]
    pub fn cooldown_list(&self) -> Vec<String> {
        let now = now_ms();
        self.registry()
            .all
            .iter()
            .filter(|d| d.state.cooldown_until(now).is_some())
            .map(|d| d.id.clone())
            .collect()
    }

    /// Whether the shared (Redis) state is in use right now.
    #[must_use]
    pub fn shared_state_up(&self) -> Option<bool> {
        self.inner.shared.as_ref().map(|s| s.is_up())
    }

    /// Requests waiting in the backpressure queue.
    #[must_use]
    pub fn queue_len(&self) -> usize {
        self.inner.queue.len()
    }

    /// The group a requested name routes to (`model_group_alias` resolved).
    fn group_for(&self, model: &str) -> String {
        match self.inner.config.model_group_alias.get(model) {
            Some(target) => target.group().to_owned(),
            None => model.to_owned(),
        }
    }

    /// The deployments serving `model` (alias and wildcard groups resolved), in config order;
    /// `None` when no group serves it.
    #[must_use]
    pub fn group_deployments(&self, model: &str) -> Option<Vec<Arc<Deployment>>> {
        let group = self.group_for(model);
        self.registry()
            .resolve(&group)
            .map(<[Arc<Deployment>]>::to_vec)
    }

    /// Whether some group (alias and wildcards included) serves `model`.
    #[must_use]
    pub fn serves(&self, model: &str) -> bool {
        self.registry().resolve(&self.group_for(model)).is_some()
    }

    /// Pick a deployment for `model` without calling it (`get_available_deployment`).
    ///
    /// # Errors
    /// As a call would fail before reaching an upstream (unknown model, all cooling down …).
    pub fn get_available_deployment(
        &self,
        model: &str,
        params: &Map<String, Value>,
    ) -> Result<Value> {
        self.route(model, params)
            .map(|deployment| deployment.to_json())
    }

    /// One routing decision for a chat request on `model` (alias and wildcards resolved),
    /// without reserving capacity or calling: what the benchmark measures.
    ///
    /// # Errors
    /// Unknown model, every deployment cooling down or at its limit, context window.
    pub fn route(&self, model: &str, params: &Map<String, Value>) -> Result<Arc<Deployment>> {
        let group = self.group_for(model);
        let registry = self.registry();
        let candidates = registry
            .resolve(&group)
            .ok_or_else(|| unknown_model(model))?;
        let shape = self.shape(CallKind::Chat, params, candidates);
        let decision = self.decision(now_ms());
        match strategy::choose(candidates, &[], shape, &decision, &mut rand::rng()) {
            Ok(deployment) => Ok(Arc::clone(deployment)),
            Err(reason) => Err(self.no_deployment_error(model, reason, candidates)),
        }
    }

    fn decision(&self, now: u64) -> Decision<'_> {
        let config = &self.inner.config;
        Decision {
            strategy: config.routing_strategy,
            args: &config.routing_strategy_args,
            pre_call_checks: config.enable_pre_call_checks,
            health_routing: config.enable_health_check_routing,
            now_ms: now,
        }
    }

    /// Input tokens are counted only when something needs them (a tpm limit or pre-call checks).
    fn shape(
        &self,
        kind: CallKind,
        params: &Map<String, Value>,
        candidates: &[Arc<Deployment>],
    ) -> RequestShape {
        let stream = params
            .get("stream")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let needed =
            self.inner.config.enable_pre_call_checks || candidates.iter().any(|d| d.tpm.is_some());
        if !needed {
            return RequestShape {
                stream,
                input_tokens: 0,
            };
        }
        let model = candidates.first().map_or("gpt-4o", |d| d.model.as_str());
        let input_tokens = match kind {
            CallKind::Chat => {
                params
                    .get("messages")
                    .and_then(Value::as_array)
                    .map_or(0, |messages| {
                        tokens::count_messages(
                            model,
                            messages,
                            None,
                            None,
                            &tokens::CountOptions::default(),
                        )
                        .unwrap_or(0)
                    })
            }
            CallKind::Text => text_tokens(model, params.get("prompt")),
            CallKind::Embedding => text_tokens(model, params.get("input")),
        };
        RequestShape {
            stream,
            input_tokens: input_tokens as u64,
        }
    }

    fn no_deployment_error(
        &self,
        model: &str,
        reason: NoDeployment,
        candidates: &[Arc<Deployment>],
    ) -> Error {
        let now = now_ms();
        match reason {
            NoDeployment::Empty => unknown_model(model),
            NoDeployment::AllCoolingDown { earliest_ms, ids } => {
                let wait = earliest_ms.saturating_sub(now) as f64 / 1000.0;
                let cooldown = self.inner.config.cooldown_time().as_secs_f64();
                Error::new(
                    ErrorKind::RateLimit,
                    format!(
                        "No deployments available for selected model, Try again in {cooldown} seconds. \
                         All deployments are in cooldown. Passed model={model}. pre-call-checks={}, cooldown_list={ids:?}",
                        python_bool(self.inner.config.enable_pre_call_checks),
                    ),
                )
                .with_model(model)
                .with_retry_after(Some(wait.max(0.001)))
                .with_headers(vec![("retry-after".to_owned(), format!("{}", wait.ceil().max(1.0)))])
            }
            NoDeployment::ContextWindow { input_tokens, largest } => Error::new(
                ErrorKind::ContextWindowExceeded,
                format!(
                    "No deployment of model={model} has a context window large enough for this request: \
                     {input_tokens} input tokens, the largest allows {}",
                    largest.map_or_else(|| "unknown".to_owned(), |n| n.to_string())
                ),
            )
            .with_model(model),
            NoDeployment::AtLimit => {
                let next_minute = (minute_of(now) + 1) * 60_000;
                let wait = next_minute.saturating_sub(now) as f64 / 1000.0;
                let limits: Vec<String> = candidates
                    .iter()
                    .map(|d| {
                        let usage = d.state.usage(now);
                        format!(
                            "{}: rpm {}/{}, tpm {}/{}",
                            d.id,
                            usage.rpm,
                            d.rpm.map_or_else(|| "-".to_owned(), |v| v.to_string()),
                            usage.tpm,
                            d.tpm.map_or_else(|| "-".to_owned(), |v| v.to_string())
                        )
                    })
                    .collect();
                Error::new(
                    ErrorKind::RateLimit,
                    format!(
                        "No deployments available for selected model, Try again in {wait:.1} seconds. \
                         Every deployment is at its rpm/tpm limit. Passed model={model}. Deployments={limits:?}"
                    ),
                )
                .with_model(model)
                .with_retry_after(Some(wait.ceil().max(1.0)))
                .with_headers(vec![("retry-after".to_owned(), format!("{}", wait.ceil().max(1.0)))])
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Calls
    // -----------------------------------------------------------------------------------------

    /// Chat completion through the router (`completion` / `acompletion`): `params["model"]` is
    /// the model group; also `fallbacks`, `num_retries`, `priority`, `metadata` per request.
    ///
    /// # Errors
    /// The last failure after retries and fallbacks, classified.
    pub async fn completion(&self, params: Map<String, Value>) -> Result<ChatOutcome> {
        match self.call(CallKind::Chat, params).await? {
            Outcome::Chat(outcome) => Ok(outcome),
            _ => Err(Error::new(
                ErrorKind::InternalServer,
                "router: wrong outcome kind",
            )),
        }
    }

    /// Legacy completions through the router.
    ///
    /// # Errors
    /// The last failure after retries and fallbacks, classified.
    pub async fn text_completion(&self, params: Map<String, Value>) -> Result<TextOutcome> {
        match self.call(CallKind::Text, params).await? {
            Outcome::Text(outcome) => Ok(outcome),
            _ => Err(Error::new(
                ErrorKind::InternalServer,
                "router: wrong outcome kind",
            )),
        }
    }

    /// Embeddings through the router.
    ///
    /// # Errors
    /// The last failure after retries and fallbacks, classified.
    pub async fn embedding(
        &self,
        params: Map<String, Value>,
    ) -> Result<CompletionResult<EmbeddingResponse>> {
        match self.call(CallKind::Embedding, params).await? {
            Outcome::Embedding(result) => Ok(result),
            _ => Err(Error::new(
                ErrorKind::InternalServer,
                "router: wrong outcome kind",
            )),
        }
    }

    async fn call(&self, kind: CallKind, mut params: Map<String, Value>) -> Result<Outcome> {
        let options = RequestOptions::take(&mut params)?;
        let requested = options.model.clone();
        let first = self
            .call_group(kind, &params, &requested, &options, 0)
            .await;
        let error = match first {
            Ok(outcome) => return Ok(outcome),
            Err(error) => error,
        };
        let fallbacks = self.fallbacks_for(&requested, &error, &options);
        if fallbacks.is_empty() {
            return Err(error);
        }
        let max = self
            .inner
            .config
            .max_fallbacks
            .unwrap_or(DEFAULT_MAX_FALLBACKS) as usize;
        let mut last = error;
        for (hop, group) in fallbacks.iter().take(max).enumerate() {
            tracing::debug!(from = %requested, to = %group, "router: falling back");
            let mut fallback_params = params.clone();
            fallback_params.insert("model".to_owned(), Value::String(group.clone()));
            match self
                .call_group(kind, &fallback_params, group, &options, hop as u32 + 1)
                .await
            {
                Ok(outcome) => return Ok(outcome),
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// The fallback groups for a failure of `group`: the context-window or content-policy
    /// list for those errors when one is configured for the group, else the generic one (the
    /// request's, else the router's, else `"*"` / `default_fallbacks`).
    fn fallbacks_for(&self, group: &str, error: &Error, options: &RequestOptions) -> Vec<String> {
        let config = &self.inner.config;
        let lookup = |list: &FallbackList| -> Option<Vec<String>> {
            list.iter()
                .find_map(|entry| entry.get(group).cloned())
                .or_else(|| list.iter().find_map(|entry| entry.get("*").cloned()))
        };
        let specific = match error.kind() {
            ErrorKind::ContextWindowExceeded => options
                .context_window_fallbacks
                .as_ref()
                .and_then(&lookup)
                .or_else(|| lookup(&config.context_window_fallbacks)),
            ErrorKind::ContentPolicyViolation => options
                .content_policy_fallbacks
                .as_ref()
                .and_then(&lookup)
                .or_else(|| lookup(&config.content_policy_fallbacks)),
            _ => None,
        };
        if let Some(list) = specific {
            return list;
        }
        if let Some(list) = options.fallbacks.as_ref().and_then(&lookup) {
            return list;
        }
        if let Some(list) = lookup(&config.fallbacks) {
            return list;
        }
        config.default_fallbacks.clone()
    }

    /// Retries allowed for an error: the retry policy's count for its class when set, else
    /// `num_retries` for retryable errors, else none.
    fn retries_for(&self, group: &str, error: &Error, options: &RequestOptions) -> u32 {
        let config = &self.inner.config;
        let policy = config
            .model_group_retry_policy
            .get(group)
            .and_then(|p| p.for_kind(error.kind()))
            .or_else(|| {
                config
                    .retry_policy
                    .as_ref()
                    .and_then(|p| p.for_kind(error.kind()))
            });
        if let Some(count) = policy {
            return count;
        }
        if should_retry(error) {
            options
                .num_retries
                .or(config.num_retries)
                .unwrap_or(DEFAULT_NUM_RETRIES)
        } else {
            0
        }
    }

    /// Calls one model group with retries (another deployment of the group when there is
    /// one).
    async fn call_group(
        &self,
        kind: CallKind,
        params: &Map<String, Value>,
        requested: &str,
        options: &RequestOptions,
        fallbacks_so_far: u32,
    ) -> Result<Outcome> {
        let group = self.group_for(requested);
        let mut tried: Vec<String> = Vec::new();
        let mut attempt: u32 = 0;
        loop {
            let deployment = self
                .pick(kind, params, requested, &group, &tried, options)
                .await?;
            if !tried.contains(&deployment.id) {
                tried.push(deployment.id.clone());
            }
            let result = self
                .call_deployment(
                    kind,
                    &deployment,
                    params,
                    requested,
                    &group,
                    attempt,
                    fallbacks_so_far,
                )
                .await;
            let error = match result {
                Ok(outcome) => return Ok(outcome),
                Err(error) => error,
            };
            let group_size = self.registry().resolve(&group).map_or(1, <[_]>::len);
            self.record_failure(&deployment, &error, group_size).await;
            let allowed = self.retries_for(&group, &error, options);
            if attempt >= allowed {
                let mut error = error;
                error.set_num_retries(attempt);
                return Err(error);
            }
            let registry = self.registry();
            let now = now_ms();
            let has_alternative = registry.resolve(&group).is_some_and(|list| {
                list.iter()
                    .any(|d| !tried.contains(&d.id) && d.state.cooldown_until(now).is_none())
            });
            let wait = self.retry_wait(&error, attempt, has_alternative);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            attempt += 1;
        }
    }

    /// LiteLLM retries at once when another healthy deployment can take the request; else it
    /// backs off exponentially, honouring the upstream's Retry-After, never below
    /// `retry_after`.
    fn retry_wait(&self, error: &Error, attempt: u32, has_alternative: bool) -> Duration {
        let minimum = Duration::from_secs_f64(self.inner.config.retry_after);
        if has_alternative {
            return minimum;
        }
        http::backoff(attempt, error.retry_after()).max(minimum)
    }

    /// Choose a deployment and reserve its request, waiting for a cooldown to end (bounded)
    /// or, when every deployment is at its rpm/tpm limit, in the priority queue.
    async fn pick(
        &self,
        kind: CallKind,
        params: &Map<String, Value>,
        requested: &str,
        group: &str,
        tried: &[String],
        options: &RequestOptions,
    ) -> Result<Arc<Deployment>> {
        let config = &self.inner.config;
        let started = Instant::now();
        let cooldown_bound = Duration::from_secs_f64(
            config
                .max_cooldown_wait
                .unwrap_or_else(|| config.cooldown_time().as_secs_f64().min(10.0)),
        );
        let queue_bound = Duration::from_secs_f64(
            options
                .max_queue_wait
                .or(config.max_queue_wait)
                .unwrap_or(10.0)
                .max(0.0),
        );
        let mut ticket: Option<crate::queue::Ticket> = None;
        let mut shape: Option<RequestShape> = None;
        loop {
            let registry = self.registry();
            let candidates = registry
                .resolve(group)
                .ok_or_else(|| unknown_model(requested))?;
            let shape = *shape.get_or_insert_with(|| self.shape(kind, params, candidates));
            let now = now_ms();
            let decision = self.decision(now);
            if ticket.as_ref().is_some_and(|t| !t.is_head()) {
                // Someone earlier or more urgent is first in line.
                if started.elapsed() >= queue_bound {
                    return Err(self.no_deployment_error(
                        requested,
                        NoDeployment::AtLimit,
                        candidates,
                    ));
                }
                self.inner.queue.changed(Duration::from_millis(50)).await;
                continue;
            }
            let chosen = strategy::choose(candidates, tried, shape, &decision, &mut rand::rng())
                .map(Arc::clone);
            match chosen {
                Ok(deployment) => {
                    if self.reserve(&deployment, now).await {
                        return Ok(deployment);
                    }
                    // Lost a race for the last request of the minute: choose again.
                }
                Err(NoDeployment::AllCoolingDown { earliest_ms, ids }) => {
                    let wait = Duration::from_millis(earliest_ms.saturating_sub(now));
                    // A little slack: a cooldown as long as the bound itself, set a moment
                    // ago, still counts as within it.
                    if started.elapsed() + wait > cooldown_bound + Duration::from_millis(50) {
                        return Err(self.no_deployment_error(
                            requested,
                            NoDeployment::AllCoolingDown { earliest_ms, ids },
                            candidates,
                        ));
                    }
                    tracing::debug!(model = %requested, wait_ms = wait.as_millis() as u64,
                        "router: every deployment is cooling down; waiting for the first to return");
                    tokio::time::sleep(wait + Duration::from_millis(1)).await;
                }
                Err(NoDeployment::AtLimit) => {
                    if queue_bound.is_zero() || started.elapsed() >= queue_bound {
                        return Err(self.no_deployment_error(
                            requested,
                            NoDeployment::AtLimit,
                            candidates,
                        ));
                    }
                    if ticket.is_none() {
                        let priority = options
                            .priority
                            .or(config.default_priority)
                            .unwrap_or(DEFAULT_PRIORITY);
                        match self.inner.queue.join(group, priority) {
                            Some(joined) => ticket = Some(joined),
                            None => {
                                let mut error = self.no_deployment_error(
                                    requested,
                                    NoDeployment::AtLimit,
                                    candidates,
                                );
                                error = Error::new(
                                    ErrorKind::RateLimit,
                                    format!(
                                        "{} The router's request queue is full.",
                                        error.message()
                                    ),
                                )
                                .with_model(requested)
                                .with_retry_after(error.inner().retry_after)
                                .with_headers(error.inner().headers.clone());
                                return Err(error);
                            }
                        }
                        // Re-check at once as head of the line.
                        continue;
                    }
                    let left = queue_bound.saturating_sub(started.elapsed());
                    self.inner
                        .queue
                        .changed(left.min(Duration::from_millis(50)))
                        .await;
                }
                Err(reason) => return Err(self.no_deployment_error(requested, reason, candidates)),
            }
        }
    }

    /// Count one request against the deployment's rpm (atomically across instances when
    /// Redis is up); `false` when the limit was reached meanwhile.
    async fn reserve(&self, deployment: &Deployment, now: u64) -> bool {
        if let (Some(shared), Some(limit)) = (&self.inner.shared, deployment.rpm) {
            match shared.reserve_request(deployment, limit, now).await {
                Some(true) => {
                    deployment.state.try_reserve_request(None, now);
                    return true;
                }
                Some(false) => return false,
                None => {}
            }
        } else if let Some(shared) = &self.inner.shared {
            shared.push(SharedWrite::Request {
                id: deployment.id.clone(),
                minute: minute_of(now),
            });
        }
        deployment.state.try_reserve_request(deployment.rpm, now)
    }

    /// The engine parameters for one deployment: `default_litellm_params` < deployment
    /// params < request params; the router owns retries, so the engine makes none.
    fn engine_params(
        &self,
        deployment: &Deployment,
        params: &Map<String, Value>,
        requested: &str,
    ) -> Map<String, Value> {
        let config = &self.inner.config;
        let mut call = config.default_litellm_params.clone();
        for (key, value) in &deployment.call_params {
            if !value.is_null() {
                call.insert(key.clone(), value.clone());
            }
        }
        for (key, value) in params {
            call.insert(key.clone(), value.clone());
        }
        call.insert(
            "model".to_owned(),
            Value::String(deployment.upstream_model(requested)),
        );
        call.remove("max_retries");
        call.insert("num_retries".to_owned(), Value::from(0));
        call.insert("model_id".to_owned(), Value::String(deployment.id.clone()));
        let stream = call.get("stream").and_then(Value::as_bool).unwrap_or(false);
        if !call.contains_key("timeout") && !call.contains_key("request_timeout") {
            if let Some(timeout) = config.timeout {
                call.insert("timeout".to_owned(), Value::from(timeout));
            }
        }
        if stream && !call.contains_key("stream_timeout") {
            if let Some(timeout) = config.stream_timeout {
                call.insert("stream_timeout".to_owned(), Value::from(timeout));
            }
        }
        call
    }

    #[expect(clippy::too_many_arguments, reason = "one call's context, kept flat")]
    async fn call_deployment(
        &self,
        kind: CallKind,
        deployment: &Arc<Deployment>,
        params: &Map<String, Value>,
        requested: &str,
        group: &str,
        attempt: u32,
        fallbacks: u32,
    ) -> Result<Outcome> {
        let call = self.engine_params(deployment, params, requested);
        let started = Instant::now();
        let in_flight = InFlight::new(Arc::clone(deployment));
        let result = match kind {
            CallKind::Chat => Engine.completion(call).await.map(Outcome::Chat),
            CallKind::Text => Engine.text_completion(call).await.map(Outcome::Text),
            CallKind::Embedding => Engine.embedding(call).await.map(Outcome::Embedding),
        };
        let elapsed = started.elapsed().as_secs_f64();
        let mut outcome = result?;
        let now = now_ms();
        let _ = deployment.state.record_outcome(true, now);
        let headers = |hidden: &mut HiddenParams| {
            hidden.model_id = Some(deployment.id.clone());
            hidden.num_retries = attempt;
            hidden
                .headers
                .push(("x-litellm-model-group".to_owned(), group.to_owned()));
            hidden.headers.push((
                "x-litellm-attempted-retries".to_owned(),
                attempt.to_string(),
            ));
            hidden.headers.push((
                "x-litellm-attempted-fallbacks".to_owned(),
                fallbacks.to_string(),
            ));
            if let Some(limit) = deployment.rpm {
                let used = deployment.state.usage(now).rpm;
                hidden
                    .headers
                    .push(("x-ratelimit-limit-requests".to_owned(), limit.to_string()));
                hidden.headers.push((
                    "x-ratelimit-remaining-requests".to_owned(),
                    limit.saturating_sub(used).to_string(),
                ));
            }
        };
        match &mut outcome {
            Outcome::Chat(ChatOutcome::Whole(result)) => {
                headers(&mut result.hidden);
                let usage = result.response.usage.as_ref();
                self.book(
                    deployment,
                    elapsed,
                    None,
                    usage.map(|u| (u.total_tokens, u.completion_tokens)),
                );
            }
            Outcome::Text(TextOutcome::Whole(result)) => {
                headers(&mut result.hidden);
                let usage = result.response.usage.as_ref();
                self.book(
                    deployment,
                    elapsed,
                    None,
                    usage.map(|u| (u.total_tokens, u.completion_tokens)),
                );
            }
            Outcome::Embedding(result) => {
                headers(&mut result.hidden);
                let usage = result.response.usage.as_ref();
                self.book(
                    deployment,
                    elapsed,
                    None,
                    usage.map(|u| (u.total_tokens, 0)),
                );
            }
            Outcome::Chat(ChatOutcome::Stream(stream)) => {
                headers(&mut stream.hidden);
                // The engine returns a stream once its first chunk arrived: this is the time
                // to first token. Tokens and the in-flight count settle when it ends.
                let router = self.clone();
                let deployment = Arc::clone(deployment);
                let in_flight = in_flight.keep();
                stream.stream.on_finish(move |summary| {
                    let usage = summary
                        .usage
                        .as_ref()
                        .map(|u| (u.total_tokens, u.completion_tokens));
                    let total = started.elapsed().as_secs_f64();
                    router.book(&deployment, total, Some(elapsed), usage);
                    drop(in_flight);
                });
                return Ok(outcome);
            }
            Outcome::Text(TextOutcome::Stream(stream)) => {
                headers(&mut stream.hidden);
                let router = self.clone();
                let deployment = Arc::clone(deployment);
                let in_flight = in_flight.keep();
                stream.stream.on_finish(move |summary| {
                    let usage = summary
                        .usage
                        .as_ref()
                        .map(|u| (u.total_tokens, u.completion_tokens));
                    let total = started.elapsed().as_secs_f64();
                    router.book(&deployment, total, Some(elapsed), usage);
                    drop(in_flight);
                });
                return Ok(outcome);
            }
        }
        drop(in_flight);
        Ok(outcome)
    }

    /// Record a success: tokens for tpm and a latency sample (seconds per output token when
    /// known, as LiteLLM's lowest-latency strategy ranks them).
    fn book(
        &self,
        deployment: &Deployment,
        seconds: f64,
        ttft: Option<f64>,
        usage: Option<(u64, u64)>,
    ) {
        let now = now_ms();
        let (total_tokens, completion_tokens) = usage.unwrap_or((0, 0));
        if total_tokens > 0 {
            deployment.state.add_tokens(total_tokens, now);
        }
        let latency = if completion_tokens > 0 {
            seconds / completion_tokens as f64
        } else {
            seconds
        };
        let args = &self.inner.config.routing_strategy_args;
        let ttl_ms = (args.ttl * 1000.0) as u64;
        let sample = LatencySample {
            at_ms: now,
            latency,
            ttft,
        };
        deployment
            .state
            .add_latency(sample, args.max_latency_list_size, ttl_ms);
        if let Some(shared) = &self.inner.shared {
            if total_tokens > 0 {
                shared.push(SharedWrite::Tokens {
                    id: deployment.id.clone(),
                    minute: minute_of(now),
                    tokens: total_tokens,
                });
            }
            if self.inner.config.routing_strategy == RoutingStrategy::LatencyBased {
                shared.push(SharedWrite::Latency {
                    id: deployment.id.clone(),
                    sample,
                    max: args.max_latency_list_size,
                    ttl_ms,
                });
            }
        }
    }

    /// A failed call: count it and cool the deployment down when LiteLLM's rules say so.
    async fn record_failure(&self, deployment: &Deployment, error: &Error, group_size: usize) {
        let now = now_ms();
        let (successes, failures) = deployment.state.record_outcome(false, now);
        let Some(duration) = self
            .cooldown_for(deployment, error, group_size, successes, failures)
            .await
        else {
            return;
        };
        let until = now + u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 4);
        tracing::info!(id = %deployment.id, model = %deployment.model, seconds = duration.as_secs_f64(),
            error = %error, "router: deployment cooling down");
        deployment.state.cool_down_until(until);
        if let Some(shared) = &self.inner.shared {
            shared.push(SharedWrite::Cooldown {
                id: deployment.id.clone(),
                until_ms: until,
            });
        }
    }

    /// LiteLLM's cooldown decision (`router_utils/cooldown_handlers.py`).
    async fn cooldown_for(
        &self,
        deployment: &Deployment,
        error: &Error,
        group_size: usize,
        successes: u64,
        failures: u64,
    ) -> Option<Duration> {
        let config = &self.inner.config;
        if config.disable_cooldowns {
            return None;
        }
        let kind = error.kind();
        let status = error.status_code();
        let required = kind != ErrorKind::ApiConnection
            && match status {
                429 | 401 | 402 | 404 | 408 => true,
                400..=499 => false,
                _ => true,
            };
        let deployment_policy = deployment
            .allowed_fails_policy
            .as_ref()
            .and_then(|p| p.for_kind(kind));
        if !required && deployment_policy.is_none() {
            return None;
        }
        let duration = deployment
            .cooldown_time
            .unwrap_or_else(|| config.cooldown_time());
        if duration.is_zero() {
            return None;
        }
        let single = group_size <= 1;
        if deployment.allowed_fails_policy.is_some() || deployment.allowed_fails.is_some() {
            if deployment_policy.is_none() && deployment.allowed_fails.is_some() && single {
                return None;
            }
            let (allowed, suffix) = match deployment_policy {
                Some((allowed, suffix)) => (allowed, suffix),
                None => match deployment.allowed_fails {
                    Some(allowed) => (allowed, "generic"),
                    None => return None,
                },
            };
            let count = self.count_fail(deployment, suffix, duration).await;
            return (count > u64::from(allowed)).then_some(duration);
        }
        if config.allowed_fails_policy.is_none() && config.allowed_fails.is_none() {
            let total = successes + failures;
            let failure_rate = if total > 0 {
                failures as f64 / total as f64
            } else {
                0.0
            };
            let cool = (status == 429 && !single)
                || (failure_rate >= 1.0 && total >= 1000)
                || (failure_rate > 0.5 && total >= 5 && !single)
                || !should_retry_status(status);
            return cool.then_some(duration);
        }
        let from_policy = config
            .allowed_fails_policy
            .as_ref()
            .and_then(|p| p.for_kind(kind));
        let allowed = from_policy
            .map(|(n, _)| n)
            .or(config.allowed_fails)
            .unwrap_or(3);
        let count = self.count_fail(deployment, "", duration).await;
        (count > u64::from(allowed)).then_some(duration)
    }

    async fn count_fail(&self, deployment: &Deployment, suffix: &str, ttl: Duration) -> u64 {
        let now = now_ms();
        let local = deployment.state.increment_fails(suffix, ttl, now);
        if let Some(shared) = &self.inner.shared {
            if let Some(count) = shared.increment_fails(&deployment.id, suffix, ttl).await {
                return count;
            }
        }
        local
    }

    /// Run an already-built call against one deployment, outside routing (health probes).
    pub(crate) async fn probe(
        &self,
        deployment: &Deployment,
        kind: CallKind,
        params: Map<String, Value>,
    ) -> Result<()> {
        let mut call = self.engine_params(deployment, &params, &deployment.model_name);
        if deployment.is_wildcard() {
            call.insert(
                "model".to_owned(),
                Value::String(deployment.model.replace('*', "")),
            );
        }
        match kind {
            CallKind::Chat => Engine.completion(call).await.map(|_| ()),
            CallKind::Text => Engine.text_completion(call).await.map(|_| ()),
            CallKind::Embedding => Engine.embedding(call).await.map(|_| ()),
        }
    }

    /// The call kind's name (for logs).
    #[must_use]
    pub const fn call_name(kind: CallKind) -> &'static str {
        kind.as_str()
    }
}

/// Priority of a request that gives none (LiteLLM's scheduler range is 0..=255, lower first).
pub const DEFAULT_PRIORITY: i64 = 255;

fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

fn read_registry(lock: &RwLock<Arc<Registry>>) -> std::sync::RwLockReadGuard<'_, Arc<Registry>> {
    match lock.read() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn write_registry(lock: &RwLock<Arc<Registry>>) -> std::sync::RwLockWriteGuard<'_, Arc<Registry>> {
    match lock.write() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn unknown_model(model: &str) -> Error {
    Error::bad_request(format!(
        "You passed in model={model}. There are no healthy deployments for this model"
    ))
    .with_model(model)
    .with_param("model")
}

fn text_tokens(model: &str, value: Option<&Value>) -> usize {
    match value {
        Some(Value::String(text)) => tokens::count_text_for_model(model, text),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => tokens::count_text_for_model(model, text),
                Value::Array(ids) => ids.len(),
                _ => 1,
            })
            .sum(),
        _ => 0,
    }
}

/// LiteLLM's `_should_retry(status)`: 408, 409, 429 and 5xx.
fn should_retry_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

fn should_retry(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::ContextWindowExceeded | ErrorKind::ContentPolicyViolation => false,
        ErrorKind::Timeout | ErrorKind::ApiConnection => true,
        _ => should_retry_status(error.status_code()),
    }
}

/// Counts a request in flight on a deployment (least-busy) until dropped.
struct InFlight {
    deployment: Option<Arc<Deployment>>,
}

impl InFlight {
    fn new(deployment: Arc<Deployment>) -> Self {
        deployment.state.active.fetch_add(1, Ordering::Relaxed);
        Self {
            deployment: Some(deployment),
        }
    }

    /// Move the count into a longer-lived owner (a stream's finish hook).
    fn keep(mut self) -> Self {
        Self {
            deployment: self.deployment.take(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(deployment) = self.deployment.take() {
            deployment.state.active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
