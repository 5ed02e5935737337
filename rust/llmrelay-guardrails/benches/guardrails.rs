//! All built-in pre-call guardrails on a 2,000-token request (target: ≤ 200 µs in total), each
//! one alone, and the stream guard per chunk.
//! Run: `cargo bench -p llmrelay-guardrails --bench guardrails`.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "benchmark setup")]

use llmrelay_core::types::{ChatChunk, ChatRequest};
use llmrelay_guardrails::{
    BuildOptions, CallMetadata, Guardrails, GuardrailsConfig, RequestPayload, Selection,
};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

const WORDS: [&str; 48] = [
    "the",
    "quarterly",
    "report",
    "shows",
    "that",
    "our",
    "customers",
    "in",
    "the",
    "northern",
    "region",
    "prefer",
    "annual",
    "plans",
    "over",
    "monthly",
    "billing",
    "and",
    "the",
    "support",
    "team",
    "resolved",
    "most",
    "tickets",
    "within",
    "two",
    "days",
    "while",
    "engineering",
    "shipped",
    "version",
    "4.2",
    "of",
    "the",
    "mobile",
    "app",
    "with",
    "faster",
    "sync",
    "better",
    "offline",
    "mode",
    "and",
    "a",
    "redesigned",
    "settings",
    "page",
    "today",
];

/// About 2,000 tokens of prose (o200k), with a few PII values and one secret in it.
fn long_text() -> String {
    let mut text = String::new();
    let mut index = 0usize;
    while llmrelay_core::tokens::count_text_for_model("gpt-4o", &text) < 1_960 {
        for _ in 0..60 {
            text.push_str(WORDS[index % WORDS.len()]);
            text.push(' ');
            index = index.wrapping_mul(31).wrapping_add(7) % 1_000_003;
        }
        text.push_str(". ");
        if index % 3 == 0 {
            text.push_str("Reach Mr. John Smith at john.smith@example.com or 555-123-4567. ");
        }
    }
    text.push_str(
        "Config: api_key=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ, server 10.0.0.12.",
    );
    text
}

fn request() -> ChatRequest {
    serde_json::from_value(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful analyst. Answer briefly."},
            {"role": "user", "content": long_text()}
        ],
        "tools": [
            {"type": "function", "function": {"name": "get_report", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "get_ticket", "parameters": {"type": "object"}}}
        ]
    }))
    .unwrap()
}

fn entry(name: &str, params: Value) -> Value {
    let mut params = params;
    params["default_on"] = Value::Bool(true);
    json!({"guardrail_name": name, "litellm_params": params})
}

fn built_in(which: &str) -> Guardrails {
    let all = [
        (
            "pii",
            entry(
                "pii",
                json!({"guardrail": "presidio", "mode": ["pre_call", "post_call"]}),
            ),
        ),
        (
            "secrets",
            entry(
                "secrets",
                json!({"guardrail": "hide-secrets", "mode": ["pre_call", "post_call"]}),
            ),
        ),
        (
            "injection",
            entry(
                "injection",
                json!({"guardrail": "detect_prompt_injection", "mode": "pre_call"}),
            ),
        ),
        (
            "content",
            entry(
                "content",
                json!({"guardrail": "litellm_content_filter", "mode": ["pre_call", "post_call"],
                "patterns": [{"pattern_type": "prebuilt", "pattern_name": "us_ssn", "action": "BLOCK"},
                             {"pattern_type": "prebuilt", "pattern_name": "credit_card", "action": "MASK"},
                             {"pattern_type": "regex", "pattern": "ticket-[0-9]{6}", "name": "ticket", "action": "MASK"}],
                "blocked_words": [{"keyword": "project falcon", "action": "BLOCK"}, {"keyword": "internal only", "action": "MASK"}],
                "categories": [{"category": "harmful_violence", "action": "BLOCK"}, {"category": "prompt_injection_jailbreak", "action": "BLOCK"}]}),
            ),
        ),
        (
            "tools",
            entry(
                "tools",
                json!({"guardrail": "tool_permission", "mode": ["pre_call", "post_call"],
                "rules": [{"id": "getters", "tool_name": "get_.*", "decision": "allow"}]}),
            ),
        ),
    ];
    let entries: Vec<Value> = all
        .into_iter()
        .filter(|(name, _)| which == "all" || *name == which)
        .map(|(_, entry)| entry)
        .collect();
    let config = GuardrailsConfig::from_sections(Some(&Value::Array(entries)), None).unwrap();
    Guardrails::from_config(config, &BuildOptions::default()).unwrap()
}

#[divan::bench(args = ["all", "pii", "secrets", "injection", "content", "tools"])]
fn pre_call_2000_tokens(bencher: divan::Bencher, which: &str) {
    let guardrails = built_in(which);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let original = request();
    bencher
        .with_inputs(|| original.clone())
        .bench_local_values(|mut request| {
            let call = guardrails
                .begin_call(&Selection::default(), CallMetadata::default())
                .expect("default-on guardrails");
            runtime
                .block_on(call.pre_call(&mut RequestPayload::Chat(&mut request)))
                .unwrap();
            divan::black_box(request)
        });
}

fn chunk(content: &str) -> ChatChunk {
    serde_json::from_value(
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]}),
    )
    .unwrap()
}

/// A streamed answer of ~500 chunks of ~4 characters through the PII, secrets and content
/// guardrails; the figure is per answer (divide by 500 for per chunk).
#[divan::bench]
fn stream_guard_500_chunks(bencher: divan::Bencher) {
    let guardrails = built_in("all");
    let text = long_text();
    let pieces: Vec<ChatChunk> = text
        .as_bytes()
        .chunks(4)
        .take(500)
        .map(|piece| chunk(&String::from_utf8_lossy(piece)))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    bencher
        .with_inputs(|| pieces.clone())
        .bench_local_values(|pieces| {
            let call = guardrails
                .begin_call(&Selection::default(), CallMetadata::default())
                .unwrap();
            let mut guard = call.stream_guard(None).unwrap();
            let mut released = 0usize;
            for piece in pieces {
                released += guard.push(piece).unwrap().len();
            }
            released += runtime.block_on(guard.finish()).unwrap().len();
            divan::black_box(released)
        });
}
