//! Latency of one chat completion through the engine to a running mock upstream, next to a raw
//! reqwest round trip (the loopback floor on this machine).
//!
//! `llmrelay-mock --port 18080 --threads 1 --no-record &`
//! `cargo run --release -p llmrelay-providers --example latency -- http://127.0.0.1:18080/v1`

use std::time::Instant;

use llmrelay_providers::Engine;
use serde_json::{Value, json};

/// Median and p99 in microseconds of `iterations` runs after 200 warm-up runs.
fn measure(
    runtime: &tokio::runtime::Runtime,
    iterations: usize,
    mut call: impl FnMut(&tokio::runtime::Runtime),
) -> (u128, u128) {
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations + 200 {
        let started = Instant::now();
        call(runtime);
        if i >= 200 {
            samples.push(started.elapsed().as_micros());
        }
    }
    samples.sort_unstable();
    (
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    )
}

#[expect(clippy::print_stdout, reason = "example prints its measurement")]
fn main() {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:18080/v1".to_owned());
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let Value::Object(params) = json!({"model": "openai/gpt-4o-mini", "api_base": base, "api_key": "k",
                                       "messages": [{"role": "user", "content": "hi"}]})
    else {
        return;
    };
    let (median, p99) = measure(&runtime, 3000, |rt| {
        if rt
            .block_on(Engine.run(llmrelay_core::CallKind::Chat, params.clone()))
            .is_err()
        {
            std::process::exit(2);
        }
    });
    println!("engine completion: median {median} us, p99 {p99} us");

    let client = llmrelay_providers::http::client();
    let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let url = format!("{base}/chat/completions");
    let (median, p99) = measure(&runtime, 3000, |rt| {
        let _ = rt.block_on(async {
            client
                .post(&url)
                .bearer_auth("k")
                .body(&body[..])
                .send()
                .await
                .ok()?
                .bytes()
                .await
                .ok()
        });
    });
    println!("raw reqwest round trip: median {median} us, p99 {p99} us");
}
