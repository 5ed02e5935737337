//! Router configuration in LiteLLM's shapes (`model_list` + `router_settings`), deserialized
//! with the path of a bad field in the error.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind, Result};

/// One `model_list` entry: `{"model_name", "litellm_params", "model_info"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct DeploymentConfig {
    /// The public model group name (may be a wildcard such as `anthropic/*` or `*`).
    pub model_name: String,
    /// Everything `completion()` accepts, plus routing fields (`rpm`, `tpm`, `weight`, `order`).
    pub litellm_params: Map<String, Value>,
    /// `id`, `mode`, `max_input_tokens`, `allowed_fails`, `allowed_fails_policy`, `cooldown_time` …
    #[serde(default)]
    pub model_info: Option<Map<String, Value>>,
    /// `rpm` / `tpm` given beside `litellm_params` (LiteLLM reads both places; inside wins).
    #[serde(default)]
    pub rpm: Option<Value>,
    #[serde(default)]
    pub tpm: Option<Value>,
}

/// The routing strategies LiteLLM names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum RoutingStrategy {
    #[default]
    #[serde(rename = "simple-shuffle")]
    SimpleShuffle,
    #[serde(rename = "least-busy")]
    LeastBusy,
    #[serde(rename = "usage-based-routing", alias = "usage-based-routing-v2")]
    UsageBased,
    #[serde(rename = "latency-based-routing")]
    LatencyBased,
    #[serde(rename = "cost-based-routing")]
    CostBased,
}

impl RoutingStrategy {
    /// LiteLLM's name of the strategy.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SimpleShuffle => "simple-shuffle",
            Self::LeastBusy => "least-busy",
            Self::UsageBased => "usage-based-routing-v2",
            Self::LatencyBased => "latency-based-routing",
            Self::CostBased => "cost-based-routing",
        }
    }
}

/// `routing_strategy_args` (the latency strategy's knobs; other keys are ignored as LiteLLM does).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RoutingStrategyArgs {
    /// Seconds a latency sample stays relevant.
    pub ttl: f64,
    /// Deployments within `lowest × (1 + buffer)` are picked among at random.
    pub lowest_latency_buffer: f64,
    /// Samples kept per deployment.
    pub max_latency_list_size: usize,
}

impl Default for RoutingStrategyArgs {
    fn default() -> Self {
        Self {
            ttl: 3600.0,
            lowest_latency_buffer: 0.0,
            max_latency_list_size: 10,
        }
    }
}

/// LiteLLM's `RetryPolicy`: retries per exception class (`None`: the router's `num_retries`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[expect(non_snake_case, reason = "LiteLLM's field names")]
pub struct RetryPolicy {
    pub BadRequestErrorRetries: Option<u32>,
    pub AuthenticationErrorRetries: Option<u32>,
    pub TimeoutErrorRetries: Option<u32>,
    pub RateLimitErrorRetries: Option<u32>,
    pub ContentPolicyViolationErrorRetries: Option<u32>,
    pub InternalServerErrorRetries: Option<u32>,
    pub ServiceUnavailableErrorRetries: Option<u32>,
    pub NotFoundErrorRetries: Option<u32>,
    pub DefaultRetries: Option<u32>,
}

impl RetryPolicy {
    /// Retries configured for an error kind (LiteLLM matches on the exception class, so a
    /// context-window error counts as a bad request and a bad gateway as a server error).
    #[must_use]
    pub fn for_kind(&self, kind: ErrorKind) -> Option<u32> {
        let specific = match kind {
            ErrorKind::ContentPolicyViolation => self
                .ContentPolicyViolationErrorRetries
                .or(self.BadRequestErrorRetries),
            ErrorKind::BadRequest
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::UnsupportedParams => self.BadRequestErrorRetries,
            ErrorKind::Authentication => self.AuthenticationErrorRetries,
            ErrorKind::Timeout => self.TimeoutErrorRetries,
            ErrorKind::RateLimit => self.RateLimitErrorRetries,
            ErrorKind::InternalServer => self.InternalServerErrorRetries,
            ErrorKind::ServiceUnavailable => self.ServiceUnavailableErrorRetries,
            ErrorKind::NotFound => self.NotFoundErrorRetries,
            _ => None,
        };
        specific.or(self.DefaultRetries)
    }
}

/// LiteLLM's `AllowedFailsPolicy`: failures per minute tolerated per exception class.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[expect(non_snake_case, reason = "LiteLLM's field names")]
pub struct AllowedFailsPolicy {
    pub BadRequestErrorAllowedFails: Option<u32>,
    pub AuthenticationErrorAllowedFails: Option<u32>,
    pub TimeoutErrorAllowedFails: Option<u32>,
    pub RateLimitErrorAllowedFails: Option<u32>,
    pub ContentPolicyViolationErrorAllowedFails: Option<u32>,
    pub InternalServerErrorAllowedFails: Option<u32>,
    pub ServiceUnavailableErrorAllowedFails: Option<u32>,
    pub BadGatewayErrorAllowedFails: Option<u32>,
    pub NotFoundErrorAllowedFails: Option<u32>,
}

impl AllowedFailsPolicy {
    /// `(allowed fails, counter suffix)` for an error kind, as LiteLLM's class matching.
    #[must_use]
    pub fn for_kind(&self, kind: ErrorKind) -> Option<(u32, &'static str)> {
        match kind {
            ErrorKind::ContentPolicyViolation => self
                .ContentPolicyViolationErrorAllowedFails
                .map(|n| (n, "ContentPolicyViolationError"))
                .or_else(|| {
                    self.BadRequestErrorAllowedFails
                        .map(|n| (n, "BadRequestError"))
                }),
            ErrorKind::BadRequest
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::UnsupportedParams => self
                .BadRequestErrorAllowedFails
                .map(|n| (n, "BadRequestError")),
            ErrorKind::Authentication => self
                .AuthenticationErrorAllowedFails
                .map(|n| (n, "AuthenticationError")),
            ErrorKind::Timeout => self.TimeoutErrorAllowedFails.map(|n| (n, "Timeout")),
            ErrorKind::RateLimit => self
                .RateLimitErrorAllowedFails
                .map(|n| (n, "RateLimitError")),
            ErrorKind::InternalServer => self
                .InternalServerErrorAllowedFails
                .map(|n| (n, "InternalServerError")),
            ErrorKind::ServiceUnavailable => self
                .ServiceUnavailableErrorAllowedFails
                .map(|n| (n, "ServiceUnavailableError")),
            ErrorKind::BadGateway => self
                .BadGatewayErrorAllowedFails
                .map(|n| (n, "BadGatewayError")),
            ErrorKind::NotFound => self.NotFoundErrorAllowedFails.map(|n| (n, "NotFoundError")),
            _ => None,
        }
    }
}

/// A `model_group_alias` value: a group name or `{"model": group, "hidden": bool}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AliasTarget {
    Group(String),
    Detailed {
        model: String,
        #[serde(default)]
        hidden: bool,
    },
}

impl AliasTarget {
    #[must_use]
    pub fn group(&self) -> &str {
        match self {
            Self::Group(group) | Self::Detailed { model: group, .. } => group,
        }
    }

    #[must_use]
    pub fn hidden(&self) -> bool {
        matches!(self, Self::Detailed { hidden: true, .. })
    }
}

/// A fallback list in LiteLLM's shape: `[{"group": ["fallback1", "fallback2"]}, ...]`.
pub type FallbackList = Vec<HashMap<String, Vec<String>>>;

/// `Router(...)` keyword arguments / the proxy's `router_settings` plus `model_list`.
///
/// Unknown keys are accepted and kept in `extra` (LiteLLM's Router takes many settings this
/// router has no use for, such as `set_verbose` or `cache_responses`); a known key with a
/// value of the wrong type is an error naming its path.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RouterConfig {
    pub model_list: Vec<DeploymentConfig>,
    pub routing_strategy: RoutingStrategy,
    pub routing_strategy_args: RoutingStrategyArgs,
    /// Retries per model group (LiteLLM's default: 2).
    pub num_retries: Option<u32>,
    /// Fallback hops at most (LiteLLM's default: 5).
    pub max_fallbacks: Option<u32>,
    /// Default `timeout` / `stream_timeout` for calls (seconds) when neither the request nor
    /// the deployment sets one.
    pub timeout: Option<f64>,
    pub stream_timeout: Option<f64>,
    /// Minimum seconds to wait before a retry.
    pub retry_after: f64,
    pub retry_policy: Option<RetryPolicy>,
    pub model_group_retry_policy: HashMap<String, RetryPolicy>,
    pub allowed_fails: Option<u32>,
    pub allowed_fails_policy: Option<AllowedFailsPolicy>,
    /// Seconds a deployment stays out after it is cooled down (LiteLLM's default: 5).
    pub cooldown_time: Option<f64>,
    pub disable_cooldowns: bool,
    pub fallbacks: FallbackList,
    pub context_window_fallbacks: FallbackList,
    pub content_policy_fallbacks: FallbackList,
    pub default_fallbacks: Vec<String>,
    /// LiteLLM's `expose_router_debug_in_errors` (default on): the final error's message
    /// ends with what the fallbacks did; `false` leaves that note out.
    pub expose_router_debug_in_errors: Option<bool>,
    pub model_group_alias: HashMap<String, AliasTarget>,
    pub enable_pre_call_checks: bool,
    /// Skip deployments whose last health check failed (while another one is healthy).
    pub enable_health_check_routing: bool,
    /// LiteLLM's tag routing: a request's tags choose among its group's deployments by
    /// their `litellm_params.tags` (a deployment's `model_info.enable_tag_filtering`
    /// overrides it for its group).
    pub enable_tag_filtering: bool,
    /// A deployment matches when it carries any of the request's tags (`true`, LiteLLM's
    /// default) or every one of them (`false`).
    pub tag_filtering_match_any: Option<bool>,
    /// Request tags starting with this text route as the rest of the tag (`"route:"` makes
    /// `route:eu` route as `eu`), and such a tag always counts as a routing tag.
    pub tag_routing_prefix: Option<String>,
    /// Parameters merged into every call (under the deployment's and the request's).
    pub default_litellm_params: Map<String, Value>,
    pub default_priority: Option<i64>,
    pub redis_url: Option<String>,
    pub redis_host: Option<String>,
    pub redis_port: Option<u16>,
    pub redis_password: Option<String>,
    pub redis_db: Option<i64>,
    /// How often shared state is exchanged with Redis, in milliseconds (default 100).
    pub redis_sync_interval_ms: Option<u64>,
    /// Seconds a request waits in the priority queue when every deployment of its group is at
    /// its rpm/tpm limit (default 10; 0 fails at once as LiteLLM does).
    pub max_queue_wait: Option<f64>,
    /// Requests waiting at most, per router (default 1000).
    pub max_queue_size: Option<usize>,
    /// Seconds to wait for a cooled-down deployment to return when every deployment of the
    /// group is cooling down (default: the cooldown time, at most 10).
    pub max_cooldown_wait: Option<f64>,
    pub background_health_checks: bool,
    /// Seconds between background health checks (default 300, LiteLLM's proxy default).
    pub health_check_interval: Option<f64>,
    /// Seconds one health probe may take (default 30).
    pub health_check_timeout: Option<f64>,
    /// How the deployment limiter behaves when Redis fails, and how long it waits for a reply
    /// (the proxy's `general_settings.rate_limits`; not a `router_settings` key). `None`: the
    /// limiter's defaults.
    #[serde(skip)]
    pub limits_on_failure: Option<(llmrelay_limits::FailPolicy, std::time::Duration)>,
    /// Settings LiteLLM accepts that this router does not use.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RouterConfig {
    /// Parse `Router(**kwargs)` / `router_settings` (+ `model_list`) from JSON.
    ///
    /// # Errors
    /// `BadRequest` naming the path of the bad field (e.g. `model_list[1].litellm_params`).
    pub fn from_value(mut value: Value) -> Result<Self> {
        resolve_settings_env(&mut value);
        let config: Self = serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().to_string();
            Error::bad_request(format!("Invalid router config: {path}: {}", error.inner()))
                .with_param(path)
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        for (index, deployment) in self.model_list.iter().enumerate() {
            match deployment.litellm_params.get("model") {
                Some(Value::String(model)) if !model.is_empty() => {}
                _ => {
                    let path = format!("model_list[{index}].litellm_params.model");
                    return Err(Error::bad_request(format!(
                        "Invalid router config: {path}: a non-empty string is required"
                    ))
                    .with_param(path));
                }
            }
            if deployment.model_name.is_empty() {
                let path = format!("model_list[{index}].model_name");
                return Err(Error::bad_request(format!(
                    "Invalid router config: {path}: must not be empty"
                ))
                .with_param(path));
            }
        }
        let seconds = [
            ("retry_after", Some(self.retry_after)),
            ("cooldown_time", self.cooldown_time),
            ("timeout", self.timeout),
            ("stream_timeout", self.stream_timeout),
            ("max_queue_wait", self.max_queue_wait),
            ("max_cooldown_wait", self.max_cooldown_wait),
            ("health_check_interval", self.health_check_interval),
            ("health_check_timeout", self.health_check_timeout),
            (
                "routing_strategy_args.ttl",
                Some(self.routing_strategy_args.ttl),
            ),
            (
                "routing_strategy_args.lowest_latency_buffer",
                Some(self.routing_strategy_args.lowest_latency_buffer),
            ),
        ];
        for (name, value) in seconds {
            if let Some(value) = value {
                if !value.is_finite() || value < 0.0 {
                    return Err(Error::bad_request(format!(
                        "Invalid router config: {name}: must be a non-negative number"
                    ))
                    .with_param(name));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn cooldown_time(&self) -> Duration {
        Duration::from_secs_f64(self.cooldown_time.unwrap_or(DEFAULT_COOLDOWN_SECONDS))
    }

    /// Where Redis is, if configured: `redis_url` wins, else host/port/password.
    #[must_use]
    pub fn redis_target(&self) -> Option<String> {
        if let Some(url) = &self.redis_url {
            return Some(url.clone());
        }
        let host = self.redis_host.as_ref()?;
        let port = self.redis_port.unwrap_or(6379);
        let auth = self
            .redis_password
            .as_ref()
            .map(|password| {
                format!(
                    ":{}@",
                    llmrelay_core::redis_target::percent_encode(password)
                )
            })
            .unwrap_or_default();
        let db = self.redis_db.map(|db| format!("/{db}")).unwrap_or_default();
        Some(format!("redis://{auth}{host}:{port}{db}"))
    }
}

/// Proxy configs give Redis settings as `os.environ/NAME` and ports as strings: resolve and
/// convert them before typing, as LiteLLM's proxy does.
fn resolve_settings_env(value: &mut Value) {
    let Value::Object(settings) = value else {
        return;
    };
    for key in ["redis_host", "redis_port", "redis_password", "redis_url"] {
        let Some(Value::String(text)) = settings.get(key) else {
            continue;
        };
        let resolved = match text.strip_prefix("os.environ/") {
            Some(name) => match std::env::var(name) {
                Ok(resolved) => Value::String(resolved),
                Err(_) => {
                    tracing::warn!(
                        setting = key,
                        variable = name,
                        "router: environment variable is not set"
                    );
                    Value::Null
                }
            },
            None => Value::String(text.clone()),
        };
        let resolved = match (key, resolved) {
            ("redis_port", Value::String(port)) => port
                .trim()
                .parse::<u16>()
                .map_or(Value::String(port), Value::from),
            (_, other) => other,
        };
        settings.insert(key.to_owned(), resolved);
    }
}

/// LiteLLM's `DEFAULT_COOLDOWN_TIME_SECONDS`.
pub const DEFAULT_COOLDOWN_SECONDS: f64 = 5.0;
/// LiteLLM's default retries (`openai.DEFAULT_MAX_RETRIES`).
pub const DEFAULT_NUM_RETRIES: u32 = 2;
/// LiteLLM's `ROUTER_MAX_FALLBACKS`.
pub const DEFAULT_MAX_FALLBACKS: u32 = 5;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_litellm_shapes() {
        let config = RouterConfig::from_value(json!({
            "model_list": [{"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "rpm": 10}}],
            "routing_strategy": "usage-based-routing-v2",
            "fallbacks": [{"gpt-4o": ["claude"]}],
            "model_group_alias": {"gpt4": "gpt-4o", "hidden": {"model": "gpt-4o", "hidden": true}},
            "retry_policy": {"RateLimitErrorRetries": 3},
            "set_verbose": true
        }))
        .unwrap();
        assert_eq!(config.routing_strategy, RoutingStrategy::UsageBased);
        assert_eq!(config.fallbacks[0]["gpt-4o"], vec!["claude".to_owned()]);
        assert!(config.model_group_alias["hidden"].hidden());
        assert_eq!(
            config.retry_policy.unwrap().for_kind(ErrorKind::RateLimit),
            Some(3)
        );
        assert!(config.extra.contains_key("set_verbose"));
    }

    #[test]
    fn errors_name_the_field_path() {
        let error = RouterConfig::from_value(json!({
            "model_list": [
                {"model_name": "a", "litellm_params": {"model": "openai/a"}},
                {"model_name": "b", "litellm_params": 3}
            ]
        }))
        .unwrap_err();
        assert!(
            error.message().contains("model_list[1].litellm_params"),
            "{error}"
        );
        let error = RouterConfig::from_value(json!({"routing_strategy": "fastest"})).unwrap_err();
        assert!(error.message().contains("routing_strategy"), "{error}");
        let error =
            RouterConfig::from_value(json!({"retry_policy": {"RateLimitRetries": 1}})).unwrap_err();
        assert!(error.message().contains("retry_policy"), "{error}");
        let error = RouterConfig::from_value(json!({
            "model_list": [{"model_name": "a", "litellm_params": {"api_key": "k"}}]
        }))
        .unwrap_err();
        assert!(
            error
                .message()
                .contains("model_list[0].litellm_params.model"),
            "{error}"
        );
        let error = RouterConfig::from_value(json!({"cooldown_time": -1})).unwrap_err();
        assert!(error.message().contains("cooldown_time"), "{error}");
    }

    #[test]
    fn redis_target_from_parts() {
        let config = RouterConfig::from_value(
            json!({"redis_host": "h", "redis_port": 6380, "redis_password": "p@ss"}),
        )
        .unwrap();
        assert_eq!(
            config.redis_target().as_deref(),
            Some("redis://:p%40ss@h:6380")
        );
        let config = RouterConfig::from_value(
            json!({"redis_host": "os.environ/LLMRELAY_UNSET_VARIABLE_X", "redis_port": "7000"}),
        )
        .unwrap();
        assert_eq!(config.redis_port, Some(7000));
        assert_eq!(config.redis_target(), None);
        let config = RouterConfig::from_value(json!({"redis_url": "rediss://x:1"})).unwrap();
        assert_eq!(config.redis_target().as_deref(), Some("rediss://x:1"));
    }
}
