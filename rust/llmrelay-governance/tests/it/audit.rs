//! The audit log over HTTP: rows for credential, key rotation, customer and organization
//! changes (secrets masked), refusals, the SSO sign-in's user and key, rows kept across a stop,
//! and retention.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use llmrelay_governance::{
    Governance, GovernanceConfig, ManualClock, SsoLogin, UserRole, audit::AuditSettings,
};

use crate::support::{Database, MASTER_KEY, Server, config, sqlite_url};

const SECRET: &str = "sk-provider-secret-audit-7777";

fn audited(config: &mut GovernanceConfig) {
    config.audit = AuditSettings {
        enabled: true,
        retention: None,
    };
    config.salt_key = Some("audit-test-salt".to_owned());
}

/// `/audit?{query}` once `expected` rows match (the writer is asynchronous).
async fn rows(server: &Server, query: &str, expected: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, page) = server.get(&format!("/audit?{query}"), MASTER_KEY).await;
        assert_eq!(status, 200, "{page}");
        let logs = page["audit_logs"].as_array().cloned().unwrap_or_default();
        if logs.len() >= expected || std::time::Instant::now() > deadline {
            return logs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn management_changes_are_recorded_with_secrets_masked() {
    for server in Server::all_with(&audited).await {
        server
            .admin_post(
                "/credentials",
                json!({"credential_name": "openai-prod", "credential_info": {},
                       "credential_values": {"api_key": SECRET, "api_base": "https://x.example"}}),
            )
            .await;
        let (status, body) = server
            .patch(
                "/credentials/openai-prod",
                MASTER_KEY,
                json!({"credential_name": "openai-prod", "credential_info": {"team": "a"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let key = server.admin_post("/key/generate", json!({})).await;
        let old_token = key["token"].as_str().unwrap().to_owned();
        let rotated = server
            .admin_post("/key/regenerate", json!({"key": key["key"]}))
            .await;
        server
            .admin_post("/customer/new", json!({"user_id": "cust-1"}))
            .await;
        server
            .admin_post("/customer/block", json!({"user_ids": ["cust-1"]}))
            .await;
        let (status, body) = server
            .call(
                reqwest::Method::POST,
                "/organization/new",
                MASTER_KEY,
                Some(json!({"organization_alias": "acme"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");

        let credentials = rows(&server, "table_name=LiteLLM_CredentialsTable", 2).await;
        assert_eq!(credentials.len(), 2, "{credentials:?}");
        let text = serde_json::to_string(&credentials).unwrap();
        assert!(!text.contains(SECRET), "{text}");
        let created = credentials
            .iter()
            .find(|r| r["action"] == "created")
            .unwrap();
        assert_eq!(created["object_id"], "openai-prod");
        assert_eq!(
            created["updated_values"]["credential_values"]["api_base"],
            "https://x.example"
        );

        let rotations = rows(&server, "action=rotated", 1).await;
        assert_eq!(rotations.len(), 1);
        assert_eq!(rotations[0]["object_id"], old_token.as_str());
        assert_eq!(rotations[0]["before_value"]["token"], old_token.as_str());
        assert_eq!(
            rotations[0]["updated_values"]["token"],
            rotated["token"].clone()
        );
        assert!(
            !serde_json::to_string(&rotations)
                .unwrap()
                .contains(rotated["key"].as_str().unwrap())
        );

        let customer = rows(&server, "object_id=cust-1", 2).await;
        let actions: Vec<&str> = customer
            .iter()
            .filter_map(|r| r["action"].as_str())
            .collect();
        assert!(
            actions.contains(&"created") && actions.contains(&"blocked"),
            "{actions:?}"
        );
        let blocked = customer.iter().find(|r| r["action"] == "blocked").unwrap();
        assert_eq!(blocked["updated_values"]["blocked"], true);
        assert_eq!(blocked["table_name"], "LiteLLM_EndUserTable");

        let organizations = rows(&server, "table_name=LiteLLM_OrganizationTable", 1).await;
        assert_eq!(
            organizations[0]["updated_values"]["organization_alias"],
            "acme"
        );
        // Newest first.
        let all = rows(&server, "page_size=100", 7).await;
        let times: Vec<&str> = all
            .iter()
            .filter_map(|r| r["updated_at"].as_str())
            .collect();
        let mut sorted = times.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted);
    }
}

#[tokio::test]
async fn refusals_are_recorded() {
    for server in Server::all_with(&audited).await {
        let (status, _) = server.get("/key/list", "sk-not-a-key-1234567").await;
        assert_eq!(status, 401);
        let denied = rows(&server, "action=access_denied", 1).await;
        assert_eq!(denied.len(), 1);
        assert_eq!(denied[0]["updated_values"]["route"], "/key/list");
        assert_eq!(denied[0]["updated_values"]["status_code"], 401);
        assert_eq!(
            denied[0]["object_id"],
            llmrelay_governance::keys::hash_key("sk-not-a-key-1234567")
        );
    }
}

#[tokio::test]
async fn sso_sign_in_upserts_the_user_and_issues_a_key() {
    for server in Server::all_with(&audited).await {
        let engine = &server.engine;
        let session = engine
            .sso_sign_in(SsoLogin {
                user_id: "ada".into(),
                user_email: Some("ada@example.com".into()),
                role: Some(UserRole::ProxyAdmin),
                session: Duration::from_secs(3600),
            })
            .await
            .unwrap();
        assert!(session.key.starts_with("sk-"));
        let (status, info) = server.get("/user/info?user_id=ada", &session.key).await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(info["user_info"]["user_role"], "proxy_admin");
        // A later login without a role claim keeps the stored role.
        let again = engine
            .sso_sign_in(SsoLogin {
                user_id: "ada".into(),
                user_email: None,
                role: None,
                session: Duration::from_secs(3600),
            })
            .await
            .unwrap();
        assert_eq!(again.user_role, UserRole::ProxyAdmin);
        // A new user without a role claim is a viewer.
        let viewer = engine
            .sso_sign_in(SsoLogin {
                user_id: "bob".into(),
                user_email: None,
                role: None,
                session: Duration::from_secs(3600),
            })
            .await
            .unwrap();
        assert_eq!(viewer.user_role, UserRole::InternalUserViewer);
        let (status, _) = server
            .post("/team/new", &viewer.key, json!({"team_alias": "t"}))
            .await;
        assert_eq!(status, 401);
        let users = rows(&server, "table_name=LiteLLM_UserTable&changed_by=ada", 2).await;
        assert_eq!(users.len(), 2);
    }
}

#[tokio::test]
async fn queued_rows_are_written_at_shutdown_and_retention_deletes_old_ones() {
    let (url, directory) = sqlite_url();
    let mut settings = config(&url);
    audited(&mut settings);
    settings.spend.wal_directory = Some(directory.join("wal"));
    let engine = Governance::open(settings.clone()).await.unwrap();
    let server = Server::start(Arc::clone(&engine), Database::Sqlite(directory.clone())).await;
    for index in 0..30 {
        server
            .admin_post("/team/new", json!({"team_alias": format!("t{index}")}))
            .await;
    }
    engine.shutdown().await;
    let count = |url: String| async move {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM \"LiteLLM_AuditLog\"")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows
    };
    assert_eq!(count(url.clone()).await, 30);

    // Two hours later, with a one-hour retention: the start-up pass deletes them.
    let mut later = settings.clone();
    later.audit.retention = Some(Duration::from_secs(3600));
    let clock = Arc::new(ManualClock::new(
        chrono::Utc::now() + chrono::Duration::hours(2),
    ));
    let reopened = Governance::open_with_clock(later, clock).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count(url.clone()).await > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(url.clone()).await, 0);
    reopened.shutdown().await;
}
