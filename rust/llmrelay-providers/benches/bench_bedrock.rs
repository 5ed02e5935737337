//! Bedrock translation speed: building (and SigV4-signing) the Converse request for a 20-message
//! conversation with 10 tools, and decoding a 500-chunk ConverseStream (AWS event-stream framing
//! plus the Converse decoder) into canonical chunks.
//!
//! Run: `cargo bench -p llmrelay-providers --bench bench_bedrock`.

// Benchmark setup may fail loudly, like tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::SystemTime;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use serde_json::{Value, json};

use llmrelay_core::types::ChatRequest;
use llmrelay_providers::aws_eventstream::encode_event;
use llmrelay_providers::bedrock::auth::{self, AwsCredentials, SigningScope};
use llmrelay_providers::bedrock::{BedrockChatDecoder, converse_body, model_url};
use llmrelay_providers::provider::Framing;
use llmrelay_providers::stream::decode;

const MODEL: &str = "us.anthropic.claude-3-5-sonnet-20240620-v1:0";

/// 20 messages: a system prompt, then user / assistant-with-tool-call / tool-result turns, with
/// 10 tools offered.
fn conversation() -> ChatRequest {
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
            "id": format!("tooluse_{turn}"), "type": "function",
            "function": {"name": format!("tool_{}", turn % 10), "arguments": "{\"city\": \"Paris\", \"days\": 3}"}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": format!("tooluse_{turn}"), "content": "Sunny, 21C"}));
        turn += 1;
    }
    messages.truncate(20);
    serde_json::from_value(json!({
        "model": MODEL, "messages": messages, "tools": tools, "max_tokens": 1024, "temperature": 0.3
    }))
    .unwrap()
}

/// A ConverseStream of 500 frames: text deltas, then a tool call, stop and metadata.
fn stream_body() -> Vec<u8> {
    let mut out = encode_event("messageStart", r#"{"role":"assistant"}"#);
    for i in 0..490 {
        let data = json!({"contentBlockIndex": 0, "delta": {"text": format!("word{i} ")}});
        out.extend(encode_event("contentBlockDelta", &data.to_string()));
    }
    out.extend(encode_event(
        "contentBlockStop",
        r#"{"contentBlockIndex":0}"#,
    ));
    out.extend(encode_event(
        "contentBlockStart",
        r#"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tooluse_x","name":"tool_1"}}}"#,
    ));
    for piece in [r#"{\"city\""#, r#": \"Paris\""#, r#", \"days\": 3}"#] {
        let data =
            format!(r#"{{"contentBlockIndex":1,"delta":{{"toolUse":{{"input":"{piece}"}}}}}}"#);
        out.extend(encode_event("contentBlockDelta", &data));
    }
    out.extend(encode_event(
        "contentBlockStop",
        r#"{"contentBlockIndex":1}"#,
    ));
    out.extend(encode_event("messageStop", r#"{"stopReason":"tool_use"}"#));
    out.extend(encode_event(
        "metadata",
        r#"{"usage":{"inputTokens":100,"outputTokens":500,"totalTokens":600},"metrics":{"latencyMs":900}}"#,
    ));
    out
}

fn translation(c: &mut Criterion) {
    let request = conversation();
    let url = model_url(
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        MODEL,
        "converse",
    );
    let credentials = AwsCredentials {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
        session_token: None,
    };
    let mut group = c.benchmark_group("bedrock");
    group.bench_function("converse_request_20_messages_10_tools", |b| {
        b.iter(|| {
            let body = converse_body(black_box(&request), MODEL, false).unwrap();
            black_box(serde_json::to_vec(&body).unwrap())
        });
    });
    let body = serde_json::to_vec(&converse_body(&request, MODEL, false).unwrap()).unwrap();
    let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    group.bench_function("sigv4_sign_converse_request", |b| {
        b.iter(|| {
            black_box(
                auth::signature_headers(
                    "POST",
                    &url,
                    &headers,
                    black_box(&body),
                    &credentials,
                    SigningScope {
                        region: "us-east-1",
                        service: auth::SIGNING_SERVICE,
                        time: SystemTime::now(),
                    },
                )
                .unwrap(),
            )
        });
    });

    let stream = Bytes::from(stream_body());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    group.throughput(Throughput::Elements(500));
    group.bench_function("converse_stream_decode_500_chunks", |b| {
        b.iter(|| {
            // Reads of 4 KiB, as a socket would hand them over.
            let pieces: Vec<Result<Bytes, std::convert::Infallible>> = (0..stream.len())
                .step_by(4096)
                .map(|start| Ok(stream.slice(start..(start + 4096).min(stream.len()))))
                .collect();
            let decoded = decode(
                futures::stream::iter(pieces),
                Framing::AwsEventStream,
                Box::new(BedrockChatDecoder::new(MODEL, false)),
                None,
            );
            let count = runtime.block_on(decoded.fold(0_usize, |n, chunk| async move {
                assert!(chunk.is_ok());
                n + 1
            }));
            black_box(count)
        });
    });
    group.finish();
}

criterion_group!(benches, translation);
criterion_main!(benches);
