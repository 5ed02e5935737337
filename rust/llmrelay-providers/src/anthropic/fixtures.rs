//! Test support: the LiteLLM recordings in `tests/fixtures/anthropic/` (written by
//! `scripts/gen_anthropic_fixtures.py`) and the recorded wire fixtures beside them.

use std::path::PathBuf;

use serde_json::{Map, Value};

use llmrelay_core::types::ChatRequest;
use llmrelay_core::{Error, ErrorKind};

use crate::sse::RawEvent;

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anthropic")
}

pub fn read(name: &str) -> String {
    let path = dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn load(name: &str) -> Value {
    serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every `<prefix>*.json` fixture, by name.
pub fn cases(prefix: &str) -> Vec<(String, Value)> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no {prefix}*.json fixtures");
    names
        .into_iter()
        .map(|name| {
            let value = load(&name);
            (name, value)
        })
        .collect()
}

/// Run `check` on every case, then fail once, listing every case that failed.
pub fn check_all(prefix: &str, skip: &[&str], check: impl Fn(&str, &Value)) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, case) in cases(prefix) {
        if skip.iter().any(|s| name.starts_with(s)) {
            continue;
        }
        checked += 1;
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&name, &case)));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(message);
        }
    }
    assert!(checked > 0, "no {prefix}* fixture checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} {prefix}* fixtures differ from LiteLLM:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

pub fn request_of(case: &Value) -> ChatRequest {
    serde_json::from_value(case["request"].clone()).unwrap()
}

/// Nulls dropped (Python dumps them, serde skips them) and numbers compared as floats
/// (`1` and `1.0` are the same temperature).
pub fn normalize(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalize(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Number(number) => number
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| value.clone(), Value::Number),
        other => other.clone(),
    }
}

fn first_difference(path: &str, expected: &Value, actual: &Value) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for key in e.keys().chain(a.keys()) {
                let (x, y) = (e.get(key), a.get(key));
                match (x, y) {
                    (Some(x), Some(y)) => {
                        if let Some(diff) = first_difference(&format!("{path}.{key}"), x, y) {
                            return Some(diff);
                        }
                    }
                    _ => return Some(format!("{path}.{key}: expected {x:?}, got {y:?}")),
                }
            }
            None
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(&format!("{path}[{i}]"), x, y)),
        _ if expected == actual => None,
        _ => Some(format!("{path}: expected {expected}, got {actual}")),
    }
}

/// Equal after [`normalize`], else a panic naming the first difference.
pub fn assert_same(context: &str, expected: &Value, actual: &Value) {
    let (expected, actual) = (normalize(expected), normalize(actual));
    if let Some(diff) = first_difference("", &expected, &actual) {
        panic!(
            "{context}: {diff}\nexpected: {}\nactual:   {}",
            serde_json::to_string(&expected).unwrap(),
            serde_json::to_string(&actual).unwrap()
        );
    }
}

/// Remove a key at a dotted path, when present.
pub fn remove_path(value: &mut Value, path: &str) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut node = value;
    for part in parts {
        match node.get_mut(part) {
            Some(next) => node = next,
            None => return,
        }
    }
    if let Value::Object(map) = node {
        map.remove(last);
    }
}

/// Fields of LiteLLM's usage this engine does not produce: `cost` is added by the engine's
/// accounting, not the provider; `cache_write_tokens` and `cache_creation_token_details` have no
/// field in the canonical `PromptTokensDetails`.
pub fn strip_usage_extras(usage: &mut Value) {
    for path in [
        "cost",
        "prompt_tokens_details.cache_write_tokens",
        "prompt_tokens_details.cache_creation_token_details",
    ] {
        remove_path(usage, path);
    }
}

/// The error kind of a LiteLLM exception class.
pub fn kind_of_class(class: &str) -> ErrorKind {
    match class {
        "UnsupportedParamsError" => ErrorKind::UnsupportedParams,
        "BadRequestError" => ErrorKind::BadRequest,
        "ContextWindowExceededError" => ErrorKind::ContextWindowExceeded,
        "AuthenticationError" => ErrorKind::Authentication,
        "RateLimitError" => ErrorKind::RateLimit,
        "InternalServerError" | "MidStreamFallbackError" => ErrorKind::InternalServer,
        other => panic!("no kind for {other}"),
    }
}

/// Our error against LiteLLM's: same class, and LiteLLM's message (which stacks class-name
/// prefixes, and sometimes appends the messages it received) contains ours.
pub fn assert_error(context: &str, expected: &Value, actual: &Error) {
    let class = expected["class"].as_str().unwrap();
    assert_eq!(actual.kind(), kind_of_class(class), "{context}: {actual}");
    let message = expected["message"].as_str().unwrap();
    assert!(
        message.contains(actual.message()),
        "{context}: LiteLLM said {message:?}, we say {:?}",
        actual.message()
    );
    if let Some(status) = expected["status_code"].as_u64() {
        assert_eq!(u64::from(actual.status_code()), status, "{context}");
    }
}

/// Events written as SSE (`event:` / `data:` lines, `:` comments, blank-line separated).
pub fn sse_events(text: &str) -> Vec<RawEvent> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = String::new();
            let mut data: Vec<&str> = Vec::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    name.trim().clone_into(&mut event);
                } else if let Some(payload) = line.strip_prefix("data:") {
                    data.push(payload.strip_prefix(' ').unwrap_or(payload));
                }
            }
            (!data.is_empty()).then(|| RawEvent {
                event,
                data: data.join("\n"),
            })
        })
        .collect()
}

/// Events given as JSON values.
pub fn json_events(events: &[Value]) -> Vec<RawEvent> {
    events
        .iter()
        .map(|event| RawEvent {
            event: event["type"].as_str().unwrap_or_default().to_owned(),
            data: event.to_string(),
        })
        .collect()
}
