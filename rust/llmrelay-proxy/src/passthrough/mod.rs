//! Provider-native pass-through (`/openai/*`, `/anthropic/*`, `/gemini/*`, `/cohere/*`,
//! `/vertex_ai/*`, `/bedrock/*`): the request goes to the provider's base URL with the proxy's
//! credential in place of the caller's proxy key; the response streams back byte for byte.
//! Each request is a call of the pipeline (kind `PassThrough`): admission layers see it (keys,
//! access, limits, budgets, guardrails on its JSON body), the [`Forwarder`] dispatches it, and
//! accounting books it once with the usage and cost read from the answer (`meter.rs`).
//!
//! Vertex AI and Bedrock need request signing or OAuth tokens; until the engine exposes those,
//! their routes forward to a configured base URL (`VERTEXAI_API_BASE`, `BEDROCK_API_BASE`, or a
//! deployment's `api_base`) without adding a credential.

mod meter;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use llmrelay_core::{CallKind, Error, ErrorKind};
use llmrelay_pipeline::{Answer, Attempts, Call, Dispatch, Dispatched, Origin, Route};
use llmrelay_providers::engine::{
    HiddenParams, Outcome, PassThroughRequest, RawReply, Request as CallRequest,
};
use llmrelay_providers::options::CallOptions;
use llmrelay_providers::stream::StreamSummary;

use crate::config::ProxyConfig;
use crate::edge::Edge;
use crate::errors::Dialect;
use crate::state::AppState;

use meter::Metered;

/// How the provider wants its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyStyle {
    Bearer,
    XApiKey,
    GoogApiKey,
    /// Signing or tokens the proxy cannot add yet: forward without a credential.
    Unsigned,
}

struct Provider {
    name: &'static str,
    route: &'static str,
    base_env: &'static [&'static str],
    default_base: Option<&'static str>,
    key_env: &'static [&'static str],
    key_style: KeyStyle,
}

const OPENAI: Provider = Provider {
    name: "openai",
    route: "/openai/*",
    base_env: &["OPENAI_API_BASE", "OPENAI_BASE_URL"],
    default_base: Some("https://api.openai.com"),
    key_env: &["OPENAI_API_KEY"],
    key_style: KeyStyle::Bearer,
};
const ANTHROPIC: Provider = Provider {
    name: "anthropic",
    route: "/anthropic/*",
    base_env: &["ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"],
    default_base: Some("https://api.anthropic.com"),
    key_env: &["ANTHROPIC_API_KEY"],
    key_style: KeyStyle::XApiKey,
};
const GEMINI: Provider = Provider {
    name: "gemini",
    route: "/gemini/*",
    base_env: &["GEMINI_API_BASE"],
    default_base: Some("https://generativelanguage.googleapis.com"),
    key_env: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    key_style: KeyStyle::GoogApiKey,
};
const COHERE: Provider = Provider {
    name: "cohere",
    route: "/cohere/*",
    base_env: &["COHERE_API_BASE"],
    default_base: Some("https://api.cohere.com"),
    key_env: &["COHERE_API_KEY", "CO_API_KEY"],
    key_style: KeyStyle::Bearer,
};
const VERTEX_AI: Provider = Provider {
    name: "vertex_ai",
    route: "/vertex_ai/*",
    base_env: &["VERTEXAI_API_BASE", "VERTEX_AI_API_BASE"],
    default_base: None,
    key_env: &[],
    key_style: KeyStyle::Unsigned,
};
const BEDROCK: Provider = Provider {
    name: "bedrock",
    route: "/bedrock/*",
    base_env: &["BEDROCK_API_BASE", "AWS_BEDROCK_RUNTIME_ENDPOINT"],
    default_base: None,
    key_env: &[],
    key_style: KeyStyle::Unsigned,
};

/// Credentials taken from the config's deployments: the first deployment of a provider with an
/// `api_base` / `api_key` supplies them (environment variables win).
#[derive(Debug, Clone, Default)]
pub struct PassthroughCredentials {
    by_provider: HashMap<String, (Option<String>, Option<String>)>,
}

impl PassthroughCredentials {
    #[must_use]
    pub fn from_config(config: &ProxyConfig) -> Self {
        let mut by_provider: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
        for deployment in &config.model_list {
            let params = &deployment.litellm_params;
            let provider = params
                .other
                .get("custom_llm_provider")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| params.model.split_once('/').map(|(p, _)| p.to_owned()));
            let Some(provider) = provider else { continue };
            let entry = by_provider.entry(provider).or_default();
            let text = |key: &str| {
                params
                    .other
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            if entry.0.is_none() {
                entry.0 = text("api_base");
            }
            if entry.1.is_none() {
                entry.1 = text("api_key");
            }
        }
        Self { by_provider }
    }
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// `v1`, `v2`, `v1beta`, `v1alpha`, …: an API version path segment.
fn is_version_segment(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_digit())
}

/// Join the endpoint under the base path, refusing `..` segments that would climb out of it.
fn target_url(base: &str, endpoint: &str, query: Option<&str>) -> Result<String, Error> {
    if endpoint
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Err(Error::bad_request(
            "pass-through path may not contain '.' or '..' segments",
        ));
    }
    let base = base.trim_end_matches('/');
    let mut endpoint = endpoint.trim_start_matches('/');
    // A base that already ends in the API version (`…/v1`, as deployments' `api_base` usually
    // do) and a client path that starts with it (`/openai/v1/chat/completions`) name it once.
    if let Some((_, last)) = base.rsplit_once('/') {
        if is_version_segment(last) {
            if let Some(rest) = endpoint.strip_prefix(last) {
                if rest.is_empty() || rest.starts_with('/') {
                    endpoint = rest.trim_start_matches('/');
                }
            }
        }
    }
    let mut url = format!("{base}/{endpoint}");
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

/// Request headers that must not be forwarded: hop-by-hop, and the caller's proxy key.
fn forwardable(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "host"
            | "authorization"
            | "x-api-key"
            | "api-key"
            | "x-goog-api-key"
            | "x-litellm-api-key"
            | "ocp-apim-subscription-key"
            | "connection"
            | "keep-alive"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// A pass-through request ready to go: where, how and what.
struct Forward {
    method: http::Method,
    url: String,
    base: String,
    headers: HeaderMap,
    body: Bytes,
}

/// The model a pass-through names: the body's `model`, else the path's (Gemini's and Vertex
/// AI's `…/models/{model}:generateContent`, Bedrock's `model/{id}/invoke`).
fn model_named(body: Option<&Value>, endpoint: &str) -> String {
    if let Some(model) = body
        .and_then(|b| b.get("model"))
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
    {
        return model.to_owned();
    }
    let mut segments = endpoint.split('/');
    while let Some(segment) = segments.next() {
        if segment == "models" || segment == "model" {
            if let Some(next) = segments.next() {
                let model = next.split(':').next().unwrap_or(next);
                return model.to_owned();
            }
        }
    }
    String::new()
}

/// Whether the caller asked for a stream: `"stream": true`, or a streaming endpoint.
fn streams(body: Option<&Value>, endpoint: &str) -> bool {
    body.and_then(|b| b.get("stream"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || endpoint.contains("streamGenerateContent")
        || endpoint.ends_with("invoke-with-response-stream")
        || endpoint.ends_with("converse-stream")
}

async fn forward(
    state: Arc<AppState>,
    provider: &'static Provider,
    endpoint: String,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let mut edge = Edge::new(
        Arc::clone(&state),
        &parts,
        CallKind::PassThrough,
        provider.route,
        Dialect::OpenAi,
    );
    let (forward, pass) = match prepare(&state, provider, &endpoint, parts, body).await {
        Ok(prepared) => prepared,
        Err(error) => return edge.reject(error),
    };
    edge.model_group.clone_from(&pass.model);
    let options = CallOptions {
        custom_llm_provider: Some(provider.name.to_owned()),
        ..CallOptions::default()
    };
    let mut call = Box::new(Call::new(
        CallKind::PassThrough,
        CallRequest::PassThrough(Box::new(pass)),
        options,
        Origin::Proxy(provider.route),
    ));
    call.id = Arc::clone(&edge.context.call_id);
    call.identity = std::mem::take(&mut edge.principal);
    call.is_async = true;
    call.started = edge.context.received;
    call.started_wall = edge.context.received_wall;
    let forwarder = Forwarder {
        provider: provider.name,
        forward: Mutex::new(Some(forward)),
    };
    match state.pipeline.run(call, &forwarder).await {
        Ok(Answer::Raw(raw)) => {
            let body = raw
                .body
                .map_err(|error| std::io::Error::other(error.to_string()));
            let mut response = Response::new(Body::from_stream(body));
            *response.status_mut() =
                StatusCode::from_u16(raw.status).unwrap_or(StatusCode::BAD_GATEWAY);
            *response.headers_mut() = raw.headers;
            edge.label(response)
        }
        Ok(_) => edge.unexpected("not a pass-through answer"),
        Err(failure) => edge.reject(Error::from(failure)),
    }
}

/// Where the request goes, with the proxy's credential in place of the caller's key, and
/// what the pipeline's layers see of it.
async fn prepare(
    state: &AppState,
    provider: &Provider,
    endpoint: &str,
    parts: http::request::Parts,
    body: Body,
) -> Result<(Forward, PassThroughRequest), Error> {
    let configured = state.passthrough.by_provider.get(provider.name);
    let base = env_first(provider.base_env)
        .or_else(|| configured.and_then(|c| c.0.clone()))
        .or_else(|| provider.default_base.map(str::to_owned))
        .ok_or_else(|| {
            Error::bad_request(format!(
                "{} pass-through needs a base URL: set {} (request signing for this provider is not added by the proxy yet)",
                provider.name,
                provider.base_env.join(" or ")
            ))
        })?;
    let key = env_first(provider.key_env).or_else(|| configured.and_then(|c| c.1.clone()));
    if key.is_none() && provider.key_style != KeyStyle::Unsigned {
        return Err(Error::bad_request(format!(
            "Required '{}' in the environment (or an api_key on a {} deployment) to make pass-through calls to {}.",
            provider.key_env.first().copied().unwrap_or_default(),
            provider.name,
            provider.name
        )));
    }
    let limit = state.settings.max_request_bytes;
    let too_large = || {
        Error::bad_request(format!(
            "Request size is too large. Max size is {:.2} MB",
            limit as f64 / 1_048_576.0
        ))
        .with_status(413)
    };
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let body = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    // Gemini callers send the proxy key as `?key=`; it must not reach Google.
    let query = parts.uri.query().map(|q| {
        q.split('&')
            .filter(|pair| {
                !(provider.key_style == KeyStyle::GoogApiKey && pair.starts_with("key="))
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    let mut endpoint = endpoint.to_owned();
    if provider.name == "openai" && base.contains("api.openai.com") && !endpoint.starts_with("v1/")
    {
        endpoint = format!("v1/{endpoint}");
    }
    let url = target_url(&base, &endpoint, query.as_deref())?;
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if forwardable(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    if let Some(key) = key {
        let put = |headers: &mut HeaderMap, name: &'static str, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        };
        match provider.key_style {
            KeyStyle::Bearer => put(&mut headers, "authorization", format!("Bearer {key}")),
            KeyStyle::XApiKey => put(&mut headers, "x-api-key", key),
            KeyStyle::GoogApiKey => put(&mut headers, "x-goog-api-key", key),
            KeyStyle::Unsigned => {}
        }
    }
    if provider.name == "anthropic" && !headers.contains_key("anthropic-version") {
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
    }
    let json = (!body.is_empty())
        .then(|| serde_json::from_slice::<Value>(&body).ok())
        .flatten();
    let pass = PassThroughRequest {
        provider: provider.name.to_owned(),
        model: model_named(json.as_ref(), &endpoint),
        stream: streams(json.as_ref(), &endpoint),
        endpoint,
        body: json,
    };
    let forward = Forward {
        method: parts.method,
        url,
        base,
        headers,
        body,
    };
    Ok((forward, pass))
}

/// The pipeline's dispatcher for one pass-through request: it sends the bytes once.
struct Forwarder {
    provider: &'static str,
    forward: Mutex<Option<Forward>>,
}

/// How much of an upstream error body becomes the error's message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

impl Dispatch for Forwarder {
    fn dispatch<'a>(
        &'a self,
        call: &'a Call,
        _attempts: Attempts<'a>,
    ) -> BoxFuture<'a, llmrelay_core::Result<Dispatched>> {
        Box::pin(async move {
            let forward = self
                .forward
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or_else(|| {
                    Error::new(ErrorKind::InternalServer, "a pass-through is sent once")
                })?;
            let model = call.request.model().to_owned();
            let upstream = llmrelay_providers::http::client()
                .request(forward.method, &forward.url)
                .headers(forward.headers)
                .body(forward.body)
                .send()
                .await
                .map_err(|e| llmrelay_providers::http::transport_error(&e))?;
            let status = upstream.status();
            if status.as_u16() >= 400 {
                // LiteLLM answers an upstream error on a pass-through route as its own error
                // with the upstream's status and body text.
                let bytes = upstream.bytes().await.unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes[..bytes.len().min(ERROR_BODY_LIMIT)])
                    .into_owned();
                let body = serde_json::from_slice::<Value>(&bytes).ok();
                return Err(Error::from_upstream(status.as_u16(), text, body)
                    .with_provider(self.provider)
                    .with_model(model));
            }
            let mut headers = HeaderMap::new();
            for (name, value) in upstream.headers() {
                if !matches!(
                    name.as_str(),
                    "connection" | "keep-alive" | "transfer-encoding" | "content-length"
                ) {
                    headers.append(name.clone(), value.clone());
                }
            }
            let summary = Arc::new(Mutex::new(StreamSummary::default()));
            let bytes = upstream
                .bytes_stream()
                .map_err(|e| llmrelay_providers::http::transport_error(&e))
                .boxed();
            let body = Metered::new(bytes, Arc::clone(&summary), self.provider, &model).boxed();
            let hidden = HiddenParams {
                custom_llm_provider: self.provider.to_owned(),
                model: model.clone(),
                api_base: Some(forward.base),
                ..HiddenParams::default()
            };
            Ok(Dispatched {
                outcome: Outcome::Raw(RawReply {
                    status: status.as_u16(),
                    headers,
                    body,
                    summary,
                    hidden,
                }),
                route: Route {
                    model_group: model,
                    attempts: 1,
                    ..Route::default()
                },
            })
        })
    }
}

macro_rules! passthrough_route {
    ($name:ident, $provider:expr) => {
        #[doc = concat!("Pass-through to ", stringify!($name), ".")]
        pub async fn $name(
            State(state): State<Arc<AppState>>,
            Path(endpoint): Path<String>,
            request: Request,
        ) -> Response {
            forward(state, &$provider, endpoint, request).await
        }
    };
}

passthrough_route!(openai, OPENAI);
passthrough_route!(anthropic, ANTHROPIC);
passthrough_route!(gemini, GEMINI);
passthrough_route!(cohere, COHERE);
passthrough_route!(vertex_ai, VERTEX_AI);
passthrough_route!(bedrock, BEDROCK);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_stay_under_the_base() {
        assert_eq!(
            target_url("http://h/v1/", "chat/completions", Some("a=1")).unwrap(),
            "http://h/v1/chat/completions?a=1"
        );
        assert!(target_url("http://h/v1", "../admin", None).is_err());
        // `api_base: …/v1` and a client path starting with `v1/`: one `/v1`.
        assert_eq!(
            target_url("http://h/v1", "v1/chat/completions", None).unwrap(),
            "http://h/v1/chat/completions"
        );
        assert_eq!(
            target_url("http://h/v1beta/", "v1beta/models/m:generateContent", None).unwrap(),
            "http://h/v1beta/models/m:generateContent"
        );
        assert_eq!(
            target_url("http://h/v1", "v1x/y", None).unwrap(),
            "http://h/v1/v1x/y"
        );
        assert_eq!(
            target_url("http://h", "v1/chat/completions", None).unwrap(),
            "http://h/v1/chat/completions"
        );
        assert!(!forwardable(&HeaderName::from_static("authorization")));
        assert!(forwardable(&HeaderName::from_static("anthropic-version")));
    }
}
