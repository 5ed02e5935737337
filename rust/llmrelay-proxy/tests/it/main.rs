//! End-to-end: the proxy on a real port in front of the project's mock upstream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::time::Duration;

use futures::StreamExt;
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_proxy::Proxy;
use llmrelay_proxy::config::{RawConfig, parse_yaml};
use serde_json::{Value, json};

const KEY: &str = "sk-test-master-0123456789";

struct Harness {
    mock: MockServer,
    base: String,
    client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: tokio::sync::oneshot::Receiver<()>,
}

async fn start(extra_yaml: &str) -> Harness {
    start_with(extra_yaml, &llmrelay_pipeline::Layers::new()).await
}

async fn start_with(extra_yaml: &str, layers: &llmrelay_pipeline::Layers) -> Harness {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let mock_base = mock.base_url();
    let api_base = format!("{mock_base}/v1");
    let yaml = format!(
        r"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {api_base}
      api_key: sk-test
  - model_name: embed
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: {api_base}
      api_key: sk-test
    model_info:
      mode: embedding
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-20250514
      api_base: {mock_base}
      api_key: sk-ant-test
  - model_name: instruct
    litellm_params:
      model: text-completion-openai/gpt-3.5-turbo-instruct
      api_base: {api_base}
      api_key: sk-test
general_settings:
  master_key: {KEY}
{extra_yaml}
"
    );
    let config = RawConfig::from_document(parse_yaml(&yaml).unwrap())
        .resolve()
        .unwrap();
    let proxy = Proxy::from_config_with_layers(&config, None, layers)
        .unwrap()
        .with_keep_alive(Duration::from_millis(200));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (stopped_tx, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        proxy
            .serve(
                listener,
                async {
                    let _ = rx.await;
                },
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        let _ = stopped_tx.send(());
    });
    Harness {
        mock,
        base,
        client: llmrelay_providers::http::client().clone(),
        shutdown: Some(tx),
        stopped,
    }
}

impl Harness {
    fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .json(body)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(KEY)
    }
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "Hello there"}]})
}

#[tokio::test]
async fn chat_whole_with_headers() {
    let h = start("").await;
    let response = h
        .post("/v1/chat/completions", &chat("gpt-4o"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    for name in [
        "x-litellm-call-id",
        "x-litellm-model-id",
        "x-litellm-model-api-base",
        "x-litellm-response-cost",
        "x-litellm-overhead-duration-ms",
        "x-ratelimit-remaining-requests",
    ] {
        assert!(headers.contains_key(name), "missing {name}: {headers:?}");
    }
    assert!(
        headers["x-litellm-model-api-base"]
            .to_str()
            .unwrap()
            .starts_with("http://127.0.0.1")
    );
    assert_eq!(headers["x-litellm-model-name"], "openai/gpt-4o-mini");
    assert_eq!(headers["x-litellm-attempted-fallbacks"], "0");
    assert!(headers.contains_key("llm_provider-x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["model"], "gpt-4o");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .starts_with("This is a mock")
    );
    // The deployment's model and key went upstream, not the proxy key.
    let recorded = h.mock.state().requests();
    let last = recorded.last().unwrap();
    assert_eq!(last.body["model"], "gpt-4o-mini");
    assert_eq!(last.headers["authorization"], "Bearer sk-test");
    // Azure-style path form.
    let response = h
        .post(
            "/openai/deployments/gpt-4o/chat/completions",
            &json!({"messages": [{"role": "user", "content": "x"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn auth_is_required_and_checked() {
    let h = start("").await;
    let url = format!("{}/v1/chat/completions", h.base);
    let response = h
        .client
        .post(&url)
        .json(&chat("gpt-4o"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("x-litellm-call-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "auth_error");
    assert_eq!(
        body["error"]["message"],
        "Authentication Error, No api key passed in."
    );
    let response = h
        .client
        .post(&url)
        .bearer_auth("sk-wrong-key-000000000")
        .json(&chat("gpt-4o"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = h
        .client
        .post(&url)
        .header("x-api-key", KEY)
        .json(&chat("gpt-4o"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Probes stay open.
    let response = h
        .client
        .get(format!("{}/health/liveliness", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!("I'm alive!"));
    let readiness: Value = h
        .client
        .get(format!("{}/health/readiness", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(readiness["status"], "healthy");
}

#[tokio::test]
async fn bad_requests_are_4xx_openai_errors() {
    let h = start("  max_request_size_mb: 0.001\n").await;
    let response = h
        .post("/v1/chat/completions", &chat("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "/chat/completions: Invalid model name passed in model=nope. Call `/v1/models` to view available models for your key."
    );
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "400");
    let response = h
        .client
        .post(format!("{}/v1/chat/completions", h.base))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{\"model\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid JSON")
    );
    let response = h
        .post(
            "/v1/chat/completions",
            &json!({"model": "gpt-4o", "messages": "hi"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = h
        .post("/v1/chat/completions", &json!({"model": 5, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = h
        .post("/v1/chat/completions", &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x".repeat(5000)}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "413"
    );
    let response = h
        .post("/v1/chat/completions", &json!({"model": "gpt-4o", "api_base": "http://evil", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    // LiteLLM's `is_request_body_safe`: refused at the key check (tests/it/body_safety.rs).
    assert_eq!(response.status(), 401);
    let response = h
        .post(
            "/openai/chat/completions",
            &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x".repeat(5000)}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let response = h.get("/v1/nothing-here").send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.json::<Value>().await.unwrap()["error"]["message"].is_string());
}

#[tokio::test]
async fn upstream_errors_keep_their_status() {
    let h = start("").await;
    let mut body = chat("gpt-4o");
    body["extra_headers"] = json!({"x-mock-status": "429"});
    let response = h.post("/v1/chat/completions", &body).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "rate_limit_error");
    let metrics = h
        .client
        .get(format!("{}/metrics", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("exception_class=\"rate_limit\""),
        "{metrics}"
    );
}

async fn sse_text(response: reqwest::Response) -> String {
    String::from_utf8(response.bytes().await.unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn chat_stream_and_metrics() {
    let h = start("").await;
    let mut body = chat("gpt-4o");
    body["stream"] = json!(true);
    let response = h.post("/v1/chat/completions", &body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert!(response.headers().contains_key("x-litellm-model-id"));
    let text = sse_text(response).await;
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let chunks: Vec<Value> = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(chunks.len() >= 8);
    assert!(chunks.iter().all(|c| c["model"] == "gpt-4o"));
    // The usage chunk the proxy asked for is not shown to a client that did not ask.
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"].as_array().is_some_and(|a| !a.is_empty()))
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let metrics = h
        .client
        .get(format!("{}/metrics", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("litellm_proxy_total_requests_metric_total{model_group=\"gpt-4o\",route=\"/chat/completions\",status_code=\"200\"} 1"), "{metrics}");
    assert!(metrics.contains("litellm_output_tokens_metric_total{model_group=\"gpt-4o\"}"));
    assert!(metrics.contains("litellm_in_flight_requests 0"));
}

#[tokio::test]
async fn keep_alive_comments_while_upstream_is_quiet() {
    let h = start("").await;
    let mut body = chat("gpt-4o");
    body["stream"] = json!(true);
    body["extra_headers"] = json!({"x-mock-chunk-interval-ms": "500", "x-mock-chunk-count": "2"});
    let text = sse_text(h.post("/v1/chat/completions", &body).send().await.unwrap()).await;
    assert!(text.contains(": keep-alive\n\n"), "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn client_disconnect_cancels_upstream_and_records_usage() {
    let h = start("").await;
    let mut body = chat("gpt-4o");
    body["stream"] = json!(true);
    body["extra_headers"] = json!({"x-mock-chunk-interval-ms": "300", "x-mock-chunk-count": "20"});
    let response = h.post("/v1/chat/completions", &body).send().await.unwrap();
    let mut stream = response.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    drop(stream);
    // The proxy notices at its next write; the books close then.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let metrics = h
        .client
        .get(format!("{}/metrics", h.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("litellm_in_flight_requests 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("litellm_total_tokens_metric_total{model_group=\"gpt-4o\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("litellm_request_total_latency_metric_count{model_group=\"gpt-4o\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn embeddings_completions_models_and_info() {
    let h = start("").await;
    let body: Value = h
        .post(
            "/v1/embeddings",
            &json!({"model": "embed", "input": ["a", "b"]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["model"], "embed");
    let body: Value = h
        .post(
            "/v1/completions",
            &json!({"model": "instruct", "prompt": "Say hi"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["object"], "text_completion");
    let models: Value = h
        .get("/v1/models")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gpt-4o", "embed", "claude", "instruct"]);
    // Facts from the price map, as LiteLLM lists them.
    assert_eq!(models["data"][0]["mode"], "chat");
    assert_eq!(models["data"][1]["mode"], "embedding");
    assert!(models["data"][0]["max_input_tokens"].as_u64().unwrap() > 0);
    let info: Value = h
        .get("/model/info")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = &info["data"][0];
    assert_eq!(first["model_name"], "gpt-4o");
    assert!(first["litellm_params"].get("api_key").is_none());
    assert_eq!(first["model_info"]["id"].as_str().unwrap().len(), 64);
    assert!(
        first["model_info"]["input_cost_per_token"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let health: Value = h
        .get("/health?model=gpt-4o")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["healthy_count"], 1);
    assert!(health["healthy_endpoints"][0].get("api_key").is_none());
    let spec: Value = h
        .client
        .get(format!("{}/openapi.json", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/v1/messages"]["post"].is_object());
}

#[tokio::test]
async fn anthropic_messages_whole_and_streamed() {
    let h = start("").await;
    let request = json!({
        "model": "claude", "max_tokens": 256,
        "tools": [{"name": "get_weather", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}],
        "messages": [{"role": "user", "content": "Weather in Paris?"}]
    });
    let response = h.post("/v1/messages", &request).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let message: Value = response.json().await.unwrap();
    assert_eq!(message["type"], "message");
    assert_eq!(message["model"], "claude");
    assert_eq!(message["stop_reason"], "tool_use");
    let tool = message["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "tool_use")
        .unwrap();
    assert_eq!(tool["input"]["location"], "mock");
    // Same request through an OpenAI deployment, streamed.
    let mut streamed = request.clone();
    streamed["model"] = json!("gpt-4o");
    streamed["stream"] = json!(true);
    let text = sse_text(h.post("/v1/messages", &streamed).send().await.unwrap()).await;
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(kinds.first(), Some(&"message_start"));
    assert_eq!(kinds.last(), Some(&"message_stop"));
    assert!(kinds.contains(&"content_block_start"));
    assert!(text.contains("input_json_delta"), "{text}");
    assert!(text.contains("\"stop_reason\":\"tool_use\""));
    // Errors in Anthropic's envelope.
    let response = h
        .post(
            "/v1/messages",
            &json!({"model": "claude", "messages": [{"role": "user", "content": "x"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    let response = h.post("/v1/messages", &json!({"model": "nope", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})).send().await.unwrap();
    let error: Value = response.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("anthropic_messages: Invalid model name passed in model=nope.")
    );
    let response = h
        .client
        .post(format!("{}/v1/messages", h.base))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["type"],
        "authentication_error"
    );
    let count: Value = h
        .post(
            "/v1/messages/count_tokens",
            &json!({"model": "claude", "messages": [{"role": "user", "content": "Hello there"}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(count["input_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn responses_bridge() {
    let h = start("").await;
    let response: Value = h
        .post(
            "/v1/responses",
            &json!({"model": "gpt-4o", "input": "Hello", "instructions": "be brief"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["object"], "response");
    assert_eq!(response["status"], "completed");
    assert!(
        response["output"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("This is a mock")
    );
    let response = h
        .post(
            "/v1/responses",
            &json!({"model": "gpt-4o", "input": "Hello", "stream": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = sse_text(response).await;
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(kinds.first(), Some(&"response.created"));
    assert_eq!(kinds.last(), Some(&"response.completed"));
    assert!(text.contains("This is a mock response from llmrelay-mock."));
}

#[tokio::test]
async fn passthrough_injects_the_provider_key() {
    let h = start("").await;
    let response = h
        .client
        .post(format!("{}/openai/chat/completions", h.base))
        .bearer_auth(KEY)
        .json(&chat("gpt-4o-mini"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let recorded = h.mock.state().requests();
    let last = recorded.last().unwrap();
    assert_eq!(last.path, "/v1/chat/completions");
    assert_eq!(last.headers["authorization"], "Bearer sk-test");
    let response = h
        .client
        .get(format!("{}/openai/models", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn graceful_shutdown_drains_streams() {
    let mut h = start("").await;
    let mut body = chat("gpt-4o");
    body["stream"] = json!(true);
    body["extra_headers"] = json!({"x-mock-chunk-interval-ms": "100", "x-mock-chunk-count": "6"});
    let response = h.post("/v1/chat/completions", &body).send().await.unwrap();
    let mut stream = response.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    let _ = h.shutdown.take().unwrap().send(());
    let mut rest = Vec::new();
    while let Some(piece) = stream.next().await {
        rest.extend_from_slice(&piece.unwrap());
    }
    assert!(
        String::from_utf8(rest)
            .unwrap()
            .ends_with("data: [DONE]\n\n")
    );
    tokio::time::timeout(Duration::from_secs(5), &mut h.stopped)
        .await
        .unwrap()
        .unwrap();
    // No new connections once draining is over.
    assert!(
        h.client
            .get(format!("{}/health/liveliness", h.base))
            .send()
            .await
            .is_err()
    );
}

/// A dispatcher that panics: the server must answer 500 in OpenAI's shape, not drop the
/// connection. Also shows a custom `Dispatch` plugged in (as the Router will be).
struct Panicking;

impl llmrelay_pipeline::Dispatch for Panicking {
    fn dispatch<'a>(
        &'a self,
        _call: &'a llmrelay_pipeline::Call,
        _attempts: llmrelay_pipeline::Attempts<'a>,
    ) -> futures::future::BoxFuture<'a, llmrelay_core::Result<llmrelay_pipeline::Dispatched>> {
        Box::pin(async { panic!("boom") })
    }
}

impl llmrelay_proxy::Dispatch for Panicking {
    fn has_model(&self, _model: &str) -> bool {
        true
    }
    fn underlying_model(&self, model: &str) -> Option<String> {
        Some(model.to_owned())
    }
    fn model_list(&self) -> Vec<llmrelay_proxy::ModelEntry> {
        Vec::new()
    }
    fn health_check(
        &self,
        _model: Option<String>,
    ) -> futures::future::BoxFuture<'static, llmrelay_proxy::HealthReport> {
        Box::pin(async { llmrelay_proxy::HealthReport::default() })
    }
}

fn request(method: &str, uri: &str, body: &Value) -> http::Request<axum::body::Body> {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn a_panic_is_a_500_json_error_and_readiness_reports_draining() {
    use tower::ServiceExt;
    let config = RawConfig::from_document(
        parse_yaml(&format!("general_settings:\n  master_key: {KEY}\n")).unwrap(),
    )
    .resolve()
    .unwrap();
    let proxy = Proxy::with_dispatch(&config, std::sync::Arc::new(Panicking), None).unwrap();
    let response = proxy
        .router()
        .oneshot(request("POST", "/v1/chat/completions", &chat("any")))
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "500");
    proxy
        .state()
        .shutting_down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let response = proxy
        .router()
        .oneshot(request("GET", "/health/readiness", &Value::Null))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn request_timeout_applies_and_headers_override_it() {
    // No retries: the Router would otherwise retry the timed-out call (as LiteLLM's does).
    let h =
        start("litellm_settings:\n  request_timeout: 0.3\nrouter_settings:\n  num_retries: 0\n")
            .await;
    let mut body = chat("gpt-4o");
    body["extra_headers"] = json!({"x-mock-latency-ms": "1500"});
    let started = std::time::Instant::now();
    let response = h.post("/v1/chat/completions", &body).send().await.unwrap();
    assert_eq!(response.status(), 408);
    assert!(started.elapsed() < Duration::from_millis(1200));
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "timeout");
    // A longer per-request limit (LiteLLM's header) lets the slow answer through.
    let response = h
        .post("/v1/chat/completions", &body)
        .header("x-litellm-timeout", "5")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The standalone binary: `environment_variables` reach `os.environ/` references (through its
/// one re-exec), and a weak master key stops it at start.
#[tokio::test]
async fn binary_exports_environment_variables() {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let directory = std::env::temp_dir().join(format!("llmrelay-bin-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&directory).unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = directory.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o-mini\n      api_base: os.environ/BIN_TEST_BASE\n      api_key: sk-test\ngeneral_settings:\n  master_key: os.environ/BIN_TEST_KEY\nenvironment_variables:\n  BIN_TEST_BASE: {}/v1\n  BIN_TEST_KEY: {KEY}\n",
            mock.base_url()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_llmrelay-proxy"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .env_remove("LITELLM_MASTER_KEY")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = llmrelay_providers::http::client();
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let mut answer = None;
    for _ in 0..200 {
        if let Ok(response) = client
            .post(&url)
            .bearer_auth(KEY)
            .json(&chat("gpt-4o"))
            .send()
            .await
        {
            answer = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(answer.expect("the binary did not start").status(), 200);
    std::fs::write(&config, "general_settings:\n  master_key: sk-1234\n").unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_llmrelay-proxy"))
        .args(["--config", config.to_str().unwrap(), "--port", "0"])
        .env_remove("LITELLM_MASTER_KEY")
        .env_remove("LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY")
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    std::fs::remove_dir_all(directory).unwrap();
}

mod alerting;
mod body_safety;
mod cache;
mod cli;
mod enforced;
mod files;
mod focus;
mod governance;
mod guardrails;
mod operations;
mod passthrough;
mod routes;
mod secrets;
mod shared_state;
mod support;
mod tags;

/// The pipeline's probe layers on proxy calls: rejected in the OpenAI error shape, answered at
/// once (whole and as SSE), streams transformed in every dialect, a task beside the call
/// cancelling it, and a client that disconnects mid-stream booked exactly once.
#[tokio::test]
async fn pipeline_layers_on_proxy_calls() {
    use llmrelay_pipeline::probes::{self, Journal};
    let journal = std::sync::Arc::new(Journal::default());
    let h = start_with("", &probes::all(&journal)).await;
    let with_probe = |probe: Value, stream: bool| {
        json!({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "Hello there"}],
               "metadata": {"probe": probe}})
    };
    // Reject.
    let response = h
        .post(
            "/v1/chat/completions",
            &with_probe(json!({"reject": "no entry"}), false),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["message"], "no entry");
    assert_eq!(body["error"]["code"], "403");
    // Answered at once, whole and streamed; nothing reaches the upstream.
    h.mock.state().clear_requests();
    let body: Value = h
        .post(
            "/v1/chat/completions",
            &with_probe(json!({"answer": "from a layer"}), false),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "from a layer");
    let text = h
        .post(
            "/v1/chat/completions",
            &with_probe(json!({"cached": "replayed"}), true),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("\"content\":\"replayed\"") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    assert!(h.mock.state().requests().is_empty());
    // Streams transformed, in the OpenAI and the Anthropic dialect.
    let text = h
        .post(
            "/v1/chat/completions",
            &with_probe(json!({"shout": true}), true),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("\"THIS ") && !text.contains("This"), "{text}");
    let text = h
        .post(
            "/v1/messages",
            &json!({"model": "gpt-4o", "max_tokens": 64, "stream": true, "metadata": {"probe": {"shout": true}},
                    "messages": [{"role": "user", "content": "Hello"}]}),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("\"THIS ") && !text.contains("This") && text.contains("event: message_stop"),
        "{text}"
    );
    // A task beside the upstream call cancels it.
    let started = std::time::Instant::now();
    let mut slow = with_probe(json!({"cancel_after_ms": 50}), false);
    slow["extra_headers"] = json!({"x-mock-latency-ms": "3000"});
    let response = h.post("/v1/chat/completions", &slow).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(started.elapsed() < Duration::from_secs(2));
    // A client that goes away mid-stream: booked once, as cancelled.
    let before = journal.matching("books").len();
    let mut long = with_probe(json!({}), true);
    long["extra_headers"] = json!({"x-mock-chunk-count": "50", "x-mock-chunk-interval-ms": "20"});
    let response = h.post("/v1/chat/completions", &long).send().await.unwrap();
    let mut body = response.bytes_stream();
    body.next().await.unwrap().unwrap();
    drop(body);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while journal.matching("books").len() == before && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let books = journal.matching("books");
    assert_eq!(books.len(), before + 1, "{books:?}");
    assert!(
        books.last().unwrap().starts_with("books cancelled"),
        "{books:?}"
    );
}
