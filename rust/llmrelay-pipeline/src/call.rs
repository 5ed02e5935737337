//! The typed call value every layer sees: kind, the request parsed once, the call's options,
//! metadata and the caller's identity; plus per-call state layers share (`extensions`).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde_json::{Map, Value};

use llmrelay_core::{CallKind, Result};
use llmrelay_providers::engine::{Request, parse};
use llmrelay_providers::images::ImageCache;
use llmrelay_providers::options::CallOptions;

use crate::identity::Identity;

/// Response headers a layer adds to the call's answer (LiteLLM's `x-litellm-key-spend`, …),
/// kept in [`Call::extensions`]; the proxy's edge writes them on whole and streamed answers.
#[derive(Debug, Clone, Default)]
pub struct ResponseHeaders(pub Vec<(std::borrow::Cow<'static, str>, String)>);

impl ResponseHeaders {
    /// Adds headers to the call's (layers add theirs one after the other).
    pub fn add(
        extensions: &mut http::Extensions,
        headers: impl IntoIterator<Item = (std::borrow::Cow<'static, str>, String)>,
    ) {
        match extensions.get_mut::<Self>() {
            Some(existing) => existing.0.extend(headers),
            None => {
                extensions.insert(Self(headers.into_iter().collect()));
            }
        }
    }
}

/// Where a call came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `completion()` and friends in Python, or the Rust API.
    Sdk,
    /// The proxy, on the named route.
    Proxy(&'static str),
}

/// One call on its way through the pipeline.
pub struct Call {
    pub kind: CallKind,
    pub request: Request,
    pub options: CallOptions,
    /// LiteLLM's `litellm_call_id`.
    pub id: Arc<str>,
    pub identity: Identity,
    pub origin: Origin,
    /// Whether the caller used the async form (`acompletion`): picks the `call_type` name.
    pub is_async: bool,
    /// The model the caller named (a model group for Router and proxy calls).
    pub model_group: String,
    pub started: Instant,
    pub started_wall: SystemTime,
    /// Images downloaded for this call (reused by every attempt).
    pub images: ImageCache,
    /// Whether the caller wants the logging payload back (Python callbacks are registered).
    pub wants_payload: bool,
    /// Typed per-call values layers share (a budget reservation, a cache key, …).
    pub extensions: http::Extensions,
}

impl Call {
    /// A call of `kind` from keyword arguments or a JSON body.
    ///
    /// # Errors
    /// `BadRequest` naming the parameter that is missing or malformed.
    pub fn parse(kind: CallKind, params: Map<String, Value>, origin: Origin) -> Result<Self> {
        let (request, options) = parse(kind, params)?;
        Ok(Self::new(kind, request, options, origin))
    }

    /// A call from an already typed request.
    #[must_use]
    pub fn new(kind: CallKind, request: Request, options: CallOptions, origin: Origin) -> Self {
        let id: Arc<str> = match options.other.get("litellm_call_id").and_then(Value::as_str) {
            Some(id) => Arc::from(id),
            None => Arc::from(llmrelay_core::ids::uuid()),
        };
        let model_group = request.model().to_owned();
        Self {
            kind,
            request,
            options,
            id,
            identity: Identity::anonymous(),
            origin,
            is_async: false,
            model_group,
            started: Instant::now(),
            started_wall: SystemTime::now(),
            images: ImageCache::default(),
            wants_payload: false,
            extensions: http::Extensions::new(),
        }
    }

    /// LiteLLM's `call_type` for this call.
    #[must_use]
    pub fn call_type(&self) -> &'static str {
        if self.is_async || matches!(self.origin, Origin::Proxy(_)) {
            self.kind.async_call_type()
        } else {
            self.kind.call_type()
        }
    }

    /// The request metadata (`metadata` / `litellm_metadata`), when it is a dict.
    #[must_use]
    pub fn metadata(&self) -> Option<&Map<String, Value>> {
        self.options.metadata.as_ref()?.as_object()
    }
}
