//! Lakera Guard v2 (`POST /v2/guard`), as <https://docs.lakera.ai/api-reference/api/endpoints/guard/screen-content>
//! describes it: `{messages, project_id?, payload?, breakdown?, metadata?, dev_info?}` →
//! `{flagged, payload?: [{start, end, text, detector_type, labels, message_id}], breakdown?:
//! [{project_id, policy_id, detector_id, detector_type, detected, message_id}], dev_info?, metadata}`.
//! Detectors: `prompt_attack`, `pii/email`, `pii/us_social_security_number`, `pii/phone_number`,
//! `moderated_content/hate`, `moderated_content/violence` (rules in `detect.rs`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::detect::{HATE, PROMPT_ATTACKS, VIOLENCE, contains_any, find_pii};
use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered, new_id};
use crate::faults::ErrorSpec;

fn detector_for(entity: &str) -> Option<&'static str> {
    match entity {
        "EMAIL_ADDRESS" => Some("pii/email"),
        "US_SSN" => Some("pii/us_social_security_number"),
        "PHONE_NUMBER" => Some("pii/phone_number"),
        _ => None,
    }
}

fn render(body: Option<&Value>) -> Result<Vec<u8>, ErrorSpec> {
    let request = super::object(body)?;
    let Some(Value::Array(messages)) = request.get("messages") else {
        return Err(ErrorSpec::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "messages: Field required",
            "validation_error",
            Some("messages"),
            None,
        ));
    };
    let project_id = request
        .get("project_id")
        .and_then(Value::as_str)
        .unwrap_or("project-default");
    let flag = |name: &str| request.get(name).and_then(Value::as_bool).unwrap_or(false);
    let mut payload = Vec::new();
    let mut detected: Vec<(&str, usize)> = Vec::new();
    for (message_id, message) in messages.iter().enumerate() {
        let text = message
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for finding in find_pii(text) {
            if let Some(detector) = detector_for(finding.entity) {
                detected.push((detector, message_id));
                payload.push(
                    json!({"start": finding.start, "end": finding.end, "text": finding.text,
                    "detector_type": detector, "labels": [], "message_id": message_id}),
                );
            }
        }
        for (hit, detector) in [
            (contains_any(text, &PROMPT_ATTACKS), "prompt_attack"),
            (contains_any(text, &HATE), "moderated_content/hate"),
            (contains_any(text, &VIOLENCE), "moderated_content/violence"),
        ] {
            if hit {
                detected.push((detector, message_id));
            }
        }
    }
    let detectors = [
        "prompt_attack",
        "pii/email",
        "pii/us_social_security_number",
        "pii/phone_number",
        "moderated_content/hate",
        "moderated_content/violence",
    ];
    let mut answer =
        json!({"flagged": !detected.is_empty(), "metadata": {"request_uuid": new_id("")}});
    if flag("payload") {
        answer["payload"] = Value::Array(payload);
    }
    if flag("breakdown") {
        let breakdown: Vec<Value> = detectors
            .iter()
            .map(|detector| {
                let hit = detected.iter().find(|(d, _)| d == detector);
                json!({"project_id": project_id, "policy_id": "policy-mock-default", "detector_id": format!("detector-{detector}"),
                       "detector_type": detector, "detected": hit.is_some(), "message_id": hit.map_or(0, |(_, m)| *m)})
            })
            .collect();
        answer["breakdown"] = Value::Array(breakdown);
    }
    if flag("dev_info") {
        answer["dev_info"] = json!({"git_revision": "mock", "git_timestamp": "2025-01-01T00:00:00Z", "model_version": "lakera-guard-mock", "version": "2.0.0"});
    }
    Ok(serde_json::to_vec(&answer).unwrap_or_default())
}

pub(crate) async fn guard(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::OpenAi, &incoming, |body, _| {
        match render(body.as_ref()) {
            Ok(body) => Rendered::Whole(body),
            Err(error) => Rendered::Error(error),
        }
    })
    .await
}
