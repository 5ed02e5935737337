//! Callers of a verified JWT: the team, user and organization rows its claims name.

use llmrelay_governance::UserRole;
use llmrelay_governance::jwt::{JwtSubject, authenticate_jwt};
use serde_json::json;

use crate::support::Server;

fn subject(token: &str) -> JwtSubject {
    JwtSubject::new(token, UserRole::Team)
}

#[tokio::test]
async fn jwt_callers_get_their_teams_models_and_budgets() {
    for server in Server::all().await {
        server
            .admin_post(
                "/team/new",
                json!({"team_id": "research", "models": ["gpt-4o"], "max_budget": 5}),
            )
            .await;

        let mut caller = subject("token-1");
        caller.team_id = Some("research".into());
        caller.user_id = Some("alice".into());
        caller.user_email = Some("alice@example.com".into());
        caller.user_id_upsert = true;
        caller.end_user_id = Some("customer-1".into());
        let identity = authenticate_jwt(&server.engine, caller.clone())
            .await
            .unwrap();
        assert_eq!(identity.team_id.as_deref(), Some("research"));
        assert_eq!(identity.user_id.as_deref(), Some("alice"));
        assert_eq!(identity.end_user_id.as_deref(), Some("customer-1"));
        assert_eq!(identity.key_hash.as_deref(), Some("token-1"));
        assert!(!identity.is_admin);
        let auth = server.engine.jwt_auth(&caller).await.unwrap();
        assert_eq!(auth.team_models, vec!["gpt-4o"]);
        assert_eq!(auth.team_max_budget, Some(5.into()));
        assert!(server.engine.check_model_access(&auth, "gpt-4o").is_ok());
        assert!(server.engine.check_model_access(&auth, "claude").is_err());

        // user_id_upsert created the user row.
        let user = server.admin_get("/user/info?user_id=alice").await;
        assert_eq!(user["user_info"]["user_email"], "alice@example.com");
        assert_eq!(user["user_info"]["user_role"], "internal_user");

        // An unknown team is refused with LiteLLM's message.
        let mut unknown = subject("token-2");
        unknown.team_id = Some("nobody".into());
        let error = authenticate_jwt(&server.engine, unknown).await.unwrap_err();
        assert_eq!(error.status_code(), 404);
        assert!(
            error
                .message()
                .contains("Team doesn't exist in db. Team=nobody")
        );

        // team_id_upsert creates it instead.
        let mut created = subject("token-3");
        created.team_id = Some("new-team".into());
        created.team_id_upsert = true;
        let identity = authenticate_jwt(&server.engine, created).await.unwrap();
        assert_eq!(identity.team_id.as_deref(), Some("new-team"));
        let team = server.admin_get("/team/info?team_id=new-team").await;
        assert_eq!(team["team_id"], "new-team");

        // team_ids: the first known team; none known while one is required → 403.
        let mut groups = subject("token-4");
        groups.team_ids = vec!["ghost".into(), "research".into()];
        let identity = authenticate_jwt(&server.engine, groups.clone())
            .await
            .unwrap();
        assert_eq!(identity.team_id.as_deref(), Some("research"));
        let mut orphan = subject("token-5");
        orphan.team_ids = vec!["ghost".into()];
        orphan.require_team = true;
        let error = authenticate_jwt(&server.engine, orphan).await.unwrap_err();
        assert_eq!(error.status_code(), 403);

        // A blocked team blocks its JWT callers (the change reaches the cache).
        server
            .admin_post("/team/block", json!({"team_id": "research"}))
            .await;
        let error = authenticate_jwt(&server.engine, groups).await.unwrap_err();
        assert_eq!(error.status_code(), 401);
        assert!(
            error.message().contains("is blocked"),
            "{}",
            error.message()
        );

        // The admin scope makes a proxy admin.
        let mut admin = JwtSubject::new("token-6", UserRole::ProxyAdmin);
        admin.user_id = Some("boss".into());
        let identity = authenticate_jwt(&server.engine, admin).await.unwrap();
        assert!(identity.is_admin);
        assert_eq!(identity.role.as_deref(), Some("proxy_admin"));
    }
}
