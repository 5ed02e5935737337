//! Snowflake Cortex REST API: chat and embeddings, as LiteLLM 1.104 calls them.
//!
//! Wire format (Snowflake's "Cortex REST API" reference,
//! <https://docs.snowflake.com/en/user-guide/snowflake-cortex/cortex-rest-api>, and
//! <https://docs.snowflake.com/developer-guide/snowflake-rest-api/reference/cortex-embed>):
//! - base `https://<account_id>.snowflakecomputing.com/api/v2` (`account_id=` or
//!   `SNOWFLAKE_ACCOUNT_ID`; an `api_base` without `/api/v2` gets it appended);
//! - `Authorization: Bearer <token>` with `X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT`
//!   (`SNOWFLAKE_JWT`), or `PROGRAMMATIC_ACCESS_TOKEN` for a key given as `pat/<token>`;
//! - Claude models (`claude-…`) speak Anthropic's Messages API at `/cortex/v1/messages`, every
//!   other model OpenAI's Chat Completions at `/cortex/v1/chat/completions` (where
//!   `max_tokens` is sent as `max_completion_tokens`);
//! - embeddings: `POST /cortex/inference:embed` with `{"text", "model"}`; each answer's
//!   `embedding` is a one-row matrix, flattened as LiteLLM does.

use serde_json::{Map, Value};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::anthropic::{AnthropicAuth, AnthropicChatDecoder, build_chat_request, parse_response};
use crate::openai::{ChatDecoder, chat_body, parse_chat};
use crate::params;
use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider, json_headers};

/// Snowflake Cortex (`snowflake/<model>`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Snowflake;

/// LiteLLM 1.104's `SnowflakeConfig.get_supported_openai_params` (Claude models add
/// `thinking`).
pub const PARAMS: &[&str] = &[
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "stream",
    "tools",
    "tool_choice",
];
const CLAUDE_PARAMS: &[&str] = &[
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "stream",
    "tools",
    "tool_choice",
    "thinking",
];

const TOKEN_TYPE: &str = "x-snowflake-authorization-token-type";
const PAT_PREFIX: &str = "pat/";

fn is_claude(model: &str) -> bool {
    model.starts_with("claude-") || model.starts_with("claude_")
}

fn params_for(model: &str) -> &'static [&'static str] {
    if is_claude(model) {
        CLAUDE_PARAMS
    } else {
        PARAMS
    }
}

/// `{account}.snowflakecomputing.com/api/v2`, or the given base with `/api/v2`.
///
/// # Errors
/// No base and no account, or an account id that is not `[A-Za-z0-9_-]+`.
pub fn api_base(endpoint: &Endpoint, extra: &Map<String, Value>) -> Result<String> {
    let base = if endpoint.api_base.is_empty() {
        let account = extra
            .get("account_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                std::env::var("SNOWFLAKE_ACCOUNT_ID")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .ok_or_else(|| {
                Error::bad_request(
                    "Missing snowflake account_id: pass account_id= or api_base=, or set \
                     SNOWFLAKE_ACCOUNT_ID",
                )
                .with_provider("snowflake")
            })?;
        if account.is_empty()
            || !account
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(Error::bad_request("Invalid account_id format")
                .with_param("account_id")
                .with_provider("snowflake"));
        }
        format!("https://{account}.snowflakecomputing.com/api/v2")
    } else {
        endpoint.api_base.trim_end_matches('/').to_owned()
    };
    Ok(if base.ends_with("/api/v2") {
        base
    } else {
        format!("{base}/api/v2")
    })
}

/// The bearer token and its Snowflake token type.
fn credential(endpoint: &Endpoint, model: &str) -> Result<(String, &'static str)> {
    let key = endpoint
        .api_key
        .as_deref()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Authentication,
                "Missing Snowflake JWT key: pass api_key= or set SNOWFLAKE_JWT",
            )
            .with_provider("snowflake")
            .with_model(model)
        })?;
    Ok(match key.strip_prefix(PAT_PREFIX) {
        Some(token) => (token.to_owned(), "PROGRAMMATIC_ACCESS_TOKEN"),
        None => (key.to_owned(), "KEYPAIR_JWT"),
    })
}

fn cortex_headers(endpoint: &Endpoint, token: &str, token_type: &str) -> Vec<(String, String)> {
    let mut headers = json_headers(endpoint, Some(format!("Bearer {token}")));
    headers.push((TOKEN_TYPE.to_owned(), token_type.to_owned()));
    headers
}

/// The OpenAI-shaped body for a non-Claude model.
///
/// # Errors
/// `UnsupportedParams` (unless dropped), or an unserializable body.
pub fn chat_completions_body(request: &ChatRequest, drop_params: bool) -> Result<Vec<u8>> {
    let mut body: Map<String, Value> = serde_json::from_slice(&chat_body(request)?)?;
    body.remove("account_id");
    params::enforce(&mut body, PARAMS, "snowflake", &request.model, drop_params)?;
    let max_tokens = body.remove("max_tokens");
    if let Some(value) = body.remove("max_completion_tokens").or(max_tokens) {
        body.insert("max_completion_tokens".to_owned(), value);
    }
    body.insert("stream".to_owned(), Value::Bool(request.stream));
    Ok(serde_json::to_vec(&body)?)
}

/// Snowflake's error body (`{"message", "code", "request_id"}`).
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| {
            v.get("message")
                .and_then(Value::as_str)
                .or_else(|| v.pointer("/error/message").and_then(Value::as_str))
        })
        .map_or_else(
            || String::from_utf8_lossy(body).trim().to_owned(),
            str::to_owned,
        );
    Error::from_upstream(status, format!("SnowflakeException - {message}"), parsed)
}

impl Provider for Snowflake {
    fn name(&self) -> &str {
        "snowflake"
    }
    fn default_api_base(&self) -> Option<&str> {
        None
    }
    fn derived_api_base(&self, _credentials: &Map<String, Value>) -> Option<String> {
        // Built per call from `account_id=` / `SNOWFLAKE_ACCOUNT_ID` (see `api_base`); an empty
        // base here means "none given".
        Some(String::new())
    }
    fn api_key_env(&self) -> &[&'static str] {
        &["SNOWFLAKE_JWT"]
    }
    fn api_base_env(&self) -> &[&'static str] {
        &[]
    }
    fn requires_api_key(&self) -> bool {
        true
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        let base = api_base(endpoint, &request.extra)?;
        let (token, token_type) = credential(endpoint, &request.model)?;
        if is_claude(&request.model) {
            // Snowflake's list first (dropping with `drop_params`), then Anthropic's body.
            let mut body: Map<String, Value> = serde_json::from_slice(&chat_body(request)?)?;
            body.remove("account_id");
            params::enforce(
                &mut body,
                CLAUDE_PARAMS,
                "snowflake",
                &request.model,
                endpoint.drop_params,
            )?;
            let request: ChatRequest = serde_json::from_value(Value::Object(body))?;
            let mut extra_headers = endpoint.extra_headers.clone();
            extra_headers.push((TOKEN_TYPE.to_owned(), token_type.to_owned()));
            return build_chat_request(
                &request,
                format!("{base}/cortex/v1/messages"),
                &AnthropicAuth::AuthToken(token),
                &extra_headers,
                endpoint.drop_params,
            );
        }
        Ok(HttpRequest {
            url: format!("{base}/cortex/v1/chat/completions"),
            headers: cortex_headers(endpoint, &token, token_type),
            body: chat_completions_body(request, endpoint.drop_params)?,
        })
    }
    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        if is_claude(&request.model) {
            parse_response(body, request)
        } else {
            parse_chat(body)
        }
    }
    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        if is_claude(&request.model) {
            Box::new(AnthropicChatDecoder::new(request))
        } else {
            Box::new(ChatDecoder)
        }
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let base = api_base(endpoint, &request.extra)?;
        let (token, token_type) = credential(endpoint, &request.model)?;
        let mut body = request.extra.clone();
        body.remove("account_id");
        body.insert("text".to_owned(), request.input.clone());
        body.insert("model".to_owned(), Value::String(request.model.clone()));
        Ok(HttpRequest {
            url: format!("{base}/cortex/inference:embed"),
            headers: cortex_headers(endpoint, &token, token_type),
            body: serde_json::to_vec(&body)?,
        })
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        let mut parsed: Value = serde_json::from_slice(body)?;
        if let Some(Value::Array(items)) = parsed.get_mut("data") {
            for item in items {
                if let Some(embedding) = item.get_mut("embedding") {
                    if let Some(first) = embedding
                        .as_array()
                        .and_then(|rows| rows.first())
                        .filter(|row| row.is_array())
                        .cloned()
                    {
                        *embedding = first;
                    }
                }
            }
        }
        Ok(serde_json::from_value(parsed)?)
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, model: &str) -> Option<Vec<&'static str>> {
        Some(params_for(model).to_vec())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Fixture: an embed answer of
    /// <https://docs.snowflake.com/developer-guide/snowflake-rest-api/reference/cortex-embed>.
    const EMBED: &str = include_str!("../tests/fixtures/snowflake/embed.json");

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    fn endpoint(base: &str, key: &str) -> Endpoint {
        Endpoint {
            api_base: base.to_owned(),
            api_key: Some(key.to_owned()),
            ..Endpoint::default()
        }
    }

    fn header<'a>(http: &'a HttpRequest, name: &str) -> Option<&'a str> {
        http.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn openai_models_go_to_chat_completions() {
        let r = request(
            json!({"model": "llama3.1-70b", "messages": [{"role": "user", "content": "hi"}],
                               "max_tokens": 10, "account_id": "myorg-acct1"}),
        );
        let http = Snowflake.chat_request(&r, &endpoint("", "jwt-1")).unwrap();
        assert_eq!(
            http.url,
            "https://myorg-acct1.snowflakecomputing.com/api/v2/cortex/v1/chat/completions"
        );
        assert_eq!(header(&http, "authorization"), Some("Bearer jwt-1"));
        assert_eq!(header(&http, TOKEN_TYPE), Some("KEYPAIR_JWT"));
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        assert_eq!(body["max_completion_tokens"], 10);
        assert!(body.get("max_tokens").is_none() && body.get("account_id").is_none());
        assert_eq!(body["stream"], false);
    }

    #[test]
    fn claude_models_go_to_messages_with_a_pat() {
        let r = request(json!({"model": "claude-3-5-sonnet", "messages": [
            {"role": "system", "content": "brief"}, {"role": "user", "content": "hi"}]}));
        let http = Snowflake
            .chat_request(
                &r,
                &endpoint("https://acct.snowflakecomputing.com", "pat/tok"),
            )
            .unwrap();
        assert_eq!(
            http.url,
            "https://acct.snowflakecomputing.com/api/v2/cortex/v1/messages"
        );
        assert_eq!(header(&http, "authorization"), Some("Bearer tok"));
        assert_eq!(header(&http, TOKEN_TYPE), Some("PROGRAMMATIC_ACCESS_TOKEN"));
        assert_eq!(header(&http, "anthropic-version"), Some("2023-06-01"));
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        assert_eq!(body["system"][0]["text"], "brief");
        assert!(body["max_tokens"].as_u64().is_some());
    }

    #[test]
    fn refusals() {
        let r = request(json!({"model": "m", "messages": [], "account_id": "bad.host/x"}));
        let error = Snowflake.chat_request(&r, &endpoint("", "k")).unwrap_err();
        assert!(error.message().contains("Invalid account_id"));
        let r = request(json!({"model": "m", "messages": [], "seed": 1}));
        let error = Snowflake
            .chat_request(&r, &endpoint("https://h/api/v2", "k"))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnsupportedParams);
        let mut no_key = endpoint("https://h", "");
        no_key.api_key = None;
        let r = request(json!({"model": "m", "messages": []}));
        let error = Snowflake.chat_request(&r, &no_key).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication);
    }

    #[test]
    fn embeddings_are_flattened() {
        let r: EmbeddingRequest = serde_json::from_value(
            json!({"model": "snowflake-arctic-embed-m", "input": ["a", "b"]}),
        )
        .unwrap();
        let http = Snowflake
            .embedding_request(&r, &endpoint("https://h", "k"))
            .unwrap();
        assert_eq!(http.url, "https://h/api/v2/cortex/inference:embed");
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        assert_eq!(body["text"], json!(["a", "b"]));
        let response = Snowflake.embedding_response(EMBED.as_bytes()).unwrap();
        assert_eq!(response.data.len(), 2);
        assert_eq!(response.data[0].embedding, json!([0.0161, -0.0268, 0.0395]));
        assert_eq!(response.usage.unwrap().total_tokens, 6);

        let error = parse_error(
            400,
            br#"{"message": "unknown model \"x\"", "code": "390142", "request_id": "r"}"#,
        );
        assert_eq!(error.kind(), ErrorKind::BadRequest);
        assert_eq!(error.message(), "SnowflakeException - unknown model \"x\"");
    }
}
