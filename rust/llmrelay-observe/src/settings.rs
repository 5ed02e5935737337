//! What to observe: the integration names of LiteLLM's `success_callback`, `failure_callback`
//! and `callbacks` lists (SDK module settings or the proxy's `litellm_settings`), the request
//! log, and the redaction flags. Vendor credentials come from the environment variables
//! LiteLLM reads, through an [`Environment`] (tests pass their own).

use std::collections::HashMap;
use std::sync::Arc;

/// The integration names built in (in Rust); any other entry of a callback list stays a
/// Python callback path (`module.instance`).
pub const BUILTIN: &[&str] = &[
    "otel",
    "langfuse",
    "langsmith",
    "datadog",
    "generic_api",
    "file",
    "prometheus",
    "sentry",
    // The proxy's scheduled FOCUS spend export (`llmrelay-proxy/src/focus_export.rs`).
    "focus",
];

/// Whether `name` is a built-in integration (LiteLLM's string callback names).
#[must_use]
pub fn is_builtin(name: &str) -> bool {
    builtin(name).is_some()
}

/// The built-in integration called `name` (`opentelemetry` is an alias of `otel`, as in
/// LiteLLM's proxy docs).
#[must_use]
pub fn builtin(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("opentelemetry") {
        return Some("otel");
    }
    BUILTIN
        .iter()
        .copied()
        .find(|known| known.eq_ignore_ascii_case(name))
}

/// Environment variables, looked up by name.
#[derive(Clone)]
pub struct Environment(Arc<Lookup>);

type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

impl Environment {
    /// The process environment.
    #[must_use]
    pub fn process() -> Self {
        Self(Arc::new(|name| std::env::var(name).ok()))
    }

    /// A fixed set of variables (tests).
    #[must_use]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self(Arc::new(move |name| map.get(name).cloned()))
    }

    /// A variable's value; blank counts as unset.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    /// The first of `names` that is set.
    #[must_use]
    pub fn first(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|name| self.get(name))
    }
}

impl Default for Environment {
    fn default() -> Self {
        Self::process()
    }
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Environment")
    }
}

/// How request log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestLogFormat {
    /// `key=value` pairs after a timestamp and level.
    Text,
    /// One JSON object per line (`json_logs: true`).
    Json,
}

/// Everything the observe layers are built from.
#[derive(Debug, Clone, Default)]
pub struct ObserveSettings {
    /// `callbacks`: called on success and on failure.
    pub callbacks: Vec<String>,
    pub success_callback: Vec<String>,
    pub failure_callback: Vec<String>,
    /// One line per call (proxy); `None` writes none.
    pub request_log: Option<RequestLogFormat>,
    /// `turn_off_message_logging`: messages and answers are not sent to any integration.
    pub turn_off_message_logging: bool,
    /// `redact_user_api_key_info`: the caller's key, user, team and org are not sent.
    pub redact_user_api_key_info: bool,
    pub environment: Environment,
}

/// Which built-in integration runs on which outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub name: &'static str,
    pub on_success: bool,
    pub on_failure: bool,
}

impl ObserveSettings {
    /// The built-in integrations named in the three lists, each once, in first-named order.
    pub(crate) fn wanted(&self) -> Vec<Wanted> {
        let mut wanted: Vec<Wanted> = Vec::new();
        let mut add = |names: &[String], success: bool, failure: bool| {
            for name in names.iter().filter_map(|n| builtin(n)) {
                if let Some(entry) = wanted.iter_mut().find(|w| w.name == name) {
                    entry.on_success |= success;
                    entry.on_failure |= failure;
                } else {
                    wanted.push(Wanted {
                        name,
                        on_success: success,
                        on_failure: failure,
                    });
                }
            }
        };
        add(&self.callbacks, true, true);
        add(&self.success_callback, true, false);
        add(&self.failure_callback, false, true);
        wanted
    }

    /// Whether nothing is configured (no layer is registered then).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.request_log.is_none() && self.wanted().is_empty()
    }
}

/// Whether a `LITELLM_LOG` value lets INFO lines through (request lines are INFO; failures
/// WARNING). Unset: yes — the request line is written at the default level.
#[must_use]
pub fn request_log_level(litellm_log: Option<&str>) -> Option<tracing::Level> {
    match litellm_log
        .map(|v| v.trim().to_ascii_uppercase())
        .as_deref()
    {
        None | Some("" | "DEBUG" | "INFO") => Some(tracing::Level::INFO),
        Some("WARNING" | "WARN") => Some(tracing::Level::WARN),
        Some("ERROR" | "CRITICAL") => None,
        Some(_) => Some(tracing::Level::INFO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_merge_across_lists() {
        let settings = ObserveSettings {
            callbacks: vec!["otel".into(), "custom.handler".into()],
            success_callback: vec!["langfuse".into(), "OpenTelemetry".into()],
            failure_callback: vec!["langfuse".into(), "datadog".into()],
            ..ObserveSettings::default()
        };
        let wanted = settings.wanted();
        let names: Vec<_> = wanted.iter().map(|w| w.name).collect();
        assert_eq!(names, ["otel", "langfuse", "datadog"]);
        assert!(wanted[1].on_success && wanted[1].on_failure);
        assert!(!wanted[2].on_success && wanted[2].on_failure);
        assert!(is_builtin("generic_api") && !is_builtin("custom.handler"));
    }

    #[test]
    fn litellm_log_levels() {
        assert_eq!(request_log_level(None), Some(tracing::Level::INFO));
        assert_eq!(request_log_level(Some("debug")), Some(tracing::Level::INFO));
        assert_eq!(
            request_log_level(Some("WARNING")),
            Some(tracing::Level::WARN)
        );
        assert_eq!(request_log_level(Some("ERROR")), None);
    }
}
