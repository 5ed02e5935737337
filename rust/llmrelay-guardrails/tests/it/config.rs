//! Config parsing end to end: a LiteLLM config.yaml, both guardrail forms, errors with field
//! paths, warnings, `/guardrails/list`.

use llmrelay_guardrails::{BuildOptions, ConfigError, Guardrails};
use serde_json::{Value, json};

fn build(config: Value) -> Result<Guardrails, ConfigError> {
    Guardrails::from_proxy_config(&config, &BuildOptions::default())
}

fn error_of(entries: Value) -> ConfigError {
    build(json!({ "guardrails": entries })).unwrap_err()
}

#[test]
fn a_litellm_config_yaml_loads() {
    let yaml = r#"
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
guardrails:
  - guardrail_name: "pii-mask"
    litellm_params:
      guardrail: presidio
      mode: [pre_call, post_call]
      default_on: true
      output_parse_pii: true
      pii_entities_config:
        EMAIL_ADDRESS: MASK
        US_SSN: BLOCK
  - guardrail_name: "secrets"
    litellm_params:
      guardrail: hide-secrets
      mode: pre_call
  - guardrail_name: "words"
    litellm_params:
      guardrail: litellm_content_filter
      mode:
        tags:
          prod: [pre_call, post_call]
        default: logging_only
      blocked_words:
        - keyword: "project falcon"
          action: BLOCK
          description: internal code name
      categories:
        - category: harmful_violence
          action: BLOCK
          severity_threshold: high
  - guardrail_name: "tools"
    litellm_params:
      guardrail: tool_permission
      mode: post_call
      rules:
        - id: allow_reads
          tool_name: "read_.*"
          decision: allow
      default_action: deny
      on_disallowed_action: rewrite
litellm_settings:
  guardrails:
    - prompt_injection:
        callbacks: [detect_prompt_injection]
        default_on: true
"#;
    let config: Value = serde_saphyr::from_str(yaml).unwrap();
    let set = build(config).unwrap();
    assert_eq!(
        set.names(),
        ["pii-mask", "secrets", "words", "tools", "prompt_injection"]
    );
    assert_eq!(set.warnings().len(), 1, "{:?}", set.warnings());
    let listed = set.list();
    assert_eq!(listed["guardrails"].as_array().unwrap().len(), 5);
    assert_eq!(
        listed["guardrails"][2]["litellm_params"]["mode"]["tags"]["prod"],
        json!(["pre_call", "post_call"])
    );
}

#[test]
fn errors_name_the_field_path() {
    let cases = [
        (
            json!([{"guardrail_name": "g", "litellm_params": {"guardrail": "presidio", "mode": "always"}}]),
            "guardrails[0].litellm_params.mode",
        ),
        (
            json!([{"guardrail_name": "g", "litellm_params": {"guardrail": "nope", "mode": "pre_call"}}]),
            "guardrails[0].litellm_params.guardrail",
        ),
        (
            json!([{"guardrail_name": "g", "litellm_params": {"guardrail": "bedrock", "mode": "pre_call", "guardrailVersion": "DRAFT"}}]),
            "guardrails[0].litellm_params.guardrailIdentifier",
        ),
        (
            json!([{"guardrail_name": "g", "litellm_params": {"guardrail": "presidio", "mode": "pre_call",
            "pii_entities_config": {"EMAIL_ADDRESS": "MASK", "US_PASSPORT": "BLOCK"}}}]),
            "guardrails[0].litellm_params.pii_entities_config.US_PASSPORT",
        ),
        (
            json!([{"guardrail_name": "g", "litellm_params": {"guardrail": "litellm_content_filter", "mode": "pre_call",
            "patterns": [{"pattern_type": "regex", "pattern": "[", "action": "MASK"}]}}]),
            "guardrails[0].litellm_params.patterns[0].pattern",
        ),
        (
            json!([{"guardrail_name": "g", "litellm_params": {"guardrail": "tool_permission", "mode": "pre_call",
            "rules": [{"id": "r", "decision": "deny"}]}}]),
            "guardrails[0].litellm_params.rules[0].tool_name",
        ),
        (
            json!([{"guardrail_name": "g", "litellm_params": {"guardrail": "generic_guardrail_api", "mode": "pre_call"}}]),
            "guardrails[0].litellm_params.api_base",
        ),
        (
            json!([{"guardrail_name": "g", "litellm_params": {"guardrail": "detect_prompt_injection", "mode": "pre_call", "heuristics_check": "yes"}}]),
            "guardrails[0].litellm_params.heuristics_check",
        ),
        (
            json!([{"guardrail_name": "g", "litellm_params": {"guardrail": "hide-secrets", "mode": "pre_call", "default_on": "true"}}]),
            "guardrails[0].litellm_params.default_on",
        ),
        (
            json!([{"guardrail_name": "g", "extra": 1, "litellm_params": {"guardrail": "hide-secrets", "mode": "pre_call"}}]),
            "guardrails[0].extra",
        ),
    ];
    for (entries, path) in cases {
        let error = error_of(entries.clone());
        assert_eq!(error.path, path, "{entries}: {error}");
    }
    let legacy = build(json!({"litellm_settings": {"guardrails": [{"x": {"callbacks": ["presidio"], "callback_args": {"presidio": []}}}]}})).unwrap_err();
    assert_eq!(
        legacy.path,
        "litellm_settings.guardrails[0].x.callback_args.presidio"
    );
}

#[test]
fn openai_moderation_needs_a_key() {
    // The variable is set by no test; the key must come from the config then.
    if std::env::var("OPENAI_API_KEY").is_ok() {
        return;
    }
    let error = error_of(
        json!([{"guardrail_name": "m", "litellm_params": {"guardrail": "openai_moderation", "mode": "pre_call"}}]),
    );
    assert_eq!(error.path, "guardrails[0].litellm_params.api_key");
    assert!(error.message.contains("OPENAI_API_KEY"));
}

#[test]
fn ignored_keys_are_warnings() {
    let set = build(json!({"guardrails": [
        {"guardrail_name": "cf", "litellm_params": {"guardrail": "litellm_content_filter", "mode": "pre_call",
            "competitor_intent_config": {"industry": "airline"}, "only_scan_new_messages": true}},
        {"guardrail_name": "s", "litellm_params": {"guardrail": "hide-secrets", "mode": "pre_call",
            "detect_secrets_config": {"plugins_used": [{"name": "ArtifactoryDetector"}, {"name": "JwtTokenDetector"}]}}}
    ]}))
    .unwrap();
    let warnings = set.warnings().join("\n");
    assert!(
        warnings.contains("guardrails[0].litellm_params.competitor_intent_config"),
        "{warnings}"
    );
    assert!(
        warnings.contains("guardrails[0].litellm_params.only_scan_new_messages"),
        "{warnings}"
    );
    assert!(warnings.contains("plugins_used[0].name"), "{warnings}");
}
