//! Fault injection, timing, scripts, request recording, the control API, invalid requests and
//! shutdown.

use super::*;

#[tokio::test]
async fn status_faults_render_openai_errors_with_retry_headers() {
    let harness = start().await;
    let response = harness
        .post("/v1/chat/completions", &chat_body())
        .header("x-mock-status", "429")
        .header("x-mock-retry-after", "7")
        .header("x-mock-retry-after-ms", "6500")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert_eq!(response.headers()["retry-after-ms"], "6500");
    assert_eq!(response.headers()["x-ratelimit-remaining-requests"], "0");
    let body: Value = response.json().await.unwrap();
    assert_openai_error(&body, "requests");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gpt-4o-mini")
    );

    let expectations = [
        (400, "invalid_request_error", None),
        (401, "invalid_request_error", Some("invalid_api_key")),
        (403, "permission_error", Some("permission_denied")),
        (404, "invalid_request_error", Some("model_not_found")),
        (408, "server_error", Some("timeout")),
        (422, "invalid_request_error", Some("unprocessable_entity")),
        (500, "server_error", None),
        (502, "server_error", Some("bad_gateway")),
        (503, "server_error", Some("service_unavailable")),
        (504, "server_error", Some("timeout")),
        (529, "server_error", Some("overloaded")),
    ];
    for (status, kind, code) in expectations {
        let response = harness
            .post("/v1/chat/completions", &chat_body())
            .header("x-mock-status", status.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert!(!response.headers().contains_key("retry-after"));
        let body: Value = response.json().await.unwrap();
        assert_openai_error(&body, kind);
        assert_eq!(body["error"]["code"].as_str(), code, "status {status}");
    }

    let response = harness
        .post("/v1/chat/completions", &chat_body())
        .header("x-mock-status", "400")
        .header(
            "x-mock-error-message",
            "This model's maximum context length is 8192 tokens",
        )
        .header("x-mock-error-code", "context_length_exceeded")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "This model's maximum context length is 8192 tokens"
    );
    assert_eq!(body["error"]["code"], "context_length_exceeded");
}

#[tokio::test]
async fn fail_times_fails_then_succeeds_per_key() {
    let harness = start().await;
    let send = |key: &'static str| {
        harness
            .post("/v1/chat/completions", &chat_body())
            .header("x-mock-fail-times", "2")
            .header("x-mock-fail-key", key)
            .header("x-mock-status", "503")
            .send()
    };
    assert_eq!(send("a").await.unwrap().status(), 503);
    assert_eq!(send("b").await.unwrap().status(), 503);
    assert_eq!(send("a").await.unwrap().status(), 503);
    assert_eq!(send("a").await.unwrap().status(), 200);
    assert_eq!(send("a").await.unwrap().status(), 200);
    assert_eq!(send("b").await.unwrap().status(), 503);
    assert_eq!(send("b").await.unwrap().status(), 200);
}

#[tokio::test]
async fn disconnect_after_cuts_streams_and_whole_responses() {
    let harness = start().await;
    let mut body = chat_body();
    body["stream"] = json!(true);
    let response = harness
        .post("/v1/chat/completions", &body)
        .header("x-mock-disconnect-after", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (text, failed) = read_until_error(response).await;
    assert!(failed, "the stream must end with a transport error");
    assert_eq!(sse_data(&text).len(), 2, "{text}");
    assert!(!text.contains("[DONE]"));

    // Whole response: the connection closes before a body arrives.
    let outcome = harness
        .post("/v1/chat/completions", &chat_body())
        .header("x-mock-disconnect-after", "0")
        .send()
        .await;
    match outcome {
        Err(_) => {}
        Ok(response) => assert!(response.bytes().await.is_err()),
    }
}

#[tokio::test]
async fn error_after_sends_an_error_event_mid_stream() {
    let harness = start().await;
    let mut body = chat_body();
    body["stream"] = json!(true);
    let response = harness
        .post("/v1/chat/completions", &body)
        .header("x-mock-error-after", "3")
        .header("x-mock-error-message", "upstream exploded")
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let events = sse_json(&text);
    assert_eq!(events.len(), 4, "{text}");
    assert!(!text.contains("[DONE]"));
    assert_eq!(
        events[3],
        json!({"error": {"message": "upstream exploded", "type": "server_error", "param": null, "code": null}})
    );
}

#[tokio::test]
async fn malformed_bodies_are_not_json() {
    let harness = start().await;
    let response = harness
        .post("/v1/chat/completions", &chat_body())
        .header("x-mock-malformed", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());

    let mut body = chat_body();
    body["stream"] = json!(true);
    let text = harness
        .post("/v1/chat/completions", &body)
        .header("x-mock-malformed", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let broken = sse_data(&text)
        .iter()
        .filter(|data| *data != "[DONE]" && serde_json::from_str::<Value>(data).is_err())
        .count();
    assert_eq!(broken, 1, "{text}");
}

#[tokio::test]
async fn timing_controls_delay_responses() {
    let harness = start().await;
    let started = Instant::now();
    let response = harness
        .post("/v1/chat/completions", &chat_body())
        .header("x-mock-latency-ms", "30")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert!(
        response.headers()["openai-processing-ms"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 30
    );

    let mut body = chat_body();
    body["stream"] = json!(true);
    let started = Instant::now();
    let response = harness
        .post("/v1/chat/completions", &body)
        .header("x-mock-ttft-ms", "40")
        .header("x-mock-chunk-interval-ms", "2")
        .header("x-mock-chunk-count", "3")
        .send()
        .await
        .unwrap();
    // Headers come at once; the first chunk waits for the time to first token.
    assert!(started.elapsed() < Duration::from_millis(40));
    let text = response.text().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(40 + 2 * 4));
    assert_eq!(sse_json(&text).len(), 5);

    let started = Instant::now();
    harness
        .post("/v1/chat/completions", &chat_body())
        .header("x-mock-first-byte-delay-ms", "25")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(25));
}

#[tokio::test]
async fn scripts_are_served_fifo_to_matching_requests() {
    let harness = start().await;
    let scripts = json!([
        {"status": 200, "json": {"scripted": 1}, "headers": {"x-custom": "yes"}},
        {"path": "/embeddings", "status": 500, "raw": "<html>oops</html>", "content_type": "text/html"},
        {"sse": [{"a": 1}, "raw text", {"b": 2}]},
    ]);
    let pushed: Value = harness
        .client
        .post(harness.url("/__mock/script"))
        .json(&scripts)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pushed["pending"], 3);

    let first = harness
        .post("/v1/chat/completions", &chat_body())
        .send()
        .await
        .unwrap();
    assert_eq!(first.headers()["x-custom"], "yes");
    assert_eq!(first.json::<Value>().await.unwrap(), json!({"scripted": 1}));
    // The embeddings script waits for an embeddings request; the SSE script is next for chat.
    let second = harness
        .post("/v1/chat/completions", &chat_body())
        .send()
        .await
        .unwrap();
    assert!(
        second.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(
        second.text().await.unwrap(),
        "data: {\"a\":1}\n\ndata: raw text\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n"
    );
    let third = harness
        .post("/v1/embeddings", &json!({"model": "m", "input": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 500);
    assert_eq!(third.headers()["content-type"], "text/html");
    assert_eq!(third.text().await.unwrap(), "<html>oops</html>");

    // Scripts also answer routes the mock does not emulate, and the Rust API mirrors the HTTP one.
    let state = harness.server.state();
    state.push_script(ScriptedResponse::json(201, json!({"ok": true})));
    let unknown = harness
        .post("/v1/responses", &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 201);
    state.push_script(ScriptedResponse::json(200, json!({})));
    let cleared = harness
        .client
        .delete(harness.url("/__mock/script"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    assert_eq!(state.pending_scripts(), 0);
    let normal: Value = harness
        .post("/v1/chat/completions", &chat_body())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(normal["object"], "chat.completion");

    let invalid = harness
        .client
        .post(harness.url("/__mock/script"))
        .json(&json!([{"json": {}, "raw": "x"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
}

#[tokio::test]
async fn requests_are_recorded_and_cleared() {
    let harness = start().await;
    harness
        .post("/v1/chat/completions?trace=1", &chat_body())
        .header("X-Custom-Header", "Value")
        .send()
        .await
        .unwrap();
    harness
        .client
        .post(harness.url("/v1/chat/completions"))
        .bearer_auth("sk-test")
        .body("not json")
        .send()
        .await
        .unwrap();
    let recorded: Value = harness
        .client
        .get(harness.url("/__mock/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded = recorded.as_array().unwrap();
    assert_eq!(recorded.len(), 2, "control requests are not recorded");
    assert_eq!(recorded[0]["method"], "POST");
    assert_eq!(recorded[0]["path"], "/v1/chat/completions");
    assert_eq!(recorded[0]["query"], "trace=1");
    assert_eq!(recorded[0]["headers"]["x-custom-header"], "Value");
    assert_eq!(recorded[0]["headers"]["authorization"], "Bearer sk-test");
    assert_eq!(recorded[0]["body"], chat_body());
    assert!(recorded[0]["received_at_ms"].as_u64().unwrap() > 0);
    assert_eq!(recorded[1]["body"], "not json");
    assert_eq!(harness.server.state().requests().len(), 2);

    let cleared = harness
        .client
        .delete(harness.url("/__mock/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    assert!(harness.server.state().requests().is_empty());

    // Recording can be switched off.
    let harness = start_with(MockConfig {
        record: false,
        ..MockConfig::default()
    })
    .await;
    harness
        .post("/v1/chat/completions", &chat_body())
        .send()
        .await
        .unwrap();
    assert!(harness.server.state().requests().is_empty());
}

#[tokio::test]
async fn config_endpoint_reads_and_patches_the_config() {
    let harness = start().await;
    let config: Value = harness
        .client
        .get(harness.url("/__mock/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["chunk_count"], 8);
    assert_eq!(config["embedding_dim"], 8);
    assert_eq!(config["record"], true);
    let patched: Value = harness
        .client
        .post(harness.url("/__mock/config"))
        .json(&json!({"content": "configured answer", "embedding_dim": 4}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["content"], "configured answer");
    assert_eq!(patched["chunk_count"], 8);
    let response: Value = harness
        .post("/v1/chat/completions", &chat_body())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        response["choices"][0]["message"]["content"],
        "configured answer"
    );
    assert_eq!(harness.server.state().config().embedding_dim, 4);
    let rejected = harness
        .client
        .post(harness.url("/__mock/config"))
        .json(&json!({"latency": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 400);
    let health = harness
        .client
        .get(harness.url("/__mock/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn invalid_requests_get_openai_errors() {
    let harness = start().await;
    let bad_json = harness
        .client
        .post(harness.url("/v1/chat/completions"))
        .bearer_auth("sk-test")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    let body: Value = bad_json.json().await.unwrap();
    assert_openai_error(&body, "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("parse the JSON body")
    );

    let missing = harness
        .post("/v1/chat/completions", &json!({"model": "gpt-4o"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let body: Value = missing.json().await.unwrap();
    assert_openai_error(&body, "invalid_request_error");
    assert_eq!(body["error"]["param"], "messages");

    let empty = harness
        .post(
            "/v1/chat/completions",
            &json!({"model": "gpt-4o", "messages": []}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
    let no_model = harness
        .post(
            "/v1/chat/completions",
            &json!({"messages": [{"role": "user", "content": "x"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(no_model.status(), 400);
    assert_eq!(
        no_model.json::<Value>().await.unwrap()["error"]["param"],
        "model"
    );

    let no_auth = harness
        .client
        .post(harness.url("/v1/chat/completions"))
        .json(&chat_body())
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status(), 401);
    let body: Value = no_auth.json().await.unwrap();
    assert_openai_error(&body, "invalid_request_error");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let empty_key = harness
        .client
        .post(harness.url("/v1/embeddings"))
        .header("authorization", "Bearer ")
        .json(&json!({"model": "m", "input": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty_key.status(), 401);

    let unknown = harness
        .post("/v1/nothing-here", &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_openai_error(&body, "invalid_request_error");
    assert_eq!(
        body["error"]["message"],
        "Invalid URL (POST /v1/nothing-here)"
    );

    let wrong_method = harness.get("/v1/chat/completions").send().await.unwrap();
    assert_eq!(wrong_method.status(), 405);

    let typo = harness
        .post("/v1/chat/completions", &chat_body())
        .header("x-mock-statsu", "500")
        .send()
        .await
        .unwrap();
    assert_eq!(typo.status(), 400);
    assert!(
        typo.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-mock-statsu")
    );
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let harness = start().await;
    let url = harness.url("/__mock/health");
    assert_eq!(harness.client.get(&url).send().await.unwrap().status(), 200);
    let client = harness.client.clone();
    harness.server.shutdown().await;
    assert!(reqwest::Client::new().get(&url).send().await.is_err());
    drop(client);
}
