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

/// The request's tags, as LiteLLM's proxy gathers them into `metadata.tags`: the request's
/// `metadata.tags`, then the key's and the team's (their `metadata.tags`), then the caller's
/// (the body's `tags`, else the `x-litellm-tags` header), each tag once. Tag routing and the
/// spend row's `request_tags` read them from here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestTags {
    tags: Vec<String>,
    /// Where the key's and team's tags go: after the request's `metadata.tags`.
    policy_end: usize,
}

impl RequestTags {
    /// The tags of a request's `metadata` (non-string entries are skipped, as LiteLLM does).
    #[must_use]
    pub fn of_metadata(metadata: Option<&Value>) -> Self {
        let mut tags = Self::default();
        tags.add_caller(string_list(metadata.and_then(|m| m.get("tags"))));
        tags.policy_end = tags.tags.len();
        tags
    }

    /// Adds the key's or the team's tags (after the request's metadata tags and those added
    /// before, ahead of the caller's).
    pub fn add_policy<'a>(&mut self, tags: impl IntoIterator<Item = &'a String>) {
        for tag in tags {
            if !self.tags.contains(tag) {
                self.tags.insert(self.policy_end, tag.clone());
                self.policy_end += 1;
            }
        }
    }

    /// Adds the caller's tags (last).
    pub fn add_caller(&mut self, tags: impl IntoIterator<Item = String>) {
        for tag in tags {
            if !self.tags.contains(&tag) {
                self.tags.push(tag);
            }
        }
    }

    #[must_use]
    pub fn as_slice(&self) -> &[String] {
        &self.tags
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }
}

/// The strings of a JSON list (nothing for any other value).
#[must_use]
pub fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
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
    /// The request's tags (see [`RequestTags`]).
    pub tags: RequestTags,
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
        let tags = RequestTags::of_metadata(options.metadata.as_ref());
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
            tags,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tags_merge_in_litellm_order_each_once() {
        let metadata = json!({"tags": ["a", 3, "b", "a"]});
        let mut tags = RequestTags::of_metadata(Some(&metadata));
        assert_eq!(tags.as_slice(), ["a", "b"]);
        tags.add_caller(vec!["c".to_owned(), "a".to_owned()]);
        tags.add_policy(&["key".to_owned(), "b".to_owned()]);
        tags.add_policy(&["team".to_owned()]);
        assert_eq!(tags.as_slice(), ["a", "b", "key", "team", "c"]);
        assert!(RequestTags::of_metadata(Some(&json!({"tags": "a"}))).is_empty());
        assert!(RequestTags::of_metadata(None).is_empty());
    }
}
