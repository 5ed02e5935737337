//! What the built-in text guardrails share: labelled rules (mask, block or report each label),
//! applied to whole texts in place and to streams through the same scanning algorithm.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::EventHook;
use crate::error::GuardrailError;
use crate::guardrail::{CallState, Channel, StreamStage};
use crate::info::{Detection, Findings};
use crate::scan::{Hit, RecognizerSet, TextStage, process_whole};

/// What a rule does with what it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Mask,
    Block,
    /// Keep the text and record nothing (exception phrases that shield keywords).
    Allow,
    /// Write the replacement and record nothing (restoring masked values).
    Replace,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Mask => "MASK",
            Self::Block => "BLOCK",
            Self::Allow => "FLAG",
            Self::Replace => "RESTORE",
        }
    }
}

/// What a masked match becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Replacement {
    Fixed(String),
    /// A numbered per-call token (`<EMAIL_ADDRESS_1>`), remembered for `output_parse_pii`.
    Numbered,
}

/// The error a blocking rule raises.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    /// `BlockedPiiEntityError` for the label's name.
    BlockedEntity,
    /// An `HTTPException` with this detail (its `error` is the message).
    Detail(Map<String, Value>),
}

/// One kind of match and what to do with it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Label {
    /// The name reported (`EMAIL_ADDRESS`, a content-filter pattern name, …).
    pub name: String,
    pub action: Action,
    pub replacement: Replacement,
    pub refusal: Refusal,
    /// Hits scoring below this are ignored.
    pub min_score: f32,
    /// How a detection is reported in `guardrail_response` (the content filter's
    /// `{"type": "pattern", "pattern_name": …}` objects); `None` reports [`Detection`]s.
    pub report: Option<Map<String, Value>>,
}

impl Label {
    pub(crate) fn mask(name: &str, replacement: Replacement) -> Self {
        Self {
            name: name.to_owned(),
            action: Action::Mask,
            replacement,
            refusal: Refusal::BlockedEntity,
            min_score: 0.0,
            report: None,
        }
    }
}

/// Recognizers plus the label table their hits index.
pub(crate) struct LabeledRules {
    pub set: RecognizerSet,
    pub labels: Vec<Label>,
    /// The detection method reported (`regex`, `keyword`, …).
    pub method: &'static str,
}

/// Who is applying rules, for error messages and numbered tokens.
#[derive(Clone, Copy)]
pub(crate) struct RuleContext<'a> {
    pub name: &'a str,
    pub hook: EventHook,
    pub call: &'a CallState,
}

impl LabeledRules {
    /// Writes the replacement of one hit (or refuses).
    fn apply_hit(
        &self,
        hit: &Hit,
        matched: &str,
        at: usize,
        context: RuleContext<'_>,
        out: &mut String,
        findings: &mut Findings,
    ) -> Result<(), GuardrailError> {
        let Some(label) = self.labels.get(hit.label) else {
            out.push_str(matched);
            return Ok(());
        };
        if hit.score < label.min_score || label.action == Action::Allow {
            out.push_str(matched);
            return Ok(());
        }
        if label.action == Action::Replace {
            match &label.replacement {
                Replacement::Fixed(text) => out.push_str(text),
                Replacement::Numbered => out.push_str(matched),
            }
            return Ok(());
        }
        if let Some(report) = &label.report {
            let mut entry = report.clone();
            entry.insert("action".to_owned(), Value::from(label.action.as_str()));
            match findings
                .response
                .get_or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(entries) => entries.push(Value::Object(entry)),
                other => *other = Value::Array(vec![Value::Object(entry)]),
            }
        }
        findings.record(Detection {
            entity_type: label.name.clone(),
            start: at,
            end: at + matched.len(),
            score: f64::from(hit.score),
            action: label.action.as_str().to_owned(),
        });
        match label.action {
            Action::Mask => {
                match &label.replacement {
                    Replacement::Fixed(text) => out.push_str(text),
                    Replacement::Numbered => {
                        out.push_str(&context.call.pii_token(&label.name, matched))
                    }
                }
                Ok(())
            }
            Action::Allow | Action::Replace => {
                out.push_str(matched);
                Ok(())
            }
            Action::Block => {
                findings.status = crate::info::GuardrailStatus::GuardrailIntervened;
                findings.detection_method = Some(self.method.to_owned());
                let taken = std::mem::take(findings);
                Err(match &label.refusal {
                    Refusal::BlockedEntity => GuardrailError::blocked_entity(
                        context.name,
                        context.hook,
                        &label.name,
                        taken,
                    ),
                    Refusal::Detail(detail) => GuardrailError::http_detail(
                        context.name,
                        context.hook,
                        detail.clone(),
                        taken,
                    ),
                })
            }
        }
    }

    /// Masks one text in place (or refuses it).
    pub(crate) fn apply_to(
        &self,
        text: &mut String,
        context: RuleContext<'_>,
        findings: &mut Findings,
    ) -> Result<(), GuardrailError> {
        let mut handler = |hit: &Hit, matched: &str, at: usize, out: &mut String| {
            self.apply_hit(hit, matched, at, context, out, findings)
        };
        if let Some(rewritten) = process_whole(&self.set, text, &mut handler)? {
            if rewritten != *text {
                *text = rewritten;
            }
        }
        Ok(())
    }
}

/// A stream stage applying labelled rules per channel.
pub(crate) struct RulesStage {
    rules: Arc<LabeledRules>,
    name: String,
    hook: EventHook,
    call: Arc<CallState>,
    channels: BTreeMap<Channel, TextStage>,
    findings: Findings,
}

impl RulesStage {
    pub(crate) fn new(
        rules: Arc<LabeledRules>,
        name: &str,
        hook: EventHook,
        call: Arc<CallState>,
    ) -> Self {
        Self {
            rules,
            name: name.to_owned(),
            hook,
            call,
            channels: BTreeMap::new(),
            findings: Findings::default(),
        }
    }

    fn run(
        &mut self,
        channel: Channel,
        text: Option<&str>,
        out: &mut String,
    ) -> Result<(), GuardrailError> {
        let context = RuleContext {
            name: &self.name,
            hook: self.hook,
            call: &self.call,
        };
        let rules = &self.rules;
        let findings = &mut self.findings;
        let mut handler = |hit: &Hit, matched: &str, at: usize, out: &mut String| {
            rules.apply_hit(hit, matched, at, context, out, findings)
        };
        let stage = self.channels.entry(channel).or_default();
        match text {
            Some(text) => stage.push(&rules.set, text, out, &mut handler),
            None => {
                let result = stage.flush(&rules.set, out, &mut handler);
                self.channels.remove(&channel);
                result
            }
        }
    }
}

impl StreamStage for RulesStage {
    fn window(&self) -> usize {
        self.rules.set.window()
    }

    fn push(
        &mut self,
        channel: Channel,
        text: &str,
        out: &mut String,
    ) -> Result<(), GuardrailError> {
        self.run(channel, Some(text), out)
    }

    fn flush(&mut self, channel: Channel, out: &mut String) -> Result<(), GuardrailError> {
        self.run(channel, None, out)
    }

    fn take_findings(&mut self) -> Findings {
        let mut findings = std::mem::take(&mut self.findings);
        if findings.found_anything() && findings.detection_method.is_none() {
            findings.detection_method = Some(self.rules.method.to_owned());
        }
        findings
    }
}
