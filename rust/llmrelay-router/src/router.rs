//! The Router: its deployments (indexed, replaceable at run time), background work (Redis
//! sync, health checks) and state as data. Choosing a deployment is in `pick`, calls and
//! fallbacks in `call`, what is kept per deployment in `booking`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};

use llmrelay_core::{CallKind, Error, Result};
use llmrelay_limits::{Limiter, LimiterConfig, RedisTarget};
use llmrelay_pipeline::{Call, Origin};
use llmrelay_providers::engine::{Attempt, Engine};
use llmrelay_providers::options::{self, CallOptions};

use crate::config::{RouterConfig, RoutingStrategy};
use crate::deployment::{Deployment, Usage, now_ms};
use crate::queue::Queue;
use crate::registry::Registry;
use crate::shared::Shared;
use crate::tags::TagQuery;

/// Where the Router's limiter keeps deployment counters in Redis.
pub const LIMIT_PREFIX: &str = "llmrelay:router:rl:";

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

/// `default_litellm_params`, split once into call options and body parameters (merged under
/// every deployment's own when the deployments are built).
#[derive(Debug, Default)]
pub(crate) struct Defaults {
    pub(crate) options: CallOptions,
    pub(crate) body: Map<String, Value>,
}

impl Defaults {
    fn from_config(config: &RouterConfig) -> Result<Self> {
        let mut params = config.default_litellm_params.clone();
        params.remove("model");
        let (body, options) = options::split(params).map_err(|e| {
            Error::bad_request(format!(
                "Invalid router config: default_litellm_params: {}",
                e.message()
            ))
        })?;
        Ok(Self { options, body })
    }
}

pub(crate) struct Inner {
    pub(crate) config: RouterConfig,
    registry: RwLock<Arc<Registry>>,
    pub(crate) shared: Option<Arc<Shared>>,
    /// Deployment rpm/tpm reservations: in this process, or in Redis with `shared`.
    pub(crate) limiter: Limiter,
    pub(crate) queue: Arc<Queue>,
    pub(crate) defaults: Defaults,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Told when a deployment is put into cooldown (alerting).
    pub(crate) cooldown_listener: std::sync::OnceLock<CooldownListener>,
}

/// A deployment the Router put into cooldown, as its listener hears it.
#[derive(Debug, Clone)]
pub struct CooldownEvent<'a> {
    pub deployment: &'a Deployment,
    /// How long it is left out.
    pub cooldown: Duration,
    /// The failure that cooled it down.
    pub error: &'a Error,
}

pub(crate) type CooldownListener = Arc<dyn Fn(&CooldownEvent<'_>) + Send + Sync>;

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
    defaults: &Defaults,
    existing: Option<&Registry>,
) -> Result<Vec<Arc<Deployment>>> {
    let mut out: Vec<Arc<Deployment>> = Vec::with_capacity(config.model_list.len());
    for (index, entry) in config.model_list.iter().enumerate() {
        let deployment = Deployment::from_config(entry, &format!("model_list[{index}]"))?
            .with_defaults(&defaults.options, &defaults.body);
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
        let defaults = Defaults::from_config(&config)?;
        let deployments = build_deployments(&config, &defaults, None)?;
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
        let mut limits = LimiterConfig {
            redis: config.redis_target().map(RedisTarget::Single),
            prefix: LIMIT_PREFIX.to_owned(),
            ..LimiterConfig::default()
        };
        if let Some((policy, timeout)) = config.limits_on_failure {
            limits.policy = policy;
            limits.timeout = timeout;
        }
        let limiter = Limiter::new(limits);
        let router = Self {
            inner: Arc::new(Inner {
                config,
                registry: RwLock::new(Arc::new(Registry::build(deployments))),
                shared,
                limiter,
                queue,
                defaults,
                tasks: Mutex::new(Vec::new()),
                cooldown_listener: std::sync::OnceLock::new(),
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
        if self.inner.limiter.is_shared() {
            // Connects (bounded by its timeout) and starts its probe; reservations made until
            // the first attempt has its answer wait for it.
            let limiter = self.inner.limiter.clone();
            limiter.connecting();
            tasks.push(tokio::spawn(async move { limiter.start().await }));
        }
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

    /// Registers the callback told each time a deployment is put into cooldown (once; later
    /// calls are ignored). It runs on the failed attempt's task: it must not block.
    pub fn on_cooldown(&self, listener: impl Fn(&CooldownEvent<'_>) + Send + Sync + 'static) {
        let _ = self.inner.cooldown_listener.set(Arc::new(listener));
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
        let deployments = build_deployments(&check, &self.inner.defaults, Some(&current))?;
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
        let deployment = Deployment::from_config(entry, "deployment")?
            .with_defaults(&self.inner.defaults.options, &self.inner.defaults.body);
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

    /// The deployment limiter's settings (where its counters live, its failure policy).
    #[must_use]
    pub fn limiter_config(&self) -> &LimiterConfig {
        self.inner.limiter.config()
    }

    /// Requests waiting in the backpressure queue.
    #[must_use]
    pub fn queue_len(&self) -> usize {
        self.inner.queue.len()
    }

    /// The group a requested name routes to (`model_group_alias` resolved).
    pub(crate) fn group_for(&self, model: &str) -> String {
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

    /// The model group a team's deployment is served under when the team calls it by its
    /// `model_info.team_public_model_name` (LiteLLM's `map_team_model`).
    #[must_use]
    pub fn map_team_model(&self, team_model_name: &str, team_id: &str) -> Option<String> {
        self.registry()
            .team_model(team_id, team_model_name)
            .map(str::to_owned)
    }

    /// Whether some group (alias and wildcards included) serves `model`.
    #[must_use]
    pub fn serves(&self, model: &str) -> bool {
        self.registry().resolve(&self.group_for(model)).is_some()
    }

    /// Run a minimal call of `kind` against one deployment, outside routing (health probes).
    pub(crate) async fn probe(
        &self,
        deployment: &Deployment,
        kind: CallKind,
        mut params: Map<String, Value>,
    ) -> Result<()> {
        let model = if deployment.is_wildcard() {
            deployment.model.replace('*', "")
        } else {
            deployment.model.clone()
        };
        params.insert("model".to_owned(), Value::String(model.clone()));
        let call = Call::parse(kind, params, Origin::Sdk)?;
        let options = self.attempt_options(deployment, &call.options, false);
        let attempt = Attempt {
            request: &call.request,
            model: &model,
            options: &options,
            images: &call.images,
            body_defaults: Some(&deployment.body_defaults),
        };
        Engine.attempt(&attempt).await.map(|_| ())
    }

    /// One routing decision without a call (benchmarks, `get_available_deployment`) for a
    /// chat request given as JSON (its `metadata.tags` route it).
    ///
    /// # Errors
    /// A malformed request, an unknown model, every deployment cooling down or at its limit.
    pub fn route_params(&self, model: &str, params: Map<String, Value>) -> Result<Arc<Deployment>> {
        let mut params = params;
        params
            .entry("model")
            .or_insert_with(|| Value::String(model.to_owned()));
        params
            .entry("messages")
            .or_insert_with(|| serde_json::json!([{"role": "user", "content": ""}]));
        let (request, options) = llmrelay_providers::engine::parse(CallKind::Chat, params)?;
        let tags = llmrelay_pipeline::RequestTags::of_metadata(options.metadata.as_ref());
        let prefix = self
            .inner
            .config
            .tag_routing_prefix
            .as_deref()
            .unwrap_or("");
        self.route_tagged(model, &request, &TagQuery::new(tags.as_slice(), prefix))
    }

    /// A call through the Router without pipeline layers (tests, Rust users): parse, route,
    /// retry, fall back.
    ///
    /// # Errors
    /// The last failure after retries and fallbacks.
    pub async fn call(
        &self,
        kind: CallKind,
        params: Map<String, Value>,
    ) -> Result<llmrelay_pipeline::Dispatched> {
        use llmrelay_pipeline::Dispatch as _;
        let call = Call::parse(kind, params, Origin::Sdk)?;
        let attempts = llmrelay_pipeline::Attempts::new(&[], &call);
        self.dispatch(&call, attempts).await
    }
}

/// Priority of a request that gives none (LiteLLM's scheduler range is 0..=255, lower first).
pub const DEFAULT_PRIORITY: i64 = 255;

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
