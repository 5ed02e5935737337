//! What a guardrail reports: findings of one run, and LiteLLM's `guardrail_information` record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// LiteLLM's `GuardrailStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailStatus {
    /// Ran; the content passed (possibly after masking).
    #[default]
    Success,
    /// Found something and only reported it (monitor / logging modes).
    GuardrailFlagged,
    /// Refused the content.
    GuardrailIntervened,
    /// Could not judge (remote error, timeout).
    GuardrailFailedToRespond,
    NotRun,
}

impl GuardrailStatus {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::GuardrailFlagged => "guardrail_flagged",
            Self::GuardrailIntervened => "guardrail_intervened",
            Self::GuardrailFailedToRespond => "guardrail_failed_to_respond",
            Self::NotRun => "not_run",
        }
    }

    /// The more severe of two statuses (for `status_fields.guardrail_status` of a call).
    #[must_use]
    pub fn worst(self, other: Self) -> Self {
        fn rank(status: GuardrailStatus) -> u8 {
            match status {
                GuardrailStatus::NotRun => 0,
                GuardrailStatus::Success => 1,
                GuardrailStatus::GuardrailFlagged => 2,
                GuardrailStatus::GuardrailFailedToRespond => 3,
                GuardrailStatus::GuardrailIntervened => 4,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// One thing a guardrail found. Never carries the matched text (it is what is being protected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Entity or rule name: `EMAIL_ADDRESS`, `OPENAI_API_KEY`, a content-filter pattern name, …
    pub entity_type: String,
    /// Byte offsets in the text it was found in.
    pub start: usize,
    pub end: usize,
    pub score: f64,
    /// `MASK`, `BLOCK` or `FLAG`.
    pub action: String,
}

/// What one guardrail run found, before it becomes a [`GuardrailInformation`] record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Findings {
    pub status: GuardrailStatus,
    /// Masked entities per type (`masked_entity_count`).
    pub masked_entity_count: BTreeMap<String, u64>,
    /// Detections (→ `guardrail_response` unless `response` is set).
    pub detections: Vec<Detection>,
    /// A remote guardrail's answer, sanitized (→ `guardrail_response`).
    pub response: Option<Value>,
    /// How it detected: `regex`, `keyword`, `heuristics`, …
    pub detection_method: Option<String>,
    /// A score the guardrail computed (prompt injection), 0–1.
    pub confidence_score: Option<f64>,
    /// Names of the rules or categories that intervened.
    pub violation_categories: Vec<String>,
    /// A provider's raw top-level action (`GUARDRAIL_INTERVENED`, `BLOCKED`, …).
    pub guardrail_action: Option<String>,
    /// How many patterns were evaluated.
    pub patterns_checked: Option<usize>,
}

impl Findings {
    /// Adds a detection; masked ones are also counted.
    pub fn record(&mut self, detection: Detection) {
        if detection.action == "MASK" {
            *self
                .masked_entity_count
                .entry(detection.entity_type.clone())
                .or_insert(0) += 1;
        }
        self.detections.push(detection);
    }

    /// Merges findings of another text of the same run.
    pub fn merge(&mut self, other: Findings) {
        self.status = self.status.worst(other.status);
        for (entity, count) in other.masked_entity_count {
            *self.masked_entity_count.entry(entity).or_insert(0) += count;
        }
        self.detections.extend(other.detections);
        if other.response.is_some() {
            self.response = other.response;
        }
        if self.detection_method.is_none() {
            self.detection_method = other.detection_method;
        }
        self.confidence_score = match (self.confidence_score, other.confidence_score) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for category in other.violation_categories {
            if !self.violation_categories.contains(&category) {
                self.violation_categories.push(category);
            }
        }
        if other.guardrail_action.is_some() {
            self.guardrail_action = other.guardrail_action;
        }
        if other.patterns_checked.is_some() {
            self.patterns_checked = other.patterns_checked;
        }
    }

    /// Whether anything was found.
    #[must_use]
    pub fn found_anything(&self) -> bool {
        !self.detections.is_empty() || !self.violation_categories.is_empty()
    }
}

/// `guardrail_response`: what the guardrail found (kept typed; serialized when the record is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GuardrailResponse {
    Detections(Vec<Detection>),
    Value(Value),
}

/// One entry of LiteLLM's `standard_logging_object.guardrail_information` list
/// (`StandardLoggingGuardrailInformation`); `None` fields are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardrailInformation {
    pub guardrail_name: String,
    pub guardrail_provider: Option<String>,
    /// The hook it ran in (`pre_call`, `post_call`, …).
    pub guardrail_mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardrail_response: Option<GuardrailResponse>,
    pub guardrail_status: GuardrailStatus,
    /// Epoch seconds.
    pub start_time: f64,
    pub end_time: f64,
    /// Seconds.
    pub duration: f64,
    pub masked_entity_count: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence_score: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub violation_categories: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardrail_action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patterns_checked: Option<usize>,
}

impl GuardrailInformation {
    /// The record of one run.
    #[must_use]
    pub fn new(
        guardrail_name: &str,
        provider: &str,
        mode: &str,
        findings: Findings,
        start_time: f64,
        duration: f64,
    ) -> Self {
        let response = match findings.response {
            Some(value) => Some(GuardrailResponse::Value(value)),
            None if findings.detections.is_empty() => None,
            None => Some(GuardrailResponse::Detections(findings.detections)),
        };
        Self {
            guardrail_name: guardrail_name.to_owned(),
            guardrail_provider: Some(provider.to_owned()),
            guardrail_mode: mode.to_owned(),
            guardrail_response: response,
            guardrail_status: findings.status,
            start_time,
            end_time: start_time + duration,
            duration,
            masked_entity_count: findings.masked_entity_count,
            detection_method: findings.detection_method,
            confidence_score: findings.confidence_score,
            violation_categories: findings.violation_categories,
            guardrail_action: findings.guardrail_action,
            patterns_checked: findings.patterns_checked,
        }
    }
}

/// Seconds since the Unix epoch.
#[must_use]
pub fn epoch_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_serializes_in_litellm_shape() {
        let mut findings = Findings::default();
        findings.record(Detection {
            entity_type: "EMAIL_ADDRESS".to_owned(),
            start: 3,
            end: 10,
            score: 1.0,
            action: "MASK".to_owned(),
        });
        findings.detection_method = Some("regex".to_owned());
        let record = GuardrailInformation::new("pii", "presidio", "pre_call", findings, 100.0, 0.5);
        let value = serde_json::to_value(&record).unwrap();
        assert_eq!(value["guardrail_name"], "pii");
        assert_eq!(value["guardrail_provider"], "presidio");
        assert_eq!(value["guardrail_mode"], "pre_call");
        assert_eq!(value["guardrail_status"], "success");
        assert_eq!(value["masked_entity_count"], json!({"EMAIL_ADDRESS": 1}));
        assert_eq!(value["end_time"], 100.5);
        assert_eq!(
            value["guardrail_response"][0]["entity_type"],
            "EMAIL_ADDRESS"
        );
        assert!(value.get("confidence_score").is_none());
    }

    #[test]
    fn worst_status_wins() {
        assert_eq!(
            GuardrailStatus::Success.worst(GuardrailStatus::GuardrailIntervened),
            GuardrailStatus::GuardrailIntervened
        );
        assert_eq!(
            GuardrailStatus::GuardrailFlagged.worst(GuardrailStatus::Success),
            GuardrailStatus::GuardrailFlagged
        );
    }
}
