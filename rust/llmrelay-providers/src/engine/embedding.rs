//! One attempt of an embedding call, split into several upstream requests when the provider
//! takes fewer inputs per request.

use std::time::Instant;

use futures::StreamExt;
use serde_json::Value;

use llmrelay_core::types::{EmbeddingRequest, EmbeddingResponse, Usage};
use llmrelay_core::{Error, Result, tokens};

use super::exchange::Exchange;
use super::outcome::CompletionResult;
use super::usage::{price, prompt_text};
use super::{Attempt, target};
use crate::mock;

pub(super) async fn embedding(
    attempt: &Attempt<'_>,
    request: &EmbeddingRequest,
) -> Result<CompletionResult<EmbeddingResponse>> {
    let started = Instant::now();
    let options = attempt.options;
    let mut request = match attempt.body_defaults {
        Some(defaults) if !defaults.is_empty() => super::with_body_defaults(request, defaults)?,
        _ => request.clone(),
    };
    attempt.model.clone_into(&mut request.model);
    if let Some(mock) = &options.mock_response {
        return mock::embedding(&request, options, mock, started).await;
    }
    let target = target::resolve(attempt.model, options)?;
    request.model.clone_from(&target.model);
    let exchange = Exchange {
        target: &target,
        timeouts: options.timeouts,
        model_for_errors: attempt.model,
        stream: false,
    };
    let (mut response, headers) = match (
        target.provider.embedding_batch_size(&request.model),
        &request.input,
    ) {
        (Some(size), Value::Array(items)) if items.len() > size => {
            embed_in_batches(&exchange, &request, items, size).await?
        }
        _ => embed_once(&exchange, &request).await?,
    };
    if response.model.is_empty() {
        response.model.clone_from(&request.model);
    }
    // Some APIs (Gemini's batchEmbedContents) report no usage: count the input, as LiteLLM.
    if response.usage.is_none() {
        let prompt = tokens::count_text_for_model(&request.model, &prompt_text(&request.input));
        response.usage = Some(Usage::new(prompt as u64, 0));
    }
    let mut hidden = exchange.hidden(headers, started, options);
    hidden.response_cost = response.usage.as_ref().and_then(|usage| {
        price(
            &request.model,
            &target.provider_name,
            usage,
            options.price_overrides,
            None,
        )
    });
    Ok(CompletionResult { response, hidden })
}

/// One embedding request.
async fn embed_once(
    exchange: &Exchange<'_>,
    request: &EmbeddingRequest,
) -> Result<(EmbeddingResponse, Vec<(String, String)>)> {
    let target = exchange.target;
    let http_request = exchange
        .authorized(
            target
                .provider
                .embedding_request(request, &target.endpoint)
                .map_err(|e| exchange.decorate(e))?,
        )
        .await?;
    let (bytes, headers) = exchange.whole(http_request).await?;
    let response = target
        .provider
        .embedding_response(&bytes)
        .map_err(|e| exchange.decorate(e))?;
    Ok((response, headers))
}

/// How many split embedding requests are in flight at once.
const EMBEDDING_BATCH_CONCURRENCY: usize = 8;

/// An embedding call split into requests of at most `size` inputs (a few in flight at once),
/// joined in input order with their usage summed.
async fn embed_in_batches(
    exchange: &Exchange<'_>,
    request: &EmbeddingRequest,
    items: &[Value],
    size: usize,
) -> Result<(EmbeddingResponse, Vec<(String, String)>)> {
    use futures::TryStreamExt as _;
    // Owned parts first: a closure over borrowed chunks would make the future non-`Send`
    // across the Python bridge (higher-ranked lifetimes in the stream adapter).
    let parts: Vec<EmbeddingRequest> = items
        .chunks(size.max(1))
        .map(|chunk| {
            let mut part = request.clone();
            part.input = Value::Array(chunk.to_vec());
            part
        })
        .collect();
    let answers: Vec<_> = futures::stream::iter(parts)
        .map(|part| async move { embed_once(exchange, &part).await })
        .buffered(EMBEDDING_BATCH_CONCURRENCY)
        .try_collect()
        .await?;
    let mut joined: Option<EmbeddingResponse> = None;
    let mut headers = Vec::new();
    for (answer, answer_headers) in answers {
        headers = answer_headers;
        let Some(total) = joined.as_mut() else {
            joined = Some(answer);
            continue;
        };
        let offset = u32::try_from(total.data.len()).unwrap_or(u32::MAX);
        total.data.extend(answer.data.into_iter().map(|mut d| {
            d.index += offset;
            d
        }));
        if let (Some(sum), Some(usage)) = (total.usage.as_mut(), answer.usage) {
            sum.prompt_tokens += usage.prompt_tokens;
            sum.completion_tokens += usage.completion_tokens;
            sum.total_tokens += usage.total_tokens;
        }
    }
    let response = joined.ok_or_else(|| Error::bad_request("input must not be empty"))?;
    Ok((response, headers))
}
