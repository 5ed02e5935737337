//! One attempt of a legacy text completion (`/completions`).

use std::time::Instant;

use llmrelay_core::types::TextCompletionRequest;
use llmrelay_core::{Result, detect};

use super::exchange::{Exchange, peek_first};
use super::outcome::{CompletionResult, StreamResult, TextOutcome};
use super::usage::{price, prompt_text, text_finisher};
use super::{Attempt, target};
use crate::mock;
use crate::stream::{AccountedStream, decode};

pub(super) async fn text(
    attempt: &Attempt<'_>,
    request: &TextCompletionRequest,
) -> Result<TextOutcome> {
    let started = Instant::now();
    let options = attempt.options;
    let mut request = match attempt.body_defaults {
        Some(defaults) if !defaults.is_empty() => super::with_body_defaults(request, defaults)?,
        _ => request.clone(),
    };
    attempt.model.clone_into(&mut request.model);
    if let Some(mock) = &options.mock_response {
        let provider_name =
            detect::resolve(attempt.model, options.custom_llm_provider.as_deref(), None)
                .map_or_else(|_| "text-completion-openai".to_owned(), |r| r.provider);
        return mock::text(&request, options, mock, &provider_name, started).await;
    }
    let target = target::resolve(attempt.model, options)?;
    request.model.clone_from(&target.model);
    let exchange = Exchange {
        target: &target,
        timeouts: options.timeouts,
        model_for_errors: attempt.model,
        stream: request.stream,
    };
    let http_request = exchange
        .authorized(
            target
                .provider
                .text_completion_request(&request, &target.endpoint)
                .map_err(|e| exchange.decorate(e))?,
        )
        .await?;
    if request.stream {
        let opened = exchange.open(http_request).await?;
        let idle = options.stream_timeout.or(options.timeouts.read);
        let inner = decode(
            opened.response.bytes_stream(),
            target.provider.framing(),
            target.provider.text_completion_decoder(),
            idle,
        );
        let inner = peek_first(inner).await.map_err(|e| exchange.decorate(e))?;
        let hidden = exchange.hidden(opened.headers, started, options);
        let finisher = text_finisher(
            request.model.clone(),
            prompt_text(&request.prompt),
            target.provider_name.clone(),
            options.price_overrides,
        );
        let stream = AccountedStream::new(inner, false, target.model.clone(), finisher);
        return Ok(TextOutcome::Stream(StreamResult { stream, hidden }));
    }
    let (bytes, headers) = exchange.whole(http_request).await?;
    let response = target
        .provider
        .text_completion_response(&bytes)
        .map_err(|e| exchange.decorate(e))?;
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
    Ok(TextOutcome::Whole(CompletionResult { response, hidden }))
}
