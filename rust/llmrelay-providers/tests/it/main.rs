//! End-to-end: the engine against the project's mock upstream over real HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use llmrelay_core::ErrorKind;
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_providers::Engine;
use llmrelay_providers::engine::{ChatOutcome, TextOutcome};
use serde_json::{Map, Value, json};

mod bedrock;
mod natives;
mod providers2;
mod reach;
mod search;

/// A chat call through the engine alone (no pipeline layers).
pub(crate) async fn chat_call(
    params: Map<String, Value>,
) -> llmrelay_core::Result<llmrelay_providers::engine::ChatOutcome> {
    Engine
        .run(llmrelay_core::CallKind::Chat, params)
        .await?
        .into_chat()
}

pub(crate) async fn text_call(
    params: Map<String, Value>,
) -> llmrelay_core::Result<llmrelay_providers::engine::TextOutcome> {
    Engine
        .run(llmrelay_core::CallKind::TextCompletion, params)
        .await?
        .into_text()
}

pub(crate) async fn embedding_call(
    params: Map<String, Value>,
) -> llmrelay_core::Result<
    llmrelay_providers::engine::CompletionResult<llmrelay_core::types::EmbeddingResponse>,
> {
    Engine
        .run(llmrelay_core::CallKind::Embedding, params)
        .await?
        .into_embedding()
}

pub(crate) async fn operation_call(
    operation: llmrelay_providers::operations::Operation,
    params: Map<String, Value>,
) -> llmrelay_core::Result<llmrelay_providers::engine::CompletionResult<Value>> {
    Engine.run(operation.kind(), params).await?.into_json()
}

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

#[tokio::test]
async fn whole_chat_is_normalized_and_priced() {
    let server = server().await;
    let outcome = chat_call(params(&server, json!({"temperature": 0.1})))
        .await
        .unwrap();
    let ChatOutcome::Whole(result) = outcome else {
        panic!("expected a whole response")
    };
    assert_eq!(result.response.object, "chat.completion");
    assert!(
        result.response.choices[0]
            .message
            .content
            .as_deref()
            .unwrap()
            .starts_with("This is a mock")
    );
    assert!(result.hidden.response_cost.unwrap() > 0.0);
    assert_eq!(result.hidden.custom_llm_provider, "openai");
    let sent = server.state().requests();
    assert_eq!(sent[0].body["temperature"], 0.1);
    assert_eq!(sent[0].body["model"], "gpt-4o-mini");
}

#[tokio::test]
async fn stream_accounts_usage_even_when_not_asked() {
    let server = server().await;
    let outcome = chat_call(params(&server, json!({"stream": true})))
        .await
        .unwrap();
    let ChatOutcome::Stream(result) = outcome else {
        panic!("expected a stream")
    };
    let summary = result.stream.summary();
    let chunks: Vec<_> = result.stream.collect().await;
    assert!(chunks.iter().all(Result::is_ok));
    assert!(
        chunks
            .iter()
            .all(|c| !c.as_ref().unwrap().choices.is_empty()),
        "usage chunk hidden"
    );
    let summary = summary.lock().unwrap().clone();
    assert!(summary.finished);
    assert!(summary.usage.unwrap().total_tokens > 0);
    assert!(summary.response_cost.unwrap() > 0.0);
}

#[tokio::test]
async fn retries_wait_for_retry_after() {
    let server = server().await;
    let started = Instant::now();
    let outcome = chat_call(params(
        &server,
        json!({"num_retries": 1, "extra_headers": {
                "x-mock-status": "429", "x-mock-retry-after": "1",
                "x-mock-fail-times": "1", "x-mock-fail-key": "rust-retry"}}),
    ))
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    let ChatOutcome::Whole(result) = outcome else {
        panic!("expected a whole response")
    };
    assert_eq!(result.hidden.num_retries, 1);
    assert_eq!(server.state().requests().len(), 2);
}

#[tokio::test]
async fn upstream_errors_are_classified() {
    let server = server().await;
    for (status, kind) in [
        ("400", ErrorKind::BadRequest),
        ("401", ErrorKind::Authentication),
        ("429", ErrorKind::RateLimit),
        ("503", ErrorKind::ServiceUnavailable),
    ] {
        let Err(error) = chat_call(params(
            &server,
            json!({"extra_headers": {"x-mock-status": status}}),
        ))
        .await
        else {
            panic!("expected an error for {status}")
        };
        assert_eq!(error.kind(), kind, "{status}");
        assert_eq!(error.inner().provider.as_deref(), Some("openai"));
    }
}

#[tokio::test]
async fn error_mid_stream_surfaces_after_the_chunks_before_it() {
    let server = server().await;
    let outcome = chat_call(params(
        &server,
        json!({"stream": true, "extra_headers": {"x-mock-error-after": "2"}}),
    ))
    .await
    .unwrap();
    let ChatOutcome::Stream(result) = outcome else {
        panic!("expected a stream")
    };
    let items: Vec<_> = result.stream.collect().await;
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 2);
    assert_eq!(
        items.last().unwrap().as_ref().unwrap_err().kind(),
        ErrorKind::InternalServer
    );
}

#[tokio::test]
async fn embeddings_and_text_completions() {
    let server = server().await;
    let mut embedding = params(&server, json!({"input": ["a", "b"]}));
    embedding.remove("messages");
    let result = embedding_call(embedding).await.unwrap();
    assert_eq!(result.response.data.len(), 2);
    let mut text = params(
        &server,
        json!({"prompt": "say", "model": "gpt-3.5-turbo-instruct"}),
    );
    text.remove("messages");
    let TextOutcome::Whole(result) = text_call(text).await.unwrap() else {
        panic!("expected a whole response")
    };
    assert!(!result.response.choices[0].text.is_empty());
}

mod gemini;
