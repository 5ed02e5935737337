//! LiteLLM's guardrail config: the top-level `guardrails:` list and the older
//! `litellm_settings.guardrails` form, parsed into validated [`GuardrailSpec`]s.
//!
//! Errors name the path of the bad field (`guardrails[1].litellm_params.mode: …`). Keys LiteLLM
//! accepts but llmrelay does not use are reported as warnings, not errors.

mod legacy;
mod mode;

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use mode::{EventHook, Mode};

/// A config value that is wrong, with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl ConfigError {
    #[must_use]
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The guardrail types llmrelay runs, by LiteLLM's `litellm_params.guardrail` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardrailKind {
    /// `presidio`: the built-in PII engine, or a Presidio analyzer/anonymizer when their URLs are set.
    Presidio,
    /// `hide-secrets`.
    HideSecrets,
    /// `detect_prompt_injection` (LiteLLM's prompt-injection callback name).
    PromptInjection,
    /// `litellm_content_filter`.
    ContentFilter,
    /// `tool_permission`.
    ToolPermission,
    /// `openai_moderation`.
    OpenAiModeration,
    /// `bedrock` (ApplyGuardrail).
    Bedrock,
    /// `lakera_v2`.
    LakeraV2,
    /// `generic_guardrail_api`.
    GenericGuardrailApi,
    /// `module.ClassName`: a custom guardrail class, built by a registered factory (the Python binding).
    Custom(String),
}

impl GuardrailKind {
    /// The type names llmrelay implements.
    pub const BUILT_IN: [&'static str; 9] = [
        "presidio",
        "hide-secrets",
        "detect_prompt_injection",
        "litellm_content_filter",
        "tool_permission",
        "openai_moderation",
        "bedrock",
        "lakera_v2",
        "generic_guardrail_api",
    ];

    /// LiteLLM's other `SupportedGuardrailIntegrations` values (recognized, not implemented).
    const LITELLM_ONLY: [&'static str; 50] = [
        "aporia",
        "dynamoai",
        "guardrails_ai",
        "lakera",
        "hiddenlayer",
        "aim",
        "cato_networks",
        "pangea",
        "crowdstrike_aidr",
        "lasso",
        "pillar",
        "grayswan",
        "panw_prisma_airs",
        "cisco_ai_defense",
        "azure/prompt_shield",
        "azure/text_moderations",
        "model_armor",
        "noma",
        "noma_v2",
        "zscaler_ai_guard",
        "javelin",
        "enkryptai",
        "ibm_guardrails",
        "mcp_security",
        "onyx",
        "promptguard",
        "xecguard",
        "prompt_security",
        "qualifire",
        "custom_code",
        "ovalix",
        "microsoft_purview",
        "semantic_guard",
        "mcp_end_user_permission",
        "block_code_execution",
        "akto",
        "mcp_jwt_signer",
        "llm_as_a_judge",
        "deepkeep",
        "qostodian_nexus",
        "rubrik",
        "vigil_guard",
        "repelloai",
        "singulr",
        "headroom",
        "compresr",
        "typesafe",
        "straiker",
        "alice",
        "agent_365",
    ];

    fn parse(name: &str, path: &str) -> Result<Self, ConfigError> {
        Ok(match name {
            "presidio" => Self::Presidio,
            "hide-secrets" | "hide_secrets" => Self::HideSecrets,
            "detect_prompt_injection" | "prompt_injection" => Self::PromptInjection,
            "litellm_content_filter" => Self::ContentFilter,
            "tool_permission" => Self::ToolPermission,
            "openai_moderation" => Self::OpenAiModeration,
            "bedrock" => Self::Bedrock,
            "lakera_v2" => Self::LakeraV2,
            "generic_guardrail_api" => Self::GenericGuardrailApi,
            other if Self::LITELLM_ONLY.contains(&other) => {
                return Err(ConfigError::new(
                    path,
                    format!(
                        "guardrail type '{other}' is a LiteLLM integration llmrelay does not implement; supported: {}",
                        Self::BUILT_IN.join(", ")
                    ),
                ));
            }
            other if other.contains('.') && !other.starts_with('.') && !other.ends_with('.') => {
                Self::Custom(other.to_owned())
            }
            other => {
                return Err(ConfigError::new(
                    path,
                    format!(
                        "unknown guardrail type '{other}'; expected one of {} or a custom class as 'module.ClassName'",
                        Self::BUILT_IN.join(", ")
                    ),
                ));
            }
        })
    }

    /// The name as configured (custom classes keep their `module.ClassName`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Presidio => "presidio",
            Self::HideSecrets => "hide-secrets",
            Self::PromptInjection => "detect_prompt_injection",
            Self::ContentFilter => "litellm_content_filter",
            Self::ToolPermission => "tool_permission",
            Self::OpenAiModeration => "openai_moderation",
            Self::Bedrock => "bedrock",
            Self::LakeraV2 => "lakera_v2",
            Self::GenericGuardrailApi => "generic_guardrail_api",
            Self::Custom(class) => class,
        }
    }
}

/// `unreachable_fallback`: what a remote guardrail does when its endpoint cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnreachableFallback {
    #[default]
    FailClosed,
    FailOpen,
}

/// One validated guardrail entry.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailSpec {
    /// `guardrail_name`.
    pub name: String,
    /// The legacy `litellm_settings.guardrails` item this came from (requests may name it).
    pub legacy_group: Option<String>,
    pub kind: GuardrailKind,
    pub mode: Mode,
    pub default_on: bool,
    pub mask_request_content: bool,
    pub mask_response_content: bool,
    pub api_key: Option<String>,
    pub api_base: Option<String>,
    /// Per-request timeout of a remote guardrail's API call.
    pub timeout: Option<Duration>,
    /// `fail_on_error`: false lets a call proceed when the guardrail errors.
    pub fail_on_error: bool,
    pub unreachable_fallback: UnreachableFallback,
    /// `violation_message_template` (`{tool_name}`, `{rule_id}`, `{default_message}`).
    pub violation_message_template: Option<String>,
    /// Roles whose messages are checked (`enabled_roles`, `skip_system_message_in_guardrail`,
    /// `skip_tool_message_in_guardrail`); `None` checks every role.
    pub roles: Option<Vec<llmrelay_core::types::Role>>,
    /// The type's own options (`pii_entities_config`, `rules`, `guardrailIdentifier`, …), raw.
    pub options: Map<String, Value>,
    /// `guardrail_info`, as given.
    pub guardrail_info: Option<Value>,
    /// `litellm_params` as given, for `/guardrails/list`.
    pub litellm_params: Map<String, Value>,
    /// Where it was configured (`guardrails[2]`), for error paths.
    pub path: String,
}

impl GuardrailSpec {
    /// Parses the type's own options with field paths in errors.
    ///
    /// # Errors
    /// A field of the wrong type or value.
    pub fn parse_options<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        let value = Value::Object(self.options.clone());
        serde_path_to_error::deserialize::<_, T>(value).map_err(|error| {
            let inner = error.path().to_string();
            let path = if inner == "." || inner.is_empty() {
                format!("{}.litellm_params", self.path)
            } else {
                format!("{}.litellm_params.{inner}", self.path)
            };
            ConfigError::new(path, error.into_inner().to_string())
        })
    }

    /// The path of one of this entry's `litellm_params` fields.
    #[must_use]
    pub fn field_path(&self, field: &str) -> String {
        format!("{}.litellm_params.{field}", self.path)
    }
}

/// The parsed guardrail sections of a config, with warnings for ignored keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuardrailsConfig {
    pub guardrails: Vec<GuardrailSpec>,
    pub warnings: Vec<String>,
}

impl GuardrailsConfig {
    /// Reads `guardrails` and `litellm_settings.guardrails` of a whole proxy config.
    ///
    /// # Errors
    /// A malformed entry, with its path.
    pub fn from_proxy_config(config: &Value) -> Result<Self, ConfigError> {
        let legacy = config
            .get("litellm_settings")
            .and_then(|settings| settings.get("guardrails"));
        Self::from_sections(config.get("guardrails"), legacy)
    }

    /// Reads the two sections given separately (either may be absent or `null`).
    ///
    /// # Errors
    /// A malformed entry, with its path.
    pub fn from_sections(
        guardrails: Option<&Value>,
        legacy_guardrails: Option<&Value>,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        match guardrails {
            None | Some(Value::Null) => {}
            Some(Value::Array(entries)) => {
                for (index, entry) in entries.iter().enumerate() {
                    let spec =
                        parse_entry(entry, &format!("guardrails[{index}]"), &mut config.warnings)?;
                    config.guardrails.push(spec);
                }
            }
            Some(other) => {
                return Err(ConfigError::new(
                    "guardrails",
                    format!(
                        "expected a list of guardrail entries, got {}",
                        kind_of(other)
                    ),
                ));
            }
        }
        if let Some(legacy) = legacy_guardrails.filter(|value| !value.is_null()) {
            let specs = legacy::parse(legacy, &mut config.warnings)?;
            config.guardrails.extend(specs);
        }
        Ok(config)
    }
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    guardrail_name: String,
    litellm_params: RawLitellmParams,
    #[serde(default)]
    guardrail_info: Option<Value>,
    #[serde(default)]
    guardrail_id: Option<Value>,
    #[serde(default)]
    policy_template: Option<Value>,
    #[serde(default)]
    created_at: Option<Value>,
    #[serde(default)]
    updated_at: Option<Value>,
}

#[derive(Deserialize)]
struct RawLitellmParams {
    guardrail: String,
    mode: Mode,
    #[serde(default)]
    default_on: Option<bool>,
    #[serde(default)]
    mask_request_content: Option<bool>,
    #[serde(default)]
    mask_response_content: Option<bool>,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    api_base: Option<String>,
    #[serde(default, deserialize_with = "timeout_seconds")]
    timeout: Option<Duration>,
    #[serde(default)]
    fail_on_error: Option<bool>,
    #[serde(default)]
    unreachable_fallback: Option<UnreachableFallback>,
    #[serde(default)]
    violation_message_template: Option<String>,
    #[serde(default)]
    skip_system_message_in_guardrail: Option<bool>,
    #[serde(default)]
    skip_tool_message_in_guardrail: Option<bool>,
    #[serde(flatten)]
    options: Map<String, Value>,
}

/// LiteLLM's `timeout`: seconds as a number or a numeric string.
fn timeout_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    let seconds = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => return Ok(None),
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match seconds {
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
            Ok(Some(Duration::from_secs_f64(seconds)))
        }
        _ => Err(serde::de::Error::custom(
            "timeout must be a positive number of seconds",
        )),
    }
}

/// Keys of LiteLLM's generic `litellm_params` that llmrelay accepts and ignores.
const IGNORED_GENERIC_KEYS: [&str; 12] = [
    "experimental_use_latest_role_message_only",
    "only_scan_new_messages",
    "scan_only_tool_results",
    "inspect_embeddings",
    "run_in_parallel",
    "scan_raw_request",
    "end_session_after_n_fails",
    "on_violation",
    "realtime_violation_message",
    "on_sensitive_data",
    "sensitive_data_route_to_model",
    "sticky_session_routing",
];

fn parse_entry(
    entry: &Value,
    path: &str,
    warnings: &mut Vec<String>,
) -> Result<GuardrailSpec, ConfigError> {
    let raw: RawEntry = serde_path_to_error::deserialize(entry.clone()).map_err(|error| {
        let inner = error.path().to_string();
        let path = if inner == "." {
            path.to_owned()
        } else {
            format!("{path}.{inner}")
        };
        ConfigError::new(path, error.into_inner().to_string())
    })?;
    let _ = (
        raw.guardrail_id,
        raw.policy_template,
        raw.created_at,
        raw.updated_at,
    );
    if raw.guardrail_name.trim().is_empty() {
        return Err(ConfigError::new(
            format!("{path}.guardrail_name"),
            "must not be empty",
        ));
    }
    let params = raw.litellm_params;
    let kind = GuardrailKind::parse(
        &params.guardrail,
        &format!("{path}.litellm_params.guardrail"),
    )?;
    let mut options = params.options;
    for key in IGNORED_GENERIC_KEYS {
        if options.remove(key).is_some_and(|value| !value.is_null()) {
            warnings.push(format!(
                "{path}.litellm_params.{key}: not supported by llmrelay; ignored"
            ));
        }
    }
    let roles = roles_filter(
        params.skip_system_message_in_guardrail.unwrap_or(false),
        params.skip_tool_message_in_guardrail.unwrap_or(false),
    );
    let litellm_params = entry
        .get("litellm_params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(GuardrailSpec {
        name: raw.guardrail_name,
        legacy_group: None,
        kind,
        mode: params.mode,
        default_on: params.default_on.unwrap_or(false),
        mask_request_content: params.mask_request_content.unwrap_or(false),
        mask_response_content: params.mask_response_content.unwrap_or(false),
        api_key: params
            .api_key
            .and_then(resolve_env)
            .filter(|key| !key.is_empty()),
        api_base: params
            .api_base
            .and_then(resolve_env)
            .filter(|base| !base.is_empty()),
        timeout: params.timeout,
        fail_on_error: params.fail_on_error.unwrap_or(true),
        unreachable_fallback: params.unreachable_fallback.unwrap_or_default(),
        violation_message_template: params.violation_message_template,
        roles,
        options: resolve_env_in_map(options),
        guardrail_info: raw.guardrail_info,
        litellm_params,
        path: path.to_owned(),
    })
}

fn roles_filter(skip_system: bool, skip_tool: bool) -> Option<Vec<llmrelay_core::types::Role>> {
    use llmrelay_core::types::Role;
    if !skip_system && !skip_tool {
        return None;
    }
    let mut roles = vec![Role::User, Role::Assistant, Role::Function];
    if !skip_system {
        roles.push(Role::System);
        roles.push(Role::Developer);
    }
    if !skip_tool {
        roles.push(Role::Tool);
    }
    Some(roles)
}

const ENV_PREFIX: &str = "os.environ/";

/// `os.environ/NAME` → the variable (absent when unset). The proxy resolves these when it loads
/// the file; this covers configs built in code.
pub(crate) fn resolve_env(value: String) -> Option<String> {
    match value.strip_prefix(ENV_PREFIX) {
        Some(name) => std::env::var(name).ok(),
        None => Some(value),
    }
}

fn resolve_env_in_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, value)| {
            let value = match value {
                Value::String(text) if text.starts_with(ENV_PREFIX) => {
                    resolve_env(text).map_or(Value::Null, Value::String)
                }
                other => other,
            };
            (key, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_parse_with_defaults() {
        let config = GuardrailsConfig::from_sections(
            Some(&json!([{
                "guardrail_name": "pii",
                "litellm_params": {
                    "guardrail": "presidio", "mode": ["pre_call", "post_call"],
                    "pii_entities_config": {"EMAIL_ADDRESS": "MASK"}, "timeout": "2.5",
                    "run_in_parallel": true
                },
                "guardrail_info": {"owner": "sec"}
            }])),
            None,
        )
        .unwrap();
        let spec = &config.guardrails[0];
        assert_eq!(spec.kind, GuardrailKind::Presidio);
        assert!(!spec.default_on);
        assert!(spec.fail_on_error);
        assert_eq!(spec.timeout, Some(Duration::from_millis(2500)));
        assert_eq!(spec.options["pii_entities_config"]["EMAIL_ADDRESS"], "MASK");
        assert!(!spec.options.contains_key("guardrail"));
        assert_eq!(spec.litellm_params["guardrail"], "presidio");
        assert_eq!(config.warnings.len(), 1);
        assert!(config.warnings[0].contains("run_in_parallel"));
    }

    #[test]
    fn errors_name_the_field() {
        let error = GuardrailsConfig::from_sections(
            Some(&json!([
                {"guardrail_name": "ok", "litellm_params": {"guardrail": "hide-secrets", "mode": "pre_call"}},
                {"guardrail_name": "bad", "litellm_params": {"guardrail": "presidio", "mode": "sometimes"}}
            ])),
            None,
        )
        .unwrap_err();
        assert_eq!(error.path, "guardrails[1].litellm_params.mode");
        assert!(error.message.contains("unknown guardrail mode 'sometimes'"));

        let error = GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "x", "litellm_params": {"guardrail": "aporia", "mode": "pre_call"}}])),
            None,
        )
        .unwrap_err();
        assert_eq!(error.path, "guardrails[0].litellm_params.guardrail");
        assert!(error.message.contains("does not implement"));

        let error = GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "x", "litellm_params": {"mode": "pre_call"}}])),
            None,
        )
        .unwrap_err();
        assert_eq!(error.path, "guardrails[0].litellm_params");
        assert!(error.message.contains("guardrail"), "{error}");

        let error = GuardrailsConfig::from_sections(Some(&json!({"a": 1})), None).unwrap_err();
        assert_eq!(error.path, "guardrails");

        let error = GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "t", "litellm_params": {"guardrail": "bedrock", "mode": "pre_call", "timeout": -1}}])),
            None,
        )
        .unwrap_err();
        assert_eq!(error.path, "guardrails[0].litellm_params.timeout");
    }

    #[test]
    fn custom_classes_and_env_references() {
        let config = GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "c", "litellm_params": {
                "guardrail": "custom_guardrail.MyGuard", "mode": "during_call", "default_on": true,
                "api_key": "os.environ/LLMRELAY_GUARDRAILS_TEST_UNSET_VARIABLE",
                "skip_system_message_in_guardrail": true
            }}])),
            None,
        )
        .unwrap();
        let spec = &config.guardrails[0];
        assert_eq!(
            spec.kind,
            GuardrailKind::Custom("custom_guardrail.MyGuard".to_owned())
        );
        assert_eq!(spec.api_key, None);
        assert!(spec.default_on);
        let roles = spec.roles.as_ref().unwrap();
        assert!(!roles.contains(&llmrelay_core::types::Role::System));
        assert!(roles.contains(&llmrelay_core::types::Role::Tool));
    }
}
