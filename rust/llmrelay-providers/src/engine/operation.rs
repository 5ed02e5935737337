//! One attempt of an extra endpoint: image generation, rerank, moderation.

use std::time::Instant;

use serde_json::{Map, Value};

use llmrelay_core::Result;

use super::exchange::Exchange;
use super::outcome::CompletionResult;
use super::usage::rerank_cost;
use super::{Attempt, target};
use crate::operations::Operation;

/// A moderation call without a model goes to OpenAI with no `model` in the body (the API's
/// default model), as LiteLLM's does.
const DEFAULT_MODERATION_MODEL: &str = "omni-moderation-latest";

pub(super) async fn operation(
    attempt: &Attempt<'_>,
    operation: Operation,
    body: &Map<String, Value>,
) -> Result<CompletionResult<Value>> {
    let started = Instant::now();
    let options = attempt.options;
    let mut body = body.clone();
    if let Some(defaults) = attempt.body_defaults {
        for (key, value) in defaults {
            body.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    let routing_model = if attempt.model.is_empty() {
        DEFAULT_MODERATION_MODEL
    } else {
        attempt.model
    };
    let target = target::resolve(routing_model, options)?;
    if attempt.model.is_empty() {
        body.remove("model");
    } else {
        body.insert("model".to_owned(), Value::String(target.model.clone()));
    }
    let exchange = Exchange {
        target: &target,
        timeouts: options.timeouts,
        model_for_errors: routing_model,
        stream: false,
    };
    let http_request = exchange
        .authorized(
            target
                .provider
                .operation_request(operation, &body, &target.endpoint)
                .map_err(|e| exchange.decorate(e))?,
        )
        .await?;
    let (bytes, headers) = exchange.whole(http_request).await?;
    let response = target
        .provider
        .operation_response(operation, &bytes, &body)
        .map_err(|e| exchange.decorate(e))?;
    let mut hidden = exchange.hidden(headers, started, options);
    if operation == Operation::Rerank {
        hidden.response_cost = rerank_cost(&target.model, &target.provider_name, &response);
    }
    Ok(CompletionResult { response, hidden })
}
