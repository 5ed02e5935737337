//! The Anthropic Messages API: auth, validation, whole and streamed answers, tools, thinking, caching, faults.

use serde_json::{Value, json};

use super::{Harness, read_until_error, start};

mod streams;
use llmrelay_mock::ScriptedResponse;

impl Harness {
    /// A POST with Anthropic's required headers and a JSON body.
    fn anthropic(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .header("x-api-key", "sk-ant-test")
            .header("anthropic-version", "2023-06-01")
            .json(body)
    }
}

fn message_body() -> Value {
    json!({"model": "claude-sonnet-4-20250514", "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Hello there, mock!"}]})
}

fn streamed(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body
}

fn weather_tools() -> Value {
    json!([
        {"name": "get_weather", "description": "Get the weather", "input_schema": {
            "type": "object", "properties": {"location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["location"]}},
        {"name": "get_time", "input_schema": {
            "type": "object", "properties": {"timezone": {"type": "string"}}}}
    ])
}

/// `(event name, data)` of each event of an Anthropic SSE body.
fn named_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|event| !event.is_empty())
        .map(|event| {
            let (name_line, data_line) = event.split_once('\n').unwrap();
            let name = name_line.strip_prefix("event: ").unwrap().to_owned();
            let data: Value =
                serde_json::from_str(data_line.strip_prefix("data: ").unwrap()).unwrap();
            if name != "error" {
                assert_eq!(data["type"], name.as_str(), "event name matches its type");
            }
            (name, data)
        })
        .collect()
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(name, _)| name.as_str()).collect()
}

fn assert_anthropic_error(body: &Value, kind: &str) {
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "{body}"
    );
    assert!(
        body["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_")),
        "{body}"
    );
    assert!(body.get("param").is_none() && body["error"].get("code").is_none());
}

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], request_id.as_str());
    (status, body)
}

#[tokio::test]
async fn auth_requires_an_api_key_and_a_version() {
    let harness = start().await;
    let no_key = harness
        .client
        .post(harness.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .json(&message_body())
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(no_key).await;
    assert_eq!(status, 401);
    assert_anthropic_error(&body, "authentication_error");
    assert_eq!(body["error"]["message"], "x-api-key header is required");

    let blank_key = harness
        .client
        .post(harness.url("/v1/messages"))
        .header("x-api-key", "")
        .header("anthropic-version", "2023-06-01")
        .json(&message_body())
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(blank_key).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "invalid x-api-key");

    let no_version = harness
        .client
        .post(harness.url("/v1/messages"))
        .header("x-api-key", "sk-ant-test")
        .json(&message_body())
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(no_version).await;
    assert_eq!(status, 400);
    assert_anthropic_error(&body, "invalid_request_error");
    assert_eq!(
        body["error"]["message"],
        "anthropic-version: header is required"
    );

    // anthropic-sdk-python 2.x sends the key as a bearer token.
    let bearer = harness
        .client
        .post(harness.url("/v1/messages"))
        .bearer_auth("sk-ant-test")
        .header("anthropic-version", "2026-10-21")
        .json(&message_body())
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);

    // anthropic-beta is recorded like any header.
    let ok = harness
        .anthropic("/v1/messages", &message_body())
        .header("anthropic-beta", "prompt-caching-2024-07-31")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let recorded = harness.server.state().requests();
    assert_eq!(
        recorded.last().unwrap().headers["anthropic-beta"],
        "prompt-caching-2024-07-31"
    );
}

#[tokio::test]
async fn invalid_requests_get_the_anthropic_envelope() {
    let harness = start().await;
    let not_json = harness
        .client
        .post(harness.url("/v1/messages"))
        .header("x-api-key", "sk-ant-test")
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(not_json).await;
    assert_eq!(status, 400);
    assert_anthropic_error(&body, "invalid_request_error");

    let tool_call = json!({"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]});
    let cases = [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
            "max_tokens: Field required",
        ),
        (
            json!({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}),
            "model: Field required",
        ),
        (
            json!({"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}),
            "max_tokens: Input should be greater than or equal to 1",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": []}),
            "messages: at least one message is required",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}),
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "assistant", "content": "x"}]}),
            "messages: first message must use the \"user\" role",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text"}]}]}),
            "messages.0.content.0.text.text: Field required",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "system": [{"type": "image"}], "messages": [{"role": "user", "content": "x"}]}),
            "system.0.type: Input should be 'text'",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [
                {"role": "user", "content": "x"}, tool_call,
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "1"}]}]}),
            "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9. Each `tool_result` \
             block must have a corresponding `tool_use` block in the previous message.",
        ),
        (
            json!({"model": "m", "max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 512},
                "messages": [{"role": "user", "content": "x"}]}),
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ),
    ];
    for (body, message) in cases {
        let response = harness
            .anthropic("/v1/messages", &body)
            .send()
            .await
            .unwrap();
        let (status, error) = error_of(response).await;
        assert_eq!(status, 400, "{body}");
        assert_anthropic_error(&error, "invalid_request_error");
        assert_eq!(error["error"]["message"], message, "{body}");
    }

    let prefixes = [
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "video"}]}]}),
            "messages.0.content.0: Input tag 'video' found using 'type' does not match any of the expected tags",
        ),
        (
            json!({"model": "m", "max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 2000},
                "messages": [{"role": "user", "content": "x"}]}),
            "`max_tokens` must be greater than `thinking.budget_tokens`",
        ),
        (
            json!({"model": "m", "max_tokens": 4000, "temperature": 0.2,
                "thinking": {"type": "enabled", "budget_tokens": 2000},
                "messages": [{"role": "user", "content": "x"}]}),
            "`temperature` may only be set to 1 when thinking is enabled",
        ),
    ];
    for (body, prefix) in prefixes {
        let response = harness
            .anthropic("/v1/messages", &body)
            .send()
            .await
            .unwrap();
        let (status, error) = error_of(response).await;
        assert_eq!(status, 400);
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(prefix),
            "{error}"
        );
    }

    // An unknown path under /v1/messages answers in Anthropic's shape too.
    let missing = harness
        .anthropic("/v1/messages/batches", &json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(missing).await;
    assert_eq!(status, 404);
    assert_anthropic_error(&body, "not_found_error");
}

#[tokio::test]
async fn whole_message_has_anthropic_shape_and_headers() {
    let harness = start().await;
    let response = harness
        .anthropic("/v1/messages", &message_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers["request-id"].to_str().unwrap().starts_with("req_"));
    for kind in ["requests", "tokens", "input-tokens", "output-tokens"] {
        for field in ["limit", "remaining", "reset"] {
            assert!(
                headers.contains_key(format!("anthropic-ratelimit-{kind}-{field}")),
                "missing {kind}-{field}"
            );
        }
    }
    let reset = headers["anthropic-ratelimit-requests-reset"]
        .to_str()
        .unwrap();
    assert_eq!(reset.len(), 20, "RFC 3339 `YYYY-MM-DDTHH:MM:SSZ`: {reset}");
    assert!(reset.ends_with('Z') && reset.as_bytes()[10] == b'T');
    assert!(!headers.contains_key("x-ratelimit-limit-requests"));

    let body: Value = response.json().await.unwrap();
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("msg_") && id.len() > 10);
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["model"], "claude-sonnet-4-20250514");
    assert_eq!(
        body["content"],
        json!([{"type": "text", "text": llmrelay_mock::DEFAULT_CONTENT}])
    );
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["stop_sequence"], Value::Null);
    // "Hello there, mock!" is 18 characters: 5 tokens; the default content is 43 characters: 11 tokens.
    assert_eq!(
        body["usage"],
        json!({"input_tokens": 5, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 11, "service_tier": "standard"})
    );
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "type",
            "role",
            "model",
            "content",
            "stop_reason",
            "stop_sequence",
            "usage"
        ]
    );
}

#[tokio::test]
async fn stop_sequences_max_tokens_and_token_controls() {
    let harness = start().await;
    let mut body = message_body();
    body["stop_sequences"] = json!(["STOP", "never"]);
    let response: Value = harness
        .anthropic("/v1/messages", &body)
        .header("x-mock-content", "first part STOP second part")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["content"][0]["text"], "first part ");
    assert_eq!(response["stop_reason"], "stop_sequence");
    assert_eq!(response["stop_sequence"], "STOP");

    let mut body = message_body();
    body["max_tokens"] = json!(2);
    let response: Value = harness
        .anthropic("/v1/messages", &body)
        .header("x-mock-content", "abcdefghijklmnop")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["content"][0]["text"], "abcdefgh");
    assert_eq!(response["stop_reason"], "max_tokens");
    assert_eq!(response["stop_sequence"], Value::Null);
    assert_eq!(response["usage"]["output_tokens"], 2);

    let response: Value = harness
        .anthropic("/v1/messages", &message_body())
        .header("x-mock-prompt-tokens", "1234")
        .header("x-mock-completion-tokens", "56")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["usage"]["input_tokens"], 1234);
    assert_eq!(response["usage"]["output_tokens"], 56);
}

#[tokio::test]
async fn tools_single_parallel_forced_and_after_results() {
    let harness = start().await;
    let ask = |extra: Value| {
        let mut body = message_body();
        body["tools"] = weather_tools();
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        harness.anthropic("/v1/messages", &body).send()
    };

    // Parallel: a preamble, then two tool_use blocks.
    let parallel: Value = ask(json!({})).await.unwrap().json().await.unwrap();
    assert_eq!(parallel["stop_reason"], "tool_use");
    let content = parallel["content"].as_array().unwrap();
    assert_eq!(content.len(), 3, "{parallel}");
    assert_eq!(
        content[0],
        json!({"type": "text", "text": "I'll check that."})
    );
    assert_eq!(content[1]["type"], "tool_use");
    assert!(content[1]["id"].as_str().unwrap().starts_with("toolu_"));
    assert_eq!(content[1]["name"], "get_weather");
    assert_eq!(
        content[1]["input"],
        json!({"location": "mock", "unit": "celsius"})
    );
    assert_eq!(content[2]["name"], "get_time");
    assert_eq!(content[2]["input"], json!({"timezone": "mock"}));
    assert_ne!(content[1]["id"], content[2]["id"]);
    assert!(parallel["usage"]["output_tokens"].as_u64().unwrap() > 1);

    // Single: parallel use disabled.
    let single: Value =
        ask(json!({"tool_choice": {"type": "auto", "disable_parallel_tool_use": true}}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let content = single["content"].as_array().unwrap();
    assert_eq!(content.len(), 2);
    assert_eq!(content[1]["name"], "get_weather");

    // Forced: the named tool, with no text before it (the API prefills the turn).
    let forced: Value = ask(json!({"tool_choice": {"type": "tool", "name": "get_time"}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let content = forced["content"].as_array().unwrap();
    assert_eq!(content.len(), 1, "{forced}");
    assert_eq!(content[0]["type"], "tool_use");
    assert_eq!(content[0]["name"], "get_time");
    assert_eq!(forced["stop_reason"], "tool_use");

    let any: Value = ask(json!({"tool_choice": {"type": "any"}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(any["content"].as_array().unwrap().len(), 2);
    assert_eq!(any["content"][0]["type"], "tool_use");

    let none: Value = ask(json!({"tool_choice": {"type": "none"}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["stop_reason"], "end_turn");
    assert_eq!(none["content"][0]["type"], "text");

    // After the tool results the answer is text again.
    let id = parallel["content"][1]["id"].as_str().unwrap();
    let second = parallel["content"][2]["id"].as_str().unwrap();
    let follow_up: Value = ask(json!({"messages": [
        {"role": "user", "content": "Weather and time?"},
        {"role": "assistant", "content": parallel["content"]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": "15 degrees"},
            {"type": "tool_result", "tool_use_id": second, "content": [{"type": "text", "text": "noon"}]}
        ]}
    ]}))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(follow_up["stop_reason"], "end_turn", "{follow_up}");
    assert_eq!(follow_up["content"][0]["type"], "text");
}

#[tokio::test]
async fn thinking_blocks_come_first() {
    let harness = start().await;
    let mut body = message_body();
    body["max_tokens"] = json!(4096);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    body["tools"] = weather_tools();
    let response: Value = harness
        .anthropic("/v1/messages", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let content = response["content"].as_array().unwrap();
    assert_eq!(content[0]["type"], "thinking");
    assert!(!content[0]["thinking"].as_str().unwrap().is_empty());
    let signature = content[0]["signature"].as_str().unwrap();
    assert!(signature.len() > 40);
    assert!(
        signature
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"+/=".contains(&byte))
    );
    assert_eq!(content[1]["type"], "text");
    assert_eq!(content[2]["type"], "tool_use");
    assert_eq!(response["stop_reason"], "tool_use");

    // The signature is deterministic; the redacted-thinking control adds a redacted_thinking block.
    body.as_object_mut().unwrap().remove("tools");
    let redacted: Value = harness
        .anthropic("/v1/messages", &body)
        .header("x-mock-redacted-thinking", "1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let content = redacted["content"].as_array().unwrap();
    assert_eq!(content[0]["signature"], signature);
    assert_eq!(content[1]["type"], "redacted_thinking");
    assert!(!content[1]["data"].as_str().unwrap().is_empty());
    assert_eq!(content[2]["type"], "text");
    assert_eq!(content.len(), 3);

    // Without thinking the control does nothing.
    let plain: Value = harness
        .anthropic("/v1/messages", &message_body())
        .header("x-mock-redacted-thinking", "1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plain["content"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn prompt_caching_writes_then_reads() {
    let harness = start().await;
    let long_system = "You are a careful assistant. ".repeat(40);
    let body = json!({"model": "claude-sonnet-4-20250514", "max_tokens": 100,
        "system": [{"type": "text", "text": long_system, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Hello there, mock!"}]});
    let system_tokens = long_system.len().div_ceil(4) as u64;
    let first: Value = harness
        .anthropic("/v1/messages", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let usage = &first["usage"];
    assert_eq!(usage["cache_creation_input_tokens"], system_tokens);
    assert_eq!(usage["cache_read_input_tokens"], 0);
    assert_eq!(
        usage["cache_creation"],
        json!({"ephemeral_5m_input_tokens": system_tokens, "ephemeral_1h_input_tokens": 0})
    );
    let rest = usage["input_tokens"].as_u64().unwrap();
    assert!(rest > 0 && rest < 10, "{usage}");

    // The same prefix with another question: a cache read.
    let mut again = body.clone();
    again["messages"] = json!([{"role": "user", "content": "Another question entirely?"}]);
    let second: Value = harness
        .anthropic("/v1/messages", &streamed(again.clone()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|text| named_events(&text)[0].1["message"].clone())
        .unwrap();
    assert_eq!(second["usage"]["cache_read_input_tokens"], system_tokens);
    assert_eq!(second["usage"]["cache_creation_input_tokens"], 0);

    // count_tokens does not write the cache.
    let mut fresh = body.clone();
    fresh["system"][0]["text"] = json!(long_system.to_uppercase());
    let counted = harness
        .anthropic("/v1/messages/count_tokens", &fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(counted.status(), 200);
    let written: Value = harness
        .anthropic("/v1/messages", &fresh)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(written["usage"]["cache_read_input_tokens"], 0);
    assert_eq!(
        written["usage"]["cache_creation_input_tokens"],
        system_tokens
    );

    // reset forgets the cache.
    harness.server.state().reset();
    let third: Value = harness
        .anthropic("/v1/messages", &again)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(third["usage"]["cache_read_input_tokens"], 0);
    assert_eq!(third["usage"]["cache_creation_input_tokens"], system_tokens);

    // Headers force the values.
    let forced: Value = harness
        .anthropic("/v1/messages", &message_body())
        .header("x-mock-cache-read-tokens", "1500")
        .header("x-mock-cache-creation-tokens", "300")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(forced["usage"]["cache_read_input_tokens"], 1500);
    assert_eq!(forced["usage"]["cache_creation_input_tokens"], 300);
    assert_eq!(forced["usage"]["input_tokens"], 5);
}
