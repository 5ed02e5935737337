//! Usage and cost of an answer: the upstream's usage, else counted locally as LiteLLM counts
//! it; priced from the catalog (or the call's price overrides).

use serde_json::Value;

use llmrelay_core::cost::{self, PriceOverrides, TokenCounts};
use llmrelay_core::tokens;
use llmrelay_core::types::{ChatRequest, Usage};

use crate::stream::{Finisher, StreamSummary};

/// Prompt tokens of a chat request, counted locally (used when the upstream reports none).
#[must_use]
pub fn count_prompt_tokens(request: &ChatRequest) -> u64 {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .filter_map(|m| serde_json::to_value(m).ok())
        .collect();
    let tools: Option<Vec<Value>> = request.tools.as_ref().map(|tools| {
        tools
            .iter()
            .filter_map(|t| serde_json::to_value(t).ok())
            .collect()
    });
    let options = tokens::CountOptions {
        use_default_image_token_count: true,
        ..tokens::CountOptions::default()
    };
    tokens::count_messages(
        &request.model,
        &messages,
        tools.as_deref(),
        request.tool_choice.as_ref(),
        &options,
    )
    .map_or(0, |n| n as u64)
}

#[must_use]
pub fn count_completion_tokens(model: &str, text: &str) -> u64 {
    tokens::count_text_for_model(model, text) as u64
}

/// Price a usage; `None` when the model is unknown to the catalog (LiteLLM logs and moves on).
#[must_use]
pub fn price(
    model: &str,
    provider: &str,
    usage: &Usage,
    overrides: PriceOverrides,
    service_tier: Option<&str>,
) -> Option<f64> {
    cost::for_model(
        model,
        Some(provider),
        TokenCounts::from(usage),
        overrides,
        service_tier,
    )
    .ok()
    .map(|c| cost::to_f64(c.total()))
}

/// The model to price: the one the upstream reports, when it reports one.
#[must_use]
pub fn response_model_for_cost<'a>(requested: &'a str, reported: &'a str) -> &'a str {
    if reported.is_empty() {
        requested
    } else {
        reported
    }
}

/// Takes the request by value: it is kept only to count prompt tokens in the rare case the
/// upstream reports no usage.
#[must_use]
pub fn chat_finisher(
    request: ChatRequest,
    provider_name: &str,
    overrides: PriceOverrides,
) -> Finisher {
    let model = request.model.clone();
    let provider_name = provider_name.to_owned();
    Box::new(move |summary: &mut StreamSummary, text: &str| {
        let usage = summary.usage.clone().unwrap_or_else(|| {
            Usage::new(
                count_prompt_tokens(&request),
                count_completion_tokens(&model, text),
            )
        });
        summary.response_cost = price(&model, &provider_name, &usage, overrides, None);
        summary.usage = Some(usage);
    })
}

/// A legacy completion stream's finisher: usage counted from the prompt and text when the
/// upstream reported none.
#[must_use]
pub fn text_finisher(
    model: String,
    prompt_text: String,
    provider_name: String,
    overrides: PriceOverrides,
) -> Finisher {
    Box::new(move |summary: &mut StreamSummary, text: &str| {
        let usage = summary.usage.clone().unwrap_or_else(|| {
            let encoding = tokens::encoding_for_model(&model);
            Usage::new(
                tokens::count_text(encoding, &prompt_text) as u64,
                tokens::count_text(encoding, text) as u64,
            )
        });
        summary.response_cost = price(&model, &provider_name, &usage, overrides, None);
        summary.usage = Some(usage);
    })
}

/// A prompt (string or list of strings) as one text, for counting.
#[must_use]
pub fn prompt_text(prompt: &Value) -> String {
    match prompt {
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// LiteLLM's rerank cost: the catalog's `input_cost_per_query` times the search units the
/// upstream billed (one when it reports none); `None` for a model the catalog does not price.
#[must_use]
pub fn rerank_cost(model: &str, provider: &str, response: &Value) -> Option<f64> {
    let catalog = llmrelay_core::catalog::global();
    let entry = catalog.lookup(model, Some(provider))?;
    let per_query = entry
        .raw
        .get("input_cost_per_query")
        .and_then(llmrelay_core::catalog::decimal_from_json)?;
    let units = response
        .pointer("/meta/billed_units/search_units")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    Some(cost::to_f64(per_query * rust_decimal::Decimal::from(units)))
}
