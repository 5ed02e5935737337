//! A/B of reqwest client settings on loopback latency (development aid).
use std::time::{Duration, Instant};

fn measure(
    runtime: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    base: &str,
    body: &[u8],
) -> u128 {
    let mut samples = Vec::new();
    for i in 0..2200 {
        let started = Instant::now();
        let _ = runtime.block_on(async {
            client
                .post(format!("{base}/chat/completions"))
                .bearer_auth("k")
                .body(body.to_vec())
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
    samples[samples.len() / 2]
}

#[expect(clippy::print_stdout, reason = "example prints its measurement")]
fn main() {
    let base = "http://127.0.0.1:18080/v1";
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|_| std::process::exit(1));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let variants: Vec<(&str, reqwest::Client)> = vec![
        ("default", reqwest::Client::new()),
        (
            "connect_timeout",
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        ),
        (
            "nodelay",
            reqwest::Client::builder()
                .tcp_nodelay(true)
                .build()
                .unwrap_or_default(),
        ),
        (
            "pool",
            reqwest::Client::builder()
                .pool_max_idle_per_host(1024)
                .pool_idle_timeout(Duration::from_secs(90))
                .build()
                .unwrap_or_default(),
        ),
        (
            "http1_only",
            reqwest::Client::builder()
                .http1_only()
                .build()
                .unwrap_or_default(),
        ),
        ("ours", llmrelay_providers::http::client().clone()),
    ];
    for round in 0..2 {
        for (name, client) in &variants {
            println!(
                "round {round} {name}: {} us",
                measure(&runtime, client, base, body)
            );
        }
    }
}
