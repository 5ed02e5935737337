//! `general_settings.enforced_params` and a key's `metadata.enforced_params` (body fields every
//! request must carry, refused as LiteLLM refuses them), and
//! `litellm_settings.budget_exceeded_status_code` (the status of a budget refusal).

use llmrelay_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

use crate::support::{post_json, serve_governed, temp_directory};

const MASTER: &str = "sk-enforced-master-0123456789";

async fn post(base: &str, path: &str, key: &str, body: Value) -> (u16, Value) {
    post_json(base, path, key, &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_params_and_the_budget_status_are_as_configured() {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let directory = temp_directory("enforced");
    let yaml = format!(
        r"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {}/v1
      api_key: sk-test
litellm_settings:
  budget_exceeded_status_code: 429
general_settings:
  master_key: {MASTER}
  database_url: sqlite://{}
  enforced_params: [user]
  store_model_in_db: true
guardrails:
  - guardrail_name: no-forbidden
    litellm_params:
      guardrail: litellm_content_filter
      mode: pre_call
      blocked_words:
        - {{keyword: forbidden, action: BLOCK}}
",
        mock.base_url(),
        directory.join("llmrelay.db").display()
    );
    let (served, _proxy) = serve_governed(&directory, &yaml).await;
    let base = served.base.clone();
    let ask = |extra: Value| {
        let mut body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };

    let (status, body) = post(&base, "/v1/chat/completions", MASTER, ask(json!({}))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "BadRequest please pass param=user in request body. This is a required param"
    );
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "user");
    // Checked before the model is: an unknown model still reports the missing param.
    let (status, _) = post(
        &base,
        "/v1/chat/completions",
        MASTER,
        json!({"model": "nope", "messages": []}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = post(
        &base,
        "/v1/chat/completions",
        MASTER,
        ask(json!({"user": "u1"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A key of its own requiring metadata.generation_name, with a budget too small for a call.
    let (status, created) = post(
        &base,
        "/key/generate",
        MASTER,
        json!({"metadata": {"enforced_params": ["metadata.generation_name"]}, "max_budget": 0.000_000_1}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let (status, body) = post(
        &base,
        "/v1/chat/completions",
        &key,
        ask(json!({"user": "u1", "metadata": {}})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "BadRequest please pass param=[metadata][generation_name] in request body. This is a required param"
    );
    let (status, body) = post(
        &base,
        "/v1/chat/completions",
        &key,
        ask(json!({"user": "u1", "metadata": {"generation_name": "g"}})),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["type"], "budget_exceeded");
    assert_eq!(body["error"]["code"], "429");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Budget has been exceeded!"),
        "{body}"
    );

    // Route limits: `key_type` gives a new key its route group; `allowed_routes` names routes.
    let key_of = |created: &Value| created["key"].as_str().unwrap().to_owned();
    let (_, llm_only) = post(
        &base,
        "/key/generate",
        MASTER,
        json!({"key_type": "llm_api"}),
    )
    .await;
    assert_eq!(
        llm_only["allowed_routes"],
        json!(["llm_api_routes"]),
        "{llm_only}"
    );
    let llm_only = key_of(&llm_only);
    let (status, body) = post(
        &base,
        "/v1/chat/completions",
        &llm_only,
        ask(json!({"user": "u"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&base, "/key/generate", &llm_only, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (_, read_only) = post(
        &base,
        "/key/generate",
        MASTER,
        json!({"key_type": "read_only"}),
    )
    .await;
    let read_only = key_of(&read_only);
    let (status, body) = post(
        &base,
        "/v1/chat/completions",
        &read_only,
        ask(json!({"user": "u"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Virtual key is not allowed to call this route. Only allowed to call routes: [\"info_routes\"]. Tried to call route: /v1/chat/completions"),
        "{body}"
    );
    let (_, embeddings_only) = post(
        &base,
        "/key/generate",
        MASTER,
        json!({"allowed_routes": ["/v1/embeddings"], "key_type": "llm_api"}),
    )
    .await;
    assert_eq!(embeddings_only["allowed_routes"], json!(["/v1/embeddings"]));
    let embeddings_only = key_of(&embeddings_only);
    let (status, _) = post(
        &base,
        "/v1/chat/completions",
        &embeddings_only,
        ask(json!({"user": "u"})),
    )
    .await;
    assert_eq!(status, 403);

    // A team's own model, called by its public name; another team does not see it.
    let team_of = |body: &Value| body["team_id"].as_str().unwrap().to_owned();
    let (_, team_a) = post(&base, "/team/new", MASTER, json!({"team_alias": "a"})).await;
    let team_a = team_of(&team_a);
    let (_, team_b) = post(&base, "/team/new", MASTER, json!({"team_alias": "b"})).await;
    let team_b = team_of(&team_b);
    let (status, body) = post(
        &base,
        "/model/new",
        MASTER,
        json!({"model_name": "team-gpt", "litellm_params": {"model": "openai/gpt-4o-mini",
            "api_base": format!("{}/v1", mock.base_url()), "api_key": "sk-team"},
            "model_info": {"team_id": team_a}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, key_a) = post(&base, "/key/generate", MASTER, json!({"team_id": team_a})).await;
    let key_a = key_of(&key_a);
    let (_, key_b) = post(&base, "/key/generate", MASTER, json!({"team_id": team_b})).await;
    let key_b = key_of(&key_b);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = post(
            &base,
            "/v1/chat/completions",
            &key_a,
            json!({"model": "team-gpt", "user": "u", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        if status == 200 {
            // The answer names the model asked for.
            assert_eq!(body["model"], "team-gpt", "{body}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{status}: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, body) = post(
        &base,
        "/v1/chat/completions",
        &key_b,
        json!({"model": "team-gpt", "user": "u", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // A team's `guardrails` run for its keys' calls (not for others').
    let (_, guarded) = post(
        &base,
        "/team/new",
        MASTER,
        json!({"team_alias": "guarded", "metadata": {"guardrails": ["no-forbidden"]}}),
    )
    .await;
    let guarded = team_of(&guarded);
    let (_, guarded_key) = post(&base, "/key/generate", MASTER, json!({"team_id": guarded})).await;
    let guarded_key = key_of(&guarded_key);
    let forbidden = json!({"model": "gpt-4o", "user": "u", "messages": [{"role": "user", "content": "a forbidden word"}]});
    let (status, body) = post(
        &base,
        "/v1/chat/completions",
        &guarded_key,
        forbidden.clone(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("forbidden"),
        "{body}"
    );
    let (status, body) = post(&base, "/v1/chat/completions", &key_b, forbidden).await;
    assert_eq!(status, 200, "{body}");
    drop(served);
    let _ = std::fs::remove_dir_all(&directory);
}
