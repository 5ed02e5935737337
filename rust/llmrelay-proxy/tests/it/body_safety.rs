//! LiteLLM's `is_request_body_safe` through the proxy: callers cannot retarget a call, change
//! its price or its logging destination, unless the config opts in (proxy-wide or per
//! deployment). Nothing refused reaches the upstream.

use llmrelay_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

use crate::support::{post_json, proxy_from_yaml, serve};

const MASTER: &str = "sk-body-safety-master-0123456789";

fn chat(extra: Value) -> Value {
    let mut body = json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banned_fields_are_refused_and_opt_ins_let_them_through() {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let other = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {base}/v1
      api_key: sk-deployment-secret
  - model_name: byo-base
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {base}/v1
      api_key: sk-deployment-secret
      configurable_clientside_auth_params: [{{api_base: "http://127\\.0\\.0\\.1:{other_port}"}}]
general_settings:
  master_key: {MASTER}
"#,
        base = mock.base_url(),
        other_port = other.local_addr().port(),
    );
    let served = serve(proxy_from_yaml(&yaml)).await;
    let base = served.base.clone();
    mock.state().clear_requests();

    for extra in [
        json!({"api_base": "http://evil.invalid/v1"}),
        json!({"base_url": "http://evil.invalid/v1"}),
        json!({"input_cost_per_token": 0}),
        json!({"extra_body": {"api_base": "http://evil.invalid"}}),
        json!({"metadata": {"langfuse_host": "http://evil.invalid"}}),
        json!({"fallbacks": [{"model": "gpt", "api_base": "http://evil.invalid"}]}),
        json!({"fallbacks": ["openai/http://evil.invalid/v1"]}),
        json!({"model_list": [{"model_name": "x"}]}),
    ] {
        let (status, body) =
            post_json(&base, "/v1/chat/completions", MASTER, &chat(extra.clone())).await;
        assert_eq!(status, 401, "{extra}: {body}");
        assert_eq!(body["error"]["type"], "auth_error", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Authentication Error, Rejected Request:"),
            "{message}"
        );
    }
    assert!(
        mock.state().requests().is_empty(),
        "a refused call reached the upstream"
    );

    // The caller's own key is not banned (LiteLLM lets it through to the deployment's base).
    let (status, body) = post_json(
        &base,
        "/v1/chat/completions",
        MASTER,
        &chat(json!({"api_key": "sk-callers-own"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A deployment's opt-in: a base matching its pattern is used; another is refused.
    let byo = |api_base: String| json!({"model": "byo-base", "messages": [{"role": "user", "content": "hi"}], "api_base": api_base});
    let (status, body) = post_json(
        &base,
        "/v1/chat/completions",
        MASTER,
        &byo(format!("{}/v1", other.base_url())),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        other.state().requests().len(),
        1,
        "the caller's base was called"
    );
    let (status, _) = post_json(
        &base,
        "/v1/chat/completions",
        MASTER,
        &byo("http://evil.invalid/v1".to_owned()),
    )
    .await;
    assert_eq!(status, 401);
    // The opt-in covers `api_base` only: a logging host is still refused.
    let mut with_host = byo(format!("{}/v1", other.base_url()));
    with_host["langfuse_host"] = "http://evil.invalid".into();
    let (status, body) = post_json(&base, "/v1/chat/completions", MASTER, &with_host).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("langfuse_host")
    );

    // Proxy-wide opt-in.
    let open = serve(proxy_from_yaml(&format!(
        "{yaml}  allow_client_side_credentials: true\n"
    )))
    .await;
    let (status, body) = post_json(
        &open.base,
        "/v1/chat/completions",
        MASTER,
        &chat(json!({"api_base": format!("{}/v1", other.base_url())})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(other.state().requests().len(), 2);
}
