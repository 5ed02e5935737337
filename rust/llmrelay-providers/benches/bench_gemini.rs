//! Gemini translation micro-benchmarks: a 20-message request with 10 tools, and a 500-chunk stream.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark setup")]

use criterion::{Criterion, criterion_group, criterion_main};
use llmrelay_core::types::{ChatChunk, ChatRequest};
use llmrelay_providers::gemini::{GeminiChatDecoder, GoogleApi, generate_content_body};
use llmrelay_providers::provider::ChunkDecoder;
use llmrelay_providers::sse::RawEvent;
use serde_json::{Value, json};

fn request() -> ChatRequest {
    let tools: Vec<Value> = (0..10)
        .map(|i| {
            json!({"type": "function", "function": {"name": format!("tool_{i}"), "description": "does a thing",
                "parameters": {"type": "object", "additionalProperties": false, "$schema": "x",
                    "properties": {"city": {"type": "string"}, "unit": {"anyOf": [{"type": "string", "enum": ["c", "f"]}, {"type": "null"}]},
                                   "when": {"$ref": "#/$defs/When"}},
                    "required": ["city"], "$defs": {"When": {"type": "string", "format": "date-time"}}}}})
        })
        .collect();
    let mut messages = vec![json!({"role": "system", "content": "You are helpful."})];
    for i in 0..19 {
        messages.push(if i % 2 == 0 {
            json!({"role": "user", "content": format!("Question number {i} about the weather in some city?")})
        } else {
            json!({"role": "assistant", "content": format!("Answer number {i}: it is sunny and warm today.")})
        });
    }
    serde_json::from_value(
        json!({"model": "gemini-2.5-flash", "messages": messages, "tools": tools,
        "tool_choice": "auto", "temperature": 0.3, "max_tokens": 512, "reasoning_effort": "low"}),
    )
    .unwrap()
}

fn stream_events() -> Vec<RawEvent> {
    (0..500)
        .map(|i| {
            let mut chunk = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "word "}]}, "index": 0}],
                "modelVersion": "gemini-2.5-flash", "responseId": "r"});
            if i == 499 {
                chunk["candidates"][0]["finishReason"] = json!("STOP");
                chunk["usageMetadata"] = json!({"promptTokenCount": 10, "candidatesTokenCount": 500, "totalTokenCount": 510});
            }
            RawEvent { event: String::new(), data: chunk.to_string() }
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let request = request();
    c.bench_function("gemini_translate_20_messages_10_tools", |b| {
        b.iter(|| generate_content_body(std::hint::black_box(&request)).unwrap());
    });
    let events = stream_events();
    c.bench_function("gemini_decode_500_chunk_stream", |b| {
        b.iter(|| {
            let mut decoder = GeminiChatDecoder::new(&request, GoogleApi::Gemini);
            let mut out: Vec<ChatChunk> = Vec::with_capacity(512);
            for event in &events {
                decoder.decode(event, &mut out).unwrap();
            }
            out.len()
        });
    });
}

criterion_group!(gemini, benches);
criterion_main!(gemini);
