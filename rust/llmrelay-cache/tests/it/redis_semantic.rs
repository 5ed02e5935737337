//! `redis-semantic`: prompts embedded by a configured embedding model (the mock's OpenAI
//! embeddings here), vectors shared between instances through a Redis stream on plain Redis
//! (no search module): an answer stored by one cache is found by another, an unrelated
//! prompt is not, deletes and flushes reach every instance, and a Redis that is down never
//! fails a call.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use llmrelay_cache::{Cache, CacheParams};
use llmrelay_mock::MockServer;
use llmrelay_pipeline::Pipeline;

use super::{cache, map, params, redis_up, server, whole};

fn semantic_params(server: &MockServer, index: &str, url: &str) -> Value {
    json!({
        "type": "redis-semantic", "url": url, "similarity_threshold": 0.95,
        "redis_semantic_cache_embedding_model": "openai/text-embedding-3-small",
        "redis_semantic_cache_index_name": index,
        "embedding_params": {"api_base": format!("{}/v1", server.base_url()),
                             "api_key": "sk-test"},
    })
}

fn ask(server: &MockServer, text: &str) -> serde_json::Map<String, Value> {
    params(
        server,
        json!({"messages": [{"role": "user", "content": text}]}),
    )
}

fn calls_to(server: &MockServer, path: &str) -> usize {
    server
        .state()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(path))
        .count()
}

/// Sync `cache` from the stream until its index holds `len` answers.
async fn synced_to(cache: &Cache, len: usize) {
    let store = cache.semantic().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        store.sync().await.unwrap();
        if store.index().unwrap().len() == len {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "index has {} answers, not {len}",
            store.index().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_instances_share_answers_deletes_and_flushes_through_redis() {
    if !redis_up().await {
        return;
    }
    let server = server().await;
    let index = format!("it-{}", llmrelay_core::ids::uuid());
    let config = semantic_params(&server, &index, "redis://127.0.0.1:6379");
    let (a, b) = (cache(config.clone()), cache(config));
    let (pipeline_a, pipeline_b) = (Pipeline::new(a.layers()), Pipeline::new(b.layers()));

    let first = whole(&pipeline_a, ask(&server, "What is the capital of France?")).await;
    assert!(!first.cache_hit);
    synced_to(&b, 1).await;
    let shared = whole(&pipeline_b, ask(&server, "What is the capital of France?")).await;
    assert!(shared.cache_hit, "the other instance's answer");
    assert_eq!(shared.text, first.text);
    assert_eq!(shared.cost, Some(0.0));
    assert_eq!(calls_to(&server, "/chat/completions"), 1);
    assert_eq!(
        calls_to(&server, "/embeddings"),
        1,
        "the same call again is found by its exact key, without embedding"
    );

    // Another body with the same prompt text (content parts): another exact key, found by
    // its vector in the shared index.
    let parts = params(
        &server,
        json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is the capital of France?"}]}]}),
    );
    let similar = whole(&pipeline_b, parts).await;
    assert!(similar.cache_hit, "found by similarity");
    assert_eq!(similar.text, first.text);
    assert_eq!(calls_to(&server, "/embeddings"), 2);

    let unrelated = whole(&pipeline_b, ask(&server, "Name a prime number.")).await;
    assert!(!unrelated.cache_hit);
    assert_eq!(calls_to(&server, "/chat/completions"), 2);
    assert_eq!(calls_to(&server, "/embeddings"), 3);
    synced_to(&a, 2).await;

    let key = shared.cache_key.unwrap();
    assert_eq!(a.delete(std::slice::from_ref(&key)).await.unwrap(), 1);
    synced_to(&b, 1).await;
    a.clear().await.unwrap();
    synced_to(&b, 0).await;
    assert!(
        !whole(&pipeline_b, ask(&server, "Name a prime number."))
            .await
            .cache_hit,
        "flushed everywhere"
    );
}

#[tokio::test]
async fn a_threshold_is_required_and_a_redis_that_is_down_never_fails_a_call() {
    let mut config = map(json!({"type": "redis-semantic", "url": "redis://127.0.0.1:1"}));
    let missing = CacheParams::from_map(&config).err().map(|e| e.to_string());
    assert!(
        missing.is_some_and(|e| e.contains("similarity_threshold must be provided")),
        "LiteLLM's RedisSemanticCache has no default threshold"
    );
    let server = server().await;
    config.extend(map(semantic_params(&server, "down", "redis://127.0.0.1:1")));
    let cache = Cache::new(CacheParams::from_map(&config).unwrap()).unwrap();
    let pipeline = Pipeline::new(cache.layers());
    for _ in 0..2 {
        let got = whole(&pipeline, ask(&server, "hello")).await;
        assert!(got.text.starts_with("This is a mock"), "{}", got.text);
    }
    // The answer is kept in this process (a hit the second time); Redis errors are counted.
    assert!(cache.stats().errors >= 1, "{:?}", cache.stats());
    assert!(cache.ping().await.is_err());
}
