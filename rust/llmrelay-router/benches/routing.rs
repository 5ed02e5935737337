//! A routing decision among 100 deployments of one group, per strategy (target: ≤ 5 µs).
//! Run: `cargo bench -p llmrelay-router --bench routing`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark setup")]

use llmrelay_router::Router;
use serde_json::{Map, Value, json};

fn main() {
    divan::main();
}

fn router(strategy: &str) -> Router {
    let model_list: Vec<Value> = (0..100)
        .map(|i| {
            json!({
                "model_name": "gpt-4o",
                "litellm_params": {
                    "model": "openai/gpt-4o", "api_base": format!("http://10.0.0.{i}/v1"),
                    "api_key": "k", "rpm": 10_000 + i, "tpm": 10_000_000, "weight": 1 + i % 7,
                    "input_cost_per_token": 1e-6 * f64::from(1 + i % 5), "output_cost_per_token": 2e-6
                },
                "model_info": {"id": format!("d{i}")}
            })
        })
        .collect();
    Router::from_value(json!({"model_list": model_list, "routing_strategy": strategy})).unwrap()
}

fn params() -> Map<String, Value> {
    match json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello there, how are you?"}]})
    {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[divan::bench(args = ["simple-shuffle", "least-busy", "usage-based-routing-v2", "latency-based-routing", "cost-based-routing"])]
fn decision_among_100(bencher: divan::Bencher, strategy: &str) {
    let router = router(strategy);
    let (request, _) =
        llmrelay_providers::engine::parse(llmrelay_core::CallKind::Chat, params()).unwrap();
    bencher.bench(|| router.route(divan::black_box("gpt-4o"), &request).unwrap());
}
