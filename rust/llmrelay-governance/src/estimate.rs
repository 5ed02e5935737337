//! The upper-bound cost a budget reservation holds: prompt tokens counted as LiteLLM counts
//! them, plus `max_tokens` (or the model's maximum output from the catalog), at the catalog's
//! prices.

use rust_decimal::Decimal;
use serde_json::Value;

use llmrelay_core::cost::{PriceOverrides, TokenCounts};
use llmrelay_core::tokens::{CountOptions, count_messages, count_text_for_model};

/// Output tokens assumed when neither the request nor the catalog bounds the reply.
pub const DEFAULT_MAX_OUTPUT_TOKENS: u64 = 4096;

/// An upper bound of a call's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub prompt_tokens: u64,
    pub max_output_tokens: u64,
    pub cost: Decimal,
}

/// The output bound a request sets (`max_completion_tokens`, `max_tokens` or
/// `max_output_tokens`).
#[must_use]
pub fn requested_output_tokens(body: &Value) -> Option<u64> {
    ["max_completion_tokens", "max_tokens", "max_output_tokens"]
        .iter()
        .find_map(|field| body.get(*field).and_then(Value::as_u64))
}

/// Estimates a chat/completions request body (`messages` or `prompt`, `max_tokens` /
/// `max_completion_tokens`) for `model` (the provider model name the catalog knows).
/// A model without prices costs nothing (it cannot exhaust a budget).
#[must_use]
pub fn estimate_request(model: &str, provider: Option<&str>, body: &Value) -> Estimate {
    let prompt_tokens = match body.get("messages").and_then(Value::as_array) {
        Some(messages) => {
            let options = CountOptions {
                use_default_image_token_count: true,
                default_token_count: Some(0),
                ..CountOptions::default()
            };
            let tools = body
                .get("tools")
                .and_then(Value::as_array)
                .map(Vec::as_slice);
            count_messages(model, messages, tools, body.get("tool_choice"), &options)
                .unwrap_or_else(|_| count_text_for_model(model, &body.to_string()))
        }
        None => match body.get("prompt").or_else(|| body.get("input")) {
            Some(Value::String(text)) => count_text_for_model(model, text),
            Some(other) => count_text_for_model(model, &other.to_string()),
            None => 0,
        },
    };
    let requested_output = requested_output_tokens(body);
    let catalog = llmrelay_core::catalog::global();
    let entry = catalog.lookup(model, provider);
    let max_output = requested_output
        .or_else(|| entry.and_then(|e| e.max_output_tokens))
        .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS);
    let prompt_tokens = u64::try_from(prompt_tokens).unwrap_or(u64::MAX);
    let cost = entry.map_or(Decimal::ZERO, |entry| {
        llmrelay_core::cost::compute(
            &entry.prices,
            TokenCounts {
                prompt_tokens,
                completion_tokens: max_output,
                ..TokenCounts::default()
            },
            PriceOverrides::default(),
            None,
        )
        .total()
    });
    Estimate {
        prompt_tokens,
        max_output_tokens: max_output,
        cost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn max_tokens_bounds_the_estimate() {
        let body =
            json!({"messages": [{"role": "user", "content": "hello there"}], "max_tokens": 10});
        let estimate = estimate_request("gpt-4o-mini", Some("openai"), &body);
        assert!(estimate.prompt_tokens > 0);
        assert_eq!(estimate.max_output_tokens, 10);
        let without = estimate_request(
            "gpt-4o-mini",
            Some("openai"),
            &json!({"messages": [{"role": "user", "content": "hello there"}]}),
        );
        // Without max_tokens the model's maximum output is assumed: a larger bound.
        assert!(without.max_output_tokens > 10);
        assert!(without.cost > estimate.cost);
        assert!(estimate.cost > Decimal::ZERO);
    }
}
