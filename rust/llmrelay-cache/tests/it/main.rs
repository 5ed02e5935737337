//! The cache's layers end to end on SDK calls against the mock upstream: a repeated call is
//! answered from the cache without reaching the upstream (whole, streamed, embeddings), the
//! controls (`no-cache`, `no-store`, `caching=False`, `ttl`, `s-maxage`, `namespace`), the
//! stores (memory, disk across a restart, Redis), and a Redis that is down.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod qdrant_semantic;
mod redis_semantic;
mod redis_topologies;
mod s3;
mod semantic;

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Map, Value, json};

use llmrelay_cache::{Cache, CacheParams};
use llmrelay_core::CallKind;
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_pipeline::{Answer, Call, Direct, Origin, Pipeline};
use llmrelay_providers::engine::{ChatOutcome, Outcome};

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

fn params(server: &MockServer, extra: Value) -> Map<String, Value> {
    let mut base = map(json!({
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": format!("{}/v1", server.base_url()),
        "api_key": "sk-test",
    }));
    base.extend(map(extra));
    base
}

fn cache(params: Value) -> Cache {
    Cache::new(CacheParams::from_map(&map(params)).unwrap()).unwrap()
}

/// A whole chat answer: its text, whether it was a cache hit, its key and cost.
struct Got {
    text: String,
    cache_hit: bool,
    cache_key: Option<String>,
    cost: Option<f64>,
}

async fn whole(pipeline: &Pipeline, params: Map<String, Value>) -> Got {
    let call = Call::parse(CallKind::Chat, params, Origin::Sdk).unwrap();
    let Answer::Whole(whole) = pipeline.run(Box::new(call), &Direct).await.unwrap() else {
        panic!("whole answer expected")
    };
    let (outcome, settlement) = whole.settle();
    let Outcome::Chat(ChatOutcome::Whole(result)) = outcome else {
        panic!("chat expected")
    };
    assert_eq!(result.hidden.cache_hit, settlement.record.cache_hit);
    Got {
        text: result.response.choices[0]
            .message
            .content
            .clone()
            .unwrap_or_default(),
        cache_hit: result.hidden.cache_hit,
        cache_key: result.hidden.cache_key,
        cost: settlement.record.cost,
    }
}

/// A streamed chat answer: its text, its content chunks, whether a usage chunk came, and
/// whether it was a cache hit.
async fn streamed(
    pipeline: &Pipeline,
    params: Map<String, Value>,
    take: Option<usize>,
) -> (String, usize, bool, bool) {
    let call = Call::parse(CallKind::Chat, params, Origin::Sdk).unwrap();
    let Answer::Chat(mut stream) = pipeline.run(Box::new(call), &Direct).await.unwrap() else {
        panic!("chat stream expected")
    };
    let cache_hit = stream.hidden().cache_hit;
    let (mut text, mut chunks, mut usage) = (String::new(), 0, false);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        usage |= chunk.usage.is_some();
        for choice in &chunk.choices {
            if let Some(content) = choice.delta.content.as_deref().filter(|c| !c.is_empty()) {
                chunks += 1;
                text.push_str(content);
            }
        }
        if take.is_some_and(|n| chunks >= n) {
            break;
        }
    }
    (text, chunks, usage, cache_hit)
}

fn upstream_calls(server: &MockServer) -> usize {
    server.state().requests().len()
}

#[tokio::test]
async fn a_repeated_call_is_answered_from_memory_without_the_upstream() {
    let server = server().await;
    let cache = cache(json!({}));
    let pipeline = Pipeline::new(cache.layers());
    let first = whole(&pipeline, params(&server, json!({"temperature": 0.2}))).await;
    assert!(!first.cache_hit);
    assert!(first.cost.is_some_and(|c| c > 0.0));
    let second = whole(&pipeline, params(&server, json!({"temperature": 0.2}))).await;
    assert!(second.cache_hit);
    assert_eq!(second.text, first.text);
    assert_eq!(second.cost, Some(0.0));
    assert_eq!(second.cache_key.as_deref().map(str::len), Some(64));
    assert_eq!(upstream_calls(&server), 1);
    // Another parameter is another key.
    let other = whole(&pipeline, params(&server, json!({"temperature": 0.3}))).await;
    assert!(!other.cache_hit);
    assert_eq!(upstream_calls(&server), 2);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.stores), (1, 2, 2));
}

#[tokio::test]
async fn per_request_controls() {
    let server = server().await;
    let cache = cache(json!({}));
    let pipeline = Pipeline::new(cache.layers());
    // no-store: answered upstream and not kept.
    let call = |extra: Value| params(&server, extra);
    whole(&pipeline, call(json!({"cache": {"no-store": true}}))).await;
    assert!(!whole(&pipeline, call(json!({}))).await.cache_hit);
    assert_eq!(upstream_calls(&server), 2);
    // Now it is kept; no-cache and caching=False skip the lookup.
    assert!(whole(&pipeline, call(json!({}))).await.cache_hit);
    assert!(
        !whole(&pipeline, call(json!({"cache": {"no-cache": true}})))
            .await
            .cache_hit
    );
    assert!(
        !whole(&pipeline, call(json!({"caching": false})))
            .await
            .cache_hit
    );
    assert_eq!(upstream_calls(&server), 4);
    // A namespace is another key space.
    let spaced = whole(&pipeline, call(json!({"cache": {"namespace": "team-a"}}))).await;
    assert!(!spaced.cache_hit);
    let again = whole(&pipeline, call(json!({"cache": {"namespace": "team-a"}}))).await;
    assert!(again.cache_hit);
    assert!(again.cache_key.unwrap().starts_with("team-a:"));
    // ttl: the entry is gone after it; s-maxage: an older entry is not served.
    let short = json!({"user": "ttl", "cache": {"ttl": 0.2}});
    whole(&pipeline, call(short.clone())).await;
    assert!(
        whole(&pipeline, call(json!({"user": "ttl"})))
            .await
            .cache_hit
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !whole(&pipeline, call(json!({"user": "ttl"})))
            .await
            .cache_hit
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let old = json!({"user": "ttl", "cache": {"s-maxage": 0.1}});
    assert!(!whole(&pipeline, call(old)).await.cache_hit);
    let fresh = json!({"user": "ttl", "cache": {"s-maxage": 60}});
    assert!(whole(&pipeline, call(fresh)).await.cache_hit);
    // default_off: only calls that opt in.
    let off = self::cache(json!({"mode": "default_off"}));
    let pipeline = Pipeline::new(off.layers());
    let before = upstream_calls(&server);
    whole(&pipeline, call(json!({"user": "off"}))).await;
    assert!(
        !whole(&pipeline, call(json!({"user": "off"})))
            .await
            .cache_hit
    );
    let opt_in = json!({"user": "off", "cache": {"use-cache": true}});
    whole(&pipeline, call(opt_in.clone())).await;
    assert!(whole(&pipeline, call(opt_in)).await.cache_hit);
    assert_eq!(upstream_calls(&server), before + 3);
}

#[tokio::test]
async fn a_cached_stream_is_replayed_as_a_stream() {
    let server = server().await;
    let cache = cache(json!({}));
    let pipeline = Pipeline::new(cache.layers());
    let stream = json!({"stream": true, "stream_options": {"include_usage": true}});
    let (text, chunks, usage, hit) =
        streamed(&pipeline, params(&server, stream.clone()), None).await;
    assert!(!hit && usage && chunks > 1);
    let (again, replayed, usage, hit) = streamed(&pipeline, params(&server, stream), None).await;
    assert!(hit, "served from the cache");
    assert!(usage, "the usage chunk the caller asked for");
    assert!(replayed >= 1);
    assert_eq!(again, text);
    assert_eq!(upstream_calls(&server), 1);
    // A whole call is another key (LiteLLM's key holds `stream`).
    assert!(!whole(&pipeline, params(&server, json!({}))).await.cache_hit);
}

/// A streamed text completion: its text, whether a usage chunk came, whether it was a hit.
async fn text_streamed(pipeline: &Pipeline, params: Map<String, Value>) -> (String, bool, bool) {
    let call = Call::parse(CallKind::TextCompletion, params, Origin::Sdk).unwrap();
    let Answer::Text(mut stream) = pipeline.run(Box::new(call), &Direct).await.unwrap() else {
        panic!("text stream expected")
    };
    let cache_hit = stream.hidden().cache_hit;
    let (mut text, mut usage) = (String::new(), false);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        usage |= chunk.usage.is_some();
        for choice in &chunk.choices {
            text.push_str(&choice.text);
        }
    }
    (text, usage, cache_hit)
}

#[tokio::test]
async fn a_cached_text_completion_stream_is_replayed_as_a_stream() {
    let server = server().await;
    let cache = cache(json!({}));
    let pipeline = Pipeline::new(cache.layers());
    let call = || {
        map(json!({
            "model": "openai/gpt-3.5-turbo-instruct", "prompt": "Say hi", "stream": true,
            "stream_options": {"include_usage": true},
            "api_base": format!("{}/v1", server.base_url()), "api_key": "sk-test",
        }))
    };
    let (text, usage, hit) = text_streamed(&pipeline, call()).await;
    assert!(!hit && usage && !text.is_empty());
    let (again, usage, hit) = text_streamed(&pipeline, call()).await;
    assert!(hit, "served from the cache");
    assert!(usage, "the usage chunk the caller asked for");
    assert_eq!(again, text);
    assert_eq!(upstream_calls(&server), 1);
    // Two choices are not stored.
    let mut several = call();
    several.insert("n".into(), json!(2));
    let _ = text_streamed(&pipeline, several.clone()).await;
    assert!(!text_streamed(&pipeline, several).await.2);
}

#[tokio::test]
async fn a_stream_cut_off_is_not_stored() {
    let server = server().await;
    let cache = cache(json!({}));
    let pipeline = Pipeline::new(cache.layers());
    let stream = json!({"stream": true, "user": "cut"});
    let (_, chunks, _, _) = streamed(&pipeline, params(&server, stream.clone()), Some(1)).await;
    assert_eq!(chunks, 1);
    let (_, _, _, hit) = streamed(&pipeline, params(&server, stream), None).await;
    assert!(!hit, "the cut-off stream was not stored");
    assert_eq!(cache.stats().stores, 1);
}

#[tokio::test]
async fn embeddings_are_cached() {
    let server = server().await;
    let cache = cache(json!({}));
    let pipeline = Pipeline::new(cache.layers());
    let embed = || {
        map(json!({
            "model": "openai/text-embedding-3-small", "input": ["a", "b"],
            "api_base": format!("{}/v1", server.base_url()), "api_key": "sk-test",
        }))
    };
    for expected_hit in [false, true] {
        let call = Call::parse(CallKind::Embedding, embed(), Origin::Sdk).unwrap();
        let Answer::Whole(whole) = pipeline.run(Box::new(call), &Direct).await.unwrap() else {
            panic!("whole answer expected")
        };
        let (outcome, settlement) = whole.settle();
        assert!(matches!(outcome, Outcome::Embedding(_)));
        assert_eq!(settlement.record.cache_hit, expected_hit);
    }
    assert_eq!(upstream_calls(&server), 1);
}

#[tokio::test]
async fn the_disk_store_survives_a_restart() {
    let server = server().await;
    let dir = std::env::temp_dir().join(format!("llmrelay-cache-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = json!({"type": "disk", "disk_cache_dir": dir.display().to_string()});
    {
        let cache = cache(config.clone());
        let pipeline = Pipeline::new(cache.layers());
        assert!(!whole(&pipeline, params(&server, json!({}))).await.cache_hit);
        cache.shutdown().await;
    }
    let cache = cache(config);
    let pipeline = Pipeline::new(cache.layers());
    let hit = whole(&pipeline, params(&server, json!({}))).await;
    assert!(hit.cache_hit, "answered from the file after a restart");
    assert_eq!(upstream_calls(&server), 1);
    let key = hit.cache_key.unwrap();
    assert_eq!(cache.delete(&[key]).await.unwrap(), 1);
    assert!(!whole(&pipeline, params(&server, json!({}))).await.cache_hit);
    cache.flush_writes().await;
    cache.clear().await.unwrap();
    assert!(!whole(&pipeline, params(&server, json!({}))).await.cache_hit);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Redis at 127.0.0.1:6379, or a visible skip (a failure under CI).
async fn redis_up() -> bool {
    let up = tokio::net::TcpStream::connect("127.0.0.1:6379")
        .await
        .is_ok();
    if !up {
        assert!(
            std::env::var("CI").is_err(),
            "Redis is not running at 127.0.0.1:6379"
        );
        eprintln!("SKIPPED: Redis is not running at 127.0.0.1:6379");
    }
    up
}

#[tokio::test]
async fn the_redis_store() {
    if !redis_up().await {
        return;
    }
    let server = server().await;
    let namespace = format!("it-{}", llmrelay_core::ids::uuid());
    let cache = cache(json!({"type": "redis", "host": "127.0.0.1", "port": 6379,
                             "namespace": namespace, "ttl": 60}));
    cache.ping().await.unwrap();
    let pipeline = Pipeline::new(cache.layers());
    let first = whole(&pipeline, params(&server, json!({}))).await;
    assert!(!first.cache_hit);
    cache.flush_writes().await;
    let second = whole(&pipeline, params(&server, json!({}))).await;
    assert!(second.cache_hit);
    assert_eq!(second.text, first.text);
    let key = second.cache_key.unwrap();
    assert!(key.starts_with(&format!("{namespace}:")));
    assert_eq!(upstream_calls(&server), 1);
    assert_eq!(cache.delete(&[key]).await.unwrap(), 1);
    assert!(!whole(&pipeline, params(&server, json!({}))).await.cache_hit);
    assert!(
        cache
            .redis_info()
            .await
            .unwrap()
            .is_some_and(|i| i.contains("redis_version"))
    );
}

#[tokio::test]
async fn a_redis_that_is_down_never_fails_a_call() {
    let server = server().await;
    let cache = cache(json!({"type": "redis", "url": "redis://127.0.0.1:1"}));
    let pipeline = Pipeline::new(cache.layers());
    for _ in 0..2 {
        let got = whole(&pipeline, params(&server, json!({}))).await;
        assert!(!got.cache_hit);
        assert!(got.text.starts_with("This is a mock"));
    }
    cache.flush_writes().await;
    assert!(cache.stats().errors >= 2, "{:?}", cache.stats());
    assert_eq!(upstream_calls(&server), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_misses_make_one_upstream_call() {
    let config = MockConfig {
        latency_ms: 200,
        ..MockConfig::default()
    };
    let server = MockServer::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap();
    let cache = cache(json!({}));
    let pipeline = Pipeline::new(cache.layers());
    let calls = (0..50).map(|_| whole(&pipeline, params(&server, json!({"user": "burst"}))));
    let answers = futures::future::join_all(calls).await;
    assert_eq!(
        upstream_calls(&server),
        1,
        "one upstream call for 50 callers"
    );
    assert_eq!(answers.iter().filter(|a| a.cache_hit).count(), 49);
    assert!(answers.iter().all(|a| a.text == answers[0].text));
    // A leader that fails hands nothing over: the waiters go upstream themselves.
    server.state().update_config(|c| c.latency_ms = 100);
    let failing = |n: usize| {
        let mut extra = json!({"user": "fails"});
        if n == 0 {
            extra["mock_response"] = json!("litellm.RateLimitError");
        }
        params(&server, extra)
    };
    let first = Call::parse(CallKind::Chat, failing(0), Origin::Sdk).unwrap();
    let leader = pipeline.run(Box::new(first), &Direct);
    let follower = whole(&pipeline, failing(1));
    let (led, followed) = futures::join!(leader, follower);
    assert!(led.is_err());
    assert!(!followed.cache_hit);
    assert!(cache.in_flight_len() <= 1);
}
