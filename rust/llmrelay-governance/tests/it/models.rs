//! DB deployments over HTTP: `/model/new|update|delete`, `PATCH /model/{id}/update`,
//! `/model/info` merging, encryption at rest, permissions, and changes reaching every instance.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use llmrelay_governance::{Governance, ModelChange, ModelDeployment};
use serde_json::{Value, json};

use crate::support::{Database, MASTER_KEY, Server, config};

fn store_models(config: &mut llmrelay_governance::GovernanceConfig) {
    config.store_model_in_db = true;
    config.salt_key = Some("test-salt-key".to_owned());
}

fn as_text(server: &Server, column: &str, table: &str) -> String {
    match server.database {
        Database::Sqlite(_) => format!("SELECT \"{column}\" FROM \"{table}\""),
        Database::Postgres(_) => format!("SELECT \"{column}\"::text FROM \"{table}\""),
    }
}

fn config_deployment() -> ModelDeployment {
    serde_json::from_value(json!({
        "model_name": "claude",
        "litellm_params": {"model": "anthropic/claude-sonnet-4-5", "api_key": "sk-config-secret"},
        "model_info": {"id": "config-claude", "access_groups": ["writers"]}
    }))
    .unwrap()
}

#[tokio::test]
async fn models_are_stored_encrypted_and_merged_into_model_info() {
    for server in Server::all_with(&store_models).await {
        server
            .engine
            .set_config_deployments(vec![config_deployment()]);
        let changes = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&changes);
        server
            .engine
            .on_model_change(move |change| seen.lock().unwrap().push(change));

        let created = server
            .admin_post(
                "/model/new",
                json!({"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o",
                       "api_key": "sk-db-secret-0123456789", "api_base": "https://api.openai.example/v1", "rpm": 60},
                       "model_info": {"id": "db-gpt", "access_groups": ["beta"]}}),
            )
            .await;
        assert_eq!(created["model_id"], "db-gpt");
        assert_eq!(created["model_name"], "gpt-4o");
        assert!(
            created["litellm_params"].get("api_key").is_none(),
            "{created}"
        );
        assert_eq!(created["litellm_params"]["rpm"], 60);

        // At rest: every string of litellm_params is a ciphertext.
        let stored = server
            .raw_text(&as_text(
                &server,
                "litellm_params",
                "LiteLLM_ProxyModelTable",
            ))
            .await;
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].contains("sk-db-secret"), "{}", stored[0]);
        assert!(!stored[0].contains("api.openai.example"), "{}", stored[0]);
        assert!(stored[0].contains("v2:gcm:"), "{}", stored[0]);

        // The callback got the decrypted deployment; the access group is known.
        match changes.lock().unwrap().last() {
            Some(ModelChange::Upsert(record)) => {
                assert_eq!(
                    record["litellm_params"]["api_key"],
                    "sk-db-secret-0123456789"
                );
            }
            other => panic!("expected an upsert, got {other:?}"),
        }
        assert!(
            server
                .engine
                .access_groups()
                .members("beta")
                .is_some_and(|m| m.contains(&"gpt-4o".to_owned()))
        );

        let info = server.engine.model_info(&[config_deployment()], None);
        let data = info["data"].as_array().unwrap();
        assert_eq!(data.len(), 2, "{info}");
        let config_entry = data.iter().find(|d| d["model_name"] == "claude").unwrap();
        assert_eq!(config_entry["model_info"]["db_model"], false);
        assert!(config_entry["litellm_params"].get("api_key").is_none());
        let db_entry = data.iter().find(|d| d["model_name"] == "gpt-4o").unwrap();
        assert_eq!(db_entry["model_info"]["db_model"], true);
        assert_eq!(db_entry["model_info"]["id"], "db-gpt");
        assert!(db_entry["litellm_params"].get("api_key").is_none());
        assert_eq!(
            db_entry["litellm_params"]["api_base"],
            "https://api.openai.example/v1"
        );
        // The price map's facts are merged in.
        assert!(
            db_entry["model_info"].get("max_input_tokens").is_some(),
            "{db_entry}"
        );
        let one = server
            .engine
            .model_info(&[config_deployment()], Some("config-claude"));
        assert_eq!(one["data"].as_array().unwrap().len(), 1);

        // POST /model/update: values replace, null keeps.
        let updated = server
            .admin_post(
                "/model/update",
                json!({"model_info": {"id": "db-gpt"}, "litellm_params": {"rpm": 120, "api_base": null}}),
            )
            .await;
        assert_eq!(updated["litellm_params"]["rpm"], 120);
        assert_eq!(
            updated["litellm_params"]["api_base"],
            "https://api.openai.example/v1"
        );
        let (status, body) = server
            .post(
                "/model/update",
                MASTER_KEY,
                json!({"model_info": {"id": "config-claude"}, "litellm_params": {"rpm": 1}}),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body["error"]["message"],
            "Can't edit model. Model in config. Store model in db via `/model/new`. to edit."
        );

        // PATCH: only the given fields; null removes a parameter.
        let (status, patched) = server
            .patch(
                "/model/db-gpt/update",
                MASTER_KEY,
                json!({"model_name": "gpt-4o-db", "litellm_params": {"rpm": null},
                       "model_info": {"access_groups": ["gamma"]}}),
            )
            .await;
        assert_eq!(status, 200, "{patched}");
        assert_eq!(patched["model_name"], "gpt-4o-db");
        assert!(patched["litellm_params"].get("rpm").is_none());
        assert_eq!(patched["model_info"]["access_groups"], json!(["gamma"]));
        let deployment = &server.engine.db_deployments()[0];
        assert_eq!(
            deployment.litellm_params["api_key"],
            "sk-db-secret-0123456789"
        );
        assert!(server.engine.access_groups().members("beta").is_none());
        let (status, body) = server
            .patch("/model/nope/update", MASTER_KEY, json!({"model_name": "x"}))
            .await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"]["message"], "Model nope not found on proxy.");

        // Bad bodies.
        let (status, body) = server
            .post(
                "/model/new",
                MASTER_KEY,
                json!({"model_name": "x", "litellm_params": {}}),
            )
            .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["param"], "litellm_params.model");
        let (status, body) = server
            .post(
                "/model/new",
                MASTER_KEY,
                json!({"model_name": "x", "litellm_params": {"model": "openai/x"}, "bogus": 1}),
            )
            .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["param"], "bogus");
        let (status, _) = server
            .post("/model/new", MASTER_KEY, json!({"model_name": "x", "litellm_params": {"model": "openai/x"}, "model_info": {"id": "db-gpt"}}))
            .await;
        assert_eq!(status, 409);
        let (status, body) = server
            .post("/model/new", MASTER_KEY, json!({"model_name": "x", "litellm_params": {"model": "openai/x", "litellm_credential_name": "missing"}}))
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            body["error"]["message"],
            "Credential 'missing' not found. Create it via /credentials before attaching it to a model."
        );

        let deleted = server
            .admin_post("/model/delete", json!({"id": "db-gpt"}))
            .await;
        assert_eq!(deleted["message"], "Model: db-gpt deleted successfully");
        assert!(
            matches!(changes.lock().unwrap().last(), Some(ModelChange::Delete(id)) if id == "db-gpt")
        );
        assert!(server.engine.db_deployments().is_empty());
        let (status, body) = server
            .post("/model/delete", MASTER_KEY, json!({"id": "db-gpt"}))
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            body["error"]["message"],
            "Model with id=db-gpt not found in db"
        );
        // One callback per change here too: the poll skips changes this instance applied.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(changes.lock().unwrap().len(), 4);
        server.finish().await;
    }
}

#[tokio::test]
async fn only_admins_and_team_admins_manage_models() {
    for server in Server::all_with(&store_models).await {
        let internal = server
            .admin_post(
                "/user/new",
                json!({"user_id": "ana-internal", "user_role": "internal_user"}),
            )
            .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let viewer = server
            .admin_post(
                "/user/new",
                json!({"user_id": "vic-viewer", "user_role": "proxy_admin_viewer"}),
            )
            .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        server
            .admin_post(
                "/team/new",
                json!({"team_id": "research", "members_with_roles": [{"user_id": "ana-internal", "role": "admin"}]}),
            )
            .await;
        let deployment = json!({"model_name": "private-llm", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-team-secret"}});

        let (status, body) = server
            .post("/model/new", &internal, deployment.clone())
            .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(
            body["error"]["message"],
            "User does not have permission to make this model call. Your role=internal_user. You can only make model calls if you are a PROXY_ADMIN or if you are a team admin, by specifying a team_id in the model_info."
        );
        let (status, body) = server.post("/model/new", &viewer, deployment.clone()).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(
            body["error"]["message"],
            "View-only users cannot manage models."
        );

        // A team admin adds a team model: a unique internal name, the public name on the team.
        let mut team_model = deployment.clone();
        team_model["model_info"] = json!({"team_id": "research"});
        let (status, created) = server.post("/model/new", &internal, team_model).await;
        assert_eq!(status, 200, "{created}");
        let internal_name = created["model_name"].as_str().unwrap();
        assert!(
            internal_name.starts_with("model_name_research_"),
            "{internal_name}"
        );
        assert_eq!(
            created["model_info"]["team_public_model_name"],
            "private-llm"
        );
        let team = server.admin_get("/team/info?team_id=research").await;
        assert!(
            team["team_info"]["models"]
                .as_array()
                .unwrap()
                .contains(&json!("private-llm")),
            "{team}"
        );
        let model_id = created["model_id"].as_str().unwrap().to_owned();
        let (status, body) = server
            .patch(
                &format!("/model/{model_id}/update"),
                &internal,
                json!({"blocked": true}),
            )
            .await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = server
            .post("/model/delete", &internal, json!({"id": model_id}))
            .await;
        assert_eq!(status, 200, "{body}");
        let team = server.admin_get("/team/info?team_id=research").await;
        assert!(
            !team["team_info"]["models"]
                .as_array()
                .unwrap()
                .contains(&json!("private-llm"))
        );

        let mut other_team = deployment.clone();
        other_team["model_info"] = json!({"team_id": "ghost"});
        let (status, body) = server.post("/model/new", MASTER_KEY, other_team).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body["error"]["message"],
            "Team id=ghost does not exist in db"
        );
        server.finish().await;
    }
}

#[tokio::test]
async fn without_store_model_in_db_models_are_refused() {
    for server in Server::all().await {
        let (status, body) = server
            .post(
                "/model/new",
                MASTER_KEY,
                json!({"model_name": "x", "litellm_params": {"model": "openai/x"}}),
            )
            .await;
        assert_eq!(status, 500, "{body}");
        assert_eq!(
            body["error"]["message"],
            "Set `'STORE_MODEL_IN_DB='True'` in your env to enable this feature."
        );
        let (status, body) = server
            .patch("/model/x/update", MASTER_KEY, json!({"model_name": "y"}))
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body["error"]["message"],
            "Model updates only supported for DB-stored models"
        );
        server.finish().await;
    }
}

/// Waits for a change on the second instance's callback; how long it took.
async fn wait_for(changes: &Arc<Mutex<Vec<ModelChange>>>, count: usize) -> Duration {
    let start = Instant::now();
    while changes.lock().unwrap().len() < count {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the change never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn a_model_added_on_one_instance_reaches_another_within_a_second() {
    for server in Server::all_with(&store_models).await {
        // A second instance on the same database, polling at the default interval.
        let mut second_config = config(&server.database_url());
        store_models(&mut second_config);
        second_config.change_poll_interval =
            llmrelay_governance::GovernanceConfig::new("sqlite::memory:").change_poll_interval;
        let second = Governance::open(second_config).await.unwrap();
        assert!(second.wait_until_migrated(Duration::from_secs(5)).await);
        let changes: Arc<Mutex<Vec<ModelChange>>> = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&changes);
        second.on_model_change(move |change| seen.lock().unwrap().push(change));
        // Let the second instance take its place in the feed.
        tokio::time::sleep(Duration::from_millis(700)).await;

        server
            .admin_post(
                "/model/new",
                json!({"model_name": "shared", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-shared"},
                       "model_info": {"id": "shared-1"}}),
            )
            .await;
        let took = wait_for(&changes, 1).await;
        assert!(took <= Duration::from_secs(1), "took {took:?}");
        match &changes.lock().unwrap()[0] {
            ModelChange::Upsert(record) => {
                assert_eq!(record["model_id"], "shared-1");
                assert_eq!(record["litellm_params"]["api_key"], "sk-shared");
            }
            other => panic!("expected an upsert, got {other:?}"),
        }
        assert_eq!(second.db_deployments().len(), 1);
        let info = second.model_info(&[], None);
        assert_eq!(info["data"][0]["model_name"], "shared");

        server
            .admin_post("/model/delete", json!({"id": "shared-1"}))
            .await;
        let took = wait_for(&changes, 2).await;
        assert!(took <= Duration::from_secs(1), "took {took:?}");
        assert!(matches!(&changes.lock().unwrap()[1], ModelChange::Delete(id) if id == "shared-1"));
        assert!(second.db_deployments().is_empty());
        second.shutdown().await;
        server.finish().await;
    }
}

#[tokio::test]
async fn a_new_instance_loads_the_stored_models() {
    for server in Server::all_with(&store_models).await {
        server
            .admin_post(
                "/model/new",
                json!({"model_name": "kept", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-kept"}}),
            )
            .await;
        let mut second_config = config(&server.database_url());
        store_models(&mut second_config);
        let second = Governance::open(second_config).await.unwrap();
        let loaded = second.load_db_models().await.unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].model_name, "kept");
        assert_eq!(
            loaded[0].litellm_params["api_key"],
            Value::String("sk-kept".into())
        );
        assert!(loaded[0].is_db_model());
        // A different salt key cannot read the secrets: they stay ciphertext.
        let mut wrong = config(&server.database_url());
        store_models(&mut wrong);
        wrong.salt_key = Some("another-salt".into());
        let third = Governance::open(wrong).await.unwrap();
        let unreadable = third.load_db_models().await.unwrap();
        assert!(
            unreadable[0].litellm_params["api_key"]
                .as_str()
                .unwrap()
                .starts_with("v2:gcm:")
        );
        second.shutdown().await;
        third.shutdown().await;
        server.finish().await;
    }
}

#[tokio::test]
async fn a_change_committed_after_a_higher_id_is_still_applied() {
    for server in Server::all_with(&store_models).await {
        let changes: Arc<Mutex<Vec<ModelChange>>> = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&changes);
        server
            .engine
            .on_model_change(move |change| seen.lock().unwrap().push(change));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let store = server.engine.store();
        let latest = store
            .count(
                "SELECT COALESCE(MAX(\"id\"), 0) AS \"count\" FROM \"llmrelay_changes\"",
                &[],
            )
            .await
            .unwrap();
        // A later id becomes visible first (PostgreSQL hands out ids before commit).
        store
            .execute(
                "INSERT INTO \"llmrelay_changes\" (\"id\", \"kind\", \"object_id\") VALUES ($1, 'key', 'nothing')",
                &[llmrelay_governance::db::Param::Int(Some(latest + 5))],
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let row: llmrelay_governance::db::Record = serde_json::from_value(json!({
            "model_id": "late", "model_name": "late-model", "litellm_params": {"model": "openai/gpt-4o"},
            "model_info": {}, "blocked": false, "created_by": "t", "updated_by": "t"
        }))
        .unwrap();
        store
            .insert(&llmrelay_governance::tables::PROXY_MODEL_TABLE, &row)
            .await
            .unwrap();
        store
            .execute(
                "INSERT INTO \"llmrelay_changes\" (\"id\", \"kind\", \"object_id\") VALUES ($1, 'model', 'late')",
                &[llmrelay_governance::db::Param::Int(Some(latest + 3))],
            )
            .await
            .unwrap();
        let took = wait_for(&changes, 1).await;
        assert!(took < Duration::from_secs(2), "took {took:?}");
        assert!(
            matches!(&changes.lock().unwrap()[0], ModelChange::Upsert(record) if record["model_id"] == "late")
        );
        server.finish().await;
    }
}
