//! One attempt of a search call: resolve the provider and its credentials, translate, send
//! (GET or POST), translate the answer back and price it.

use std::time::Instant;

use ::http::Method;
use serde_json::{Map, Value};

use llmrelay_core::{Error, Result};

use super::Attempt;
use super::outcome::{CompletionResult, HiddenParams};
use crate::http;
use crate::provider::HttpRequest;
use crate::search::{self, Credentials, ProcessEnvironment, SearchCall};
use crate::upstream;

pub(super) async fn search(
    attempt: &Attempt<'_>,
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
    let call = SearchCall::parse(&body)?;
    let model = format!("{}/search", call.provider.name);
    let decorate = |error: Error| error.with_provider(call.provider.name).with_model(&model);
    let credentials = Credentials {
        api_key: options.api_key.clone(),
        api_base: options.api_base.clone(),
        search_engine_id: call
            .params
            .get("search_engine_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    let built = search::build_request(
        &call,
        &credentials,
        &options.extra_headers,
        &ProcessEnvironment,
    )
    .map_err(decorate)?;
    let sent = sent_params(&call, &built);
    // Where the call went, without the query string (Google's key rides in it).
    let api_base = built
        .url
        .split_once('?')
        .map_or(built.url.as_str(), |(base, _)| base)
        .to_owned();
    let method = if built.get { Method::GET } else { Method::POST };
    let request = HttpRequest {
        url: built.url,
        headers: built.headers,
        body: built.body,
    };
    let provider = call.provider;
    let bytes = http::with_limit(
        options.timeouts.total,
        "waiting for the search response",
        async {
            let response = upstream::client().send(method, request).await?;
            let status = response.status();
            let retry_after = http::retry_after_seconds(response.headers());
            let bytes = response.bytes().await?;
            if status >= 400 {
                return Err(search::error(provider, status, &bytes).with_retry_after(retry_after));
            }
            Ok(bytes)
        },
    )
    .await
    .map_err(decorate)?;
    let response = search::response(&call, &sent, &bytes).map_err(decorate)?;
    let response_cost = search::search_cost(provider, &call.params, &response);
    let hidden = HiddenParams {
        custom_llm_provider: provider.name.to_owned(),
        model,
        api_base: Some(api_base),
        response_cost,
        response_ms: started.elapsed().as_secs_f64() * 1000.0,
        model_id: options.model_id.clone(),
        ..HiddenParams::default()
    };
    Ok(CompletionResult { response, hidden })
}

/// The parameters as sent: the query parameters of a GET, the JSON body of a POST.
fn sent_params(call: &SearchCall, built: &search::SearchHttpRequest) -> Value {
    if built.get {
        search::request_body(call, None, None)
    } else {
        serde_json::from_slice(&built.body).unwrap_or(Value::Null)
    }
}
