//! Deployments: one `model_list` entry made ready for routing (resolved secrets, routing
//! fields read once, a stable id) and its live state (usage, cooldown, latency, health).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use llmrelay_core::{Error, Result};
use llmrelay_core::{catalog, detect};

use llmrelay_limits::{Check, Metric};
use llmrelay_providers::options::{self, CallOptions};

use crate::config::{AllowedFailsPolicy, DeploymentConfig};

/// `litellm_params` keys that steer the router and never reach the engine.
const ROUTING_ONLY_PARAMS: &[&str] = &[
    "rpm",
    "tpm",
    "weight",
    "order",
    "tags",
    "max_parallel_requests",
    "max_budget",
    "budget_duration",
    "cooldown_time",
    "rpd",
    "tpd",
    "itpm",
    "otpm",
    "model_info",
    "use_in_pass_through",
    "use_litellm_proxy",
    "merge_reasoning_content_in_choices",
];

/// Keys that must not appear in health reports or model lists shown to users.
const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "aws_secret_access_key",
    "aws_session_token",
    "vertex_credentials",
    "azure_ad_token",
    "client_secret",
];

pub use llmrelay_core::clock::now_ms;

/// The current minute window (rpm/tpm counters reset at each).
#[must_use]
pub fn minute_of(ms: u64) -> u64 {
    ms / 60_000
}

/// A deployment ready for routing. Immutable; its live state is in [`DeploymentState`].
#[derive(Debug)]
pub struct Deployment {
    /// `model_info.id`: given, or LiteLLM's SHA-256 of the group and params.
    pub id: String,
    /// The model group (the `model_name` it serves), possibly a wildcard pattern.
    pub model_name: String,
    /// `litellm_params` with `os.environ/NAME` resolved, as configured.
    pub litellm_params: Map<String, Value>,
    /// `model_info` with `id` filled in.
    pub model_info: Map<String, Value>,
    /// The parameters merged into every call (routing-only keys removed).
    pub call_params: Map<String, Value>,
    /// `call_params` as call options (credentials, base, timeouts, mock_response, …), split
    /// once.
    pub options: CallOptions,
    /// `call_params` that go into the request body (`temperature`, `max_tokens`, …) under the
    /// caller's.
    pub body_defaults: Map<String, Value>,
    /// `litellm_params.model`.
    pub model: String,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub weight: Option<f64>,
    pub order: Option<i64>,
    /// The context window from `model_info` or the catalog.
    pub max_input_tokens: Option<u64>,
    /// Input + output price per token in USD, for cost-based routing (`None`: unknown).
    pub cost_per_token: Option<f64>,
    /// `embedding` for embedding models (health checks probe with an embedding call).
    pub mode: Option<String>,
    pub allowed_fails: Option<u32>,
    pub allowed_fails_policy: Option<AllowedFailsPolicy>,
    pub cooldown_time: Option<Duration>,
    /// `litellm_params.tags`: the request tags this deployment serves (tag routing; a
    /// `"default"` tag serves requests no other deployment matches).
    pub tags: Vec<String>,
    /// `model_info.enable_tag_filtering`: this group's tag filtering, over the Router's.
    pub tag_filtering: Option<bool>,
    /// `rpm` and `tpm` as limits for the Router's limiter (sliding 60 s windows, shared
    /// through Redis when the Router has one); empty without either.
    pub limits: Vec<Check>,
    /// Live counters and samples.
    pub state: DeploymentState,
}

/// The descriptor of a deployment's limits in the limiter (`deployment:<id>` in Redis).
pub const LIMIT_DESCRIPTOR: &str = "deployment";

/// LiteLLM's deployment `rpm`/`tpm` are per minute.
const LIMIT_WINDOW: Duration = Duration::from_secs(60);

/// The limits of a deployment are counted under its id and a fingerprint of its params, so a
/// changed deployment starts with fresh windows (as LiteLLM's do) while every instance with
/// the same config shares them.
fn limit_checks(
    id: &str,
    params: &Map<String, Value>,
    rpm: Option<u64>,
    tpm: Option<u64>,
) -> Vec<Check> {
    if rpm.is_none() && tpm.is_none() {
        return Vec::new();
    }
    let digest = Sha256::digest(Value::Object(params.clone()).to_string().as_bytes());
    let id = format!(
        "{id}:{:02x}{:02x}{:02x}{:02x}",
        digest[0], digest[1], digest[2], digest[3]
    );
    [(Metric::Requests, rpm), (Metric::Tokens, tpm)]
        .into_iter()
        .filter_map(|(metric, limit)| {
            limit.map(|limit| Check::new(LIMIT_DESCRIPTOR, &id, metric, limit, LIMIT_WINDOW))
        })
        .collect()
}

/// The epoch-ms instant in `cell` when it is still ahead of `now_ms`.
fn pending_until(cell: &AtomicU64, now_ms: u64) -> Option<u64> {
    let until = cell.load(Ordering::Relaxed);
    (until > now_ms).then_some(until)
}

impl Deployment {
    /// Build from a `model_list` entry.
    ///
    /// # Errors
    /// `BadRequest` naming the field when a routing field has the wrong type.
    pub fn from_config(config: &DeploymentConfig, path: &str) -> Result<Self> {
        let mut litellm_params = config.litellm_params.clone();
        resolve_env(&mut litellm_params);
        let mut model_info = config.model_info.clone().unwrap_or_default();
        let id = match model_info.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => generate_model_id(&config.model_name, &litellm_params),
        };
        model_info.insert("id".to_owned(), Value::String(id.clone()));
        let model = litellm_params
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let field = |name: &str| format!("{path}.litellm_params.{name}");
        let rpm = match litellm_params.get("rpm") {
            Some(value) => count_field(Some(value), &field("rpm"))?,
            None => count_field(config.rpm.as_ref(), &format!("{path}.rpm"))?,
        };
        let tpm = match litellm_params.get("tpm") {
            Some(value) => count_field(Some(value), &field("tpm"))?,
            None => count_field(config.tpm.as_ref(), &format!("{path}.tpm"))?,
        };
        let weight = number_field(litellm_params.get("weight"), &field("weight"))?;
        let order = count_field(litellm_params.get("order"), &field("order"))?
            .map(|o| i64::try_from(o).unwrap_or(i64::MAX));
        let info_field = |name: &str| format!("{path}.model_info.{name}");
        let allowed_fails = count_field(
            model_info.get("allowed_fails"),
            &info_field("allowed_fails"),
        )?
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        let allowed_fails_policy = match model_info.get("allowed_fails_policy") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                serde_path_to_error::deserialize::<_, AllowedFailsPolicy>(value.clone()).map_err(
                    |e| {
                        let name = info_field("allowed_fails_policy");
                        Error::bad_request(format!("Invalid router config: {name}: {e}"))
                            .with_param(name)
                    },
                )?,
            ),
        };
        let cooldown_time = number_field(
            model_info.get("cooldown_time"),
            &info_field("cooldown_time"),
        )?
        .or(number_field(
            litellm_params.get("cooldown_time"),
            &field("cooldown_time"),
        )?)
        .map(Duration::from_secs_f64);
        let tags = tag_list(litellm_params.get("tags"), &field("tags"))?;
        let tag_filtering = match model_info.get("enable_tag_filtering") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(on)) => Some(*on),
            Some(_) => {
                let name = info_field("enable_tag_filtering");
                return Err(Error::bad_request(format!(
                    "Invalid router config: {name}: must be true or false"
                ))
                .with_param(name));
            }
        };
        let catalog_entry = catalog_entry(&model, &litellm_params, &model_info);
        let max_input_tokens = model_info
            .get("max_input_tokens")
            .and_then(Value::as_u64)
            .or_else(|| catalog_entry.as_ref().and_then(|e| e.max_input_tokens));
        let price = |key: &str| {
            litellm_params
                .get(key)
                .or_else(|| model_info.get(key))
                .and_then(Value::as_f64)
        };
        let cost_per_token = match (
            price("input_cost_per_token"),
            price("output_cost_per_token"),
        ) {
            (Some(input), Some(output)) => Some(input + output),
            (Some(input), None) => Some(input),
            _ => catalog_entry.as_ref().and_then(|e| {
                let input = e.prices.input_cost_per_token?;
                let output = e.prices.output_cost_per_token.unwrap_or_default();
                Some(llmrelay_core::cost::to_f64(input + output))
            }),
        };
        let mode = model_info
            .get("mode")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| catalog_entry.as_ref().and_then(|e| e.mode.clone()));
        let mut call_params = litellm_params.clone();
        for key in ROUTING_ONLY_PARAMS {
            call_params.remove(*key);
        }
        let (body_defaults, options) = {
            let mut params = call_params.clone();
            params.remove("model");
            params.retain(|_, value| !value.is_null());
            options::split(params).map_err(|e| {
                let name = format!("{path}.litellm_params");
                Error::bad_request(format!("Invalid router config: {name}: {}", e.message()))
                    .with_param(name)
            })?
        };
        Ok(Self {
            limits: limit_checks(&id, &litellm_params, rpm, tpm),
            id,
            model_name: config.model_name.clone(),
            litellm_params,
            model_info,
            call_params,
            options,
            body_defaults,
            model,
            rpm,
            tpm,
            weight,
            order,
            max_input_tokens,
            cost_per_token,
            mode,
            allowed_fails,
            allowed_fails_policy,
            cooldown_time,
            tags,
            tag_filtering,
            state: DeploymentState::default(),
        })
    }

    /// The deployment with the Router's `default_litellm_params` under its own parameters.
    #[must_use]
    pub fn with_defaults(mut self, options: &CallOptions, body: &Map<String, Value>) -> Self {
        self.options = self.options.over(options);
        if !body.is_empty() {
            let mut merged = body.clone();
            merged.extend(std::mem::take(&mut self.body_defaults));
            self.body_defaults = merged;
        }
        self
    }

    /// Whether this deployment serves a pattern (`anthropic/*`, `*`).
    #[must_use]
    pub fn is_wildcard(&self) -> bool {
        self.model_name.contains('*')
    }

    /// The upstream model for a request: a wildcard deployment serves the concrete model that
    /// matched its pattern (`anthropic/*` + `anthropic/claude-x` → `anthropic/claude-x`).
    #[must_use]
    pub fn upstream_model(&self, requested: &str) -> String {
        if !self.model.contains('*') {
            return self.model.clone();
        }
        let captured = capture(&self.model_name, requested).unwrap_or(requested);
        self.model.replacen('*', captured, 1)
    }

    /// The deployment as `get_model_list` shows it (`model_name`, `litellm_params`,
    /// `model_info`).
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert(
            "model_name".to_owned(),
            Value::String(self.model_name.clone()),
        );
        out.insert(
            "litellm_params".to_owned(),
            Value::Object(self.litellm_params.clone()),
        );
        out.insert(
            "model_info".to_owned(),
            Value::Object(self.model_info.clone()),
        );
        Value::Object(out)
    }

    /// `litellm_params` without secrets, for health reports.
    #[must_use]
    pub fn public_params(&self) -> Map<String, Value> {
        let mut params = self.litellm_params.clone();
        for key in SECRET_PARAMS {
            params.remove(*key);
        }
        params
    }
}

/// The catalog entry of a deployment's model (`model_info.base_model` wins), with the
/// provider prefix resolved as the engine resolves it.
fn catalog_entry(
    model: &str,
    litellm_params: &Map<String, Value>,
    model_info: &Map<String, Value>,
) -> Option<std::sync::Arc<catalog::ModelEntry>> {
    let name = model_info
        .get("base_model")
        .and_then(Value::as_str)
        .unwrap_or(model);
    let custom = litellm_params
        .get("custom_llm_provider")
        .and_then(Value::as_str);
    let catalog = catalog::global();
    if let Some(entry) = catalog.lookup(name, custom) {
        return Some(std::sync::Arc::clone(entry));
    }
    let resolved = detect::resolve(name, custom, None).ok()?;
    catalog
        .lookup(&resolved.model, Some(&resolved.provider))
        .cloned()
}

/// The text `*` stands for when `pattern` matches `model` (`None`: no match).
#[must_use]
pub fn capture<'a>(pattern: &str, model: &'a str) -> Option<&'a str> {
    let (prefix, suffix) = pattern.split_once('*')?;
    if suffix.contains('*') {
        return None;
    }
    if model.len() < prefix.len() + suffix.len() {
        return None;
    }
    model
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
}

fn count_field(value: Option<&Value>, name: &str) -> Result<Option<u64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| not_a_count(name)),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| not_a_count(name)),
        Some(_) => Err(not_a_count(name)),
    }
}

fn number_field(value: Option<&Value>, name: &str) -> Result<Option<f64>> {
    let invalid = || {
        Error::bad_request(format!(
            "Invalid router config: {name}: must be a non-negative number"
        ))
        .with_param(name)
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(Some)
            .ok_or_else(invalid),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(Some)
            .ok_or_else(invalid),
        Some(_) => Err(invalid()),
    }
}

/// `litellm_params.tags`: a list of strings (or null).
fn tag_list(value: Option<&Value>, name: &str) -> Result<Vec<String>> {
    let invalid = || {
        Error::bad_request(format!(
            "Invalid router config: {name}: must be a list of strings"
        ))
        .with_param(name)
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(invalid))
            .collect(),
        Some(_) => Err(invalid()),
    }
}

fn not_a_count(name: &str) -> Error {
    Error::bad_request(format!(
        "Invalid router config: {name}: must be a non-negative integer"
    ))
    .with_param(name)
}

/// Replace `"os.environ/NAME"` values with the variable (null, with a warning, when unset),
/// as LiteLLM's `get_secret` does for `litellm_params`.
fn resolve_env(params: &mut Map<String, Value>) {
    for (key, value) in params.iter_mut() {
        let Value::String(text) = value else { continue };
        let Some(name) = text.strip_prefix("os.environ/") else {
            continue;
        };
        match std::env::var(name) {
            Ok(resolved) => *value = Value::String(resolved),
            Err(_) => {
                tracing::warn!(param = %key, variable = %name, "router: environment variable is not set");
                *value = Value::Null;
            }
        }
    }
}

/// LiteLLM's `Router.generate_model_id`: SHA-256 (hex) of the group name followed by each
/// param's key and value, values rendered as Python's `str()` (dicts as `json.dumps`), so
/// the ids match LiteLLM's for the same config.
#[must_use]
pub fn generate_model_id(model_group: &str, litellm_params: &Map<String, Value>) -> String {
    let mut text = String::from(model_group);
    for (key, value) in litellm_params {
        text.push_str(key);
        match value {
            Value::String(s) => text.push_str(s),
            Value::Object(_) => python_json(value, &mut text),
            other => python_str(other, &mut text),
        }
    }
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Python's `str()` / `repr()` of a JSON-like value.
fn python_str(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    out.push_str(&format!("{f:.1}"));
                } else {
                    out.push_str(&f.to_string());
                }
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => {
            out.push('\'');
            out.push_str(&s.replace('\\', "\\\\").replace('\'', "\\'"));
            out.push('\'');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                python_str(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                python_str(&Value::String(key.clone()), out);
                out.push_str(": ");
                python_str(item, out);
            }
            out.push('}');
        }
    }
}

/// Python's `json.dumps` with its default separators (`", "`, `": "`) and `ensure_ascii`.
fn python_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(_) => python_str(value, out),
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut buffer = [0_u16; 2];
                        for unit in c.encode_utf16(&mut buffer) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                python_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                python_json(&Value::String(key.clone()), out);
                out.push_str(": ");
                python_json(item, out);
            }
            out.push('}');
        }
    }
}

/// A latency sample: when, seconds per output token (or per call), and time to first token.
#[derive(Debug, Clone, Copy)]
pub struct LatencySample {
    pub at_ms: u64,
    pub latency: f64,
    pub ttft: Option<f64>,
}

/// The last health probe of a deployment.
#[derive(Debug, Clone, Serialize)]
pub struct HealthStatus {
    pub healthy: bool,
    pub latency_ms: f64,
    pub error: Option<String>,
    pub checked_at_ms: u64,
}

/// Live state of one deployment. Reads are lock-free (atomics) so a routing decision over
/// many deployments stays in the microseconds; writes take a short, uncontended lock.
#[derive(Debug, Default)]
pub struct DeploymentState {
    /// Requests in flight from this instance (least-busy).
    pub active: AtomicI64,
    /// The minute window the `local_*` counters belong to.
    window: AtomicU64,
    local_requests: AtomicU64,
    local_tokens: AtomicU64,
    /// The last view of the shared (Redis) counters for `shared_window`, when Redis is used.
    shared_window: AtomicU64,
    shared_requests: AtomicU64,
    shared_tokens: AtomicU64,
    /// Set while the shared view is authoritative (Redis reachable).
    pub(crate) shared: AtomicBool,
    /// Epoch ms until which the deployment is cooling down (0: not cooling down).
    cooldown_until: AtomicU64,
    /// Epoch ms until which the limiter has no room on this deployment (its rpm or tpm
    /// window is full, here or on another instance); 0: not known to be full.
    limited_until: AtomicU64,
    /// Last successes / failures in the current minute (the failure-rate cooldown rule).
    outcome_window: AtomicU64,
    successes: AtomicU64,
    failures: AtomicU64,
    write: Mutex<()>,
    latency: Mutex<VecDeque<LatencySample>>,
    /// Latency samples from other instances (read from Redis), newest first.
    shared_latency: Mutex<Vec<LatencySample>>,
    health: Mutex<Option<HealthStatus>>,
    /// Fail counters for `allowed_fails` per suffix, with their expiry (epoch ms).
    fails: Mutex<Vec<(String, u64, u64)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Current-minute usage of a deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub rpm: u64,
    pub tpm: u64,
}

impl DeploymentState {
    /// Requests and tokens used in the current minute (the shared view when Redis is used).
    #[must_use]
    pub fn usage(&self, now_ms: u64) -> Usage {
        let minute = minute_of(now_ms);
        let local = if self.window.load(Ordering::Acquire) == minute {
            Usage {
                rpm: self.local_requests.load(Ordering::Relaxed),
                tpm: self.local_tokens.load(Ordering::Relaxed),
            }
        } else {
            Usage::default()
        };
        if self.shared.load(Ordering::Relaxed)
            && self.shared_window.load(Ordering::Acquire) == minute
        {
            Usage {
                rpm: local.rpm.max(self.shared_requests.load(Ordering::Relaxed)),
                tpm: local.tpm.max(self.shared_tokens.load(Ordering::Relaxed)),
            }
        } else {
            local
        }
    }

    fn roll(&self, minute: u64) {
        if self.window.load(Ordering::Acquire) != minute {
            self.local_requests.store(0, Ordering::Relaxed);
            self.local_tokens.store(0, Ordering::Relaxed);
            self.window.store(minute, Ordering::Release);
        }
    }

    /// Count one request against the rpm limit unless it is reached; `false` when full.
    pub fn try_reserve_request(&self, limit: Option<u64>, now_ms: u64) -> bool {
        let _guard = lock(&self.write);
        let minute = minute_of(now_ms);
        self.roll(minute);
        if let Some(limit) = limit {
            if self.usage(now_ms).rpm >= limit {
                return false;
            }
        }
        self.local_requests.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Count tokens a call used.
    pub fn add_tokens(&self, tokens: u64, now_ms: u64) {
        let _guard = lock(&self.write);
        self.roll(minute_of(now_ms));
        self.local_tokens.fetch_add(tokens, Ordering::Relaxed);
    }

    /// Record the shared counters read from (or returned by) Redis.
    pub fn set_shared_usage(&self, minute: u64, requests: Option<u64>, tokens: Option<u64>) {
        let _guard = lock(&self.write);
        if self.shared_window.load(Ordering::Acquire) != minute {
            self.shared_requests.store(0, Ordering::Relaxed);
            self.shared_tokens.store(0, Ordering::Relaxed);
            self.shared_window.store(minute, Ordering::Release);
        }
        // A minute's counters only grow: a read older than the limiter's last answer must not
        // lower the view.
        if let Some(requests) = requests {
            self.shared_requests.fetch_max(requests, Ordering::Relaxed);
        }
        if let Some(tokens) = tokens {
            self.shared_tokens.fetch_max(tokens, Ordering::Relaxed);
        }
    }

    /// Epoch ms the limiter frees room on this deployment, if it is full at `now_ms`.
    #[must_use]
    pub fn limited_until(&self, now_ms: u64) -> Option<u64> {
        pending_until(&self.limited_until, now_ms)
    }

    /// The limiter refused this deployment: skip it until `until_ms`.
    pub fn set_limited_until(&self, until_ms: u64) {
        self.limited_until.fetch_max(until_ms, Ordering::Relaxed);
    }

    /// Epoch ms the cooldown ends, if cooling down at `now_ms`.
    #[must_use]
    pub fn cooldown_until(&self, now_ms: u64) -> Option<u64> {
        pending_until(&self.cooldown_until, now_ms)
    }

    /// Cool down until `until_ms` (an earlier end never shortens a running cooldown).
    pub fn cool_down_until(&self, until_ms: u64) {
        self.cooldown_until.fetch_max(until_ms, Ordering::Relaxed);
    }

    /// End a cooldown (`set_model_list` keeps state; tests and admin resets use this).
    pub fn clear_cooldown(&self) {
        self.cooldown_until.store(0, Ordering::Relaxed);
    }

    /// Count a success or failure for the failure-rate rule; returns `(successes, failures)`
    /// of the current minute.
    pub fn record_outcome(&self, success: bool, now_ms: u64) -> (u64, u64) {
        let _guard = lock(&self.write);
        let minute = minute_of(now_ms);
        if self.outcome_window.load(Ordering::Relaxed) != minute {
            self.successes.store(0, Ordering::Relaxed);
            self.failures.store(0, Ordering::Relaxed);
            self.outcome_window.store(minute, Ordering::Relaxed);
        }
        if success {
            self.successes.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        (
            self.successes.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed),
        )
    }

    /// Increment the local `allowed_fails` counter of `suffix` (expiring `ttl` after its
    /// first failure, as LiteLLM's cache key with a TTL); returns the new count.
    pub fn increment_fails(&self, suffix: &str, ttl: Duration, now_ms: u64) -> u64 {
        let mut fails = lock(&self.fails);
        fails.retain(|(_, _, expires)| *expires > now_ms);
        if let Some(entry) = fails.iter_mut().find(|(name, _, _)| name == suffix) {
            entry.1 += 1;
            return entry.1;
        }
        let expires = now_ms + u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX / 2);
        fails.push((suffix.to_owned(), 1, expires));
        1
    }

    /// Add a latency sample, keeping the newest `max` within `ttl`.
    pub fn add_latency(&self, sample: LatencySample, max: usize, ttl_ms: u64) {
        let mut samples = lock(&self.latency);
        samples.push_front(sample);
        samples.truncate(max.max(1));
        let oldest = sample.at_ms.saturating_sub(ttl_ms);
        samples.retain(|s| s.at_ms >= oldest);
    }

    /// Replace the samples other instances reported.
    pub fn set_shared_latency(&self, samples: Vec<LatencySample>) {
        *lock(&self.shared_latency) = samples;
    }

    /// Average latency (or time to first token, for streams, when known) within `ttl`,
    /// over this instance's and the shared samples; `None` without samples.
    #[must_use]
    pub fn average_latency(
        &self,
        stream: bool,
        now_ms: u64,
        ttl_ms: u64,
        max: usize,
    ) -> Option<f64> {
        let oldest = now_ms.saturating_sub(ttl_ms);
        let local = lock(&self.latency);
        let shared = lock(&self.shared_latency);
        let mut total = 0.0;
        let mut count = 0_usize;
        for sample in local
            .iter()
            .chain(shared.iter())
            .filter(|s| s.at_ms >= oldest)
        {
            if count >= max.max(1) * 2 {
                break;
            }
            let value = if stream {
                sample.ttft.unwrap_or(sample.latency)
            } else {
                sample.latency
            };
            total += value;
            count += 1;
        }
        (count > 0).then(|| total / count as f64)
    }

    /// This instance's latency samples, newest first.
    #[must_use]
    pub fn latency_samples(&self) -> Vec<LatencySample> {
        lock(&self.latency).iter().copied().collect()
    }

    pub fn set_health(&self, status: HealthStatus) {
        *lock(&self.health) = Some(status);
    }

    #[must_use]
    pub fn health(&self) -> Option<HealthStatus> {
        lock(&self.health).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn model_id_matches_litellm() {
        // Router.generate_model_id("gpt-4o", {"model": "openai/gpt-4o", "rpm": 600,
        // "weight": 0.5, "stream": True, "extra": {"a": 1}}) in LiteLLM 1.104: sha256 of
        // "gpt-4omodelopenai/gpt-4orpm600weight0.5streamTrueextra{\"a\": 1}".
        let params = map(json!({"model": "openai/gpt-4o", "rpm": 600, "weight": 0.5,
                                "stream": true, "extra": {"a": 1}}));
        let expected_text = "gpt-4omodelopenai/gpt-4orpm600weight0.5streamTrueextra{\"a\": 1}";
        let digest = Sha256::digest(expected_text.as_bytes());
        let expected: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(generate_model_id("gpt-4o", &params), expected);
        // Ids LiteLLM 1.104's Router.generate_model_id returned for these params.
        let observed = map(json!({"model": "openai/gpt-4o", "mock_response": "hi"}));
        assert_eq!(
            generate_model_id("g", &observed),
            "a7c945c1d2b9c000806413a43e12eeb5d6dc14e42aca36cafcaf1771d03186ae"
        );
        let observed = map(json!({"model": "openai/gpt-4o", "rpm": 600, "weight": 0.5,
            "stream": true, "extra": {"a": 1, "b": "\u{e9}"}, "l": [1, "x"], "t": 1.0}));
        assert_eq!(
            generate_model_id("g", &observed),
            "45c43a77b9d6e0cc772f355b38397033265607d99dca56ef3dd8bf40e368c38a"
        );
        // Floats with no fraction render as Python does ("1.0"), lists as repr.
        let mut text = String::new();
        python_str(&json!(1.0), &mut text);
        python_str(&json!(["a", 2]), &mut text);
        assert_eq!(text, "1.0['a', 2]");
    }

    #[test]
    fn wildcard_capture() {
        assert_eq!(
            capture("anthropic/*", "anthropic/claude-x"),
            Some("claude-x")
        );
        assert_eq!(capture("*", "gpt-4o"), Some("gpt-4o"));
        assert_eq!(capture("openai/gpt-4*", "openai/gpt-4o"), Some("o"));
        assert_eq!(capture("anthropic/*", "openai/gpt-4o"), None);
    }

    #[test]
    fn deployment_reads_routing_fields_and_env() {
        let config = DeploymentConfig {
            model_name: "anthropic/*".into(),
            litellm_params: map(json!({"model": "anthropic/*", "rpm": 10, "weight": 2,
                                       "api_key": "os.environ/PATH",
                                       "api_base": "os.environ/LLMRELAY_ROUTER_UNSET_VARIABLE",
                                       "order": 1})),
            model_info: None,
            rpm: None,
            tpm: None,
        };
        let deployment = Deployment::from_config(&config, "model_list[0]").unwrap();
        assert_eq!(deployment.rpm, Some(10));
        assert_eq!(deployment.weight, Some(2.0));
        assert_eq!(deployment.order, Some(1));
        assert_eq!(
            deployment.call_params["api_key"].as_str(),
            std::env::var("PATH").ok().as_deref()
        );
        assert_eq!(deployment.call_params["api_base"], Value::Null);
        assert!(!deployment.call_params.contains_key("rpm"));
        assert_eq!(
            deployment.upstream_model("anthropic/claude-x"),
            "anthropic/claude-x"
        );
        assert_eq!(deployment.model_info["id"].as_str().map(str::len), Some(64));
        let bad = DeploymentConfig {
            model_name: "a".into(),
            litellm_params: map(json!({"model": "openai/a", "rpm": "lots"})),
            model_info: None,
            rpm: None,
            tpm: None,
        };
        let error = Deployment::from_config(&bad, "model_list[3]").unwrap_err();
        assert!(error.message().contains("model_list[3].litellm_params.rpm"));
    }

    #[test]
    fn rpm_and_tpm_beside_litellm_params_count_as_limits() {
        // LiteLLM reads `rpm`/`tpm` from the model_list entry too; inside litellm_params wins.
        let config = DeploymentConfig {
            model_name: "a".into(),
            litellm_params: map(json!({"model": "openai/a", "tpm": 7})),
            model_info: None,
            rpm: Some(json!(90)),
            tpm: Some(json!(5)),
        };
        let deployment = Deployment::from_config(&config, "model_list[0]").unwrap();
        assert_eq!(deployment.rpm, Some(90));
        assert_eq!(deployment.tpm, Some(7));
        let bad = DeploymentConfig {
            rpm: Some(json!("lots")),
            ..config
        };
        let error = Deployment::from_config(&bad, "model_list[2]").unwrap_err();
        assert!(error.message().contains("model_list[2].rpm"));
    }

    #[test]
    fn usage_window_and_reservation() {
        let state = DeploymentState::default();
        let now = 120_000;
        assert!(state.try_reserve_request(Some(2), now));
        assert!(state.try_reserve_request(Some(2), now));
        assert!(!state.try_reserve_request(Some(2), now));
        state.add_tokens(50, now);
        assert_eq!(state.usage(now), Usage { rpm: 2, tpm: 50 });
        // The next minute starts empty.
        assert_eq!(state.usage(now + 60_000), Usage::default());
        assert!(state.try_reserve_request(Some(2), now + 60_000));
    }

    #[test]
    fn cooldown_and_fail_counters() {
        let state = DeploymentState::default();
        state.cool_down_until(5_000);
        assert_eq!(state.cooldown_until(1_000), Some(5_000));
        assert_eq!(state.cooldown_until(5_000), None);
        assert_eq!(state.increment_fails("x", Duration::from_secs(1), 0), 1);
        assert_eq!(state.increment_fails("x", Duration::from_secs(1), 500), 2);
        assert_eq!(state.increment_fails("x", Duration::from_secs(1), 1_500), 1);
    }
}
