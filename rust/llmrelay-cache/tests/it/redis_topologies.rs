//! The Redis store on a Cluster and behind a Sentinel (servers the tests start on local
//! ports), large answers kept compressed, and the dual store (memory in front of Redis)
//! shared by two caches as two instances would share it.

use std::time::Duration;

use serde_json::json;

use llmrelay_mock::local_redis::{Cluster, Sentinel, machine_redis};
use llmrelay_pipeline::Pipeline;

use super::{cache, params, server, upstream_calls, whole};

async fn raw(url: &str, command: &redis::Cmd) -> redis::Value {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    command.query_async(&mut connection).await.unwrap()
}

async fn dbsize(url: &str) -> i64 {
    match raw(url, &redis::cmd("DBSIZE")).await {
        redis::Value::Int(n) => n,
        other => panic!("DBSIZE answered {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_keeps_answers_over_its_slots_and_clears_them() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let server = server().await;
    let nodes: Vec<_> = cluster
        .nodes
        .iter()
        .map(|n| json!({"host": "127.0.0.1", "port": n.port.to_string()}))
        .collect();
    let cache = cache(json!({"type": "redis", "redis_startup_nodes": nodes, "ttl": 60}));
    cache.ping().await.unwrap();
    let pipeline = Pipeline::new(cache.layers());
    let users: Vec<String> = (0..12).map(|n| format!("user-{n}")).collect();
    for user in &users {
        assert!(
            !whole(&pipeline, params(&server, json!({"user": user})))
                .await
                .cache_hit
        );
    }
    cache.flush_writes().await;
    let mut keys = Vec::new();
    for user in &users {
        let hit = whole(&pipeline, params(&server, json!({"user": user}))).await;
        assert!(hit.cache_hit, "{user} answered from the cluster");
        keys.push(hit.cache_key.unwrap());
    }
    assert_eq!(upstream_calls(&server), users.len());
    let mut holding = 0;
    for url in cluster.urls() {
        holding += usize::from(dbsize(&url).await > 0);
    }
    assert!(
        holding >= 2,
        "answers spread over the primaries ({holding} hold any)"
    );
    // One delete naming keys of several slots.
    assert_eq!(cache.delete(&keys[..3]).await.unwrap(), 3);
    assert!(
        !whole(&pipeline, params(&server, json!({"user": users[0]})))
            .await
            .cache_hit
    );
    cache.flush_writes().await;
    cache.clear().await.unwrap();
    for url in cluster.urls() {
        assert_eq!(dbsize(&url).await, 0, "{url} cleared");
    }
    assert!(
        !whole(&pipeline, params(&server, json!({"user": users[5]})))
            .await
            .cache_hit
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_names_the_master_the_answers_go_to() {
    let Some(sentinel) = Sentinel::start("cachemaster") else {
        return;
    };
    let server = server().await;
    let cache = cache(json!({
        "type": "redis", "service_name": "cachemaster",
        "sentinel_nodes": [["127.0.0.1", sentinel.port]],
    }));
    let pipeline = Pipeline::new(cache.layers());
    assert!(!whole(&pipeline, params(&server, json!({}))).await.cache_hit);
    cache.flush_writes().await;
    let hit = whole(&pipeline, params(&server, json!({}))).await;
    assert!(hit.cache_hit);
    assert_eq!(upstream_calls(&server), 1);
    assert_eq!(dbsize(&sentinel.master.url()).await, 1);
    assert!(
        cache
            .location()
            .is_some_and(|l| l.starts_with("sentinel cachemaster"))
    );
}

#[tokio::test]
async fn large_answers_are_kept_compressed() {
    let Some(url) = machine_redis() else { return };
    let server = server().await;
    let namespace = format!("it-lz4-{}", llmrelay_core::ids::uuid());
    let cache = cache(json!({"type": "redis", "url": url, "namespace": namespace, "ttl": 60}));
    let pipeline = Pipeline::new(cache.layers());
    let long = "a long answer that repeats itself. ".repeat(200);
    let call = || params(&server, json!({"mock_response": long}));
    assert!(!whole(&pipeline, call()).await.cache_hit);
    cache.flush_writes().await;
    let hit = whole(&pipeline, call()).await;
    assert!(hit.cache_hit);
    assert_eq!(hit.text, long);
    let stored = raw(
        &url,
        redis::cmd("GET").arg(format!("llmrelay:cache:{}", hit.cache_key.unwrap())),
    )
    .await;
    let redis::Value::BulkString(bytes) = stored else {
        panic!("the answer is in Redis: {stored:?}")
    };
    assert!(bytes.starts_with(b"\0lz4"), "compressed");
    assert!(
        bytes.len() * 4 < long.len(),
        "{} bytes for {}",
        bytes.len(),
        long.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dual_store_shares_through_redis_and_answers_repeats_from_memory() {
    let Some(url) = machine_redis() else { return };
    let server = server().await;
    let namespace = format!("it-dual-{}", llmrelay_core::ids::uuid());
    let config = json!({"type": "dual", "url": url, "namespace": namespace,
                        "default_in_memory_ttl": 1, "ttl": 60});
    let (a, b) = (cache(config.clone()), cache(config));
    let (on_a, on_b) = (Pipeline::new(a.layers()), Pipeline::new(b.layers()));
    assert!(!whole(&on_a, params(&server, json!({}))).await.cache_hit);
    a.flush_writes().await;
    let shared = whole(&on_b, params(&server, json!({}))).await;
    assert!(shared.cache_hit, "b reads what a stored, through Redis");
    assert_eq!(upstream_calls(&server), 1);
    // Gone from Redis, b still answers from its memory copy until that copy's TTL ends.
    let key = shared.cache_key.unwrap();
    raw(&url, redis::cmd("DEL").arg(format!("llmrelay:cache:{key}"))).await;
    assert!(whole(&on_b, params(&server, json!({}))).await.cache_hit);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(!whole(&on_b, params(&server, json!({}))).await.cache_hit);
    assert_eq!(upstream_calls(&server), 2);
    // A delete on one instance clears its memory and Redis.
    b.flush_writes().await;
    assert_eq!(b.delete(&[key]).await.unwrap(), 1);
    assert!(!whole(&on_b, params(&server, json!({}))).await.cache_hit);
}
