//! The Files and Batches APIs on SQLite and PostgreSQL: uploads (multipart), list, retrieve,
//! content and delete with per-key ownership; batches run by the local runner through the
//! pipeline (a line per spend row, failed lines in the error file), cancelled, and every bad
//! input answered in OpenAI's error shape.

use std::sync::Arc;
use std::time::Duration;

use llmrelay_mock::{MockConfig, MockServer};
use serde_json::{Value, json};

use crate::support::{serve_governed, temp_directory};

const MASTER: &str = "sk-files-master-0123456789";
const ADMIN_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";
const BOUNDARY: &str = "llmrelay-test-boundary-7d3f";

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        self.send(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(key),
        )
        .await
    }

    async fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .bearer_auth(key)
                .json(body),
        )
        .await
    }

    async fn delete(&self, path: &str, key: &str) -> (u16, Value) {
        self.send(
            self.http
                .delete(format!("{}{path}", self.base))
                .bearer_auth(key),
        )
        .await
    }

    async fn upload(
        &self,
        key: &str,
        purpose: Option<&str>,
        name: &str,
        bytes: &[u8],
    ) -> (u16, Value) {
        let mut body = Vec::new();
        if let Some(purpose) = purpose {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        self.send(
            self.http
                .post(format!("{}/v1/files", self.base))
                .bearer_auth(key)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(body),
        )
        .await
    }

    async fn key(&self, body: Value) -> (String, String) {
        let (status, created) = self.post("/key/generate", MASTER, &body).await;
        assert_eq!(status, 200, "{created}");
        (
            created["key"].as_str().unwrap().to_owned(),
            created["token"].as_str().unwrap().to_owned(),
        )
    }

    async fn wait_for(&self, batch_id: &str, key: &str, statuses: &[&str]) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (status, batch) = self.get(&format!("/v1/batches/{batch_id}"), key).await;
            assert_eq!(status, 200, "{batch}");
            if statuses.contains(&batch["status"].as_str().unwrap_or_default()) {
                return batch;
            }
            assert!(std::time::Instant::now() < deadline, "batch stuck: {batch}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn chat_line(custom_id: &str, model: &str, extra_headers: Option<Value>) -> String {
    let mut body = json!({"model": model, "messages": [{"role": "user", "content": format!("Hello {custom_id}")}]});
    if let Some(headers) = extra_headers {
        body["extra_headers"] = headers;
    }
    json!({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})
        .to_string()
}

fn assert_error(status: u16, body: &Value, expected: u16, needle: &str) {
    assert_eq!(status, expected, "{body}");
    let error = &body["error"];
    for field in ["message", "type", "param", "code"] {
        assert!(error.get(field).is_some(), "{field} missing: {body}");
    }
    assert!(
        error["message"].as_str().unwrap().contains(needle),
        "expected {needle:?} in {body}"
    );
}

async fn scenario(database_url: Option<&str>, directory: &std::path::Path) {
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let api_base = format!("{}/v1", mock.base_url());
    let database = database_url.map_or_else(String::new, |url| format!("  database_url: {url}\n"));
    let yaml = format!(
        r"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {api_base}
      api_key: sk-test
  - model_name: embed
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: {api_base}
      api_key: sk-test
    model_info:
      mode: embedding
router_settings:
  num_retries: 0
general_settings:
  master_key: {MASTER}
{database}  max_file_size_mb: 0.05
  batch_concurrency: 4
"
    );
    let (served, proxy) = serve_governed(directory, &yaml).await;
    let governed = proxy.state().governance.clone().expect("governance is on");
    let client = Client {
        base: served.base.clone(),
        http: llmrelay_providers::http::client().clone(),
    };
    let (alice, alice_token) = client.key(json!({"models": ["gpt-4o", "embed"]})).await;
    let (bob, _) = client.key(json!({})).await;
    let (embed_only, _) = client.key(json!({"models": ["embed"]})).await;

    // Upload, retrieve, content, list.
    let (status, file) = client
        .upload(&alice, Some("user_data"), "notes.txt", b"hello files")
        .await;
    assert_eq!(status, 200, "{file}");
    let file_id = file["id"].as_str().unwrap().to_owned();
    assert!(file_id.starts_with("file-"), "{file}");
    assert_eq!(file["object"], "file");
    assert_eq!(file["bytes"], 11);
    assert_eq!(file["filename"], "notes.txt");
    assert_eq!(file["purpose"], "user_data");
    assert_eq!(file["status"], "processed");
    assert!(file["created_at"].as_i64().unwrap() > 0);
    let (status, again) = client.get(&format!("/v1/files/{file_id}"), &alice).await;
    assert_eq!((status, &again), (200, &file));
    let content = client
        .http
        .get(format!("{}/files/{file_id}/content", client.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(content.status(), 200);
    assert_eq!(content.bytes().await.unwrap().as_ref(), b"hello files");
    let (status, listed) = client.get("/v1/files", &alice).await;
    assert_eq!(status, 200);
    assert_eq!(listed["object"], "list");
    assert_eq!(listed["data"][0]["id"], file_id.as_str());

    // Ownership: another key neither lists nor reads it; the master key sees everything.
    let (status, listed) = client.get("/v1/files", &bob).await;
    assert_eq!(status, 200);
    assert_eq!(listed["data"], json!([]));
    let (status, body) = client.get(&format!("/v1/files/{file_id}"), &bob).await;
    assert_error(status, &body, 403, "does not have access");
    let (status, body) = client
        .get(&format!("/v1/files/{file_id}/content"), &bob)
        .await;
    assert_error(status, &body, 403, "does not have access");
    let (status, body) = client.delete(&format!("/v1/files/{file_id}"), &bob).await;
    assert_error(status, &body, 403, "does not have access");
    let (status, listed) = client.get("/v1/files?purpose=user_data", MASTER).await;
    assert_eq!(status, 200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    let (_, listed) = client.get("/v1/files?purpose=batch", MASTER).await;
    assert_eq!(listed["data"], json!([]));

    // Pages: newest first, `after` continues.
    let (_, second) = client
        .upload(&alice, Some("user_data"), "second.txt", b"2")
        .await;
    let (status, page) = client.get("/v1/files?limit=1", &alice).await;
    assert_eq!(status, 200);
    assert_eq!(page["data"][0]["id"], second["id"]);
    assert_eq!(page["has_more"], true);
    assert_eq!(page["first_id"], second["id"]);
    let (_, next) = client
        .get(
            &format!("/v1/files?limit=1&after={}", second["id"].as_str().unwrap()),
            &alice,
        )
        .await;
    assert_eq!(next["data"][0]["id"], file_id.as_str());
    assert_eq!(next["has_more"], false);
    let (_, oldest_first) = client.get("/v1/files?order=asc", &alice).await;
    assert_eq!(oldest_first["data"][0]["id"], file_id.as_str());
    let (status, body) = client.get("/v1/files?limit=0", &alice).await;
    assert_error(status, &body, 400, "limit");
    // A team's keys share their files.
    let (status, team) = client
        .post("/team/new", MASTER, &json!({"team_id": "files-team"}))
        .await;
    assert_eq!(status, 200, "{team}");
    let (teammate_a, _) = client.key(json!({"team_id": "files-team"})).await;
    let (teammate_b, _) = client.key(json!({"team_id": "files-team"})).await;
    let (_, shared) = client
        .upload(&teammate_a, Some("user_data"), "team.txt", b"t")
        .await;
    let (status, seen) = client
        .get(
            &format!("/v1/files/{}", shared["id"].as_str().unwrap()),
            &teammate_b,
        )
        .await;
    assert_eq!(status, 200, "{seen}");
    let (_, listed) = client.get("/v1/files", &teammate_b).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
    let (status, _) = client
        .get(
            &format!("/v1/files/{}", shared["id"].as_str().unwrap()),
            &alice,
        )
        .await;
    assert_eq!(status, 403);

    // Bad uploads.
    let (status, body) = client.upload(&alice, Some("nonsense"), "a.txt", b"x").await;
    assert_error(status, &body, 400, "'nonsense' is not one of");
    assert_eq!(body["error"]["param"], "purpose");
    let (status, body) = client.upload(&alice, None, "a.txt", b"x").await;
    assert_error(status, &body, 400, "Missing required parameter: 'purpose'");
    let (status, body) = client
        .upload(&alice, Some("user_data"), "big.bin", &vec![b'x'; 60_000])
        .await;
    assert_error(status, &body, 413, "File too large");
    let (status, body) = client
        .upload(
            &alice,
            Some("batch"),
            "bad.jsonl",
            b"{\"custom_id\": \"a\", \"method\": \"POST\"\nnot json\n",
        )
        .await;
    assert_error(status, &body, 400, "line 1");
    let (status, body) = client.get("/v1/files/file-doesnotexist", &alice).await;
    assert_error(status, &body, 404, "No such File object: file-doesnotexist");
    let (status, body) = client
        .send(
            client
                .http
                .post(format!("{}/v1/files", client.base))
                .bearer_auth(&alice)
                .json(&json!({"purpose": "batch"})),
        )
        .await;
    assert_error(status, &body, 400, "multipart/form-data");

    // A batch: ten lines, one of which the upstream refuses.
    let mut lines: Vec<String> = (0..9)
        .map(|i| chat_line(&format!("req-{i}"), "gpt-4o", None))
        .collect();
    lines.push(chat_line(
        "req-bad",
        "gpt-4o",
        Some(json!({"x-mock-status": "400"})),
    ));
    let (status, input) = client
        .upload(
            &alice,
            Some("batch"),
            "input.jsonl",
            lines.join("\n").as_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{input}");
    let input_id = input["id"].as_str().unwrap().to_owned();
    let (status, body) = client
        .post("/v1/batches", &alice, &json!({"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}))
        .await;
    assert_error(status, &body, 400, "purpose 'batch'");
    let (status, body) = client
        .post("/v1/batches", &alice, &json!({"input_file_id": input_id, "endpoint": "/v1/embeddings", "completion_window": "24h"}))
        .await;
    assert_error(status, &body, 400, "the batch's endpoint");
    let (status, body) = client
        .post("/v1/batches", &alice, &json!({"input_file_id": input_id, "endpoint": "/v1/chat/completions", "completion_window": "1h"}))
        .await;
    assert_error(status, &body, 400, "completion_window");
    let (status, body) = client
        .post("/v1/batches", &bob, &json!({"input_file_id": input_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}))
        .await;
    assert_error(status, &body, 403, "does not have access");
    let (status, body) = client
        .post("/v1/batches", &alice, &json!({"input_file_id": "file-nope", "endpoint": "/v1/chat/completions", "completion_window": "24h"}))
        .await;
    assert_error(status, &body, 404, "No such File object");
    // A model the key may not use.
    let (status, forbidden_input) = client
        .upload(
            &embed_only,
            Some("batch"),
            "f.jsonl",
            chat_line("x", "gpt-4o", None).as_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{forbidden_input}");
    let (status, body) = client
        .post("/v1/batches", &embed_only, &json!({"input_file_id": forbidden_input["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}))
        .await;
    assert_error(status, &body, 403, "line 1");
    let (status, body) = client.get("/v1/batches/batch_nope", &alice).await;
    assert_error(status, &body, 404, "batch_nope");

    let (status, batch) = client
        .post(
            "/v1/batches",
            &alice,
            &json!({"input_file_id": input_id, "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"job": "nightly"}}),
        )
        .await;
    assert_eq!(status, 200, "{batch}");
    assert_eq!(batch["object"], "batch");
    assert_eq!(batch["status"], "validating");
    assert_eq!(
        batch["request_counts"],
        json!({"total": 10, "completed": 0, "failed": 0})
    );
    assert_eq!(batch["metadata"], json!({"job": "nightly"}));
    let batch_id = batch["id"].as_str().unwrap().to_owned();
    assert!(batch_id.starts_with("batch_"));
    let done = client
        .wait_for(&batch_id, &alice, &["completed", "failed"])
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["request_counts"],
        json!({"total": 10, "completed": 9, "failed": 1})
    );
    for field in ["in_progress_at", "finalizing_at", "completed_at"] {
        assert!(done[field].as_i64().is_some(), "{field}: {done}");
    }
    let (status, body) = client.get(&format!("/v1/batches/{batch_id}"), &bob).await;
    assert_error(status, &body, 403, "does not have access");

    let output_id = done["output_file_id"].as_str().unwrap();
    let text = client
        .http
        .get(format!("{}/v1/files/{output_id}/content", client.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let outputs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(outputs.len(), 9);
    for (i, line) in outputs.iter().enumerate() {
        assert_eq!(line["custom_id"], format!("req-{i}"));
        assert!(line["id"].as_str().unwrap().starts_with("batch_req_"));
        assert_eq!(line["response"]["status_code"], 200);
        assert_eq!(line["response"]["body"]["object"], "chat.completion");
        assert_eq!(line["error"], Value::Null);
    }
    let (status, output_file) = client.get(&format!("/v1/files/{output_id}"), &alice).await;
    assert_eq!(status, 200);
    assert_eq!(output_file["purpose"], "batch_output");
    let error_id = done["error_file_id"].as_str().unwrap();
    let text = client
        .http
        .get(format!("{}/v1/files/{error_id}/content", client.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let errors: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["custom_id"], "req-bad");
    assert_eq!(errors[0]["response"]["status_code"], 400);
    assert!(
        errors[0]["response"]["body"]["error"]["message"].is_string(),
        "{errors:?}"
    );

    // One spend row per line, as the key that created the batch.
    governed.engine.spend_writer().flush().await;
    let rows = governed
        .engine
        .store()
        .count(
            "SELECT COUNT(*) AS \"count\" FROM \"LiteLLM_SpendLogs\" WHERE \"api_key\" = $1",
            &[llmrelay_governance::db::Param::text(&alice_token)],
        )
        .await
        .unwrap();
    assert_eq!(rows, 10);

    // Listed newest first; another key sees none of them.
    let (status, listed) = client.get("/v1/batches?limit=5", &alice).await;
    assert_eq!(status, 200);
    assert_eq!(listed["object"], "list");
    assert_eq!(listed["data"][0]["id"], batch_id.as_str());
    let (_, listed) = client.get("/v1/batches", &bob).await;
    assert_eq!(listed["data"], json!([]));

    // Embeddings, and a cancel while lines are slow.
    let slow: Vec<String> = (0..40)
        .map(|i| {
            json!({"custom_id": format!("e-{i}"), "method": "POST", "url": "/v1/embeddings",
                   "body": {"model": "embed", "input": "hi", "extra_headers": {"x-mock-latency-ms": "100"}}})
            .to_string()
        })
        .collect();
    let (_, slow_input) = client
        .upload(
            &alice,
            Some("batch"),
            "slow.jsonl",
            slow.join("\n").as_bytes(),
        )
        .await;
    let (status, slow_batch) = client
        .post("/v1/batches", &alice, &json!({"input_file_id": slow_input["id"], "endpoint": "/v1/embeddings", "completion_window": "24h"}))
        .await;
    assert_eq!(status, 200, "{slow_batch}");
    let slow_id = slow_batch["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (status, cancelling) = client
        .post(&format!("/v1/batches/{slow_id}/cancel"), &alice, &json!({}))
        .await;
    assert_eq!(status, 200, "{cancelling}");
    assert!(
        matches!(
            cancelling["status"].as_str(),
            Some("cancelling" | "cancelled")
        ),
        "{cancelling}"
    );
    let cancelled = client
        .wait_for(&slow_id, &alice, &["cancelled", "completed"])
        .await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(cancelled["cancelled_at"].as_i64().is_some());
    let counts = &cancelled["request_counts"];
    assert_eq!(counts["total"], 40);
    assert!(
        counts["completed"].as_i64().unwrap() < 40,
        "lines not yet sent are not sent: {cancelled}"
    );
    // What was done is kept.
    if counts["completed"].as_i64().unwrap() > 0 {
        let output = cancelled["output_file_id"].as_str().unwrap();
        let (status, _) = client.get(&format!("/v1/files/{output}"), &alice).await;
        assert_eq!(status, 200);
    }
    let (status, body) = client
        .post(&format!("/v1/batches/{slow_id}/cancel"), &alice, &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = client
        .post(
            &format!("/v1/batches/{batch_id}/cancel"),
            &alice,
            &json!({}),
        )
        .await;
    assert_error(status, &body, 409, "Cannot cancel");

    // The routes are in the OpenAPI description.
    let (status, spec) = client.get("/openapi.json", MASTER).await;
    assert_eq!(status, 200);
    for path in [
        "/v1/files",
        "/v1/files/{file_id}/content",
        "/v1/batches/{batch_id}/cancel",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path}");
    }
    assert!(
        spec["paths"]["/v1/files"]["post"]["requestBody"]["content"]["multipart/form-data"]
            .is_object()
    );

    // Delete.
    let (status, deleted) = client.delete(&format!("/v1/files/{file_id}"), &alice).await;
    assert_eq!(status, 200);
    assert_eq!(
        deleted,
        json!({"id": file_id, "object": "file", "deleted": true})
    );
    let (status, body) = client.get(&format!("/v1/files/{file_id}"), &alice).await;
    assert_error(status, &body, 404, "No such File object");
    drop(served);
}

#[tokio::test]
async fn files_and_batches_on_sqlite() {
    let directory = temp_directory("files");
    scenario(None, &directory).await;
    // The bytes are next to the config by default.
    assert!(directory.join("llmrelay_files").is_dir());
    let _ = std::fs::remove_dir_all(directory);
}

#[tokio::test]
async fn files_and_batches_on_postgres() {
    use sqlx::Connection as _;
    let url = match sqlx::PgConnection::connect(ADMIN_URL).await {
        Ok(mut connection) => {
            let name = format!("proxy_files_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut connection)
                .await
                .unwrap();
            format!("postgresql://postgres@127.0.0.1:5432/{name}")
        }
        Err(error) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "files_and_batches_on_postgres: PostgreSQL on 127.0.0.1:5432 is required under CI=true: {error}"
            );
            eprintln!(
                "SKIPPED files_and_batches_on_postgres: PostgreSQL unavailable at 127.0.0.1:5432: {error}"
            );
            return;
        }
    };
    let directory = temp_directory("files-pg");
    scenario(Some(&url), &directory).await;
    let _ = std::fs::remove_dir_all(directory);
    let name = url.rsplit('/').next().unwrap_or_default().to_owned();
    if let Ok(mut connection) = sqlx::PgConnection::connect(ADMIN_URL).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut connection)
            .await;
    }
}

/// A graceful stop mid-batch (the lines in flight finish and are stored) and a new proxy on
/// the same database resuming it: every line once in the output, one spend row per line, no
/// line counted as a retry; a key blocked meanwhile gets its remaining lines refused.
#[tokio::test]
async fn a_stopped_batch_resumes_on_the_next_proxy() {
    let directory = temp_directory("files-resume");
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), MockConfig::default())
        .await
        .unwrap();
    let api_base = format!("{}/v1", mock.base_url());
    let yaml = format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o-mini\n      api_base: {api_base}\n      api_key: sk-test\ngeneral_settings:\n  master_key: {MASTER}\n  batch_concurrency: 4\n"
    );
    let (served, proxy) = serve_governed(&directory, &yaml).await;
    let client = Client {
        base: served.base.clone(),
        http: llmrelay_providers::http::client().clone(),
    };
    let (key, token) = client.key(json!({})).await;
    let (other, _) = client.key(json!({})).await;
    let slow = json!({"x-mock-latency-ms": "40"});
    let lines: Vec<String> = (0..300)
        .map(|i| chat_line(&format!("r-{i}"), "gpt-4o", Some(slow.clone())))
        .collect();
    let (_, input) = client
        .upload(&key, Some("batch"), "in.jsonl", lines.join("\n").as_bytes())
        .await;
    let (status, batch) = client
        .post("/v1/batches", &key, &json!({"input_file_id": input["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}))
        .await;
    assert_eq!(status, 200, "{batch}");
    let batch_id = batch["id"].as_str().unwrap().to_owned();
    // The other key's batch: its key is blocked while the proxy is down.
    let (_, other_input) = client
        .upload(
            &other,
            Some("batch"),
            "o.jsonl",
            lines[..200].join("\n").as_bytes(),
        )
        .await;
    let (_, other_batch) = client
        .post("/v1/batches", &other, &json!({"input_file_id": other_input["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}))
        .await;
    let other_id = other_batch["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Stopped as the binary stops: runners first, then the spend rows flushed.
    let state = proxy.state();
    state.files.as_ref().unwrap().shutdown().await;
    let engine = Arc::clone(&state.governance.as_ref().unwrap().engine);
    let stopped = engine.store().batch(&batch_id).await.unwrap().unwrap();
    assert_eq!(stopped.status(), "in_progress");
    let done_before = stopped.object["request_counts"]["completed"]
        .as_i64()
        .unwrap();
    assert!(done_before > 0 && done_before < 300, "{:?}", stopped.object);
    let (status, _) = client
        .post("/key/block", MASTER, &json!({"key": other}))
        .await;
    assert_eq!(status, 200);
    drop(served);
    engine.shutdown().await;
    drop((state, proxy, engine));

    let (served, proxy) = serve_governed(&directory, &yaml).await;
    llmrelay_proxy::files::resume(&proxy.state());
    let client = Client {
        base: served.base.clone(),
        http: llmrelay_providers::http::client().clone(),
    };
    let done = client.wait_for(&batch_id, &key, &["completed"]).await;
    assert_eq!(
        done["request_counts"],
        json!({"total": 300, "completed": 300, "failed": 0})
    );
    let text = client
        .http
        .get(format!(
            "{}/v1/files/{}/content",
            client.base,
            done["output_file_id"].as_str().unwrap()
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["custom_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, (0..300).map(|i| format!("r-{i}")).collect::<Vec<_>>());
    let governed = proxy.state().governance.clone().unwrap();
    assert_eq!(
        governed
            .engine
            .store()
            .batch_line_retries(&batch_id)
            .await
            .unwrap(),
        0
    );
    governed.engine.spend_writer().flush().await;
    let rows = governed
        .engine
        .store()
        .count(
            "SELECT COUNT(*) AS \"count\" FROM \"LiteLLM_SpendLogs\" WHERE \"api_key\" = $1",
            &[llmrelay_governance::db::Param::text(&token)],
        )
        .await
        .unwrap();
    assert_eq!(rows, 300);
    // The blocked key's batch finishes with its remaining lines refused (401) in the error file.
    let other_done = client.wait_for(&other_id, MASTER, &["completed"]).await;
    let failed = other_done["request_counts"]["failed"].as_i64().unwrap();
    let completed = other_done["request_counts"]["completed"].as_i64().unwrap();
    assert_eq!(failed + completed, 200, "{other_done}");
    assert!(failed > 0 && completed > 0, "{other_done}");
    {
        let text = client
            .http
            .get(format!(
                "{}/v1/files/{}/content",
                client.base,
                other_done["error_file_id"].as_str().unwrap()
            ))
            .bearer_auth(MASTER)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["response"]["status_code"], 401, "{first}");
        assert!(
            first["response"]["body"]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("blocked"),
            "{first}"
        );
    }
    drop(served);
    let _ = std::fs::remove_dir_all(directory);
}
