//! The cache key, derived as LiteLLM's `Cache.get_cache_key` derives it: for each request
//! parameter that is one of the OpenAI API's (chat, text completion, embedding,
//! transcription, rerank; `metadata` excluded) and not `None`, `"{name}: {str(value)}"`,
//! concatenated in the request's order; the SHA-256 hex digest of that text; then
//! `"{namespace}:"` in front when a namespace applies. `model` is the model group (a
//! `caching_groups` entry holding it first). A `cache_key` parameter is the key as it is.

use std::fmt::Write as _;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use llmrelay_pipeline::Call;
use llmrelay_providers::engine::Request;

use crate::controls::Controls;
use crate::pyrepr::{python_repr, python_str, string_repr};

/// The parameters LiteLLM's key is built from (`ModelParamHelper._get_all_llm_api_params()`:
/// the keys of the `openai` SDK's create-params types for chat completions, completions,
/// embeddings and transcriptions, and LiteLLM's rerank request fields, less `metadata`),
/// sorted for a binary search.
pub const KEY_PARAMS: &[&str] = &[
    "audio",
    "best_of",
    "chunking_strategy",
    "dimensions",
    "documents",
    "echo",
    "encoding_format",
    "file",
    "frequency_penalty",
    "function_call",
    "functions",
    "include",
    "input",
    "keywords",
    "known_speaker_names",
    "known_speaker_references",
    "language",
    "languages",
    "logit_bias",
    "logprobs",
    "max_chunks_per_doc",
    "max_completion_tokens",
    "max_tokens",
    "max_tokens_per_doc",
    "messages",
    "modalities",
    "model",
    "moderation",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_options",
    "prompt_cache_retention",
    "query",
    "rank_fields",
    "reasoning_effort",
    "response_format",
    "return_documents",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "suffix",
    "temperature",
    "timestamp_granularities",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_n",
    "top_p",
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
        Request::Responses(_) => return None,
    };
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The text LiteLLM hashes, for `params` (the request's parameters in order) with `model`
/// standing for the `model` parameter.
#[must_use]
pub fn key_text(params: &Map<String, Value>, model: &str) -> String {
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
fn key_model(call: &Call) -> String {
    let metadata = call.metadata();
    let group = metadata
        .and_then(|m| m.get("model_group"))
        .and_then(Value::as_str)
        .unwrap_or(&call.model_group);
    let caching_groups = metadata
        .and_then(|m| m.get("caching_groups"))
        .or_else(|| call.options.other.get("caching_groups"))
        .and_then(Value::as_array);
    if let Some(groups) = caching_groups {
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

/// The call's cache key (`None` for a call kind the cache does not key).
#[must_use]
pub fn cache_key(call: &Call, controls: &Controls, namespace: Option<&str>) -> Option<String> {
    if let Some(key) = call.options.other.get("cache_key").and_then(Value::as_str) {
        return Some(key.to_owned());
    }
    let params = request_params(&call.request)?;
    let hash = hash_hex(&key_text(&params, &key_model(call)));
    let namespace = controls
        .namespace
        .as_deref()
        .or_else(|| {
            call.metadata()
                .and_then(|m| m.get("redis_namespace"))
                .and_then(Value::as_str)
        })
        .or(namespace)
        .filter(|n| !n.is_empty());
    Some(match namespace {
        Some(namespace) => format!("{namespace}:{hash}"),
        None => hash,
    })
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
    fn params_are_sorted_for_the_binary_search() {
        assert!(KEY_PARAMS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_key_param("messages") && is_key_param("tools"));
        assert!(!is_key_param("metadata") && !is_key_param("top_k"));
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
             temperature: 0.2max_tokens: 10"
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
