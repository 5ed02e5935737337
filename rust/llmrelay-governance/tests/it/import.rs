//! `import-litellm`: a LiteLLM-shaped PostgreSQL database (the DDL Prisma gives LiteLLM's
//! schema, `tests/fixtures/litellm_prisma_schema.sql`, generated from the reference table list by
//! `scripts/gen_litellm_fixture.py`) with rows as LiteLLM writes them, imported into both
//! backends; an old key authenticates afterwards.

use serde_json::json;
use sha2::Digest as _;

use crate::support::{Server, drop_postgres, postgres_database};

const OLD_KEY: &str = "sk-litellm-old-key-1234567890";
const BLOCKED_KEY: &str = "sk-litellm-blocked-key-0000";
const SALT: &str = "sk-salt-test";
/// LiteLLM 1.104's legacy NaCl encryption (`encrypt_value`, base64url) under `SALT`.
const NACL_MODEL: &str = "4YG_B2sxMak094BrrZWNdeX1dnTfdXDxx7Pm33zvE-3qvNgjjnCkEwvhojbuktdeRzOycTE=";
const NACL_API_KEY: &str =
    "a8u0safDMLMToT-Cdk_PAAA92164w5l8Avadgq1TjXSTIledXlKTr-YtGzBVPGU_q_OBG614BToqJb42PTQ=";
/// LiteLLM 1.104's AES-256-GCM (`_encrypt_aes_gcm`) under `SALT`.
const GCM_API_KEY: &str =
    "v2:gcm:79z6jHiXK3g20FzBcUs9BKNi92ULifElleFcoYy3cfJYy4RJXngMpAasmr96oIB-zEs=";
const PROVIDER_SECRET: &str = "sk-provider-secret-123";

fn sha256_hex(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Builds the LiteLLM database and fills it as a LiteLLM proxy would.
async fn litellm_database(url: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::raw_sql(include_str!("../fixtures/litellm_prisma_schema.sql"))
        .execute(&pool)
        .await
        .unwrap();
    let token = sha256_hex(OLD_KEY);
    let blocked = sha256_hex(BLOCKED_KEY);
    let rows = format!(
        r#"
INSERT INTO "LiteLLM_BudgetTable" ("budget_id", "max_budget", "budget_duration", "created_by", "updated_by")
  VALUES ('budget-org', 100.0, NULL, 'admin', 'admin'), ('budget-eu', 5.0, '30d', 'admin', 'admin');
INSERT INTO "LiteLLM_OrganizationTable" ("organization_id", "organization_alias", "budget_id", "spend", "models", "created_by", "updated_by")
  VALUES ('acme', 'Acme', 'budget-org', 20.5, ARRAY['gpt-4o'], 'admin', 'admin');
INSERT INTO "LiteLLM_ModelTable" ("id", "model_aliases", "created_by", "updated_by")
  VALUES (7, '{{"fast": "gpt-4o-mini"}}', 'admin', 'admin');
INSERT INTO "LiteLLM_TeamTable" ("team_id", "team_alias", "organization_id", "members_with_roles", "max_budget", "spend", "models", "model_id", "budget_duration", "budget_reset_at")
  VALUES ('research', 'Research', 'acme', '[{{"user_id": "ana", "role": "admin"}}]', 50.5, 12.25, ARRAY['gpt-4o', 'gpt-4o-mini'], 7, '30d', now() + interval '10 days');
INSERT INTO "LiteLLM_UserTable" ("user_id", "user_role", "user_email", "teams", "spend", "max_budget", "organization_id")
  VALUES ('ana', 'internal_user', 'ana@example.com', ARRAY['research'], 3.5, 25.0, 'acme');
INSERT INTO "LiteLLM_TeamMembership" ("user_id", "team_id", "spend") VALUES ('ana', 'research', 1.0);
INSERT INTO "LiteLLM_OrganizationMembership" ("user_id", "organization_id", "user_role", "spend") VALUES ('ana', 'acme', 'org_admin', 0.0);
INSERT INTO "LiteLLM_EndUserTable" ("user_id", "alias", "spend", "budget_id") VALUES ('customer-9', 'nine', 0.75, 'budget-eu');
INSERT INTO "LiteLLM_VerificationToken" ("token", "key_name", "key_alias", "spend", "max_budget", "models", "user_id", "team_id", "metadata", "budget_duration", "budget_reset_at", "created_at", "created_by")
  VALUES ('{token}', 'sk-...7890', 'legacy-app', 1.5, 10.0, ARRAY['gpt-4o', 'fast'], 'ana', 'research', '{{"env": "prod"}}', '30d', now() + interval '20 days', now() - interval '90 days', 'admin'),
         ('{blocked}', 'sk-...0000', 'blocked-app', 0.0, NULL, ARRAY[]::TEXT[], NULL, NULL, '{{}}', NULL, NULL, now(), 'admin');
UPDATE "LiteLLM_VerificationToken" SET "blocked" = true WHERE "token" = '{blocked}';
INSERT INTO "LiteLLM_ProxyModelTable" ("model_id", "model_name", "litellm_params", "model_info", "created_by", "updated_by")
  VALUES ('db-model-1', 'gpt-4o', '{{"model": "{NACL_MODEL}", "api_key": "{NACL_API_KEY}", "rpm": 100}}', '{{"id": "db-model-1", "access_groups": ["beta"]}}', 'admin', 'admin');
INSERT INTO "LiteLLM_CredentialsTable" ("credential_id", "credential_name", "credential_values", "credential_info", "created_by", "updated_by")
  VALUES ('cred-1', 'azure-eu', '{{"api_key": "{GCM_API_KEY}", "api_base": "https://eu.example"}}', '{{"custom_llm_provider": "azure"}}', 'admin', 'admin');
INSERT INTO "LiteLLM_SpendLogs" ("request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens", "startTime", "endTime", "model", "model_group", "custom_llm_provider", "user", "team_id", "end_user", "metadata", "request_tags", "status")
  VALUES ('req-1', 'acompletion', '{token}', 0.25, 30, 10, 20, '2026-03-01 10:00:00', '2026-03-01 10:00:01', 'gpt-4o', 'gpt-4o', 'openai', 'ana', 'research', 'customer-9', '{{}}', '["prod"]', 'success'),
         ('req-2', 'acompletion', '{token}', 0.5, 60, 20, 40, '2026-03-01 11:00:00', '2026-03-01 11:00:02', 'gpt-4o', 'gpt-4o', 'openai', 'ana', 'research', NULL, '{{}}', '[]', 'success'),
         ('req-3', 'aembedding', '{token}', 0.75, 5, 5, 0, '2026-03-02 09:00:00', '2026-03-02 09:00:00', 'text-embedding-3-small', 'embed', 'openai', 'ana', 'research', NULL, NULL, NULL, 'failure');
INSERT INTO "LiteLLM_DailyUserSpend" ("id", "user_id", "date", "api_key", "model", "model_group", "custom_llm_provider", "prompt_tokens", "completion_tokens", "spend", "api_requests", "successful_requests")
  VALUES ('d-1', 'ana', '2026-03-01', '{token}', 'gpt-4o', 'gpt-4o', 'openai', 30, 60, 0.75, 2, 2);
INSERT INTO "LiteLLM_DailyTeamSpend" ("id", "team_id", "date", "api_key", "model", "model_group", "custom_llm_provider", "prompt_tokens", "completion_tokens", "spend", "api_requests", "successful_requests")
  VALUES ('t-1', 'research', '2026-03-01', '{token}', 'gpt-4o', 'gpt-4o', 'openai', 30, 60, 0.75, 2, 2),
         ('t-2', 'research', '2026-03-01', 'another-key-hash', 'gpt-4o', 'gpt-4o', 'openai', 1, 1, 0.125, 1, 1);
"#
    );
    sqlx::raw_sql(&rows).execute(&pool).await.unwrap();
    pool.close().await;
}

fn configure(config: &mut llmrelay_governance::GovernanceConfig) {
    config.salt_key = Some(SALT.to_owned());
    config.store_model_in_db = true;
}

#[tokio::test]
async fn a_litellm_database_is_imported_and_old_keys_keep_working() {
    let Some(source) = postgres_database().await else {
        return;
    };
    litellm_database(&source).await;
    for server in Server::all_with(&configure).await {
        let report = llmrelay_governance::import_litellm(&source, &server.engine)
            .await
            .unwrap();
        assert!(report.missing_tables.is_empty(), "{report:?}");
        assert_eq!(report.undecryptable_rows, 0);
        assert_eq!(report.inserted("LiteLLM_VerificationToken"), 2);
        assert_eq!(report.inserted("LiteLLM_SpendLogs"), 3);
        assert_eq!(report.inserted("LiteLLM_TeamTable"), 1);
        assert_eq!(report.inserted("LiteLLM_ProxyModelTable"), 1);

        // The old raw key authenticates: its hash was copied as it is.
        let auth = server.engine.authenticate(OLD_KEY).await.unwrap();
        assert_eq!(auth.key_alias.as_deref(), Some("legacy-app"));
        assert_eq!(auth.team_id.as_deref(), Some("research"));
        assert_eq!(auth.user_id.as_deref(), Some("ana"));
        assert_eq!(auth.org_id.as_deref(), Some("acme"));
        assert_eq!(auth.spend.to_string(), "1.5");
        assert_eq!(
            auth.max_budget.map(|b| b.to_string()).as_deref(),
            Some("10")
        );
        assert_eq!(
            auth.team_max_budget.map(|b| b.to_string()).as_deref(),
            Some("50.5")
        );
        assert_eq!(
            auth.team_spend.map(|b| b.to_string()).as_deref(),
            Some("12.25")
        );
        assert_eq!(auth.team_member_role.as_deref(), Some("admin"));
        assert_eq!(auth.metadata["env"], "prod");
        assert_eq!(auth.team_model_aliases["fast"], "gpt-4o-mini");
        assert!(server.engine.check_model_access(&auth, "gpt-4o").is_ok());
        assert!(server.engine.check_model_access(&auth, "claude").is_err());
        let error = server.engine.authenticate(BLOCKED_KEY).await.unwrap_err();
        assert!(error.to_string().contains("Key is blocked"), "{error}");

        // The key's spend history and the entities came along.
        let logs = server
            .admin_get(&format!("/spend/logs?api_key={OLD_KEY}&summarize=false"))
            .await;
        assert_eq!(logs.as_array().unwrap().len(), 3, "{logs}");
        let user = server.admin_get("/user/info?user_id=ana").await;
        assert_eq!(user["user_info"]["user_email"], "ana@example.com");
        let customer = server
            .admin_get("/customer/info?end_user_id=customer-9")
            .await;
        assert_eq!(customer["alias"], "nine", "{customer}");
        assert_eq!(customer["litellm_budget_table"]["max_budget"], json!(5.0));
        let organization = server
            .admin_get("/organization/info?organization_id=acme")
            .await;
        assert_eq!(organization["organization_alias"], "Acme");
        let daily = server
            .admin_get("/user/daily/activity?user_id=ana&start_date=2026-03-01&end_date=2026-03-31")
            .await;
        assert_eq!(daily["metadata"]["total_spend"], json!(0.75), "{daily}");
        // Month reports read llmrelay's per-team totals, rebuilt from LiteLLM's daily rows.
        let report = server
            .admin_get(
                "/global/spend/report?start_date=2026-03-01&end_date=2026-03-31&group_by=team",
            )
            .await;
        assert_eq!(report[0]["group_by_day"], "2026-03-01", "{report}");
        assert_eq!(report[0]["teams"][0]["team_name"], "research");
        assert_eq!(report[0]["teams"][0]["total_spend"], json!(0.875));

        // Models and credentials: decrypted with the salt key, stored again in llmrelay's format.
        let deployments = server.engine.db_deployments();
        assert_eq!(deployments.len(), 1);
        assert_eq!(deployments[0].litellm_params["model"], "openai/gpt-4o");
        assert_eq!(deployments[0].litellm_params["api_key"], PROVIDER_SECRET);
        assert!(
            server
                .engine
                .access_groups()
                .members("beta")
                .is_some_and(|m| m.contains(&"gpt-4o".to_owned()))
        );
        let stored = server
            .raw_text("SELECT \"model_id\" FROM \"LiteLLM_ProxyModelTable\"")
            .await;
        assert_eq!(stored, vec!["db-model-1".to_owned()]);
        let credential = server
            .engine
            .resolve_credential("azure-eu")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(credential["api_key"], PROVIDER_SECRET);
        assert_eq!(credential["api_base"], "https://eu.example");

        // New keys still get fresh ids; new teams' aliases do not collide with imported ones.
        server
            .admin_post(
                "/team/new",
                json!({"team_id": "later", "model_aliases": {"x": "gpt-4o"}}),
            )
            .await;
        let later = server.admin_get("/team/info?team_id=later").await;
        assert_eq!(
            later["team_info"]["model_aliases"]["x"], "gpt-4o",
            "{later}"
        );

        // A second run adds nothing.
        let again = llmrelay_governance::import_litellm(&source, &server.engine)
            .await
            .unwrap();
        assert!(again.tables.iter().all(|t| t.inserted == 0), "{again:?}");
        let (status, _) = server.get("/key/list", OLD_KEY).await;
        assert_eq!(status, 200);
        server.finish().await;
    }
    drop_postgres(&source).await;
}

#[tokio::test]
async fn import_refuses_a_database_that_is_not_postgresql() {
    let server = Server::all_with(&configure).await.remove(0);
    let error = llmrelay_governance::import_litellm("sqlite://litellm.db", &server.engine)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("PostgreSQL"), "{error}");
    let error = llmrelay_governance::import_litellm(
        "postgresql://nobody:secret@127.0.0.1:1/litellm",
        &server.engine,
    )
    .await
    .unwrap_err();
    assert!(!error.to_string().contains("secret"), "{error}");
    assert_eq!(error.status_code(), 503);
    server.finish().await;
}
