//! `presidio` without a Presidio service: PII detection and masking in Rust, under Presidio's
//! entity names and LiteLLM's options (`pii_entities_config`, `output_parse_pii`, score
//! thresholds, deny list, filter scope). Masks look like Presidio's (`<EMAIL_ADDRESS>`); with
//! `output_parse_pii` they are numbered per call (`<EMAIL_ADDRESS_1>`) and restored in the answer.

mod checksum;
pub(crate) mod recognizers;
mod restore;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use llmrelay_core::types::ChatResponse;

use crate::config::{ConfigError, GuardrailSpec};
use crate::guardrail::{Guardrail, GuardrailFuture, HookContext, HookOutcome, StreamMode, ready};
use crate::info::Findings;
use crate::payload::{RequestPayload, for_each_response_text};
use crate::rules::{Action, Label, LabeledRules, Refusal, Replacement, RuleContext, RulesStage};
use crate::scan::{Recognizer, RecognizerSet};

pub use recognizers::ENTITIES;

/// `pii_entities_config` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiAction {
    Mask,
    Block,
}

impl<'de> Deserialize<'de> for PiiAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.to_ascii_uppercase().as_str() {
            "MASK" => Ok(Self::Mask),
            "BLOCK" => Ok(Self::Block),
            _ => Err(serde::de::Error::custom(format!(
                "unknown PII action '{text}', expected MASK or BLOCK"
            ))),
        }
    }
}

/// `presidio_filter_scope` / `presidio_run_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FilterScope {
    Input,
    Output,
    #[default]
    Both,
}

/// LiteLLM's Presidio options (`PresidioConfigModel`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct PresidioOptions {
    #[serde(default)]
    pub pii_entities_config: Option<BTreeMap<String, PiiAction>>,
    #[serde(default)]
    pub output_parse_pii: Option<bool>,
    #[serde(default)]
    pub presidio_score_thresholds: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    pub presidio_entities_deny_list: Option<Vec<String>>,
    #[serde(default)]
    pub presidio_filter_scope: Option<FilterScope>,
    #[serde(default)]
    pub presidio_run_on: Option<FilterScope>,
    #[serde(default)]
    pub presidio_language: Option<String>,
    #[serde(default)]
    pub presidio_analyzer_api_base: Option<String>,
    #[serde(default)]
    pub presidio_anonymizer_api_base: Option<String>,
    #[serde(default)]
    pub presidio_ad_hoc_recognizers: Option<String>,
    #[serde(default)]
    pub presidio_analyze_chunk_size_bytes: Option<u64>,
    #[serde(default)]
    pub mock_redacted_text: Option<Value>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl PresidioOptions {
    pub(crate) fn scope(&self) -> FilterScope {
        self.presidio_filter_scope
            .or(self.presidio_run_on)
            .unwrap_or_default()
    }

    /// The minimum score of an entity (`presidio_score_thresholds[entity]`, else `["ALL"]`).
    pub(crate) fn threshold(&self, entity: &str) -> f32 {
        let thresholds = self.presidio_score_thresholds.as_ref();
        #[expect(clippy::cast_possible_truncation, reason = "scores are in [0, 1]")]
        thresholds
            .and_then(|map| map.get(entity).or_else(|| map.get("ALL")))
            .map_or(0.0, |score| *score as f32)
    }

    /// Entities to detect and their actions, after the deny list.
    pub(crate) fn entity_actions(&self) -> Vec<(String, PiiAction)> {
        let deny = self.presidio_entities_deny_list.clone().unwrap_or_default();
        let configured: Vec<(String, PiiAction)> = match &self.pii_entities_config {
            Some(map) => map
                .iter()
                .map(|(entity, action)| (entity.clone(), *action))
                .collect(),
            None => ENTITIES
                .iter()
                .map(|entity| ((*entity).to_owned(), PiiAction::Mask))
                .collect(),
        };
        configured
            .into_iter()
            .filter(|(entity, _)| !deny.contains(entity))
            .collect()
    }
}

/// The built-in PII guardrail.
pub(crate) struct PiiGuardrail {
    input: Arc<LabeledRules>,
    output: Arc<LabeledRules>,
    output_parse_pii: bool,
    scope: FilterScope,
}

fn build_rules(
    options: &PresidioOptions,
    numbered: bool,
    spec: &GuardrailSpec,
) -> Result<LabeledRules, ConfigError> {
    let mut labels = Vec::new();
    let mut recognizers: Vec<Box<dyn Recognizer>> = Vec::new();
    for (entity, action) in options.entity_actions() {
        let index = labels.len();
        let found = recognizers::recognizers_for(&entity, index).map_err(|message| {
            ConfigError::new(
                spec.field_path(&format!("pii_entities_config.{entity}")),
                format!(
                    "{message}; it detects {} (set presidio_analyzer_api_base to use a Presidio analyzer)",
                    ENTITIES.join(", ")
                ),
            )
        })?;
        recognizers.extend(found);
        labels.push(Label {
            name: entity.clone(),
            action: match action {
                PiiAction::Mask => Action::Mask,
                PiiAction::Block => Action::Block,
            },
            replacement: if numbered {
                Replacement::Numbered
            } else {
                Replacement::Fixed(format!("<{entity}>"))
            },
            refusal: Refusal::BlockedEntity,
            min_score: options.threshold(&entity),
            report: None,
        });
    }
    Ok(LabeledRules {
        set: RecognizerSet::new(recognizers),
        labels,
        method: "regex",
    })
}

impl PiiGuardrail {
    pub(crate) fn build(
        spec: &GuardrailSpec,
        options: &PresidioOptions,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        for (field, set) in [
            (
                "presidio_analyze_chunk_size_bytes",
                options.presidio_analyze_chunk_size_bytes.is_some(),
            ),
            ("mock_redacted_text", options.mock_redacted_text.is_some()),
        ] {
            if set {
                warnings.push(format!(
                    "{}: not used by the built-in engine; ignored",
                    spec.field_path(field)
                ));
            }
        }
        if options.presidio_ad_hoc_recognizers.is_some() {
            warnings.push(format!(
                "{}: ad-hoc recognizers need a Presidio analyzer (presidio_analyzer_api_base); ignored by the built-in engine",
                spec.field_path("presidio_ad_hoc_recognizers")
            ));
        }
        if let Some(language) = options
            .presidio_language
            .as_deref()
            .filter(|language| *language != "en")
        {
            warnings.push(format!(
                "{}: the built-in engine's patterns are language-neutral; '{language}' is not used",
                spec.field_path("presidio_language")
            ));
        }
        let output_parse_pii = options.output_parse_pii.unwrap_or(false);
        Ok(Self {
            input: Arc::new(build_rules(options, output_parse_pii, spec)?),
            output: Arc::new(build_rules(options, false, spec)?),
            output_parse_pii,
            scope: options.scope(),
        })
    }
}

impl Guardrail for PiiGuardrail {
    fn provider(&self) -> &str {
        "presidio"
    }

    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        if self.scope == FilterScope::Output {
            return ready(Ok(HookOutcome::default()));
        }
        let rule_context = RuleContext {
            name: context.guardrail_name,
            hook: context.hook,
            call: context.call,
        };
        let mut findings = Findings::default();
        let result = request.for_each_text(context.spec.roles.as_deref(), &mut |slot| {
            self.input.apply_to(slot.text, rule_context, &mut findings)
        });
        ready(result.map(|()| finish(findings)))
    }

    fn check_response<'a>(
        &'a self,
        response: &'a mut ChatResponse,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        let rule_context = RuleContext {
            name: context.guardrail_name,
            hook: context.hook,
            call: context.call,
        };
        let mut findings = Findings::default();
        let result = if self.output_parse_pii {
            match restore::rules_for(context.call) {
                Some(rules) => for_each_response_text(response, &mut |slot| {
                    rules.apply_to(slot.text, rule_context, &mut findings)
                }),
                None => Ok(()),
            }
        } else if self.scope == FilterScope::Input {
            Ok(())
        } else {
            for_each_response_text(response, &mut |slot| {
                self.output.apply_to(slot.text, rule_context, &mut findings)
            })
        };
        ready(result.map(|()| finish(findings)))
    }

    fn stream_mode(&self, context: HookContext<'_>) -> StreamMode {
        let rules = if self.output_parse_pii {
            match restore::rules_for(context.call) {
                Some(rules) => Arc::new(rules),
                None => return StreamMode::CheckAtEnd,
            }
        } else if self.scope == FilterScope::Input {
            return StreamMode::CheckAtEnd;
        } else {
            Arc::clone(&self.output)
        };
        StreamMode::Incremental(Box::new(RulesStage::new(
            rules,
            context.guardrail_name,
            context.hook,
            Arc::clone(context.call),
        )))
    }
}

/// Rules restoring this call's `output_parse_pii` tokens (`None` when it made none).
pub(crate) fn restore_rules(call: &crate::guardrail::CallState) -> Option<LabeledRules> {
    restore::rules_for(call)
}

fn finish(mut findings: Findings) -> HookOutcome {
    if findings.found_anything() {
        findings.detection_method = Some("regex".to_owned());
    }
    HookOutcome::with_findings(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GuardrailsConfig;
    use crate::guardrail::CallState;
    use serde_json::json;

    fn spec(options: Value) -> GuardrailSpec {
        let mut params = json!({"guardrail": "presidio", "mode": ["pre_call", "post_call"]});
        if let (Value::Object(params), Value::Object(options)) = (&mut params, options) {
            params.extend(options);
        }
        GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "pii", "litellm_params": params}])),
            None,
        )
        .unwrap()
        .guardrails
        .remove(0)
    }

    fn guardrail(options: Value) -> PiiGuardrail {
        let spec = spec(options);
        let options: PresidioOptions = spec.parse_options().unwrap();
        PiiGuardrail::build(&spec, &options, &mut Vec::new()).unwrap()
    }

    #[test]
    fn masks_like_presidio_and_blocks_per_entity() {
        let pii = guardrail(json!({}));
        let call = CallState::default();
        let context = RuleContext {
            name: "pii",
            hook: crate::config::EventHook::PreCall,
            call: &call,
        };
        let mut text =
            "Mail jane@example.com or call 555-123-4567, card 4111 1111 1111 1111.".to_owned();
        let mut findings = Findings::default();
        pii.input
            .apply_to(&mut text, context, &mut findings)
            .unwrap();
        assert_eq!(
            text,
            "Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>, card <CREDIT_CARD>."
        );
        assert_eq!(findings.masked_entity_count.len(), 3);

        let blocking =
            guardrail(json!({"pii_entities_config": {"US_SSN": "BLOCK", "EMAIL_ADDRESS": "MASK"}}));
        let mut text = "ssn 536-22-1234".to_owned();
        let error = blocking
            .input
            .apply_to(&mut text, context, &mut Findings::default())
            .unwrap_err();
        assert!(
            error
                .message()
                .starts_with("Blocked entity detected: US_SSN by Guardrail: pii.")
        );
        let mut text = "call 555-123-4567".to_owned();
        blocking
            .input
            .apply_to(&mut text, context, &mut Findings::default())
            .unwrap();
        assert_eq!(text, "call 555-123-4567");
    }

    #[test]
    fn numbered_tokens_and_thresholds() {
        let pii = guardrail(
            json!({"output_parse_pii": true, "presidio_score_thresholds": {"PHONE_NUMBER": 0.9}}),
        );
        let call = CallState::default();
        let context = RuleContext {
            name: "pii",
            hook: crate::config::EventHook::PreCall,
            call: &call,
        };
        let mut text = "a@b.io, c@d.io, a@b.io, 555-123-4567".to_owned();
        pii.input
            .apply_to(&mut text, context, &mut Findings::default())
            .unwrap();
        assert_eq!(
            text,
            "<EMAIL_ADDRESS_1>, <EMAIL_ADDRESS_2>, <EMAIL_ADDRESS_1>, 555-123-4567"
        );
    }

    #[test]
    fn unknown_entities_fail_with_their_path() {
        let spec = spec(json!({"pii_entities_config": {"LOCATION": "MASK"}}));
        let options: PresidioOptions = spec.parse_options().unwrap();
        let error = PiiGuardrail::build(&spec, &options, &mut Vec::new())
            .err()
            .unwrap();
        assert_eq!(
            error.path,
            "guardrails[0].litellm_params.pii_entities_config.LOCATION"
        );
        let spec = spec_with_bad_action();
        let error = spec.parse_options::<PresidioOptions>().unwrap_err();
        assert_eq!(
            error.path,
            "guardrails[0].litellm_params.pii_entities_config.EMAIL_ADDRESS"
        );
    }

    fn spec_with_bad_action() -> GuardrailSpec {
        spec(json!({"pii_entities_config": {"EMAIL_ADDRESS": "HIDE"}}))
    }
}
