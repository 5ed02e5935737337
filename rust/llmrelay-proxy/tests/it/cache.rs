//! Issue 15: `litellm_settings.cache` — a repeated request is answered from the cache
//! without reaching the upstream (whole and streamed, memory and Redis), with LiteLLM's
//! headers, and the cache routes.

use std::time::Duration;

use serde_json::{Value, json};

use llmrelay_proxy::config::{RawConfig, parse_yaml};

use crate::support::redis_available;
use crate::{Harness, chat, start};

fn content(body: &Value) -> String {
    body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The SSE data lines' JSON (without `[DONE]`), and whether `[DONE]` ended the stream.
fn sse(text: &str) -> (Vec<Value>, bool) {
    let events: Vec<Value> = text
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    (events, text.ends_with("data: [DONE]\n\n"))
}

fn streamed_text(events: &[Value]) -> String {
    events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect()
}

async fn send(h: &Harness, body: &Value) -> (reqwest::header::HeaderMap, Value) {
    let response = h.post("/v1/chat/completions", body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    (headers, response.json().await.unwrap())
}

const MEMORY: &str = "litellm_settings:\n  cache: true\n  cache_params:\n    type: local\n";

#[tokio::test]
async fn a_repeated_request_is_served_from_memory_with_litellm_headers() {
    let h = start(MEMORY).await;
    let (first_headers, first) = send(&h, &chat("gpt-4o")).await;
    assert!(!first_headers.contains_key("x-litellm-cache-key"));
    let (headers, second) = send(&h, &chat("gpt-4o")).await;
    assert_eq!(content(&second), content(&first));
    assert_eq!(second["id"], first["id"], "the cached answer as it was");
    let key = headers["x-litellm-cache-key"].to_str().unwrap().to_owned();
    assert_eq!(key.len(), 64);
    assert_eq!(headers["x-litellm-response-cost"], "0");
    assert_eq!(h.mock.state().requests().len(), 1, "one upstream call");
    // Another body is another key; `cache: {no-cache}` in the body skips the lookup.
    let mut other = chat("gpt-4o");
    other["temperature"] = json!(0.5);
    send(&h, &other).await;
    let mut no_cache = chat("gpt-4o");
    no_cache["cache"] = json!({"no-cache": true});
    let (headers, _) = send(&h, &no_cache).await;
    assert!(!headers.contains_key("x-litellm-cache-key"));
    assert_eq!(h.mock.state().requests().len(), 3);
}

#[tokio::test]
async fn a_cache_control_s_maxage_header_is_the_stored_answers_ttl() {
    let h = start(MEMORY).await;
    let ask = |body: Value, header: Option<&'static str>| {
        let mut request = h.post("/v1/chat/completions", &body);
        if let Some(value) = header {
            request = request.header("cache-control", value);
        }
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.headers().contains_key("x-litellm-cache-key")
        }
    };
    let mut short = chat("gpt-4o");
    short["messages"][0]["content"] = json!("kept for one second");
    let kept = chat("gpt-4o");
    assert!(!ask(short.clone(), Some("no-cache, s-maxage=1")).await);
    assert!(!ask(kept.clone(), Some("no-cache")).await);
    // The header's other directives are not read (as in LiteLLM): this is a hit.
    assert!(ask(short.clone(), Some("no-cache")).await);
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert!(!ask(short, None).await, "stored for s-maxage seconds");
    assert!(ask(kept, None).await, "no s-maxage: the cache's own TTL");
    assert_eq!(h.mock.state().requests().len(), 3);
}

#[tokio::test]
async fn a_cached_stream_is_replayed_as_sse() {
    let h = start(MEMORY).await;
    let mut body = chat("gpt-4o");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let mut texts = Vec::new();
    for _ in 0..2 {
        let response = h.post("/v1/chat/completions", &body).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let (events, done) = sse(&text);
        assert!(done, "{text}");
        assert!(events.iter().any(|e| e["usage"].is_object()), "{text}");
        assert!(
            events
                .iter()
                .all(|e| e["object"] == "chat.completion.chunk")
        );
        texts.push(streamed_text(&events));
    }
    assert!(!texts[0].is_empty());
    assert_eq!(texts[0], texts[1]);
    assert_eq!(
        h.mock.state().requests().len(),
        1,
        "the replay never went upstream"
    );
}

#[tokio::test]
async fn cache_routes_ping_delete_and_flush() {
    let h = start(MEMORY).await;
    let ping: Value = h
        .get("/cache/ping")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ping["status"], "healthy");
    assert_eq!(ping["cache_type"], "local");
    send(&h, &chat("gpt-4o")).await;
    let (headers, _) = send(&h, &chat("gpt-4o")).await;
    let key = headers["x-litellm-cache-key"].to_str().unwrap().to_owned();
    let deleted: Value = h
        .post("/cache/delete", &json!({"keys": [key]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deleted["status"], "success");
    assert_eq!(deleted["deleted"], 1);
    let (headers, _) = send(&h, &chat("gpt-4o")).await;
    assert!(!headers.contains_key("x-litellm-cache-key"), "deleted");
    let flushed = h.post("/cache/flushall", &json!({})).send().await.unwrap();
    assert_eq!(flushed.status(), 200);
    let (headers, _) = send(&h, &chat("gpt-4o")).await;
    assert!(!headers.contains_key("x-litellm-cache-key"), "flushed");
    assert_eq!(h.mock.state().requests().len(), 3);
    let bad = h
        .post("/cache/delete", &json!({"nope": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let info = h.get("/cache/redis/info").send().await.unwrap();
    assert_eq!(info.status(), 400, "not a Redis cache");
}

#[tokio::test]
async fn without_a_cache_the_routes_say_so() {
    let h = start("").await;
    let ping = h.get("/cache/ping").send().await.unwrap();
    assert_eq!(ping.status(), 503);
    let body: Value = ping.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Cache not initialized")
    );
    let (headers, _) = send(&h, &chat("gpt-4o")).await;
    assert!(!headers.contains_key("x-litellm-cache-key"));
}

#[test]
fn an_unknown_or_unbuilt_cache_type_fails_at_start_up() {
    for (kind, expected) in [
        (
            "memcached",
            "cache_params.type: unknown cache type 'memcached'",
        ),
        ("gcs", "cache_params.type: the 'gcs' cache is not built"),
        (
            "s3",
            "cache_params.s3_bucket_name: an s3 cache needs a bucket name",
        ),
    ] {
        let yaml = format!(
            "model_list: []\nlitellm_settings:\n  cache: true\n  cache_params:\n    type: {kind}\n"
        );
        let error = RawConfig::from_document(parse_yaml(&yaml).unwrap())
            .resolve()
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains(&format!("litellm_settings.{expected}")),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_redis_cache_is_shared_through_redis() {
    if !redis_available("a_redis_cache_is_shared_through_redis") {
        return;
    }
    let namespace = format!("proxy-it-{}", llmrelay_core::ids::uuid());
    let h = start(&format!(
        "litellm_settings:\n  cache: true\n  cache_params:\n    type: redis\n    host: 127.0.0.1\n    port: 6379\n    ttl: 60\n    namespace: {namespace}\n"
    ))
    .await;
    send(&h, &chat("gpt-4o")).await;
    // The write goes through the delivery queue: wait for it to land.
    let mut hit = None;
    for _ in 0..50 {
        let (headers, _) = send(&h, &chat("gpt-4o")).await;
        if let Some(key) = headers.get("x-litellm-cache-key") {
            hit = Some(key.to_str().unwrap().to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let key = hit.expect("a hit from Redis");
    assert!(key.starts_with(&format!("{namespace}:")));
    let ping: Value = h
        .get("/cache/ping")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ping["cache_type"], "redis");
    let info: Value = h
        .get("/cache/redis/info")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(info["info"]["redis_version"].is_string(), "{info}");
    let deleted: Value = h
        .post("/cache/delete", &json!({"keys": [key]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deleted["deleted"], 1);
}

#[tokio::test]
async fn two_proxies_with_a_dual_cache_share_answers_through_redis() {
    if !redis_available("two_proxies_with_a_dual_cache_share_answers_through_redis") {
        return;
    }
    let namespace = format!("proxy-dual-{}", llmrelay_core::ids::uuid());
    let config = format!(
        "litellm_settings:\n  cache: true\n  cache_params:\n    type: dual\n    host: 127.0.0.1\n    port: 6379\n    ttl: 60\n    namespace: {namespace}\n"
    );
    let (one, two) = (start(&config).await, start(&config).await);
    send(&one, &chat("gpt-4o")).await;
    let (headers, _) = send(&one, &chat("gpt-4o")).await;
    assert!(
        headers.contains_key("x-litellm-cache-key"),
        "the repeat is answered from the first proxy's memory"
    );
    // The second proxy never stores its own answer here (`no-store`): a hit there can only
    // have come through Redis.
    let mut body = chat("gpt-4o");
    body["cache"] = json!({"no-store": true});
    let mut shared = false;
    for _ in 0..50 {
        let (headers, _) = send(&two, &body).await;
        if headers.contains_key("x-litellm-cache-key") {
            shared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        shared,
        "the second proxy reads the first one's answer from Redis"
    );
    let ping: Value = two
        .get("/cache/ping")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ping["cache_type"], "dual");
    let info = two.get("/cache/redis/info").send().await.unwrap();
    assert_eq!(info.status(), 200);
}

#[tokio::test]
async fn a_cache_that_fails_serves_the_call_and_counts_the_error() {
    // Nothing listens on port 1: every lookup fails.
    let h = start(
        "litellm_settings:\n  cache: true\n  cache_params:\n    type: redis\n    url: redis://127.0.0.1:1\n",
    )
    .await;
    for _ in 0..2 {
        let (headers, body) = send(&h, &chat("gpt-4o")).await;
        assert!(!headers.contains_key("x-litellm-cache-key"));
        assert!(!content(&body).is_empty());
    }
    let metrics = h
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let errors: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("llmrelay_cache_errors_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no cache error series in {metrics}"));
    assert!(errors >= 2, "{errors}");
}

#[tokio::test]
async fn a_redis_semantic_cache_embeds_through_the_router() {
    if !redis_available("a_redis_semantic_cache_embeds_through_the_router") {
        return;
    }
    let index = format!("proxy-it-{}", llmrelay_core::ids::uuid());
    let h = start(&format!(
        "litellm_settings:\n  cache: true\n  cache_params:\n    type: redis-semantic\n    host: 127.0.0.1\n    port: 6379\n    similarity_threshold: 0.9\n    redis_semantic_cache_embedding_model: embed\n    redis_semantic_cache_index_name: {index}\n"
    ))
    .await;
    let plain = chat("gpt-4o");
    let mut parts = chat("gpt-4o");
    parts["messages"][0]["content"] = json!([{"type": "text", "text": "Hello there"}]);
    send(&h, &plain).await;
    // The answer reaches the shared index off the call's path: wait for it.
    let mut hit = None;
    for _ in 0..50 {
        let (headers, _) = send(&h, &parts).await;
        if headers.contains_key("x-litellm-cache-key") {
            hit = Some(headers);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hit = hit.expect("the same prompt in another body is a semantic hit");
    // LiteLLM's header with the similarity of the match.
    let similarity: f64 = hit["x-litellm-semantic-similarity"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(similarity > 0.99, "{similarity}");
    let requests = h.mock.state().requests();
    let embeddings: Vec<_> = requests
        .iter()
        .filter(|r| r.path.ends_with("/embeddings"))
        .collect();
    assert!(!embeddings.is_empty());
    assert!(
        embeddings
            .iter()
            .all(|r| r.body["model"] == "text-embedding-3-small"),
        "the Router's `embed` deployment embeds the prompts"
    );
    let ping: Value = h
        .get("/cache/ping")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ping["cache_type"], "redis-semantic");
    let flushed = h.post("/cache/flushall", &json!({})).send().await.unwrap();
    assert_eq!(flushed.status(), 200);
}

#[tokio::test]
async fn a_qdrant_semantic_cache_embeds_through_the_router() {
    let qdrant = llmrelay_mock::MockServer::start(
        "127.0.0.1:0".parse().unwrap(),
        llmrelay_mock::MockConfig::default(),
    )
    .await
    .unwrap();
    let collection = format!("proxy-it-{}", llmrelay_core::ids::uuid());
    let h = start(&format!(
        "litellm_settings:\n  cache: true\n  cache_params:\n    type: qdrant-semantic\n    qdrant_api_base: {}\n    qdrant_collection_name: {collection}\n    similarity_threshold: 0.9\n    qdrant_semantic_cache_embedding_model: embed\n",
        qdrant.base_url()
    ))
    .await;
    let plain = chat("gpt-4o");
    let mut parts = chat("gpt-4o");
    parts["messages"][0]["content"] = json!([{"type": "text", "text": "Hello there"}]);
    let (_, first) = send(&h, &plain).await;
    // The answer reaches the collection off the call's path: wait for it.
    let mut hit = None;
    for _ in 0..50 {
        let (headers, body) = send(&h, &parts).await;
        if headers.contains_key("x-litellm-cache-key") {
            hit = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hit = hit.expect("the same prompt in another body is a semantic hit");
    assert_eq!(content(&hit), content(&first));
    let points = qdrant.state().qdrant_points(&collection).unwrap();
    // Lookups that ran before the first answer landed stored their own (another key).
    assert!(!points.is_empty());
    assert!(points.iter().all(|p| p.payload["text"] == "Hello there"));
    let requests = h.mock.state().requests();
    let embeddings: Vec<_> = requests
        .iter()
        .filter(|r| r.path.ends_with("/embeddings"))
        .collect();
    assert!(!embeddings.is_empty());
    assert!(
        embeddings
            .iter()
            .all(|r| r.body["model"] == "text-embedding-3-small"),
        "the Router's `embed` deployment embeds the prompts"
    );
    let ping: Value = h
        .get("/cache/ping")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ping["cache_type"], "qdrant-semantic");
    assert_eq!(
        ping["litellm_cache_params"]["location"],
        format!("{} {collection}", qdrant.base_url())
    );
    let flushed = h.post("/cache/flushall", &json!({})).send().await.unwrap();
    assert_eq!(flushed.status(), 200);
    assert!(
        qdrant
            .state()
            .qdrant_points(&collection)
            .unwrap()
            .is_empty()
    );
}
