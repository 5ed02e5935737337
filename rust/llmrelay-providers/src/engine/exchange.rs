//! One HTTP exchange with an upstream: send a built request with the call's timeouts, classify
//! an error response, read a whole body. Retries are the dispatcher's (see `retry`), so every
//! attempt is visible to the pipeline.

use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;

use llmrelay_core::{Error, Result};

use super::outcome::HiddenParams;
use super::target::Target;
use crate::http::{self, Timeouts};
use crate::options::CallOptions;
use crate::provider::HttpRequest;
use crate::stream::ChunkStream;
use crate::upstream;

/// Upstream response headers kept in `_hidden_params` / forwarded by the proxy.
fn keep_header(name: &str) -> bool {
    name.starts_with("x-ratelimit-")
        || name.starts_with("anthropic-ratelimit-")
        || name == "x-request-id"
        || name == "request-id"
        || name == "openai-processing-ms"
        || name == "retry-after"
        || name == "retry-after-ms"
}

fn collect_headers(headers: &::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| keep_header(name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

/// An HTTP exchange for one attempt of a call.
pub struct Exchange<'a> {
    pub target: &'a Target,
    pub timeouts: Timeouts,
    /// The model as the caller named it, for error messages.
    pub model_for_errors: &'a str,
    pub stream: bool,
}

/// A successful HTTP response: headers read, body not yet consumed.
pub struct Opened {
    pub response: upstream::Response,
    pub headers: Vec<(String, String)>,
}

impl Exchange<'_> {
    /// Name the provider and model on an error.
    #[must_use]
    pub fn decorate(&self, error: Error) -> Error {
        error
            .with_provider(&self.target.provider_name)
            .with_model(self.model_for_errors)
    }

    /// Let the provider authenticate a built request (signing, tokens).
    ///
    /// # Errors
    /// Missing or unusable credentials.
    pub async fn authorized(&self, mut request: HttpRequest) -> Result<HttpRequest> {
        self.target
            .provider
            .authorize(&mut request, &self.target.endpoint)
            .await
            .map_err(|e| self.decorate(e))?;
        Ok(request)
    }

    /// Send the request; an error status is classified by the provider.
    ///
    /// # Errors
    /// Transport failures, timeouts and error responses, classified.
    pub async fn open(&self, request: HttpRequest) -> Result<Opened> {
        // A stream's body is bounded by the idle limit between chunks, so its total limit
        // applies only until the headers arrive (a whole response is bounded as a whole by
        // `whole`).
        let mut first_byte = self.timeouts.read.or(self.timeouts.connect);
        if let (Some(total), true) = (self.timeouts.total, self.stream) {
            first_byte = Some(first_byte.map_or(total, |limit| limit.min(total)));
        }
        let client = upstream::client();
        let response = http::with_limit(first_byte, "waiting for response headers", async {
            client.post(request).await
        })
        .await
        .map_err(|e| self.decorate(e))?;
        let status = response.status();
        if status < 400 {
            let headers = collect_headers(response.headers());
            return Ok(Opened { response, headers });
        }
        let retry_after = http::retry_after_seconds(response.headers());
        let headers = collect_headers(response.headers());
        let all_headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        let body = response.bytes().await.unwrap_or_default();
        Err(self.decorate(
            self.target
                .provider
                .classify_error(status, &all_headers, &body)
                .with_retry_after(retry_after)
                .with_headers(headers),
        ))
    }

    /// Whole-body exchange: open and read the body.
    ///
    /// # Errors
    /// As [`Exchange::open`], and a body that breaks while read.
    pub async fn whole(&self, request: HttpRequest) -> Result<(Bytes, Vec<(String, String)>)> {
        http::with_limit(self.timeouts.total, "reading the response", async {
            let opened = self.open(request).await?;
            match opened.response.bytes().await {
                Ok(bytes) => Ok((bytes, opened.headers)),
                Err(error) => Err(self.decorate(error)),
            }
        })
        .await
        .map_err(|e| self.decorate(e))
    }

    /// `_hidden_params` for an answer from this target.
    #[must_use]
    pub fn hidden(
        &self,
        headers: Vec<(String, String)>,
        started: Instant,
        options: &CallOptions,
    ) -> HiddenParams {
        hidden(self.target, headers, started, options)
    }
}

/// `_hidden_params` for an answer from `target`.
#[must_use]
pub fn hidden(
    target: &Target,
    mut headers: Vec<(String, String)>,
    started: Instant,
    options: &CallOptions,
) -> HiddenParams {
    let mapped = target.provider.rate_limit_headers(&headers);
    headers.extend(mapped);
    HiddenParams {
        custom_llm_provider: target.provider_name.clone(),
        model: target.model.clone(),
        api_base: Some(target.endpoint.api_base.clone()),
        response_cost: None,
        response_ms: started.elapsed().as_secs_f64() * 1000.0,
        model_id: options.model_id.clone(),
        headers,
        num_retries: 0,
        cache_hit: false,
        cache_key: None,
    }
}

/// Peek the first chunk so a failure before any data fails the attempt (and can be retried
/// or fallen back) before a byte reached the caller.
///
/// # Errors
/// The stream's first item, when it is an error.
pub async fn peek_first<T: Send + 'static>(mut stream: ChunkStream<T>) -> Result<ChunkStream<T>> {
    match stream.next().await {
        None => Ok(futures::stream::empty().boxed()),
        Some(Err(error)) => Err(error),
        Some(Ok(first)) => Ok(futures::stream::once(async { Ok(first) })
            .chain(stream)
            .boxed()),
    }
}
