//! Bedrock end to end: the engine signs, the mock verifies the SigV4 signature and answers in
//! Converse / ConverseStream / InvokeModel wire format.

use crate::{chat_call, embedding_call};
use futures::StreamExt;
use llmrelay_core::ErrorKind;
use llmrelay_mock::{DEFAULT_AWS_ACCESS_KEY_ID, DEFAULT_AWS_SECRET_ACCESS_KEY, MockServer};
use llmrelay_providers::engine::ChatOutcome;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MODEL: &str = "bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0";

fn params(server: &MockServer, extra: Value) -> Map<String, Value> {
    let mut base = json!({
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": server.base_url(),
        "aws_access_key_id": DEFAULT_AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": DEFAULT_AWS_SECRET_ACCESS_KEY,
        "aws_region_name": "us-east-1",
        "num_retries": 0,
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
async fn signed_whole_chat_with_cache_usage_is_priced() {
    let server = super::server().await;
    let outcome = chat_call(params(
            &server,
            json!({
                "messages": [
                    {"role": "system", "content": "Be brief.", "cache_control": {"type": "ephemeral"}},
                    {"role": "user", "content": "hi"}
                ],
                "extra_headers": {"x-mock-cache-read-tokens": "1000", "x-mock-cache-creation-tokens": "200",
                                  "x-mock-prompt-tokens": "50", "x-mock-completion-tokens": "10"}
            }),
        ))
        .await
        .unwrap();
    let ChatOutcome::Whole(result) = outcome else {
        panic!("expected a whole response")
    };
    let usage = result.response.usage.clone().unwrap();
    assert_eq!(usage.prompt_tokens, 1250);
    assert_eq!(usage.cached_tokens(), 1000);
    assert_eq!(usage.cache_creation_tokens(), 200);
    assert_eq!(result.hidden.custom_llm_provider, "bedrock");
    // 3.5 Sonnet on Bedrock: $3/M input, $0.30/M cache read, $3.75/M cache write, $15/M output.
    let cost = result.hidden.response_cost.unwrap();
    let expected = 50.0 * 3e-6 + 1000.0 * 3e-7 + 200.0 * 3.75e-6 + 10.0 * 1.5e-5;
    assert!((cost - expected).abs() < 1e-9, "{cost} vs {expected}");
    let sent = &server.state().requests()[0];
    assert_eq!(
        sent.path,
        "/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    assert!(sent.headers["authorization"].contains("/us-east-1/bedrock/aws4_request"));
    assert_eq!(
        sent.body["system"][1],
        json!({"cachePoint": {"type": "default"}})
    );
}

#[tokio::test]
async fn stream_with_reasoning_and_parallel_tools() {
    let server = super::server().await;
    let tools = json!([
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}}
    ]);
    let outcome = chat_call(params(
        &server,
        json!({"stream": true, "tools": tools, "reasoning_effort": "low",
                   "stream_options": {"include_usage": true}}),
    ))
    .await
    .unwrap();
    let ChatOutcome::Stream(result) = outcome else {
        panic!("expected a stream")
    };
    let chunks: Vec<_> = result.stream.collect().await;
    let chunks: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.reasoning_content.clone())
        .collect();
    assert!(reasoning.starts_with("Let me think"));
    let calls: Vec<_> = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.tool_calls.clone())
        .flatten()
        .collect();
    let names: Vec<_> = calls
        .iter()
        .filter_map(|c| c.function.as_ref()?.name.clone())
        .collect();
    assert_eq!(names, ["get_weather", "get_time"]);
    // Arguments arrive in several deltas per call.
    assert!(calls.iter().filter(|c| c.index == 0).count() >= 3);
    let finish = chunks
        .iter()
        .find_map(|c| c.choices.first()?.finish_reason.clone());
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert!(chunks.last().unwrap().usage.is_some());
    let sent = &server.state().requests()[0];
    assert!(sent.path.ends_with("/converse-stream"));
    assert_eq!(
        sent.body["additionalModelRequestFields"]["thinking"]["budget_tokens"],
        1024
    );
}

#[tokio::test]
async fn bad_secret_missing_credentials_and_bearer_keys() {
    let server = super::server().await;
    let error = chat_call(params(&server, json!({"aws_secret_access_key": "wrong"})))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert!(error.message().contains("signature we calculated"));

    let mut no_credentials = params(&server, json!({"aws_profile_name": "llmrelay-none"}));
    no_credentials.remove("aws_access_key_id");
    no_credentials.remove("aws_secret_access_key");
    let before = server.state().requests().len();
    let error = chat_call(no_credentials).await.err().unwrap();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert_eq!(server.state().requests().len(), before);

    let mut bearer = params(
        &server,
        json!({"api_key": llmrelay_mock::DEFAULT_BEDROCK_API_KEY}),
    );
    bearer.remove("aws_access_key_id");
    assert!(chat_call(bearer).await.is_ok());
    let sent = server.state().requests();
    assert_eq!(
        sent.last().unwrap().headers["authorization"],
        format!("Bearer {}", llmrelay_mock::DEFAULT_BEDROCK_API_KEY)
    );

    // Temporary credentials: the session token is sent and signed.
    let with_token = params(&server, json!({"aws_session_token": "session-123"}));
    assert!(chat_call(with_token).await.is_ok());
    let sent = server.state().requests();
    assert_eq!(
        sent.last().unwrap().headers["x-amz-security-token"],
        "session-123"
    );
}

#[tokio::test]
async fn faults_map_to_litellm_classes() {
    let server = super::server().await;
    for (status, kind) in [
        ("429", ErrorKind::RateLimit),
        ("503", ErrorKind::ServiceUnavailable),
        ("403", ErrorKind::PermissionDenied),
        ("404", ErrorKind::NotFound),
    ] {
        let error = chat_call(params(
            &server,
            json!({"extra_headers": {"x-mock-status": status}}),
        ))
        .await
        .err()
        .unwrap();
        assert_eq!(error.kind(), kind, "{status}");
    }
    let error = chat_call(params(
            &server,
            json!({"extra_headers": {"x-mock-status": "400", "x-mock-error-message": "Input is too long for requested model."}}),
        ))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::ContextWindowExceeded);

    // An exception frame after two events.
    let outcome = chat_call(params(
            &server,
            json!({"stream": true, "extra_headers": {"x-mock-error-after": "2", "x-mock-error-type": "throttlingException"}}),
        ))
        .await
        .unwrap();
    let ChatOutcome::Stream(result) = outcome else {
        panic!("expected a stream")
    };
    let items: Vec<_> = result.stream.collect().await;
    let error = items.iter().find_map(|i| i.as_ref().err()).unwrap();
    assert_eq!(error.kind(), ErrorKind::RateLimit);
    assert!(items[0].is_ok());
}

/// A one-shot HTTP server answering an image.
async fn image_server(bytes: &'static [u8]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buffer = vec![0_u8; 4096];
        let _ = socket.read(&mut buffer).await.unwrap();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            bytes.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(bytes).await.unwrap();
    });
    base
}

#[tokio::test]
async fn image_urls_are_inlined_before_signing() {
    let server = super::server().await;
    let png: &'static [u8] = b"\x89PNG\r\n\x1a\nmock-image-bytes";
    let base = image_server(png).await;
    let outcome = chat_call(params(
        &server,
        json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": format!("{base}/cat")}}
        ]}]}),
    ))
    .await;
    assert!(outcome.is_ok(), "{:?}", outcome.err());
    let sent = &server.state().requests()[0];
    let image = &sent.body["messages"][0]["content"][1]["image"];
    assert_eq!(image["format"], "png");
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(image["source"]["bytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, png);
}

#[tokio::test]
async fn titan_embeddings_one_request_per_input_and_cohere_batched() {
    let server = super::server().await;
    let mut titan = params(
        &server,
        json!({"model": "bedrock/amazon.titan-embed-text-v2:0",
                                            "input": ["hello", "world wide"], "dimensions": 256}),
    );
    titan.remove("messages");
    let result = embedding_call(titan).await.unwrap();
    assert_eq!(result.response.data.len(), 2);
    assert_eq!(result.response.data[1].index, 1);
    assert_eq!(
        result.response.data[0].embedding.as_array().unwrap().len(),
        256
    );
    assert_eq!(result.response.usage.as_ref().unwrap().prompt_tokens, 2 + 3);
    let sent = server.state().requests();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[0]
            .path
            .ends_with("/model/amazon.titan-embed-text-v2%3A0/invoke")
    );

    let mut cohere = params(
        &server,
        json!({"model": "bedrock/cohere.embed-english-v3", "input": ["a", "b", "c"]}),
    );
    cohere.remove("messages");
    let result = embedding_call(cohere).await.unwrap();
    assert_eq!(result.response.data.len(), 3);
    let sent = server.state().requests();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].body["input_type"], "search_document");
}
