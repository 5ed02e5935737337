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

/// A `local-semantic` cache on the model in `$LLMRELAY_SEMANTIC_MODEL_DIR` (`None`, with a
/// note, when it is not set).
fn semantic(bench: &str) -> Option<Cache> {
    let Some(dir) = std::env::var_os(llmrelay_cache::semantic::MODEL_DIR_ENV) else {
        eprintln!("SKIPPED {bench}: set LLMRELAY_SEMANTIC_MODEL_DIR to the all-MiniLM-L6-v2 files");
        return None;
    };
    let params = json!({
        "type": "local-semantic", "similarity_threshold": 0.85, "max_size_in_memory": 200_000,
        "local_semantic_model_dir": dir.to_string_lossy(),
    });
    Some(Cache::new(CacheParams::from_map(&map(params)).unwrap()).unwrap())
}

fn question(text: &str) -> Map<String, Value> {
    let mut params = params();
    params.insert(
        "messages".into(),
        json!([{"role": "user", "content": text}]),
    );
    params
}

/// Fill the scope of `params` with `rows` random unit vectors (what the prompts are does not
/// change what a search costs).
fn fill(cache: &Cache, params: &Map<String, Value>, rows: usize) {
    let call = Call::parse(CallKind::Chat, params.clone(), Origin::Sdk).unwrap();
    let pending = cache
        .semantic_pending(&call, &llmrelay_cache::Controls::of(&call))
        .unwrap();
    let store = cache.semantic().unwrap();
    let entry = store.get("seed").unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut vector = vec![0.0f32; store.index().unwrap().dims()];
    for row in 0..rows {
        for x in &mut vector {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *x = (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0;
        }
        llmrelay_cache::semantic::embed::normalize(&mut vector);
        store.insert(
            &pending.scope,
            &format!("row{row}"),
            &vector,
            entry.clone(),
            None,
        );
    }
}

#[divan::bench]
fn local_semantic_embed_short_prompt(bencher: divan::Bencher) {
    let Some(cache) = semantic("local_semantic_embed_short_prompt") else {
        return;
    };
    let embedder = cache.semantic().unwrap().local_embedder().unwrap().clone();
    bencher.bench_local(|| divan::black_box(embedder.embed("Tell me the capital city of France.")));
}

/// A paraphrase found among 100,000 answers in its scope, through the pipeline: the prompt
/// embedded, the scope searched, the hit served.
#[divan::bench(sample_count = 30)]
fn local_semantic_hit_among_100k(bencher: divan::Bencher) {
    let Some(cache) = semantic("local_semantic_hit_among_100k") else {
        return;
    };
    let runtime = runtime();
    let pipeline = Pipeline::new(cache.layers());
    let stored = question("What is the capital of France?");
    // The first answer goes in under a known key, the rows after it share its entry.
    let call = Call::parse(CallKind::Chat, stored.clone(), Origin::Sdk).unwrap();
    let store = cache.semantic().unwrap();
    let pending = cache
        .semantic_pending(&call, &llmrelay_cache::Controls::of(&call))
        .unwrap();
    call_through(&runtime, &pipeline, Some(&cache), &stored);
    let key = cache.preset_key(&stored).0;
    let vector = store
        .local_embedder()
        .unwrap()
        .embed(&pending.prompt)
        .unwrap();
    store.insert(
        &pending.scope,
        "seed",
        &vector,
        store.get(&key).unwrap(),
        None,
    );
    fill(&cache, &stored, 100_000);
    let asked = question("Tell me the capital city of France.");
    assert!(call_through(&runtime, &pipeline, Some(&cache), &asked));
    bencher.bench_local(|| call_through(&runtime, &pipeline, Some(&cache), &asked));
}

/// The search alone: 100,000 rows of 384 floats.
#[divan::bench(sample_count = 30)]
fn local_semantic_search_100k(bencher: divan::Bencher) {
    let index = llmrelay_cache::semantic::VectorIndex::new(384, 200_000);
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut vector = vec![0.0f32; 384];
    let entry = std::sync::Arc::new(
        serde_json::from_value::<llmrelay_cache::Entry>(json!({
            "timestamp": 0.0,
            "answer": {"chat": {"id": "x", "object": "chat.completion", "created": 0,
                "model": "m", "choices": []}},
        }))
        .unwrap(),
    );
    for row in 0..100_000 {
        for x in &mut vector {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *x = (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0;
        }
        llmrelay_cache::semantic::embed::normalize(&mut vector);
        index.insert("scope", &format!("row{row}"), &vector, entry.clone(), None);
    }
    let now = std::time::Instant::now();
    bencher.bench_local(|| divan::black_box(index.search("scope", &vector, now)));
}
