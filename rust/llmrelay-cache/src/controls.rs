//! Per-request cache controls, as LiteLLM reads them: `caching=True/False` and
//! `cache={"no-cache", "no-store", "ttl", "s-maxage" (or "s-max-age"), "namespace",
//! "use-cache"}`, and the top-level `ttl=` (what LiteLLM's proxy sets from a `Cache-Control:
//! s-maxage=N` request header).

use serde_json::Value;

use llmrelay_pipeline::Call;

/// What one call asks of the cache.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Controls {
    /// `caching=`: `Some(false)` skips the lookup, `Some(true)` asks for it.
    pub caching: Option<bool>,
    /// Do not answer from the cache.
    pub no_cache: bool,
    /// Do not store the answer.
    pub no_store: bool,
    /// Seconds the stored answer lives (`cache={"ttl": …}`).
    pub ttl: Option<f64>,
    /// The call's top-level `ttl=`: used when neither `cache={"ttl"}` nor the cache's own
    /// TTL is set (LiteLLM's `add_cache` lets both override it).
    pub request_ttl: Option<f64>,
    /// Oldest cached answer accepted, in seconds.
    pub s_maxage: Option<f64>,
    pub namespace: Option<String>,
    /// Opt in to the cache in `default_off` mode.
    pub use_cache: bool,
}

fn seconds(value: Option<&Value>) -> Option<f64> {
    let value = value?;
    let seconds = value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))?;
    (seconds.is_finite() && seconds >= 0.0).then_some(seconds)
}

fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl Controls {
    /// The controls of `call` (`cache` and `caching` are LiteLLM parameters, never sent
    /// upstream).
    #[must_use]
    pub fn of(call: &Call) -> Self {
        let other = &call.options.other;
        let mut controls = Self::from_values(other.get("caching"), other.get("cache"));
        controls.request_ttl = seconds(other.get("ttl"));
        controls
    }

    /// The controls from the `caching` and `cache` parameters' values.
    #[must_use]
    pub fn from_values(caching: Option<&Value>, cache: Option<&Value>) -> Self {
        let caching = caching.and_then(Value::as_bool);
        let Some(cache) = cache.and_then(Value::as_object) else {
            return Self {
                caching,
                ..Self::default()
            };
        };
        Self {
            caching,
            no_cache: flag(cache.get("no-cache")),
            no_store: flag(cache.get("no-store")),
            ttl: seconds(cache.get("ttl")),
            request_ttl: None,
            s_maxage: seconds(cache.get("s-maxage").or_else(|| cache.get("s-max-age"))),
            namespace: cache
                .get("namespace")
                .and_then(Value::as_str)
                .map(str::to_owned),
            use_cache: flag(cache.get("use-cache")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use llmrelay_core::CallKind;
    use llmrelay_pipeline::Origin;

    use super::*;

    #[test]
    fn reads_litellm_controls() {
        let Value::Object(params) = json!({
            "model": "m", "messages": [{"role": "user", "content": "hi"}], "caching": false,
            "cache": {"no-cache": true, "no-store": "true", "ttl": 60, "s-max-age": "30",
                      "namespace": "team-a", "use-cache": true},
            "ttl": "45",
        }) else {
            unreachable!()
        };
        let call = Call::parse(CallKind::Chat, params, Origin::Sdk)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            Controls::of(&call),
            Controls {
                caching: Some(false),
                no_cache: true,
                no_store: true,
                ttl: Some(60.0),
                request_ttl: Some(45.0),
                s_maxage: Some(30.0),
                namespace: Some("team-a".to_owned()),
                use_cache: true,
            }
        );
    }
}
