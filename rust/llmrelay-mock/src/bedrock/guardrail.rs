//! Bedrock `ApplyGuardrail` (`POST /guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply`),
//! as the Bedrock API reference "ApplyGuardrail" (Request/Response Syntax, `GuardrailAssessment`)
//! describes it, signed like every Bedrock Runtime call. The mock guardrail's policies (rules in
//! `guardrail_apis/detect.rs`): topic `Investment advice` (denied), content filters `VIOLENCE`
//! and `HATE`, word filter `badword`, PII `EMAIL` / `PHONE` / `NAME` anonymized as `{EMAIL}`,
//! `{PHONE}`, `{NAME}` and `US_SOCIAL_SECURITY_NUMBER` blocked. A blocked request's output is
//! the blocked message; otherwise there is one output per content block (masked when anonymized).
//! The identifier `missing` answers 404.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use crate::MockState;
use crate::exchange::Rendered;
use crate::faults::ErrorSpec;
use crate::guardrail_apis::find_pii;

/// Bedrock's default blocked-input message.
pub(crate) const BLOCKED_MESSAGE: &str = "Sorry, the model cannot answer this question.";

fn contains_any(text: &str, phrases: &[&str]) -> bool {
    let lower = text.to_lowercase();
    phrases.iter().any(|phrase| lower.contains(phrase))
}

fn render(identifier: &str, version: &str, body: Option<&Value>) -> Result<Vec<u8>, ErrorSpec> {
    if identifier == "missing" {
        return Err(ErrorSpec::new(
            StatusCode::NOT_FOUND,
            "The guardrail identifier or version provided in the request does not exist.",
            "ResourceNotFoundException",
            None,
            None,
        ));
    }
    if version != "DRAFT"
        && !(version.bytes().all(|b| b.is_ascii_digit())
            && !version.is_empty()
            && !version.starts_with('0'))
    {
        return Err(super::validation(format!(
            "1 validation error detected: Value '{version}' at 'guardrailVersion' failed to satisfy constraint"
        )));
    }
    let request = body
        .and_then(Value::as_object)
        .ok_or_else(|| super::validation("The request body must be a JSON object."))?;
    let source = request
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if source != "INPUT" && source != "OUTPUT" {
        return Err(super::validation(
            "1 validation error detected: Value at 'source' failed to satisfy constraint: Member must satisfy enum value set: [INPUT, OUTPUT]",
        ));
    }
    let Some(Value::Array(content)) = request.get("content") else {
        return Err(super::validation(
            "1 validation error detected: Value null at 'content' failed to satisfy constraint: Member must not be null",
        ));
    };
    let texts: Vec<String> = content
        .iter()
        .map(|block| {
            block
                .get("text")
                .and_then(|text| text.get("text"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let mut blocked = false;
    let mut topics = Vec::new();
    let mut filters = Vec::new();
    let mut words = Vec::new();
    let mut pii = Vec::new();
    let mut outputs = Vec::new();
    for text in &texts {
        if contains_any(text, &crate::guardrail_apis::INVESTMENT_ADVICE) {
            blocked = true;
            topics.push(json!({"name": "Investment advice", "type": "DENY", "action": "BLOCKED", "detected": true}));
        }
        for (phrases, kind) in [
            (&crate::guardrail_apis::VIOLENCE[..], "VIOLENCE"),
            (&crate::guardrail_apis::HATE[..], "HATE"),
        ] {
            if contains_any(text, phrases) {
                blocked = true;
                filters.push(json!({"type": kind, "confidence": "HIGH", "filterStrength": "HIGH", "action": "BLOCKED", "detected": true}));
            }
        }
        for word in crate::guardrail_apis::WORD_FILTER {
            if text.to_lowercase().contains(word) {
                blocked = true;
                words.push(json!({"match": word, "action": "BLOCKED", "detected": true}));
            }
        }
        let mut masked = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut position = 0;
        for finding in find_pii(text) {
            let (kind, action) = match finding.entity {
                "EMAIL_ADDRESS" => ("EMAIL", "ANONYMIZED"),
                "PHONE_NUMBER" => ("PHONE", "ANONYMIZED"),
                "PERSON" => ("NAME", "ANONYMIZED"),
                _ => ("US_SOCIAL_SECURITY_NUMBER", "BLOCKED"),
            };
            blocked |= action == "BLOCKED";
            pii.push(
                json!({"match": finding.text, "type": kind, "action": action, "detected": true}),
            );
            if finding.start >= position {
                masked.extend(&chars[position..finding.start]);
                masked.push_str(&format!("{{{kind}}}"));
                position = finding.end;
            }
        }
        masked.extend(&chars[position..]);
        outputs.push(json!({"text": masked}));
    }
    let intervened = blocked || !pii.is_empty();
    let characters: usize = texts.iter().map(|text| text.chars().count()).sum();
    let mut assessment = serde_json::Map::new();
    if !topics.is_empty() {
        assessment.insert("topicPolicy".to_owned(), json!({"topics": topics}));
    }
    if !filters.is_empty() {
        assessment.insert("contentPolicy".to_owned(), json!({"filters": filters}));
    }
    if !words.is_empty() {
        assessment.insert(
            "wordPolicy".to_owned(),
            json!({"customWords": words, "managedWordLists": []}),
        );
    }
    if !pii.is_empty() {
        assessment.insert(
            "sensitiveInformationPolicy".to_owned(),
            json!({"piiEntities": pii, "regexes": []}),
        );
    }
    assessment.insert(
        "invocationMetrics".to_owned(),
        json!({"guardrailProcessingLatency": 12, "usage": {"topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 1,
               "sensitiveInformationPolicyUnits": 1, "sensitiveInformationPolicyFreeUnits": 0, "contextualGroundingPolicyUnits": 0},
               "guardrailCoverage": {"textCharacters": {"guarded": characters, "total": characters}}}),
    );
    let answer = json!({
        "usage": {"topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 1, "sensitiveInformationPolicyUnits": 1,
                  "sensitiveInformationPolicyFreeUnits": 0, "contextualGroundingPolicyUnits": 0},
        "action": if intervened { "GUARDRAIL_INTERVENED" } else { "NONE" },
        "actionReason": if blocked { "Guardrail blocked." } else if intervened { "Guardrail masked." } else { "No action." },
        "outputs": if blocked { json!([{"text": BLOCKED_MESSAGE}]) } else if intervened { Value::Array(outputs) } else { json!([]) },
        "assessments": [Value::Object(assessment)],
        "guardrailCoverage": {"textCharacters": {"guarded": characters, "total": characters}},
    });
    Ok(serde_json::to_vec(&answer).unwrap_or_default())
}

pub(crate) async fn apply(
    State(state): State<Arc<MockState>>,
    Path((identifier, version)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut exchange = match super::open(&state, &method, &uri, &headers, &body).await {
        Ok(exchange) => exchange,
        Err(response) => return response,
    };
    let request = exchange.body.take();
    let rendered = match render(&identifier, &version, request.as_ref()) {
        Ok(body) => Rendered::Whole(body),
        Err(error) => Rendered::Error(error),
    };
    rendered.respond(exchange).await
}
