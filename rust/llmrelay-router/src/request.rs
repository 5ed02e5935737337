//! The Router's per-request options: fallbacks, retries, priority, queue wait, the request's
//! tags, and LiteLLM's `mock_testing_*` switches.

use serde_json::Value;

use llmrelay_core::{Error, Result};
use llmrelay_pipeline::Call;

use crate::config::FallbackList;
use crate::tags::TagQuery;

/// Per-request router options taken out of the call's parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestOptions {
    pub(crate) model: String,
    pub(crate) fallbacks: Option<FallbackList>,
    pub(crate) context_window_fallbacks: Option<FallbackList>,
    pub(crate) content_policy_fallbacks: Option<FallbackList>,
    pub(crate) num_retries: Option<u32>,
    pub(crate) priority: Option<i64>,
    pub(crate) max_queue_wait: Option<f64>,
    /// The call's tags, split for tag routing.
    pub(crate) tags: TagQuery,
    /// LiteLLM's `mock_testing_*fallbacks`: the first group fails so its fallbacks run.
    pub(crate) mock_fallbacks: bool,
    pub(crate) mock_context_fallbacks: bool,
    pub(crate) mock_content_policy_fallbacks: bool,
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
    /// The Router's per-request options of a call (`CallOptions::router`, its tags with
    /// `tag_routing_prefix`).
    ///
    /// # Errors
    /// `BadRequest` naming an option of the wrong type.
    pub(crate) fn of(call: &Call, tag_prefix: &str) -> Result<Self> {
        let model = call.model_group.clone();
        if model.is_empty() {
            return Err(Error::bad_request("model is required").with_param("model"));
        }
        let mut options = Self {
            model,
            tags: TagQuery::new(call.tags.as_slice(), tag_prefix),
            ..Self::default()
        };
        for (key, value) in &call.options.router {
            let value = value.clone();
            let key = key.as_str();
            match key {
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
                "mock_testing_fallbacks" => options.mock_fallbacks = value.as_bool() == Some(true),
                "mock_testing_context_fallbacks" => {
                    options.mock_context_fallbacks = value.as_bool() == Some(true);
                }
                "mock_testing_content_policy_fallbacks" => {
                    options.mock_content_policy_fallbacks = value.as_bool() == Some(true);
                }
                _ => {}
            }
        }
        Ok(options)
    }
}
