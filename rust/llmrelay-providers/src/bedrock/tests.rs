//! Translation tests on the AWS-documented fixtures in `tests/fixtures/bedrock/`.

use serde_json::{Value, json};

use llmrelay_core::ErrorKind;
use llmrelay_core::types::{ChatChunk, ChatRequest, EmbeddingRequest};

use super::*;
use crate::aws_eventstream;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/bedrock/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn chat(value: Value) -> ChatRequest {
    serde_json::from_value(value).unwrap()
}

fn body(value: Value) -> Value {
    let request = chat(value);
    let model = model_id(request.model.trim_start_matches("bedrock/")).to_owned();
    serde_json::to_value(converse_body(&request, &model, false).unwrap()).unwrap()
}

#[test]
fn full_request_matches_converse_reference() {
    let case = fixture("request_full.json");
    let request = chat(case["request"].clone());
    let built = converse_body(&request, case["model"].as_str().unwrap(), false).unwrap();
    assert_eq!(serde_json::to_value(built).unwrap(), case["expected"]);
}

#[test]
fn urls_encode_the_model_id() {
    assert_eq!(
        model_url(
            "https://bedrock-runtime.us-east-1.amazonaws.com/",
            "converse/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
            "converse-stream"
        ),
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"
    );
    assert_eq!(
        model_url(
            "http://m",
            "arn:aws:bedrock:us-east-1:1:inference-profile/x",
            "converse"
        ),
        "http://m/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx/converse"
    );
}

#[test]
fn parameters_map_as_litellm_maps_them() {
    let base = json!({"model": "anthropic.claude-3-5-sonnet-20240620-v1:0",
                      "messages": [{"role": "user", "content": "hi"}]});
    let with = |extra: Value| {
        let mut v = base.clone();
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    // max_completion_tokens, top_p, a bare stop string.
    let b = body(with(
        json!({"max_completion_tokens": 7, "top_p": 0.9, "stop": "X"}),
    ));
    assert_eq!(
        b["inferenceConfig"],
        json!({"maxTokens": 7, "topP": 0.9, "stopSequences": ["X"]})
    );
    // reasoning_effort → thinking budget, maxTokens = budget + 4096 when unset.
    let b = body(with(json!({"reasoning_effort": "high"})));
    assert_eq!(
        b["additionalModelRequestFields"]["thinking"],
        json!({"type": "enabled", "budget_tokens": 4096})
    );
    assert_eq!(b["inferenceConfig"]["maxTokens"], 8192);
    // A too-small explicit budget is clamped to Bedrock's minimum.
    let b = body(with(
        json!({"thinking": {"type": "enabled", "budget_tokens": 10}}),
    ));
    assert_eq!(
        b["additionalModelRequestFields"]["thinking"]["budget_tokens"],
        1024
    );
    // Consecutive user messages merge; empty assistant messages vanish.
    let b = body(with(json!({"messages": [
        {"role": "user", "content": "a"}, {"role": "user", "content": "b"},
        {"role": "assistant", "content": ""}, {"role": "user", "content": "c"}]})));
    assert_eq!(
        b["messages"],
        json!([{"role": "user", "content": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}])
    );
    // Named tool choice; response_format json_schema → json_tool_call forced.
    let tools =
        json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
    let b = body(with(
        json!({"tools": tools, "tool_choice": {"type": "function", "function": {"name": "f"}}}),
    ));
    assert_eq!(
        b["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "f"}})
    );
    let b = body(with(
        json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}}}),
    ));
    assert_eq!(
        b["toolConfig"]["tools"][0]["toolSpec"]["name"],
        "json_tool_call"
    );
    assert_eq!(
        b["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "json_tool_call"}})
    );
    // json_object without a schema adds nothing (LiteLLM relies on the prompt).
    let b = body(with(json!({"response_format": {"type": "json_object"}})));
    assert!(b.get("toolConfig").is_none());
    // parallel_tool_calls=false → Anthropic's disable_parallel_tool_use.
    let b = body(with(json!({"tools": tools, "parallel_tool_calls": false})));
    assert_eq!(
        b["additionalModelRequestFields"]["tool_choice"]["disable_parallel_tool_use"],
        true
    );
    // Caller's additionalModelRequestFields win.
    let b = body(with(
        json!({"additionalModelRequestFields": {"top_k": 3}, "top_k": 9}),
    ));
    assert_eq!(b["additionalModelRequestFields"]["top_k"], 3);
    // tool_choice none: an error unless drop_params, then dropped.
    let request = chat(with(json!({"tools": tools, "tool_choice": "none"})));
    let error =
        converse_body(&request, "anthropic.claude-3-5-sonnet-20240620-v1:0", false).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnsupportedParams);
    let dropped =
        converse_body(&request, "anthropic.claude-3-5-sonnet-20240620-v1:0", true).unwrap();
    assert!(dropped.tool_config.unwrap().tool_choice.is_none());
    // Unsupported OpenAI params.
    let request = chat(with(json!({"presence_penalty": 0.5})));
    let error = converse_body(&request, "m", false).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnsupportedParams);
    // http(s) images are the engine's to download first; translation takes bytes only.
    assert!(Bedrock.inlines_image_url("https://example.com/cat.png"));
    assert!(!Bedrock.inlines_image_url("data:image/png;base64,AAAA"));
    let request = chat(with(json!({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "http://127.0.0.1:1/cat.png"}}]}]})));
    let error = converse_body(&request, "m", false).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadRequest);
}

#[test]
fn whole_response_with_reasoning_tools_and_cache_usage() {
    let body = serde_json::to_vec(&fixture("response_reasoning_tool_use.json")).unwrap();
    let response =
        parse_response(&body, "anthropic.claude-3-7-sonnet-20250219-v1:0", false).unwrap();
    let choice = &response.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(choice.message.content.as_deref(), Some("Checking both."));
    let calls = choice.message.tool_calls.as_ref().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].id, "tooluse_a");
    assert_eq!(
        calls[1].function.arguments,
        r#"{"city": "Rome", "units": ["c"]}"#
    );
    assert_eq!(
        choice.message.reasoning_content.as_deref(),
        Some("Need both cities.")
    );
    assert_eq!(
        choice.message.thinking_blocks.as_ref().unwrap()[0],
        json!({"type": "thinking", "thinking": "Need both cities.", "signature": "EqoBCkgIARABGAIiQL"})
    );
    let usage = response.usage.unwrap();
    assert_eq!(usage.prompt_tokens, 2200);
    assert_eq!(usage.cached_tokens(), 2000);
    assert_eq!(usage.cache_creation_tokens(), 100);
    assert_eq!(usage.completion_tokens, 40);
    // Priced from the bundled map: cache reads and writes at their own rates.
    let counts = llmrelay_core::cost::TokenCounts::from(&usage);
    let priced = llmrelay_core::cost::for_model(
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        Some("bedrock"),
        counts,
        llmrelay_core::cost::PriceOverrides::default(),
        None,
    )
    .unwrap();
    assert!(priced.cache_read_cost > rust_decimal::Decimal::ZERO);
    assert!(priced.cache_creation_cost > priced.cache_read_cost / rust_decimal::Decimal::from(20));
    assert!(
        llmrelay_core::catalog::global()
            .lookup(
                "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                Some("bedrock")
            )
            .is_some()
    );
}

#[test]
fn json_mode_unwraps_the_json_tool() {
    let body = json!({"output": {"message": {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "t", "name": "json_tool_call", "input": {"a": 1}}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}});
    let response = parse_response(&serde_json::to_vec(&body).unwrap(), "m", true).unwrap();
    assert_eq!(
        response.choices[0].message.content.as_deref(),
        Some(r#"{"a": 1}"#)
    );
    assert!(response.choices[0].message.tool_calls.is_none());
    assert_eq!(response.choices[0].finish_reason.as_deref(), Some("stop"));
    for (reason, mapped) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
    ] {
        assert_eq!(response::finish_reason(reason), mapped);
    }
}

/// Encode fixture events as event-stream frames, frame them back and decode.
pub(crate) fn stream_body(events: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    for item in events.as_array().unwrap() {
        out.extend(aws_eventstream::encode_event(
            item["event"].as_str().unwrap(),
            &item["data"].to_string(),
        ));
    }
    out
}

async fn decode_all(bytes: Vec<u8>, json_mode: bool) -> Vec<llmrelay_core::Result<ChatChunk>> {
    use futures::StreamExt;
    let pieces: Vec<std::result::Result<bytes::Bytes, std::convert::Infallible>> = bytes
        .chunks(11)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    crate::stream::decode(
        futures::stream::iter(pieces),
        crate::provider::Framing::AwsEventStream,
        Box::new(BedrockChatDecoder::new("m", json_mode)),
        None,
    )
    .collect()
    .await
}

#[tokio::test]
async fn stream_decodes_reasoning_text_and_tool_deltas() {
    let case = fixture("stream_tool_use.json");
    let chunks: Vec<ChatChunk> = decode_all(stream_body(&case["events"]), false)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.reasoning_content.clone())
        .collect();
    assert_eq!(reasoning, "Two calls.");
    let signature = chunks.iter().find_map(|c| {
        c.choices
            .first()?
            .delta
            .thinking_blocks
            .as_ref()?
            .first()?
            .get("signature")
            .cloned()
    });
    assert_eq!(signature, Some(json!("sig-stream")));
    let text: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.content.clone())
        .collect();
    assert_eq!(text, "Checking");
    let tool_deltas: Vec<_> = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.tool_calls.clone())
        .flatten()
        .collect();
    assert_eq!(tool_deltas.len(), 5);
    assert_eq!(tool_deltas[0].id.as_deref(), Some("tooluse_p"));
    assert_eq!(
        tool_deltas[1]
            .function
            .as_ref()
            .unwrap()
            .arguments
            .as_deref(),
        Some("{\"city\": ")
    );
    assert_eq!(tool_deltas[3].index, 1);
    assert_eq!(tool_deltas[3].id.as_deref(), Some("tooluse_r"));
    let finish = chunks
        .iter()
        .find_map(|c| c.choices.first()?.finish_reason.clone());
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert_eq!(last.usage.as_ref().unwrap().total_tokens, 80);
}

#[tokio::test]
async fn mid_stream_exception_frame_is_an_error() {
    let mut bytes = stream_body(&json!([{"event": "messageStart", "data": {"role": "assistant"}}]));
    bytes.extend(aws_eventstream::encode(
        &[
            (":message-type", "exception"),
            (":exception-type", "throttlingException"),
            (":content-type", "application/json"),
        ],
        br#"{"message":"Too many tokens per minute"}"#,
    ));
    let results = decode_all(bytes, false).await;
    assert!(results[0].is_ok());
    let error = results[1].as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimit);
}

#[test]
fn embeddings_bodies_and_responses() {
    let request: EmbeddingRequest = serde_json::from_value(json!({
        "model": "amazon.titan-embed-text-v2:0", "input": ["hello"], "dimensions": 256, "normalize": true
    })).unwrap();
    assert_eq!(
        embedding::embedding_body(&request, "amazon.titan-embed-text-v2:0").unwrap(),
        json!({"inputText": "hello", "dimensions": 256, "normalize": true})
    );
    let v1 = embedding::embedding_body(&request, "amazon.titan-embed-text-v1").unwrap();
    assert_eq!(v1, json!({"inputText": "hello"}));
    assert_eq!(
        Bedrock.embedding_batch_size("amazon.titan-embed-text-v1"),
        Some(1)
    );
    assert_eq!(
        Bedrock.embedding_batch_size("cohere.embed-english-v3"),
        None
    );
    let request: EmbeddingRequest = serde_json::from_value(json!({
        "model": "cohere.embed-english-v3", "input": ["a", "b"]
    }))
    .unwrap();
    assert_eq!(
        embedding::embedding_body(&request, "cohere.embed-english-v3").unwrap(),
        json!({"texts": ["a", "b"], "input_type": "search_document"})
    );
    let titan =
        embedding::parse_embedding(br#"{"embedding":[0.1,0.2],"inputTextTokenCount":3}"#).unwrap();
    assert_eq!(titan.usage.unwrap().prompt_tokens, 3);
    let cohere = embedding::parse_embedding(
        br#"{"id":"x","embeddings":[[0.1],[0.2]],"texts":["hello world","b"],"response_type":"embeddings_floats"}"#,
    ).unwrap();
    assert_eq!(cohere.data.len(), 2);
    assert_eq!(cohere.data[1].index, 1);
    assert!(cohere.usage.unwrap().prompt_tokens >= 2);
}

#[tokio::test]
async fn missing_credentials_fail_before_any_io() {
    let mut request = HttpRequest {
        url: "http://127.0.0.1:1/model/m/converse".to_owned(),
        headers: Vec::new(),
        body: b"{}".to_vec(),
    };
    let mut credentials = Map::new();
    credentials.insert(
        "aws_profile_name".to_owned(),
        json!("llmrelay-no-such-profile"),
    );
    let error = authorize_request(&mut request, None, &credentials)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication);
}

#[test]
fn cache_ttl_only_where_bedrock_takes_it() {
    let request = |model: &str| {
        chat(
            json!({"model": model, "messages": [{"role": "user", "content": "hi",
            "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}),
        )
    };
    let model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let body = serde_json::to_value(converse_body(&request(model), model, false).unwrap()).unwrap();
    assert_eq!(
        body["messages"][0]["content"][1],
        json!({"cachePoint": {"type": "default", "ttl": "1h"}})
    );
    let model = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    let body = serde_json::to_value(converse_body(&request(model), model, false).unwrap()).unwrap();
    assert_eq!(
        body["messages"][0]["content"][1],
        json!({"cachePoint": {"type": "default"}})
    );
}
