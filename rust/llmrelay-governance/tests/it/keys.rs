//! Keys, users, teams, organizations, customers, roles over HTTP.

use serde_json::json;

use crate::support::{MASTER_KEY, Server};

#[tokio::test]
async fn key_lifecycle_on_both_backends() {
    for server in Server::all().await {
        let created = server
            .admin_post("/key/generate", json!({"key_alias": "app", "max_budget": 10, "models": ["gpt-4o"], "tags": ["prod"], "duration": "1h"}))
            .await;
        let key = created["key"].as_str().unwrap().to_owned();
        assert!(key.starts_with("sk-"));
        assert_eq!(created["key_alias"], "app");
        assert_eq!(created["tags"], json!(["prod"]));
        assert_eq!(created["max_budget"], json!(10.0));
        assert_eq!(created["token"].as_str().unwrap().len(), 64);

        let auth = server.engine.authenticate(&key).await.unwrap();
        assert_eq!(auth.key_alias.as_deref(), Some("app"));
        assert!(server.engine.check_model_access(&auth, "gpt-4o").is_ok());
        assert!(server.engine.check_model_access(&auth, "claude").is_err());

        let info = server.admin_get(&format!("/key/info?key={key}")).await;
        assert_eq!(info["info"]["key_alias"], "app");
        assert!(info["info"]["effective_models"].is_array());

        let (status, body) = server
            .post("/key/generate", MASTER_KEY, json!({"bogus_field": 1}))
            .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["param"], "bogus_field");

        let updated = server
            .admin_post(
                "/key/update",
                json!({"key": key, "max_budget": 20, "metadata": {"owner": "x"}}),
            )
            .await;
        assert_eq!(updated["max_budget"], json!(20.0));
        assert_eq!(
            server.engine.authenticate(&key).await.unwrap().max_budget,
            Some(20.into())
        );

        let list = server
            .admin_get("/key/list?size=10&return_full_object=true")
            .await;
        assert_eq!(list["total_count"], 1);
        assert_eq!(list["keys"][0]["key_alias"], "app");

        server.admin_post("/key/block", json!({"key": key})).await;
        let error = server.engine.authenticate(&key).await.unwrap_err();
        assert!(error.to_string().contains("Key is blocked"), "{error}");
        server.admin_post("/key/unblock", json!({"key": key})).await;
        assert!(server.engine.authenticate(&key).await.is_ok());

        let regenerated = server
            .admin_post("/key/regenerate", json!({"key": key, "grace_period": "1h"}))
            .await;
        let new_key = regenerated["key"].as_str().unwrap().to_owned();
        assert_ne!(new_key, key);
        assert!(server.engine.authenticate(&new_key).await.is_ok());
        // During the grace period the old key still works.
        let old = server.engine.authenticate(&key).await.unwrap();
        assert_eq!(old.key_alias.as_deref(), Some("app"));

        let deleted = server
            .admin_post("/key/delete", json!({"keys": [new_key]}))
            .await;
        assert_eq!(deleted["deleted_keys"], json!([new_key]));
        let error = server.engine.authenticate(&new_key).await.unwrap_err();
        assert_eq!(error.status_code(), 401);
        assert!(server.engine.authenticate(&key).await.is_err());
        let (status, body) = server.get("/key/list", "sk-not-a-key-000000000").await;
        assert_eq!(status, 401, "{body}");
        server.finish().await;
    }
}

#[tokio::test]
async fn roles_decide_which_routes_a_key_may_call() {
    for server in Server::all().await {
        let user = server
            .admin_post(
                "/user/new",
                json!({"user_id": "alice-internal", "user_role": "internal_user", "max_budget": 5}),
            )
            .await;
        let alice_key = user["key"].as_str().unwrap().to_owned();
        let (status, body) = server
            .post("/team/new", &alice_key, json!({"team_alias": "x"}))
            .await;
        assert_eq!(status, 401);
        assert_eq!(
            body["error"]["message"],
            "Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=/team/new. Your role=internal_user. Your user_id=alice-******al"
        );
        assert_eq!(body["error"]["type"], "auth_error");
        // Internal users make keys for themselves only.
        let (status, own) = server
            .post("/key/generate", &alice_key, json!({"key_alias": "mine"}))
            .await;
        assert_eq!(status, 200, "{own}");
        assert_eq!(own["user_id"], "alice-internal");
        let (status, _) = server
            .post("/key/generate", &alice_key, json!({"user_id": "bob"}))
            .await;
        assert_eq!(status, 403);
        let list = server.get("/key/list", &alice_key).await.1;
        assert_eq!(list["total_count"], 2);

        let viewer = server
            .admin_post(
                "/user/new",
                json!({"user_id": "viewer-1", "user_role": "proxy_admin_viewer"}),
            )
            .await;
        let viewer_key = viewer["key"].as_str().unwrap().to_owned();
        let (status, body) = server.post("/key/generate", &viewer_key, json!({})).await;
        assert_eq!(status, 403, "{body}");
        let (status, _) = server.get("/global/spend/keys", &viewer_key).await;
        assert_eq!(status, 200);
        let (status, _) = server.get("/global/spend/keys", &alice_key).await;
        assert_eq!(status, 401);
        server.finish().await;
    }
}

#[tokio::test]
async fn teams_orgs_customers_and_budgets() {
    for server in Server::all().await {
        let org = server
            .admin_post("/organization/new", json!({"organization_alias": "acme", "organization_id": "org-1", "max_budget": 100, "models": []}))
            .await;
        assert_eq!(org["litellm_budget_table"]["max_budget"], json!(100.0));
        let team = server
            .admin_post(
                "/team/new",
                json!({
                    "team_id": "team-1", "team_alias": "research", "organization_id": "org-1",
                    "models": ["gpt-4o-mini", "gpt-4o"], "max_budget": 50,
                    "model_aliases": {"fast": "gpt-4o-mini"},
                    "members_with_roles": [{"user_id": "lead", "role": "admin"}]
                }),
            )
            .await;
        assert_eq!(team["model_aliases"], json!({"fast": "gpt-4o-mini"}));
        let (status, body) = server
            .post("/team/new", MASTER_KEY, json!({"team_id": "team-1"}))
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            body["error"]["message"],
            "Team id = team-1 already exists. Please use a different team id."
        );

        server
            .admin_post("/team/member_add", json!({"team_id": "team-1", "member": {"user_id": "dev", "role": "user"}, "max_budget_in_team": 2}))
            .await;
        let key = server
            .admin_post(
                "/key/generate",
                json!({"team_id": "team-1", "user_id": "dev"}),
            )
            .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let auth = server.engine.authenticate(&key).await.unwrap();
        assert_eq!(auth.team_alias.as_deref(), Some("research"));
        assert_eq!(auth.team_member_budget, Some(2.into()));
        assert_eq!(auth.org_id.as_deref(), Some("org-1"));
        assert_eq!(
            server
                .engine
                .check_model_access(&auth, "fast")
                .unwrap()
                .as_deref(),
            Some("gpt-4o-mini")
        );

        let info = server.admin_get("/team/info?team_id=team-1").await;
        assert_eq!(
            info["team_info"]["members_with_roles"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        server
            .admin_post("/team/block", json!({"team_id": "team-1"}))
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let error = server.engine.authenticate(&key).await.unwrap_err();
        assert!(error.to_string().contains("is blocked"), "{error}");
        server
            .admin_post("/team/unblock", json!({"team_id": "team-1"}))
            .await;
        server
            .admin_post(
                "/team/model/delete",
                json!({"team_id": "team-1", "models": ["gpt-4o"]}),
            )
            .await;
        let auth = server.engine.authenticate(&key).await.unwrap();
        assert!(server.engine.check_model_access(&auth, "gpt-4o").is_err());

        let customer = server
            .admin_post(
                "/customer/new",
                json!({"user_id": "end-1", "max_budget": 0.5, "budget_duration": "1d"}),
            )
            .await;
        assert_eq!(customer["litellm_budget_table"]["max_budget"], json!(0.5));
        assert_eq!(
            server.admin_get("/end_user/info?end_user_id=end-1").await["user_id"],
            "end-1"
        );
        server
            .admin_post("/customer/block", json!({"user_ids": ["end-1"]}))
            .await;
        assert!(server.engine.end_user("end-1").await.is_err());
        server
            .admin_post("/customer/unblock", json!({"user_ids": ["end-1"]}))
            .await;
        assert!(server.engine.end_user("end-1").await.unwrap().is_some());

        let budget = server
            .admin_post("/budget/new", json!({"budget_id": "b1", "max_budget": 3}))
            .await;
        assert_eq!(budget["max_budget"], json!(3.0));
        let listed = server.admin_get("/budget/list").await;
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["budget_id"] == "b1")
        );
        server
            .admin_post("/budget/delete", json!({"id": "b1"}))
            .await;
        let deleted = server
            .admin_post("/team/delete", json!({"team_ids": ["team-1"]}))
            .await;
        assert_eq!(deleted["deleted_teams"], json!(["team-1"]));
        server.finish().await;
    }
}

#[tokio::test]
async fn changes_reach_other_instances_within_a_second() {
    let Some(url) = crate::support::postgres_database().await else {
        return;
    };
    let first = llmrelay_governance::Governance::open(crate::support::config(&url))
        .await
        .unwrap();
    let second = llmrelay_governance::Governance::open(crate::support::config(&url))
        .await
        .unwrap();
    let server = Server::start(
        std::sync::Arc::clone(&first),
        crate::support::Database::Postgres(url),
    )
    .await;
    let key = server.admin_post("/key/generate", json!({})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(second.authenticate(&key).await.is_ok());
    server.admin_post("/key/block", json!({"key": key})).await;
    let started = std::time::Instant::now();
    while second.authenticate(&key).await.is_ok() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "not invalidated within 1 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    second.shutdown().await;
    server.finish().await;
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_database_is_down() {
    let (url, directory) = crate::support::sqlite_url();
    let mut config = crate::support::config(&url);
    config.key_cache_ttl = std::time::Duration::ZERO;
    let engine = llmrelay_governance::Governance::open(config).await.unwrap();
    let server = Server::start(engine, crate::support::Database::Sqlite(directory)).await;
    let key = server.admin_post("/key/generate", json!({})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(server.engine.authenticate(&key).await.is_ok());
    server.engine.store().db().close().await;
    // Stale in the cache and the database gone: still served.
    assert!(server.engine.authenticate(&key).await.is_ok());
    let error = server
        .engine
        .authenticate("sk-never-seen-key-123456")
        .await
        .unwrap_err();
    assert_eq!(error.status_code(), 503, "{error}");
    server.finish().await;

    // A database that is down at start: the engine opens, uncached keys get 503, or the
    // fallback with allow_requests_on_db_unavailable.
    let mut config = crate::support::config("postgresql://postgres@127.0.0.1:1/none");
    config.allow_requests_on_db_unavailable = true;
    let engine = llmrelay_governance::Governance::open(config).await.unwrap();
    let auth = engine.authenticate("sk-any-key-1234567890").await.unwrap();
    assert!(auth.db_unavailable_fallback);
    engine.shutdown().await;
}
