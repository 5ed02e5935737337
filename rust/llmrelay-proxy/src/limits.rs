//! Rate limits in the proxy: where the counters live and what happens when Redis fails.
//!
//! The counters are shared through Redis when the config names one, as LiteLLM's proxy shares
//! them: `litellm_settings.cache: true` with a Redis `cache_params` (single node, `url`/`host`,
//! `redis_startup_nodes` for a Cluster, `sentinel_nodes` + `service_name` for Sentinel), else
//! the Router's `router_settings.redis_url` / `redis_host`. Our own block
//! `general_settings.rate_limits` can name Redis too and sets the failure policy:
//!
//! ```yaml
//! general_settings:
//!   rate_limits:
//!     redis_url: redis://10.0.0.5:6379      # or startup_nodes: [...] / sentinel_nodes: [...]
//!     on_redis_failure: {requests: fail_open, tokens: fail_open, max_parallel_requests: fail_open,
//!                        budget: fail_closed}
//!     redis_timeout_ms: 250
//!     window_seconds: 60                     # LiteLLM: LITELLM_RATE_LIMIT_WINDOW_SIZE
//!     default_estimated_output_tokens: 256
//! ```
//! Without Redis every instance counts alone.

use std::time::Duration;

use serde_json::{Map, Value};

use llmrelay_governance::layers::admit::limits::LimitSettings;
use llmrelay_limits::{FailMode, FailPolicy, Health, Limiter, LimiterConfig, RedisTarget};

use crate::config::ProxyConfig;

/// `general_settings` keys this module reads.
pub const SETTINGS: &[&str] = &[
    "max_parallel_requests",
    "global_max_parallel_requests",
    "rate_limits",
];

fn invalid(path: &str, message: &str) -> String {
    format!("Invalid config: general_settings.{path}: {message}")
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `os.environ/NAME` resolved; `None` when the variable is unset.
fn resolved(value: &Value) -> Option<String> {
    let text = text(value)?;
    match text.strip_prefix("os.environ/") {
        Some(name) => std::env::var(name).ok().filter(|v| !v.is_empty()),
        None => Some(text),
    }
}

fn positive(general: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match general.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => resolved(value)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|v| *v > 0)
            .map(Some)
            .ok_or_else(|| invalid(key, "must be a positive integer")),
    }
}

/// Redis as a settings block names it (`cache_params`, `rate_limits`, `router_settings`).
fn target_of(block: &Map<String, Value>) -> Option<RedisTarget> {
    RedisTarget::from_settings(block, llmrelay_core::redis_target::Fallback::BlockOnly)
}

/// Where the proxy's rate-limit counters live: `rate_limits`, else a Redis response cache,
/// else the Router's Redis.
fn redis_target(config: &ProxyConfig, block: Option<&Map<String, Value>>) -> Option<RedisTarget> {
    if let Some(target) = block.and_then(target_of) {
        return Some(target);
    }
    let litellm = &config.litellm_settings;
    if litellm.cache == Some(true) {
        if let Some(params) = &litellm.cache_params {
            let kind = params
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("redis");
            if kind == "redis" || kind == "dual" {
                if let Some(target) = target_of(params) {
                    return Some(target);
                }
            }
        }
    }
    target_of(&config.router_settings)
}

fn fail_mode(value: &Value, path: &str) -> Result<FailMode, String> {
    value
        .as_str()
        .and_then(FailMode::parse)
        .ok_or_else(|| invalid(path, "must be fail_open or fail_closed"))
}

/// The limiter and the stage's settings for this config.
///
/// # Errors
/// An invalid `max_parallel_requests`, `global_max_parallel_requests` or `rate_limits` field,
/// naming its path.
pub fn configure(config: &ProxyConfig) -> Result<(Limiter, LimitSettings), String> {
    let (limiter, settings) = settings(config)?;
    Ok((Limiter::new(limiter), settings))
}

/// The limiter's settings alone (the Router's deployment limiter takes their failure policy
/// and timeout).
///
/// # Errors
/// As [`configure`].
pub fn limiter_config(config: &ProxyConfig) -> Result<LimiterConfig, String> {
    settings(config).map(|(limiter, _)| limiter)
}

fn settings(config: &ProxyConfig) -> Result<(LimiterConfig, LimitSettings), String> {
    let general = &config.general_settings.other;
    let block = match general.get("rate_limits") {
        None | Some(Value::Null) => None,
        Some(Value::Object(block)) => Some(block),
        Some(_) => return Err(invalid("rate_limits", "must be a mapping")),
    };
    let mut limiter = LimiterConfig {
        redis: redis_target(config, block),
        ..LimiterConfig::default()
    };
    let mut settings = LimitSettings {
        default_max_parallel_requests: positive(general, "max_parallel_requests")?,
        global_max_parallel_requests: positive(general, "global_max_parallel_requests")?,
        ..LimitSettings::default()
    };
    // A call with a `priority` waits in its key's limits as long as the Router would queue it.
    if let Some(seconds) = config
        .router_settings
        .get("max_queue_wait")
        .and_then(resolved)
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        settings.max_queue_wait = Duration::from_secs_f64(seconds.min(3_600.0));
    }
    if let Some(seconds) = std::env::var("LITELLM_RATE_LIMIT_WINDOW_SIZE")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|v| *v > 0)
    {
        settings.window = Duration::from_secs(seconds);
    }
    if let Some(block) = block {
        let number = |key: &str| -> Result<Option<u64>, String> {
            positive(block, key)
                .map_err(|_| invalid(&format!("rate_limits.{key}"), "must be a positive integer"))
        };
        if let Some(seconds) = number("window_seconds")? {
            settings.window = Duration::from_secs(seconds);
        }
        if let Some(ms) = number("redis_timeout_ms")? {
            limiter.timeout = Duration::from_millis(ms);
        }
        if let Some(size) = number("pool_size")? {
            limiter.pool_size = usize::try_from(size).unwrap_or(1);
        }
        if let Some(tokens) = number("default_estimated_output_tokens")? {
            settings.default_output_tokens = tokens;
        }
        if let Some(seconds) = number("parallel_lease_seconds")? {
            limiter.lease = Duration::from_secs(seconds);
        }
        match block.get("on_redis_failure") {
            None | Some(Value::Null) => {}
            Some(Value::String(mode)) => {
                let mode = fail_mode(&Value::String(mode.clone()), "rate_limits.on_redis_failure")?;
                limiter.policy = FailPolicy {
                    requests: mode,
                    tokens: mode,
                    parallel: mode,
                    budget: mode,
                };
            }
            Some(Value::Object(modes)) => {
                let mut policy = FailPolicy::default();
                for (kind, value) in modes {
                    let path = format!("rate_limits.on_redis_failure.{kind}");
                    let mode = fail_mode(value, &path)?;
                    match kind.as_str() {
                        "requests" | "rpm" => policy.requests = mode,
                        "tokens" | "tpm" => policy.tokens = mode,
                        "max_parallel_requests" | "parallel" => policy.parallel = mode,
                        "budget" | "budgets" => policy.budget = mode,
                        _ => {
                            return Err(invalid(
                                &path,
                                "unknown limit kind (requests, tokens, max_parallel_requests, budget)",
                            ));
                        }
                    }
                }
                limiter.policy = policy;
            }
            Some(_) => {
                return Err(invalid(
                    "rate_limits.on_redis_failure",
                    "must be fail_open, fail_closed or a mapping per limit kind",
                ));
            }
        }
        for key in block.keys() {
            let known = [
                "redis_url",
                "url",
                "host",
                "port",
                "password",
                "username",
                "ssl",
                "db",
                "startup_nodes",
                "redis_startup_nodes",
                "sentinel_nodes",
                "sentinel_password",
                "service_name",
                "window_seconds",
                "redis_timeout_ms",
                "pool_size",
                "default_estimated_output_tokens",
                "parallel_lease_seconds",
                "on_redis_failure",
            ];
            if !known.contains(&key.as_str()) {
                return Err(invalid(&format!("rate_limits.{key}"), "unknown setting"));
            }
        }
    }
    Ok((limiter, settings))
}

/// The limiter's series, added to `/metrics` (before OpenMetrics' `# EOF`).
pub fn append_metrics(text: &mut String, health: &Health) {
    use std::fmt::Write as _;
    let mut series = String::new();
    if let Some(up) = health.redis_up {
        let _ = write!(
            series,
            "# HELP llmrelay_rate_limit_redis_up Rate-limit counters reachable in Redis (1), or counted by the failure policy (0).\n\
             # TYPE llmrelay_rate_limit_redis_up gauge\n\
             llmrelay_rate_limit_redis_up {}\n\
             # HELP llmrelay_rate_limit_redis_transitions Redis up/down transitions of the rate limiter.\n\
             # TYPE llmrelay_rate_limit_redis_transitions counter\n\
             llmrelay_rate_limit_redis_transitions_total {}\n\
             # HELP llmrelay_rate_limit_instances Proxy instances sharing the rate-limit counters.\n\
             # TYPE llmrelay_rate_limit_instances gauge\n\
             llmrelay_rate_limit_instances {}\n\
             # HELP llmrelay_rate_limit_fallback_calls Calls counted locally (fail_open) while Redis was unreachable.\n\
             # TYPE llmrelay_rate_limit_fallback_calls counter\n\
             llmrelay_rate_limit_fallback_calls_total {}\n\
             # HELP llmrelay_rate_limit_unavailable_refusals Calls refused (fail_closed) while Redis was unreachable.\n\
             # TYPE llmrelay_rate_limit_unavailable_refusals counter\n\
             llmrelay_rate_limit_unavailable_refusals_total {}\n",
            u8::from(up),
            health.transitions,
            health.instances,
            health.served_in_fallback,
            health.refused_unavailable,
        );
    }
    match text.rfind("# EOF") {
        Some(at) => text.insert_str(at, &series),
        None => text.push_str(&series),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> ProxyConfig {
        let dir = std::env::temp_dir().join(format!("llmrelay-limits-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.yaml");
        std::fs::write(&path, yaml).unwrap();
        let config = crate::config::RawConfig::load(&path)
            .unwrap()
            .resolve()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        config
    }

    const MODELS: &str =
        "model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o, api_key: k}\n";

    #[test]
    fn redis_comes_from_rate_limits_then_the_cache_then_the_router() {
        let (limiter, settings) = configure(&config(&format!(
            "{MODELS}router_settings: {{redis_host: r, redis_port: 7000, redis_password: p}}\ngeneral_settings: {{max_parallel_requests: 4, global_max_parallel_requests: 50}}\n"
        )))
        .unwrap();
        assert_eq!(
            limiter.config().redis,
            Some(RedisTarget::Single("redis://:p@r:7000".into()))
        );
        assert_eq!(settings.default_max_parallel_requests, Some(4));
        assert_eq!(settings.global_max_parallel_requests, Some(50));
        let (limiter, _) = configure(&config(&format!(
            "{MODELS}litellm_settings:\n  cache: true\n  cache_params: {{type: redis, host: c, port: 7005}}\nrouter_settings: {{redis_host: r}}\n"
        )))
        .unwrap();
        assert_eq!(
            limiter.config().redis,
            Some(RedisTarget::Single("redis://c:7005".into()))
        );
        let (limiter, _) = configure(&config(&format!(
            "{MODELS}general_settings:\n  rate_limits:\n    startup_nodes: [{{host: a, port: 7001}}, \"b:7002\"]\n"
        )))
        .unwrap();
        assert_eq!(
            limiter.config().redis,
            Some(RedisTarget::Cluster(vec![
                "redis://a:7001".into(),
                "redis://b:7002".into()
            ]))
        );
        let (limiter, _) = configure(&config(&format!(
            "{MODELS}general_settings:\n  rate_limits:\n    sentinel_nodes: [[s1, 26379]]\n    service_name: primary\n    on_redis_failure: {{requests: fail_closed}}\n    window_seconds: 10\n"
        )))
        .unwrap();
        assert!(matches!(
            &limiter.config().redis,
            Some(RedisTarget::Sentinel { service_name, .. }) if service_name == "primary"
        ));
        assert_eq!(limiter.config().policy.requests, FailMode::Closed);
        assert_eq!(limiter.config().policy.tokens, FailMode::Open);
        let (limiter, _) = configure(&config(MODELS)).unwrap();
        assert_eq!(limiter.config().redis, None);
    }

    #[tokio::test]
    async fn the_routers_deployment_limits_follow_the_rate_limits_failure_policy() {
        let config = config(&format!(
            "{MODELS}general_settings:\n  rate_limits:\n    on_redis_failure: fail_closed\n    redis_timeout_ms: 120\n"
        ));
        let dispatch = crate::routed::RouterDispatch::from_config(&config).unwrap();
        let limiter = dispatch.router().limiter_config();
        assert_eq!(limiter.policy.requests, FailMode::Closed);
        assert_eq!(limiter.policy.tokens, FailMode::Closed);
        assert_eq!(limiter.timeout, Duration::from_millis(120));
    }

    #[test]
    fn bad_settings_name_their_path() {
        let error = configure(&config(&format!(
            "{MODELS}general_settings:\n  rate_limits: {{on_redis_failure: {{tokens: maybe}}}}\n"
        )))
        .unwrap_err();
        assert!(
            error.contains("general_settings.rate_limits.on_redis_failure.tokens"),
            "{error}"
        );
        let error = configure(&config(&format!(
            "{MODELS}general_settings: {{max_parallel_requests: -1}}\n"
        )))
        .unwrap_err();
        assert!(
            error.contains("general_settings.max_parallel_requests"),
            "{error}"
        );
        let error = configure(&config(&format!(
            "{MODELS}general_settings: {{rate_limits: {{windw_seconds: 3}}}}\n"
        )))
        .unwrap_err();
        assert!(error.contains("rate_limits.windw_seconds"), "{error}");
    }
}
