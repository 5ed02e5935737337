//! The request-body check LiteLLM runs at authentication (`is_request_body_safe`): a caller may
//! not pick where a call goes or as whom, what it costs, or where its logs are sent.
//!
//! Without it a key holder could send `api_base: "https://attacker"` and receive the
//! deployment's provider key, set `input_cost_per_token: 0` to spend for free, or point
//! `metadata.langfuse_host` at their own server. The banned names are LiteLLM 1.104's list,
//! checked at the body's root, in `extra_body` / `litellm_embedding_config`, in `metadata` /
//! `litellm_metadata` (objects or JSON strings), in `litellm_params.metadata`, and in every
//! fallback target the body names. Two opt-ins, as in LiteLLM:
//! `general_settings.allow_client_side_credentials: true` (everything, proxy-wide) and a
//! deployment's `litellm_params.configurable_clientside_auth_params` (`["api_base"]`, or
//! `[{"api_base": "<regex>"}]` for matching bases only).

use regex::Regex;
use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind};

/// The `general_settings` keys read here.
pub const SETTINGS: &[&str] = &["allow_client_side_credentials"];

/// LiteLLM 1.104's `_BANNED_REQUEST_BODY_PARAMS` (its fixed names, then the observability
/// fields and the custom-pricing fields it derives, in its order).
pub const BANNED: &[&str] = &[
    "api_base",
    "base_url",
    "user_config",
    "aws_sts_endpoint",
    "aws_web_identity_token",
    "aws_role_name",
    "aws_profile_name",
    "aws_session_name",
    "aws_external_id",
    "aws_session_tags",
    "vertex_credentials",
    "azure_ad_token",
    "aws_bedrock_runtime_endpoint",
    "aws_bedrock_project_id",
    "workspace_id",
    "aws_workspace_id",
    "anthropic_workspace_id",
    "anthropic-workspace-id",
    "bedrock_tags",
    "s3_endpoint_url",
    "sagemaker_base_url",
    "deployment_url",
    "nvcf_function_id",
    "use_ssl",
    "rust",
    "model_list",
    "vertex_ai_credentials",
    "arize_api_key",
    "arize_error_sampling_rate",
    "arize_space_id",
    "arize_space_key",
    "arize_success_sampling_rate",
    "braintrust_api_key",
    "braintrust_host",
    "braintrust_project",
    "dd_agent_host",
    "dd_agent_port",
    "dd_api_key",
    "dd_site",
    "gcs_bucket_name",
    "gcs_path_service_account",
    "humanloop_api_key",
    "langfuse_environment",
    "langfuse_host",
    "langfuse_public_key",
    "langfuse_secret",
    "langfuse_secret_key",
    "langsmith_api_key",
    "langsmith_base_url",
    "langsmith_project",
    "langsmith_tenant_id",
    "lunary_public_key",
    "newrelic_api_key",
    "newrelic_region",
    "posthog_api_key",
    "posthog_api_url",
    "posthog_host",
    "slack_webhook_url",
    "turn_off_message_logging",
    "user_api_key_auth_metadata",
    "wandb_api_key",
    "weave_project_id",
    "annotation_cost_per_page",
    "annotation_cost_per_page_batches",
    "cache_creation_input_audio_token_cost",
    "cache_creation_input_token_cost",
    "cache_creation_input_token_cost_above_1hr",
    "cache_creation_input_token_cost_above_200k_tokens",
    "cache_creation_input_token_cost_above_200k_tokens_batches",
    "cache_creation_input_token_cost_above_272k_tokens",
    "cache_creation_input_token_cost_above_272k_tokens_batches",
    "cache_creation_input_token_cost_above_272k_tokens_flex",
    "cache_creation_input_token_cost_above_272k_tokens_priority",
    "cache_creation_input_token_cost_batches",
    "cache_creation_input_token_cost_flex",
    "cache_creation_input_token_cost_priority",
    "cache_creation_input_token_cost_ultrafast",
    "cache_read_input_audio_token_cost",
    "cache_read_input_image_token_cost",
    "cache_read_input_token_cost",
    "cache_read_input_token_cost_above_200k_tokens",
    "cache_read_input_token_cost_above_200k_tokens_priority",
    "cache_read_input_token_cost_above_272k_tokens",
    "cache_read_input_token_cost_above_272k_tokens_batches",
    "cache_read_input_token_cost_above_272k_tokens_flex",
    "cache_read_input_token_cost_above_272k_tokens_priority",
    "cache_read_input_token_cost_above_512k_tokens",
    "cache_read_input_token_cost_batches",
    "cache_read_input_token_cost_flex",
    "cache_read_input_token_cost_priority",
    "cache_read_input_token_cost_ultrafast",
    "citation_cost_per_token",
    "google_maps_grounding_cost_per_query",
    "input_cost_per_audio_per_second",
    "input_cost_per_audio_per_second_above_128k_tokens",
    "input_cost_per_audio_token",
    "input_cost_per_audio_token_batches",
    "input_cost_per_character",
    "input_cost_per_character_above_128k_tokens",
    "input_cost_per_image",
    "input_cost_per_image_above_128k_tokens",
    "input_cost_per_image_token",
    "input_cost_per_image_token_batches",
    "input_cost_per_pixel",
    "input_cost_per_query",
    "input_cost_per_second",
    "input_cost_per_token",
    "input_cost_per_token_above_128k_tokens",
    "input_cost_per_token_above_200k_tokens",
    "input_cost_per_token_above_200k_tokens_priority",
    "input_cost_per_token_above_272k_tokens",
    "input_cost_per_token_above_272k_tokens_batches",
    "input_cost_per_token_above_272k_tokens_flex",
    "input_cost_per_token_above_272k_tokens_priority",
    "input_cost_per_token_above_512k_tokens",
    "input_cost_per_token_batches",
    "input_cost_per_token_cache_hit",
    "input_cost_per_token_flex",
    "input_cost_per_token_priority",
    "input_cost_per_token_ultrafast",
    "input_cost_per_video_per_second",
    "input_cost_per_video_per_second_above_128k_tokens",
    "input_cost_per_video_per_second_above_15s_interval",
    "input_cost_per_video_per_second_above_8s_interval",
    "input_cost_per_video_token",
    "input_cost_per_video_token_batches",
    "ocr_cost_per_credit",
    "ocr_cost_per_page",
    "ocr_cost_per_page_batches",
    "output_cost_per_audio_per_second",
    "output_cost_per_audio_token",
    "output_cost_per_character",
    "output_cost_per_character_above_128k_tokens",
    "output_cost_per_image",
    "output_cost_per_image_1024",
    "output_cost_per_image_1536",
    "output_cost_per_image_512",
    "output_cost_per_image_token",
    "output_cost_per_pixel",
    "output_cost_per_reasoning_token",
    "output_cost_per_reasoning_token_flex",
    "output_cost_per_reasoning_token_priority",
    "output_cost_per_second",
    "output_cost_per_second_1080p",
    "output_cost_per_second_2k",
    "output_cost_per_second_480p",
    "output_cost_per_second_4k",
    "output_cost_per_second_720p",
    "output_cost_per_second_768p",
    "output_cost_per_token",
    "output_cost_per_token_above_128k_tokens",
    "output_cost_per_token_above_200k_tokens",
    "output_cost_per_token_above_200k_tokens_priority",
    "output_cost_per_token_above_272k_tokens",
    "output_cost_per_token_above_272k_tokens_batches",
    "output_cost_per_token_above_272k_tokens_flex",
    "output_cost_per_token_above_272k_tokens_priority",
    "output_cost_per_token_above_512k_tokens",
    "output_cost_per_token_batches",
    "output_cost_per_token_flex",
    "output_cost_per_token_priority",
    "output_cost_per_token_ultrafast",
    "output_cost_per_video_per_second",
    "output_cost_per_video_token",
    "output_vector_size",
    "regional_endpoint_uplift_multiplier",
    "regional_processing_uplift_multiplier_eu",
    "regional_processing_uplift_multiplier_us",
    "search_context_cost_per_query",
    "tiered_pricing",
];

/// Dicts spread into the outbound call.
const NESTED_CONFIG: &[&str] = &["litellm_embedding_config", "extra_body"];
/// Dicts the logging integrations read.
const NESTED_METADATA: &[&str] = &["metadata", "litellm_metadata"];
const FALLBACK_FIELDS: &[&str] = &[
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
];
/// LiteLLM's `2 * ROUTER_MAX_FALLBACKS`.
const MAX_FALLBACK_DEPTH: usize = 10;

/// What a deployment lets callers set (its `configurable_clientside_auth_params`).
#[derive(Debug, Clone, Default)]
pub struct ClientsideParams {
    names: Vec<String>,
    api_base_patterns: Vec<Regex>,
    api_base_literals: Vec<String>,
}

impl ClientsideParams {
    /// From a `configurable_clientside_auth_params` value (names, or `{"api_base": regex}`).
    /// An invalid pattern allows only the literal base it spells.
    #[must_use]
    pub fn parse(value: &Value) -> Self {
        let mut out = Self::default();
        for item in value.as_array().into_iter().flatten() {
            match item {
                Value::String(name) => out.names.push(name.clone()),
                Value::Object(map) => {
                    if let Some(pattern) = map.get("api_base").and_then(Value::as_str) {
                        out.api_base_literals.push(pattern.to_owned());
                        // Python's `re.match`: anchored at the start only.
                        if let Ok(regex) = Regex::new(&format!("^(?:{pattern})")) {
                            out.api_base_patterns.push(regex);
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn allows(&self, param: &str, value: &Value) -> bool {
        if self.names.iter().any(|name| name == param) {
            return true;
        }
        param == "api_base"
            && value.as_str().is_some_and(|base| {
                self.api_base_literals.iter().any(|l| l == base)
                    || self.api_base_patterns.iter().any(|r| r.is_match(base))
            })
    }
}

fn rejected(message: String) -> Error {
    // LiteLLM raises this in its key check: an `auth_error` with its prefix, status 401.
    Error::new(
        ErrorKind::Authentication,
        format!("Authentication Error, {message}"),
    )
    .with_status(401)
}

/// A dict, or a JSON string holding one (form and `extra_body` callers send strings).
fn as_object(value: Option<&Value>) -> Option<std::borrow::Cow<'_, Map<String, Value>>> {
    match value? {
        Value::Object(map) => Some(std::borrow::Cow::Borrowed(map)),
        Value::String(text) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Some(std::borrow::Cow::Owned(map)),
            _ => None,
        },
        _ => None,
    }
}

/// `BANNED`, sorted, for lookups by the body's own (few) keys.
static SORTED: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut names = BANNED.to_vec();
    names.sort_unstable();
    names
});

fn check_banned(
    body: &Map<String, Value>,
    allow_all: bool,
    deployment: Option<&ClientsideParams>,
) -> Result<(), Error> {
    let mut found: Vec<&str> = body
        .keys()
        .map(String::as_str)
        .filter(|key| SORTED.binary_search(key).is_ok())
        .collect();
    if found.is_empty() || allow_all {
        return Ok(());
    }
    // Reported in LiteLLM's order, as its loop over the list finds them.
    found.sort_by_key(|key| BANNED.iter().position(|name| name == key));
    for param in found {
        if deployment.is_some_and(|d| d.allows(param, &body[param])) {
            continue;
        }
        return Err(rejected(format!(
            "Rejected Request: {param} is not allowed in request body. Clientside passthrough \
             requires explicit admin opt-in via either \
             `general_settings.allow_client_side_credentials = true` (proxy-wide) or \
             `configurable_clientside_auth_params` on the deployment in your proxy config.yaml. \
             Relevant Issue: https://huntr.com/bounties/4001e1a2-7b7a-4776-a3ae-e6692ec3d997"
        )));
    }
    Ok(())
}

/// A fallback target naming a URL (`http://…`, or `provider/http://…`) would send the call,
/// with a deployment's credentials, wherever the caller likes.
fn check_fallback_model(value: &str) -> Result<(), Error> {
    for part in value.split(',') {
        let part = part.trim();
        let after_prefix = part.split_once('/').map_or("", |(_, rest)| rest);
        for candidate in [part, after_prefix] {
            let lower = candidate.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                return Err(rejected(format!(
                    "Rejected Request: URL-valued fallback destination '{value}' is not allowed. \
                     Configure custom endpoints with api_base instead, or add the destination \
                     host to `provider_url_destination_allowed_hosts` in litellm_settings."
                )));
            }
        }
    }
    Ok(())
}

fn fallback_targets<'a>(
    value: Option<&'a Value>,
    depth: usize,
    out: &mut Vec<&'a Value>,
) -> Result<(), Error> {
    if depth > MAX_FALLBACK_DEPTH {
        return Err(rejected(
            "Rejected Request: fallback nesting exceeds the allowed validation depth.".to_owned(),
        ));
    }
    let Some(Value::Array(items)) = value else {
        return Ok(());
    };
    for item in items {
        match item {
            Value::String(_) => out.push(item),
            Value::Object(map) => {
                // `{"group": ["a", "b"]}` maps a group to targets; anything else is a target.
                let all_lists = !map.is_empty() && map.values().all(Value::is_array);
                if !all_lists {
                    out.push(item);
                }
                if map.get("model").is_some_and(Value::is_string) {
                    for field in FALLBACK_FIELDS {
                        fallback_targets(map.get(*field), depth + 1, out)?;
                    }
                } else {
                    for list in map.values() {
                        fallback_targets(Some(list), depth + 1, out)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// LiteLLM's `is_request_body_safe`.
///
/// `deployment` is the clientside opt-in of the model the body names, when it has one.
///
/// # Errors
/// 401 `auth_error` naming the first banned field found, as LiteLLM answers.
pub fn check(
    body: &Map<String, Value>,
    allow_all: bool,
    deployment: Option<&ClientsideParams>,
) -> Result<(), Error> {
    if body.contains_key("model_list") {
        return Err(rejected(
            "Rejected Request: model_list is not allowed in the request body.".to_owned(),
        ));
    }
    check_banned(body, allow_all, deployment)?;
    for key in NESTED_CONFIG.iter().chain(NESTED_METADATA) {
        if let Some(nested) = as_object(body.get(*key)) {
            check_banned(&nested, allow_all, deployment)?;
        }
    }
    let mut targets = Vec::new();
    let overrides = body
        .get("router_settings_override")
        .and_then(Value::as_object);
    for source in std::iter::once(body).chain(overrides) {
        for field in FALLBACK_FIELDS {
            fallback_targets(source.get(*field), 0, &mut targets)?;
        }
    }
    for target in targets {
        match target {
            Value::String(model) => check_fallback_model(model)?,
            Value::Object(map) => {
                check_banned(map, allow_all, deployment)?;
                if let Some(model) = map.get("model").and_then(Value::as_str) {
                    check_fallback_model(model)?;
                }
            }
            _ => {}
        }
    }
    if let Some(params) = as_object(body.get("litellm_params")) {
        if let Some(metadata) = as_object(params.get("metadata")) {
            check_banned(&metadata, allow_all, deployment)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        let Value::Object(map) = value else {
            unreachable!()
        };
        map
    }

    fn refused(value: Value) -> String {
        let error = check(&body(value), false, None).unwrap_err();
        assert_eq!(error.status_code(), 401);
        assert_eq!(error.kind(), ErrorKind::Authentication);
        error.message().to_owned()
    }

    #[test]
    fn banned_names_anywhere_litellm_looks() {
        assert!(
            check(
                &body(json!({"model": "m", "messages": [], "api_key": "sk-own"})),
                false,
                None
            )
            .is_ok()
        );
        assert!(refused(json!({"api_base": "https://evil"})).contains("api_base is not allowed"));
        assert!(refused(json!({"input_cost_per_token": 0})).contains("input_cost_per_token"));
        assert!(refused(json!({"extra_body": {"base_url": "https://evil"}})).contains("base_url"));
        assert!(
            refused(json!({"metadata": {"langfuse_host": "https://evil"}}))
                .contains("langfuse_host")
        );
        assert!(
            refused(json!({"litellm_metadata": "{\"dd_api_key\": \"x\"}"})).contains("dd_api_key")
        );
        assert!(
            refused(json!({"litellm_params": {"metadata": {"slack_webhook_url": "x"}}}))
                .contains("slack_webhook_url")
        );
        assert!(
            refused(json!({"model_list": []}))
                .contains("model_list is not allowed in the request body")
        );
        assert!(
            refused(json!({"aws_profile_name": "admin"}))
                .starts_with("Authentication Error, Rejected Request:")
        );
    }

    #[test]
    fn fallback_targets_are_checked() {
        assert!(
            refused(json!({"fallbacks": [{"model": "gpt", "api_base": "https://evil"}]}))
                .contains("api_base")
        );
        assert!(
            refused(json!({"fallbacks": ["openai/https://evil.example/v1"]}))
                .contains("URL-valued fallback")
        );
        assert!(refused(json!({"fallbacks": [{"gpt": ["https://evil"]}]})).contains("URL-valued"));
        assert!(refused(json!({"router_settings_override": {"context_window_fallbacks": [{"model": "x", "vertex_credentials": "{}"}]}})).contains("vertex_credentials"));
        assert!(
            check(
                &body(json!({"fallbacks": ["gpt-4o", {"model": "claude"}]})),
                false,
                None
            )
            .is_ok()
        );
        let mut deep = json!(["x"]);
        for _ in 0..12 {
            deep = json!([{"model": "m", "fallbacks": deep}]);
        }
        assert!(refused(json!({"fallbacks": deep})).contains("nesting"));
    }

    #[test]
    fn opt_ins() {
        let b = body(json!({"api_base": "https://mine.example/v1", "langfuse_host": "x"}));
        assert!(check(&b, true, None).is_ok());
        let only_base = ClientsideParams::parse(&json!(["api_base"]));
        // The deployment allows the base, not the logging host.
        assert!(
            check(&b, false, Some(&only_base))
                .unwrap_err()
                .message()
                .contains("langfuse_host")
        );
        let b = body(json!({"api_base": "https://team-a.example.com/v1"}));
        let pattern = ClientsideParams::parse(&json!([{"api_base": r"https://.*\.example\.com"}]));
        assert!(check(&b, false, Some(&pattern)).is_ok());
        let b = body(json!({"api_base": "https://evil.test/v1"}));
        assert!(check(&b, false, Some(&pattern)).is_err());
        // Python's `re.match` anchors the start only: `.*` spans the host, as in LiteLLM, so a
        // pattern should pin the host (`https://[a-z-]+\.example\.com/`).
        let b = body(json!({"api_base": "https://evil.test/?x=.example.com"}));
        assert!(check(&b, false, Some(&pattern)).is_ok());
        let pinned =
            ClientsideParams::parse(&json!([{"api_base": r"https://[a-z-]+\.example\.com/"}]));
        assert!(check(&b, false, Some(&pinned)).is_err());
    }
}
