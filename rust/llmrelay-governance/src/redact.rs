//! Secrets kept out of responses, as LiteLLM masks them: deployments in `/model/info`
//! (`remove_sensitive_info_from_deployment` + `SensitiveDataMasker`) and credentials in
//! `/credentials` (`_get_masked_values`).

use serde_json::{Map, Value};

/// Name segments that mark a value as secret (`SensitiveDataMasker`'s default patterns).
const SENSITIVE_SEGMENTS: &[&str] = &[
    "password",
    "secret",
    "key",
    "token",
    "auth",
    "authorization",
    "cookie",
    "credential",
    "credentials",
    "access",
    "private",
    "certificate",
    "fingerprint",
    "tenancy",
];

/// `litellm_params` that `/model/info` removes outright.
const REMOVED_PARAMS: &[&str] = &[
    "api_key",
    "client_secret",
    "vertex_credentials",
    "vertex_ai_credentials",
    "aws_access_key_id",
    "aws_secret_access_key",
];

/// Rate-limit settings whose names contain `key` but are not secrets.
const NOT_SECRET: &[&str] = &["default_api_key_tpm_limit", "default_api_key_rpm_limit"];

/// Whether a parameter name looks secret: one of its `_`/`-` separated segments is a
/// sensitive word, and none is `cost` (`input_cost_per_token` is a price).
#[must_use]
pub fn is_sensitive_key(name: &str) -> bool {
    if NOT_SECRET.contains(&name) {
        return false;
    }
    let lower = name.to_ascii_lowercase().replace('-', "_");
    let segments: Vec<&str> = lower.split('_').collect();
    !segments.contains(&"cost") && segments.iter().any(|s| SENSITIVE_SEGMENTS.contains(s))
}

/// Four characters each side, the rest stars; a short value is all stars.
fn mask_text(value: &str) -> String {
    let characters: Vec<char> = value.chars().collect();
    if characters.is_empty() {
        return String::new();
    }
    if characters.len() <= 8 {
        return "*".repeat(characters.len());
    }
    let head: String = characters[..4].iter().collect();
    let tail: String = characters[characters.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(characters.len() - 8))
}

fn mask_nested(value: &Value, sensitive: bool, depth: usize) -> Value {
    if depth >= 10 {
        return value.clone();
    }
    match value {
        Value::Object(map) => Value::Object(mask_map(map, depth + 1)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| mask_nested(item, sensitive, depth + 1))
                .collect(),
        ),
        Value::String(text) if sensitive => Value::String(mask_text(text)),
        Value::Null if sensitive => Value::String(String::new()),
        Value::Number(_) | Value::Bool(_) if sensitive => {
            Value::String(mask_text(&value.to_string()))
        }
        other => other.clone(),
    }
}

fn mask_map(map: &Map<String, Value>, depth: usize) -> Map<String, Value> {
    map.iter()
        .map(|(k, v)| (k.clone(), mask_nested(v, is_sensitive_key(k), depth)))
        .collect()
}

/// A deployment's `litellm_params` as `/model/info` shows them: credentials removed, other
/// secret-looking values masked.
#[must_use]
pub fn public_params(params: &Map<String, Value>) -> Map<String, Value> {
    let mut params = params.clone();
    for name in REMOVED_PARAMS {
        params.remove(*name);
    }
    mask_map(&params, 0)
}

/// Substrings that mark a credential value as secret (`_get_masked_values`).
const CREDENTIAL_KEYWORDS: &[&str] = &[
    "authorization",
    "token",
    "key",
    "secret",
    "vertex_credentials",
    "credentials",
    "password",
    "passwd",
];

/// Credential values as `/credentials` lists them: secret-looking values reduced to two
/// characters each side of four stars (`*****` when short); other values (`api_base`,
/// `api_version`) shown.
#[must_use]
pub fn masked_credential_values(values: &Map<String, Value>) -> Map<String, Value> {
    fn mask(value: &Value, depth: usize) -> Value {
        match value {
            Value::Object(map) if depth < 20 => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), masked_entry(k, v, depth + 1)))
                    .collect(),
            ),
            Value::String(text) => {
                let characters: Vec<char> = text.chars().collect();
                if characters.len() <= 4 {
                    return Value::String("*****".to_owned());
                }
                let head: String = characters[..2].iter().collect();
                let tail: String = characters[characters.len() - 2..].iter().collect();
                Value::String(format!("{head}****{tail}"))
            }
            // A non-string secret (a service-account object at depth) is never shown.
            Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
                Value::String("*****".to_owned())
            }
            Value::Null => Value::Null,
        }
    }
    fn masked_entry(name: &str, value: &Value, depth: usize) -> Value {
        let lower = name.to_ascii_lowercase();
        if CREDENTIAL_KEYWORDS.iter().any(|k| lower.contains(k)) {
            mask(value, depth)
        } else {
            value.clone()
        }
    }
    values
        .iter()
        .map(|(k, v)| (k.clone(), masked_entry(k, v, 0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn model_info_removes_and_masks_secrets() {
        let params = json!({"model": "azure/gpt-4o", "api_key": "sk-abc", "api_base": "https://x",
            "azure_ad_token": "eyJhbGciOiJIUzI1NiJ9", "input_cost_per_token": 0.1, "max_tokens": 5,
            "aws_secret_access_key": "s"});
        let public = public_params(params.as_object().unwrap());
        assert!(!public.contains_key("api_key"));
        assert!(!public.contains_key("aws_secret_access_key"));
        assert_eq!(public["api_base"], "https://x");
        assert_eq!(public["azure_ad_token"], "eyJh************NiJ9");
        assert_eq!(public["input_cost_per_token"], json!(0.1));
        assert_eq!(public["max_tokens"], json!(5));
    }

    #[test]
    fn credentials_show_only_masked_secrets() {
        let values = json!({"api_key": "sk-1234567890", "api_base": "https://x", "secret": "abc",
            "vertex_credentials": {"private_key": "-----BEGIN", "project_id": "p"}});
        let masked = masked_credential_values(values.as_object().unwrap());
        assert_eq!(masked["api_key"], "sk****90");
        assert_eq!(masked["api_base"], "https://x");
        assert_eq!(masked["secret"], "*****");
        assert_eq!(masked["vertex_credentials"]["private_key"], "--****IN");
        assert_eq!(masked["vertex_credentials"]["project_id"], "p");
    }
}
