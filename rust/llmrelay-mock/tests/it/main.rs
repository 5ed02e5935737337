//! Integration tests: a real mock server on an ephemeral port, driven over HTTP with reqwest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod anthropic;
mod bedrock;
mod control;
mod guardrail_apis;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::StreamExt as _;
use llmrelay_mock::{MockConfig, MockServer, ScriptedResponse};
use serde_json::{Value, json};

struct Harness {
    server: MockServer,
    client: reqwest::Client,
}

async fn start() -> Harness {
    start_with(MockConfig::default()).await
}

async fn start_with(config: MockConfig) -> Harness {
    // reqwest is built without a bundled TLS provider; plain HTTP still needs one installed to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = MockServer::start(addr, config).await.unwrap();
    Harness {
        server,
        client: reqwest::Client::new(),
    }
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// A POST with a valid key and a JSON body.
    fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .bearer_auth("sk-test")
            .json(body)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth("sk-test")
    }
}

fn chat_body() -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there, mock!"}]})
}

fn weather_tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"location": {"type": "string"}, "days": {"type": "integer"}}}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {
            "type": "object", "properties": {"timezone": {"type": "string"}}}}}
    ])
}

/// The `data:` payloads of an SSE body, in order.
fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter(|event| !event.is_empty())
        .map(|event| event.strip_prefix("data: ").unwrap().to_owned())
        .collect()
}

fn sse_json(body: &str) -> Vec<Value> {
    sse_data(body)
        .iter()
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).unwrap())
        .collect()
}

/// Reads a body until it ends or fails; returns the text and whether it failed.
async fn read_until_error(response: reqwest::Response) -> (String, bool) {
    let mut stream = response.bytes_stream();
    let mut text = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(bytes) => text.extend_from_slice(&bytes),
            Err(_) => return (String::from_utf8(text).unwrap(), true),
        }
    }
    (String::from_utf8(text).unwrap(), false)
}

fn assert_openai_error(body: &Value, kind: &str) {
    let error = &body["error"];
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "{body}"
    );
    assert_eq!(error["type"], kind, "{body}");
    assert!(error.as_object().unwrap().contains_key("param"), "{body}");
    assert!(error.as_object().unwrap().contains_key("code"), "{body}");
}

#[tokio::test]
async fn whole_chat_completion_has_openai_shape_and_headers() {
    let harness = start().await;
    let response = harness
        .post("/v1/chat/completions", &chat_body())
        .header("x-request-id", "req_from_client")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-request-id"], "req_from_client");
    assert_eq!(headers["content-type"], "application/json");
    for name in [
        "x-ratelimit-limit-requests",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-tokens",
        "openai-processing-ms",
    ] {
        assert!(headers.contains_key(name), "missing {name}");
    }
    let body: Value = response.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["object"], "chat.completion");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["service_tier"], "default");
    assert!(body["system_fingerprint"].is_string());
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["logprobs"], Value::Null);
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": llmrelay_mock::DEFAULT_CONTENT, "refusal": null, "annotations": []})
    );
    let usage = &body["usage"];
    // "Hello there, mock!" is 18 characters: 5 tokens; the default content is 43 characters: 11 tokens.
    assert_eq!(usage["prompt_tokens"], 5);
    assert_eq!(usage["completion_tokens"], 11);
    assert_eq!(usage["total_tokens"], 16);
    assert_eq!(
        usage["prompt_tokens_details"],
        json!({"cached_tokens": 0, "audio_tokens": 0})
    );
    assert_eq!(
        usage["completion_tokens_details"],
        json!({"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0})
    );

    // Without /v1, a generated request id.
    let response = harness
        .post("/chat/completions", &chat_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
}

#[tokio::test]
async fn chat_honours_n_max_tokens_stop_and_token_controls() {
    let harness = start().await;
    let mut body = chat_body();
    body["n"] = json!(2);
    body["max_tokens"] = json!(2);
    let response: Value = harness
        .post("/v1/chat/completions", &body)
        .header("x-mock-content", "abcdefghijklmnop")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["choices"].as_array().unwrap().len(), 2);
    assert_eq!(response["choices"][1]["index"], 1);
    assert_eq!(response["choices"][0]["message"]["content"], "abcdefgh");
    assert_eq!(response["choices"][0]["finish_reason"], "length");
    assert_eq!(response["usage"]["completion_tokens"], 4);

    let mut body = chat_body();
    body["stop"] = json!(["STOP"]);
    let response: Value = harness
        .post("/v1/chat/completions", &body)
        .header("x-mock-content", "before STOP after")
        .header("x-mock-prompt-tokens", "100")
        .header("x-mock-completion-tokens", "7")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["choices"][0]["message"]["content"], "before ");
    assert_eq!(response["choices"][0]["finish_reason"], "stop");
    assert_eq!(response["usage"]["prompt_tokens"], 100);
    assert_eq!(response["usage"]["completion_tokens"], 7);
    assert_eq!(response["usage"]["total_tokens"], 107);
}

#[tokio::test]
async fn streamed_chat_sends_role_content_finish_and_usage_chunks() {
    let harness = start().await;
    let mut body = chat_body();
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let response = harness
        .post("/v1/chat/completions", &body)
        .header("x-mock-chunk-count", "4")
        .header("x-mock-content", "one two three four")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"));
    let chunks = sse_json(&text);
    // role + 4 content + finish + usage
    assert_eq!(chunks.len(), 7, "{text}");
    let id = chunks[0]["id"].as_str().unwrap();
    for chunk in &chunks {
        assert_eq!(chunk["id"], id);
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], "gpt-4o-mini");
        assert_eq!(chunk["created"], chunks[0]["created"]);
        assert!(chunk["system_fingerprint"].is_string());
        assert!(chunk.as_object().unwrap().contains_key("usage"));
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "", "refusal": null})
    );
    let content: String = chunks[1..5]
        .iter()
        .map(|chunk| chunk["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(content, "one two three four");
    assert_eq!(chunks[5]["choices"][0]["delta"], json!({}));
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[5]["usage"], Value::Null);
    assert_eq!(chunks[6]["choices"], json!([]));
    assert_eq!(chunks[6]["usage"]["completion_tokens"], 5);
    assert_eq!(chunks[6]["usage"]["prompt_tokens"], 5);

    // Without include_usage there is no usage key at all.
    body["stream_options"] = json!(null);
    let text = harness
        .post("/v1/chat/completions", &body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let chunks = sse_json(&text);
    assert_eq!(chunks.len(), 1 + 8 + 1);
    assert!(
        chunks
            .iter()
            .all(|chunk| !chunk.as_object().unwrap().contains_key("usage"))
    );
}

#[tokio::test]
async fn streamed_parallel_tool_calls_interleave_argument_deltas() {
    let harness = start().await;
    let mut body = chat_body();
    body["stream"] = json!(true);
    body["tools"] = weather_tools();
    let text = harness
        .post("/v1/chat/completions", &body)
        .header("x-mock-chunk-count", "3")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let chunks = sse_json(&text);
    let deltas: Vec<&Value> = chunks
        .iter()
        .map(|chunk| &chunk["choices"][0]["delta"])
        .collect();
    let first = &deltas[0];
    assert_eq!(first["role"], "assistant");
    assert_eq!(first["content"], Value::Null);
    let header0 = &first["tool_calls"][0];
    assert_eq!(header0["index"], 0);
    assert!(header0["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(header0["type"], "function");
    assert_eq!(
        header0["function"],
        json!({"name": "get_weather", "arguments": ""})
    );
    let header1 = &deltas[1]["tool_calls"][0];
    assert_eq!(header1["index"], 1);
    assert_eq!(
        header1["function"],
        json!({"name": "get_time", "arguments": ""})
    );
    assert_ne!(header0["id"], header1["id"]);

    let argument_deltas: Vec<&Value> = deltas[2..]
        .iter()
        .filter_map(|delta| delta.get("tool_calls"))
        .map(|calls| &calls[0])
        .collect();
    let indexes: Vec<u64> = argument_deltas
        .iter()
        .map(|call| call["index"].as_u64().unwrap())
        .collect();
    assert_eq!(
        &indexes[..4],
        &[0, 1, 0, 1],
        "argument pieces must interleave"
    );
    let mut arguments = [String::new(), String::new()];
    for call in &argument_deltas {
        assert!(call.get("id").is_none() && call["function"].get("name").is_none());
        let index = usize::try_from(call["index"].as_u64().unwrap()).unwrap();
        arguments[index].push_str(call["function"]["arguments"].as_str().unwrap());
    }
    assert!(indexes.iter().filter(|index| **index == 0).count() >= 3);
    assert!(indexes.iter().filter(|index| **index == 1).count() >= 3);
    assert_eq!(
        serde_json::from_str::<Value>(&arguments[0]).unwrap(),
        json!({"location": "mock", "days": 1})
    );
    assert_eq!(
        serde_json::from_str::<Value>(&arguments[1]).unwrap(),
        json!({"timezone": "mock"})
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(last["choices"][0]["delta"], json!({}));
}

#[tokio::test]
async fn whole_tool_calls_follow_tool_choice() {
    let harness = start().await;
    let mut body = chat_body();
    body["tools"] = weather_tools();
    body["tool_choice"] = json!({"type": "function", "function": {"name": "get_time"}});
    let response: Value = harness
        .post("/v1/chat/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let choice = &response["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_time");
    assert_eq!(calls[0]["function"]["arguments"], r#"{"timezone":"mock"}"#);

    // parallel_tool_calls=false: only the first tool.
    body["tool_choice"] = json!("auto");
    body["parallel_tool_calls"] = json!(false);
    let response: Value = harness
        .post("/v1/chat/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        response["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // After a tool result the model answers with text.
    body["messages"] = json!([
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    ]);
    let response: Value = harness
        .post("/v1/chat/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["choices"][0]["finish_reason"], "stop");
    assert!(response["choices"][0]["message"]["content"].is_string());
}

#[tokio::test]
async fn json_modes_return_json_content() {
    let harness = start().await;
    let mut body = chat_body();
    body["response_format"] = json!({"type": "json_object"});
    let response: Value = harness
        .post("/v1/chat/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let content = response["choices"][0]["message"]["content"]
        .as_str()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(content).unwrap(),
        json!({"mock": true})
    );

    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "person", "schema": {
        "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}}});
    let response: Value = harness
        .post("/v1/chat/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let content = response["choices"][0]["message"]["content"]
        .as_str()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(content).unwrap(),
        json!({"name": "mock", "age": 1})
    );
}

#[tokio::test]
async fn legacy_completions_whole_and_streamed() {
    let harness = start().await;
    let body =
        json!({"model": "gpt-3.5-turbo-instruct", "prompt": ["first prompt", "second"], "n": 2});
    let response: Value = harness
        .post("/v1/completions", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(response["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(response["object"], "text_completion");
    let choices = response["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 4);
    assert_eq!(
        choices[3],
        json!({"text": llmrelay_mock::DEFAULT_CONTENT, "index": 3, "logprobs": null, "finish_reason": "stop"})
    );
    assert_eq!(response["usage"]["prompt_tokens"], 3 + 2);
    assert_eq!(response["usage"]["completion_tokens"], 4 * 11);

    let body = json!({"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "stream": true,
        "stream_options": {"include_usage": true}});
    let text = harness
        .post("/completions", &body)
        .header("x-mock-chunk-count", "2")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"));
    let chunks = sse_json(&text);
    assert_eq!(chunks.len(), 2 + 1 + 1);
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk["object"] == "text_completion")
    );
    let streamed: String = chunks[..2]
        .iter()
        .map(|chunk| chunk["choices"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(streamed, llmrelay_mock::DEFAULT_CONTENT);
    assert_eq!(chunks[2]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[2]["usage"], Value::Null);
    assert_eq!(chunks[3]["choices"], json!([]));
    assert_eq!(chunks[3]["usage"]["total_tokens"], 12);
}

#[tokio::test]
async fn embeddings_float_and_base64() {
    let harness = start().await;
    let body = json!({"model": "text-embedding-3-small", "input": ["hello", "world"]});
    let response: Value = harness
        .post("/v1/embeddings", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["object"], "list");
    assert_eq!(response["model"], "text-embedding-3-small");
    let data = response["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[1]["object"], "embedding");
    assert_eq!(data[1]["index"], 1);
    let first: Vec<f32> = serde_json::from_value(data[0]["embedding"].clone()).unwrap();
    assert_eq!(first.len(), 8);
    assert_ne!(data[0]["embedding"], data[1]["embedding"]);
    assert_eq!(
        response["usage"],
        json!({"prompt_tokens": 4, "total_tokens": 4})
    );

    // Deterministic, `dimensions`, token input, base64.
    let again: Value = harness
        .post("/embeddings", &json!({"model": "m", "input": "hello"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["data"][0]["embedding"], data[0]["embedding"]);
    let sized: Value = harness
        .post(
            "/v1/embeddings",
            &json!({"model": "m", "input": [[1, 2, 3], [4]], "dimensions": 16}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sized["data"][1]["embedding"].as_array().unwrap().len(), 16);
    assert_eq!(sized["usage"]["prompt_tokens"], 4);
    let encoded: Value = harness
        .post(
            "/v1/embeddings",
            &json!({"model": "m", "input": "hello", "encoding_format": "base64"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let decoded: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|chunk| f32::from_le_bytes(chunk.try_into().unwrap()))
        .collect();
    assert_eq!(decoded, first);
}

#[tokio::test]
async fn models_list_and_retrieve() {
    let harness = start().await;
    let list: Value = harness
        .get("/v1/models")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["object"], "list");
    let first = &list["data"][0];
    assert_eq!(first["object"], "model");
    assert!(first["id"].is_string() && first["created"].is_u64() && first["owned_by"].is_string());
    let model: Value = harness
        .get("/v1/models/gpt-4o")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(model["id"], "gpt-4o");
    let missing = harness.get("/models/no-such-model").send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_openai_error(&body, "invalid_request_error");
    assert_eq!(body["error"]["code"], "model_not_found");
}
