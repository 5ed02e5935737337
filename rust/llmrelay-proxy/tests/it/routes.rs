//! Issue 11 §3.5, 7, 8, 11 and the not-built routes: what the proxy answers where a new user
//! tripped.

use llmrelay_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

use crate::support::{free_port, proxy_from_yaml, serve, temp_directory, wait_until_up};

const KEY: &str = "sk-test-master-0123456789";

async fn mock() -> MockServer {
    MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap()
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn routes_of_later_features_answer_501_naming_the_feature() {
    let served = serve(proxy_from_yaml(&format!(
        "model_list: []\ngeneral_settings:\n  master_key: {KEY}\n"
    )))
    .await;
    let client = llmrelay_providers::http::client();
    for (method, path, feature) in [
        ("POST", "/key/generate", "key management"),
        ("GET", "/team/list", "team management"),
        ("GET", "/user/info", "user management"),
        ("GET", "/spend/logs", "spend tracking"),
        ("POST", "/v1/assistants", "the Assistants API"),
        ("POST", "/v1/threads/t/runs", "threads"),
        ("GET", "/ui", "the admin UI"),
    ] {
        let response = client
            .request(method.parse().unwrap(), format!("{}{path}", served.base))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 501, "{path}");
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{method} {path} is not built yet in llmrelay: ")),
            "{message}"
        );
        assert!(message.contains(feature), "{message}");
        assert_eq!(body["error"]["type"], "not_implemented_error");
        assert_eq!(body["error"]["code"], "501");
    }
    // Files and batches are built: without a database they say what they need.
    for (method, path) in [("GET", "/v1/files"), ("GET", "/v1/batches/batch_1")] {
        let response = client
            .request(method.parse().unwrap(), format!("{}{path}", served.base))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("store their objects in the proxy's database"),
            "{body}"
        );
    }
    // The MCP gateway is built: without `mcp_servers` it says so, behind the proxy's auth.
    for path in ["/mcp", "/mcp-rest/tools/list"] {
        let response = client
            .request(
                if path == "/mcp" {
                    http::Method::POST
                } else {
                    http::Method::GET
                },
                format!("{}{path}", served.base),
            )
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            "no MCP servers are configured (mcp_servers in the config)"
        );
        let response = client
            .get(format!("{}{path}", served.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    // Paths of no LiteLLM feature stay 404s.
    let response = client
        .get(format!("{}/keys", served.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn openai_pass_through_with_a_v1_api_base_calls_v1_once() {
    let mock = mock().await;
    let served = serve(proxy_from_yaml(&format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{model: openai/gpt-4o-mini, api_key: sk-upstream, api_base: '{}/v1'}}\ngeneral_settings:\n  master_key: {KEY}\n",
        mock.base_url()
    )))
    .await;
    let response = llmrelay_providers::http::client()
        .post(format!("{}/openai/v1/chat/completions", served.base))
        .bearer_auth(KEY)
        .json(&chat("gpt-4o-mini"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let paths: Vec<String> = mock
        .state()
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["/v1/chat/completions"]);
}

#[tokio::test]
async fn a_missing_upstream_key_is_the_gateway_s_error_not_the_client_s() {
    let mock = mock().await;
    let served = serve(proxy_from_yaml(&format!(
        "model_list:\n  - model_name: claude\n    litellm_params: {{model: anthropic/claude-sonnet-4-20250514, api_base: '{}', api_key: os.environ/LLMRELAY_PROXYFIX_UNSET_KEY}}\ngeneral_settings:\n  master_key: {KEY}\n",
        mock.base_url()
    )))
    .await;
    let response = llmrelay_providers::http::client()
        .post(format!("{}/v1/chat/completions", served.base))
        .bearer_auth(KEY)
        .json(&chat("claude"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "api_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("no upstream credential"), "{message}");
    assert!(
        message.contains("not the API key of this request"),
        "{message}"
    );
    assert!(
        mock.state().requests().is_empty(),
        "nothing was sent upstream"
    );
}

#[tokio::test]
async fn readiness_says_which_version_is_llmrelay_s() {
    let served = serve(proxy_from_yaml(&format!(
        "model_list: []\ngeneral_settings:\n  master_key: {KEY}\n"
    )))
    .await;
    let body: Value = llmrelay_providers::http::client()
        .get(format!("{}/health/readiness", served.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["llmrelay_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["litellm_version"], "1.104.0");
}

/// The ids LiteLLM 1.104 gives the deployments of `fixtures/deployment_ids/config.yaml`
/// (recorded by `fixtures/deployment_ids/litellm_ids.py`), from the binary with the same
/// environment: one `os.environ/` variable set, one unset.
#[tokio::test]
async fn deployment_ids_match_litellm_s() {
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/deployment_ids");
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("litellm_ids.json")).unwrap())
            .unwrap();
    let directory = temp_directory("ids");
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_llmrelay-proxy"))
        .args(["--config", fixtures.join("config.yaml").to_str().unwrap()])
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .current_dir(&directory)
        .env("LLMRELAY_FIXTURE_KEY", "sk-from-env")
        .env_remove("LLMRELAY_FIXTURE_UNSET")
        .env_remove("LITELLM_MASTER_KEY")
        // No database next to the fixture (it is in the source tree).
        .env("LLMRELAY_DISABLE_DATABASE", "true")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let up = wait_until_up(&format!("{base}/health/liveliness")).await;
    let info = if up {
        llmrelay_providers::http::client()
            .get(format!("{base}/model/info"))
            .bearer_auth("sk-fixture-master-0123456789")
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .ok()
    } else {
        None
    };
    child.kill().unwrap();
    let _ = child.wait();
    let info = info.expect("the proxy did not answer /model/info");
    let got: Vec<Value> = info["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| json!({"model_name": entry["model_name"], "id": entry["model_info"]["id"]}))
        .collect();
    assert_eq!(got, expected);
    std::fs::remove_dir_all(directory).unwrap();
}
