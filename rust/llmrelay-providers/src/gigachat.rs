//! Sber's GigaChat: chat and embeddings, as LiteLLM 1.104 calls them.
//!
//! Wire format (GigaChat's REST reference,
//! <https://developers.sber.ru/docs/ru/gigachat/api/reference/rest/post-chat>, `post-embeddings`
//! and `post-token`):
//! - credentials: `GIGACHAT_CREDENTIALS` / `GIGACHAT_API_KEY` (or `api_key=`) hold the base64
//!   `client_id:client_secret` "authorization key"; it is exchanged at
//!   `https://ngw.devices.sberbank.ru:9443/api/v2/oauth` (`GIGACHAT_AUTH_URL` /
//!   `gigachat_auth_url=`) with `Authorization: Basic <key>`, an `RqUID` and the form
//!   `scope=GIGACHAT_API_PERS` (`GIGACHAT_SCOPE` / `gigachat_scope=`) for
//!   `{"access_token", "expires_at"}` (milliseconds), cached until a minute before it expires;
//!   a ready token can be given as `gigachat_access_token=` / `GIGACHAT_ACCESS_TOKEN`;
//! - chat: `POST {base}/chat/completions` (base `https://gigachat.devices.sberbank.ru/api/v1`,
//!   `GIGACHAT_API_BASE`) with GigaChat's dialect: `functions` / `function_call` instead of
//!   `tools` / `tool_choice`, `role: "function"` results, one `function_call` per assistant
//!   message with its `arguments` as an object; a `json_schema` response format becomes a
//!   forced function whose arguments are the answer. `temperature: 0` is sent as `top_p: 0`,
//!   `stop` is not sent, and only GigaChat's keys reach the body.
//! - answers: `finish_reason: "function_call"` becomes an OpenAI tool call;
//!   `precached_prompt_tokens` count as cached prompt tokens.
//! - embeddings: `POST {base}/embeddings` with `{"model", "input": [...]}`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::openai::{ChatDecoder, chat_body, parse_chat, parse_embedding};
use crate::params;
use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider, json_headers};
use crate::sse::RawEvent;

/// GigaChat (`gigachat/<model>`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GigaChat;

/// LiteLLM 1.104's `GigaChatConfig.get_supported_openai_params`.
pub const PARAMS: &[&str] = &[
    "stream",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "tools",
    "tool_choice",
    "functions",
    "function_call",
    "response_format",
];

const DEFAULT_BASE: &str = "https://gigachat.devices.sberbank.ru/api/v1";
const DEFAULT_AUTH_URL: &str = "https://ngw.devices.sberbank.ru:9443/api/v2/oauth";
const DEFAULT_SCOPE: &str = "GIGACHAT_API_PERS";
/// LiteLLM renews a minute before `expires_at`.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
const TOKEN_CACHE_PREFIX: &str = "gigachat:";
/// The body keys LiteLLM's `transform_request` copies (besides model and messages).
const FORWARDED: &[&str] = &[
    "temperature",
    "top_p",
    "max_tokens",
    "stream",
    "repetition_penalty",
    "profanity_check",
    "functions",
    "function_call",
];

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

fn credential(credentials: &Map<String, Value>, key: &str, env: &str) -> Option<String> {
    credentials
        .get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .or_else(|| env_first(&[env]))
}

/// The function a `json_schema` response format becomes, when the request has one.
fn structured_output(request: &ChatRequest) -> Option<Value> {
    let format = request.response_format.as_ref()?;
    if format.get("type").and_then(Value::as_str) != Some("json_schema") {
        return None;
    }
    let schema = format.get("json_schema");
    let name = schema
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("structured_output");
    Some(json!({
        "name": name,
        "description": format!("Output structured response: {name}"),
        "parameters": schema.and_then(|s| s.get("schema")).cloned().unwrap_or_else(|| json!({})),
    }))
}

fn is_valid_json(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok()
}

/// OpenAI messages in GigaChat's dialect (LiteLLM's `_transform_messages`).
fn messages(messages: &[Value]) -> Result<Vec<Value>> {
    messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let mut message = message.as_object().cloned().unwrap_or_default();
            message.remove("name");
            let role = message
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("user")
                .to_owned();
            match role.as_str() {
                "developer" => {
                    message.insert("role".to_owned(), "system".into());
                }
                "system" if i > 0 => {
                    message.insert("role".to_owned(), "user".into());
                }
                "tool" => {
                    message.insert("role".to_owned(), "function".into());
                    let content = message.get("content").cloned().unwrap_or(Value::Null);
                    if !content.as_str().is_some_and(is_valid_json) {
                        message.insert("content".to_owned(), content.to_string().into());
                    }
                    message.remove("tool_call_id");
                }
                _ => {}
            }
            match message.get("content") {
                None | Some(Value::Null) => {
                    message.insert("content".to_owned(), "".into());
                }
                Some(Value::Array(parts)) => {
                    let mut texts = Vec::new();
                    for part in parts {
                        match part.get("type").and_then(Value::as_str) {
                            Some("text") => texts.push(
                                part.get("text").and_then(Value::as_str).unwrap_or_default(),
                            ),
                            Some("image_url") => {
                                return Err(Error::bad_request(
                                    "GigaChat reads images as uploaded files (its /files API), \
                                     which llmrelay does not call yet: send text parts only",
                                )
                                .with_param("messages")
                                .with_provider("gigachat"));
                            }
                            _ => {}
                        }
                    }
                    message.insert("content".to_owned(), texts.join("\n").into());
                }
                Some(_) => {}
            }
            if let Some(Value::Array(calls)) = message.remove("tool_calls") {
                if let Some(call) = calls.first() {
                    let function = call.get("function");
                    let arguments = function
                        .and_then(|f| f.get("arguments"))
                        .map_or_else(
                            || json!({}),
                            |a| match a.as_str() {
                                Some(text) => serde_json::from_str(text).unwrap_or_else(|_| json!({})),
                                None => a.clone(),
                            },
                        );
                    message.insert(
                        "function_call".to_owned(),
                        json!({
                            "name": function.and_then(|f| f.get("name")).cloned().unwrap_or_else(|| "".into()),
                            "arguments": arguments,
                        }),
                    );
                }
            }
            Ok(Value::Object(message))
        })
        .collect()
}

/// `tool_choice` → `function_call` (`required` becomes `auto`, as LiteLLM maps it).
fn function_call(choice: &Value) -> Option<Value> {
    match choice {
        Value::String(mode) => match mode.as_str() {
            "none" => Some("none".into()),
            "auto" | "required" => Some("auto".into()),
            _ => None,
        },
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("function") => map
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .map(|name| json!({ "name": name })),
        _ => None,
    }
}

/// The GigaChat chat body.
///
/// # Errors
/// `UnsupportedParams` (unless dropped), image parts, or an unserializable body.
pub fn chat_request_body(request: &ChatRequest, drop_params: bool) -> Result<Vec<u8>> {
    let mut body: Map<String, Value> = serde_json::from_slice(&chat_body(request)?)?;
    params::enforce(&mut body, PARAMS, "gigachat", &request.model, drop_params)?;
    let mut out = Map::new();
    out.insert("model".to_owned(), Value::from(request.model.as_str()));
    let source = body
        .get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    out.insert("messages".to_owned(), Value::Array(messages(source)?));
    // LiteLLM's `map_openai_params`.
    match body.remove("temperature") {
        Some(t) if t.as_f64() == Some(0.0) => {
            out.insert("top_p".to_owned(), 0.into());
        }
        Some(t) => {
            out.insert("temperature".to_owned(), t);
        }
        None => {}
    }
    if let Some(max) = body
        .remove("max_completion_tokens")
        .or_else(|| body.remove("max_tokens"))
    {
        out.insert("max_tokens".to_owned(), max);
    }
    let mut functions: Vec<Value> = body
        .remove("functions")
        .and_then(|f| f.as_array().cloned())
        .unwrap_or_default();
    if let Some(Value::Array(tools)) = body.remove("tools") {
        functions.extend(
            tools
                .iter()
                .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
                .map(|t| {
                    let f = t.get("function");
                    let field = |k: &str, default: Value| {
                        f.and_then(|f| f.get(k)).cloned().unwrap_or(default)
                    };
                    json!({
                        "name": field("name", "".into()),
                        "description": field("description", "".into()),
                        "parameters": field("parameters", json!({})),
                    })
                }),
        );
    }
    if let Some(choice) = body.remove("tool_choice").as_ref().and_then(function_call) {
        body.insert("function_call".to_owned(), choice);
    }
    if let Some(function) = structured_output(request) {
        let name = function["name"].clone();
        functions.push(function);
        body.insert("function_call".to_owned(), json!({ "name": name }));
    }
    if !functions.is_empty() {
        body.insert("functions".to_owned(), Value::Array(functions));
    }
    for key in FORWARDED {
        if let Some(value) = body.remove(*key) {
            out.entry((*key).to_owned()).or_insert(value);
        }
    }
    Ok(serde_json::to_vec(&out)?)
}

/// GigaChat's usage in OpenAI's shape (`precached_prompt_tokens` are cached prompt tokens).
fn usage(usage: &Value) -> Value {
    let get = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
    let precached = get("precached_prompt_tokens");
    let mut out = json!({
        "prompt_tokens": get("prompt_tokens") + precached,
        "completion_tokens": get("completion_tokens"),
        "total_tokens": get("total_tokens") + precached,
    });
    if precached > 0 {
        out["prompt_tokens_details"] = json!({ "cached_tokens": precached });
    }
    out
}

fn tool_call_id() -> String {
    format!("call_{}", &uuid::Uuid::new_v4().simple().to_string()[..24])
}

fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => "{}".to_owned(),
    }
}

/// A GigaChat answer in OpenAI's shape.
fn openai_answer(answer: &Value, model: &str, structured: bool) -> Value {
    let choices: Vec<Value> = answer
        .get("choices")
        .and_then(Value::as_array)
        .map(|choices| {
            choices
                .iter()
                .map(|choice| {
                    let message = choice.get("message").cloned().unwrap_or_else(|| json!({}));
                    let mut finish = choice
                        .get("finish_reason")
                        .and_then(Value::as_str)
                        .unwrap_or("stop")
                        .to_owned();
                    let mut out = json!({
                        "role": message.get("role").cloned().unwrap_or_else(|| "assistant".into()),
                        "content": message.get("content").cloned().unwrap_or(Value::Null),
                    });
                    if finish == "function_call" {
                        if let Some(call) = message.get("function_call") {
                            let arguments = arguments_text(call.get("arguments"));
                            if structured {
                                out["content"] = arguments.into();
                                finish = "stop".to_owned();
                            } else {
                                out["tool_calls"] = json!([{
                                    "id": tool_call_id(),
                                    "type": "function",
                                    "function": {
                                        "name": call.get("name").cloned().unwrap_or_else(|| "".into()),
                                        "arguments": arguments,
                                    },
                                }]);
                                finish = "tool_calls".to_owned();
                            }
                        }
                    }
                    json!({
                        "index": choice.get("index").cloned().unwrap_or_else(|| 0.into()),
                        "message": out,
                        "finish_reason": finish,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let created = answer
        .get("created")
        .and_then(Value::as_u64)
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    json!({
        "id": answer.get("id").cloned().unwrap_or_else(|| format!("chatcmpl-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]).into()),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": usage(answer.get("usage").unwrap_or(&Value::Null)),
    })
}

/// A GigaChat stream chunk in OpenAI's shape.
fn openai_chunk(chunk: &Value, model: &str) -> Value {
    let choices: Vec<Value> = chunk
        .get("choices")
        .and_then(Value::as_array)
        .map(|choices| {
            choices
                .iter()
                .map(|choice| {
                    let delta = choice.get("delta").cloned().unwrap_or_else(|| json!({}));
                    let mut finish = choice.get("finish_reason").cloned().unwrap_or(Value::Null);
                    let mut out = json!({
                        "content": delta.get("content").cloned().unwrap_or(Value::Null),
                    });
                    if let Some(role) = delta.get("role") {
                        out["role"] = role.clone();
                    }
                    if finish.as_str() == Some("function_call") {
                        if let Some(call) = delta.get("function_call") {
                            out["tool_calls"] = json!([{
                                "index": 0,
                                "id": tool_call_id(),
                                "type": "function",
                                "function": {
                                    "name": call.get("name").cloned().unwrap_or_else(|| "".into()),
                                    "arguments": arguments_text(call.get("arguments")),
                                },
                            }]);
                            finish = "tool_calls".into();
                        }
                    }
                    json!({
                        "index": choice.get("index").cloned().unwrap_or_else(|| 0.into()),
                        "delta": out,
                        "finish_reason": finish,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = json!({
        "id": chunk.get("id").cloned().unwrap_or_else(|| "chatcmpl-gigachat".into()),
        "object": "chat.completion.chunk",
        "created": chunk.get("created").cloned().unwrap_or_else(|| 0.into()),
        "model": model,
        "choices": choices,
    });
    if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
        out["usage"] = usage(u);
    }
    out
}

struct GigaChatDecoder {
    model: String,
    inner: ChatDecoder,
}

impl ChunkDecoder<ChatChunk> for GigaChatDecoder {
    fn decode(&mut self, event: &RawEvent, out: &mut Vec<ChatChunk>) -> Result<bool> {
        let data = event.data.trim();
        if data == "[DONE]" || data.is_empty() {
            return self.inner.decode(event, out);
        }
        let chunk: Value = serde_json::from_str(data)?;
        let event = RawEvent {
            event: event.event.clone(),
            data: openai_chunk(&chunk, &self.model).to_string(),
        };
        self.inner.decode(&event, out)
    }
}

/// Exchange GigaChat's authorization key for an access token at `auth_url`, cached.
///
/// # Errors
/// An unreachable endpoint or a refused key (`AuthenticationError` with the endpoint's reason).
pub async fn exchange_credentials(
    auth_url: &str,
    credentials: &str,
    scope: &str,
) -> Result<String> {
    let key = format!("{TOKEN_CACHE_PREFIX}{auth_url}|{scope}|{credentials}");
    crate::token_cache::cached(&key, TOKEN_MARGIN, || async move {
        let auth_error = |status: u16, message: String| {
            Error::new(ErrorKind::Authentication, message)
                .with_status(status)
                .with_provider("gigachat")
        };
        let response = crate::http::client()
            .post(auth_url)
            .header("authorization", format!("Basic {credentials}"))
            .header("rquid", uuid::Uuid::new_v4().to_string())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(format!("scope={}", crate::token_cache::form_encode(scope)))
            .send()
            .await
            .map_err(|e| auth_error(500, format!("GigaChat authentication request failed: {e}")))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| {
            auth_error(
                500,
                format!("GigaChat authentication response unreadable: {e}"),
            )
        })?;
        if status >= 400 {
            // Classified by status, as LiteLLM's `GigaChatAuthError(status_code=…)` is.
            let parsed = serde_json::from_slice(&body).ok();
            return Err(Error::from_upstream(
                status,
                format!(
                    "GigaChat authentication failed: {}",
                    String::from_utf8_lossy(&body)
                ),
                parsed,
            )
            .with_provider("gigachat"));
        }
        let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let token = parsed
            .get("access_token")
            .or_else(|| parsed.get("tok"))
            .and_then(Value::as_str)
            .ok_or_else(|| auth_error(500, format!("Invalid token response: {parsed}")))?;
        let expires_at_ms = parsed
            .get("expires_at")
            .or_else(|| parsed.get("exp"))
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let lifetime = Duration::from_millis(expires_at_ms.saturating_sub(now_ms));
        Ok((token.to_owned(), lifetime))
    })
    .await
}

/// Forget cached access tokens (tests; key rotation).
pub fn clear_token_cache() {
    crate::token_cache::clear(TOKEN_CACHE_PREFIX);
}

fn headers(endpoint: &Endpoint) -> Vec<(String, String)> {
    let token = credential(
        &endpoint.credentials,
        "gigachat_access_token",
        "GIGACHAT_ACCESS_TOKEN",
    );
    json_headers(endpoint, token.map(|token| format!("Bearer {token}")))
}

/// GigaChat's error body (`{"status", "message"}`).
#[must_use]
pub fn parse_error(status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .map_or_else(
            || String::from_utf8_lossy(body).trim().to_owned(),
            str::to_owned,
        );
    Error::from_upstream(status, format!("GigachatException - {message}"), parsed)
}

impl Provider for GigaChat {
    fn name(&self) -> &str {
        "gigachat"
    }
    fn default_api_base(&self) -> Option<&str> {
        Some(DEFAULT_BASE)
    }
    fn api_key_env(&self) -> &[&'static str] {
        &["GIGACHAT_CREDENTIALS", "GIGACHAT_API_KEY"]
    }
    fn api_base_env(&self) -> &[&'static str] {
        &["GIGACHAT_API_BASE"]
    }
    fn requires_api_key(&self) -> bool {
        // A ready access token does instead; `authorize` reports a missing key.
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
            let key = endpoint
                .api_key
                .clone()
                .filter(|k| !k.is_empty())
                .or_else(|| {
                    credential(
                        &endpoint.credentials,
                        "gigachat_credentials",
                        "GIGACHAT_CREDENTIALS",
                    )
                })
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Authentication,
                        "GigaChat credentials not provided. Set GIGACHAT_CREDENTIALS or \
                         GIGACHAT_API_KEY environment variable.",
                    )
                    .with_status(401)
                    .with_provider("gigachat")
                })?;
            let auth_url = credential(
                &endpoint.credentials,
                "gigachat_auth_url",
                "GIGACHAT_AUTH_URL",
            )
            .unwrap_or_else(|| DEFAULT_AUTH_URL.to_owned());
            let scope = credential(&endpoint.credentials, "gigachat_scope", "GIGACHAT_SCOPE")
                .unwrap_or_else(|| DEFAULT_SCOPE.to_owned());
            let token = exchange_credentials(&auth_url, &key, &scope).await?;
            request
                .headers
                .push(("authorization".to_owned(), format!("Bearer {token}")));
            Ok(())
        })
    }
    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        Ok(HttpRequest {
            url: format!(
                "{}/chat/completions",
                endpoint.api_base.trim_end_matches('/')
            ),
            headers: headers(endpoint),
            body: chat_request_body(request, endpoint.drop_params)?,
        })
    }
    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        let answer: Value = serde_json::from_slice(body)?;
        let structured = structured_output(request).is_some();
        parse_chat(&serde_json::to_vec(&openai_answer(
            &answer,
            &request.model,
            structured,
        ))?)
    }
    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(GigaChatDecoder {
            model: request.model.clone(),
            inner: ChatDecoder,
        })
    }
    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let input = match &request.input {
            Value::String(text) => json!([text]),
            other => other.clone(),
        };
        Ok(HttpRequest {
            url: format!("{}/embeddings", endpoint.api_base.trim_end_matches('/')),
            headers: headers(endpoint),
            body: serde_json::to_vec(&json!({"model": request.model, "input": input}))?,
        })
    }
    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        // GigaChat reports usage per item; the total is their sum.
        let mut parsed: Value = serde_json::from_slice(body)?;
        let total: u64 = parsed
            .get("data")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.pointer("/usage/prompt_tokens").and_then(Value::as_u64))
                    .sum()
            })
            .unwrap_or(0);
        if let Some(Value::Array(items)) = parsed.get_mut("data") {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.remove("usage");
            }
        }
        parsed["usage"] = json!({"prompt_tokens": total, "total_tokens": total});
        parse_embedding(&serde_json::to_vec(&parsed)?)
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

    /// Fixture: a function-call answer with the fields of
    /// <https://developers.sber.ru/docs/ru/gigachat/api/reference/rest/post-chat>.
    const FUNCTION_CALL: &str = include_str!("../tests/fixtures/gigachat/function_call.json");

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    fn body(value: Value) -> Value {
        serde_json::from_slice(&chat_request_body(&request(value), false).unwrap()).unwrap()
    }

    #[test]
    fn messages_and_parameters_in_gigachat_dialect() {
        let sent = body(json!({
            "model": "GigaChat-2",
            "messages": [
                {"role": "developer", "content": "rules", "name": "x"},
                {"role": "system", "content": "late system"},
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                    "function": {"name": "weather", "arguments": "{\"city\": \"Moscow\"}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            ],
            "temperature": 0, "max_completion_tokens": 9, "stop": ["x"],
            "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
            "tool_choice": "required", "profanity_check": true, "top_k": 3,
        }));
        let messages = body_messages(&sent);
        assert_eq!(messages[0]["role"], "system");
        assert!(messages[0].get("name").is_none());
        assert_eq!(messages[1]["role"], "user");
        assert_eq!(messages[2]["content"], "a\nb");
        assert_eq!(messages[3]["content"], "");
        assert_eq!(messages[3]["function_call"]["arguments"]["city"], "Moscow");
        assert_eq!(messages[4]["role"], "function");
        assert_eq!(messages[4]["content"], "\"sunny\"");
        assert_eq!(sent["top_p"], 0);
        assert!(sent.get("temperature").is_none() && sent.get("stop").is_none());
        assert!(sent.get("top_k").is_none(), "only GigaChat's keys are sent");
        assert_eq!(sent["max_tokens"], 9);
        assert_eq!(sent["function_call"], "auto");
        assert_eq!(sent["functions"][0]["name"], "weather");
        assert_eq!(sent["profanity_check"], true);
    }

    fn body_messages(sent: &Value) -> Vec<Value> {
        sent["messages"].as_array().unwrap().clone()
    }

    #[test]
    fn structured_output_is_a_forced_function() {
        let r = request(
            json!({"model": "GigaChat", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "city",
                "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
        );
        let sent: Value = serde_json::from_slice(&chat_request_body(&r, false).unwrap()).unwrap();
        assert_eq!(sent["function_call"]["name"], "city");
        assert_eq!(sent["functions"][0]["parameters"]["type"], "object");
        let answer = GigaChat
            .chat_response(FUNCTION_CALL.as_bytes(), &r)
            .unwrap();
        assert_eq!(answer.choices[0].finish_reason.as_deref(), Some("stop"));
        assert!(
            answer.choices[0]
                .message
                .content
                .as_deref()
                .unwrap()
                .contains("Moscow")
        );
    }

    #[test]
    fn function_calls_become_tool_calls_with_cached_tokens() {
        let r = request(json!({"model": "GigaChat", "messages": []}));
        let answer = GigaChat
            .chat_response(FUNCTION_CALL.as_bytes(), &r)
            .unwrap();
        let choice = &answer.choices[0];
        assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
        let value = serde_json::to_value(&choice.message).unwrap();
        assert_eq!(
            value["tool_calls"][0]["function"]["name"],
            "weather_forecast"
        );
        assert!(
            value["tool_calls"][0]["id"]
                .as_str()
                .unwrap()
                .starts_with("call_")
        );
        let usage = answer.usage.unwrap();
        assert_eq!(usage.prompt_tokens, 130);
        assert_eq!(usage.prompt_tokens_details.unwrap().cached_tokens, Some(30));
    }

    #[test]
    fn images_are_refused_and_errors_parse() {
        let r = request(
            json!({"model": "GigaChat", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
        );
        let error = chat_request_body(&r, false).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BadRequest);
        let r = request(json!({"model": "GigaChat", "messages": [], "seed": 3}));
        assert_eq!(
            chat_request_body(&r, false).unwrap_err().kind(),
            ErrorKind::UnsupportedParams
        );
        let error = parse_error(401, br#"{"status": 401, "message": "Unauthorized"}"#);
        assert_eq!(error.kind(), ErrorKind::Authentication);
        assert_eq!(error.message(), "GigachatException - Unauthorized");
    }

    #[test]
    fn stream_chunks_map_function_calls_and_usage() {
        let mut decoder =
            GigaChat.chat_decoder(&request(json!({"model": "GigaChat", "messages": []})));
        let event = |data: &str| RawEvent {
            event: String::new(),
            data: data.to_owned(),
        };
        let mut out = Vec::new();
        decoder
            .decode(
                &event(r#"{"choices":[{"delta":{"content":"","role":"assistant","function_call":{"name":"f","arguments":{"a":1}}},"index":0,"finish_reason":"function_call"}],"created":1,"model":"GigaChat","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#),
                &mut out,
            )
            .unwrap();
        assert!(decoder.decode(&event("[DONE]"), &mut out).unwrap());
        let value = serde_json::to_value(&out[0]).unwrap();
        assert_eq!(value["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            value["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
            "{\"a\":1}"
        );
        assert_eq!(value["usage"]["total_tokens"], 7);
    }
}
