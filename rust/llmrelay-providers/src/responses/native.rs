//! OpenAI's own `/responses` endpoint, for providers that have one: the body passed through,
//! the answer priced from its `usage`.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use futures::StreamExt;
use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind, Result};

use super::{NativeDecoder, usage_from_responses};
use crate::engine::exchange::{Exchange, peek_first};
use crate::engine::usage::price;
use crate::engine::{Attempt, CompletionResult, EventStream, Outcome, target};
use crate::stream::{StreamSummary, decode};

/// The attempt through the provider's native Responses API; `None` when it has none (the
/// engine bridges through chat).
///
/// # Errors
/// Every failure of the native call, classified.
pub(crate) async fn attempt(
    attempt: &Attempt<'_>,
    body: &Map<String, Value>,
) -> Result<Option<Outcome>> {
    let options = attempt.options;
    let target = target::resolve(attempt.model, options)?;
    let mut native_body = body.clone();
    if let Some(defaults) = attempt.body_defaults {
        for (key, value) in defaults {
            native_body
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
    }
    native_body.insert("model".to_owned(), Value::String(target.model.clone()));
    let Some(request) = target
        .provider
        .responses_request(&native_body, &target.endpoint)
    else {
        return Ok(None);
    };
    let started = Instant::now();
    let stream = native_body.get("stream").and_then(Value::as_bool) == Some(true);
    let exchange = Exchange {
        target: &target,
        timeouts: options.timeouts,
        model_for_errors: attempt.model,
        stream,
    };
    let request = exchange
        .authorized(request.map_err(|e| exchange.decorate(e))?)
        .await?;
    let provider_name = target.provider_name.clone();
    let upstream_model = target.model.clone();
    let overrides = options.price_overrides;
    if stream {
        let opened = exchange.open(request).await?;
        let idle = options.stream_timeout.or(options.timeouts.read);
        let events = decode(
            opened.response.bytes_stream(),
            target.provider.framing(),
            Box::new(NativeDecoder),
            idle,
        );
        let events = peek_first(events).await.map_err(|e| exchange.decorate(e))?;
        let summary = Arc::new(Mutex::new(StreamSummary::default()));
        let books = Arc::clone(&summary);
        let events = events
            .inspect(move |item| {
                let mut summary = books
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                summary.chunks += 1;
                if summary.completion_start_time.is_none() {
                    summary.completion_start_time = Some(SystemTime::now());
                }
                match item {
                    Ok(event) => {
                        let usage = event
                            .pointer("/response/usage")
                            .and_then(usage_from_responses);
                        if let Some(usage) = usage {
                            summary.response_cost =
                                price(&upstream_model, &provider_name, &usage, overrides, None);
                            summary.usage = Some(usage);
                            summary.finished = true;
                            summary.end_time = Some(SystemTime::now());
                        }
                    }
                    Err(error) => {
                        summary.error = Some(error.message().to_owned());
                        summary.finished = true;
                    }
                }
            })
            .boxed();
        let hidden = exchange.hidden(opened.headers, started, options);
        return Ok(Some(Outcome::Events(EventStream {
            events,
            summary,
            hidden,
        })));
    }
    let (bytes, headers) = exchange.whole(request).await?;
    let response: Value = serde_json::from_slice(&bytes).map_err(|e| {
        exchange.decorate(Error::new(
            ErrorKind::Api,
            format!("OpenAIException - malformed Responses API response: {e}"),
        ))
    })?;
    let mut hidden = exchange.hidden(headers, started, options);
    hidden.response_cost = response
        .get("usage")
        .and_then(usage_from_responses)
        .and_then(|usage| {
            price(
                &target.model,
                &target.provider_name,
                &usage,
                overrides,
                None,
            )
        });
    Ok(Some(Outcome::Json(CompletionResult { response, hidden })))
}
