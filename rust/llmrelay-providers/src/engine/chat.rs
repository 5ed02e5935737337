//! One attempt of a chat completion: translate, call, decode (whole or streamed), count and
//! price.

use std::time::Instant;

use serde_json::Value;

use llmrelay_core::types::{ChatRequest, StreamOptions, Usage};
use llmrelay_core::{Result, detect};

use super::exchange::{Exchange, peek_first};
use super::outcome::{ChatOutcome, CompletionResult, StreamResult};
use super::usage::{
    chat_finisher, count_completion_tokens, count_prompt_tokens, price, response_model_for_cost,
};
use super::{Attempt, target};
use crate::mock;
use crate::stream::{AccountedStream, decode};

/// The request as this attempt sends it: the deployment's body defaults under the caller's
/// parameters.
fn request_for(attempt: &Attempt<'_>, request: &ChatRequest) -> Result<ChatRequest> {
    let mut request = match attempt.body_defaults {
        Some(defaults) if !defaults.is_empty() => super::with_body_defaults(request, defaults)?,
        _ => request.clone(),
    };
    attempt.model.clone_into(&mut request.model);
    Ok(request)
}

pub(super) async fn chat(attempt: &Attempt<'_>, request: &ChatRequest) -> Result<ChatOutcome> {
    let started = Instant::now();
    let options = attempt.options;
    let mut request = request_for(attempt, request)?;
    if let Some(mock) = &options.mock_response {
        let provider_name = detect::resolve(
            attempt.model,
            options.custom_llm_provider.as_deref(),
            options.api_base.as_deref(),
        )
        .map_or_else(|_| "openai".to_owned(), |r| r.provider);
        return mock::chat(&request, options, mock, &provider_name, started).await;
    }
    let target = target::resolve(attempt.model, options)?;
    request.model.clone_from(&target.model);
    let provider = target.provider;
    crate::images::inline_image_urls(
        &mut request,
        &|url| provider.inlines_image_url(url),
        attempt.images,
    )
    .await
    .map_err(|e| {
        e.with_provider(&target.provider_name)
            .with_model(attempt.model)
    })?;
    let exchange = Exchange {
        target: &target,
        timeouts: options.timeouts,
        model_for_errors: attempt.model,
        stream: request.stream,
    };
    if request.stream {
        // Decoders end with a usage chunk when the upstream reports usage; callers that did
        // not ask for one do not see it. The official OpenAI API reports usage only when
        // asked, so ask it: the cost is then exact.
        let strip_usage = !request.include_usage();
        if strip_usage && target.provider_name == "openai" {
            request
                .stream_options
                .get_or_insert_with(StreamOptions::default)
                .include_usage = Some(true);
        }
        let http_request = exchange
            .authorized(
                provider
                    .chat_request(&request, &target.endpoint)
                    .map_err(|e| exchange.decorate(e))?,
            )
            .await?;
        let opened = exchange.open(http_request).await?;
        let idle = options.stream_timeout.or(options.timeouts.read);
        let inner = decode(
            opened.response.bytes_stream(),
            provider.framing(),
            provider.chat_decoder(&request),
            idle,
        );
        let stream = peek_first(inner).await.map_err(|e| exchange.decorate(e))?;
        let hidden = exchange.hidden(opened.headers, started, options);
        let finisher = chat_finisher(request, &target.provider_name, options.price_overrides);
        let stream = AccountedStream::new(stream, strip_usage, target.model.clone(), finisher);
        return Ok(ChatOutcome::Stream(StreamResult { stream, hidden }));
    }
    let http_request = exchange
        .authorized(
            provider
                .chat_request(&request, &target.endpoint)
                .map_err(|e| exchange.decorate(e))?,
        )
        .await?;
    let (bytes, headers) = exchange.whole(http_request).await?;
    let mut response = provider
        .chat_response(&bytes, &request)
        .map_err(|e| exchange.decorate(e))?;
    if response.usage.is_none() {
        let completion_text: String = response
            .choices
            .iter()
            .filter_map(|c| c.message.content.as_deref())
            .collect();
        response.usage = Some(Usage::new(
            count_prompt_tokens(&request),
            count_completion_tokens(&request.model, &completion_text),
        ));
    }
    let mut hidden = exchange.hidden(headers, started, options);
    let service_tier = response.extra.get("service_tier").and_then(Value::as_str);
    hidden.response_cost = response.usage.as_ref().and_then(|usage| {
        price(
            response_model_for_cost(&request.model, &response.model),
            &target.provider_name,
            usage,
            options.price_overrides,
            service_tier,
        )
        .or_else(|| {
            price(
                &request.model,
                &target.provider_name,
                usage,
                options.price_overrides,
                service_tier,
            )
        })
    });
    Ok(ChatOutcome::Whole(CompletionResult { response, hidden }))
}
