//! What the response cache costs per call: a call answered by `mock_response` through an
//! empty pipeline (the floor: no network, no layers), the same call answered from the memory
//! cache, a miss that stores its answer, a Redis hit (when Redis runs at 127.0.0.1:6379), and
//! the key derivation alone.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark")]

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use llmrelay_cache::{Cache, CacheParams};
use llmrelay_core::CallKind;
use llmrelay_pipeline::{Answer, Call, Direct, Origin, Pipeline};

fn main() {
    divan::main();
}

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn params() -> Map<String, Value> {
    map(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello there, how are you?"},
        ],
        "temperature": 0.2,
        "mock_response": "hello",
    }))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One call as the SDK edge makes it (key from the caller's parameters), settled.
fn call_through(
    runtime: &tokio::runtime::Runtime,
    pipeline: &Pipeline,
    cache: Option<&Cache>,
    params: &Map<String, Value>,
) -> bool {
    let preset = cache.map(|c| c.preset_key(params));
    let mut call = Call::parse(CallKind::Chat, params.clone(), Origin::Sdk).unwrap();
    if let Some(preset) = preset {
        call.extensions.insert(preset);
    }
    let answer = runtime
        .block_on(pipeline.run(Box::new(call), &Direct))
        .unwrap();
    let Answer::Whole(whole) = answer else {
        unreachable!()
    };
    let (_, settlement) = whole.settle();
    divan::black_box(settlement.record.cache_hit)
}

fn memory() -> Cache {
    Cache::new(CacheParams::from_map(&map(json!({"max_size_in_memory": 100_000}))).unwrap())
        .unwrap()
}

#[divan::bench]
fn floor_mock_response_no_layers(bencher: divan::Bencher) {
    let runtime = runtime();
    let pipeline = Pipeline::default();
    let params = params();
    bencher.bench_local(|| call_through(&runtime, &pipeline, None, &params));
}

#[divan::bench]
fn memory_hit(bencher: divan::Bencher) {
    let runtime = runtime();
    let cache = memory();
    let pipeline = Pipeline::new(cache.layers());
    let params = params();
    call_through(&runtime, &pipeline, Some(&cache), &params);
    assert!(call_through(&runtime, &pipeline, Some(&cache), &params));
    bencher.bench_local(|| call_through(&runtime, &pipeline, Some(&cache), &params));
}

#[divan::bench]
fn memory_miss_and_store(bencher: divan::Bencher) {
    let runtime = runtime();
    let cache = memory();
    let pipeline = Pipeline::new(cache.layers());
    let counter = AtomicU64::new(0);
    bencher
        .with_inputs(|| {
            let mut params = params();
            let n = counter.fetch_add(1, Ordering::Relaxed);
            params.insert("user".to_owned(), json!(format!("u{n}")));
            params
        })
        .bench_local_values(|params| call_through(&runtime, &pipeline, Some(&cache), &params));
}

#[divan::bench]
fn redis_hit(bencher: divan::Bencher) {
    if std::net::TcpStream::connect("127.0.0.1:6379").is_err() {
        eprintln!("SKIPPED redis_hit: no Redis on 127.0.0.1:6379");
        return;
    }
    let runtime = runtime();
    let cache = Cache::new(
        CacheParams::from_map(&map(json!({
            "type": "redis", "host": "127.0.0.1", "port": 6379, "ttl": 600,
            "namespace": "llmrelay-bench",
        })))
        .unwrap(),
    )
    .unwrap();
    let pipeline = Pipeline::new(cache.layers());
    let params = params();
    call_through(&runtime, &pipeline, Some(&cache), &params);
    runtime.block_on(cache.flush_writes());
    assert!(call_through(&runtime, &pipeline, Some(&cache), &params));
    bencher.bench_local(|| call_through(&runtime, &pipeline, Some(&cache), &params));
}

#[divan::bench]
fn key_from_parameters(bencher: divan::Bencher) {
    let cache = memory();
    let params = params();
    bencher.bench_local(|| divan::black_box(cache.preset_key(&params)));
}
