//! The typed request of a call, parsed once from keyword arguments (SDK) or a JSON body
//! (proxy) before anything else runs; retries and fallbacks reuse it.

use serde_json::{Map, Value};

use llmrelay_core::types::{ChatMessage, ChatRequest, EmbeddingRequest, TextCompletionRequest};
use llmrelay_core::{CallKind, Error, Result};

use crate::operations::Operation;
use crate::options::{self, CallOptions};
use crate::responses::bridge::ResponsesCall;

/// A call's request, typed by kind.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per call, parsed once and then borrowed"
)]
pub enum Request {
    Chat(ChatRequest),
    Text(TextCompletionRequest),
    Embedding(EmbeddingRequest),
    /// Image generation, rerank, moderation, audio: JSON bodies with light validation.
    Operation {
        operation: Operation,
        body: Map<String, Value>,
    },
    /// The Responses API: OpenAI's own body, and the same request bridged to chat.
    Responses(Box<ResponsesCall>),
    /// A provider pass-through route: forwarded as the caller sent it by the proxy.
    PassThrough(Box<PassThroughRequest>),
}

/// What layers read of a pass-through request (`/openai/…`, `/anthropic/…`, `/gemini/…`):
/// the bytes themselves go upstream unchanged, forwarded by the proxy, never by the engine.
#[derive(Debug, Clone, Default)]
pub struct PassThroughRequest {
    /// The provider whose native API the route speaks (`openai`, `anthropic`, …).
    pub provider: String,
    /// The path below the route (`v1/messages`, `v1beta/models/gemini-2.0-flash:generateContent`).
    pub endpoint: String,
    /// The model the body or the path names (empty when neither does).
    pub model: String,
    /// The body, when it is JSON.
    pub body: Option<Value>,
    /// Whether the caller asked for a stream (`"stream": true`, a streaming endpoint).
    pub stream: bool,
}

impl Request {
    /// The model the caller named (a model group for Router calls; empty for a moderation
    /// without one).
    #[must_use]
    pub fn model(&self) -> &str {
        match self {
            Self::Chat(request) => &request.model,
            Self::Text(request) => &request.model,
            Self::Embedding(request) => &request.model,
            Self::Operation { body, .. } => body.get("model").and_then(Value::as_str).unwrap_or(""),
            Self::Responses(call) => &call.chat.model,
            Self::PassThrough(request) => &request.model,
        }
    }

    /// Name another model (a fallback group, the deployment's model).
    pub fn set_model(&mut self, model: &str) {
        match self {
            Self::Chat(request) => model.clone_into(&mut request.model),
            Self::Text(request) => model.clone_into(&mut request.model),
            Self::Embedding(request) => model.clone_into(&mut request.model),
            Self::Operation { body, .. } => {
                body.insert("model".to_owned(), Value::String(model.to_owned()));
            }
            Self::Responses(call) => call.set_model(model),
            // Forwarded as sent: the model stays the one in the caller's bytes.
            Self::PassThrough(request) => model.clone_into(&mut request.model),
        }
    }

    /// Whether the caller asked for a stream.
    #[must_use]
    pub fn stream(&self) -> bool {
        match self {
            Self::Chat(request) => request.stream,
            Self::Text(request) => request.stream,
            Self::Responses(call) => call.chat.stream,
            Self::PassThrough(request) => request.stream,
            Self::Embedding(_) | Self::Operation { .. } => false,
        }
    }

    /// The chat request, for the chat-shaped kinds (chat, Anthropic messages, bridged
    /// Responses).
    #[must_use]
    pub fn chat(&self) -> Option<&ChatRequest> {
        match self {
            Self::Chat(request) => Some(request),
            Self::Responses(call) => Some(&call.chat),
            _ => None,
        }
    }

    /// Mutable chat request (pre-call layers rewrite it).
    pub fn chat_mut(&mut self) -> Option<&mut ChatRequest> {
        match self {
            Self::Chat(request) => Some(request),
            Self::Responses(call) => Some(&mut call.chat),
            _ => None,
        }
    }

    /// The end user (`user`) the request names.
    #[must_use]
    pub fn user(&self) -> Option<&str> {
        match self {
            Self::Chat(request) => request.user.as_deref(),
            Self::Embedding(request) => request.user.as_deref(),
            Self::Responses(call) => call.chat.user.as_deref(),
            Self::Text(request) => request.extra.get("user").and_then(Value::as_str),
            Self::Operation { body, .. } => body.get("user").and_then(Value::as_str),
            Self::PassThrough(request) => request
                .body
                .as_ref()
                .and_then(|body| body.get("user"))
                .and_then(Value::as_str),
        }
    }

    /// The request as a JSON map (hooks, logging payloads).
    #[must_use]
    pub fn to_map(&self) -> Map<String, Value> {
        let value = match self {
            Self::Chat(request) => serde_json::to_value(request),
            Self::Text(request) => serde_json::to_value(request),
            Self::Embedding(request) => serde_json::to_value(request),
            Self::Operation { body, .. } => return body.clone(),
            Self::Responses(call) => return call.native_body.clone(),
            Self::PassThrough(request) => match &request.body {
                Some(Value::Object(body)) => return body.clone(),
                _ => return Map::new(),
            },
        };
        match value {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }
}

/// Deserialize, naming the offending field in the error.
///
/// # Errors
/// `BadRequest` with the path of the field that does not fit.
pub fn from_value_at<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    from_value_named(value, || what.to_owned())
}

/// [`from_value_at`] with the name built only when there is an error to report.
fn from_value_named<T: serde::de::DeserializeOwned>(
    value: Value,
    what: impl FnOnce() -> String,
) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let what = what();
        let path = e.path().to_string();
        let message = format!("Invalid {what}: {path}: {}", e.inner());
        let error = Error::bad_request(message);
        if path == "." {
            error
        } else {
            error.with_param(path)
        }
    })
}

/// Parse and validate a chat request body before any network call.
///
/// # Errors
/// `BadRequest` naming what is wrong.
pub fn parse_chat_request(mut body: Map<String, Value>) -> Result<ChatRequest> {
    match body.get("model") {
        Some(Value::String(model)) if !model.is_empty() => {}
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(Error::bad_request("model is required").with_param("model"));
        }
        Some(_) => return Err(Error::bad_request("model must be a string").with_param("model")),
    }
    let messages = match body.remove("messages") {
        None | Some(Value::Null) => {
            return Err(
                Error::bad_request("messages is required: a list of message dicts")
                    .with_param("messages"),
            );
        }
        Some(Value::Array(messages)) => messages,
        Some(_) => {
            return Err(
                Error::bad_request("messages must be a list of message dicts")
                    .with_param("messages"),
            );
        }
    };
    if messages.is_empty() {
        return Err(Error::bad_request("messages must not be empty").with_param("messages"));
    }
    let mut parsed = Vec::with_capacity(messages.len());
    for (index, message) in messages.into_iter().enumerate() {
        if !message.is_object() {
            return Err(Error::bad_request(format!(
                "messages[{index}] must be a dict with 'role' and 'content'"
            ))
            .with_param("messages"));
        }
        let message: ChatMessage = from_value_named(message, || format!("messages[{index}]"))?;
        parsed.push(message);
    }
    body.insert("messages".to_owned(), Value::Array(Vec::new()));
    let mut request: ChatRequest = from_value_at(Value::Object(body), "request parameter")?;
    validate_tools(&request)?;
    request.messages = parsed;
    Ok(request)
}

/// Tools must be complete before they go upstream: a function tool names its function.
fn validate_tools(request: &ChatRequest) -> Result<()> {
    for (index, tool) in request.tools.iter().flatten().enumerate() {
        if tool.kind == "function" && tool.function.is_none() {
            return Err(Error::bad_request(format!(
                "Missing required parameter: 'tools[{index}].function'."
            ))
            .with_param(format!("tools[{index}].function")));
        }
    }
    Ok(())
}

fn parse_text_request(body: Map<String, Value>) -> Result<TextCompletionRequest> {
    match body.get("prompt") {
        None | Some(Value::Null) => {
            Err(Error::bad_request("prompt is required").with_param("prompt"))
        }
        Some(Value::String(_) | Value::Array(_)) => {
            from_value_at(Value::Object(body), "request parameter")
        }
        Some(_) => {
            Err(Error::bad_request("prompt must be a string or a list").with_param("prompt"))
        }
    }
}

fn validate_embedding_input(input: Option<&Value>) -> Result<()> {
    let ok = match input {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => {
            !items.is_empty()
                && (items.iter().all(Value::is_string)
                    || items.iter().all(Value::is_u64)
                    || items
                        .iter()
                        .all(|i| i.as_array().is_some_and(|a| a.iter().all(Value::is_u64))))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::bad_request(
            "input must be a string, a non-empty list of strings, or token id lists",
        )
        .with_param("input"))
    }
}

fn parse_operation(
    operation: Operation,
    mut body: Map<String, Value>,
    options: &mut CallOptions,
) -> Result<Map<String, Value>> {
    operation.validate(&body)?;
    if operation == Operation::Search {
        // The price map's key for the provider (`tavily/search`): what logs and spend rows name.
        let provider = body
            .get("search_provider")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        body.insert(
            "model".to_owned(),
            Value::String(format!("{provider}/search")),
        );
        return Ok(body);
    }
    match body.get("model") {
        Some(Value::String(model)) if !model.is_empty() => {}
        None | Some(Value::Null) if operation == Operation::Moderation => {
            // No model: OpenAI's default moderation model, with no `model` in the body.
            body.remove("model");
            options
                .custom_llm_provider
                .get_or_insert_with(|| "openai".to_owned());
        }
        None | Some(Value::Null) if operation == Operation::ImageGeneration => {
            // LiteLLM's default, as OpenAI's.
            body.insert("model".to_owned(), Value::String("dall-e-2".to_owned()));
        }
        _ => return Err(Error::bad_request("model is required").with_param("model")),
    }
    Ok(body)
}

/// The kind's request and the call's options, from keyword arguments or a JSON body.
///
/// # Errors
/// `BadRequest` naming the parameter that is missing or malformed.
pub fn parse(kind: CallKind, params: Map<String, Value>) -> Result<(Request, CallOptions)> {
    if kind == CallKind::Responses {
        let (call, options) = ResponsesCall::parse(params)?;
        return Ok((Request::Responses(Box::new(call)), options));
    }
    let (body, mut options) = options::split(params)?;
    let request = match kind {
        CallKind::Chat | CallKind::AnthropicMessages => Request::Chat(parse_chat_request(body)?),
        CallKind::TextCompletion => Request::Text(parse_text_request(body)?),
        CallKind::Embedding => {
            validate_embedding_input(body.get("input"))?;
            Request::Embedding(from_value_at(Value::Object(body), "request parameter")?)
        }
        other => {
            let operation = Operation::for_kind(other).ok_or_else(|| {
                Error::bad_request(format!("{other} calls are not served by the engine"))
            })?;
            let body = parse_operation(operation, body, &mut options)?;
            Request::Operation { operation, body }
        }
    };
    Ok((request, options))
}
