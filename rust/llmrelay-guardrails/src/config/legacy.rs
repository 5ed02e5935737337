//! The older `litellm_settings.guardrails` list (`GuardrailItem`): one map per item,
//! `{name: {callbacks, default_on, logging_only, callback_args, enabled_roles}}`.
//!
//! Each callback becomes one [`GuardrailSpec`]; an item with several callbacks yields one spec
//! per callback named `item/callback`, all answering to the item's name in requests.

use serde::Deserialize;
use serde_json::{Map, Value};

use llmrelay_core::types::Role;

use super::{
    ConfigError, EventHook, GuardrailKind, GuardrailSpec, Mode, UnreachableFallback, kind_of,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardrailItem {
    callbacks: Vec<String>,
    #[serde(default)]
    default_on: bool,
    #[serde(default)]
    logging_only: Option<bool>,
    #[serde(default)]
    callback_args: Map<String, Value>,
    #[serde(default)]
    enabled_roles: Option<Vec<Role>>,
}

/// LiteLLM's legacy callback names and the guardrail types they map to.
fn kind_for_callback(callback: &str) -> Option<GuardrailKind> {
    Some(match callback {
        "presidio" => GuardrailKind::Presidio,
        "hide_secrets" | "hide-secrets" => GuardrailKind::HideSecrets,
        "detect_prompt_injection" => GuardrailKind::PromptInjection,
        "openai_moderations" | "openai_moderation" => GuardrailKind::OpenAiModeration,
        _ => return None,
    })
}

pub(super) fn parse(
    value: &Value,
    warnings: &mut Vec<String>,
) -> Result<Vec<GuardrailSpec>, ConfigError> {
    let Value::Array(items) = value else {
        return Err(ConfigError::new(
            "litellm_settings.guardrails",
            format!(
                "expected a list of {{name: {{callbacks: [...]}}}} items, got {}",
                kind_of(value)
            ),
        ));
    };
    let mut specs = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let item_path = format!("litellm_settings.guardrails[{index}]");
        let Value::Object(named) = item else {
            return Err(ConfigError::new(
                item_path,
                format!("expected a map, got {}", kind_of(item)),
            ));
        };
        for (name, body) in named {
            let path = format!("{item_path}.{name}");
            let item: GuardrailItem =
                serde_path_to_error::deserialize(body.clone()).map_err(|error| {
                    let inner = error.path().to_string();
                    let path = if inner == "." {
                        path.clone()
                    } else {
                        format!("{path}.{inner}")
                    };
                    ConfigError::new(path, error.into_inner().to_string())
                })?;
            if item.callbacks.is_empty() {
                return Err(ConfigError::new(
                    format!("{path}.callbacks"),
                    "must name at least one callback",
                ));
            }
            for (position, callback) in item.callbacks.iter().enumerate() {
                let kind = kind_for_callback(callback).ok_or_else(|| {
                    ConfigError::new(
                        format!("{path}.callbacks[{position}]"),
                        format!(
                            "legacy guardrail callback '{callback}' is not supported; supported: presidio, hide_secrets, detect_prompt_injection, openai_moderations"
                        ),
                    )
                })?;
                let mode = if item.logging_only == Some(true) {
                    Mode::Hooks(vec![EventHook::LoggingOnly])
                } else if kind == GuardrailKind::Presidio {
                    // Presidio masks the request and, with output_parse_pii, restores the answer.
                    Mode::Hooks(vec![EventHook::PreCall, EventHook::PostCall])
                } else {
                    Mode::Hooks(vec![EventHook::PreCall])
                };
                let options = match item.callback_args.get(callback) {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(args)) => args.clone(),
                    Some(other) => {
                        return Err(ConfigError::new(
                            format!("{path}.callback_args.{callback}"),
                            format!("expected a map, got {}", kind_of(other)),
                        ));
                    }
                };
                let spec_name = if item.callbacks.len() == 1 {
                    name.clone()
                } else {
                    format!("{name}/{callback}")
                };
                let mut litellm_params = options.clone();
                litellm_params.insert("guardrail".to_owned(), Value::from(kind.as_str()));
                litellm_params.insert("mode".to_owned(), mode.to_value());
                litellm_params.insert("default_on".to_owned(), Value::from(item.default_on));
                specs.push(GuardrailSpec {
                    name: spec_name,
                    legacy_group: Some(name.clone()),
                    kind,
                    mode,
                    default_on: item.default_on,
                    mask_request_content: false,
                    mask_response_content: false,
                    api_key: None,
                    api_base: None,
                    timeout: None,
                    fail_on_error: true,
                    unreachable_fallback: UnreachableFallback::FailClosed,
                    violation_message_template: None,
                    roles: item.enabled_roles.clone(),
                    options,
                    guardrail_info: None,
                    litellm_params,
                    path: format!("{path}.callback_args.{callback}"),
                });
            }
        }
    }
    if !specs.is_empty() {
        warnings.push(
            "litellm_settings.guardrails is LiteLLM's older guardrail format; the top-level `guardrails:` list is preferred"
                .to_owned(),
        );
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::super::GuardrailsConfig;
    use super::*;
    use serde_json::json;

    #[test]
    fn legacy_items_become_specs() {
        let config = GuardrailsConfig::from_proxy_config(&json!({
            "litellm_settings": {"guardrails": [
                {"prompt_injection": {"callbacks": ["detect_prompt_injection", "hide_secrets"], "default_on": true}},
                {"pii_masking": {"callbacks": ["presidio"], "default_on": true, "logging_only": true,
                                 "callback_args": {"presidio": {"output_parse_pii": true}},
                                 "enabled_roles": ["user"]}}
            ]}
        }))
        .unwrap();
        let names: Vec<&str> = config
            .guardrails
            .iter()
            .map(|spec| spec.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "prompt_injection/detect_prompt_injection",
                "prompt_injection/hide_secrets",
                "pii_masking"
            ]
        );
        assert_eq!(
            config.guardrails[0].legacy_group.as_deref(),
            Some("prompt_injection")
        );
        let pii = &config.guardrails[2];
        assert_eq!(pii.kind, GuardrailKind::Presidio);
        assert_eq!(pii.mode, Mode::Hooks(vec![EventHook::LoggingOnly]));
        assert_eq!(pii.options["output_parse_pii"], true);
        assert_eq!(pii.roles.as_deref(), Some(&[Role::User][..]));
        assert_eq!(config.warnings.len(), 1);
    }

    #[test]
    fn legacy_errors_have_paths() {
        let error = GuardrailsConfig::from_proxy_config(&json!({
            "litellm_settings": {"guardrails": [{"x": {"callbacks": ["llamaguard_moderations"]}}]}
        }))
        .unwrap_err();
        assert_eq!(error.path, "litellm_settings.guardrails[0].x.callbacks[0]");
        let error = GuardrailsConfig::from_proxy_config(&json!({
            "litellm_settings": {"guardrails": [{"x": {"callbacks": ["presidio"], "default_on": "yes"}}]}
        }))
        .unwrap_err();
        assert_eq!(error.path, "litellm_settings.guardrails[0].x.default_on");
    }
}
