//! The Bedrock Runtime routes: authentication (bearer keys, SigV4 rejections), validation, whole and
//! event-stream answers, faults and scripts.

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::Buf;
use serde_json::{Value, json};

use super::{Harness, start};
use llmrelay_mock::{DEFAULT_BEDROCK_API_KEY, ScriptedResponse};

const CONVERSE: &str = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse";
const CONVERSE_STREAM: &str = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream";

impl Harness {
    fn bedrock(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .bearer_auth(DEFAULT_BEDROCK_API_KEY)
            .json(body)
    }
}

fn converse_body() -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": "Hello there, mock!"}]}]})
}

fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

/// Every frame of an event-stream body: (`:event-type` or `exception:<type>`, payload JSON).
fn frames(mut body: &[u8]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    while body.has_remaining() {
        let message = read_message_from(&mut body).unwrap();
        let name = match header(&message, ":message-type") {
            Some("exception") => {
                format!("exception:{}", header(&message, ":exception-type").unwrap())
            }
            _ => header(&message, ":event-type").unwrap().to_owned(),
        };
        out.push((name, serde_json::from_slice(message.payload()).unwrap()));
    }
    out
}

#[tokio::test]
async fn authentication_failures_answer_as_aws() {
    let harness = start().await;
    let response = harness
        .client
        .post(harness.url(CONVERSE))
        .json(&converse_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(
        response.headers()["x-amzn-errortype"]
            .to_str()
            .unwrap()
            .starts_with("MissingAuthenticationTokenException:")
    );
    let response = harness
        .client
        .post(harness.url(CONVERSE))
        .bearer_auth("wrong")
        .json(&converse_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["message"],
        "The security token included in the request is invalid."
    );
    // An old `x-amz-date` is an expired signature (a wrong secret is covered by the engine tests).
    let response = harness
        .client
        .post(harness.url(CONVERSE))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDLLMRELAYMOCK/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
        )
        .header("x-amz-date", "20200101T000000Z")
        .json(&converse_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(
        response.headers()["x-amzn-errortype"]
            .to_str()
            .unwrap()
            .starts_with("InvalidSignatureException:")
    );
    // Rejected requests are recorded.
    assert_eq!(harness.server.state().requests().len(), 3);
}

#[tokio::test]
async fn whole_answer_and_validation() {
    let harness = start().await;
    let response = harness
        .bedrock(CONVERSE, &converse_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["output"]["message"]["role"], "assistant");
    assert!(
        body["output"]["message"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("This is a mock")
    );
    assert_eq!(body["stopReason"], "end_turn");
    assert!(body["usage"]["inputTokens"].as_u64().unwrap() > 0);

    let two_users = json!({"messages": [
        {"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]});
    let response = harness.bedrock(CONVERSE, &two_users).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response.headers()["x-amzn-errortype"]
            .to_str()
            .unwrap()
            .starts_with("ValidationException:")
    );
    let tool_use_without_config = json!({"messages": [
        {"role": "user", "content": [{"text": "a"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": [{"text": "r"}]}}]}]});
    let response = harness
        .bedrock(CONVERSE, &tool_use_without_config)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn stream_frames_tools_reasoning_and_faults() {
    let harness = start().await;
    let mut body = converse_body();
    body["toolConfig"] = json!({"tools": [{"toolSpec": {"name": "get_weather",
        "inputSchema": {"json": {"type": "object", "properties": {"location": {"type": "string"}}}}}}],
        "toolChoice": {"any": {}}});
    body["additionalModelRequestFields"] =
        json!({"thinking": {"type": "enabled", "budget_tokens": 1024}});
    let response = harness
        .bedrock(CONVERSE_STREAM, &body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    let events = frames(&response.bytes().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "messageStart");
    assert!(names.contains(&"contentBlockStart"));
    assert_eq!(&names[names.len() - 2..], ["messageStop", "metadata"]);
    let input: String = events
        .iter()
        .filter_map(|(_, data)| data.pointer("/delta/toolUse/input")?.as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"location": "mock"})
    );
    assert!(
        events
            .iter()
            .any(|(_, data)| data.pointer("/delta/reasoningContent/signature").is_some())
    );
    assert_eq!(events[names.len() - 2].1["stopReason"], "tool_use");

    let response = harness
        .bedrock(CONVERSE_STREAM, &converse_body())
        .header("x-mock-error-after", "2")
        .header("x-mock-error-type", "throttlingException")
        .send()
        .await
        .unwrap();
    let events = frames(&response.bytes().await.unwrap());
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].0, "exception:throttlingException");

    let response = harness
        .bedrock(CONVERSE, &converse_body())
        .header("x-mock-status", "429")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(
        response.headers()["x-amzn-errortype"]
            .to_str()
            .unwrap()
            .starts_with("ThrottlingException:")
    );
}

#[tokio::test]
async fn scripted_event_streams_and_embeddings() {
    let harness = start().await;
    let script: ScriptedResponse =
        serde_json::from_value(json!({"path": "/converse-stream", "aws_event_stream": [
        {"event": "messageStart", "data": {"role": "assistant"}},
        {"exception": "modelStreamErrorException", "data": {"message": "boom"}}]}))
        .unwrap();
    harness.server.state().push_script(script);
    let response = harness
        .bedrock(CONVERSE_STREAM, &converse_body())
        .send()
        .await
        .unwrap();
    let events = frames(&response.bytes().await.unwrap());
    assert_eq!(
        events[1],
        (
            "exception:modelStreamErrorException".to_owned(),
            json!({"message": "boom"})
        )
    );

    let titan = harness
        .bedrock(
            "/model/amazon.titan-embed-text-v2%3A0/invoke",
            &json!({"inputText": "hi", "dimensions": 256}),
        )
        .send()
        .await
        .unwrap();
    let titan: Value = titan.json().await.unwrap();
    assert_eq!(titan["embedding"].as_array().unwrap().len(), 256);
    assert_eq!(titan["inputTextTokenCount"], 1);
    let bad = harness
        .bedrock(
            "/model/amazon.titan-embed-text-v2%3A0/invoke",
            &json!({"texts": ["hi"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let cohere = harness
        .bedrock(
            "/model/cohere.embed-english-v3/invoke",
            &json!({"texts": ["a", "b"], "input_type": "search_query"}),
        )
        .send()
        .await
        .unwrap();
    let cohere: Value = cohere.json().await.unwrap();
    assert_eq!(cohere["embeddings"].as_array().unwrap().len(), 2);
    assert_eq!(cohere["response_type"], "embeddings_floats");
}
