//! IBM watsonx.ai: chat and embeddings, as LiteLLM 1.104 calls them.
//!
//! Wire format (IBM's API reference, <https://cloud.ibm.com/apidocs/watsonx-ai#text-chat> and
//! `#text-embeddings`):
//! - chat: `POST {base}/ml/v1/text/chat?version=2024-03-13` (`/text/chat_stream` streamed, as
//!   server-sent `event: message` items), an OpenAI-shaped body plus `model_id` and
//!   `project_id` (or `space_id`); a model named `deployment/<id>` goes to
//!   `/ml/v1/deployments/<id>/text/chat` with neither. The answer is OpenAI-shaped with IBM's
//!   extra fields (`model_id`, `created_at`, `model_version`); the last streamed item carries
//!   `usage`.
//! - embeddings: `POST {base}/ml/v1/text/embeddings?version=…` with
//!   `{"inputs", "model_id", "project_id", "parameters"}` → `{"results": [{"embedding"}],
//!   "input_token_count"}`.
//! - credentials, in LiteLLM's order: a bearer `token=` / `WATSONX_TOKEN`, else a
//!   `zen_api_key=` / `WATSONX_ZENAPIKEY` (`Authorization: ZenApiKey …`, Cloud Pak for Data),
//!   else the API key exchanged at IBM Cloud IAM (`WATSONX_IAM_URL`, default
//!   `https://iam.cloud.ibm.com/identity/token`, grant
//!   `urn:ibm:params:oauth:grant-type:apikey`) for a bearer token, cached until a minute
//!   before its `expires_in` ([`crate::token_cache`]).
//!
//! LiteLLM's own parameter mapping is kept: `tool_choice` `auto` / `none` / `required` is sent
//! as `tool_choice_option`, and `additionalProperties: false` and `strict` are removed from the
//! tools' schemas.

use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingData, EmbeddingRequest, EmbeddingResponse, Usage,
};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::openai::{ChatDecoder, chat_body, parse_chat};
use crate::params;
use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider, json_headers};
use crate::sse::RawEvent;

/// IBM watsonx.ai (`watsonx/<model_id>`, `watsonx/deployment/<deployment_id>`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Watsonx;

/// LiteLLM 1.104's `IBMWatsonXChatConfig.get_supported_openai_params`.
pub const PARAMS: &[&str] = &[
    "temperature",
    "max_tokens",
    "top_p",
    "frequency_penalty",
    "stop",
    "seed",
    "stream",
    "tools",
    "tool_choice",
    "logprobs",
    "top_logprobs",
    "n",
    "presence_penalty",
    "response_format",
    "reasoning_effort",
];

/// LiteLLM's `WATSONX_DEFAULT_API_VERSION`.
pub const DEFAULT_API_VERSION: &str = "2024-03-13";
const DEFAULT_IAM_URL: &str = "https://iam.cloud.ibm.com/identity/token";
const IAM_GRANT: &str = "urn:ibm:params:oauth:grant-type:apikey";
/// LiteLLM caches the IAM token for `expires_in - 10` seconds; a minute's margin keeps a token
/// from expiring on a slow call.
const IAM_MARGIN: Duration = Duration::from_secs(60);
const TOKEN_CACHE_PREFIX: &str = "watsonx-iam:";

const KEY_ENV: &[&str] = &["WATSONX_APIKEY", "WATSONX_API_KEY", "WX_API_KEY"];
const BASE_ENV: &[&str] = &["WATSONX_API_BASE", "WATSONX_URL", "WX_URL", "WML_URL"];
const PROJECT_ENV: &[&str] = &["WATSONX_PROJECT_ID", "WX_PROJECT_ID", "PROJECT_ID"];
const SPACE_ENV: &[&str] = &[
    "WATSONX_DEPLOYMENT_SPACE_ID",
    "WATSONX_SPACE_ID",
    "WX_SPACE_ID",
    "SPACE_ID",
];

/// Call keywords that configure the call and are never sent in the body.
const CALL_KEYWORDS: &[&str] = &[
    "project_id",
    "space_id",
    "region_name",
    "region",
    "token",
    "zen_api_key",
    "api_version",
    "apikey",
    "url",
];

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Where a call's placement and credentials come from: the call's keywords (`extra`), its
/// `watsonx_*` credentials (`watsonx_project`, `watsonx_credentials`, `watsonx_token`), then the
/// environment.
struct Call<'a> {
    extra: &'a Map<String, Value>,
    credentials: &'a Map<String, Value>,
}

impl Call<'_> {
    fn wx_credentials(&self, key: &str) -> Option<String> {
        self.credentials
            .get("watsonx_credentials")
            .and_then(Value::as_object)
            .and_then(|c| text(c, key))
    }

    fn project_id(&self) -> Option<String> {
        text(self.extra, "project_id")
            .or_else(|| text(self.credentials, "watsonx_project"))
            .or_else(|| env_first(PROJECT_ENV))
    }

    fn space_id(&self) -> Option<String> {
        text(self.extra, "space_id").or_else(|| env_first(SPACE_ENV))
    }

    fn api_version(&self, endpoint: &Endpoint) -> String {
        text(self.extra, "api_version")
            .or_else(|| endpoint.api_version.clone())
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned())
    }

    /// The `Authorization` value known without an exchange: a bearer token, or a Zen API key.
    fn direct_authorization(&self) -> Option<String> {
        let token = text(self.extra, "token")
            .or_else(|| text(self.credentials, "watsonx_token"))
            .or_else(|| self.wx_credentials("token"))
            .or_else(|| self.wx_credentials("watsonx_token"))
            .or_else(|| env_first(&["WATSONX_TOKEN"]));
        if let Some(token) = token {
            return Some(format!("Bearer {token}"));
        }
        text(self.extra, "zen_api_key")
            .or_else(|| env_first(&["WATSONX_ZENAPIKEY"]))
            .map(|key| format!("ZenApiKey {key}"))
    }

    /// `model_id` and `project_id` / `space_id` for the body; none for a deployment.
    fn placement(&self, model: &str) -> Result<Vec<(&'static str, String)>> {
        if model.starts_with("deployment/") {
            return Ok(Vec::new());
        }
        let place = match (self.project_id(), self.space_id()) {
            (Some(project), _) => ("project_id", project),
            (None, Some(space)) => ("space_id", space),
            (None, None) => {
                return Err(Error::new(
                    ErrorKind::Authentication,
                    "Error: Watsonx project_id and space_id not set. Set WX_PROJECT_ID or \
                     WX_SPACE_ID in environment variables or pass in as a parameter.",
                )
                .with_status(401)
                .with_provider("watsonx")
                .with_model(model));
            }
        };
        Ok(vec![("model_id", model.to_owned()), place])
    }
}

/// `{base}{path}?version=…`, with a deployment's own path.
fn url(endpoint: &Endpoint, model: &str, path: &str, version: &str) -> String {
    let base = endpoint.api_base.trim_end_matches('/');
    match model.strip_prefix("deployment/") {
        Some(deployment) => {
            format!("{base}/ml/v1/deployments/{deployment}{path}?version={version}")
        }
        None => format!("{base}/ml/v1{path}?version={version}"),
    }
}

/// Remove `additionalProperties: false` and every `strict` key, recursively (LiteLLM's
/// `_remove_additional_properties` and `_remove_strict_from_schema` on the tools).
fn clean_tool_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                map.remove("additionalProperties");
            }
            map.remove("strict");
            map.values_mut().for_each(clean_tool_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(clean_tool_schema),
        _ => {}
    }
}

/// The chat body: the OpenAI body with watsonx's parameter list enforced, LiteLLM's tool
/// mapping, and the placement fields.
///
/// # Errors
/// `UnsupportedParams` (unless dropped), a missing project / space, or an unserializable body.
pub fn chat_request_body(
    request: &ChatRequest,
    credentials: &Map<String, Value>,
    drop_params: bool,
) -> Result<Vec<u8>> {
    let mut body: Map<String, Value> = serde_json::from_slice(&chat_body(request)?)?;
    for key in CALL_KEYWORDS {
        body.remove(*key);
    }
    params::enforce(&mut body, PARAMS, "watsonx", &request.model, drop_params)?;
    if let Some(tools) = body.get_mut("tools") {
        clean_tool_schema(tools);
    }
    if let Some(choice) = body.remove("tool_choice") {
        let key = match choice.as_str() {
            Some("auto" | "none" | "required") => "tool_choice_option",
            _ => "tool_choice",
        };
        body.insert(key.to_owned(), choice);
    }
    let call = Call {
        extra: &request.extra,
        credentials,
    };
    for (key, value) in call.placement(&request.model)? {
        body.insert(key.to_owned(), Value::String(value));
    }
    Ok(serde_json::to_vec(&body)?)
}

/// The IAM endpoint: `WATSONX_IAM_URL`, else IBM Cloud's.
#[must_use]
pub fn iam_url() -> String {
    env_first(&["WATSONX_IAM_URL"]).unwrap_or_else(|| DEFAULT_IAM_URL.to_owned())
}

/// Exchange an IBM Cloud API key for an IAM bearer token at `iam_url`, cached per endpoint
/// and key.
///
/// # Errors
/// An unreachable endpoint or a refused key (`AuthenticationError`, 401, with IAM's reason).
pub async fn exchange_api_key(iam_url: &str, api_key: &str) -> Result<String> {
    let key = format!("{TOKEN_CACHE_PREFIX}{iam_url}|{api_key}");
    crate::token_cache::cached(&key, IAM_MARGIN, || async move {
        let form = format!(
            "grant_type={}&apikey={}",
            crate::token_cache::form_encode(IAM_GRANT),
            crate::token_cache::form_encode(api_key)
        );
        let auth_error = |message: String| {
            Error::new(ErrorKind::Authentication, message)
                .with_status(401)
                .with_provider("watsonx")
        };
        let response = crate::http::client()
            .post(iam_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(form)
            .send()
            .await
            .map_err(|e| auth_error(format!("watsonx IAM token request failed: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| auth_error(format!("watsonx IAM token response unreadable: {e}")))?;
        let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status >= 400 {
            let reason = parsed
                .get("errorMessage")
                .and_then(Value::as_str)
                .map_or_else(
                    || String::from_utf8_lossy(&body).into_owned(),
                    str::to_owned,
                );
            return Err(auth_error(format!(
                "WatsonxException - IAM token exchange failed ({status}): {reason}"
            )));
        }
        let token = parsed
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| auth_error("watsonx IAM response has no access_token".to_owned()))?;
        let lifetime = parsed
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        Ok((token.to_owned(), Duration::from_secs(lifetime)))
    })
    .await
}

/// Forget cached IAM tokens (tests; key rotation).
pub fn clear_token_cache() {
    crate::token_cache::clear(TOKEN_CACHE_PREFIX);
}

/// A watsonx error body (`{"errors": [{"code", "message"}], "trace", "status_code"}`).
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(Value::as_array)
        .and_then(|errors| errors.first())
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map_or_else(
            || String::from_utf8_lossy(body).trim().to_owned(),
            str::to_owned,
        );
    Error::from_upstream(status, format!("WatsonxException - {message}"), parsed)
}

/// Chat chunks; the stream ends with `[DONE]` or with the item that carries `usage` (IBM's
/// stream has no end marker of its own).
struct WatsonxDecoder {
    inner: ChatDecoder,
}

impl ChunkDecoder<ChatChunk> for WatsonxDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        let before = out.len();
        let done = self.inner.decode(event, out)?;
        Ok(done || out[before..].iter().any(|chunk| chunk.usage.is_some()))
    }
}

impl Provider for Watsonx {
    fn name(&self) -> &str {
        "watsonx"
    }
    fn default_api_base(&self) -> Option<&str> {
        None
    }
    fn api_key_env(&self) -> &[&'static str] {
        KEY_ENV
    }
    fn api_base_env(&self) -> &[&'static str] {
        BASE_ENV
    }
    fn requires_api_key(&self) -> bool {
        // A bearer token or a Zen API key does instead; `authorize` reports a missing key.
        false
    }
    fn authorize<'a>(
        &'a self,
        request: &'a mut HttpRequest,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if request.is_authorized() {
                return Ok(());
            }
            let api_key = endpoint
                .api_key
                .clone()
                .filter(|k| !k.is_empty())
                .or_else(|| {
                    endpoint
                        .credentials
                        .get("watsonx_credentials")
                        .and_then(Value::as_object)
                        .and_then(|c| text(c, "apikey").or_else(|| text(c, "api_key")))
                })
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Authentication,
                        "Error: Watsonx API key not set. Set WATSONX_API_KEY in environment \
                         variables or pass in as parameter - 'api_key='.",
                    )
                    .with_status(401)
                    .with_provider("watsonx")
                })?;
            let token = exchange_api_key(&iam_url(), &api_key).await?;
            request
                .headers
                .push(("authorization".to_owned(), format!("Bearer {token}")));
            Ok(())
        })
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        let body = chat_request_body(request, &endpoint.credentials, endpoint.drop_params)?;
        let call = Call {
            extra: &request.extra,
            credentials: &endpoint.credentials,
        };
        let path = if request.stream {
            "/text/chat_stream"
        } else {
            "/text/chat"
        };
        Ok(HttpRequest {
            url: url(endpoint, &request.model, path, &call.api_version(endpoint)),
            headers: json_headers(endpoint, call.direct_authorization()),
            body,
        })
    }
    fn chat_response(&self, body: &[u8], _request: &ChatRequest) -> Result<ChatResponse> {
        parse_chat(body)
    }
    fn chat_decoder(&self, _request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(WatsonxDecoder { inner: ChatDecoder })
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let inputs = match &request.input {
            Value::String(text) => vec![Value::String(text.clone())],
            Value::Array(items) if items.iter().all(Value::is_string) => items.clone(),
            _ => {
                return Err(Error::bad_request(
                    "WatsonX embeddings require a string or list of strings",
                )
                .with_param("input"));
            }
        };
        let call = Call {
            extra: &request.extra,
            credentials: &endpoint.credentials,
        };
        let mut parameters = request.extra.clone();
        for key in CALL_KEYWORDS {
            parameters.remove(*key);
        }
        let mut body = Map::new();
        body.insert("inputs".to_owned(), Value::Array(inputs));
        body.insert("parameters".to_owned(), Value::Object(parameters));
        for (key, value) in call.placement(&request.model)? {
            body.insert(key.to_owned(), Value::String(value));
        }
        Ok(HttpRequest {
            url: url(
                endpoint,
                &request.model,
                "/text/embeddings",
                &call.api_version(endpoint),
            ),
            headers: json_headers(endpoint, call.direct_authorization()),
            body: serde_json::to_vec(&body)?,
        })
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        let parsed: Value = serde_json::from_slice(body)?;
        let data = parsed
            .get("results")
            .and_then(Value::as_array)
            .map(|results| {
                results
                    .iter()
                    .zip(0u32..)
                    .map(|(result, index)| EmbeddingData {
                        object: "embedding".to_owned(),
                        index,
                        embedding: result.get("embedding").cloned().unwrap_or(json!([])),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let input_tokens = parsed
            .get("input_token_count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        Ok(EmbeddingResponse {
            object: "list".to_owned(),
            data,
            model: parsed
                .get("model_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            usage: Some(Usage {
                prompt_tokens: input_tokens,
                total_tokens: input_tokens,
                ..Usage::default()
            }),
        })
    }
    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(status, body)
    }
    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(PARAMS.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixture: a chat answer with the fields of IBM's `TextChatResponse`
    /// (<https://cloud.ibm.com/apidocs/watsonx-ai#text-chat>).
    const CHAT: &str = include_str!("../tests/fixtures/watsonx/chat.json");
    /// Fixture: an embeddings answer of <https://cloud.ibm.com/apidocs/watsonx-ai#text-embeddings>.
    const EMBEDDINGS: &str = include_str!("../tests/fixtures/watsonx/embeddings.json");

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    fn endpoint() -> Endpoint {
        Endpoint {
            api_base: "https://us-south.ml.cloud.ibm.com/".to_owned(),
            ..Endpoint::default()
        }
    }

    #[test]
    fn chat_body_maps_tools_and_places_the_model() {
        let r = request(json!({
            "model": "ibm/granite-3-8b-instruct",
            "messages": [{"role": "user", "content": "hi"}],
            "project_id": "proj-1",
            "token": "secret",
            "tool_choice": "required",
            "tools": [{"type": "function", "function": {"name": "f", "strict": true,
                "parameters": {"type": "object", "additionalProperties": false,
                               "properties": {"a": {"type": "string"}}}}}],
        }));
        let body: Value =
            serde_json::from_slice(&chat_request_body(&r, &Map::new(), false).unwrap()).unwrap();
        assert_eq!(body["model_id"], "ibm/granite-3-8b-instruct");
        assert_eq!(body["project_id"], "proj-1");
        assert_eq!(body["tool_choice_option"], "required");
        assert!(body.get("tool_choice").is_none());
        assert!(body.get("token").is_none());
        let function = &body["tools"][0]["function"];
        assert!(function.get("strict").is_none());
        assert!(function["parameters"].get("additionalProperties").is_none());

        let named = request(json!({
            "model": "m", "messages": [], "space_id": "sp",
            "tool_choice": {"type": "function", "function": {"name": "f"}},
        }));
        let body: Value =
            serde_json::from_slice(&chat_request_body(&named, &Map::new(), false).unwrap())
                .unwrap();
        assert_eq!(body["space_id"], "sp");
        assert_eq!(body["tool_choice"]["function"]["name"], "f");
    }

    #[test]
    fn unsupported_params_and_missing_project_are_refused() {
        let r = request(json!({"model": "m", "messages": [], "project_id": "p",
                               "logit_bias": {"1": 2}}));
        let error = chat_request_body(&r, &Map::new(), false).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnsupportedParams);
        assert!(chat_request_body(&r, &Map::new(), true).is_ok());

        // Only when the machine sets none of the placement variables (the test sets none).
        if PROJECT_ENV
            .iter()
            .chain(SPACE_ENV)
            .all(|n| std::env::var(n).is_err())
        {
            let r = request(json!({"model": "m", "messages": []}));
            let error = chat_request_body(&r, &Map::new(), false).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Authentication);
            assert!(error.message().contains("project_id and space_id not set"));
        }
    }

    #[test]
    fn urls_for_models_and_deployments() {
        let r = request(
            json!({"model": "ibm/granite", "messages": [], "project_id": "p",
                               "stream": true, "token": "t"}),
        );
        let http = Watsonx.chat_request(&r, &endpoint()).unwrap();
        assert_eq!(
            http.url,
            "https://us-south.ml.cloud.ibm.com/ml/v1/text/chat_stream?version=2024-03-13"
        );
        assert!(
            http.headers
                .contains(&("authorization".to_owned(), "Bearer t".to_owned()))
        );
        let r = request(json!({"model": "deployment/dep-9", "messages": [],
                               "api_version": "2025-01-01", "zen_api_key": "z"}));
        let http = Watsonx.chat_request(&r, &endpoint()).unwrap();
        assert_eq!(
            http.url,
            "https://us-south.ml.cloud.ibm.com/ml/v1/deployments/dep-9/text/chat?version=2025-01-01"
        );
        assert!(
            http.headers
                .contains(&("authorization".to_owned(), "ZenApiKey z".to_owned()))
        );
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        assert!(body.get("model_id").is_none() && body.get("api_version").is_none());
    }

    #[test]
    fn answers_and_errors_parse() {
        let r = request(json!({"model": "ibm/granite-3-8b-instruct", "messages": []}));
        let response = Watsonx.chat_response(CHAT.as_bytes(), &r).unwrap();
        assert_eq!(response.choices[0].finish_reason.as_deref(), Some("stop"));
        assert_eq!(response.usage.as_ref().unwrap().total_tokens, 53);

        let embeddings = Watsonx.embedding_response(EMBEDDINGS.as_bytes()).unwrap();
        assert_eq!(embeddings.data.len(), 2);
        assert_eq!(embeddings.data[1].index, 1);
        assert_eq!(embeddings.usage.unwrap().prompt_tokens, 10);

        let error = parse_error(
            404,
            br#"{"errors":[{"code":"model_not_supported","message":"Model 'x' is not supported"}],"trace":"t","status_code":404}"#,
        );
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert_eq!(
            error.message(),
            "WatsonxException - Model 'x' is not supported"
        );
    }

    #[test]
    fn stream_ends_with_the_usage_item() {
        let mut decoder = Watsonx.chat_decoder(&request(json!({"model": "m", "messages": []})));
        let event = |data: &str| RawEvent {
            event: "message".to_owned(),
            data: data.to_owned(),
        };
        let mut out = Vec::new();
        let first = r#"{"id":"c","model_id":"m","model":"m","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#;
        assert!(!decoder.decode(&event(first), &mut out).unwrap());
        let last = r#"{"id":"c","model_id":"m","model":"m","created":1,"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;
        assert!(decoder.decode(&event(last), &mut out).unwrap());
        assert_eq!(out.len(), 2);
    }
}
