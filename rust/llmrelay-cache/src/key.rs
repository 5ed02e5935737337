//! The cache key, derived as LiteLLM's `Cache.get_cache_key` derives it: for each request
//! parameter that is one of the OpenAI API's (chat, text completion, embedding,
//! transcription, rerank; `metadata` excluded) and not `None`, `"{name}: {str(value)}"`,
//! concatenated in the request's order; the SHA-256 hex digest of that text; then
//! `"{namespace}:"` in front when a namespace applies. `model` is the model group (a
//! `caching_groups` entry holding it first). A `cache_key` parameter is the key as it is.

use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use llmrelay_pipeline::Call;
use llmrelay_providers::engine::Request;

use crate::controls::Controls;
use crate::pyrepr::{python_repr, python_str, string_repr};

/// The parameters LiteLLM's key is built from (`ModelParamHelper._get_all_llm_api_params()`
/// of LiteLLM 1.104.9 with the `openai` SDK it installs, 2.54: the keys of the create-params
/// types for chat completions, completions, embeddings, transcriptions and Responses, and
/// LiteLLM's rerank and Anthropic-messages fields, less `metadata`), sorted for a binary
/// search.
pub const KEY_PARAMS: &[&str] = &[
    "audio",
    "background",
    "best_of",
    "cache_control",
    "chunking_strategy",
    "compaction",
    "container",
    "context_management",
    "conversation",
    "dimensions",
    "documents",
    "echo",
    "encoding_format",
    "file",
    "frequency_penalty",
    "function_call",
    "functions",
    "include",
    "inference_geo",
    "input",
    "instruction",
    "instructions",
    "keywords",
    "known_speaker_names",
    "known_speaker_references",
    "language",
    "languages",
    "logit_bias",
    "logprobs",
    "max_chunks_per_doc",
    "max_completion_tokens",
    "max_output_tokens",
    "max_tokens",
    "max_tokens_per_doc",
    "max_tokens_per_query",
    "max_tool_calls",
    "mcp_servers",
    "messages",
    "modalities",
    "model",
    "moderation",
    "n",
    "output_config",
    "output_format",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "previous_response_id",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_options",
    "prompt_cache_retention",
    "query",
    "rank_fields",
    "reasoning",
    "reasoning_effort",
    "response_format",
    "return_documents",
    "safeguards",
    "safety_identifier",
    "seed",
    "service_tier",
    "speed",
    "stop",
    "stop_sequences",
    "store",
    "stream",
    "stream_options",
    "suffix",
    "system",
    "temperature",
    "text",
    "thinking",
    "timestamp_granularities",
    "tool_choice",
    "tools",
    "top_k",
    "top_logprobs",
    "top_n",
    "top_p",
    "truncate_prompt_tokens",
    "truncation",
    "truncation_side",
    "user",
    "verbosity",
    "web_search_options",
];

/// Whether `name` takes part in the key.
#[must_use]
pub fn is_key_param(name: &str) -> bool {
    KEY_PARAMS.binary_search(&name).is_ok()
}

/// The request's parameters as JSON, in the order they are kept (the typed fields first, in
/// the OpenAI API's order, then the others as the caller sent them).
#[must_use]
pub fn request_params(request: &Request) -> Option<Map<String, Value>> {
    let value = match request {
        Request::Chat(chat) => serde_json::to_value(chat).ok()?,
        Request::Text(text) => serde_json::to_value(text).ok()?,
        Request::Embedding(embedding) => serde_json::to_value(embedding).ok()?,
        Request::Operation { body, .. } => return Some(body.clone()),
        // Not cached: Responses calls, and pass-through bytes in a provider's own format.
        Request::Responses(_) | Request::PassThrough(_) => return None,
    };
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The text LiteLLM hashes, for `params` (the request's parameters in order) with `model`
/// standing for the `model` parameter.
#[must_use]
pub fn key_text<'a>(
    params: impl IntoIterator<Item = (&'a String, &'a Value)>,
    model: &str,
) -> String {
    let mut text = String::with_capacity(256);
    for (name, value) in params {
        if !is_key_param(name) || value.is_null() {
            continue;
        }
        text.push_str(name);
        text.push_str(": ");
        if name == "model" {
            text.push_str(model);
        } else {
            python_str(value, &mut text);
        }
    }
    text
}

/// `sha256(text).hexdigest()`.
#[must_use]
pub fn hash_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// The model the key names: the `caching_groups` entry that holds the model group (printed
/// as Python prints the Router's tuple), else the model group.
pub(crate) fn key_model(call: &Call) -> String {
    let metadata = call.metadata();
    let caching_groups = metadata
        .and_then(|m| m.get("caching_groups"))
        .or_else(|| call.options.other.get("caching_groups"));
    key_model_of(metadata, &call.model_group, caching_groups)
}

fn key_model_of(
    metadata: Option<&Map<String, Value>>,
    model: &str,
    caching_groups: Option<&Value>,
) -> String {
    let group = metadata
        .and_then(|m| m.get("model_group"))
        .and_then(Value::as_str)
        .unwrap_or(model);
    if let Some(groups) = caching_groups.and_then(Value::as_array) {
        for entry in groups {
            let Some(members) = entry.as_array() else {
                continue;
            };
            if members.iter().any(|m| m.as_str() == Some(group)) {
                return tuple_repr(members);
            }
        }
    }
    group.to_owned()
}

fn tuple_repr(items: &[Value]) -> String {
    let mut out = String::from("(");
    for (at, item) in items.iter().enumerate() {
        if at > 0 {
            out.push_str(", ");
        }
        match item {
            Value::String(text) => string_repr(text, &mut out),
            other => python_repr(other, &mut out),
        }
    }
    if items.len() == 1 {
        out.push(',');
    }
    out.push(')');
    out
}

/// A key computed at the edge from the caller's own parameters, in the caller's order
/// (LiteLLM's key depends on the order of the keyword arguments); the lookup prefers it to
/// a key from the typed request.
#[derive(Debug, Clone)]
pub struct PresetKey(pub Arc<str>);

/// The key of a call from its raw parameters (SDK keyword arguments or a proxy body, in
/// their order): exactly LiteLLM's `get_cache_key(**kwargs)`.
#[must_use]
pub fn key_for_params(params: &Map<String, Value>, namespace: Option<&str>) -> String {
    key_for_params_from(params, &[], namespace)
}

/// [`key_for_params`] with the parameters named in `first` taken first (in that order): the
/// SDK facade receives `model` and `messages` (`input`, `prompt`) as named arguments, which
/// LiteLLM's callers pass first.
#[must_use]
pub fn key_for_params_from(
    params: &Map<String, Value>,
    first: &[&str],
    namespace: Option<&str>,
) -> String {
    if let Some(key) = params.get("cache_key").and_then(Value::as_str) {
        return key.to_owned();
    }
    let metadata = params
        .get("metadata")
        .or_else(|| params.get("litellm_metadata"))
        .and_then(Value::as_object);
    let model = params.get("model").and_then(Value::as_str).unwrap_or("");
    let caching_groups = metadata
        .and_then(|m| m.get("caching_groups"))
        .or_else(|| params.get("caching_groups"));
    let model = key_model_of(metadata, model, caching_groups);
    let leading = first.iter().filter_map(|name| params.get_key_value(*name));
    let rest = params
        .iter()
        .filter(|(name, _)| !first.contains(&name.as_str()));
    let hash = hash_hex(&key_text(leading.chain(rest), &model));
    let controls = Controls::from_values(params.get("caching"), params.get("cache"));
    with_namespace(hash, &controls, metadata, namespace)
}

pub(crate) fn with_namespace(
    hash: String,
    controls: &Controls,
    metadata: Option<&Map<String, Value>>,
    namespace: Option<&str>,
) -> String {
    let namespace = controls
        .namespace
        .as_deref()
        .or_else(|| {
            metadata
                .and_then(|m| m.get("redis_namespace"))
                .and_then(Value::as_str)
        })
        .or(namespace)
        .filter(|n| !n.is_empty());
    match namespace {
        Some(namespace) => format!("{namespace}:{hash}"),
        None => hash,
    }
}

/// The call's cache key (`None` for a call kind the cache does not key): the edge's
/// [`PresetKey`] when there is one, else from the typed request.
#[must_use]
pub fn cache_key(call: &Call, controls: &Controls, namespace: Option<&str>) -> Option<String> {
    if let Some(PresetKey(key)) = call.extensions.get::<PresetKey>() {
        return Some(key.to_string());
    }
    if let Some(key) = call.options.other.get("cache_key").and_then(Value::as_str) {
        return Some(key.to_owned());
    }
    let params = request_params(&call.request)?;
    let hash = hash_hex(&key_text(&params, &key_model(call)));
    Some(with_namespace(hash, controls, call.metadata(), namespace))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use llmrelay_core::CallKind;
    use llmrelay_pipeline::Origin;

    use super::*;

    fn call(params: Value) -> Call {
        let Value::Object(params) = params else {
            unreachable!()
        };
        Call::parse(CallKind::Chat, params, Origin::Sdk).unwrap_or_else(|e| {
            unreachable!("{e}");
        })
    }

    #[test]
    fn raw_params_keep_the_callers_order() {
        let Value::Object(params) = json!({
            "messages": [{"content": "hi", "role": "user"}],
            "model": "m",
            "temperature": 1,
            "api_key": "sk",
            "cache": {"namespace": "ns"},
        }) else {
            unreachable!()
        };
        assert_eq!(
            key_for_params(&params, None),
            format!(
                "ns:{}",
                hash_hex("messages: [{'content': 'hi', 'role': 'user'}]model: mtemperature: 1")
            )
        );
        let call = call(Value::Object(params.clone()));
        let mut call = call;
        call.extensions
            .insert(PresetKey(Arc::from(key_for_params(&params, None))));
        assert_eq!(
            cache_key(&call, &Controls::default(), None),
            Some(key_for_params(&params, None))
        );
    }

    #[test]
    fn params_are_sorted_for_the_binary_search() {
        assert!(KEY_PARAMS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_key_param("messages") && is_key_param("tools"));
        assert!(is_key_param("top_k"), "LiteLLM 1.104 keys top_k");
        assert!(!is_key_param("metadata") && !is_key_param("api_key"));
    }

    #[test]
    fn the_text_is_what_litellm_hashes() {
        let call = call(json!({
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "it's me"}],
            "temperature": 0.2,
            "stream": true,
            "top_k": 3,
            "metadata": {"team": "a"},
            "max_tokens": 10,
        }));
        let params = request_params(&call.request).unwrap_or_default();
        assert_eq!(
            key_text(&params, "gpt-4o"),
            "model: gpt-4omessages: [{'role': 'user', 'content': \"it's me\"}]stream: True\
             temperature: 0.2max_tokens: 10top_k: 3"
        );
    }

    #[test]
    fn namespace_override_and_groups() {
        let plain = call(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
        let key = cache_key(&plain, &Controls::default(), None).unwrap_or_default();
        assert_eq!(
            key,
            hash_hex("model: mmessages: [{'role': 'user', 'content': 'hi'}]")
        );
        let spaced = cache_key(&plain, &Controls::default(), Some("team")).unwrap_or_default();
        assert_eq!(spaced, format!("team:{key}"));
        let controls = Controls {
            namespace: Some("request".to_owned()),
            ..Controls::default()
        };
        let spaced = cache_key(&plain, &controls, Some("team")).unwrap_or_default();
        assert_eq!(spaced, format!("request:{key}"));

        let preset = call(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                 "cache_key": "mine"}),
        );
        assert_eq!(
            cache_key(&preset, &Controls::default(), Some("team")).as_deref(),
            Some("mine")
        );

        let grouped = call(json!({
            "model": "a", "messages": [{"role": "user", "content": "x"}],
            "metadata": {"caching_groups": [["a", "b"]]},
        }));
        assert_eq!(
            cache_key(&grouped, &Controls::default(), None),
            Some(hash_hex(
                "model: ('a', 'b')messages: [{'role': 'user', 'content': 'x'}]"
            ))
        );
    }
}
