//! Translation speed per provider: building the upstream request for a 20-message
//! conversation with 10 tools, and decoding a 500-chunk stream (SSE framing + the provider's
//! decoder) into canonical chunks. Results: `benches/README.md`.
//!
//! Run: `cargo bench -p llmrelay-providers --bench bench_translation`.

// Benchmark setup may fail loudly, like tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use serde_json::{Value, json};

use llmrelay_core::types::ChatRequest;
use llmrelay_providers::provider::Endpoint;
use llmrelay_providers::stream::decode_sse;

/// 20 messages: a system prompt, then user / assistant-with-tool-call / tool-result turns, with
/// 10 tools offered.
fn conversation(model: &str) -> ChatRequest {
    let tools: Vec<Value> = (0..10)
        .map(|i| {
            json!({"type": "function", "function": {
                "name": format!("tool_{i}"), "description": format!("Tool number {i} does a thing"),
                "parameters": {"type": "object", "properties": {
                    "city": {"type": "string", "description": "A city"},
                    "days": {"type": "integer", "minimum": 1},
                    "units": {"type": "string", "enum": ["metric", "imperial"]}},
                    "required": ["city"]}}})
        })
        .collect();
    let mut messages = vec![json!({"role": "system", "content": "You are a helpful assistant."})];
    let mut turn = 0;
    while messages.len() < 20 {
        messages.push(json!({"role": "user", "content": format!("Question {turn}: what is the weather in Paris for the next days?")}));
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": format!("call_{turn}"), "type": "function",
            "function": {"name": format!("tool_{}", turn % 10), "arguments": "{\"city\":\"Paris\",\"days\":3}"}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": format!("call_{turn}"), "content": "Sunny, 21C, light wind from the west."}));
        turn += 1;
    }
    messages.truncate(19);
    messages.push(json!({"role": "user", "content": "Thanks. And tomorrow?"}));
    serde_json::from_value(json!({
        "model": model, "messages": messages, "tools": tools, "tool_choice": "auto",
        "max_tokens": 1024, "temperature": 0.2
    }))
    .unwrap()
}

fn endpoint() -> Endpoint {
    Endpoint {
        api_base: "http://127.0.0.1:9".to_owned(),
        api_key: Some("sk-bench".to_owned()),
        ..Endpoint::default()
    }
}

/// 500 content chunks in the provider's own stream format.
fn stream_body(provider: &str) -> Bytes {
    let mut body = String::new();
    match provider {
        "openai" => {
            for i in 0..500 {
                let chunk = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                    "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": format!("tok{i} ")}, "finish_reason": null}]});
                body.push_str(&format!("data: {chunk}\n\n"));
            }
            body.push_str("data: [DONE]\n\n");
        }
        "anthropic" => {
            let start = json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 10, "output_tokens": 1}}});
            body.push_str(&format!("event: message_start\ndata: {start}\n\n"));
            body.push_str("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
            for i in 0..497 {
                let delta = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": format!("tok{i} ")}});
                body.push_str(&format!("event: content_block_delta\ndata: {delta}\n\n"));
            }
            body.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
            body.push_str("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":500}}\n\n");
            body.push_str("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        }
        other => unreachable!("no stream fixture for {other}"),
    }
    Bytes::from(body)
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (name, model) in [("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5")] {
        let provider = llmrelay_providers::registry::lookup(name).unwrap();
        let request = conversation(model);
        let endpoint = endpoint();
        let mut group = c.benchmark_group(name);
        group.bench_function("translate_20_messages_10_tools", |b| {
            b.iter(|| {
                provider
                    .chat_request(black_box(&request), &endpoint)
                    .unwrap()
            })
        });
        let body = stream_body(name);
        // Split the body into 4 KiB reads, as a socket delivers it.
        let pieces: Vec<Bytes> = body.chunks(4096).map(Bytes::copy_from_slice).collect();
        group.throughput(Throughput::Elements(500));
        group.bench_function("decode_500_chunk_stream", |b| {
            b.iter(|| {
                let reads = futures::stream::iter(
                    pieces
                        .clone()
                        .into_iter()
                        .map(Ok::<_, std::convert::Infallible>),
                );
                let chunks = decode_sse(reads, provider.chat_decoder(&request), None);
                let count =
                    runtime.block_on(chunks.filter(|c| std::future::ready(c.is_ok())).count());
                assert!(count >= 499, "{name}: {count} chunks");
                count
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
