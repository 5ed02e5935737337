//! Anthropic's Messages API (<https://docs.anthropic.com/en/api/messages>) behind the canonical
//! OpenAI-shaped interface, translated as LiteLLM's `anthropic/` provider does.
//!
//! `request` / `messages` / `tools` / `schema` build the body, `response` and `stream` read the
//! answer, `error` classifies failures, `model` says what a model accepts, `types` holds the wire
//! types. `fixtures` (tests) replays what LiteLLM did with the same inputs.

mod error;
#[cfg(test)]
mod fixtures;
mod messages;
mod model;
pub(crate) mod python_json;
mod request;
mod response;
mod schema;
mod stream;
mod tools;
pub mod types;

use llmrelay_core::types::{ChatChunk, ChatRequest, ChatResponse};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider};

pub use error::{parse_error, stream_error};
pub use model::ModelCapabilities;
pub use request::{beta_headers, messages_body, supported_openai_params};
pub use response::{parse_response, usage_from};
pub use stream::AnthropicChatDecoder;

/// The Messages API version every request pins.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

const ANTHROPIC_BASE: &str = "https://api.anthropic.com";
const MESSAGES_PATH: &str = "/v1/messages";

/// OAuth tokens (Claude subscriptions) authenticate with a bearer header and a beta flag.
const OAUTH_TOKEN_PREFIX: &str = "sk-ant-oat";

/// The Anthropic API.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anthropic;

/// How the request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnthropicAuth {
    /// `x-api-key` (`ANTHROPIC_API_KEY`, or a key passed to the call).
    ApiKey(String),
    /// `Authorization: Bearer` (`ANTHROPIC_AUTH_TOKEN`, as the official SDK uses it).
    AuthToken(String),
}

/// `{api_base}/v1/messages`; a base already ending in `/v1/messages` is used as is.
#[must_use]
pub fn messages_url(api_base: &str, add_suffix: bool) -> String {
    let base = api_base.trim_end_matches('/');
    if !add_suffix || base.ends_with(MESSAGES_PATH) {
        base.to_owned()
    } else {
        format!("{base}{MESSAGES_PATH}")
    }
}

/// The HTTP request for a chat call: pure given the authentication, the caller's headers and
/// LiteLLM's `drop_params` flag.
///
/// # Errors
/// See [`messages_body`].
pub fn build_chat_request(
    request: &ChatRequest,
    url: String,
    auth: &AnthropicAuth,
    extra_headers: &[(String, String)],
    drop_params: bool,
) -> Result<HttpRequest> {
    let body = messages_body(request, drop_params)?;
    let oauth = matches!(auth, AnthropicAuth::ApiKey(key) if key.starts_with(OAUTH_TOKEN_PREFIX));
    let caller_betas: Vec<String> = extra_headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("anthropic-beta"))
        .flat_map(|(_, value)| value.split(',').map(|b| b.trim().to_owned()))
        .collect();
    let betas = beta_headers(request, &body, &caller_betas, oauth);
    let mut headers = Vec::with_capacity(6 + extra_headers.len());
    headers.extend(
        extra_headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("anthropic-beta"))
            .cloned(),
    );
    headers.push(("anthropic-version".to_owned(), ANTHROPIC_VERSION.to_owned()));
    headers.push(("accept".to_owned(), "application/json".to_owned()));
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    match auth {
        AnthropicAuth::ApiKey(key) if oauth => {
            headers.push(("authorization".to_owned(), format!("Bearer {key}")));
            headers.push((
                "anthropic-dangerous-direct-browser-access".to_owned(),
                "true".to_owned(),
            ));
        }
        AnthropicAuth::ApiKey(key) => headers.push(("x-api-key".to_owned(), key.clone())),
        AnthropicAuth::AuthToken(token) => {
            headers.push(("authorization".to_owned(), format!("Bearer {token}")));
        }
    }
    if !betas.is_empty() {
        headers.push(("anthropic-beta".to_owned(), betas.join(",")));
    }
    Ok(HttpRequest {
        url,
        headers,
        body: serde_json::to_vec(&body)?,
    })
}

/// Anthropic's rate-limit headers under the OpenAI names LiteLLM also exposes them as
/// (`anthropic-ratelimit-requests-limit` → `x-ratelimit-limit-requests`, …), for the engine's
/// `_hidden_params` / proxy headers.
#[must_use]
pub fn openai_rate_limit_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    const NAMES: &[(&str, &str)] = &[
        (
            "anthropic-ratelimit-requests-limit",
            "x-ratelimit-limit-requests",
        ),
        (
            "anthropic-ratelimit-requests-remaining",
            "x-ratelimit-remaining-requests",
        ),
        (
            "anthropic-ratelimit-tokens-limit",
            "x-ratelimit-limit-tokens",
        ),
        (
            "anthropic-ratelimit-tokens-remaining",
            "x-ratelimit-remaining-tokens",
        ),
    ];
    NAMES
        .iter()
        .filter_map(|(anthropic, openai)| {
            let (_, value) = headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(anthropic))?;
            Some(((*openai).to_owned(), value.clone()))
        })
        .collect()
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The engine resolves `ANTHROPIC_API_KEY` then `ANTHROPIC_AUTH_TOKEN` into one key; a key that
/// came from the auth token (no API key set) is sent as a bearer token.
fn resolve_auth(key: &str) -> AnthropicAuth {
    let from_auth_token = env_value("ANTHROPIC_API_KEY").is_none()
        && env_value("ANTHROPIC_AUTH_TOKEN").as_deref() == Some(key);
    if from_auth_token {
        AnthropicAuth::AuthToken(key.to_owned())
    } else {
        AnthropicAuth::ApiKey(key.to_owned())
    }
}

impl Provider for Anthropic {
    fn supported_openai_params(&self, model: &str) -> Option<Vec<&'static str>> {
        Some(supported_openai_params(model))
    }

    fn rate_limit_headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        openai_rate_limit_headers(headers)
    }

    /// Anthropic fetches `https` URLs itself; plain `http` ones are downloaded and sent inline,
    /// as LiteLLM does.
    fn inlines_image_url(&self, url: &str) -> bool {
        url.starts_with("http://")
    }

    fn name(&self) -> &str {
        "anthropic"
    }

    fn default_api_base(&self) -> Option<&str> {
        Some(ANTHROPIC_BASE)
    }

    fn api_key_env(&self) -> &[&'static str] {
        &["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
    }

    fn api_base_env(&self) -> &[&'static str] {
        &["ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"]
    }

    fn requires_api_key(&self) -> bool {
        true
    }

    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        let Some(key) = endpoint.api_key.as_deref().filter(|k| !k.is_empty()) else {
            return Err(Error::new(
                ErrorKind::Authentication,
                "Missing Anthropic API Key - A call is being made to anthropic but no key is set either in \
                 the environment variables or via params. Please set `ANTHROPIC_API_KEY` or \
                 `ANTHROPIC_AUTH_TOKEN` in your environment vars",
            )
            .with_provider("anthropic")
            .with_model(&request.model));
        };
        let add_suffix = env_value("LITELLM_ANTHROPIC_DISABLE_URL_SUFFIX")
            .is_none_or(|v| !matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
        build_chat_request(
            request,
            messages_url(&endpoint.api_base, add_suffix),
            &resolve_auth(key),
            &endpoint.extra_headers,
            endpoint.drop_params,
        )
    }

    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        parse_response(body, request)
    }

    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(AnthropicChatDecoder::new(request))
    }

    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }

    fn count_tokens_request(
        &self,
        request: &ChatRequest,
        endpoint: &Endpoint,
    ) -> Option<Result<HttpRequest>> {
        // Like LiteLLM: without a key there is nothing to ask, and the count is local.
        let key = endpoint.api_key.as_deref().filter(|k| !k.is_empty())?;
        Some(build_count_tokens_request(
            request,
            &endpoint.api_base,
            &resolve_auth(key),
            &endpoint.extra_headers,
        ))
    }

    fn count_tokens_response(&self, body: &[u8]) -> Result<u64> {
        parse_count_tokens(body)
    }
}

/// The body fields the count-tokens endpoint accepts
/// (<https://docs.anthropic.com/en/api/messages-count-tokens>).
const COUNT_TOKENS_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "mcp_servers",
];

/// `POST {api_base}/v1/messages/count_tokens` for a chat request: the same translation as the
/// chat call (so OpenAI-shaped messages, system prompts and tools count as they will be sent),
/// with only the fields the endpoint takes, and the token-counting beta LiteLLM sends.
///
/// # Errors
/// See [`messages_body`].
pub fn build_count_tokens_request(
    request: &ChatRequest,
    api_base: &str,
    auth: &AnthropicAuth,
    extra_headers: &[(String, String)],
) -> Result<HttpRequest> {
    let mut http = build_chat_request(
        request,
        format!("{}/count_tokens", messages_url(api_base, true)),
        auth,
        extra_headers,
        true,
    )?;
    let mut body: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&http.body)?;
    body.retain(|key, _| COUNT_TOKENS_FIELDS.contains(&key.as_str()));
    http.body = serde_json::to_vec(&body)?;
    let beta = http
        .headers
        .iter_mut()
        .find(|(name, _)| name.eq_ignore_ascii_case("anthropic-beta"));
    match beta {
        Some((_, value)) if !value.split(',').any(|b| b.trim() == COUNT_TOKENS_BETA) => {
            value.push(',');
            value.push_str(COUNT_TOKENS_BETA);
        }
        Some(_) => {}
        None => http
            .headers
            .push(("anthropic-beta".to_owned(), COUNT_TOKENS_BETA.to_owned())),
    }
    Ok(http)
}

/// The beta flag LiteLLM sends with count-tokens calls.
const COUNT_TOKENS_BETA: &str = "token-counting-2024-11-01";

/// `{"input_tokens": N}`.
///
/// # Errors
/// A body without a non-negative integer `input_tokens`.
pub fn parse_count_tokens(body: &[u8]) -> Result<u64> {
    let value: serde_json::Value = serde_json::from_slice(body)?;
    value
        .get("input_tokens")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Api,
                "AnthropicException - count_tokens response has no input_tokens",
            )
        })
}

#[cfg(test)]
mod tests {
    async fn chat_call(
        params: serde_json::Map<String, serde_json::Value>,
    ) -> llmrelay_core::Result<crate::engine::ChatOutcome> {
        crate::Engine
            .run(llmrelay_core::CallKind::Chat, params)
            .await?
            .into_chat()
    }

    use super::*;
    use serde_json::Value;

    /// The headers LiteLLM's recordings keep (`anthropic-beta` is compared as a set: LiteLLM
    /// joins a Python set, so its order varies).
    fn kept_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
        let mut kept: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "anthropic-version"
                        | "anthropic-beta"
                        | "x-api-key"
                        | "authorization"
                        | "anthropic-dangerous-direct-browser-access"
                        | "content-type"
                )
            })
            .map(|(k, v)| {
                if k == "anthropic-beta" {
                    let mut betas: Vec<&str> = v.split(',').map(str::trim).collect();
                    betas.sort_unstable();
                    (k, betas.join(","))
                } else {
                    (k, v)
                }
            })
            .collect();
        kept.sort();
        kept
    }

    /// Body and headers per <https://docs.anthropic.com/en/api/messages-count-tokens>.
    #[test]
    fn count_tokens_request_keeps_only_counted_fields() {
        let request: ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "claude-sonnet-4-5",
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
            "max_tokens": 10, "temperature": 0.2, "stream": true,
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
        }))
        .unwrap();
        let http = build_count_tokens_request(
            &request,
            "https://api.anthropic.com/",
            &AnthropicAuth::ApiKey("sk-ant".into()),
            &[("anthropic-beta".into(), "files-api-2025-04-14".into())],
        )
        .unwrap();
        assert_eq!(
            http.url,
            "https://api.anthropic.com/v1/messages/count_tokens"
        );
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["messages", "model", "system", "tools"]);
        assert_eq!(body["system"][0]["text"], "be brief");
        let beta = &http
            .headers
            .iter()
            .find(|(k, _)| k == "anthropic-beta")
            .unwrap()
            .1;
        assert_eq!(beta, "files-api-2025-04-14,token-counting-2024-11-01");
        assert_eq!(parse_count_tokens(br#"{"input_tokens": 14}"#).unwrap(), 14);
        assert!(parse_count_tokens(br#"{"tokens": 14}"#).is_err());
    }

    #[test]
    fn requests_match_litellm() {
        fixtures::check_all("req_", &[], |name, case| {
            let request = fixtures::request_of(case);
            let key = case["api_key"].as_str().unwrap_or("sk-test");
            let extra_headers: Vec<(String, String)> = case["extra_headers"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let result = build_chat_request(
                &request,
                messages_url("http://127.0.0.1:4000", true),
                &AnthropicAuth::ApiKey(key.to_owned()),
                &extra_headers,
                case["drop_params"].as_bool().unwrap_or(false),
            );
            if let Some(expected) = case.get("expected_error") {
                let error = result
                    .err()
                    .unwrap_or_else(|| panic!("{name}: expected an error"));
                fixtures::assert_error(name, expected, &error);
                return;
            }
            let http = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let expected = &case["expected"];
            assert_eq!(
                http.url,
                format!(
                    "http://127.0.0.1:4000{}",
                    expected["path"].as_str().unwrap()
                ),
                "{name}"
            );
            let body: Value = serde_json::from_slice(&http.body).unwrap();
            fixtures::assert_same(name, &expected["body"], &body);
            let expected_headers: Vec<(String, String)> = expected["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            assert_eq!(
                kept_headers(&http.headers),
                kept_headers(&expected_headers),
                "{name}"
            );
        });
    }

    #[test]
    fn urls_and_auth() {
        assert_eq!(
            messages_url("https://api.anthropic.com/", true),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(
            messages_url("http://proxy/v1/messages", true),
            "http://proxy/v1/messages"
        );
        assert_eq!(
            messages_url("http://proxy/custom", false),
            "http://proxy/custom"
        );
        let request: ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]
        }))
        .unwrap();
        let http = build_chat_request(
            &request,
            "http://x/v1/messages".to_owned(),
            &AnthropicAuth::AuthToken("tok".to_owned()),
            &[("X-Trace".to_owned(), "1".to_owned())],
            false,
        )
        .unwrap();
        assert!(
            http.headers
                .contains(&("authorization".to_owned(), "Bearer tok".to_owned()))
        );
        assert!(
            http.headers
                .contains(&("X-Trace".to_owned(), "1".to_owned()))
        );
        assert!(!http.headers.iter().any(|(k, _)| k == "x-api-key"));
    }

    #[test]
    fn rate_limit_headers_get_openai_names() {
        let headers = vec![
            (
                "anthropic-ratelimit-requests-remaining".to_owned(),
                "49".to_owned(),
            ),
            ("retry-after".to_owned(), "3".to_owned()),
        ];
        assert_eq!(
            openai_rate_limit_headers(&headers),
            vec![("x-ratelimit-remaining-requests".to_owned(), "49".to_owned())]
        );
    }

    #[test]
    fn registered_and_keyed_as_litellm() {
        let provider = crate::registry::lookup("anthropic").unwrap();
        assert_eq!(provider.name(), "anthropic");
        assert_eq!(
            provider.api_key_env(),
            ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
        );
        assert_eq!(
            provider.api_base_env(),
            ["ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"]
        );
        assert!(provider.requires_api_key());
        assert!(crate::registry::implemented().contains(&"anthropic"));
        let request: ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]
        }))
        .unwrap();
        let endpoint = Endpoint {
            api_base: "http://x".to_owned(),
            ..Endpoint::default()
        };
        let error = provider.chat_request(&request, &endpoint).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication);
    }

    /// One-shot upstream: answers the first request with `status`, `content_type` and `body`,
    /// and hands back what it was sent.
    async fn upstream(
        status: u16,
        content_type: &'static str,
        body: String,
    ) -> (String, tokio::task::JoinHandle<(String, Value)>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            let mut buffer = [0u8; 4096];
            let (head, sent) = loop {
                let n = socket.read(&mut buffer).await.unwrap();
                received.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&received).into_owned();
                if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if rest.len() >= length {
                        break (head.to_owned(), serde_json::from_str(rest).unwrap());
                    }
                }
            };
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nretry-after: 0\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.shutdown().await.ok();
            (head, sent)
        });
        (base, task)
    }

    fn call_params(base: &str, extra: Value) -> serde_json::Map<String, Value> {
        let mut params = serde_json::json!({
            "model": "anthropic/claude-sonnet-4-5",
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Weather?"}],
            "api_base": base,
            "api_key": "sk-test",
            "num_retries": 0,
        });
        if let (Value::Object(params), Value::Object(extra)) = (&mut params, extra) {
            params.extend(extra);
        }
        match params {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[tokio::test]
    async fn engine_streams_through_the_provider() {
        use crate::engine::ChatOutcome;
        use futures::StreamExt;
        let sse = fixtures::read("stream_tool_use.sse");
        let (base, server) = upstream(200, "text/event-stream", sse).await;
        let params = call_params(
            &base,
            serde_json::json!({"stream": true, "stream_options": {"include_usage": true}}),
        );
        let ChatOutcome::Stream(mut result) = chat_call(params).await.unwrap() else {
            panic!("expected a stream");
        };
        let mut chunks = Vec::new();
        while let Some(chunk) = result.stream.next().await {
            chunks.push(chunk.unwrap());
        }
        let (head, sent) = server.await.unwrap();
        assert!(head.starts_with("POST /v1/messages "), "{head}");
        assert!(head.contains("x-api-key: sk-test"), "{head}");
        assert_eq!(sent["stream"], true);
        assert_eq!(
            sent["system"],
            serde_json::json!([{"type": "text", "text": "be brief"}])
        );
        assert_eq!(sent["max_tokens"], 64000);
        assert_eq!(result.hidden.custom_llm_provider, "anthropic");
        let arguments: String = chunks
            .iter()
            .flat_map(|c| &c.choices)
            .filter_map(|c| c.delta.tool_calls.as_ref())
            .flatten()
            .filter(|t| t.index == 0)
            .filter_map(|t| t.function.as_ref()?.arguments.clone())
            .collect();
        assert_eq!(arguments, "{\"location\": \"San Francisco, CA\"}");
        let usage = chunks.last().unwrap().usage.as_ref().unwrap();
        assert_eq!(usage.prompt_tokens, 472);
    }

    #[tokio::test]
    async fn engine_parses_whole_responses_and_errors() {
        use crate::engine::ChatOutcome;
        let (base, server) = upstream(
            200,
            "application/json",
            fixtures::read("message_tool_use.json"),
        )
        .await;
        let ChatOutcome::Whole(result) = chat_call(call_params(&base, serde_json::json!({})))
            .await
            .unwrap()
        else {
            panic!("expected a whole response");
        };
        server.await.unwrap();
        let message = &result.response.choices[0].message;
        assert_eq!(
            result.response.choices[0].finish_reason.as_deref(),
            Some("tool_calls")
        );
        assert!(!message.tool_calls.as_ref().unwrap().is_empty());
        assert!(result.hidden.response_cost.unwrap() > 0.0);

        let (base, server) = upstream(
            429,
            "application/json",
            fixtures::read("error_rate_limit.json"),
        )
        .await;
        let error = chat_call(call_params(&base, serde_json::json!({})))
            .await
            .err()
            .unwrap();
        server.await.unwrap();
        assert_eq!(error.kind(), ErrorKind::RateLimit);
        assert!(error.message().starts_with("AnthropicException - {"));
    }
}
