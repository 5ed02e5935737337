//! What layers cost: a call through an empty pipeline against the same call through every
//! probe layer registered and idle (each checks the call and has nothing to do). The call is
//! answered by `mock_response` (no network), so the difference is the layers' cost.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark")]

use std::sync::Arc;

use serde_json::{Map, Value, json};

use llmrelay_core::CallKind;
use llmrelay_pipeline::probes::{self, Journal};
use llmrelay_pipeline::{Answer, Call, Direct, Origin, Pipeline};

fn main() {
    divan::main();
}

fn params() -> Map<String, Value> {
    match json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Hello there, how are you?"}],
        "mock_response": "hello",
        "metadata": {"team": "a"},
    }) {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn call_through(
    runtime: &tokio::runtime::Runtime,
    pipeline: &Pipeline,
    params: &Map<String, Value>,
) {
    let call = Call::parse(CallKind::Chat, params.clone(), Origin::Sdk).unwrap();
    let answer = runtime
        .block_on(pipeline.run(Box::new(call), &Direct))
        .unwrap();
    let Answer::Whole(whole) = answer else {
        unreachable!()
    };
    divan::black_box(whole.settle());
}

#[divan::bench]
fn no_layers(bencher: divan::Bencher) {
    let runtime = runtime();
    let pipeline = Pipeline::default();
    let params = params();
    bencher.bench_local(|| call_through(&runtime, &pipeline, &params));
}

#[divan::bench]
fn every_probe_idle(bencher: divan::Bencher) {
    let runtime = runtime();
    let journal = Arc::new(Journal::default());
    let pipeline = Pipeline::new(probes::all(&journal));
    let params = params();
    bencher.bench_local(|| call_through(&runtime, &pipeline, &params));
}
