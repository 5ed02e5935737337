//! Providers II end to end: every provider of the scenario suite against the mock upstream,
//! whole and streamed (Azure, Azure AI, Ollama chat and generate, Cohere, Hugging Face and the
//! OpenAI-compatible rows), plus embeddings, rerank, images and moderation.

use crate::{chat_call, embedding_call, operation_call};
use futures::StreamExt;
use llmrelay_core::ErrorKind;
use llmrelay_core::types::{ChatChunk, ChatResponse};
use llmrelay_mock::MockServer;
use llmrelay_providers::engine::ChatOutcome;
use llmrelay_providers::operations::Operation;
use serde_json::{Map, Value, json};

use crate::server;

/// How to reach one provider through the mock.
#[derive(Clone, Copy)]
struct Target {
    model: &'static str,
    /// Appended to the mock's URL to form `api_base`.
    base_suffix: &'static str,
    tools: bool,
}

const TARGETS: &[Target] = &[
    Target {
        model: "azure/gpt4o-deployment",
        base_suffix: "",
        tools: true,
    },
    Target {
        model: "azure_ai/Llama-3.3-70B-Instruct",
        base_suffix: "/v1",
        tools: true,
    },
    Target {
        model: "ollama_chat/llama3.2",
        base_suffix: "",
        tools: true,
    },
    Target {
        model: "ollama/llama3.2",
        base_suffix: "",
        tools: false,
    },
    Target {
        model: "cohere_chat/command-r-plus",
        base_suffix: "",
        tools: true,
    },
    Target {
        model: "huggingface/meta-llama/Llama-3.3-70B-Instruct",
        base_suffix: "/v1",
        tools: true,
    },
    Target {
        model: "hosted_vllm/meta-llama/Llama-3.1-8B-Instruct",
        base_suffix: "/v1",
        tools: true,
    },
    Target {
        model: "nvidia_nim/meta/llama-3.1-8b-instruct",
        base_suffix: "/v1",
        tools: true,
    },
    Target {
        model: "groq/llama-3.1-8b-instant",
        base_suffix: "/v1",
        tools: true,
    },
    Target {
        model: "mistral/mistral-small-latest",
        base_suffix: "/v1",
        tools: true,
    },
];

fn params(server: &MockServer, target: Target, extra: Value) -> Map<String, Value> {
    let mut base = json!({
        "model": target.model,
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": format!("{}{}", server.base_url(), target.base_suffix),
        "api_key": "sk-test",
        "api_version": "2024-10-21",
    });
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    match base {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

async fn whole(server: &MockServer, target: Target, extra: Value) -> ChatResponse {
    match chat_call(params(server, target, extra)).await {
        Ok(ChatOutcome::Whole(result)) => result.response,
        Ok(ChatOutcome::Stream(_)) => panic!("{}: expected a whole response", target.model),
        Err(error) => panic!("{}: {error:?}", target.model),
    }
}

async fn streamed(
    server: &MockServer,
    target: Target,
    extra: Value,
) -> Vec<Result<ChatChunk, llmrelay_core::Error>> {
    let mut extra = extra;
    extra["stream"] = json!(true);
    extra["stream_options"] = json!({"include_usage": true});
    match chat_call(params(server, target, extra)).await {
        Ok(ChatOutcome::Stream(result)) => result.stream.collect().await,
        Ok(ChatOutcome::Whole(_)) => panic!("{}: expected a stream", target.model),
        Err(error) => panic!("{}: {error:?}", target.model),
    }
}

fn text_of(chunks: &[Result<ChatChunk, llmrelay_core::Error>]) -> String {
    chunks
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.content.clone())
        .collect()
}

fn finish_of(chunks: &[Result<ChatChunk, llmrelay_core::Error>]) -> Vec<String> {
    chunks
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.finish_reason.clone())
        .collect()
}

const WEATHER: &str = "get_weather";

fn tools(count: usize) -> Value {
    let all = [
        json!({"type": "function", "function": {"name": WEATHER, "description": "Weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}),
        json!({"type": "function", "function": {"name": "get_time", "description": "Time in a zone",
            "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}}}),
    ];
    Value::Array(all.into_iter().take(count).collect())
}

#[tokio::test]
async fn plain_chat_whole_and_streamed_with_usage() {
    let server = server().await;
    for &target in TARGETS {
        let response = whole(&server, target, json!({})).await;
        let content = response.choices[0]
            .message
            .content
            .clone()
            .unwrap_or_default();
        assert!(
            content.starts_with("This is a mock"),
            "{}: {content}",
            target.model
        );
        assert_eq!(
            response.choices[0].finish_reason.as_deref(),
            Some("stop"),
            "{}",
            target.model
        );
        assert!(
            response.usage.as_ref().unwrap().total_tokens > 0,
            "{}",
            target.model
        );

        let chunks = streamed(&server, target, json!({})).await;
        assert!(
            chunks.iter().all(Result::is_ok),
            "{}: {chunks:?}",
            target.model
        );
        assert_eq!(text_of(&chunks), content, "{}", target.model);
        assert_eq!(finish_of(&chunks), ["stop"], "{}", target.model);
        let usage = chunks.last().unwrap().as_ref().unwrap();
        assert!(
            usage.choices.is_empty() && usage.usage.is_some(),
            "{}: usage chunk last",
            target.model
        );
    }
}

#[tokio::test]
async fn system_prompt_multi_turn_stop_and_max_tokens() {
    let server = server().await;
    for &target in TARGETS {
        server.state().clear_requests();
        let messages = json!([
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "and now?"}
        ]);
        let response = whole(
            &server,
            target,
            json!({"messages": messages, "stop": ["mock"]}),
        )
        .await;
        assert_eq!(
            response.choices[0].message.content.as_deref(),
            Some("This is a "),
            "{}",
            target.model
        );
        let sent = &server.state().requests()[0].body;
        let text = sent.to_string();
        assert!(
            text.contains("be brief") && text.contains("and now?"),
            "{}: {text}",
            target.model
        );
        let response = whole(&server, target, json!({"max_tokens": 2})).await;
        assert_eq!(
            response.choices[0].finish_reason.as_deref(),
            Some("length"),
            "{}",
            target.model
        );
    }
}

#[tokio::test]
async fn tools_parallel_streamed_arguments_and_results() {
    let server = server().await;
    for &target in TARGETS.iter().filter(|t| t.tools) {
        // LiteLLM lists no `tool_choice` for Azure AI models.
        let choice = if target.model.starts_with("azure_ai/") {
            Value::Null
        } else {
            json!("auto")
        };
        let response = whole(
            &server,
            target,
            json!({"tools": tools(1), "tool_choice": choice}),
        )
        .await;
        let choice = &response.choices[0];
        assert_eq!(
            choice.finish_reason.as_deref(),
            Some("tool_calls"),
            "{}",
            target.model
        );
        let calls = choice.message.tool_calls.as_ref().unwrap();
        assert_eq!(calls[0].function.name, WEATHER, "{}", target.model);
        let arguments: Value = serde_json::from_str(&calls[0].function.arguments).unwrap();
        assert!(arguments["city"].is_string(), "{}", target.model);

        let response = whole(&server, target, json!({"tools": tools(2)})).await;
        assert_eq!(
            response.choices[0]
                .message
                .tool_calls
                .as_ref()
                .unwrap()
                .len(),
            2,
            "{}",
            target.model
        );

        let chunks = streamed(&server, target, json!({"tools": tools(2)})).await;
        assert!(chunks.iter().all(Result::is_ok), "{}", target.model);
        let deltas: Vec<_> = chunks
            .iter()
            .filter_map(|c| c.as_ref().ok())
            .flat_map(|c| c.choices.iter())
            .filter_map(|c| c.delta.tool_calls.clone())
            .flatten()
            .collect();
        for index in 0..2 {
            let arguments: String = deltas
                .iter()
                .filter(|d| d.index == index)
                .filter_map(|d| d.function.as_ref()?.arguments.clone())
                .collect();
            let parsed: Value = serde_json::from_str(&arguments)
                .unwrap_or_else(|e| panic!("{}: call {index}: {e}: {arguments}", target.model));
            assert!(parsed.is_object());
        }
        assert_eq!(finish_of(&chunks), ["tool_calls"], "{}", target.model);

        let id = calls[0].id.clone();
        let messages = json!([
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": id, "type": "function", "function": {"name": WEATHER, "arguments": "{\"city\": \"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": id, "content": "22C"}
        ]);
        let response = whole(
            &server,
            target,
            json!({"messages": messages, "tools": tools(1)}),
        )
        .await;
        assert_eq!(
            response.choices[0].finish_reason.as_deref(),
            Some("stop"),
            "{}",
            target.model
        );
    }
}

#[tokio::test]
async fn images_and_json_mode() {
    let server = server().await;
    for &target in TARGETS {
        server.state().clear_requests();
        let messages = json!([{"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
        ]}]);
        let response = whole(&server, target, json!({"messages": messages})).await;
        assert!(
            response.choices[0].message.content.is_some(),
            "{}",
            target.model
        );
        let sent = server.state().requests()[0].body.to_string();
        assert!(
            sent.contains("iVBORw0KGgo="),
            "{}: image sent",
            target.model
        );
        if target.model.starts_with("cohere") {
            // Cohere's JSON mode is not among LiteLLM's supported parameters for it.
            continue;
        }
        let response = whole(
            &server,
            target,
            json!({"response_format": {"type": "json_object"}}),
        )
        .await;
        let content = response.choices[0].message.content.clone().unwrap();
        let parsed: Value = serde_json::from_str(&content)
            .unwrap_or_else(|e| panic!("{}: {e}: {content}", target.model));
        assert!(parsed.is_object());
    }
}

#[tokio::test]
async fn errors_are_classified_whole_and_mid_stream() {
    let server = server().await;
    for &target in TARGETS {
        for (status, kind) in [
            ("429", ErrorKind::RateLimit),
            ("503", ErrorKind::ServiceUnavailable),
            ("404", ErrorKind::NotFound),
        ] {
            let Err(error) = chat_call(params(
                &server,
                target,
                json!({"extra_headers": {"x-mock-status": status}}),
            ))
            .await
            else {
                panic!("{}: expected an error for {status}", target.model)
            };
            assert_eq!(
                error.kind(),
                kind,
                "{}: {status}: {}",
                target.model,
                error.message()
            );
        }
        let chunks = streamed(
            &server,
            target,
            json!({"extra_headers": {"x-mock-error-after": "3"}}),
        )
        .await;
        let last = chunks.last().unwrap();
        assert!(last.is_err(), "{}: {chunks:?}", target.model);
        assert!(
            chunks[..chunks.len() - 1].iter().all(Result::is_ok),
            "{}",
            target.model
        );
    }
}

#[tokio::test]
async fn unsupported_params_rejected_or_dropped() {
    let server = server().await;
    for (model, param) in [
        ("ollama_chat/llama3.2", json!({"presence_penalty": 0.2})),
        ("cohere_chat/command-r", json!({"logprobs": true})),
        (
            "nvidia_nim/meta/llama-3.1-8b-instruct",
            json!({"logit_bias": {"1": 2}}),
        ),
        ("azure/d", json!({"reasoning_effort": "low"})),
    ] {
        let target = TARGETS
            .iter()
            .find(|t| model.split('/').next() == t.model.split('/').next())
            .copied()
            .unwrap();
        let target = Target { model, ..target };
        let error = chat_call(params(&server, target, param.clone()))
            .await
            .err()
            .unwrap();
        assert_eq!(error.kind(), ErrorKind::UnsupportedParams, "{model}");
        let mut dropped = param;
        dropped["drop_params"] = json!(true);
        assert!(
            chat_call(params(&server, target, dropped)).await.is_ok(),
            "{model}"
        );
    }
}

#[tokio::test]
async fn azure_wire_details_and_content_filter() {
    let server = server().await;
    let target = TARGETS[0];
    whole(&server, target, json!({})).await;
    let sent = &server.state().requests()[0];
    assert_eq!(
        sent.path,
        "/openai/deployments/gpt4o-deployment/chat/completions"
    );
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(sent.headers["api-key"], "sk-test");
    // Entra ID token instead of a key.
    server.state().clear_requests();
    let mut entra = params(&server, target, json!({"azure_ad_token": "entra-token"}));
    entra.remove("api_key");
    chat_call(entra).await.unwrap();
    assert_eq!(
        server.state().requests()[0].headers["authorization"],
        "Bearer entra-token"
    );
    // Content filter: the documented 400.
    let body: Value =
        serde_json::from_str(include_str!("../fixtures/azure/error_content_filter.json")).unwrap();
    server
        .state()
        .push_script(serde_json::from_value(json!({"status": 400, "json": body})).unwrap());
    let error = chat_call(params(&server, target, json!({})))
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::ContentPolicyViolation);
    assert!(
        error
            .message()
            .starts_with("AzureException - The response was filtered")
    );
}

#[tokio::test]
async fn ollama_wire_details() {
    let server = server().await;
    let target = TARGETS[2];
    whole(
        &server,
        target,
        json!({"max_tokens": 40, "temperature": 0.1, "top_k": 5, "keep_alive": "1m",
                                  "response_format": {"type": "json_object"}}),
    )
    .await;
    let sent = &server.state().requests()[0];
    assert_eq!(sent.path, "/api/chat");
    assert_eq!(
        sent.body["options"],
        json!({"num_predict": 40, "temperature": 0.1, "top_k": 5})
    );
    assert_eq!(sent.body["format"], "json");
    assert_eq!(sent.body["keep_alive"], "1m");
    assert_eq!(sent.body["stream"], false);
}

#[tokio::test]
async fn embeddings_of_each_provider() {
    let server = server().await;
    let base = server.base_url();
    for (model, api_base) in [
        ("azure/text-embedding-3-small", base.clone()),
        ("ollama/all-minilm", base.clone()),
        ("cohere/embed-english-v3.0", base.clone()),
        (
            "huggingface/BAAI/bge-small-en-v1.5",
            format!(
                "{base}/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction"
            ),
        ),
        ("nvidia_nim/nvidia/nv-embedqa-e5-v5", format!("{base}/v1")),
    ] {
        let request = json!({"model": model, "input": ["hello", "world"], "api_base": api_base,
                             "api_key": "sk-test", "api_version": "2024-10-21", "dimensions": 16});
        let Value::Object(request) = request else {
            unreachable!()
        };
        let result = embedding_call(request)
            .await
            .unwrap_or_else(|e| panic!("{model}: {e:?}"));
        assert_eq!(result.response.data.len(), 2, "{model}");
        let vector = result.response.data[1].embedding.as_array().unwrap();
        if !model.starts_with("huggingface") {
            assert_eq!(vector.len(), 16, "{model}: dimensions honoured");
        }
    }
    let sent = server.state().requests();
    let cohere = sent.iter().find(|r| r.path == "/v2/embed").unwrap();
    assert_eq!(cohere.body["input_type"], "search_document");
    assert_eq!(cohere.body["output_dimension"], 16);
}

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[tokio::test]
async fn rerank_images_and_moderation() {
    let server = server().await;
    let base = server.base_url();
    let result = operation_call(
        Operation::Rerank,
        map(json!({
            "model": "cohere/rerank-v3.5", "query": "capital of France",
            "documents": ["Berlin is in Germany", "Paris is the capital of France"], "top_n": 1,
            "return_documents": true, "api_base": base, "api_key": "sk-test"})),
    )
    .await
    .unwrap();
    assert_eq!(result.response["results"][0]["index"], 1);
    assert_eq!(
        result.response["results"][0]["document"]["text"],
        "Paris is the capital of France"
    );
    assert!(result.response["meta"]["billed_units"]["search_units"].is_number());
    // The catalog's `input_cost_per_query` for rerank-v3.5, one search unit.
    assert_eq!(result.hidden.response_cost, Some(0.002));

    let images = operation_call(Operation::ImageGeneration, map(json!({
            "model": "azure/dalle3", "prompt": "a cat", "n": 2, "api_base": base, "api_key": "sk-test",
            "api_version": "2024-10-21"})))
        .await
        .unwrap();
    assert_eq!(images.response["data"].as_array().unwrap().len(), 2);
    let images = operation_call(
        Operation::ImageGeneration,
        map(json!({
            "model": "dall-e-3", "prompt": "a cat", "response_format": "b64_json",
            "api_base": format!("{base}/v1"), "api_key": "sk-test"})),
    )
    .await
    .unwrap();
    assert!(images.response["data"][0]["b64_json"].is_string());

    let moderation = operation_call(Operation::Moderation, map(json!({
            "input": ["I will hurt you", "hello"], "api_base": format!("{base}/v1"), "api_key": "sk-test"})))
        .await
        .unwrap();
    assert_eq!(moderation.response["results"][0]["flagged"], true);
    assert_eq!(moderation.response["results"][1]["flagged"], false);
    let sent = server.state().requests();
    assert!(
        sent.last().unwrap().body.get("model").is_none(),
        "no model: the API default"
    );

    let error = operation_call(
        Operation::Rerank,
        map(json!({"model": "ollama/x", "query": "q", "documents": ["a"], "api_base": base})),
    )
    .await
    .err()
    .unwrap();
    assert!(error.message().contains("does not support rerank"));
}
