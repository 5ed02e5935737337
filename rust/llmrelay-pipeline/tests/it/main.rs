//! The pipeline's layer API end to end: every probe layer (reject, answer at once whole and as
//! a replayed stream, rewrite the request, transform and stop a stream, run beside the call
//! and cancel it, see every attempt, carry a reserved value to settlement, account exactly
//! once) on SDK calls (the engine directly) against the mock upstream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Map, Value, json};

use llmrelay_core::CallKind;
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_pipeline::probes::{self, Journal};
use llmrelay_pipeline::{Answer, Call, Direct, Origin, Pipeline};
use llmrelay_providers::engine::{ChatOutcome, Outcome};

async fn server() -> MockServer {
    MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap()
}

fn params(server: &MockServer, extra: Value) -> Map<String, Value> {
    let mut base = json!({
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": format!("{}/v1", server.base_url()),
        "api_key": "sk-test",
    });
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    match base {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn probe(spec: Value) -> Value {
    json!({"metadata": {"probe": spec}})
}

fn pipeline() -> (Pipeline, Arc<Journal>) {
    let journal = Arc::new(Journal::default());
    (Pipeline::new(probes::all(&journal)), journal)
}

async fn run(
    pipeline: &Pipeline,
    params: Map<String, Value>,
) -> Result<Answer, llmrelay_pipeline::Failure> {
    let call = Call::parse(CallKind::Chat, params, Origin::Sdk).unwrap();
    pipeline.run(Box::new(call), &Direct).await
}

fn whole_text(answer: Answer) -> String {
    let Answer::Whole(whole) = answer else {
        panic!("whole answer expected")
    };
    let (outcome, _) = whole.settle();
    let Outcome::Chat(ChatOutcome::Whole(result)) = outcome else {
        panic!("chat expected")
    };
    result.response.choices[0]
        .message
        .content
        .clone()
        .unwrap_or_default()
}

async fn stream_text(answer: Answer) -> (String, usize) {
    let Answer::Chat(mut stream) = answer else {
        panic!("chat stream expected")
    };
    let mut text = String::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        for choice in &chunk.choices {
            if let Some(content) = &choice.delta.content {
                if !content.is_empty() {
                    chunks += 1;
                    text.push_str(content);
                }
            }
        }
    }
    (text, chunks)
}

#[tokio::test]
async fn idle_probes_change_nothing_and_book_once() {
    let server = server().await;
    let (pipeline, journal) = pipeline();
    let text = whole_text(
        run(&pipeline, params(&server, probe(json!({}))))
            .await
            .unwrap(),
    );
    assert!(text.starts_with("This is a mock"));
    assert_eq!(
        journal.matching("books"),
        ["books success cost=0.000007 reserved=- cache_hit=false stream=false"]
    );
    assert!(journal.matching("attempt").is_empty());
}

#[tokio::test]
async fn a_layer_rejects_before_any_upstream_call() {
    let server = server().await;
    let (pipeline, journal) = pipeline();
    let failure = run(
        &pipeline,
        params(&server, probe(json!({"reject": "not for you"}))),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(failure.error.status_code(), 403);
    assert_eq!(failure.error.message(), "not for you");
    assert!(server.state().requests().is_empty());
    assert_eq!(
        journal.matching("books"),
        ["books failure cost=- reserved=- cache_hit=false stream=false"]
    );
}

#[tokio::test]
async fn a_layer_answers_whole_and_as_a_replayed_stream() {
    let server = server().await;
    let (pipeline, journal) = pipeline();
    let text = whole_text(
        run(
            &pipeline,
            params(&server, probe(json!({"answer": "from the layer"}))),
        )
        .await
        .unwrap(),
    );
    assert_eq!(text, "from the layer");
    let (text, _) = stream_text(
        run(
            &pipeline,
            params(
                &server,
                json!({"stream": true, "metadata": {"probe": {"cached": "cached text"}}}),
            ),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(text, "cached text");
    assert!(server.state().requests().is_empty(), "no upstream call");
    assert_eq!(
        journal.matching("books"),
        [
            "books success cost=- reserved=- cache_hit=false stream=false",
            "books success cost=0.000000 reserved=- cache_hit=true stream=true",
        ]
    );
}

#[tokio::test]
async fn a_layer_rewrites_the_request() {
    let server = server().await;
    let (pipeline, _) = pipeline();
    run(
        &pipeline,
        params(&server, probe(json!({"rewrite": " (checked)"}))),
    )
    .await
    .unwrap();
    let sent = server.state().requests();
    assert_eq!(sent[0].body["messages"][0]["content"], "hi (checked)");
}

#[tokio::test]
async fn a_layer_transforms_and_stops_a_stream() {
    let server = server().await;
    let (pipeline, journal) = pipeline();
    let (text, _) = stream_text(
        run(
            &pipeline,
            params(
                &server,
                json!({"stream": true, "metadata": {"probe": {"shout": true}}}),
            ),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(text, "THIS IS A MOCK RESPONSE FROM LLMRELAY-MOCK.");
    let (text, chunks) = stream_text(
        run(
            &pipeline,
            params(
                &server,
                json!({"stream": true, "metadata": {"probe": {"stop_after": 2}}}),
            ),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(chunks, 2);
    assert!(text.len() < "This is a mock response from llmrelay-mock.".len());
    // Whole answers are transformed too.
    let text = whole_text(
        run(&pipeline, params(&server, probe(json!({"shout": true}))))
            .await
            .unwrap(),
    );
    assert_eq!(text, "THIS IS A MOCK RESPONSE FROM LLMRELAY-MOCK.");
    assert_eq!(journal.matching("books success").len(), 3);
}

#[tokio::test]
async fn a_task_beside_the_call_cancels_it() {
    let server = server().await;
    let (pipeline, journal) = pipeline();
    let started = Instant::now();
    let failure = run(
        &pipeline,
        params(
            &server,
            json!({"extra_headers": {"x-mock-latency-ms": "3000"}, "metadata": {"probe": {"cancel_after_ms": 50}}}),
        ),
    )
    .await
    .err()
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(failure.error.status_code(), 400);
    assert_eq!(
        journal.matching("beside"),
        ["beside: started", "beside: cancelling"]
    );
    assert_eq!(
        journal.matching("books"),
        ["books failure cost=- reserved=- cache_hit=false stream=false"]
    );
    // A task that would cancel later than the answer arrives holds the answer back; an
    // answer that needs no task is not delayed.
    let quick = run(&pipeline, params(&server, probe(json!({})))).await;
    assert!(quick.is_ok());
}

#[tokio::test]
async fn every_attempt_is_seen() {
    let server = server().await;
    let (pipeline, journal) = pipeline();
    let answer = run(
        &pipeline,
        params(
            &server,
            json!({
                "num_retries": 3,
                "extra_headers": {"x-mock-fail-times": "2", "x-mock-fail-key": "seen", "x-mock-retry-after-ms": "1"},
                "metadata": {"probe": {"attempts": true}},
            }),
        ),
    )
    .await
    .unwrap();
    assert_eq!(answer.route().attempts, 3);
    assert_eq!(
        journal.matching("attempt"),
        [
            "attempt 0 retry=0 fallback=0 group=openai/gpt-4o-mini deployment=- → internal_server",
            "attempt 1 retry=1 fallback=0 group=openai/gpt-4o-mini deployment=- → internal_server",
            "attempt 2 retry=2 fallback=0 group=openai/gpt-4o-mini deployment=- → ok",
        ]
    );
    // A per-attempt layer may refuse an attempt; a retryable refusal is retried.
    let answer = run(
        &pipeline,
        params(
            &server,
            json!({"num_retries": 1, "metadata": {"probe": {"refuse_first_attempt": true}}}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(answer.route().attempts, 2);
}

#[tokio::test]
async fn a_reserved_value_reaches_settlement() {
    let server = server().await;
    let (pipeline, journal) = pipeline();
    whole_text(
        run(&pipeline, params(&server, probe(json!({"reserve": 0.25}))))
            .await
            .unwrap(),
    );
    assert_eq!(
        journal.matching("books"),
        ["books success cost=0.000007 reserved=0.25 cache_hit=false stream=false"]
    );
}

#[tokio::test]
async fn accounting_happens_exactly_once_on_failure_and_disconnect() {
    let server = server().await;
    let (pipeline, journal) = pipeline();
    let failure = run(
        &pipeline,
        params(
            &server,
            json!({"extra_headers": {"x-mock-status": "500"}, "metadata": {"probe": {}}}),
        ),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(failure.error.status_code(), 500);
    // A stream the caller drops after its first chunk.
    let answer = run(
        &pipeline,
        params(
            &server,
            json!({"stream": true, "extra_headers": {"x-mock-chunk-count": "20"}, "metadata": {"probe": {}}}),
        ),
    )
    .await
    .unwrap();
    let Answer::Chat(mut stream) = answer else {
        panic!("stream expected")
    };
    stream.next().await.unwrap().unwrap();
    drop(stream);
    // A whole answer dropped before it was delivered (a client that went away).
    let answer = run(&pipeline, params(&server, probe(json!({}))))
        .await
        .unwrap();
    drop(answer);
    let books = journal.matching("books");
    assert_eq!(books.len(), 3, "{books:?}");
    assert!(books[0].starts_with("books failure"));
    assert!(books[1].starts_with("books cancelled") && books[1].ends_with("stream=true"));
    assert!(books[2].starts_with("books cancelled"));
}

#[tokio::test]
async fn the_payload_is_built_in_rust_when_asked() {
    let server = server().await;
    let (pipeline, _) = pipeline();
    let mut call = Call::parse(
        CallKind::Chat,
        params(&server, json!({"metadata": {"team": "a"}})),
        Origin::Sdk,
    )
    .unwrap();
    call.wants_payload = true;
    let Answer::Whole(whole) = pipeline.run(Box::new(call), &Direct).await.unwrap() else {
        panic!("whole expected")
    };
    let (_, settlement) = whole.settle();
    let payload = settlement.payload().unwrap().to_value();
    assert_eq!(payload["status"], "success");
    assert_eq!(payload["call_type"], "completion");
    assert_eq!(payload["custom_llm_provider"], "openai");
    assert_eq!(payload["metadata"]["team"], "a");
    assert_eq!(
        payload["total_tokens"],
        payload["prompt_tokens"].as_u64().unwrap() + payload["completion_tokens"].as_u64().unwrap()
    );
    assert!(payload["response"]["choices"].is_array());
}
