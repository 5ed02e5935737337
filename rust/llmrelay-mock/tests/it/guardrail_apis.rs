//! The guardrail vendor APIs: Bedrock ApplyGuardrail, Lakera Guard v2, Presidio's analyzer and
//! anonymizer, LiteLLM's generic guardrail API.

use serde_json::{Value, json};

use super::start;
use llmrelay_mock::DEFAULT_BEDROCK_API_KEY;

#[tokio::test]
async fn bedrock_apply_guardrail_verdicts() {
    let harness = start().await;
    let apply = |text: &str| {
        harness
            .client
            .post(harness.url("/guardrail/gr-1/version/DRAFT/apply"))
            .bearer_auth(DEFAULT_BEDROCK_API_KEY)
            .json(&json!({"source": "INPUT", "content": [{"text": {"text": text}}]}))
            .send()
    };
    let clean: Value = apply("hello").await.unwrap().json().await.unwrap();
    assert_eq!(clean["action"], "NONE");
    let masked: Value = apply("mail jane@example.com")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(masked["action"], "GUARDRAIL_INTERVENED");
    assert_eq!(masked["outputs"], json!([{"text": "mail {EMAIL}"}]));
    assert_eq!(
        masked["assessments"][0]["sensitiveInformationPolicy"]["piiEntities"][0]["action"],
        "ANONYMIZED"
    );
    let blocked: Value = apply("any stock tips?")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        blocked["outputs"],
        json!([{"text": "Sorry, the model cannot answer this question."}])
    );
    assert_eq!(
        blocked["assessments"][0]["topicPolicy"]["topics"][0]["action"],
        "BLOCKED"
    );
    let unsigned = harness
        .client
        .post(harness.url("/guardrail/gr-1/version/DRAFT/apply"))
        .json(&json!({"source": "INPUT", "content": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    let missing = harness
        .client
        .post(harness.url("/guardrail/missing/version/1/apply"))
        .bearer_auth(DEFAULT_BEDROCK_API_KEY)
        .json(&json!({"source": "INPUT", "content": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["x-amzn-errortype"]
            .to_str()
            .unwrap()
            .split(':')
            .next(),
        Some("ResourceNotFoundException")
    );
}

#[tokio::test]
async fn lakera_presidio_and_generic_answers() {
    let harness = start().await;
    let guard: Value = harness
        .post("/v2/guard", &json!({"messages": [{"role": "user", "content": "mail jane@example.com"}], "payload": true, "breakdown": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(guard["flagged"], true);
    assert_eq!(
        guard["payload"][0],
        json!({"start": 5, "end": 21, "text": "jane@example.com", "detector_type": "pii/email", "labels": [], "message_id": 0})
    );
    assert!(
        guard["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["detector_type"] == "pii/email" && d["detected"] == true)
    );

    let analyzed: Value = harness
        .client
        .post(harness.url("/analyze"))
        .json(&json!({"text": "Jane Doe: 555-123-4567", "language": "en"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(analyzed[0]["entity_type"], "PERSON");
    assert_eq!(analyzed[1]["entity_type"], "PHONE_NUMBER");
    let anonymized: Value = harness
        .client
        .post(harness.url("/anonymize"))
        .json(&json!({"text": "Jane Doe: 555-123-4567", "analyzer_results": analyzed}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anonymized["text"], "<PERSON>: <PHONE_NUMBER>");
    assert_eq!(anonymized["items"][1]["start"], 10);
    let no_text = harness
        .client
        .post(harness.url("/analyze"))
        .json(&json!({"language": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_text.status(), 400);
    assert_eq!(
        no_text.json::<Value>().await.unwrap(),
        json!({"error": "No text provided"})
    );

    let generic = |body: Value| {
        harness
            .client
            .post(harness.url("/beta/litellm_basic_guardrail_api"))
            .json(&body)
            .send()
    };
    let blocked: Value = generic(json!({"input_type": "request", "texts": ["this is BLOCKED"]}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        blocked,
        json!({"action": "BLOCKED", "blocked_reason": "Content contains forbidden word"})
    );
    let rewritten: Value = generic(json!({"input_type": "response", "texts": ["a secret"]}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        rewritten,
        json!({"action": "GUARDRAIL_INTERVENED", "texts": ["a [REDACTED]"]})
    );
    let invalid = generic(json!({"texts": []})).await.unwrap();
    assert_eq!(invalid.status(), 422);
}
