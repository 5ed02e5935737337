//! LiteLLM's supported-parameter check: OpenAI parameters a provider does not accept are an
//! `UnsupportedParamsError`, or are dropped when `drop_params` is set.

use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind, Result};

/// The OpenAI chat parameters LiteLLM checks against a provider's supported list (its default
/// chat parameter values, less `user`, `stream`, `stream_options` and `max_retries`, which it
/// never rejects).
pub const CHECKED_CHAT_PARAMS: &[&str] = &[
    "functions",
    "function_call",
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "audio",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "response_format",
    "seed",
    "tools",
    "tool_choice",
    "logprobs",
    "top_logprobs",
    "parallel_tool_calls",
    "reasoning_effort",
    "verbosity",
    "thinking",
    "web_search_options",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "store",
];

/// The checked parameters present in `body` that `supported` does not list (`n: 1` is
/// ignored, as LiteLLM does for LangChain's default).
#[must_use]
pub fn unsupported_in(body: &Map<String, Value>, supported: &[&str]) -> Vec<&'static str> {
    CHECKED_CHAT_PARAMS
        .iter()
        .copied()
        .filter(|name| match body.get(*name) {
            None | Some(Value::Null) => false,
            Some(value) => !(*name == "n" && value.as_u64() == Some(1)),
        })
        .filter(|name| !supported.contains(name))
        .collect()
}

/// LiteLLM's `UnsupportedParamsError` for `names`.
#[must_use]
pub fn unsupported_error(provider: &str, model: &str, names: &[&str]) -> Error {
    let names = format!("['{}']", names.join("', '"));
    Error::new(
        ErrorKind::UnsupportedParams,
        format!(
            "{provider} does not support parameters: {names}, for model={model}. To drop these, set \
             `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n. \n \
             If you want to use these params dynamically send allowed_openai_params={names} in your request."
        ),
    )
    .with_status(400)
}

/// Reject (or with `drop_params`, remove) the parameters of `body` the provider does not support.
///
/// # Errors
/// `UnsupportedParams` naming every unsupported parameter, unless `drop_params`.
pub fn enforce(
    body: &mut Map<String, Value>,
    supported: &[&str],
    provider: &str,
    model: &str,
    drop_params: bool,
) -> Result<()> {
    let names = unsupported_in(body, supported);
    if names.is_empty() {
        return Ok(());
    }
    if !drop_params {
        return Err(unsupported_error(provider, model, &names));
    }
    for name in names {
        body.remove(name);
    }
    Ok(())
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
    fn rejects_then_drops() {
        let mut body = map(json!({"model": "m", "seed": 1, "n": 1, "top_k": 3, "user": "u"}));
        let error = enforce(&mut body, &["temperature"], "perplexity", "sonar", false).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnsupportedParams);
        assert!(
            error
                .message()
                .starts_with("perplexity does not support parameters: ['seed'], for model=sonar.")
        );
        enforce(&mut body, &["temperature"], "perplexity", "sonar", true).unwrap();
        assert!(!body.contains_key("seed"));
        // Not an OpenAI parameter LiteLLM checks: passes through.
        assert_eq!(body["top_k"], 3);
        assert_eq!(body["user"], "u");
    }
}
