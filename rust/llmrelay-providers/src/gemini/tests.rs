//! Fixture tests: documented wire shapes through the pure translation, and the provider lookup.

use serde_json::{Value, json};

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gemini")
        .join(name);
    std::fs::read(path).unwrap()
}

fn request(value: Value) -> ChatRequest {
    serde_json::from_value(value).unwrap()
}

#[test]
fn response_with_thoughts_signatures_and_usage() {
    let chat = request(
        json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}),
    );
    let response = parse_response(&fixture("response_thought_tool_call.json"), &chat).unwrap();
    assert_eq!(response.id, "fixture-response-1");
    let choice = &response.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    assert!(choice.message.content.is_none());
    assert!(
        choice
            .message
            .reasoning_content
            .as_deref()
            .unwrap()
            .contains("Checking")
    );
    let calls = choice.message.tool_calls.as_ref().unwrap();
    assert!(
        calls[0]
            .id
            .ends_with("__thought__CiQB0e2Kb2ZmYWtlc2lnbmF0dXJl")
    );
    assert_eq!(
        calls[0].extra["provider_specific_fields"]["thought_signature"],
        "CiQB0e2Kb2ZmYWtlc2lnbmF0dXJl"
    );
    assert_eq!(calls[0].function.arguments, "{\"city\":\"Paris\"}");
    assert!(!calls[1].id.contains("__thought__"));
    let usage = response.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (1200, 120, 1320)
    );
    assert_eq!(usage.cached_tokens(), 1000);
    assert_eq!(usage.reasoning_tokens(), 80);

    // The answer sent back carries the signature on its function call.
    let message = serde_json::to_value(&choice.message).unwrap();
    let follow_up = request(json!({"model": "gemini-2.5-flash", "messages": [
        {"role": "user", "content": "hi"}, message,
        {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"},
        {"role": "tool", "tool_call_id": calls[1].id, "content": "noon"}
    ]}));
    let body = generate_content_body(&follow_up).unwrap();
    assert_eq!(
        body["contents"][1]["parts"][0]["thoughtSignature"],
        "CiQB0e2Kb2ZmYWtlc2lnbmF0dXJl"
    );
    assert_eq!(
        body["contents"][2]["parts"][1]["functionResponse"]["name"],
        "get_time"
    );
}

#[test]
fn urls_and_placement() {
    assert_eq!(
        gemini_url(GEMINI_BASE, "gemini-2.5-flash", "generateContent"),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        gemini_url("http://proxy/v1beta/", "m", "x"),
        "http://proxy/v1beta/models/m:x"
    );
    let placement = VertexPlacement {
        project: "p".to_owned(),
        location: "global".to_owned(),
    };
    assert_eq!(
        vertex_url(
            &vertex_host("global"),
            &placement,
            "google",
            "gemini-2.5-pro",
            "generateContent"
        ),
        "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-pro:generateContent"
    );
    assert_eq!(
        vertex_host("us-east5"),
        "https://us-east5-aiplatform.googleapis.com"
    );
}

#[test]
fn registered_providers() {
    for name in ["gemini", "vertex_ai", "vertex_ai_beta"] {
        assert!(crate::registry::lookup(name).is_some(), "{name}");
        assert!(crate::registry::implemented().contains(&name));
    }
    for model in [
        "gemini/gemini-2.5-flash",
        "vertex_ai/claude-sonnet-4-5@20250929",
        "vertex_ai_beta/gemini-2.5-pro",
    ] {
        let resolved = llmrelay_core::detect::resolve(model, None, None).unwrap();
        assert!(
            crate::registry::lookup(&resolved.provider).is_some(),
            "{model}"
        );
    }
    let claude = request(
        json!({"model": "claude-sonnet-4-5@20250929", "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}]}),
    );
    let body = vertex_claude_body(&claude, false).unwrap();
    assert!(body.get("model").is_none());
    assert_eq!(body["anthropic_version"], VERTEX_ANTHROPIC_VERSION);
}
