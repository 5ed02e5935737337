//! Exact cost accounting: usage × the catalog's prices, in `Decimal` USD.
//!
//! Prompt tokens include cached ones (OpenAI's convention, which every provider's usage is
//! normalized to): cache reads and writes are priced at their own rates and the rest at the
//! input rate. Reasoning tokens are part of completion tokens and use their own rate when the
//! model has one.

use rust_decimal::Decimal;

use crate::catalog::{self, ModelEntry, Prices};
use crate::error::{Error, ErrorKind, Result};
use crate::types::Usage;

/// Token counts that a cost is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_creation_tokens: u64,
    pub reasoning_tokens: u64,
}

impl From<&Usage> for TokenCounts {
    fn from(usage: &Usage) -> Self {
        Self {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cache_read_tokens: usage.cached_tokens(),
            cache_creation_tokens: usage.cache_creation_tokens(),
            reasoning_tokens: usage.reasoning_tokens(),
        }
    }
}

/// Per-call price overrides (LiteLLM's `input_cost_per_token=` / `output_cost_per_token=` kwargs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PriceOverrides {
    pub input_cost_per_token: Option<Decimal>,
    pub output_cost_per_token: Option<Decimal>,
}

impl PriceOverrides {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.input_cost_per_token.is_none() && self.output_cost_per_token.is_none()
    }
}

/// Cost split as LiteLLM's `cost_breakdown` reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CostBreakdown {
    /// Uncached prompt tokens at the input rate.
    pub input_cost: Decimal,
    /// Completion tokens other than reasoning at the output rate.
    pub output_cost: Decimal,
    pub cache_read_cost: Decimal,
    pub cache_creation_cost: Decimal,
    pub reasoning_cost: Decimal,
}

impl CostBreakdown {
    #[must_use]
    pub fn prompt_cost(&self) -> Decimal {
        self.input_cost + self.cache_read_cost + self.cache_creation_cost
    }

    #[must_use]
    pub fn completion_cost(&self) -> Decimal {
        self.output_cost + self.reasoning_cost
    }

    #[must_use]
    pub fn total(&self) -> Decimal {
        self.prompt_cost() + self.completion_cost()
    }
}

/// The prices that apply: the service tier's variant when the model has one, then the
/// `*_above_<N>k_tokens` tier the prompt size falls in.
fn effective_prices<'a>(
    prices: &'a Prices,
    prompt_tokens: u64,
    service_tier: Option<&str>,
) -> Prices {
    let base: &'a Prices = service_tier
        .and_then(|tier| prices.service_tiers.iter().find(|(name, _)| name == tier))
        .map_or(prices, |(_, p)| p);
    let mut effective = Prices {
        input_cost_per_token: base.input_cost_per_token.or(prices.input_cost_per_token),
        output_cost_per_token: base.output_cost_per_token.or(prices.output_cost_per_token),
        cache_read_input_token_cost: base
            .cache_read_input_token_cost
            .or(prices.cache_read_input_token_cost),
        cache_creation_input_token_cost: base
            .cache_creation_input_token_cost
            .or(prices.cache_creation_input_token_cost),
        output_cost_per_reasoning_token: base
            .output_cost_per_reasoning_token
            .or(prices.output_cost_per_reasoning_token),
        tiers: Vec::new(),
        service_tiers: Vec::new(),
    };
    if let Some(tier) = prices
        .tiers
        .iter()
        .rev()
        .find(|t| prompt_tokens > t.above_tokens)
    {
        if tier.input_cost_per_token.is_some() {
            effective.input_cost_per_token = tier.input_cost_per_token;
        }
        if tier.output_cost_per_token.is_some() {
            effective.output_cost_per_token = tier.output_cost_per_token;
        }
        if tier.cache_read_input_token_cost.is_some() {
            effective.cache_read_input_token_cost = tier.cache_read_input_token_cost;
        }
    }
    effective
}

/// Cost of one call from its token counts.
#[must_use]
pub fn compute(
    prices: &Prices,
    tokens: TokenCounts,
    overrides: PriceOverrides,
    service_tier: Option<&str>,
) -> CostBreakdown {
    let prices = effective_prices(prices, tokens.prompt_tokens, service_tier);
    let input = overrides
        .input_cost_per_token
        .or(prices.input_cost_per_token)
        .unwrap_or_default();
    let output = overrides
        .output_cost_per_token
        .or(prices.output_cost_per_token)
        .unwrap_or_default();
    let cache_read_rate = prices.cache_read_input_token_cost.unwrap_or(input);
    let cache_creation_rate = prices.cache_creation_input_token_cost.unwrap_or(input);
    let reasoning_rate = prices.output_cost_per_reasoning_token.unwrap_or(output);

    let cache_read = tokens.cache_read_tokens.min(tokens.prompt_tokens);
    let cache_creation = tokens
        .cache_creation_tokens
        .min(tokens.prompt_tokens - cache_read);
    let uncached = tokens.prompt_tokens - cache_read - cache_creation;
    let reasoning = tokens.reasoning_tokens.min(tokens.completion_tokens);
    let text_completion = tokens.completion_tokens - reasoning;

    CostBreakdown {
        input_cost: Decimal::from(uncached) * input,
        output_cost: Decimal::from(text_completion) * output,
        cache_read_cost: Decimal::from(cache_read) * cache_read_rate,
        cache_creation_cost: Decimal::from(cache_creation) * cache_creation_rate,
        reasoning_cost: Decimal::from(reasoning) * reasoning_rate,
    }
}

/// Look the model up and price the call.
///
/// # Errors
/// `NotFound`-free: a model missing from the catalog with no overrides is an error whose message
/// matches LiteLLM's "This model isn't mapped yet".
pub fn for_model(
    model: &str,
    provider: Option<&str>,
    tokens: TokenCounts,
    overrides: PriceOverrides,
    service_tier: Option<&str>,
) -> Result<CostBreakdown> {
    let catalog = catalog::global();
    match catalog.lookup(model, provider) {
        Some(entry) => Ok(compute(&entry.prices, tokens, overrides, service_tier)),
        None if !overrides.is_empty() => {
            Ok(compute(&Prices::default(), tokens, overrides, service_tier))
        }
        None => Err(not_mapped(model, provider)),
    }
}

/// LiteLLM's error for a model missing from the map.
#[must_use]
pub fn not_mapped(model: &str, provider: Option<&str>) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!(
            "This model isn't mapped yet. model={model}, custom_llm_provider={}. Add it here - https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json.",
            provider.unwrap_or("None")
        ),
    )
}

/// Whether the catalog knows prices for this entry.
#[must_use]
pub fn is_priced(entry: &ModelEntry) -> bool {
    entry.prices.input_cost_per_token.is_some() || entry.prices.output_cost_per_token.is_some()
}

/// Nearest `f64` of a decimal, for the Python and JSON boundary.
#[must_use]
pub fn to_f64(value: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    value.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::catalog::ModelCatalog;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn prices(json: &str) -> Prices {
        let catalog = ModelCatalog::from_json(&format!(r#"{{"m": {json}}}"#)).unwrap();
        catalog.get_exact("m").unwrap().prices.clone()
    }

    #[test]
    fn gpt_4o_mock_call_matches_litellm() {
        let cost = for_model(
            "gpt-4o",
            None,
            TokenCounts {
                prompt_tokens: 10,
                completion_tokens: 20,
                ..TokenCounts::default()
            },
            PriceOverrides::default(),
            None,
        )
        .unwrap();
        assert_eq!(cost.total(), d("0.000225"));
        let cost = for_model(
            "gpt-4o",
            None,
            TokenCounts {
                prompt_tokens: 1000,
                completion_tokens: 1000,
                ..TokenCounts::default()
            },
            PriceOverrides::default(),
            None,
        )
        .unwrap();
        assert_eq!(
            (cost.prompt_cost(), cost.completion_cost()),
            (d("0.0025"), d("0.01"))
        );
    }

    #[test]
    fn cached_and_reasoning_tokens_use_their_own_rates() {
        // Hand computation: 1000 prompt of which 400 cache reads and 100 cache writes;
        // 500 completion of which 300 reasoning.
        let p = prices(
            r#"{"input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5,
                "cache_read_input_token_cost": 3e-7, "cache_creation_input_token_cost": 3.75e-6,
                "output_cost_per_reasoning_token": 2e-5}"#,
        );
        let cost = compute(
            &p,
            TokenCounts {
                prompt_tokens: 1000,
                completion_tokens: 500,
                cache_read_tokens: 400,
                cache_creation_tokens: 100,
                reasoning_tokens: 300,
            },
            PriceOverrides::default(),
            None,
        );
        assert_eq!(cost.input_cost, d("0.0015")); // 500 × 3e-6
        assert_eq!(cost.cache_read_cost, d("0.00012")); // 400 × 3e-7
        assert_eq!(cost.cache_creation_cost, d("0.000375")); // 100 × 3.75e-6
        assert_eq!(cost.output_cost, d("0.003")); // 200 × 1.5e-5
        assert_eq!(cost.reasoning_cost, d("0.006")); // 300 × 2e-5
        assert_eq!(cost.total(), d("0.010995"));
    }

    #[test]
    fn missing_cache_rate_falls_back_to_input() {
        let p = prices(r#"{"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}"#);
        let cost = compute(
            &p,
            TokenCounts {
                prompt_tokens: 10,
                cache_read_tokens: 4,
                ..TokenCounts::default()
            },
            PriceOverrides::default(),
            None,
        );
        assert_eq!(cost.total(), d("0.00001"));
    }

    #[test]
    fn tiers_and_service_tiers() {
        let p = prices(
            r#"{"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                "input_cost_per_token_above_200k_tokens": 2e-6,
                "output_cost_per_token_above_200k_tokens": 4e-6,
                "input_cost_per_token_priority": 5e-6}"#,
        );
        let small = TokenCounts {
            prompt_tokens: 1000,
            completion_tokens: 10,
            ..TokenCounts::default()
        };
        let big = TokenCounts {
            prompt_tokens: 300_000,
            completion_tokens: 10,
            ..TokenCounts::default()
        };
        assert_eq!(
            compute(&p, small, PriceOverrides::default(), None).total(),
            d("0.00102")
        );
        assert_eq!(
            compute(&p, big, PriceOverrides::default(), None).total(),
            d("0.60004")
        );
        assert_eq!(
            compute(&p, small, PriceOverrides::default(), Some("priority")).total(),
            d("0.00502")
        );
    }

    #[test]
    fn unknown_model_is_an_error_unless_priced_by_caller() {
        let tokens = TokenCounts {
            prompt_tokens: 10,
            completion_tokens: 10,
            ..TokenCounts::default()
        };
        assert!(for_model("nope-model", None, tokens, PriceOverrides::default(), None).is_err());
        let overrides = PriceOverrides {
            input_cost_per_token: Some(d("0.001")),
            output_cost_per_token: Some(d("0.002")),
        };
        assert_eq!(
            for_model("nope-model", None, tokens, overrides, None)
                .unwrap()
                .total(),
            d("0.03")
        );
    }
}
