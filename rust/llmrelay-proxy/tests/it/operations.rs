//! The proxy's routes for the SDK's other endpoints — image generation, moderation, rerank,
//! speech and LiteLLM's `/utils/token_counter` — through the Router to the mock, with
//! LiteLLM's headers and a spend row like every call.

use llmrelay_mock::{MockConfig, MockServer};
use serde_json::json;

use crate::support::{post_json, proxy_from_yaml, serve};

const MASTER: &str = "sk-operations-master-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_moderation_rerank_speech_and_token_counter() {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let base = mock.base_url();
    let yaml = format!(
        r"
model_list:
  - model_name: images
    litellm_params: {{model: openai/dall-e-3, api_base: {base}/v1, api_key: sk-test}}
  - model_name: moderation
    litellm_params: {{model: openai/omni-moderation-latest, api_base: {base}/v1, api_key: sk-test}}
  - model_name: reranker
    litellm_params: {{model: cohere/rerank-v3.5, api_base: {base}, api_key: co-test}}
  - model_name: voice
    litellm_params: {{model: openai/tts-1, api_base: {base}/v1, api_key: sk-test}}
  - model_name: whisper
    litellm_params: {{model: openai/whisper-1, api_base: {base}/v1, api_key: sk-test}}
  - model_name: gpt
    litellm_params: {{model: openai/gpt-4o-mini, api_base: {base}/v1, api_key: sk-test}}
general_settings:
  master_key: {MASTER}
"
    );
    let served = serve(proxy_from_yaml(&yaml)).await;
    let proxy = served.base.clone();

    let (status, body) = post_json(
        &proxy,
        "/v1/images/generations",
        MASTER,
        &json!({"model": "images", "prompt": "a lighthouse", "n": 1}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"].as_array().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert_eq!(
        mock.state().requests().last().unwrap().path,
        "/v1/images/generations"
    );

    let (status, body) = post_json(
        &proxy,
        "/moderations",
        MASTER,
        &json!({"model": "moderation", "input": "hello"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["results"].is_array(), "{body}");

    for path in ["/v1/rerank", "/rerank", "/v2/rerank"] {
        let (status, body) = post_json(
            &proxy,
            path,
            MASTER,
            &json!({"model": "reranker", "query": "q", "documents": ["a", "b"], "top_n": 1}),
        )
        .await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["results"].as_array().unwrap().len(), 1, "{body}");
    }

    let response = llmrelay_providers::http::client()
        .post(format!("{proxy}/v1/audio/speech"))
        .bearer_auth(MASTER)
        .json(&json!({"model": "voice", "input": "hi", "voice": "alloy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "audio/mpeg");
    assert!(response.headers().contains_key("x-litellm-call-id"));
    assert!(!response.bytes().await.unwrap().is_empty());

    // A multipart transcription upload, as the OpenAI SDK sends it.
    let boundary = "llmrelay-test-boundary";
    let mut form = Vec::new();
    for (name, value) in [("model", "whisper"), ("response_format", "json")] {
        form.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    form.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF....WAVEfmt \r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    let response = llmrelay_providers::http::client()
        .post(format!("{proxy}/v1/audio/transcriptions"))
        .bearer_auth(MASTER)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text: serde_json::Value = response.json().await.unwrap();
    assert!(
        text["text"].as_str().is_some_and(|t| !t.is_empty()),
        "{text}"
    );
    let sent = mock.state().requests().last().unwrap().clone();
    assert_eq!(sent.path, "/v1/audio/transcriptions");
    assert!(sent.headers["content-type"].starts_with("multipart/form-data"));
    let (status, body) = post_json(
        &proxy,
        "/v1/audio/transcriptions",
        MASTER,
        &json!({"model": "whisper"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    let (status, body) = post_json(
        &proxy,
        "/utils/token_counter",
        MASTER,
        &json!({"model": "gpt", "messages": [{"role": "user", "content": "hello there"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request_model"], "gpt");
    assert_eq!(body["model_used"], "gpt-4o-mini");
    assert_eq!(body["tokenizer_type"], "openai_tokenizer");
    assert!(body["total_tokens"].as_u64().unwrap() > 2);
    let (status, body) = post_json(
        &proxy,
        "/utils/token_counter",
        MASTER,
        &json!({"model": "gpt", "prompt": "hello there"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total_tokens"], 2);

    // LiteLLM's ModelGroupInfo per group.
    let response = llmrelay_providers::http::client()
        .get(format!("{proxy}/model_group/info"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let info: serde_json::Value = response.json().await.unwrap();
    let groups: Vec<&str> = info["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["model_group"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        [
            "images",
            "moderation",
            "reranker",
            "voice",
            "whisper",
            "gpt"
        ]
    );
    let gpt = &info["data"][5];
    assert_eq!(gpt["providers"], json!(["openai"]));
    assert_eq!(gpt["mode"], "chat");
    assert!(gpt["max_input_tokens"].as_u64().unwrap() > 1000, "{gpt}");
    assert!(gpt["input_cost_per_token"].as_f64().unwrap() > 0.0);
    assert_eq!(gpt["supports_function_calling"], true);
    assert!(
        gpt["supported_openai_params"]
            .as_array()
            .unwrap()
            .contains(&json!("tools"))
    );
    let one = llmrelay_providers::http::client()
        .get(format!("{proxy}/model_group/info?model_group=reranker"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
    assert_eq!(one["data"][0]["providers"], json!(["cohere"]));
    assert_eq!(one["data"][0]["mode"], "rerank");

    // Refusals in the OpenAI shape: unknown model, missing input, no key.
    let (status, body) = post_json(
        &proxy,
        "/v1/images/generations",
        MASTER,
        &json!({"model": "nope", "prompt": "x"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid model name")
    );
    let (status, body) = post_json(
        &proxy,
        "/utils/token_counter",
        MASTER,
        &json!({"model": "gpt"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = post_json(
        &proxy,
        "/v1/rerank",
        "sk-wrong",
        &json!({"model": "reranker", "query": "q", "documents": ["a"]}),
    )
    .await;
    assert_eq!(status, 401);
}
