//! IBM watsonx.ai and Snowflake Cortex through the engine and the mock: paths, credentials,
//! whole and streamed answers, embeddings and refusals.

use futures::StreamExt;
use llmrelay_core::ErrorKind;
use llmrelay_providers::engine::ChatOutcome;
use llmrelay_providers::watsonx;
use serde_json::{Map, Value, json};

fn params(value: Value) -> Map<String, Value> {
    let Value::Object(map) = value else {
        unreachable!()
    };
    map
}

async fn whole_text(outcome: llmrelay_core::Result<ChatOutcome>) -> String {
    match outcome {
        Ok(ChatOutcome::Whole(result)) => result.response.choices[0]
            .message
            .content
            .clone()
            .unwrap_or_default(),
        Ok(ChatOutcome::Stream(_)) => panic!("a stream for a whole call"),
        Err(error) => panic!("{error:?}"),
    }
}

async fn streamed_text(outcome: llmrelay_core::Result<ChatOutcome>) -> (String, u64) {
    let Ok(ChatOutcome::Stream(mut result)) = outcome else {
        panic!("not a stream: {:?}", outcome.err());
    };
    let (mut text, mut total) = (String::new(), 0);
    while let Some(chunk) = result.stream.next().await {
        let chunk = chunk.unwrap();
        for choice in &chunk.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
        }
        if let Some(usage) = &chunk.usage {
            total = usage.total_tokens;
        }
    }
    (text, total)
}

#[tokio::test]
async fn watsonx_iam_exchange_chat_stream_and_embeddings() {
    let server = crate::server().await;
    let state = server.state();
    let base = server.base_url();

    // The API key is exchanged at IAM once; the token is cached.
    watsonx::clear_token_cache();
    let iam = format!("{base}/identity/token");
    let token = watsonx::exchange_api_key(&iam, "ibm-key").await.unwrap();
    assert_eq!(token, "wxiam.69626d2d6b6579");
    assert_eq!(
        watsonx::exchange_api_key(&iam, "ibm-key").await.unwrap(),
        token
    );
    let refused = watsonx::exchange_api_key(&iam, "").await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Authentication);
    assert!(
        refused.message().contains("could not be found"),
        "{refused:?}"
    );

    // Whole chat with a bearer token: IBM's path, version and placement fields.
    state.clear_requests();
    let call = json!({
        "model": "watsonx/ibm/granite-3-8b-instruct",
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": base, "token": "tok-1", "project_id": "proj-7",
        "tool_choice": "auto",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "num_retries": 0,
    });
    // `tool_choice: auto` lets the mock answer with text or a tool call: only the wire is checked.
    assert!(matches!(
        crate::chat_call(params(call.clone())).await,
        Ok(ChatOutcome::Whole(_))
    ));
    let requests = state.requests();
    let request = requests.last().unwrap();
    assert_eq!(request.path, "/ml/v1/text/chat");
    assert_eq!(request.query.as_deref(), Some("version=2024-03-13"));
    assert_eq!(request.headers["authorization"], "Bearer tok-1");
    let body = &request.body;
    assert_eq!(body["model_id"], "ibm/granite-3-8b-instruct");
    assert_eq!(body["project_id"], "proj-7");
    assert_eq!(body["tool_choice_option"], "auto");
    assert!(body.get("token").is_none());

    // Streamed: `event: message` items, the last with usage, no end marker.
    let mut streamed = call.clone();
    streamed["stream"] = true.into();
    streamed["stream_options"] = json!({"include_usage": true});
    streamed.as_object_mut().unwrap().remove("tools");
    streamed.as_object_mut().unwrap().remove("tool_choice");
    let (text, total) = streamed_text(crate::chat_call(params(streamed)).await).await;
    assert!(text.starts_with("This is a mock"), "{text}");
    assert!(total > 0);
    assert_eq!(
        state.requests().last().unwrap().path,
        "/ml/v1/text/chat_stream"
    );

    // A deployment: its own path, no placement fields; a Zen API key as the credential.
    let deployment = json!({
        "model": "watsonx/deployment/dep-1", "messages": [{"role": "user", "content": "hi"}],
        "api_base": base, "zen_api_key": "zen-1", "num_retries": 0,
    });
    whole_text(crate::chat_call(params(deployment)).await).await;
    let request = state.requests().last().unwrap().clone();
    assert_eq!(request.path, "/ml/v1/deployments/dep-1/text/chat");
    assert_eq!(request.headers["authorization"], "ZenApiKey zen-1");
    assert!(request.body.get("model_id").is_none());

    // Embeddings.
    let embedding = json!({
        "model": "watsonx/ibm/slate-30m-english-rtrvr", "input": ["a b", "c"],
        "api_base": base, "token": "tok-1", "space_id": "space-2", "num_retries": 0,
    });
    let result = crate::embedding_call(params(embedding)).await.unwrap();
    assert_eq!(result.response.data.len(), 2);
    assert_eq!(result.response.usage.as_ref().unwrap().prompt_tokens, 3);
    let request = state.requests().last().unwrap().clone();
    assert_eq!(request.path, "/ml/v1/text/embeddings");
    assert_eq!(request.body["space_id"], "space-2");

    // An upstream error keeps IBM's message and status.
    let mut failing = call.clone();
    failing["extra_headers"] = json!({"x-mock-status": "404"});
    let error = crate::chat_call(params(failing)).await.err().unwrap();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error:?}");
    assert!(
        error.message().starts_with("WatsonxException - "),
        "{error:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn snowflake_chat_claude_and_embeddings() {
    let server = crate::server().await;
    let state = server.state();
    let base = server.base_url();

    state.clear_requests();
    let call = json!({
        "model": "snowflake/llama3.1-70b", "messages": [{"role": "user", "content": "hi"}],
        "api_base": base, "api_key": "jwt-1", "max_tokens": 20, "num_retries": 0,
    });
    let text = whole_text(crate::chat_call(params(call.clone())).await).await;
    assert!(text.starts_with("This is a mock"), "{text}");
    let request = state.requests().last().unwrap().clone();
    assert_eq!(request.path, "/api/v2/cortex/v1/chat/completions");
    assert_eq!(
        request.headers["x-snowflake-authorization-token-type"],
        "KEYPAIR_JWT"
    );
    assert_eq!(request.body["max_completion_tokens"], 20);

    let mut streamed = call.clone();
    streamed["stream"] = true.into();
    let (text, _) = streamed_text(crate::chat_call(params(streamed)).await).await;
    assert!(text.starts_with("This is a mock"), "{text}");

    // Claude models speak the Messages API, with a programmatic access token.
    let claude = json!({
        "model": "snowflake/claude-3-5-sonnet", "messages": [{"role": "user", "content": "hi"}],
        "api_base": format!("{base}/api/v2"), "api_key": "pat/pat-1", "num_retries": 0,
    });
    let text = whole_text(crate::chat_call(params(claude.clone())).await).await;
    assert!(text.starts_with("This is a mock"), "{text}");
    let request = state.requests().last().unwrap().clone();
    assert_eq!(request.path, "/api/v2/cortex/v1/messages");
    assert_eq!(request.headers["authorization"], "Bearer pat-1");
    assert_eq!(
        request.headers["x-snowflake-authorization-token-type"],
        "PROGRAMMATIC_ACCESS_TOKEN"
    );
    let mut claude_stream = claude.clone();
    claude_stream["stream"] = true.into();
    let (text, _) = streamed_text(crate::chat_call(params(claude_stream)).await).await;
    assert!(text.starts_with("This is a mock"), "{text}");

    let embedding = json!({
        "model": "snowflake/snowflake-arctic-embed-m-v2.0", "input": ["a", "b"],
        "api_base": base, "api_key": "jwt-1", "num_retries": 0,
    });
    let result = crate::embedding_call(params(embedding)).await.unwrap();
    assert_eq!(result.response.data.len(), 2);
    assert_eq!(
        result.response.data[0].embedding.as_array().unwrap().len(),
        768
    );

    // No key: refused before sending.
    let mut keyless = call.clone();
    keyless.as_object_mut().unwrap().remove("api_key");
    if std::env::var("SNOWFLAKE_JWT").is_err() {
        let error = crate::chat_call(params(keyless)).await.err().unwrap();
        assert_eq!(error.kind(), ErrorKind::Authentication);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn gigachat_oauth_functions_stream_and_embeddings() {
    use llmrelay_providers::gigachat;
    let server = crate::server().await;
    let state = server.state();
    let base = server.base_url();

    // The authorization key is exchanged once at the OAuth endpoint, then cached.
    gigachat::clear_token_cache();
    let auth_url = format!("{base}/gigachat/api/v2/oauth");
    let token = gigachat::exchange_credentials(&auth_url, "a2V5", "GIGACHAT_API_PERS")
        .await
        .unwrap();
    assert_eq!(token, "giga.61325635");
    let refused = gigachat::exchange_credentials(&auth_url, "a2V5", "NO_SUCH_SCOPE")
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::BadRequest, "{refused:?}");
    assert_eq!(refused.status_code(), 400);
    assert!(refused.message().contains("scope is invalid"));

    // A chat through the exchange: the call's auth URL and key.
    state.clear_requests();
    let call = json!({
        "model": "gigachat/GigaChat-2", "messages": [{"role": "user", "content": "hi"}],
        "api_base": format!("{base}/gigachat/api/v1"), "api_key": "a2V5",
        "gigachat_auth_url": auth_url, "num_retries": 0,
    });
    let text = whole_text(crate::chat_call(params(call.clone())).await).await;
    assert!(text.starts_with("This is a mock"), "{text}");
    let request = state.requests().last().unwrap().clone();
    assert_eq!(request.path, "/gigachat/api/v1/chat/completions");
    assert_eq!(request.headers["authorization"], "Bearer giga.61325635");

    // Tools go out as functions; the function call comes back as a tool call.
    let mut tools = call.clone();
    tools["tools"] = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    tools["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    let Ok(ChatOutcome::Whole(result)) = crate::chat_call(params(tools.clone())).await else {
        panic!("no answer");
    };
    let choice = &result.response.choices[0];
    assert_eq!(choice.finish_reason.as_deref(), Some("tool_calls"));
    let message = serde_json::to_value(&choice.message).unwrap();
    assert_eq!(message["tool_calls"][0]["function"]["name"], "get_weather");
    let sent = state.requests().last().unwrap().body.clone();
    assert_eq!(sent["functions"][0]["name"], "get_weather");
    assert_eq!(sent["function_call"]["name"], "get_weather");
    assert!(sent.get("tools").is_none());

    let mut streamed = call.clone();
    streamed["stream"] = true.into();
    streamed["stream_options"] = json!({"include_usage": true});
    let (text, total) = streamed_text(crate::chat_call(params(streamed)).await).await;
    assert!(text.starts_with("This is a mock"), "{text}");
    assert!(total > 0);

    let embedding = json!({
        "model": "gigachat/Embeddings", "input": "hello world",
        "api_base": format!("{base}/gigachat/api/v1"), "api_key": "a2V5",
        "gigachat_auth_url": format!("{base}/gigachat/api/v2/oauth"), "num_retries": 0,
    });
    let result = crate::embedding_call(params(embedding)).await.unwrap();
    assert_eq!(result.response.data.len(), 1);
    assert_eq!(result.response.usage.as_ref().unwrap().prompt_tokens, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn sagemaker_tgi_whole_and_streamed_with_sigv4() {
    let server = crate::server().await;
    let state = server.state();
    let call = json!({
        "model": "sagemaker/jumpstart-llama-2-7b-chat",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "api_base": server.base_url(),
        "aws_access_key_id": llmrelay_mock::DEFAULT_AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": llmrelay_mock::DEFAULT_AWS_SECRET_ACCESS_KEY,
        "aws_region_name": "eu-west-1",
        "max_tokens": 3, "temperature": 0, "num_retries": 0,
    });
    let text = whole_text(crate::chat_call(params(call.clone())).await).await;
    assert_eq!(text, "This is a");
    let request = state.requests().last().unwrap().clone();
    assert_eq!(
        request.path,
        "/endpoints/jumpstart-llama-2-7b-chat/invocations"
    );
    assert!(
        request.headers["authorization"].contains("/eu-west-1/sagemaker/aws4_request"),
        "{}",
        request.headers["authorization"]
    );
    assert_eq!(
        request.body["inputs"],
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n [/INST]\n[INST] hi [/INST]\n"
    );
    assert_eq!(request.body["parameters"]["max_new_tokens"], 3);
    assert_eq!(request.body["parameters"]["temperature"], 0.01);

    let mut streamed = call.clone();
    streamed["stream"] = true.into();
    streamed.as_object_mut().unwrap().remove("max_tokens");
    let (text, _) = streamed_text(crate::chat_call(params(streamed)).await).await;
    assert!(text.starts_with("This is a mock"), "{text}");
    assert_eq!(
        state.requests().last().unwrap().path,
        "/endpoints/jumpstart-llama-2-7b-chat/invocations-response-stream"
    );

    // A wrong secret is refused by the endpoint's signature check.
    let mut forged = call.clone();
    forged["aws_secret_access_key"] = "not-the-secret".into();
    let error = crate::chat_call(params(forged)).await.err().unwrap();
    assert_eq!(error.status_code(), 403, "{error:?}");
    server.shutdown().await;
}
