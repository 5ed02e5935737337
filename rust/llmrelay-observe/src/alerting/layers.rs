//! The alerting layers: a marker at the end of admission (the call is about to go upstream,
//! so a failure is the LLM's, not a refusal), a per-attempt layer (failed attempts count
//! toward a deployment's outage and the deployment report), and an account layer (slow
//! responses, failed calls, latency for the report). Each is a few comparisons; an alert is one
//! queue push.

use std::sync::Arc;
use std::time::Duration;

use llmrelay_core::Error;
use llmrelay_pipeline::{
    Account, Admission, Admit, AdmitStage, AttemptInfo, Call, CallRecord, Layers, PerAttempt,
    Status, Step,
};
use llmrelay_providers::engine::Outcome;
use serde_json::Value;

use super::{AlertType, Alerting, Level, truncate};

/// Set on a call that passed admission (it was routed upstream).
#[derive(Debug, Clone, Copy)]
pub struct Admitted;

struct MarkAdmitted;

impl Admit for MarkAdmitted {
    fn name(&self) -> &'static str {
        "alerting.admitted"
    }

    fn stage(&self) -> AdmitStage {
        AdmitStage::Hooks
    }

    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        call.extensions.insert(Admitted);
        Step::Ready(Admission::Continue)
    }
}

struct Attempts(Alerting);

impl PerAttempt for Attempts {
    fn name(&self) -> &'static str {
        "alerting.attempts"
    }

    fn after(&self, _call: &Call, attempt: &AttemptInfo<'_>, result: Result<&Outcome, &Error>) {
        if let (Err(error), Some(deployment)) = (result, attempt.deployment_id) {
            self.0
                .attempt_failed(deployment, attempt.model, error.status_code());
        }
    }
}

struct Calls {
    alerting: Alerting,
    threshold: Duration,
    slow: bool,
    failed: bool,
    report: bool,
}

/// The request as alerts show it: model, key and team, and the start of the messages.
fn request_info(alerting: &Alerting, call: &Call, record: &CallRecord) -> String {
    let mut info = format!("\nRequest Model: `{}`", call.model_group);
    if let Some(base) = record.hidden.as_ref().and_then(|h| h.api_base.as_deref()) {
        info.push_str(&format!("\nAPI Base: `{base}`"));
    }
    let messages = if alerting.settings().redact_messages {
        "Message not logged. litellm.redact_messages_in_exceptions=True".to_owned()
    } else {
        let body = call.request.to_map();
        let messages = body.get("messages").or_else(|| body.get("input"));
        let text = match messages {
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        truncate(&text, 100).to_owned()
    };
    info.push_str(&format!("\nMessages: `{messages}`"));
    if let Some(alias) = &call.identity.key_alias {
        info.push_str(&format!("\n\nKey Name: `{alias}`"));
    }
    if let Some(team) = call
        .identity
        .team_alias
        .as_ref()
        .or(call.identity.team_id.as_ref())
    {
        info.push_str(&format!("\nTeam: `{team}`"));
    }
    info
}

impl Account for Calls {
    fn name(&self) -> &'static str {
        "alerting.calls"
    }

    fn account(&self, call: &Call, record: &CallRecord) {
        match record.status {
            Status::Success => {
                let elapsed = record
                    .end_time
                    .duration_since(call.started_wall)
                    .unwrap_or_default();
                if self.report
                    && let Some(deployment) = record.route.deployment_id.as_deref()
                {
                    let tokens = record.usage.as_ref().map_or(0, |u| u.completion_tokens);
                    let latency = if tokens > 0 {
                        elapsed.as_secs_f64() / tokens as f64
                    } else {
                        elapsed.as_secs_f64()
                    };
                    self.alerting.record_latency(deployment, latency);
                }
                if self.slow && elapsed > self.threshold && !record.cache_hit {
                    let message = format!(
                        "`Responses are slow - {:.2}s response time > Alerting threshold: {}s`{}",
                        elapsed.as_secs_f64(),
                        self.threshold.as_secs_f64(),
                        request_info(&self.alerting, call, record)
                    );
                    self.alerting
                        .send(AlertType::LlmTooSlow, Level::Low, &message);
                }
            }
            Status::Failure if self.failed && call.extensions.get::<Admitted>().is_some() => {
                let Some(error) = &record.error else { return };
                let message = format!(
                    "LLM API call failed: `{}: {}`{}",
                    error.kind().litellm_class(),
                    truncate(error.message(), 1000),
                    request_info(&self.alerting, call, record)
                );
                self.alerting
                    .send(AlertType::LlmExceptions, Level::High, &message);
            }
            Status::Failure | Status::Cancelled => {}
        }
    }
}

/// The layers `alerting` needs for its alert types (none for types that are off, and none
/// without Slack: the webhook and mail carry budget alerts only).
#[must_use]
pub fn layers(alerting: &Alerting) -> Layers {
    let mut layers = Layers::new();
    if !alerting.settings().has(super::Channel::Slack) {
        return layers;
    }
    let failed = alerting.wants(AlertType::LlmExceptions);
    let slow = alerting.wants(AlertType::LlmTooSlow);
    let report = alerting.wants(AlertType::DailyReports);
    if failed {
        layers.admit(Arc::new(MarkAdmitted));
    }
    if report || alerting.wants(AlertType::OutageAlerts) {
        layers.attempt(Arc::new(Attempts(alerting.clone())));
    }
    if failed || slow || report {
        layers.account(Arc::new(Calls {
            alerting: alerting.clone(),
            threshold: alerting.settings().threshold,
            slow,
            failed,
            report,
        }));
    }
    layers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::AlertingSettings;
    use crate::settings::Environment;
    use serde_json::json;

    fn names(general: serde_json::Value) -> Vec<(&'static str, &'static str)> {
        let environment = Environment::from_pairs([
            ("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/a/b/c"),
            ("WEBHOOK_URL", "http://127.0.0.1:9/webhook"),
        ]);
        let Some(general) = general.as_object() else {
            unreachable!()
        };
        let settings = AlertingSettings::from_general_settings(general, &environment)
            .unwrap()
            .unwrap();
        let alerting = Alerting::start(settings, &environment).unwrap();
        layers(&alerting).names()
    }

    #[tokio::test]
    async fn only_the_layers_the_alert_types_need_are_registered() {
        let all = names(json!({"alerting": ["slack"]}));
        for name in ["alerting.admitted", "alerting.attempts", "alerting.calls"] {
            assert!(all.iter().any(|(_, n)| *n == name), "{name}: {all:?}");
        }
        assert!(names(json!({"alerting": ["slack"], "alert_types": ["budget_alerts"]})).is_empty());
        assert!(names(json!({"alerting": ["webhook"]})).is_empty());
        let slow = names(json!({"alerting": ["slack"], "alert_types": ["llm_too_slow"]}));
        assert_eq!(slow.len(), 1, "{slow:?}");
    }
}
