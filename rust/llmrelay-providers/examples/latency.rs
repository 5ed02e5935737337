//! Median latency of one chat completion through the engine to a running mock upstream.
//! `cargo run --release -p llmrelay-providers --example latency -- http://127.0.0.1:18080/v1`

use std::time::Instant;

use llmrelay_providers::Engine;
use serde_json::json;

#[expect(clippy::print_stdout, reason = "example prints its measurement")]
fn main() {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:18080/v1".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|_| std::process::exit(1));
    let params = json!({"model": "openai/gpt-4o-mini", "api_base": base, "api_key": "k",
                        "messages": [{"role": "user", "content": "hi"}]});
    let serde_json::Value::Object(params) = params else {
        return;
    };
    let mut samples = Vec::new();
    for i in 0..3200 {
        let started = Instant::now();
        let result = runtime.block_on(Engine.completion(params.clone()));
        if result.is_err() {
            std::process::exit(2);
        }
        if i >= 200 {
            samples.push(started.elapsed().as_micros());
        }
    }
    samples.sort_unstable();
    println!(
        "engine block_on median {} us, p99 {} us",
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100]
    );
    let mut mock_params = params.clone();
    mock_params.insert("mock_response".to_owned(), json!("hello"));
    let mut samples = Vec::new();
    for i in 0..3200 {
        let started = Instant::now();
        let _ = runtime.block_on(Engine.completion(mock_params.clone()));
        if i >= 200 {
            samples.push(started.elapsed().as_nanos());
        }
    }
    samples.sort_unstable();
    println!(
        "engine mock_response median {} ns",
        samples[samples.len() / 2]
    );
    let client = reqwest::Client::new();
    let mut samples = Vec::new();
    let body = serde_json::to_vec(
        &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap_or_default();
    for i in 0..3200 {
        let started = Instant::now();
        let _ = runtime.block_on(async {
            client
                .post(format!("{base}/chat/completions"))
                .bearer_auth("k")
                .body(body.clone())
                .send()
                .await
                .ok()?
                .bytes()
                .await
                .ok()
        });
        if i >= 200 {
            samples.push(started.elapsed().as_micros());
        }
    }
    samples.sort_unstable();
    println!(
        "raw reqwest block_on median {} us",
        samples[samples.len() / 2]
    );
    let mut samples = Vec::new();
    for i in 0..3200 {
        let started = Instant::now();
        let _ = runtime.block_on(async {
            client
                .post(format!("{base}/chat/completions"))
                .bearer_auth("k")
                .timeout(std::time::Duration::from_secs(6000))
                .body(body.clone())
                .send()
                .await
                .ok()?
                .bytes()
                .await
                .ok()
        });
        if i >= 200 {
            samples.push(started.elapsed().as_micros());
        }
    }
    samples.sort_unstable();
    println!(
        "raw reqwest with timeout median {} us",
        samples[samples.len() / 2]
    );
    let mut samples = Vec::new();
    let shared = llmrelay_providers::http::client();
    for i in 0..3200 {
        let started = Instant::now();
        let _ = runtime.block_on(async {
            shared
                .post(format!("{base}/chat/completions"))
                .bearer_auth("k")
                .body(body.clone())
                .send()
                .await
                .ok()?
                .bytes()
                .await
                .ok()
        });
        if i >= 200 {
            samples.push(started.elapsed().as_micros());
        }
    }
    samples.sort_unstable();
    println!("shared client median {} us", samples[samples.len() / 2]);
    let mut samples = Vec::new();
    for i in 0..3200 {
        let started = Instant::now();
        let _ = runtime.block_on(async {
            let client = client.clone();
            let body = body.clone();
            let base = base.clone();
            tokio::spawn(async move {
                client
                    .post(format!("{base}/chat/completions"))
                    .bearer_auth("k")
                    .body(body)
                    .send()
                    .await
                    .ok()?
                    .bytes()
                    .await
                    .ok()
            })
            .await
        });
        if i >= 200 {
            samples.push(started.elapsed().as_micros());
        }
    }
    samples.sort_unstable();
    println!(
        "raw reqwest spawned median {} us",
        samples[samples.len() / 2]
    );
    current_thread(&base);
}

#[expect(clippy::print_stdout, reason = "example prints its measurement")]
#[allow(dead_code)]
fn current_thread(base: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|_| std::process::exit(1));
    let client = reqwest::Client::new();
    let body = serde_json::to_vec(
        &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap_or_default();
    let mut samples = Vec::new();
    for i in 0..3200 {
        let started = Instant::now();
        let _ = runtime.block_on(async {
            client
                .post(format!("{base}/chat/completions"))
                .bearer_auth("k")
                .body(body.clone())
                .send()
                .await
                .ok()?
                .bytes()
                .await
                .ok()
        });
        if i >= 200 {
            samples.push(started.elapsed().as_micros());
        }
    }
    samples.sort_unstable();
    println!(
        "raw reqwest current_thread median {} us",
        samples[samples.len() / 2]
    );
}
