//! Gemini API and Vertex AI through the mock's Google dialect: whole, streamed, tools, OAuth token reuse.

use crate::chat_call;
use futures::StreamExt;
use llmrelay_core::ErrorKind;
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_providers::engine::ChatOutcome;
use serde_json::{Map, Value, json};

async fn server() -> MockServer {
    MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap()
}

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

pub(crate) fn service_account(server: &MockServer, email: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gemini/test_service_account.json");
    let mut account: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    account["token_uri"] = json!(format!("{}/token", server.base_url()));
    account["client_email"] = json!(email);
    account
}

#[tokio::test]
async fn gemini_whole_and_streamed_with_tools() {
    let server = server().await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "additionalProperties": false,
        "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]);
    let params = |stream: bool| {
        map(json!({
            "model": "gemini/gemini-2.5-flash",
            "messages": [{"role": "user", "content": "Weather?"}],
            "api_base": server.base_url(),
            "api_key": "gk-test",
            "tools": tools,
            "tool_choice": "required",
            "stream": stream,
            "stream_options": {"include_usage": true},
        }))
    };
    let ChatOutcome::Whole(whole) = chat_call(params(false)).await.unwrap() else {
        panic!("expected a whole response");
    };
    let call = &whole.response.choices[0]
        .message
        .tool_calls
        .as_ref()
        .unwrap()[0];
    assert_eq!(call.function.name, "get_weather");
    assert_eq!(
        whole.response.choices[0].finish_reason.as_deref(),
        Some("tool_calls")
    );
    assert!(whole.hidden.response_cost.unwrap() > 0.0);
    let ChatOutcome::Stream(mut streamed) = chat_call(params(true)).await.unwrap() else {
        panic!("expected a stream");
    };
    let mut chunks = Vec::new();
    while let Some(chunk) = streamed.stream.next().await {
        chunks.push(chunk.unwrap());
    }
    assert!(
        chunks
            .iter()
            .any(|c| c.choices.iter().any(|ch| ch.delta.tool_calls.is_some()))
    );
    assert!(chunks.last().unwrap().usage.is_some());
    let sent = server.state().requests();
    assert_eq!(
        sent[0].path,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(sent[1].query.as_deref(), Some("alt=sse"));
    assert_eq!(sent[1].headers["x-goog-api-key"], "gk-test");
    server.shutdown().await;
}

#[tokio::test]
async fn vertex_reuses_one_token_and_maps_errors() {
    let server = server().await;
    let account = service_account(
        &server,
        "it-reuse@llmrelay-test-project.iam.gserviceaccount.com",
    );
    let params = |extra: Value| {
        let mut params = map(json!({
            "model": "vertex_ai/gemini-2.5-flash",
            "messages": [{"role": "user", "content": "hi"}],
            "api_base": server.base_url(),
            "vertex_project": "p",
            "vertex_location": "europe-west4",
            "vertex_credentials": account,
            "num_retries": 0,
        }));
        params.extend(map(extra));
        params
    };
    let calls = futures::future::join_all((0..4).map(|_| chat_call(params(json!({}))))).await;
    assert!(calls.iter().all(Result::is_ok));
    let error = chat_call(params(json!({"extra_headers": {"x-mock-status": "429"}})))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::RateLimit);
    let sent = server.state().requests();
    assert_eq!(
        sent.iter().filter(|r| r.path == "/token").count(),
        1,
        "one token exchange"
    );
    assert!(sent.iter().any(|r| r.path
        == "/v1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"));
    server.shutdown().await;
}
