//! Anthropic streams (event order, tool use, thinking, errors mid-stream), token counting,
//! faults, scripts and pacing.

use super::*;

#[tokio::test]
async fn streamed_text_follows_anthropic_event_order() {
    let harness = start().await;
    let response = harness
        .anthropic("/v1/messages", &streamed(message_body()))
        .header("x-mock-chunk-count", "3")
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
    assert!(response.headers().contains_key("request-id"));
    let text = response.text().await.unwrap();
    assert!(!text.contains("[DONE]"));
    let events = named_events(&text);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let message = &events[0].1["message"];
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(message["content"], json!([]));
    assert_eq!(message["stop_reason"], Value::Null);
    assert_eq!(message["stop_sequence"], Value::Null);
    assert_eq!(message["usage"]["input_tokens"], 5);
    assert_eq!(message["usage"]["output_tokens"], 1);
    assert_eq!(
        events[1].1,
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    );
    let joined: String = events[3..6]
        .iter()
        .map(|(_, data)| {
            assert_eq!(data["delta"]["type"], "text_delta");
            assert_eq!(data["index"], 0);
            data["delta"]["text"].as_str().unwrap()
        })
        .collect();
    assert_eq!(joined, llmrelay_mock::DEFAULT_CONTENT);
    assert_eq!(
        events[6].1,
        json!({"type": "content_block_stop", "index": 0})
    );
    assert_eq!(
        events[7].1,
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"input_tokens": 5, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 11}})
    );
    assert_eq!(events[8].1, json!({"type": "message_stop"}));
}

#[tokio::test]
async fn streamed_tool_use_sends_each_block_whole_before_the_next() {
    let harness = start().await;
    let mut body = streamed(message_body());
    body["tools"] = weather_tools();
    let text = harness
        .anthropic("/v1/messages", &body)
        .header("x-mock-chunk-count", "1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = named_events(&text);
    // Blocks never interleave: each starts after the previous one stopped.
    let mut open: Option<u64> = None;
    let mut inputs: Vec<(String, String, usize)> = Vec::new();
    for (name, data) in &events {
        match name.as_str() {
            "content_block_start" => {
                assert_eq!(open, None, "{text}");
                let index = data["index"].as_u64().unwrap();
                open = Some(index);
                if data["content_block"]["type"] == "tool_use" {
                    assert_eq!(data["content_block"]["input"], json!({}));
                    inputs.push((
                        data["content_block"]["name"].as_str().unwrap().to_owned(),
                        String::new(),
                        0,
                    ));
                }
            }
            "content_block_delta" => {
                assert_eq!(Some(data["index"].as_u64().unwrap()), open);
                if data["delta"]["type"] == "input_json_delta" {
                    let (_, json, pieces) = inputs.last_mut().unwrap();
                    let piece = data["delta"]["partial_json"].as_str().unwrap();
                    json.push_str(piece);
                    if !piece.is_empty() {
                        *pieces += 1;
                    }
                }
            }
            "content_block_stop" => {
                assert_eq!(Some(data["index"].as_u64().unwrap()), open);
                open = None;
            }
            _ => {}
        }
    }
    assert_eq!(inputs.len(), 2);
    assert_eq!(inputs[0].0, "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(&inputs[0].1).unwrap(),
        json!({"location": "mock", "unit": "celsius"})
    );
    assert_eq!(inputs[1].0, "get_time");
    assert!(
        inputs.iter().all(|(_, _, pieces)| *pieces >= 3),
        "{inputs:?}"
    );
    let first_tool_delta = events
        .iter()
        .find(|(_, data)| data["delta"]["type"] == "input_json_delta")
        .unwrap();
    assert_eq!(first_tool_delta.1["delta"]["partial_json"], "");
    let (_, delta) = &events[events.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(names(&events).last(), Some(&"message_stop"));
}

#[tokio::test]
async fn streamed_thinking_sends_thinking_then_signature_then_text() {
    let harness = start().await;
    let mut body = streamed(message_body());
    body["max_tokens"] = json!(4096);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    let text = harness
        .anthropic("/v1/messages", &body)
        .header("x-mock-chunk-count", "2")
        .header("x-mock-redacted-thinking", "1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = named_events(&text);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(
        events[1].1["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    assert_eq!(events[3].1["delta"]["type"], "thinking_delta");
    assert_eq!(events[4].1["delta"]["type"], "thinking_delta");
    assert_eq!(events[5].1["delta"]["type"], "signature_delta");
    assert!(
        !events[5].1["delta"]["signature"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert_eq!(events[7].1["content_block"]["type"], "redacted_thinking");
    assert!(events[7].1["content_block"]["data"].is_string());
    assert_eq!(events[9].1["index"], 2);
    assert_eq!(events[10].1["delta"]["type"], "text_delta");
}

#[tokio::test]
async fn errors_mid_stream_and_cut_streams() {
    let harness = start().await;
    let text = harness
        .anthropic("/v1/messages", &streamed(message_body()))
        .header("x-mock-error-after", "4")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = named_events(&text);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "error"
        ]
    );
    assert_eq!(
        events[4].1,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    assert!(text.ends_with(
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
    ));

    let text = harness
        .anthropic("/v1/messages", &streamed(message_body()))
        .header("x-mock-error-after", "1")
        .header("x-mock-error-type", "api_error")
        .header("x-mock-error-message", "Internal server error")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = named_events(&text);
    assert_eq!(
        events[1].1["error"],
        json!({"type": "api_error", "message": "Internal server error"})
    );

    // Cut after the last content event: everything but message_stop arrives, then the connection fails.
    let response = harness
        .anthropic("/v1/messages", &streamed(message_body()))
        .header("x-mock-disconnect-after", "100")
        .send()
        .await
        .unwrap();
    let (text, failed) = read_until_error(response).await;
    assert!(failed);
    assert!(text.contains("event: message_delta"));
    assert!(!text.contains("message_stop"));

    // Malformed: an event whose data is not JSON after message_start.
    let text = harness
        .anthropic("/v1/messages", &streamed(message_body()))
        .header("x-mock-malformed", "1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let second = text.split("\n\n").nth(1).unwrap();
    let data = second.split_once("data: ").unwrap().1;
    assert!(serde_json::from_str::<Value>(data).is_err());
    let whole = harness
        .anthropic("/v1/messages", &message_body())
        .header("x-mock-malformed", "1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(whole.starts_with("{\"id\": \"msg_malformed\""));
    assert!(serde_json::from_str::<Value>(&whole).is_err());
}

#[tokio::test]
async fn count_tokens_uses_the_usage_estimate() {
    let harness = start().await;
    let mut body = message_body();
    body["system"] = json!("Be brief.");
    body["tools"] = weather_tools();
    let usage: Value = harness
        .anthropic("/v1/messages", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let input_tokens = usage["usage"]["input_tokens"].as_u64().unwrap();

    body.as_object_mut().unwrap().remove("max_tokens");
    let counted = harness
        .anthropic("/v1/messages/count_tokens", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(counted.status(), 200);
    assert!(counted.headers().contains_key("request-id"));
    assert_eq!(
        counted.json::<Value>().await.unwrap(),
        json!({"input_tokens": input_tokens})
    );

    let forced: Value = harness
        .anthropic("/v1/messages/count_tokens", &body)
        .header("x-mock-prompt-tokens", "77")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(forced, json!({"input_tokens": 77}));

    let invalid = harness
        .anthropic("/v1/messages/count_tokens", &json!({"model": "m"}))
        .send()
        .await
        .unwrap();
    let (status, error) = error_of(invalid).await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["message"], "messages: Field required");
}

#[tokio::test]
async fn status_faults_render_anthropic_errors() {
    let harness = start().await;
    let response = harness
        .anthropic("/v1/messages", &message_body())
        .header("x-mock-status", "429")
        .header("x-mock-retry-after", "7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let headers = response.headers().clone();
    assert_eq!(headers["retry-after"], "7");
    assert_eq!(headers["anthropic-ratelimit-requests-remaining"], "0");
    assert!(headers.contains_key("anthropic-ratelimit-tokens-remaining"));
    let (_, body) = error_of(response).await;
    assert_anthropic_error(&body, "rate_limit_error");

    // Anthropic always sends retry-after on a 429.
    let response = harness
        .anthropic("/v1/messages", &message_body())
        .header("x-mock-status", "429")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "1");

    let overloaded = harness
        .anthropic("/v1/messages", &streamed(message_body()))
        .header("x-mock-status", "529")
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(overloaded).await;
    assert_eq!(status, 529);
    assert_eq!(
        body["error"],
        json!({"type": "overloaded_error", "message": "Overloaded"})
    );

    for (status, kind) in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (500, "api_error"),
        (504, "timeout_error"),
    ] {
        let response = harness
            .anthropic("/v1/messages", &message_body())
            .header("x-mock-status", status.to_string())
            .send()
            .await
            .unwrap();
        assert!(!response.headers().contains_key("retry-after"));
        let (actual, body) = error_of(response).await;
        assert_eq!(actual, status);
        assert_anthropic_error(&body, kind);
    }

    let response = harness
        .anthropic("/v1/messages", &message_body())
        .header("x-mock-status", "400")
        .header(
            "x-mock-error-message",
            "prompt is too long: 210000 tokens > 200000 maximum",
        )
        .send()
        .await
        .unwrap();
    let (_, body) = error_of(response).await;
    assert_eq!(
        body["error"]["message"],
        "prompt is too long: 210000 tokens > 200000 maximum"
    );

    // fail-times works per key, then the request succeeds.
    for expected in [529, 200] {
        let response = harness
            .anthropic("/v1/messages", &message_body())
            .header("x-mock-fail-times", "1")
            .header("x-mock-fail-key", "anthropic")
            .header("x-mock-status", "529")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected);
    }
}

#[tokio::test]
async fn scripts_replay_named_events() {
    let harness = start().await;
    let scripts = json!([
        {"path": "/v1/messages", "sse": [
            {"event": "message_start", "data": {"type": "message_start", "message": {"id": "msg_fixture"}}},
            {"event": "ping", "data": "{\"type\": \"ping\"}"},
            {"event": "message_stop", "data": {"type": "message_stop"}}
        ]},
        {"path": "/v1/messages", "status": 529, "json": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}}
    ]);
    let pushed = harness
        .client
        .post(harness.url("/__mock/script"))
        .json(&scripts)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200);
    let streamed = harness
        .anthropic("/v1/messages", &message_body())
        .send()
        .await
        .unwrap();
    assert!(streamed.headers().contains_key("request-id"));
    assert_eq!(
        streamed.text().await.unwrap(),
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_fixture\"}}\n\n\
         event: ping\ndata: {\"type\": \"ping\"}\n\n\
         event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
    );
    // Scripts come before auth, like on every route.
    let overloaded = harness
        .client
        .post(harness.url("/v1/messages"))
        .json(&message_body())
        .send()
        .await
        .unwrap();
    assert_eq!(overloaded.status(), 529);

    harness
        .server
        .state()
        .push_script(ScriptedResponse::sse(vec![
            json!({"event": "message_stop", "data": {"type": "message_stop"}}),
        ]));
    let text = harness
        .anthropic("/v1/messages", &message_body())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        text,
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
    );
}

#[tokio::test]
async fn timing_controls_pace_anthropic_streams() {
    let harness = start().await;
    let started = std::time::Instant::now();
    let response = harness
        .anthropic("/v1/messages", &streamed(message_body()))
        .header("x-mock-ttft-ms", "150")
        .header("x-mock-chunk-interval-ms", "10")
        .header("x-mock-chunk-count", "2")
        .send()
        .await
        .unwrap();
    let headers_after = started.elapsed();
    let text = response.text().await.unwrap();
    let total = started.elapsed();
    assert!(
        headers_after < std::time::Duration::from_millis(150),
        "{headers_after:?}"
    );
    // Eight events: the first after the ttft, seven more 10 ms apart.
    assert_eq!(named_events(&text).len(), 8);
    assert!(total >= std::time::Duration::from_millis(215), "{total:?}");
}
