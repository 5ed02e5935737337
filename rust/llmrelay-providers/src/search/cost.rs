//! The price of a search call from the price map's `mode: "search"` entries
//! (`<provider>/search`), as LiteLLM's search cost calculator computes it: a flat
//! `input_cost_per_query`, `tiered_pricing` by `max_results_range` (Exa, Firecrawl), or
//! Parallel's request price plus its additional results.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use llmrelay_core::catalog::{self, ModelCatalog, decimal_from_json};
use llmrelay_core::cost;

use super::SearchProvider;

/// Results included in Parallel's request price; each further one costs
/// [`PARALLEL_ADDITIONAL_RESULT`].
const PARALLEL_INCLUDED_RESULTS: u64 = 10;
const PARALLEL_ADDITIONAL_RESULT: Decimal = Decimal::from_parts(1, 0, 0, false, 3);

fn per_query(catalog: &ModelCatalog, key: &str) -> Option<Decimal> {
    let entry = catalog.get_exact(key)?;
    Some(
        entry
            .raw
            .get("input_cost_per_query")
            .and_then(decimal_from_json)
            .unwrap_or_default(),
    )
}

fn non_negative(value: Option<&Value>) -> Option<u64> {
    match value {
        Some(Value::Number(number)) => number.as_u64(),
        _ => None,
    }
}

/// The cost of one search call; `params` are the caller's parameters (unified and
/// provider-specific), `response` the `SearchResponse` JSON. `None` when the map has no price
/// for the provider (Brave), as LiteLLM.
#[must_use]
pub fn search_cost(
    provider: &SearchProvider,
    params: &Map<String, Value>,
    response: &Value,
) -> Option<f64> {
    let catalog = catalog::global();
    if provider.name == "parallel_ai" {
        return parallel_cost(&catalog, params, response.get("parallel_usage"));
    }
    let key = format!("{}/search", provider.name);
    let entry = catalog.get_exact(&key)?;
    if let Some(Value::Array(tiers)) = entry.raw.get("tiered_pricing") {
        if !tiers.is_empty() {
            let max_results = params
                .get("max_results")
                .and_then(Value::as_u64)
                .unwrap_or(10);
            let tier_price =
                |tier: &Value| tier.get("input_cost_per_query").and_then(decimal_from_json);
            let chosen = tiers.iter().find(|tier| {
                let range = tier.get("max_results_range").and_then(Value::as_array);
                match range.map(Vec::as_slice) {
                    Some([low, high]) => {
                        low.as_u64().is_some_and(|low| low <= max_results)
                            && high.as_u64().is_some_and(|high| max_results <= high)
                    }
                    _ => false,
                }
            });
            let price = chosen.or_else(|| tiers.last()).and_then(tier_price)?;
            return Some(cost::to_f64(price));
        }
    }
    per_query(&catalog, &key).map(cost::to_f64)
}

fn usage_count(usage: &[Value], sku: &str) -> Option<u64> {
    let counts: Vec<u64> = usage
        .iter()
        .filter(|item| item.get("name").and_then(Value::as_str) == Some(sku))
        .filter_map(|item| non_negative(item.get("count")))
        .collect();
    (!counts.is_empty()).then(|| counts.iter().sum())
}

/// Parallel: the request price of the mode's entry (`search-fast`, `search-turbo`, else
/// `search`) times the requests billed, plus $0.001 per result beyond ten — from the response's
/// `usage` when it reports them, else from the results asked for.
fn parallel_cost(
    catalog: &ModelCatalog,
    params: &Map<String, Value>,
    usage: Option<&Value>,
) -> Option<f64> {
    let mode = match params.get("mode") {
        Some(Value::String(mode)) => mode.as_str(),
        _ if params.get("processor").and_then(Value::as_str) == Some("pro") => "advanced",
        _ => "basic",
    };
    let key = match mode {
        "fast" => "parallel_ai/search-fast",
        "turbo" => "parallel_ai/search-turbo",
        _ => "parallel_ai/search",
    };
    let request_price = per_query(catalog, key).unwrap_or_default();
    let usage: Option<&[Value]> = match usage {
        Some(Value::Array(items)) if items.iter().all(Value::is_object) => Some(items.as_slice()),
        _ => None,
    };
    let requests = usage
        .and_then(|u| usage_count(u, "sku_search"))
        .unwrap_or(1);
    let additional = match usage {
        Some(usage) => usage_count(usage, "sku_search_additional_results").unwrap_or(0),
        None => {
            let asked = params
                .get("advanced_settings")
                .and_then(|settings| non_negative(settings.get("max_results")))
                .or_else(|| non_negative(params.get("max_results")))
                .unwrap_or(PARALLEL_INCLUDED_RESULTS);
            asked.saturating_sub(PARALLEL_INCLUDED_RESULTS)
        }
    };
    let total = request_price * Decimal::from(requests)
        + PARALLEL_ADDITIONAL_RESULT * Decimal::from(additional);
    Some(cost::to_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::lookup;
    use serde_json::json;

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn price(name: &str, given: Value, response: Value) -> Option<f64> {
        search_cost(lookup(name).unwrap(), &params(given), &response)
    }

    #[test]
    fn flat_and_tiered_prices_from_the_map() {
        assert_eq!(price("tavily", json!({}), json!({})), Some(0.008));
        assert_eq!(price("perplexity", json!({}), json!({})), Some(0.005));
        assert_eq!(price("serper", json!({}), json!({})), Some(0.001));
        assert_eq!(price("duckduckgo", json!({}), json!({})), Some(0.0));
        assert_eq!(price("exa_ai", json!({}), json!({})), Some(0.005));
        assert_eq!(
            price("exa_ai", json!({"max_results": 30}), json!({})),
            Some(0.025)
        );
        assert_eq!(
            price("exa_ai", json!({"max_results": 500}), json!({})),
            Some(0.025)
        );
        assert_eq!(
            price("firecrawl", json!({"max_results": 15}), json!({})),
            Some(0.00332)
        );
        assert_eq!(price("firecrawl", json!({}), json!({})), Some(0.00166));
        // Brave has no entry in the map.
        assert_eq!(price("brave", json!({}), json!({})), None);
    }

    #[test]
    fn parallel_prices_its_mode_and_extra_results() {
        assert_eq!(
            price("parallel_ai", json!({"max_results": 15}), json!({})),
            Some(0.01)
        );
        assert_eq!(
            price("parallel_ai", json!({"mode": "fast"}), json!({})),
            Some(0.001)
        );
        let usage = json!({"parallel_usage": [
            {"name": "sku_search", "count": 2},
            {"name": "sku_search_additional_results", "count": 3}
        ]});
        assert_eq!(
            price("parallel_ai", json!({"max_results": 40}), usage),
            Some(0.013)
        );
        let only_requests = json!({"parallel_usage": [{"name": "sku_search", "count": 1}]});
        assert_eq!(
            price("parallel_ai", json!({"max_results": 40}), only_requests),
            Some(0.005)
        );
    }
}
