//! The proxy's observability from its config: the request log (one line per request; JSON
//! with `json_logs: true` or `JSON_LOGS=true`) and the built-in integrations named in
//! `litellm_settings.callbacks` / `success_callback` / `failure_callback`, with
//! `turn_off_message_logging` and `redact_user_api_key_info` (see `llmrelay_observe`).
//! `prometheus` is the proxy's own `/metrics` (always served).

use llmrelay_observe::{Environment, Observe, ObserveSettings, RequestLogFormat};

use crate::config::ProxyConfig;

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// Whether log lines are JSON: `litellm_settings.json_logs`, else `JSON_LOGS`.
#[must_use]
pub fn json_logs(config: Option<&ProxyConfig>) -> bool {
    config
        .and_then(|c| c.litellm_settings.json_logs)
        .unwrap_or_else(|| env_flag("JSON_LOGS"))
}

/// The observe settings of `config`.
#[must_use]
pub fn settings(config: &ProxyConfig) -> ObserveSettings {
    let litellm = &config.litellm_settings;
    ObserveSettings {
        callbacks: litellm.callbacks.clone(),
        success_callback: litellm.success_callback.clone(),
        failure_callback: litellm.failure_callback.clone(),
        request_log: Some(if json_logs(Some(config)) {
            RequestLogFormat::Json
        } else {
            RequestLogFormat::Text
        }),
        turn_off_message_logging: litellm.turn_off_message_logging.unwrap_or(false),
        redact_user_api_key_info: litellm.redact_user_api_key_info.unwrap_or(false),
        environment: Environment::process(),
    }
}

/// Check the integrations' settings (start-up reports a missing key before serving).
///
/// # Errors
/// The first integration that cannot start.
pub fn check(config: &ProxyConfig) -> Result<(), String> {
    Observe::check(&settings(config)).map_err(|e| e.to_string())
}

/// The observe layers and queues of `config`; an integration that cannot start is logged and
/// left out (start-up already refused such a config through [`check`]).
#[must_use]
pub fn build(config: &ProxyConfig) -> Observe {
    if tokio::runtime::Handle::try_current().is_err() {
        return Observe::default();
    }
    match Observe::build(&settings(config)) {
        Ok(observe) => observe,
        Err(error) => {
            tracing::error!("logging integrations: {error}");
            Observe::default()
        }
    }
}
