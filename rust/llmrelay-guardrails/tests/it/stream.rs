//! The stream guard: masking across chunk boundaries equals masking the whole answer, tool-call
//! arguments, refusals mid-stream, held tool calls, restored PII tokens.

use llmrelay_core::types::ChatChunk;
use llmrelay_guardrails::{
    GuardrailCall, GuardrailError, GuardrailStatus, Guardrails, RequestPayload,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::{answer, call, guardrails, user};

fn chunk(delta: Value, finish: Option<&str>) -> ChatChunk {
    serde_json::from_value(json!({
        "id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 7, "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
    }))
    .unwrap()
}

/// Streams `pieces` as content chunks; returns the released content.
async fn stream_text(call: &GuardrailCall, pieces: &[String]) -> Result<String, GuardrailError> {
    let mut guard = call.stream_guard(None).expect("post-call guardrails");
    let mut out = Vec::new();
    out.extend(guard.push(chunk(json!({"role": "assistant", "content": ""}), None))?);
    for piece in pieces {
        out.extend(guard.push(chunk(json!({"content": piece}), None))?);
    }
    out.extend(guard.push(chunk(json!({}), Some("stop")))?);
    out.extend(guard.finish().await?);
    Ok(out
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.content.clone())
        .collect())
}

async fn whole_text(set: &Guardrails, text: &str) -> Result<String, GuardrailError> {
    let call = call(set, &[]);
    let mut response = answer(text);
    call.post_call(None, &mut response).await?;
    Ok(response.choices[0]
        .message
        .content
        .clone()
        .unwrap_or_default())
}

fn masking_set() -> &'static Guardrails {
    static SET: std::sync::OnceLock<Guardrails> = std::sync::OnceLock::new();
    SET.get_or_init(|| guardrails(json!([
        {"guardrail_name": "pii", "litellm_params": {"guardrail": "presidio", "mode": "post_call", "default_on": true}},
        {"guardrail_name": "secrets", "litellm_params": {"guardrail": "hide-secrets", "mode": "post_call", "default_on": true}},
        {"guardrail_name": "words", "litellm_params": {"guardrail": "litellm_content_filter", "mode": "post_call", "default_on": true,
            "blocked_words": [{"keyword": "maskme", "action": "MASK"}]}}
    ])))
}

#[tokio::test]
async fn an_email_split_over_three_chunks_is_masked() {
    let set = masking_set();
    let pieces = [
        "Write to jane.d".to_owned(),
        "oe@exam".to_owned(),
        "ple.com today".to_owned(),
    ];
    let streamed = stream_text(&call(set, &[]), &pieces).await.unwrap();
    assert_eq!(streamed, "Write to <EMAIL_ADDRESS> today");
    assert_eq!(streamed, whole_text(set, &pieces.concat()).await.unwrap());
}

#[tokio::test]
async fn findings_of_a_stream_are_recorded_at_the_end() {
    let set = masking_set();
    let call = call(set, &[]);
    let pieces: Vec<String> = "call 555-123-4567 or AKIAIOSFODNN7EXAMPLE"
        .chars()
        .map(String::from)
        .collect();
    let streamed = stream_text(&call, &pieces).await.unwrap();
    assert_eq!(
        streamed,
        "call <PHONE_NUMBER> or [REDACTED_AWS_ACCESS_KEY_ID]"
    );
    let records = call.information();
    let names: Vec<&str> = records.iter().map(|r| r.guardrail_name.as_str()).collect();
    assert_eq!(names, ["pii", "secrets", "words"]);
    assert_eq!(records[0].masked_entity_count.get("PHONE_NUMBER"), Some(&1));
    assert_eq!(
        records[1].masked_entity_count.get("AWS_ACCESS_KEY_ID"),
        Some(&1)
    );
    assert!(records.iter().all(|r| r.guardrail_mode == "post_call"));
}

#[tokio::test]
async fn tool_call_arguments_are_masked_across_deltas() {
    let set = masking_set();
    let call = call(set, &[]);
    let mut guard = call.stream_guard(None).unwrap();
    let mut out = Vec::new();
    out.extend(guard.push(chunk(json!({"role": "assistant", "content": null, "tool_calls": [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "send", "arguments": ""}}]}), None)).unwrap());
    for piece in ["{\"to\": \"jane@", "example", ".com\", \"body\": \"hi\"}"] {
        out.extend(
            guard
                .push(chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                    None,
                ))
                .unwrap(),
        );
    }
    out.extend(guard.push(chunk(json!({}), Some("tool_calls"))).unwrap());
    out.extend(guard.finish().await.unwrap());
    let arguments: String = out
        .iter()
        .flat_map(|c| c.choices.iter())
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .filter_map(|d| d.function.as_ref().and_then(|f| f.arguments.clone()))
        .collect();
    assert_eq!(arguments, "{\"to\": \"<EMAIL_ADDRESS>\", \"body\": \"hi\"}");
    let first = out
        .iter()
        .flat_map(|c| c.choices.iter())
        .find_map(|c| c.delta.tool_calls.as_ref())
        .unwrap();
    assert_eq!(first[0].id.as_deref(), Some("call_1"));
    assert_eq!(
        out.last().unwrap().choices[0].finish_reason.as_deref(),
        Some("tool_calls")
    );
}

#[tokio::test]
async fn a_blocked_word_stops_the_stream() {
    let set = guardrails(
        json!([{"guardrail_name": "words", "litellm_params": {"guardrail": "litellm_content_filter", "mode": "post_call",
        "default_on": true, "blocked_words": [{"keyword": "forbidden", "action": "BLOCK"}]}}]),
    );
    let call = call(&set, &[]);
    let mut guard = call.stream_guard(None).unwrap();
    let mut released = String::new();
    let mut failure = None;
    let text = format!("{} this is forb", "safe words ".repeat(10));
    for piece in [text.as_str(), "idden text", " and more that never arrives"] {
        match guard.push(chunk(json!({"content": piece}), None)) {
            Ok(chunks) => released.extend(
                chunks
                    .iter()
                    .flat_map(|c| c.choices.iter())
                    .filter_map(|c| c.delta.content.clone()),
            ),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let error = failure.expect("the stream stops");
    assert_eq!(
        error.message(),
        "Content blocked: keyword 'forbidden' detected"
    );
    assert!(!released.contains("forb"), "{released:?}");
    assert!(released.starts_with("safe words"));
    assert!(guard.push(chunk(json!({"content": "x"}), None)).is_err());
    assert!(guard.finish().await.is_err());
    assert_eq!(
        call.guardrail_status(),
        GuardrailStatus::GuardrailIntervened
    );
}

fn tool_stream() -> Vec<ChatChunk> {
    vec![
        chunk(
            json!({"role": "assistant", "content": "Let me do that. ", "tool_calls": [
            {"index": 0, "id": "call_9", "type": "function", "function": {"name": "rm_rf", "arguments": ""}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"path\": \"/\"}"}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
    ]
}

#[tokio::test]
async fn held_tool_calls_are_checked_when_their_choice_ends() {
    let blocking = guardrails(
        json!([{"guardrail_name": "tp", "litellm_params": {"guardrail": "tool_permission", "mode": "post_call",
        "default_on": true, "rules": [{"id": "readers", "tool_name": "read_.*", "decision": "allow"}]}}]),
    );
    let call_blocking = call(&blocking, &[]);
    let mut guard = call_blocking.stream_guard(None).unwrap();
    let mut chunks = tool_stream().into_iter();
    let first = guard.push(chunks.next().unwrap()).unwrap();
    assert_eq!(
        first[0].choices[0].delta.content.as_deref(),
        Some("Let me do that. ")
    );
    assert!(
        first[0].choices[0].delta.tool_calls.is_none(),
        "tool calls are held"
    );
    assert!(guard.push(chunks.next().unwrap()).unwrap().is_empty());
    let error = guard.push(chunks.next().unwrap()).unwrap_err();
    assert_eq!(
        error.message(),
        "Guardrail raised an exception, Guardrail: tp, Message: Tool 'rm_rf' denied by default action"
    );

    let rewriting = guardrails(
        json!([{"guardrail_name": "tp", "litellm_params": {"guardrail": "tool_permission", "mode": "post_call",
        "default_on": true, "on_disallowed_action": "rewrite"}}]),
    );
    let call_rewriting = call(&rewriting, &[]);
    let mut guard = call_rewriting.stream_guard(None).unwrap();
    let mut out = Vec::new();
    for chunk in tool_stream() {
        out.extend(guard.push(chunk).unwrap());
    }
    out.extend(guard.finish().await.unwrap());
    let last = &out.last().unwrap().choices[0];
    assert!(last.delta.tool_calls.is_none());
    assert_eq!(
        last.delta.content.as_deref(),
        Some("Permission denied: Tool 'rm_rf' denied by default action")
    );
    assert_eq!(last.finish_reason.as_deref(), Some("stop"));
}

#[tokio::test]
async fn pii_tokens_split_across_chunks_are_restored() {
    let set = guardrails(
        json!([{"guardrail_name": "pii", "litellm_params": {"guardrail": "presidio", "mode": ["pre_call", "post_call"],
        "default_on": true, "output_parse_pii": true}}]),
    );
    let call = call(&set, &[]);
    let mut request = user("Email jane@example.com please");
    call.pre_call(&mut RequestPayload::Chat(&mut request))
        .await
        .unwrap();
    let pieces = [
        "Sent to <EMAIL_".to_owned(),
        "ADDRESS_1>, done. Also <EMAIL_ADD".to_owned(),
    ];
    let streamed = stream_text(&call, &pieces).await.unwrap();
    assert_eq!(
        streamed,
        "Sent to jane@example.com, done. Also jane@example.com"
    );
}

const FRAGMENTS: [&str; 34] = [
    "jane.doe@example.com",
    "555-123-4567",
    "(555)987-6543x12",
    "4111 1111 1111 1111",
    "4111 1111 1111 1112",
    "DE89 3704 0044 0532 0130 00",
    "192.168.1.10",
    "v1.2.3.4",
    "2001:db8::ff00:42:8329",
    "https://example.com/path/to?q=1",
    "www.example.org",
    "Mr. John Smith",
    "Best regards,\nJane Doe",
    "536-22-1234",
    "666-22-1234",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "password=hunter22",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "\"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u\"",
    "maskme",
    "MASKME",
    " ",
    ", ",
    ".",
    "\n",
    "hello ",
    "the ",
    "é",
    "日本",
    "1",
    "-",
    "@",
];

fn text_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS.to_vec()), 1..24)
        .prop_map(|parts| parts.concat())
}

/// Splits `text` at the given fractions (snapped back to char boundaries).
fn split(text: &str, cuts: &[f64]) -> Vec<String> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|fraction| {
            let mut index = (fraction * text.len() as f64) as usize;
            while !text.is_char_boundary(index) {
                index -= 1;
            }
            index
        })
        .collect();
    points.sort_unstable();
    points.dedup();
    let mut pieces = Vec::new();
    let mut last = 0;
    for point in points {
        pieces.push(text[last..point].to_owned());
        last = point;
    }
    pieces.push(text[last..].to_owned());
    pieces
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn streamed_masking_equals_whole_masking(text in text_strategy(), cuts in prop::collection::vec(0.0f64..1.0, 0..16)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let set = masking_set();
        let pieces = split(&text, &cuts);
        let whole = runtime.block_on(whole_text(set, &text)).unwrap();
        let streamed = runtime.block_on(stream_text(&call(set, &[]), &pieces)).unwrap();
        prop_assert_eq!(&streamed, &whole, "text {:?} pieces {:?}", text, pieces);
        let byte_by_byte: Vec<String> = text.chars().map(String::from).collect();
        let streamed = runtime.block_on(stream_text(&call(set, &[]), &byte_by_byte)).unwrap();
        prop_assert_eq!(streamed, whole);
    }
}
