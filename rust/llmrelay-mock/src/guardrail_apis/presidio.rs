//! Presidio's analyzer (`POST /analyze`) and anonymizer (`POST /anonymize`) REST APIs, as
//! <https://microsoft.github.io/presidio/api-docs/api-docs.html> describes them: analyze
//! `{text, language, entities?, score_threshold?}` → `[{entity_type, start, end, score,
//! analysis_explanation, recognition_metadata}]` (character offsets); anonymize `{text,
//! analyzer_results, anonymizers?}` → `{text, items: [{start, end, entity_type, text, operator}]}`
//! with the default `replace` operator (`<ENTITY_TYPE>`), item offsets in the output text.
//! Errors are `{"error": message}`, as Presidio's Flask apps answer.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::detect::find_pii;
use crate::MockState;
use crate::exchange::{Dialect, Exchange, Incoming, Rendered};
use crate::faults::ErrorSpec;

fn bad_request(message: &str) -> ErrorSpec {
    ErrorSpec::new(
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        None,
        None,
    )
}

fn scores(entity: &str) -> f64 {
    match entity {
        "EMAIL_ADDRESS" => 1.0,
        "PERSON" => 0.85,
        "US_SSN" => 0.85,
        _ => 0.75,
    }
}

fn render_analyze(body: Option<&Value>) -> Result<Vec<u8>, ErrorSpec> {
    let request = super::object(body)?;
    let Some(text) = request.get("text").and_then(Value::as_str) else {
        return Err(bad_request("No text provided"));
    };
    if request.get("language").and_then(Value::as_str).is_none() {
        return Err(bad_request("No language provided"));
    }
    let entities: Option<Vec<&str>> = request
        .get("entities")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect());
    let threshold = request
        .get("score_threshold")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let results: Vec<Value> = find_pii(text)
        .into_iter()
        .filter(|finding| entities.as_ref().is_none_or(|wanted| wanted.contains(&finding.entity)))
        .filter(|finding| scores(finding.entity) >= threshold)
        .map(|finding| {
            json!({"entity_type": finding.entity, "start": finding.start, "end": finding.end, "score": scores(finding.entity),
                   "analysis_explanation": null,
                   "recognition_metadata": {"recognizer_name": "MockRecognizer", "recognizer_identifier": "mock"}})
        })
        .collect();
    Ok(serde_json::to_vec(&results).unwrap_or_default())
}

fn render_anonymize(body: Option<&Value>) -> Result<Vec<u8>, ErrorSpec> {
    let request = super::object(body)?;
    let Some(text) = request.get("text").and_then(Value::as_str) else {
        return Err(bad_request("No text provided"));
    };
    let Some(Value::Array(results)) = request.get("analyzer_results") else {
        return Err(bad_request("No analyzer results provided"));
    };
    let mut spans: Vec<(usize, usize, String)> = results
        .iter()
        .filter_map(|result| {
            Some((
                usize::try_from(result.get("start")?.as_u64()?).ok()?,
                usize::try_from(result.get("end")?.as_u64()?).ok()?,
                result.get("entity_type")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    spans.sort_by_key(|(start, _, _)| *start);
    let chars: Vec<char> = text.chars().collect();
    let mut output = String::new();
    let mut items = Vec::new();
    let mut position = 0;
    for (start, end, entity) in spans {
        if start < position || end > chars.len() || start >= end {
            continue;
        }
        output.extend(&chars[position..start]);
        let replacement = format!("<{entity}>");
        let out_start = output.chars().count();
        output.push_str(&replacement);
        items.push(json!({"start": out_start, "end": out_start + replacement.chars().count(), "entity_type": entity,
                          "text": replacement, "operator": "replace"}));
        position = end;
    }
    output.extend(&chars[position..]);
    Ok(serde_json::to_vec(&json!({"text": output, "items": items})).unwrap_or_default())
}

fn respond(result: Result<Vec<u8>, ErrorSpec>) -> Rendered {
    match result {
        Ok(body) => Rendered::Whole(body),
        Err(error) => Rendered::Error(error),
    }
}

pub(crate) async fn analyze(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::Ollama, &incoming, |body, _| {
        respond(render_analyze(body.as_ref()))
    })
    .await
}

pub(crate) async fn anonymize(State(state): State<Arc<MockState>>, incoming: Incoming) -> Response {
    Exchange::serve(&state, Dialect::Ollama, &incoming, |body, _| {
        respond(render_anonymize(body.as_ref()))
    })
    .await
}
