//! Tag routing through the proxy on SQLite: one model group with a `free`, a `paid` and a
//! `default` deployment; the body's `tags`, `metadata.tags`, the `x-litellm-tags` header, a
//! key's and a team's tags choose the deployment; the tags land on the spend rows and in
//! `/spend/tags`.

use llmrelay_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

use crate::support::{serve_governed, temp_directory};

const MASTER: &str = "sk-tags-master-0123456789";

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A chat call: the status, the deployment that served it and the body.
    async fn chat(
        &self,
        key: &str,
        body: Value,
        tags_header: Option<&str>,
    ) -> (u16, String, Value) {
        let mut request = self
            .http
            .post(format!("{}/v1/chat/completions", self.base))
            .bearer_auth(key)
            .json(&body);
        if let Some(tags) = tags_header {
            request = request.header("x-litellm-tags", tags);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let model_id = response
            .headers()
            .get("x-litellm-model-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, model_id, response.json().await.unwrap())
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(MASTER)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(MASTER)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }
}

fn chat(extra: Value) -> Value {
    let mut body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]});
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    body
}

#[tokio::test]
async fn tags_choose_the_tagged_deployment_and_land_on_spend_rows() {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let api_base = format!("{}/v1", mock.base_url());
    let directory = temp_directory("tags");
    let database = directory.join("llmrelay.db");
    let yaml = format!(
        r"
model_list:
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o-mini, api_base: '{api_base}', api_key: sk-test, tags: [free]}}
    model_info: {{id: free-model}}
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o, api_base: '{api_base}', api_key: sk-test, tags: [paid]}}
    model_info: {{id: paid-model}}
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o-mini, api_base: '{api_base}', api_key: sk-test, tags: [default]}}
    model_info: {{id: default-model}}
router_settings:
  enable_tag_filtering: true
general_settings:
  master_key: {MASTER}
  database_url: sqlite://{}
",
        database.display()
    );
    let (served, proxy) = serve_governed(&directory, &yaml).await;
    let governed = proxy.state().governance.clone().expect("governance is on");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client {
        base: served.base.clone(),
        http: reqwest::Client::new(),
    };

    // Each way of tagging a request, several times (the group would spread untagged calls).
    let key_tagged = client
        .admin(
            "/key/generate",
            json!({"tags": ["free"], "key_alias": "free-app"}),
        )
        .await;
    let key_tagged = key_tagged["key"].as_str().unwrap().to_owned();
    client
        .admin("/team/new", json!({"team_id": "payers", "tags": ["paid"]}))
        .await;
    let team_key = client
        .admin("/key/generate", json!({"team_id": "payers"}))
        .await;
    let team_key = team_key["key"].as_str().unwrap().to_owned();
    for _ in 0..4 {
        let (status, served_by, body) = client
            .chat(MASTER, chat(json!({"tags": ["paid"]})), None)
            .await;
        assert_eq!((status, served_by.as_str()), (200, "paid-model"), "{body}");
        let (status, served_by, body) = client
            .chat(MASTER, chat(json!({"metadata": {"tags": ["free"]}})), None)
            .await;
        assert_eq!((status, served_by.as_str()), (200, "free-model"), "{body}");
        let (status, served_by, body) = client
            .chat(MASTER, chat(json!({})), Some("paid, batch-7"))
            .await;
        assert_eq!((status, served_by.as_str()), (200, "paid-model"), "{body}");
        let (status, served_by, body) = client.chat(&key_tagged, chat(json!({})), None).await;
        assert_eq!((status, served_by.as_str()), (200, "free-model"), "{body}");
        let (status, served_by, body) = client.chat(&team_key, chat(json!({})), None).await;
        assert_eq!((status, served_by.as_str()), (200, "paid-model"), "{body}");
        // Untagged, and a tag no deployment knows: the default deployment.
        let (status, served_by, body) = client.chat(MASTER, chat(json!({})), None).await;
        assert_eq!(
            (status, served_by.as_str()),
            (200, "default-model"),
            "{body}"
        );
        let (status, served_by, body) = client
            .chat(MASTER, chat(json!({"tags": ["nightly"]})), None)
            .await;
        assert_eq!(
            (status, served_by.as_str()),
            (200, "default-model"),
            "{body}"
        );
    }
    // The body's `tags` win over the header, as in LiteLLM.
    let (status, served_by, body) = client
        .chat(MASTER, chat(json!({"tags": ["free"]})), Some("paid"))
        .await;
    assert_eq!((status, served_by.as_str()), (200, "free-model"), "{body}");

    // Tags the group knows but that leave no deployment: LiteLLM's 401.
    let (status, _, body) = client
        .chat(MASTER, chat(json!({"tags": ["paid", "!paid"]})), None)
        .await;
    assert_eq!(status, 401, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Not allowed to access model due to tags configuration. Passed model=gpt-4o and tags=['paid', '!paid']"
        ),
        "{body}"
    );
    assert_eq!(body["error"]["code"], "401", "{body}");

    // Spend rows carry the request's tags (metadata, then key and team, then the caller's).
    governed.engine.spend_writer().flush().await;
    let rows = client
        .get(&format!("/spend/logs?api_key={key_tagged}"))
        .await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    for row in rows {
        assert_eq!(row["request_tags"], json!(["free"]), "{row}");
        assert_eq!(row["model_id"], "free-model", "{row}");
    }
    let rows = client.get(&format!("/spend/logs?api_key={team_key}")).await;
    for row in rows.as_array().unwrap() {
        assert_eq!(row["request_tags"], json!(["paid"]), "{row}");
    }
    let rows = client.get("/spend/logs").await;
    let rows = rows.as_array().unwrap();
    let tagged = |tags: Value| rows.iter().filter(|r| r["request_tags"] == tags).count();
    assert_eq!(tagged(json!(["paid", "batch-7"])), 4, "{rows:?}");
    assert_eq!(tagged(json!(["nightly"])), 4, "{rows:?}");
    let refused: Vec<&Value> = rows.iter().filter(|r| r["status"] == "failure").collect();
    assert_eq!(refused.len(), 1, "{rows:?}");
    assert_eq!(refused[0]["request_tags"], json!(["paid", "!paid"]));

    // `/spend/tags` adds them up per tag.
    let per_tag = client.get("/spend/tags").await;
    let count = |tag: &str| {
        per_tag
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["individual_request_tag"] == tag)
            .map_or(0, |entry| entry["log_count"].as_i64().unwrap_or_default())
    };
    // paid: 4 body, 4 header, 4 team key, 1 refused; free: 4 metadata, 4 key, 1 over the header.
    assert_eq!(count("paid"), 13, "{per_tag}");
    assert_eq!(count("free"), 9, "{per_tag}");
    assert_eq!(count("batch-7"), 4, "{per_tag}");

    drop(served);
    governed.engine.shutdown().await;
    let _ = std::fs::remove_dir_all(&directory);
}
