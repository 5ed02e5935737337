//! Google's Gemini API (`gemini/…`, <https://ai.google.dev/api>) and Vertex AI (`vertex_ai/…`,
//! <https://cloud.google.com/vertex-ai/docs/reference/rest>) behind the canonical OpenAI-shaped
//! interface, as LiteLLM's `gemini` and `vertex_ai` providers translate them.
//!
//! Both speak `generateContent` for Gemini models and share the translation: `request` and
//! `schema` build the body, `response` and `stream` read it, `error` classifies failures,
//! `embeddings` covers `batchEmbedContents` / `predict`. Vertex adds OAuth tokens from service
//! account keys (`auth`) and Claude models through Anthropic's publisher endpoint
//! (`rawPredict` / `streamRawPredict`, body from `crate::anthropic`). Remote image URLs are
//! fetched and inlined (`images`) in the async `authorize` step.

mod auth;
mod embeddings;
mod error;
pub mod model;
mod request;
mod response;
mod schema;
mod stream;
pub mod types;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse,
};
use llmrelay_core::{Error, ErrorKind, Result};

use crate::provider::{ChunkDecoder, Endpoint, HttpRequest, Provider};

pub use auth::{
    GoogleCredentials, access_token, clear_token_cache, parse_credentials, resolve_credentials,
    signed_assertion,
};
pub use embeddings::{batch_embed_body, parse_batch_embed, parse_predict, predict_body};
pub use error::{GoogleApi, parse_error, stream_error_for};
pub use request::{
    THOUGHT_SIGNATURE_SEPARATOR, generate_content_body, reasoning_effort, thinking_param,
};
pub use response::{parse_response, to_chat_response, usage_from};
pub use schema::{function_parameters, response_schema, rewrite_root};
pub use stream::GeminiChatDecoder;

/// The Gemini API host; paths carry the version (`/v1beta/models/…`).
pub const GEMINI_BASE: &str = "https://generativelanguage.googleapis.com";
const GEMINI_VERSION: &str = "v1beta";
const VERTEX_VERSION: &str = "v1";
/// LiteLLM's default Vertex location.
pub const DEFAULT_VERTEX_LOCATION: &str = "us-central1";
/// The Messages API version Anthropic's Vertex endpoint takes, in the body.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// The OpenAI parameters LiteLLM maps for Gemini models.
/// LiteLLM 1.104's `get_supported_openai_params(model, "gemini")`.
const GEMINI_PARAMS: &[&str] = &[
    "frequency_penalty",
    "functions",
    "include_server_side_tool_invocations",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "modalities",
    "n",
    "parallel_tool_calls",
    "presence_penalty",
    "reasoning_effort",
    "response_format",
    "service_tier",
    "stop",
    "stream",
    "temperature",
    "thinking",
    "tool_choice",
    "tools",
    "top_p",
    "web_search_options",
];

/// LiteLLM 1.104's `get_supported_openai_params(model, "vertex_ai")` for Gemini models.
const VERTEX_PARAMS: &[&str] = &[
    "audio",
    "extra_headers",
    "frequency_penalty",
    "functions",
    "include_server_side_tool_invocations",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "modalities",
    "n",
    "parallel_tool_calls",
    "presence_penalty",
    "reasoning_effort",
    "response_format",
    "seed",
    "service_tier",
    "stop",
    "stream",
    "temperature",
    "thinking",
    "tool_choice",
    "tools",
    "top_k",
    "top_logprobs",
    "top_p",
    "web_search_options",
];

/// LiteLLM's supported-parameter check on a typed request: an OpenAI parameter outside
/// `supported` is an `UnsupportedParamsError` unless `drop_params` (the translation then leaves
/// out what Gemini cannot express).
fn check_params(
    request: &ChatRequest,
    supported: &[&str],
    provider: &str,
    drop: bool,
) -> Result<()> {
    if drop {
        return Ok(());
    }
    let typed = [
        ("temperature", request.temperature.is_some()),
        ("top_p", request.top_p.is_some()),
        ("n", request.n.is_some_and(|n| n != 1)),
        ("stop", request.stop.is_some()),
        ("max_tokens", request.max_tokens.is_some()),
        (
            "max_completion_tokens",
            request.max_completion_tokens.is_some(),
        ),
        ("presence_penalty", request.presence_penalty.is_some()),
        ("frequency_penalty", request.frequency_penalty.is_some()),
        ("logit_bias", request.logit_bias.is_some()),
        ("logprobs", request.logprobs.is_some()),
        ("top_logprobs", request.top_logprobs.is_some()),
        ("seed", request.seed.is_some()),
        ("tools", request.tools.is_some()),
        ("tool_choice", request.tool_choice.is_some()),
        ("parallel_tool_calls", request.parallel_tool_calls.is_some()),
        ("response_format", request.response_format.is_some()),
        ("reasoning_effort", request.reasoning_effort.is_some()),
    ];
    let mut names: Vec<&str> = typed
        .iter()
        .filter(|(name, present)| *present && !supported.contains(name))
        .map(|(name, _)| *name)
        .collect();
    names.extend(
        crate::params::CHECKED_CHAT_PARAMS
            .iter()
            .copied()
            .filter(|name| {
                request.extra.get(*name).is_some_and(|v| !v.is_null()) && !supported.contains(name)
            }),
    );
    if names.is_empty() {
        Ok(())
    } else {
        Err(crate::params::unsupported_error(
            provider,
            &request.model,
            &names,
        ))
    }
}

/// The Gemini API (Google AI Studio).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gemini;

/// Vertex AI: Gemini and Claude models, OAuth from service-account keys.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vertex;

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `{base}/{version}` unless the base already names a version.
fn versioned(base: &str, version: &str) -> String {
    let base = base.trim_end_matches('/');
    let last = base.rsplit('/').next().unwrap_or("");
    if last.starts_with("v1") {
        base.to_owned()
    } else {
        format!("{base}/{version}")
    }
}

fn json_headers(extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(extra.len() + 3);
    headers.extend(extra.iter().cloned());
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    headers
}

/// The Gemini API URL of a model method (`generateContent`, `streamGenerateContent?alt=sse`, …).
#[must_use]
pub fn gemini_url(api_base: &str, model: &str, method: &str) -> String {
    format!(
        "{}/models/{model}:{method}",
        versioned(api_base, GEMINI_VERSION)
    )
}

/// Where a Vertex call goes: project and location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexPlacement {
    pub project: String,
    pub location: String,
}

/// `vertex_location`, else `VERTEXAI_LOCATION` / `VERTEX_LOCATION`, else `us-central1`.
#[must_use]
pub fn vertex_location(credentials: &Map<String, Value>) -> String {
    credentials
        .get("vertex_location")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .or_else(|| env_value("VERTEXAI_LOCATION"))
        .or_else(|| env_value("VERTEX_LOCATION"))
        .unwrap_or_else(|| DEFAULT_VERTEX_LOCATION.to_owned())
}

/// The call's project and location.
///
/// # Errors
/// No project anywhere (parameter, environment, or the service account key).
pub fn vertex_placement(credentials: &Map<String, Value>) -> Result<VertexPlacement> {
    let project = credentials
        .get("vertex_project")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .or_else(|| env_value("VERTEXAI_PROJECT"))
        .or_else(|| env_value("VERTEX_PROJECT"))
        .or_else(|| env_value("GOOGLE_CLOUD_PROJECT"))
        .or_else(|| {
            resolve_credentials(credentials)
                .ok()?
                .project_id
                .filter(|p| !p.is_empty())
        })
        .ok_or_else(|| {
            Error::bad_request(
                "Vertex AI needs a project: pass vertex_project or set VERTEXAI_PROJECT \
                 (or GOOGLE_CLOUD_PROJECT)",
            )
            .with_param("vertex_project")
        })?;
    Ok(VertexPlacement {
        project,
        location: vertex_location(credentials),
    })
}

/// `https://{location}-aiplatform.googleapis.com` (`aiplatform.googleapis.com` for `global`).
#[must_use]
pub fn vertex_host(location: &str) -> String {
    if location == "global" {
        "https://aiplatform.googleapis.com".to_owned()
    } else {
        format!("https://{location}-aiplatform.googleapis.com")
    }
}

/// The Vertex URL of a publisher model method.
#[must_use]
pub fn vertex_url(
    api_base: &str,
    placement: &VertexPlacement,
    publisher: &str,
    model: &str,
    method: &str,
) -> String {
    format!(
        "{}/projects/{}/locations/{}/publishers/{publisher}/models/{model}:{method}",
        versioned(api_base, VERTEX_VERSION),
        placement.project,
        placement.location
    )
}

impl Provider for Gemini {
    fn name(&self) -> &str {
        "gemini"
    }

    fn default_api_base(&self) -> Option<&str> {
        Some(GEMINI_BASE)
    }

    fn api_key_env(&self) -> &[&'static str] {
        &["GEMINI_API_KEY", "GOOGLE_API_KEY"]
    }

    fn api_base_env(&self) -> &[&'static str] {
        &["GEMINI_API_BASE"]
    }

    fn requires_api_key(&self) -> bool {
        true
    }

    fn supported_openai_params(&self, _model: &str) -> Option<Vec<&'static str>> {
        Some(GEMINI_PARAMS.to_vec())
    }

    /// Gemini reads no arbitrary URLs: http(s) images are downloaded and sent as `inlineData`.
    fn inlines_image_url(&self, url: &str) -> bool {
        url.starts_with("http://") || url.starts_with("https://")
    }

    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        check_params(request, GEMINI_PARAMS, "gemini", endpoint.drop_params)?;
        let key = gemini_key(endpoint, &request.model)?;
        let method = if request.stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let body = generate_content_body(request)?;
        let mut headers = json_headers(&endpoint.extra_headers);
        headers.push(("x-goog-api-key".to_owned(), key.to_owned()));
        Ok(HttpRequest {
            url: gemini_url(&endpoint.api_base, &request.model, method),
            headers,
            body: serde_json::to_vec(&body)?,
        })
    }

    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        parse_response(body, request)
    }

    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        Box::new(GeminiChatDecoder::new(request, GoogleApi::Gemini))
    }

    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let key = gemini_key(endpoint, &request.model)?;
        let mut headers = json_headers(&endpoint.extra_headers);
        headers.push(("x-goog-api-key".to_owned(), key.to_owned()));
        Ok(HttpRequest {
            url: gemini_url(&endpoint.api_base, &request.model, "batchEmbedContents"),
            headers,
            body: serde_json::to_vec(&batch_embed_body(request)?)?,
        })
    }

    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        parse_batch_embed(body, "")
    }

    fn error(&self, status: u16, body: &[u8]) -> Error {
        parse_error(GoogleApi::Gemini, status, body)
    }
}

fn gemini_key<'a>(endpoint: &'a Endpoint, model: &str) -> Result<&'a str> {
    endpoint
        .api_key
        .as_deref()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Authentication,
                "Missing Gemini API key: pass api_key or set GEMINI_API_KEY (or GOOGLE_API_KEY)",
            )
            .with_provider("gemini")
            .with_model(model)
        })
}

/// The Anthropic Messages body Vertex's `rawPredict` takes: no `model` (it is in the URL),
/// `anthropic_version` in the body instead of a header.
///
/// # Errors
/// See [`crate::anthropic::messages_body`].
pub fn vertex_claude_body(request: &ChatRequest, drop_params: bool) -> Result<Value> {
    let body = crate::anthropic::messages_body(request, drop_params)?;
    let mut value = serde_json::to_value(&body)?;
    if let Value::Object(map) = &mut value {
        map.remove("model");
        map.insert(
            "anthropic_version".to_owned(),
            Value::String(VERTEX_ANTHROPIC_VERSION.to_owned()),
        );
    }
    Ok(value)
}

/// Anthropic's error envelope (`{"type": "error", …}`) as opposed to Google's.
fn is_anthropic_error(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .is_some_and(|v| v.get("type").and_then(Value::as_str) == Some("error"))
}

impl Provider for Vertex {
    /// Vertex reads `gs://` itself; http(s) images are downloaded and inlined (harmless for
    /// Claude on Vertex, which takes base64 too).
    fn inlines_image_url(&self, url: &str) -> bool {
        url.starts_with("http://") || url.starts_with("https://")
    }

    fn name(&self) -> &str {
        "vertex_ai"
    }

    fn default_api_base(&self) -> Option<&str> {
        None
    }

    fn api_key_env(&self) -> &[&'static str] {
        &[]
    }

    fn api_base_env(&self) -> &[&'static str] {
        &[]
    }

    fn requires_api_key(&self) -> bool {
        false
    }

    fn derived_api_base(&self, credentials: &Map<String, Value>) -> Option<String> {
        Some(vertex_host(&vertex_location(credentials)))
    }

    fn supported_openai_params(&self, model: &str) -> Option<Vec<&'static str>> {
        if model::is_claude(model) {
            Some(crate::anthropic::supported_openai_params(model))
        } else {
            Some(VERTEX_PARAMS.to_vec())
        }
    }

    fn authorize<'a>(
        &'a self,
        request: &'a mut HttpRequest,
        endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let credentials = resolve_credentials(&endpoint.credentials)?;
            let token = access_token(&credentials).await?;
            request
                .headers
                .push(("authorization".to_owned(), format!("Bearer {token}")));
            if let Some(quota_project) = &credentials.quota_project_id {
                request
                    .headers
                    .push(("x-goog-user-project".to_owned(), quota_project.clone()));
            }
            Ok(())
        })
    }

    fn chat_request(&self, request: &ChatRequest, endpoint: &Endpoint) -> Result<HttpRequest> {
        if !model::is_claude(&request.model) {
            check_params(request, VERTEX_PARAMS, "vertex_ai", endpoint.drop_params)?;
        }
        let placement = vertex_placement(&endpoint.credentials)?;
        let (publisher, method, body) = if model::is_claude(&request.model) {
            let method = if request.stream {
                "streamRawPredict"
            } else {
                "rawPredict"
            };
            let body = vertex_claude_body(request, endpoint.drop_params)?;
            ("anthropic", method, body)
        } else {
            let method = if request.stream {
                "streamGenerateContent?alt=sse"
            } else {
                "generateContent"
            };
            ("google", method, generate_content_body(request)?)
        };
        Ok(HttpRequest {
            url: vertex_url(
                &endpoint.api_base,
                &placement,
                publisher,
                &request.model,
                method,
            ),
            headers: json_headers(&endpoint.extra_headers),
            body: serde_json::to_vec(&body)?,
        })
    }

    fn chat_response(&self, body: &[u8], request: &ChatRequest) -> Result<ChatResponse> {
        if model::is_claude(&request.model) {
            crate::anthropic::parse_response(body, request)
        } else {
            parse_response(body, request)
        }
    }

    fn chat_decoder(&self, request: &ChatRequest) -> Box<dyn ChunkDecoder<ChatChunk>> {
        if model::is_claude(&request.model) {
            Box::new(crate::anthropic::AnthropicChatDecoder::new(request))
        } else {
            Box::new(GeminiChatDecoder::new(request, GoogleApi::Vertex))
        }
    }

    fn embedding_request(
        &self,
        request: &EmbeddingRequest,
        endpoint: &Endpoint,
    ) -> Result<HttpRequest> {
        let placement = vertex_placement(&endpoint.credentials)?;
        Ok(HttpRequest {
            url: vertex_url(
                &endpoint.api_base,
                &placement,
                "google",
                &request.model,
                "predict",
            ),
            headers: json_headers(&endpoint.extra_headers),
            body: serde_json::to_vec(&predict_body(request)?)?,
        })
    }

    fn embedding_response(&self, body: &[u8]) -> Result<EmbeddingResponse> {
        parse_predict(body, "")
    }

    fn error(&self, status: u16, body: &[u8]) -> Error {
        if is_anthropic_error(body) {
            crate::anthropic::parse_error(status, body)
        } else {
            parse_error(GoogleApi::Vertex, status, body)
        }
    }
}

#[cfg(test)]
mod tests;
