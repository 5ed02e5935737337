//! Anthropic wire format: the Messages API (whole and streamed), token counting, error bodies and headers.
//!
//! Formats follow Anthropic's documentation (docs.claude.com: API reference "Messages", "Count Message tokens",
//! "Errors", "Rate limits"; guides "Streaming Messages", "Tool use", "Extended thinking", "Prompt caching")
//! and the types of the official `anthropic-sdk-python`; each emitting function names the page and SDK type
//! it follows.

mod error;
mod request;
mod response;
mod stream;
mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use axum::routing::post;

use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered, new_id};

pub(crate) use error::{
    MALFORMED_JSON, MALFORMED_SSE_EVENT, check_headers, error_body, fault_error, not_found_error,
    stream_error_event,
};
pub(crate) use tokens::PromptCache;

/// Anthropic routes (the API has no unversioned paths).
pub(crate) fn routes() -> Router<Arc<MockState>> {
    Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
}

/// The `anthropic-beta` header (repeated headers joined with commas, as the API accepts both forms).
fn betas(headers: &HeaderMap) -> String {
    headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) async fn messages(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let betas = betas(&incoming.headers);
    Exchange::serve(
        &state,
        Dialect::Anthropic,
        &incoming,
        |request, exchange| {
            let id = new_id("msg_");
            match response::MessagePlan::new(request.as_ref(), exchange, &state, &betas) {
                Ok(plan) if plan.stream => Rendered::Stream(stream::render_message_stream(
                    &plan,
                    &id,
                    exchange.chunk_count(),
                )),
                Ok(plan) => Rendered::Whole(response::render_message(&plan, &id)),
                Err(error) => Rendered::Error(error),
            }
        },
    )
    .await
}

async fn count_tokens(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    let betas = betas(&incoming.headers);
    Exchange::serve(
        &state,
        Dialect::Anthropic,
        &incoming,
        |request, exchange| response::render_token_count(request.as_ref(), exchange, &betas).into(),
    )
    .await
}

/// Claude on Vertex AI (`rawPredict` / `streamRawPredict`): the Messages answer for a body whose model is in
/// the URL and whose `anthropic_version` is in the body.
/// Follows: Vertex AI "Use Claude models" (request body: `anthropic_version: "vertex-2023-10-16"`, no `model`).
pub(crate) fn render_vertex(
    body: Option<serde_json::Value>,
    model: &str,
    exchange: &Exchange,
    state: &MockState,
) -> Rendered {
    let mut body = body;
    if let Some(serde_json::Value::Object(map)) = &mut body {
        match map.remove("anthropic_version") {
            Some(serde_json::Value::String(version)) if version == "vertex-2023-10-16" => {}
            _ => {
                return Rendered::Error(error::invalid_request(
                    "anthropic_version: Input should be 'vertex-2023-10-16'",
                ));
            }
        }
        if map.contains_key("model") {
            return Rendered::Error(error::invalid_request(
                "model: Extra inputs are not permitted (the model is in the URL)",
            ));
        }
        map.insert(
            "model".to_owned(),
            serde_json::Value::String(model.to_owned()),
        );
    }
    let id = new_id("msg_");
    match response::MessagePlan::new(body.as_ref(), exchange, state, "") {
        Ok(plan) if plan.stream => Rendered::Stream(stream::render_message_stream(
            &plan,
            &id,
            exchange.chunk_count(),
        )),
        Ok(plan) => Rendered::Whole(response::render_message(&plan, &id)),
        Err(error) => Rendered::Error(error),
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const REQUESTS_LIMIT: HeaderName = HeaderName::from_static("anthropic-ratelimit-requests-limit");
const REQUESTS_REMAINING: HeaderName =
    HeaderName::from_static("anthropic-ratelimit-requests-remaining");
const REQUESTS_RESET: HeaderName = HeaderName::from_static("anthropic-ratelimit-requests-reset");
const TOKENS_LIMIT: HeaderName = HeaderName::from_static("anthropic-ratelimit-tokens-limit");
const TOKENS_REMAINING: HeaderName =
    HeaderName::from_static("anthropic-ratelimit-tokens-remaining");
const TOKENS_RESET: HeaderName = HeaderName::from_static("anthropic-ratelimit-tokens-reset");
const INPUT_TOKENS_LIMIT: HeaderName =
    HeaderName::from_static("anthropic-ratelimit-input-tokens-limit");
const INPUT_TOKENS_REMAINING: HeaderName =
    HeaderName::from_static("anthropic-ratelimit-input-tokens-remaining");
const INPUT_TOKENS_RESET: HeaderName =
    HeaderName::from_static("anthropic-ratelimit-input-tokens-reset");
const OUTPUT_TOKENS_LIMIT: HeaderName =
    HeaderName::from_static("anthropic-ratelimit-output-tokens-limit");
const OUTPUT_TOKENS_REMAINING: HeaderName =
    HeaderName::from_static("anthropic-ratelimit-output-tokens-remaining");
const OUTPUT_TOKENS_RESET: HeaderName =
    HeaderName::from_static("anthropic-ratelimit-output-tokens-reset");

/// `retry-after` of an injected 429 when the request sets none (Anthropic always sends one).
const DEFAULT_RETRY_AFTER_SECONDS: u64 = 1;

/// Headers Anthropic sends with every response: the request id and the rate-limit state.
/// Follows: API reference "Errors" ("Request id": `request-id`) and "Rate limits" ("Response headers":
/// `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`, resets in
/// RFC 3339).
pub(crate) fn insert_standard_headers(headers: &mut HeaderMap, request_id: HeaderValue) {
    let reset = rfc3339(crate::unix_seconds() + 1);
    let reset = HeaderValue::from_str(&reset).unwrap_or(HeaderValue::from_static(""));
    headers.insert(REQUEST_ID, request_id);
    headers.insert(REQUESTS_LIMIT, HeaderValue::from_static("4000"));
    headers.insert(REQUESTS_REMAINING, HeaderValue::from_static("3999"));
    headers.insert(REQUESTS_RESET, reset.clone());
    headers.insert(TOKENS_LIMIT, HeaderValue::from_static("2400000"));
    headers.insert(TOKENS_REMAINING, HeaderValue::from_static("2400000"));
    headers.insert(TOKENS_RESET, reset.clone());
    headers.insert(INPUT_TOKENS_LIMIT, HeaderValue::from_static("2000000"));
    headers.insert(INPUT_TOKENS_REMAINING, HeaderValue::from_static("2000000"));
    headers.insert(INPUT_TOKENS_RESET, reset.clone());
    headers.insert(OUTPUT_TOKENS_LIMIT, HeaderValue::from_static("400000"));
    headers.insert(OUTPUT_TOKENS_REMAINING, HeaderValue::from_static("400000"));
    headers.insert(OUTPUT_TOKENS_RESET, reset);
}

/// Headers of a 429: a `retry-after` (the request's `x-mock-retry-after`, else 1 s) and no requests left
/// until then.
/// Follows: API reference "Rate limits" ("retry-after: the number of seconds to wait until you can retry").
pub(crate) fn mark_rate_limited(headers: &mut HeaderMap) {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
    let seconds = retry_after.unwrap_or_else(|| {
        headers.insert(RETRY_AFTER, HeaderValue::from(DEFAULT_RETRY_AFTER_SECONDS));
        DEFAULT_RETRY_AFTER_SECONDS
    });
    let reset = rfc3339(crate::unix_seconds().saturating_add(seconds));
    if let Ok(reset) = HeaderValue::from_str(&reset) {
        headers.insert(REQUESTS_RESET, reset);
    }
    headers.insert(REQUESTS_REMAINING, HeaderValue::from_static("0"));
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (proleptic Gregorian calendar, UTC).
fn rfc3339(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let seconds_of_day = unix_seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's `civil_from_days`), in unsigned arithmetic.
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds_of_day / 3600,
        seconds_of_day % 3600 / 60,
        seconds_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_741_569_952), "2025-03-10T01:25:52Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn rate_limited_responses_get_a_retry_after() {
        let mut headers = HeaderMap::new();
        mark_rate_limited(&mut headers);
        assert_eq!(headers[RETRY_AFTER], "1");
        assert_eq!(headers[REQUESTS_REMAINING], "0");
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("9"));
        mark_rate_limited(&mut headers);
        assert_eq!(headers[RETRY_AFTER], "9");
    }
}
