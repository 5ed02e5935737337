//! `presidio` with a Presidio service: the analyzer's `/analyze` and the anonymizer's
//! `/anonymize` (Presidio API reference), with LiteLLM's options (`pii_entities_config`,
//! thresholds, deny list, `output_parse_pii`, filter scope). With `output_parse_pii` the masks
//! are numbered per call from the analyzer's offsets, and restored in the answer locally.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use llmrelay_core::types::ChatResponse;

use crate::config::{ConfigError, GuardrailSpec};
use crate::error::GuardrailError;
use crate::guardrail::{Guardrail, GuardrailFuture, HookContext, HookOutcome, StreamMode};
use crate::info::{Detection, Findings};
use crate::payload::{RequestPayload, TextKind, for_each_response_text};
use crate::pii::{FilterScope, PiiAction, PresidioOptions};
use crate::rules::{RuleContext, RulesStage};

use super::{RemoteClient, RemoteError, byte_offset, on_remote_error};

/// Whether a Presidio analyzer is configured (`presidio_analyzer_api_base` or
/// `PRESIDIO_ANALYZER_API_BASE`); without one, `presidio` is the built-in engine.
pub(crate) fn configured(options: &PresidioOptions) -> bool {
    options
        .presidio_analyzer_api_base
        .as_deref()
        .is_some_and(|base| !base.is_empty())
        || std::env::var("PRESIDIO_ANALYZER_API_BASE").is_ok_and(|base| !base.is_empty())
}

fn base_url(option: Option<&str>, variable: &str) -> Option<String> {
    let base = option
        .map(str::to_owned)
        .or_else(|| std::env::var(variable).ok())
        .filter(|base| !base.is_empty())?;
    let base = if base.starts_with("http://") || base.starts_with("https://") {
        base
    } else {
        format!("http://{base}")
    };
    Some(if base.ends_with('/') {
        base
    } else {
        format!("{base}/")
    })
}

#[derive(Debug, Deserialize)]
struct AnalyzerResult {
    entity_type: String,
    start: usize,
    end: usize,
    #[serde(default)]
    score: f64,
}

pub(crate) struct PresidioRemote {
    client: RemoteClient,
    analyze_url: String,
    anonymize_url: String,
    options: PresidioOptions,
    entities: Vec<(String, PiiAction)>,
}

impl PresidioRemote {
    pub(crate) fn build(
        spec: &GuardrailSpec,
        options: &PresidioOptions,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        for key in options.other.keys() {
            warnings.push(format!(
                "{}: not a presidio option; ignored",
                spec.field_path(key)
            ));
        }
        for (field, set) in [
            (
                "presidio_analyze_chunk_size_bytes",
                options.presidio_analyze_chunk_size_bytes.is_some(),
            ),
            ("mock_redacted_text", options.mock_redacted_text.is_some()),
            (
                "presidio_ad_hoc_recognizers",
                options.presidio_ad_hoc_recognizers.is_some(),
            ),
        ] {
            if set {
                warnings.push(format!(
                    "{}: not supported by llmrelay's Presidio client; ignored",
                    spec.field_path(field)
                ));
            }
        }
        let analyzer = base_url(
            options.presidio_analyzer_api_base.as_deref(),
            "PRESIDIO_ANALYZER_API_BASE",
        )
        .ok_or_else(|| {
            ConfigError::new(
                spec.field_path("presidio_analyzer_api_base"),
                "Missing `PRESIDIO_ANALYZER_API_BASE` from environment",
            )
        })?;
        let anonymizer = base_url(
            options.presidio_anonymizer_api_base.as_deref(),
            "PRESIDIO_ANONYMIZER_API_BASE",
        )
        .ok_or_else(|| {
            ConfigError::new(
                spec.field_path("presidio_anonymizer_api_base"),
                "Missing `PRESIDIO_ANONYMIZER_API_BASE` from environment",
            )
        })?;
        let entities = options
            .pii_entities_config
            .as_ref()
            .map(|map| map.iter().map(|(e, a)| (e.clone(), *a)).collect())
            .unwrap_or_default();
        Ok(Self {
            client: RemoteClient::new(spec),
            analyze_url: format!("{analyzer}analyze"),
            anonymize_url: format!("{anonymizer}anonymize"),
            options: options.clone(),
            entities,
        })
    }

    fn action_of(&self, entity: &str) -> PiiAction {
        self.entities
            .iter()
            .find(|(name, _)| name == entity)
            .map_or(PiiAction::Mask, |(_, action)| *action)
    }

    /// Analyzes and masks one text; returns the new text (if it changed).
    async fn check_text(
        &self,
        text: &str,
        numbered: bool,
        context: HookContext<'_>,
        findings: &mut Findings,
    ) -> Result<Option<String>, Stop> {
        let mut body = json!({"text": text, "language": self.options.presidio_language.as_deref().unwrap_or("en")});
        if !self.entities.is_empty() {
            body["entities"] = Value::Array(
                self.entities
                    .iter()
                    .map(|(entity, _)| Value::from(entity.clone()))
                    .collect(),
            );
        }
        if let (Value::Object(body), Some(extra)) =
            (&mut body, context.call.extra_body(context.guardrail_name))
        {
            body.extend(extra.clone());
        }
        let answer = self
            .client
            .post_json(&self.analyze_url, &[], body.to_string().as_bytes())
            .await
            .map_err(Stop::Remote)?;
        let results: Vec<AnalyzerResult> = serde_json::from_value(answer).map_err(|error| {
            Stop::Remote(RemoteError::InvalidResponse(format!(
                "analyzer answer: {error}"
            )))
        })?;
        let deny = self
            .options
            .presidio_entities_deny_list
            .clone()
            .unwrap_or_default();
        let mut kept: Vec<AnalyzerResult> = results
            .into_iter()
            .filter(|result| !deny.contains(&result.entity_type))
            .filter(|result| result.score >= f64::from(self.options.threshold(&result.entity_type)))
            .collect();
        for result in &kept {
            let action = self.action_of(&result.entity_type);
            findings.detections.push(Detection {
                entity_type: result.entity_type.clone(),
                start: result.start,
                end: result.end,
                score: result.score,
                action: if action == PiiAction::Block {
                    "BLOCK"
                } else {
                    "MASK"
                }
                .to_owned(),
            });
            if action == PiiAction::Block {
                findings.detection_method = Some("presidio".to_owned());
                return Err(Stop::Refused(GuardrailError::blocked_entity(
                    context.guardrail_name,
                    context.hook,
                    &result.entity_type,
                    std::mem::take(findings),
                )));
            }
        }
        if kept.is_empty() {
            return Ok(None);
        }
        if numbered {
            // Offsets are characters. Tokens are numbered left to right, as LiteLLM numbers
            // them; replacing from the end keeps the earlier offsets valid.
            kept.sort_by_key(|result| result.start);
            let mut spans = Vec::new();
            let mut last_end = 0;
            for result in &kept {
                let (start, end) = (
                    byte_offset(text, result.start),
                    byte_offset(text, result.end),
                );
                if start < last_end || start >= end {
                    continue;
                }
                let token = context
                    .call
                    .pii_token(&result.entity_type, &text[start..end]);
                *findings
                    .masked_entity_count
                    .entry(result.entity_type.clone())
                    .or_insert(0) += 1;
                spans.push((start, end, token));
                last_end = end;
            }
            let mut masked = text.to_owned();
            for (start, end, token) in spans.into_iter().rev() {
                masked.replace_range(start..end, &token);
            }
            return Ok(Some(masked));
        }
        let results: Vec<Value> =
            kept.iter().map(|r| json!({"entity_type": r.entity_type, "start": r.start, "end": r.end, "score": r.score})).collect();
        let body = json!({"text": text, "analyzer_results": results});
        let answer = self
            .client
            .post_json(&self.anonymize_url, &[], body.to_string().as_bytes())
            .await
            .map_err(Stop::Remote)?;
        let masked = answer.get("text").and_then(Value::as_str).ok_or_else(|| {
            Stop::Remote(RemoteError::InvalidResponse(
                "anonymizer answer has no text".to_owned(),
            ))
        })?;
        for item in answer
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(entity) = item.get("entity_type").and_then(Value::as_str) {
                *findings
                    .masked_entity_count
                    .entry(entity.to_owned())
                    .or_insert(0) += 1;
            }
        }
        Ok(Some(masked.to_owned()))
    }

    fn settle(context: HookContext<'_>, stop: Stop) -> Result<HookOutcome, GuardrailError> {
        match stop {
            Stop::Refused(error) => Err(error),
            Stop::Remote(error) => on_remote_error(
                context.spec,
                context.guardrail_name,
                context.hook,
                "Presidio PII analysis",
                &error,
            ),
        }
    }
}

enum Stop {
    Refused(GuardrailError),
    Remote(RemoteError),
}

fn finish(mut findings: Findings) -> HookOutcome {
    if findings.found_anything() {
        findings.detection_method = Some("presidio".to_owned());
    }
    HookOutcome::with_findings(findings)
}

impl Guardrail for PresidioRemote {
    fn provider(&self) -> &str {
        "presidio"
    }

    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        Box::pin(async move {
            if self.options.scope() == FilterScope::Output {
                return Ok(HookOutcome::default());
            }
            let roles = context.spec.roles.as_deref();
            let texts = request.collect_texts(roles);
            let numbered = self.options.output_parse_pii.unwrap_or(false);
            let mut findings = Findings::default();
            let mut replaced = Vec::with_capacity(texts.len());
            let mut changed = false;
            for (_, _, text) in texts {
                if text.trim().is_empty() {
                    replaced.push(text);
                    continue;
                }
                match self
                    .check_text(&text, numbered, context, &mut findings)
                    .await
                {
                    Ok(Some(masked)) => {
                        changed = true;
                        replaced.push(masked);
                    }
                    Ok(None) => replaced.push(text),
                    Err(stop) => return Self::settle(context, stop),
                }
            }
            if changed {
                request.replace_texts(roles, &replaced);
            }
            Ok(finish(findings))
        })
    }

    fn check_response<'a>(
        &'a self,
        response: &'a mut ChatResponse,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        Box::pin(async move {
            let mut findings = Findings::default();
            if self.options.output_parse_pii.unwrap_or(false) {
                if let Some(rules) = crate::pii::restore_rules(context.call) {
                    let rule_context = RuleContext {
                        name: context.guardrail_name,
                        hook: context.hook,
                        call: context.call,
                    };
                    for_each_response_text(response, &mut |slot| {
                        rules.apply_to(slot.text, rule_context, &mut findings)
                    })?;
                }
                return Ok(HookOutcome::with_findings(findings));
            }
            if self.options.scope() == FilterScope::Input {
                return Ok(HookOutcome::default());
            }
            let mut texts = Vec::new();
            let _ = for_each_response_text::<()>(response, &mut |slot| {
                if slot.kind == TextKind::Content {
                    texts.push(slot.text.clone());
                }
                Ok(())
            });
            let mut masked = Vec::with_capacity(texts.len());
            for text in &texts {
                match self.check_text(text, false, context, &mut findings).await {
                    Ok(result) => masked.push(result.unwrap_or_else(|| text.clone())),
                    Err(stop) => return Self::settle(context, stop),
                }
            }
            let mut next = masked.into_iter();
            let _ = for_each_response_text::<()>(response, &mut |slot| {
                if slot.kind == TextKind::Content {
                    if let Some(text) = next.next() {
                        *slot.text = text;
                    }
                }
                Ok(())
            });
            Ok(finish(findings))
        })
    }

    fn stream_mode(&self, context: HookContext<'_>) -> StreamMode {
        if self.options.output_parse_pii.unwrap_or(false) {
            return match crate::pii::restore_rules(context.call) {
                Some(rules) => StreamMode::Incremental(Box::new(RulesStage::new(
                    Arc::new(rules),
                    context.guardrail_name,
                    context.hook,
                    Arc::clone(context.call),
                ))),
                None => StreamMode::CheckAtEnd,
            };
        }
        super::stream_mode_of(context.spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_a_scheme_and_a_slash() {
        assert_eq!(
            base_url(Some("localhost:5002"), "LLMRELAY_UNSET_VARIABLE").as_deref(),
            Some("http://localhost:5002/")
        );
        assert_eq!(
            base_url(Some("https://p.example/"), "LLMRELAY_UNSET_VARIABLE").as_deref(),
            Some("https://p.example/")
        );
        assert!(base_url(None, "LLMRELAY_UNSET_VARIABLE").is_none());
    }
}
