//! Virtual keys through the proxy, on SQLite and PostgreSQL: a key generated with the master
//! key calls chat whole and streamed; its spend rows and spend are in `/spend/logs` and
//! `/key/info`; budgets, model access and expired or unknown keys are refused as LiteLLM
//! refuses them; team aliases, end-user budgets and DB models reach the call.

use std::time::Duration;

use futures::StreamExt;
use llmrelay_mock::{MockConfig, MockServer};
use llmrelay_proxy::Proxy;
use llmrelay_proxy::config::RawConfig;
use serde_json::{Value, json};

use crate::support::{serve, serve_governed, temp_directory};

const MASTER: &str = "sk-govern-master-0123456789";
const ADMIN_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(
        &self,
        path: &str,
        key: Option<&str>,
        body: Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        self.send(reqwest::Method::POST, path, key, Some(body))
            .await
    }

    async fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let (status, _, body) = self.send(reqwest::Method::GET, path, key, None).await;
        (status, body)
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        let (status, _, body) = self.post(path, Some(MASTER), body).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "Hello there"}]})
}

async fn postgres_url(test: &str) -> Option<String> {
    use sqlx::Connection as _;
    match sqlx::PgConnection::connect(ADMIN_URL).await {
        Ok(mut connection) => {
            let name = format!("proxy_gov_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut connection)
                .await
                .unwrap();
            Some(format!("postgresql://postgres@127.0.0.1:5432/{name}"))
        }
        Err(error) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: PostgreSQL on 127.0.0.1:5432 is required under CI=true: {error}"
            );
            eprintln!("SKIPPED {test}: PostgreSQL unavailable at 127.0.0.1:5432: {error}");
            None
        }
    }
}

async fn drop_postgres(url: &str) {
    use sqlx::Connection as _;
    let name = url.rsplit('/').next().unwrap_or_default().to_owned();
    if let Ok(mut connection) = sqlx::PgConnection::connect(ADMIN_URL).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut connection)
            .await;
    }
}

async fn sse(response: reqwest::Response) -> String {
    let mut body = String::new();
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        body.push_str(&String::from_utf8_lossy(&piece.unwrap()));
    }
    body
}

/// The whole scenario against one database.
async fn scenario(database_url: &str, wal: &std::path::Path) {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let api_base = format!("{}/v1", mock.base_url());
    let yaml = format!(
        r"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {api_base}
      api_key: sk-test
  - model_name: other
    litellm_params:
      model: openai/gpt-4o
      api_base: {api_base}
      api_key: sk-test
general_settings:
  master_key: {MASTER}
  database_url: {database_url}
  store_model_in_db: true
"
    );
    // The database and the spend write-ahead files go next to the config file.
    let (served, proxy) = serve_governed(wal, &yaml).await;
    let governed = proxy.state().governance.clone().expect("governance is on");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client {
        base: served.base.clone(),
        http: reqwest::Client::new(),
    };

    // A key for gpt-4o only, with a budget.
    let created = client
        .admin(
            "/key/generate",
            json!({"models": ["gpt-4o"], "key_alias": "app", "max_budget": 10, "user_id": "ana"}),
        )
        .await;
    let key = created["key"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();

    // Whole: LiteLLM's key headers before this call's spend.
    let (status, headers, body) = client
        .post("/v1/chat/completions", Some(&key), chat("gpt-4o"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(headers["x-litellm-key-spend"], "0.0");
    assert_eq!(headers["x-litellm-key-max-budget"], "10.0");

    // Streamed.
    let mut streamed = chat("gpt-4o");
    streamed["stream"] = json!(true);
    let response = client
        .http
        .post(format!("{}/v1/chat/completions", client.base))
        .bearer_auth(&key)
        .json(&streamed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-litellm-key-spend"));
    let text = sse(response).await;
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");

    // A model the key may not use: LiteLLM's 403.
    let (status, _, body) = client
        .post("/v1/chat/completions", Some(&key), chat("other"))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["type"], "key_model_access_denied");
    assert_eq!(body["error"]["param"], "model");
    // `/v1/models` lists what the key may use.
    let (status, models) = client.get("/v1/models", Some(&key)).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["gpt-4o"]);

    // Unknown, missing and expired keys: 401.
    let (status, _, body) = client
        .post(
            "/v1/chat/completions",
            Some("sk-not-a-key-at-all"),
            chat("gpt-4o"),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["type"], "auth_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Authentication Error, Invalid proxy server token passed."),
        "{body}"
    );
    let (status, _, body) = client
        .post("/v1/chat/completions", None, chat("gpt-4o"))
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "Authentication Error, No api key passed in."
    );
    let short = client
        .admin("/key/generate", json!({"duration": "1s"}))
        .await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (status, _, body) = client
        .post(
            "/v1/chat/completions",
            Some(short["key"].as_str().unwrap()),
            chat("gpt-4o"),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["type"], "expired_key");

    // An exhausted budget: LiteLLM's budget_exceeded.
    let spent = client
        .admin(
            "/key/generate",
            json!({"max_budget": 0.001, "spend": 0.001}),
        )
        .await;
    let (status, _, body) = client
        .post(
            "/v1/chat/completions",
            Some(spent["key"].as_str().unwrap()),
            chat("gpt-4o"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["type"], "budget_exceeded");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Budget has been exceeded!"),
        "{body}"
    );

    // An end user whose budget cannot hold the call's upper bound.
    client
        .admin(
            "/customer/new",
            json!({"user_id": "customer-1", "max_budget": 0.0000001}),
        )
        .await;
    let mut for_customer = chat("gpt-4o");
    for_customer["user"] = json!("customer-1");
    for_customer["max_tokens"] = json!(1000);
    let (status, _, body) = client
        .post("/v1/chat/completions", Some(&key), for_customer)
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("End User=customer-1"),
        "{body}"
    );

    // A team alias resolves to its model group; the answer keeps the name asked for.
    client
        .admin("/team/new", json!({"team_id": "research", "models": ["gpt-4o"], "model_aliases": {"fast": "gpt-4o"}}))
        .await;
    let team_key = client
        .admin("/key/generate", json!({"team_id": "research"}))
        .await;
    let team_key = team_key["key"].as_str().unwrap().to_owned();
    let (status, _, body) = client
        .post("/v1/chat/completions", Some(&team_key), chat("fast"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], "fast");
    let (status, _, body) = client
        .post("/v1/chat/completions", Some(&team_key), chat("other"))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["type"], "team_model_access_denied");

    // Every call that reached the pipeline has its row; the key's spend adds them up.
    governed.engine.spend_writer().flush().await;
    let (status, rows) = client
        .get(&format!("/spend/logs?api_key={token}"), Some(MASTER))
        .await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows.as_array().unwrap().clone();
    let succeeded: Vec<&Value> = rows.iter().filter(|r| r["status"] == "success").collect();
    assert_eq!(succeeded.len(), 2, "{rows:?}");
    for row in &succeeded {
        assert_eq!(row["api_key"], token.as_str());
        assert_eq!(row["user"], "ana");
        assert_eq!(row["model_group"], "gpt-4o");
        assert_eq!(row["call_type"], "acompletion");
        assert!(row["spend"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["total_tokens"].as_i64().unwrap() > 0, "{row}");
    }
    let failed: Vec<&Value> = rows.iter().filter(|r| r["status"] == "failure").collect();
    assert_eq!(
        failed.len(),
        2,
        "the forbidden model and the end user's budget: {rows:?}"
    );
    let total: f64 = succeeded.iter().map(|r| r["spend"].as_f64().unwrap()).sum();
    let (status, info) = client
        .get(&format!("/key/info?key={key}"), Some(MASTER))
        .await;
    assert_eq!(status, 200, "{info}");
    let spend = info["info"]["spend"].as_f64().unwrap();
    assert!(
        (spend - total).abs() < 1e-12,
        "key spend {spend} vs rows {total}"
    );
    // A non-admin key may not manage keys.
    let (status, _, body) = client
        .post("/key/generate", Some(&team_key), json!({}))
        .await;
    assert!(status == 401 || status == 403, "{status} {body}");

    // A model added through the API serves calls on this instance without a restart.
    client
        .admin(
            "/model/new",
            json!({"model_name": "stored", "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": api_base, "api_key": "sk-test"}, "model_info": {"id": "stored-1"}}),
        )
        .await;
    let mut served_stored = false;
    for _ in 0..50 {
        let (status, _, _) = client
            .post("/v1/chat/completions", Some(MASTER), chat("stored"))
            .await;
        if status == 200 {
            served_stored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served_stored, "the DB model never reached the router");
    let (status, info) = client
        .get("/model/info?litellm_model_id=stored-1", Some(MASTER))
        .await;
    assert_eq!(status, 200);
    assert_eq!(info["data"][0]["model_info"]["db_model"], json!(true));
    assert!(
        info["data"][0]["litellm_params"].get("api_key").is_none(),
        "{info}"
    );

    drop(served);
    governed.engine.shutdown().await;
}

#[tokio::test]
async fn virtual_keys_through_the_proxy_on_sqlite() {
    let directory = temp_directory("governance");
    let url = format!("sqlite://{}", directory.join("llmrelay.db").display());
    scenario(&url, &directory).await;
    let _ = std::fs::remove_dir_all(&directory);
}

#[tokio::test]
async fn virtual_keys_through_the_proxy_on_postgres() {
    let Some(url) = postgres_url("virtual_keys_through_the_proxy_on_postgres").await else {
        return;
    };
    let directory = temp_directory("governance-pg");
    scenario(&url, &directory).await;
    drop_postgres(&url).await;
    let _ = std::fs::remove_dir_all(&directory);
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn migrate_command_creates_the_database_next_to_the_config() {
    let directory = temp_directory("migrate");
    std::fs::write(
        directory.join("config.yaml"),
        format!("model_list: []\ngeneral_settings:\n  master_key: {MASTER}\n"),
    )
    .unwrap();
    let ran = crate::support::run_binary(&directory, &["migrate", "--config", "config.yaml"], &[]);
    assert_eq!(ran.code, Some(0), "{} {}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .contains("llmrelay: migrations applied to sqlite://"),
        "{}",
        ran.stdout
    );
    assert!(directory.join("llmrelay.db").is_file());
    // Without a config or a database URL there is nothing to migrate.
    let nothing = crate::support::run_binary(&directory, &["migrate"], &[]);
    assert_eq!(nothing.code, Some(1));
    assert!(nothing.stderr.contains("no database"), "{}", nothing.stderr);
    let _ = std::fs::remove_dir_all(&directory);
}

/// `llmrelay import-litellm --from …` copies a LiteLLM database; its keys then work here.
#[tokio::test]
async fn imported_litellm_keys_call_through_the_proxy() {
    let Some(source) = postgres_url("imported_litellm_keys_call_through_the_proxy").await else {
        return;
    };
    let old_key = "sk-litellm-old-key-1234567890";
    let pool = sqlx::PgPool::connect(&source).await.unwrap();
    sqlx::raw_sql(include_str!(
        "../../../llmrelay-governance/tests/fixtures/litellm_prisma_schema.sql"
    ))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::raw_sql(&format!(
        r#"INSERT INTO "LiteLLM_VerificationToken" ("token", "key_name", "key_alias", "spend", "max_budget", "models", "metadata", "created_at", "created_by")
           VALUES ('{}', 'sk-...7890', 'legacy', 0.5, 10.0, ARRAY['gpt-4o'], '{{}}', now(), 'admin')"#,
        sha256_hex(old_key)
    ))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let directory = temp_directory("import");
    let path = directory.join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o-mini\n      api_base: {}/v1\n      api_key: sk-test\ngeneral_settings:\n  master_key: {MASTER}\n",
            mock.base_url()
        ),
    )
    .unwrap();
    let ran = crate::support::run_binary(
        &directory,
        &[
            "import-litellm",
            "--from",
            &source,
            "--config",
            "config.yaml",
        ],
        &[],
    );
    assert_eq!(ran.code, Some(0), "{} {}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("LiteLLM_VerificationToken"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("llmrelay: imported postgresql://"),
        "{}",
        ran.stdout
    );

    let config = RawConfig::load(&path).unwrap().resolve().unwrap();
    let proxy = Proxy::from_config(&config, None).unwrap();
    let governed = proxy.state().governance.clone().unwrap();
    llmrelay_proxy::governance::start(
        &governed.engine,
        governed.router.as_ref(),
        Some(&governed.limiter),
    )
    .await
    .unwrap();
    let served = serve(proxy).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client {
        base: served.base.clone(),
        http: reqwest::Client::new(),
    };
    let (status, headers, body) = client
        .post("/v1/chat/completions", Some(old_key), chat("gpt-4o"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-litellm-key-spend"], "0.5");
    drop(served);
    governed.engine.shutdown().await;
    drop_postgres(&source).await;
    let _ = std::fs::remove_dir_all(&directory);
}
