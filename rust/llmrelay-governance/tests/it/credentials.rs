//! `/credentials` over HTTP: encrypted at rest (the database's bytes never hold the secret),
//! masked in every answer, resolved for deployments through `litellm_credential_name`.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::support::{Database, MASTER_KEY, Server};

const SECRET: &str = "sk-provider-secret-do-not-leak-4242";

fn store_models(config: &mut llmrelay_governance::GovernanceConfig) {
    config.store_model_in_db = true;
    config.salt_key = Some("credential-test-salt".to_owned());
}

/// The bytes the database keeps for the credentials table (PostgreSQL's heap file after a
/// checkpoint; SQLite's file and its write-ahead log).
async fn stored_bytes(server: &Server) -> Vec<u8> {
    match &server.database {
        Database::Sqlite(directory) => {
            let mut bytes = std::fs::read(directory.join("llmrelay.db")).unwrap();
            if let Ok(wal) = std::fs::read(directory.join("llmrelay.db-wal")) {
                bytes.extend(wal);
            }
            bytes
        }
        Database::Postgres(url) => {
            use sqlx::Row as _;
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query("CHECKPOINT").execute(&pool).await.unwrap();
            let row = sqlx::query(
                "SELECT pg_read_binary_file(pg_relation_filepath('\"LiteLLM_CredentialsTable\"'))",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            let bytes: Vec<u8> = row.get(0);
            pool.close().await;
            bytes
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn credentials_are_encrypted_at_rest_and_never_returned_in_clear() {
    for server in Server::all_with(&store_models).await {
        let changed = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = Arc::clone(&changed);
        server
            .engine
            .on_credential_change(move |name| seen.lock().unwrap().push(name.to_owned()));

        let created = server
            .admin_post(
                "/credentials",
                json!({"credential_name": "openai-prod", "credential_info": {"custom_llm_provider": "openai"},
                       "credential_values": {"api_key": SECRET, "api_base": "https://api.openai.example/v1"}}),
            )
            .await;
        assert_eq!(
            created,
            json!({"success": true, "message": "Credential created successfully"})
        );
        assert_eq!(*changed.lock().unwrap(), vec!["openai-prod".to_owned()]);

        // The database's bytes: the row is there, the secret is not.
        let bytes = stored_bytes(&server).await;
        assert!(
            contains(&bytes, "openai-prod"),
            "did not read the table's storage"
        );
        assert!(!contains(&bytes, SECRET), "the secret is stored in clear");
        assert!(!contains(&bytes, "do-not-leak"));

        let list = server.admin_get("/credentials").await;
        assert_eq!(list["success"], true);
        let listed = &list["credentials"][0];
        assert_eq!(listed["credential_name"], "openai-prod");
        assert_eq!(listed["credential_values"]["api_key"], "sk****42");
        assert_eq!(
            listed["credential_values"]["api_base"],
            "https://api.openai.example/v1"
        );
        assert_eq!(listed["credential_info"]["custom_llm_provider"], "openai");
        assert!(!list.to_string().contains("do-not-leak"));
        let one = server.admin_get("/credentials/by_name/openai-prod").await;
        assert_eq!(one["credential_values"]["api_key"], "sk****42");

        let (status, body) = server
            .post(
                "/credentials",
                MASTER_KEY,
                json!({"credential_name": "openai-prod", "credential_info": {}, "credential_values": {"api_key": "x"}}),
            )
            .await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(
            body["error"]["message"],
            "Credential 'openai-prod' already exists. Update it with PATCH /credentials/openai-prod, or delete it first."
        );
        let (status, body) = server
            .post(
                "/credentials",
                MASTER_KEY,
                json!({"credential_name": "empty", "credential_info": {}}),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body["error"]["message"],
            "Either credential_values or model_id must be set"
        );

        // The proxy resolves the name to the values; a deployment gets what it does not set.
        let values = server
            .engine
            .resolve_credential("openai-prod")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(values["api_key"], SECRET);
        let mut params = json!({"model": "openai/gpt-4o", "litellm_credential_name": "openai-prod",
                                "api_base": "https://override.example"})
        .as_object()
        .unwrap()
        .clone();
        assert!(server.engine.apply_credential(&mut params).await.unwrap());
        assert_eq!(params["api_key"], SECRET);
        assert_eq!(params["api_base"], "https://override.example");
        assert!(
            server
                .engine
                .resolve_credential("nope")
                .await
                .unwrap()
                .is_none()
        );

        // A DB deployment names it; by_model shows the deployment's own credential, masked.
        server
            .admin_post(
                "/model/new",
                json!({"model_name": "gpt-4o", "model_info": {"id": "m-1"},
                       "litellm_params": {"model": "openai/gpt-4o", "litellm_credential_name": "openai-prod", "api_key": "sk-own-key-123456"}}),
            )
            .await;
        let by_model = server.admin_get("/credentials/by_model/m-1").await;
        assert_eq!(by_model["credential_name"], "gpt-4o-credential-m-1");
        assert_eq!(by_model["credential_values"]["api_key"], "sk****56");
        let from_model = server
            .admin_post(
                "/credentials",
                json!({"credential_name": "copied", "credential_info": {}, "model_id": "m-1"}),
            )
            .await;
        assert_eq!(from_model["success"], true);
        assert_eq!(
            server
                .engine
                .resolve_credential("copied")
                .await
                .unwrap()
                .unwrap()["api_key"],
            "sk-own-key-123456"
        );

        // PATCH merges values and info, and renames.
        let (status, body) = server
            .patch(
                "/credentials/openai-prod",
                MASTER_KEY,
                json!({"credential_name": "openai-main", "credential_info": {"team": "core"},
                       "credential_values": {"api_key": "sk-rotated-secret-777"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["message"], "Credential updated successfully");
        assert!(
            server
                .engine
                .resolve_credential("openai-prod")
                .await
                .unwrap()
                .is_none()
        );
        let rotated = server
            .engine
            .credential("openai-main")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            rotated.credential_values["api_key"],
            "sk-rotated-secret-777"
        );
        assert_eq!(
            rotated.credential_values["api_base"],
            "https://api.openai.example/v1"
        );
        assert_eq!(rotated.credential_info["team"], "core");
        assert_eq!(rotated.credential_info["custom_llm_provider"], "openai");
        assert!(changed.lock().unwrap().contains(&"openai-main".to_owned()));
        assert!(!contains(
            &stored_bytes(&server).await,
            "sk-rotated-secret-777"
        ));
        let (status, body) = server
            .patch(
                "/credentials/ghost",
                MASTER_KEY,
                json!({"credential_name": "ghost", "credential_info": {}}),
            )
            .await;
        assert_eq!(status, 404);
        assert_eq!(body["error"]["message"], "Credential not found in DB.");

        // Only proxy admins manage credentials.
        let user_key = server
            .admin_post(
                "/user/new",
                json!({"user_id": "ivan-internal", "user_role": "internal_user"}),
            )
            .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, body) = server.get("/credentials", &user_key).await;
        assert_eq!(status, 401, "{body}");

        let (status, body) = server.delete("/credentials/openai-main", MASTER_KEY).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            json!({"success": true, "message": "Credential deleted successfully"})
        );
        let (status, body) = server.delete("/credentials/openai-main", MASTER_KEY).await;
        assert_eq!(status, 404);
        assert_eq!(
            body["error"]["message"],
            "Credential not found. Got credential name: openai-main"
        );
        let (status, _) = server
            .get("/credentials/by_name/openai-main", MASTER_KEY)
            .await;
        assert_eq!(status, 404);
        let names: Vec<Value> = server.admin_get("/credentials").await["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["credential_name"].clone())
            .collect();
        assert_eq!(names, vec![json!("copied")]);
        server.finish().await;
    }
}

#[tokio::test]
async fn names_with_slashes_and_no_salt_key() {
    for server in
        Server::all_with(&|config| config.master_key = Some("sk-only-master-key-000".into())).await
    {
        // Without LITELLM_SALT_KEY the master key encrypts (LiteLLM's fallback).
        let (status, body) = server
            .post(
                "/credentials",
                "sk-only-master-key-000",
                json!({"credential_name": "team/a/azure", "credential_info": {}, "credential_values": {"api_key": SECRET}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let one = server
            .get(
                "/credentials/by_name/team/a/azure",
                "sk-only-master-key-000",
            )
            .await
            .1;
        assert_eq!(one["credential_name"], "team/a/azure");
        let (status, _) = server
            .delete("/credentials/team/a/azure", "sk-only-master-key-000")
            .await;
        assert_eq!(status, 200);
        server.finish().await;
    }
}
