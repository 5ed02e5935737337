//! The engine's hooks with the built-in guardrails: masking, refusing, restoring, recording.

use std::sync::Arc;
use std::time::Duration;

use llmrelay_core::types::{ChatResponse, EmbeddingRequest};
use llmrelay_guardrails::{
    BuildOptions, CallMetadata, ConfigError, CustomGuardrailFactory, EventHook, Guardrail,
    GuardrailError, GuardrailFuture, GuardrailSpec, GuardrailStatus, Guardrails, GuardrailsConfig,
    HookContext, HookOutcome, PreCallOutcome, RequestPayload, RequestRef, Selection,
};
use serde_json::{Value, json};

use super::{answer, call, chat, content_of, guardrails, user};

fn pii_set(extra: Value) -> Guardrails {
    let mut params =
        json!({"guardrail": "presidio", "mode": ["pre_call", "post_call"], "default_on": true});
    if let (Value::Object(params), Value::Object(extra)) = (&mut params, extra) {
        params.extend(extra);
    }
    guardrails(json!([{"guardrail_name": "pii", "litellm_params": params}]))
}

#[tokio::test]
async fn pre_call_masks_every_text_and_records_it() {
    let set = pii_set(json!({}));
    let call = call(&set, &[]);
    let mut request = chat(json!([
        {"role": "system", "content": "Support desk."},
        {"role": "user", "content": [{"type": "text", "text": "I am Jane Doe, mail jane@example.com"}, {"type": "image_url", "image_url": "http://img"}]},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"ip\": \"10.1.2.3\"}"}}]}
    ]));
    let outcome = call
        .pre_call(&mut RequestPayload::Chat(&mut request))
        .await
        .unwrap();
    assert_eq!(outcome, PreCallOutcome::Continue);
    assert_eq!(
        content_of(&request, 1),
        "I am <PERSON>, mail <EMAIL_ADDRESS>"
    );
    assert_eq!(
        request.messages[2].tool_calls.as_ref().unwrap()[0]
            .function
            .arguments,
        "{\"ip\": \"<IP_ADDRESS>\"}"
    );
    let records = call.information();
    assert_eq!(records.len(), 1);
    let record = serde_json::to_value(&records[0]).unwrap();
    assert_eq!(record["guardrail_name"], "pii");
    assert_eq!(record["guardrail_provider"], "presidio");
    assert_eq!(record["guardrail_mode"], "pre_call");
    assert_eq!(record["guardrail_status"], "success");
    assert_eq!(
        record["masked_entity_count"],
        json!({"EMAIL_ADDRESS": 1, "IP_ADDRESS": 1, "PERSON": 1})
    );
    assert!(record["duration"].as_f64().unwrap() >= 0.0);
    assert!(record["guardrail_response"][0].get("start").is_some());
    assert_eq!(call.applied_guardrails(), ["pii"]);
    assert_eq!(call.guardrail_status(), GuardrailStatus::Success);
}

#[tokio::test]
async fn output_parse_pii_round_trip() {
    let set = pii_set(json!({"output_parse_pii": true}));
    let call = call(&set, &[]);
    let mut request = user("Write to jane@example.com and ping Mr. John Smith at 555-123-4567.");
    call.pre_call(&mut RequestPayload::Chat(&mut request))
        .await
        .unwrap();
    assert_eq!(
        content_of(&request, 0),
        "Write to <EMAIL_ADDRESS_1> and ping Mr. <PERSON_2> at <PHONE_NUMBER_3>."
    );
    let mut response: ChatResponse = serde_json::from_value(json!({
        "id": "x", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
            "content": "Sure, <PERSON_2> gets it at <EMAIL_ADDRESS_1>.",
            "tool_calls": [{"id": "t", "type": "function", "function": {"name": "send", "arguments": "{\"to\": \"<EMAIL_ADDRESS_1>\"}"}}]}}]
    }))
    .unwrap();
    call.post_call(Some(&request), &mut response).await.unwrap();
    let message = &response.choices[0].message;
    assert_eq!(
        message.content.as_deref(),
        Some("Sure, John Smith gets it at jane@example.com.")
    );
    assert_eq!(
        message.tool_calls.as_ref().unwrap()[0].function.arguments,
        "{\"to\": \"jane@example.com\"}"
    );
    assert_eq!(call.state().pii_tokens().len(), 3);
}

#[tokio::test]
async fn blocked_entities_refuse_with_litellms_error() {
    let set = pii_set(json!({"pii_entities_config": {"US_SSN": "BLOCK", "EMAIL_ADDRESS": "MASK"}}));
    let call = call(&set, &[]);
    let mut request = user("My SSN is 536-22-1234.");
    let error = call
        .pre_call(&mut RequestPayload::Chat(&mut request))
        .await
        .unwrap_err();
    assert_eq!(error.status(), 400);
    assert_eq!(
        error.to_openai_json(),
        json!({"error": {"message": "Blocked entity detected: US_SSN by Guardrail: pii. This entity is not allowed to be used in this request.",
                         "type": "invalid_request_error", "param": null, "code": "400"}})
    );
    assert_eq!(
        call.guardrail_status(),
        GuardrailStatus::GuardrailIntervened
    );
    assert_eq!(
        call.information()[0].guardrail_status,
        GuardrailStatus::GuardrailIntervened
    );
}

#[tokio::test]
async fn during_call_checks_a_copy_and_can_cancel_the_upstream() {
    let set = guardrails(
        json!([{"guardrail_name": "words", "litellm_params": {"guardrail": "litellm_content_filter", "mode": "during_call",
        "default_on": true, "blocked_words": [{"keyword": "forbidden", "action": "BLOCK"}, {"keyword": "hush", "action": "MASK"}]}}]),
    );
    let call = call(&set, &[]);
    let request = user("hush, all good");
    call.during_call(RequestRef::Chat(&request)).await.unwrap();
    assert_eq!(content_of(&request, 0), "hush, all good");

    let bad = user("this is forbidden");
    let upstream = tokio::time::sleep(Duration::from_secs(5));
    let outcome = tokio::select! {
        checked = call.during_call(RequestRef::Chat(&bad)) => checked.map(|()| "checked"),
        () = upstream => Ok("upstream finished first"),
    };
    let error = outcome.unwrap_err();
    assert_eq!(
        error.message(),
        "Content blocked: keyword 'forbidden' detected"
    );
    assert_eq!(error.mode(), EventHook::DuringCall);
}

#[tokio::test]
async fn logging_only_masks_the_logged_copy_and_never_refuses() {
    let set = guardrails(
        json!([{"guardrail_name": "log-pii", "litellm_params": {"guardrail": "presidio", "mode": "logging_only",
        "pii_entities_config": {"EMAIL_ADDRESS": "MASK", "US_SSN": "BLOCK"}}}]),
    );
    let call = set
        .begin_call(&Selection::default(), CallMetadata::default())
        .unwrap();
    assert!(!call.runs(EventHook::PreCall));
    let mut logged = user("mail a@b.io");
    call.logging_only_request(&mut RequestPayload::Chat(&mut logged))
        .await;
    assert_eq!(content_of(&logged, 0), "mail <EMAIL_ADDRESS>");
    let mut logged_answer = answer("ssn 536-22-1234");
    call.logging_only_response(None, &mut logged_answer).await;
    let statuses: Vec<GuardrailStatus> = call
        .information()
        .iter()
        .map(|record| record.guardrail_status)
        .collect();
    assert_eq!(
        statuses,
        [GuardrailStatus::Success, GuardrailStatus::GuardrailFlagged]
    );
}

#[tokio::test]
async fn tool_permission_blocks_and_rewrites() {
    let rules = json!([{"id": "getters", "tool_name": "get_.*", "decision": "allow"}]);
    let blocking = guardrails(
        json!([{"guardrail_name": "tp", "litellm_params": {"guardrail": "tool_permission", "mode": ["pre_call", "post_call"],
        "default_on": true, "rules": rules}}]),
    );
    let mut request = chat(json!([{"role": "user", "content": "go"}]));
    request.tools = Some(
        serde_json::from_value(json!([
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "function": {"name": "delete_all"}}
        ]))
        .unwrap(),
    );
    let error = call(&blocking, &[])
        .pre_call(&mut RequestPayload::Chat(&mut request.clone()))
        .await
        .unwrap_err();
    // As observed from LiteLLM 1.104's proxy.
    assert_eq!(
        error.to_openai_json()["error"],
        json!({"message": "Violated guardrail policy", "type": "invalid_request_error", "param": null, "code": "400",
               "provider_specific_fields": {"error": "Violated guardrail policy", "detection_message": "Tool 'delete_all' denied by default action",
                                            "guardrail_name": "tp", "guardrail_mode": "pre_call"}})
    );

    let rewriting = guardrails(
        json!([{"guardrail_name": "tp", "litellm_params": {"guardrail": "tool_permission", "mode": ["pre_call", "post_call"],
        "default_on": true, "rules": rules, "on_disallowed_action": "rewrite"}}]),
    );
    let call = call(&rewriting, &[]);
    call.pre_call(&mut RequestPayload::Chat(&mut request))
        .await
        .unwrap();
    let names: Vec<&str> = request
        .tools
        .as_ref()
        .unwrap()
        .iter()
        .map(|t| t.function.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(names, ["get_weather"]);
    let mut response: ChatResponse = serde_json::from_value(json!({
        "id": "x", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "rm_rf", "arguments": "{}"}}]}}]
    }))
    .unwrap();
    call.post_call(Some(&request), &mut response).await.unwrap();
    let message = &response.choices[0].message;
    assert_eq!(message.tool_calls.as_ref().unwrap().len(), 1);
    assert_eq!(
        message.content.as_deref(),
        Some("Permission denied: Tool 'rm_rf' denied by default action")
    );
}

#[tokio::test]
async fn embeddings_and_post_call_content_filter() {
    let set = guardrails(json!([
        {"guardrail_name": "secrets", "litellm_params": {"guardrail": "hide-secrets", "mode": "pre_call", "default_on": true}},
        {"guardrail_name": "cf", "litellm_params": {"guardrail": "litellm_content_filter", "mode": "post_call",
            "patterns": [{"pattern_type": "prebuilt", "pattern_name": "email", "action": "MASK"}]}}
    ]));
    let call = call(&set, &["cf"]);
    let mut embedding: EmbeddingRequest = serde_json::from_value(
        json!({"model": "e", "input": ["key AKIAIOSFODNN7EXAMPLE", "plain"]}),
    )
    .unwrap();
    call.pre_call(&mut RequestPayload::Embedding(&mut embedding))
        .await
        .unwrap();
    assert_eq!(
        embedding.input,
        json!(["key [REDACTED_AWS_ACCESS_KEY_ID]", "plain"])
    );
    let mut response = answer("hello, write to jane@example.com");
    call.post_call(None, &mut response).await.unwrap();
    // As observed from LiteLLM 1.104 with the same guardrail.
    assert_eq!(
        response.choices[0].message.content.as_deref(),
        Some("hello, write to [EMAIL_REDACTED]")
    );
    let records = call.information();
    assert_eq!(records[1].guardrail_mode, "post_call");
    assert_eq!(records[1].masked_entity_count.get("email"), Some(&1));
    assert_eq!(records[1].detection_method.as_deref(), Some("regex"));
}

/// A guardrail from outside the crate (as the Python binding builds them), through a factory.
struct Shout;

impl Guardrail for Shout {
    fn provider(&self) -> &str {
        "custom"
    }

    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        Box::pin(async move {
            let mut refused = false;
            let _ = request.for_each_text::<()>(None, &mut |slot| {
                refused |= slot.text.contains("stop");
                *slot.text = slot.text.to_uppercase();
                Ok(())
            });
            if refused {
                return Err(GuardrailError::raised(
                    context.guardrail_name,
                    context.hook,
                    "no stopping",
                    true,
                    Default::default(),
                ));
            }
            Ok(HookOutcome::default())
        })
    }

    fn check_response<'a>(
        &'a self,
        _response: &'a mut ChatResponse,
        _context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        Box::pin(async {
            Ok(HookOutcome {
                respond: None,
                ..HookOutcome::default()
            })
        })
    }
}

struct Factory;

impl CustomGuardrailFactory for Factory {
    fn build(
        &self,
        spec: &GuardrailSpec,
        class_path: &str,
    ) -> Result<Arc<dyn Guardrail>, ConfigError> {
        if class_path == "shout.Shout" {
            Ok(Arc::new(Shout))
        } else {
            Err(ConfigError::new(
                spec.field_path("guardrail"),
                "no such class",
            ))
        }
    }
}

#[tokio::test]
async fn custom_guardrails_come_from_a_factory() {
    let config = GuardrailsConfig::from_sections(
        Some(&json!([{"guardrail_name": "shout", "litellm_params": {"guardrail": "shout.Shout", "mode": "pre_call", "default_on": true}}])),
        None,
    )
    .unwrap();
    let options = BuildOptions {
        custom_factory: Some(Arc::new(Factory)),
        ..BuildOptions::default()
    };
    let set = Guardrails::from_config(config, &options).unwrap();
    let call = call(&set, &[]);
    let mut request = user("hello");
    call.pre_call(&mut RequestPayload::Chat(&mut request))
        .await
        .unwrap();
    assert_eq!(content_of(&request, 0), "HELLO");
    let error = call
        .pre_call(&mut RequestPayload::Chat(&mut user("stop it")))
        .await
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Guardrail raised an exception, Guardrail: shout, Message: no stopping"
    );
    assert_eq!(
        call.information()[0].guardrail_provider.as_deref(),
        Some("custom")
    );
}
