-- llmrelay governance schema, version 1: LiteLLM's table and column names (litellm/proxy/schema.prisma).
-- Money is exact: NUMERIC on PostgreSQL, decimal text on SQLite. Generated from one table list for both backends.

CREATE TABLE IF NOT EXISTS "LiteLLM_BudgetTable" (
    "budget_id" TEXT PRIMARY KEY,
    "max_budget" TEXT,
    "soft_budget" TEXT,
    "max_parallel_requests" INTEGER,
    "tpm_limit" BIGINT,
    "rpm_limit" BIGINT,
    "tpd_limit" BIGINT,
    "model_max_budget" TEXT,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMP,
    "allowed_models" TEXT NOT NULL DEFAULT '[]',
    "temp_budget_increase" TEXT,
    "temp_budget_expiry" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT '',
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS "LiteLLM_CredentialsTable" (
    "credential_id" TEXT PRIMARY KEY,
    "credential_name" TEXT NOT NULL DEFAULT '' UNIQUE,
    "display_name" TEXT,
    "credential_values" TEXT NOT NULL DEFAULT '{}',
    "credential_info" TEXT,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT '',
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS "LiteLLM_ProxyModelTable" (
    "model_id" TEXT PRIMARY KEY,
    "model_name" TEXT NOT NULL DEFAULT '',
    "litellm_params" TEXT NOT NULL DEFAULT '{}',
    "model_info" TEXT,
    "blocked" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT '',
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS "LiteLLM_OrganizationTable" (
    "organization_id" TEXT PRIMARY KEY,
    "organization_alias" TEXT NOT NULL DEFAULT '',
    "budget_id" TEXT NOT NULL DEFAULT '',
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "models" TEXT NOT NULL DEFAULT '[]',
    "spend" TEXT NOT NULL DEFAULT '0',
    "model_spend" TEXT NOT NULL DEFAULT '{}',
    "object_permission_id" TEXT,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT '',
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS "LiteLLM_ModelTable" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "model_aliases" TEXT,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL DEFAULT '',
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS "LiteLLM_TeamTable" (
    "team_id" TEXT PRIMARY KEY,
    "team_alias" TEXT,
    "organization_id" TEXT,
    "object_permission_id" TEXT,
    "admins" TEXT NOT NULL DEFAULT '[]',
    "members" TEXT NOT NULL DEFAULT '[]',
    "members_with_roles" TEXT NOT NULL DEFAULT '{}',
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "max_budget" TEXT,
    "soft_budget" TEXT,
    "spend" TEXT NOT NULL DEFAULT '0',
    "models" TEXT NOT NULL DEFAULT '[]',
    "max_parallel_requests" INTEGER,
    "tpm_limit" BIGINT,
    "rpm_limit" BIGINT,
    "tpd_limit" BIGINT,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMP,
    "blocked" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "model_spend" TEXT NOT NULL DEFAULT '{}',
    "model_max_budget" TEXT NOT NULL DEFAULT '{}',
    "router_settings" TEXT,
    "team_member_permissions" TEXT NOT NULL DEFAULT '[]',
    "access_group_ids" TEXT NOT NULL DEFAULT '[]',
    "policies" TEXT NOT NULL DEFAULT '[]',
    "default_team_member_models" TEXT NOT NULL DEFAULT '[]',
    "budget_limits" TEXT,
    "model_id" INTEGER UNIQUE,
    "allow_team_guardrail_config" BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS "LiteLLM_TeamTable_organization_id_idx" ON "LiteLLM_TeamTable" ("organization_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_TeamTable_team_alias_idx" ON "LiteLLM_TeamTable" ("team_alias");
CREATE INDEX IF NOT EXISTS "LiteLLM_TeamTable_created_at_idx" ON "LiteLLM_TeamTable" ("created_at");

CREATE TABLE IF NOT EXISTS "LiteLLM_UserTable" (
    "user_id" TEXT PRIMARY KEY,
    "user_alias" TEXT,
    "team_id" TEXT,
    "sso_user_id" TEXT UNIQUE,
    "organization_id" TEXT,
    "object_permission_id" TEXT,
    "password" TEXT,
    "password_reset_required" BOOLEAN,
    "last_breach_check_at" TIMESTAMP,
    "teams" TEXT NOT NULL DEFAULT '[]',
    "user_role" TEXT,
    "max_budget" TEXT,
    "spend" TEXT NOT NULL DEFAULT '0',
    "user_email" TEXT,
    "models" TEXT NOT NULL DEFAULT '[]',
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "max_parallel_requests" INTEGER,
    "tpm_limit" BIGINT,
    "rpm_limit" BIGINT,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMP,
    "allowed_cache_controls" TEXT NOT NULL DEFAULT '[]',
    "policies" TEXT NOT NULL DEFAULT '[]',
    "model_spend" TEXT NOT NULL DEFAULT '{}',
    "model_max_budget" TEXT NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP,
    "updated_at" TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "LiteLLM_ObjectPermissionTable" (
    "object_permission_id" TEXT PRIMARY KEY,
    "mcp_servers" TEXT NOT NULL DEFAULT '[]',
    "mcp_access_groups" TEXT NOT NULL DEFAULT '[]',
    "mcp_tool_permissions" TEXT,
    "vector_stores" TEXT NOT NULL DEFAULT '[]',
    "agents" TEXT NOT NULL DEFAULT '[]',
    "agent_access_groups" TEXT NOT NULL DEFAULT '[]',
    "models" TEXT NOT NULL DEFAULT '[]',
    "blocked_tools" TEXT NOT NULL DEFAULT '[]',
    "mcp_toolsets" TEXT NOT NULL DEFAULT '[]',
    "search_tools" TEXT NOT NULL DEFAULT '[]',
    "mcp_tool_search_enabled" BOOLEAN,
    "skills" TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE IF NOT EXISTS "LiteLLM_VerificationToken" (
    "token" TEXT PRIMARY KEY,
    "key_name" TEXT,
    "key_alias" TEXT,
    "soft_budget_cooldown" BOOLEAN NOT NULL DEFAULT false,
    "spend" TEXT NOT NULL DEFAULT '0',
    "total_spend" TEXT NOT NULL DEFAULT '0',
    "expires" TIMESTAMP,
    "models" TEXT NOT NULL DEFAULT '[]',
    "aliases" TEXT NOT NULL DEFAULT '{}',
    "config" TEXT NOT NULL DEFAULT '{}',
    "router_settings" TEXT,
    "user_id" TEXT,
    "team_id" TEXT,
    "agent_id" TEXT,
    "project_id" TEXT,
    "permissions" TEXT NOT NULL DEFAULT '{}',
    "max_parallel_requests" INTEGER,
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "blocked" BOOLEAN,
    "tpm_limit" BIGINT,
    "rpm_limit" BIGINT,
    "tpd_limit" BIGINT,
    "max_budget" TEXT,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMP,
    "allowed_cache_controls" TEXT NOT NULL DEFAULT '[]',
    "allowed_routes" TEXT NOT NULL DEFAULT '[]',
    "key_type" TEXT,
    "policies" TEXT NOT NULL DEFAULT '[]',
    "access_group_ids" TEXT NOT NULL DEFAULT '[]',
    "model_spend" TEXT NOT NULL DEFAULT '{}',
    "model_max_budget" TEXT NOT NULL DEFAULT '{}',
    "budget_fallbacks" TEXT NOT NULL DEFAULT '{}',
    "budget_id" TEXT,
    "organization_id" TEXT,
    "object_permission_id" TEXT,
    "created_at" TIMESTAMP,
    "created_by" TEXT,
    "updated_at" TIMESTAMP,
    "updated_by" TEXT,
    "settings_updated_at" TIMESTAMP,
    "last_active" TIMESTAMP,
    "rotation_count" INTEGER,
    "auto_rotate" BOOLEAN,
    "rotation_interval" TEXT,
    "last_rotation_at" TIMESTAMP,
    "key_rotation_at" TIMESTAMP,
    "budget_limits" TEXT
);
CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_user_id_team_id_idx" ON "LiteLLM_VerificationToken" ("user_id", "team_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_team_id_idx" ON "LiteLLM_VerificationToken" ("team_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_budget_reset_at_expires_idx" ON "LiteLLM_VerificationToken" ("budget_reset_at", "expires");

CREATE TABLE IF NOT EXISTS "LiteLLM_DeprecatedVerificationToken" (
    "id" TEXT PRIMARY KEY,
    "token" TEXT NOT NULL,
    "active_token_id" TEXT NOT NULL DEFAULT '',
    "revoke_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "LiteLLM_DeprecatedVerificationToken_token_key" ON "LiteLLM_DeprecatedVerificationToken" ("token");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeprecatedVerificationToken_token_revoke_at_idx" ON "LiteLLM_DeprecatedVerificationToken" ("token", "revoke_at");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeprecatedVerificationToken_revoke_at_idx" ON "LiteLLM_DeprecatedVerificationToken" ("revoke_at");

CREATE TABLE IF NOT EXISTS "LiteLLM_DeletedVerificationToken" (
    "id" TEXT PRIMARY KEY,
    "token" TEXT NOT NULL,
    "key_name" TEXT,
    "key_alias" TEXT,
    "soft_budget_cooldown" BOOLEAN NOT NULL DEFAULT false,
    "spend" TEXT NOT NULL DEFAULT '0',
    "total_spend" TEXT NOT NULL DEFAULT '0',
    "expires" TIMESTAMP,
    "models" TEXT NOT NULL DEFAULT '[]',
    "aliases" TEXT NOT NULL DEFAULT '{}',
    "config" TEXT NOT NULL DEFAULT '{}',
    "user_id" TEXT,
    "team_id" TEXT,
    "agent_id" TEXT,
    "project_id" TEXT,
    "permissions" TEXT NOT NULL DEFAULT '{}',
    "max_parallel_requests" INTEGER,
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "blocked" BOOLEAN,
    "tpm_limit" BIGINT,
    "rpm_limit" BIGINT,
    "tpd_limit" BIGINT,
    "max_budget" TEXT,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMP,
    "allowed_cache_controls" TEXT NOT NULL DEFAULT '[]',
    "allowed_routes" TEXT NOT NULL DEFAULT '[]',
    "key_type" TEXT,
    "policies" TEXT NOT NULL DEFAULT '[]',
    "access_group_ids" TEXT NOT NULL DEFAULT '[]',
    "model_spend" TEXT NOT NULL DEFAULT '{}',
    "model_max_budget" TEXT NOT NULL DEFAULT '{}',
    "budget_fallbacks" TEXT NOT NULL DEFAULT '{}',
    "router_settings" TEXT,
    "budget_id" TEXT,
    "organization_id" TEXT,
    "object_permission_id" TEXT,
    "created_at" TIMESTAMP,
    "created_by" TEXT,
    "updated_at" TIMESTAMP,
    "updated_by" TEXT,
    "settings_updated_at" TIMESTAMP,
    "last_active" TIMESTAMP,
    "rotation_count" INTEGER,
    "auto_rotate" BOOLEAN,
    "rotation_interval" TEXT,
    "last_rotation_at" TIMESTAMP,
    "key_rotation_at" TIMESTAMP,
    "deleted_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_by" TEXT,
    "deleted_by_api_key" TEXT,
    "litellm_changed_by" TEXT
);
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedVerificationToken_token_idx" ON "LiteLLM_DeletedVerificationToken" ("token");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedVerificationToken_deleted_at_idx" ON "LiteLLM_DeletedVerificationToken" ("deleted_at");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedVerificationToken_user_id_idx" ON "LiteLLM_DeletedVerificationToken" ("user_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedVerificationToken_team_id_idx" ON "LiteLLM_DeletedVerificationToken" ("team_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedVerificationToken_organization_id_idx" ON "LiteLLM_DeletedVerificationToken" ("organization_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedVerificationToken_key_alias_idx" ON "LiteLLM_DeletedVerificationToken" ("key_alias");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedVerificationToken_created_at_idx" ON "LiteLLM_DeletedVerificationToken" ("created_at");

CREATE TABLE IF NOT EXISTS "LiteLLM_DeletedTeamTable" (
    "id" TEXT PRIMARY KEY,
    "team_id" TEXT NOT NULL,
    "team_alias" TEXT,
    "organization_id" TEXT,
    "object_permission_id" TEXT,
    "admins" TEXT NOT NULL DEFAULT '[]',
    "members" TEXT NOT NULL DEFAULT '[]',
    "members_with_roles" TEXT NOT NULL DEFAULT '{}',
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "max_budget" TEXT,
    "soft_budget" TEXT,
    "spend" TEXT NOT NULL DEFAULT '0',
    "models" TEXT NOT NULL DEFAULT '[]',
    "max_parallel_requests" INTEGER,
    "tpm_limit" BIGINT,
    "rpm_limit" BIGINT,
    "tpd_limit" BIGINT,
    "budget_duration" TEXT,
    "budget_reset_at" TIMESTAMP,
    "blocked" BOOLEAN NOT NULL DEFAULT false,
    "model_spend" TEXT NOT NULL DEFAULT '{}',
    "model_max_budget" TEXT NOT NULL DEFAULT '{}',
    "router_settings" TEXT,
    "team_member_permissions" TEXT NOT NULL DEFAULT '[]',
    "access_group_ids" TEXT NOT NULL DEFAULT '[]',
    "policies" TEXT NOT NULL DEFAULT '[]',
    "model_id" INTEGER,
    "allow_team_guardrail_config" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP,
    "updated_at" TIMESTAMP,
    "deleted_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_by" TEXT,
    "deleted_by_api_key" TEXT,
    "litellm_changed_by" TEXT
);
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedTeamTable_team_id_idx" ON "LiteLLM_DeletedTeamTable" ("team_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedTeamTable_deleted_at_idx" ON "LiteLLM_DeletedTeamTable" ("deleted_at");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedTeamTable_organization_id_idx" ON "LiteLLM_DeletedTeamTable" ("organization_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedTeamTable_team_alias_idx" ON "LiteLLM_DeletedTeamTable" ("team_alias");
CREATE INDEX IF NOT EXISTS "LiteLLM_DeletedTeamTable_created_at_idx" ON "LiteLLM_DeletedTeamTable" ("created_at");

CREATE TABLE IF NOT EXISTS "LiteLLM_EndUserTable" (
    "user_id" TEXT PRIMARY KEY,
    "alias" TEXT,
    "spend" TEXT NOT NULL DEFAULT '0',
    "allowed_model_region" TEXT,
    "default_model" TEXT,
    "models" TEXT NOT NULL DEFAULT '[]',
    "budget_id" TEXT,
    "object_permission_id" TEXT,
    "blocked" BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE IF NOT EXISTS "LiteLLM_TagTable" (
    "tag_name" TEXT PRIMARY KEY,
    "description" TEXT,
    "models" TEXT NOT NULL DEFAULT '[]',
    "model_info" TEXT,
    "spend" TEXT NOT NULL DEFAULT '0',
    "budget_id" TEXT,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT,
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS "LiteLLM_SpendLogs" (
    "request_id" TEXT PRIMARY KEY,
    "call_type" TEXT NOT NULL DEFAULT '',
    "api_key" TEXT NOT NULL DEFAULT '',
    "spend" TEXT NOT NULL DEFAULT '0',
    "total_tokens" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "startTime" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endTime" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "request_duration_ms" INTEGER,
    "completionStartTime" TIMESTAMP,
    "model" TEXT NOT NULL DEFAULT '',
    "model_id" TEXT,
    "model_group" TEXT,
    "custom_llm_provider" TEXT,
    "api_base" TEXT,
    "user" TEXT,
    "metadata" TEXT,
    "cache_hit" TEXT,
    "cache_key" TEXT,
    "request_tags" TEXT,
    "team_id" TEXT,
    "organization_id" TEXT,
    "end_user" TEXT,
    "requester_ip_address" TEXT,
    "messages" TEXT,
    "response" TEXT,
    "session_id" TEXT,
    "status" TEXT,
    "mcp_namespaced_tool_name" TEXT,
    "billing_agent_id" TEXT,
    "agent_id" TEXT,
    "proxy_server_request" TEXT,
    "litellm_call_id" TEXT,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_startTime_idx" ON "LiteLLM_SpendLogs" ("startTime");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_startTime_request_id_idx" ON "LiteLLM_SpendLogs" ("startTime", "request_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_end_user_idx" ON "LiteLLM_SpendLogs" ("end_user");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_session_id_idx" ON "LiteLLM_SpendLogs" ("session_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_litellm_call_id_idx" ON "LiteLLM_SpendLogs" ("litellm_call_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_api_key_startTime_idx" ON "LiteLLM_SpendLogs" ("api_key", "startTime");

CREATE TABLE IF NOT EXISTS "LiteLLM_TeamMembership" (
    "user_id" TEXT NOT NULL,
    "team_id" TEXT NOT NULL,
    "spend" TEXT NOT NULL DEFAULT '0',
    "total_spend" TEXT NOT NULL DEFAULT '0',
    "budget_id" TEXT,
    PRIMARY KEY ("user_id", "team_id")
);

CREATE TABLE IF NOT EXISTS "LiteLLM_OrganizationMembership" (
    "user_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "user_role" TEXT,
    "spend" TEXT,
    "budget_id" TEXT,
    "created_at" TIMESTAMP,
    "updated_at" TIMESTAMP,
    PRIMARY KEY ("user_id", "organization_id")
);

CREATE TABLE IF NOT EXISTS "LiteLLM_AuditLog" (
    "id" TEXT PRIMARY KEY,
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "changed_by" TEXT NOT NULL DEFAULT '',
    "changed_by_api_key" TEXT NOT NULL DEFAULT '',
    "action" TEXT NOT NULL DEFAULT '',
    "table_name" TEXT NOT NULL DEFAULT '',
    "object_id" TEXT NOT NULL DEFAULT '',
    "before_value" TEXT,
    "updated_values" TEXT
);

CREATE TABLE IF NOT EXISTS "LiteLLM_DailyUserSpend" (
    "id" TEXT PRIMARY KEY,
    "user_id" TEXT,
    "date" TEXT NOT NULL DEFAULT '',
    "api_key" TEXT NOT NULL DEFAULT '',
    "model" TEXT,
    "model_group" TEXT,
    "custom_llm_provider" TEXT,
    "mcp_namespaced_tool_name" TEXT,
    "endpoint" TEXT,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_read_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_creation_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_saved_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_savings_spend" TEXT NOT NULL DEFAULT '0',
    "prompt_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "gateway_injected_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "autorouter_savings_spend" TEXT NOT NULL DEFAULT '0',
    "spend" TEXT NOT NULL DEFAULT '0',
    "api_requests" BIGINT NOT NULL DEFAULT 0,
    "successful_requests" BIGINT NOT NULL DEFAULT 0,
    "failed_requests" BIGINT NOT NULL DEFAULT 0,
    "total_response_time_ms" BIGINT NOT NULL DEFAULT 0,
    "timed_requests" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "LiteLLM_DailyUserSpend_unique_key" ON "LiteLLM_DailyUserSpend" ("user_id", "date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyUserSpend_date_idx" ON "LiteLLM_DailyUserSpend" ("date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyUserSpend_user_id_date_idx" ON "LiteLLM_DailyUserSpend" ("user_id", "date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyUserSpend_api_key_idx" ON "LiteLLM_DailyUserSpend" ("api_key");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyUserSpend_model_idx" ON "LiteLLM_DailyUserSpend" ("model");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyUserSpend_mcp_namespaced_tool_name_idx" ON "LiteLLM_DailyUserSpend" ("mcp_namespaced_tool_name");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyUserSpend_endpoint_idx" ON "LiteLLM_DailyUserSpend" ("endpoint");

CREATE TABLE IF NOT EXISTS "LiteLLM_DailyTeamSpend" (
    "id" TEXT PRIMARY KEY,
    "team_id" TEXT,
    "date" TEXT NOT NULL DEFAULT '',
    "api_key" TEXT NOT NULL DEFAULT '',
    "model" TEXT,
    "model_group" TEXT,
    "custom_llm_provider" TEXT,
    "mcp_namespaced_tool_name" TEXT,
    "endpoint" TEXT,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_read_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_creation_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_saved_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_savings_spend" TEXT NOT NULL DEFAULT '0',
    "prompt_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "gateway_injected_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "autorouter_savings_spend" TEXT NOT NULL DEFAULT '0',
    "spend" TEXT NOT NULL DEFAULT '0',
    "api_requests" BIGINT NOT NULL DEFAULT 0,
    "successful_requests" BIGINT NOT NULL DEFAULT 0,
    "failed_requests" BIGINT NOT NULL DEFAULT 0,
    "total_response_time_ms" BIGINT NOT NULL DEFAULT 0,
    "timed_requests" BIGINT NOT NULL DEFAULT 0,
    "ptu_flat_cost" TEXT NOT NULL DEFAULT '0',
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "LiteLLM_DailyTeamSpend_unique_key" ON "LiteLLM_DailyTeamSpend" ("team_id", "date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTeamSpend_date_idx" ON "LiteLLM_DailyTeamSpend" ("date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTeamSpend_team_id_date_idx" ON "LiteLLM_DailyTeamSpend" ("team_id", "date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTeamSpend_api_key_idx" ON "LiteLLM_DailyTeamSpend" ("api_key");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTeamSpend_model_idx" ON "LiteLLM_DailyTeamSpend" ("model");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTeamSpend_mcp_namespaced_tool_name_idx" ON "LiteLLM_DailyTeamSpend" ("mcp_namespaced_tool_name");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTeamSpend_endpoint_idx" ON "LiteLLM_DailyTeamSpend" ("endpoint");

CREATE TABLE IF NOT EXISTS "LiteLLM_DailyOrganizationSpend" (
    "id" TEXT PRIMARY KEY,
    "organization_id" TEXT,
    "date" TEXT NOT NULL DEFAULT '',
    "api_key" TEXT NOT NULL DEFAULT '',
    "model" TEXT,
    "model_group" TEXT,
    "custom_llm_provider" TEXT,
    "mcp_namespaced_tool_name" TEXT,
    "endpoint" TEXT,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_read_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_creation_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_saved_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_savings_spend" TEXT NOT NULL DEFAULT '0',
    "prompt_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "gateway_injected_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "autorouter_savings_spend" TEXT NOT NULL DEFAULT '0',
    "spend" TEXT NOT NULL DEFAULT '0',
    "api_requests" BIGINT NOT NULL DEFAULT 0,
    "successful_requests" BIGINT NOT NULL DEFAULT 0,
    "failed_requests" BIGINT NOT NULL DEFAULT 0,
    "total_response_time_ms" BIGINT NOT NULL DEFAULT 0,
    "timed_requests" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "LiteLLM_DailyOrganizationSpend_unique_key" ON "LiteLLM_DailyOrganizationSpend" ("organization_id", "date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyOrganizationSpend_date_idx" ON "LiteLLM_DailyOrganizationSpend" ("date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyOrganizationSpend_organization_id_date_idx" ON "LiteLLM_DailyOrganizationSpend" ("organization_id", "date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyOrganizationSpend_api_key_idx" ON "LiteLLM_DailyOrganizationSpend" ("api_key");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyOrganizationSpend_model_idx" ON "LiteLLM_DailyOrganizationSpend" ("model");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyOrganizationSpend_mcp_namespaced_tool_name_idx" ON "LiteLLM_DailyOrganizationSpend" ("mcp_namespaced_tool_name");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyOrganizationSpend_endpoint_idx" ON "LiteLLM_DailyOrganizationSpend" ("endpoint");

CREATE TABLE IF NOT EXISTS "LiteLLM_DailyEndUserSpend" (
    "id" TEXT PRIMARY KEY,
    "end_user_id" TEXT,
    "date" TEXT NOT NULL DEFAULT '',
    "api_key" TEXT NOT NULL DEFAULT '',
    "model" TEXT,
    "model_group" TEXT,
    "custom_llm_provider" TEXT,
    "mcp_namespaced_tool_name" TEXT,
    "endpoint" TEXT,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_read_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_creation_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_saved_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_savings_spend" TEXT NOT NULL DEFAULT '0',
    "prompt_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "gateway_injected_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "autorouter_savings_spend" TEXT NOT NULL DEFAULT '0',
    "spend" TEXT NOT NULL DEFAULT '0',
    "api_requests" BIGINT NOT NULL DEFAULT 0,
    "successful_requests" BIGINT NOT NULL DEFAULT 0,
    "failed_requests" BIGINT NOT NULL DEFAULT 0,
    "total_response_time_ms" BIGINT NOT NULL DEFAULT 0,
    "timed_requests" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "LiteLLM_DailyEndUserSpend_unique_key" ON "LiteLLM_DailyEndUserSpend" ("end_user_id", "date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyEndUserSpend_date_idx" ON "LiteLLM_DailyEndUserSpend" ("date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyEndUserSpend_end_user_id_date_idx" ON "LiteLLM_DailyEndUserSpend" ("end_user_id", "date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyEndUserSpend_api_key_idx" ON "LiteLLM_DailyEndUserSpend" ("api_key");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyEndUserSpend_model_idx" ON "LiteLLM_DailyEndUserSpend" ("model");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyEndUserSpend_mcp_namespaced_tool_name_idx" ON "LiteLLM_DailyEndUserSpend" ("mcp_namespaced_tool_name");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyEndUserSpend_endpoint_idx" ON "LiteLLM_DailyEndUserSpend" ("endpoint");

CREATE TABLE IF NOT EXISTS "LiteLLM_DailyTagSpend" (
    "id" TEXT PRIMARY KEY,
    "request_id" TEXT,
    "tag" TEXT,
    "date" TEXT NOT NULL DEFAULT '',
    "api_key" TEXT NOT NULL DEFAULT '',
    "model" TEXT,
    "model_group" TEXT,
    "custom_llm_provider" TEXT,
    "mcp_namespaced_tool_name" TEXT,
    "endpoint" TEXT,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_read_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_creation_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_saved_tokens" BIGINT NOT NULL DEFAULT 0,
    "compression_savings_spend" TEXT NOT NULL DEFAULT '0',
    "prompt_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "gateway_injected_caching_savings_spend" TEXT NOT NULL DEFAULT '0',
    "autorouter_savings_spend" TEXT NOT NULL DEFAULT '0',
    "spend" TEXT NOT NULL DEFAULT '0',
    "api_requests" BIGINT NOT NULL DEFAULT 0,
    "successful_requests" BIGINT NOT NULL DEFAULT 0,
    "failed_requests" BIGINT NOT NULL DEFAULT 0,
    "total_response_time_ms" BIGINT NOT NULL DEFAULT 0,
    "timed_requests" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "LiteLLM_DailyTagSpend_unique_key" ON "LiteLLM_DailyTagSpend" ("tag", "date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTagSpend_date_idx" ON "LiteLLM_DailyTagSpend" ("date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTagSpend_tag_date_idx" ON "LiteLLM_DailyTagSpend" ("tag", "date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTagSpend_api_key_idx" ON "LiteLLM_DailyTagSpend" ("api_key");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTagSpend_model_idx" ON "LiteLLM_DailyTagSpend" ("model");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTagSpend_mcp_namespaced_tool_name_idx" ON "LiteLLM_DailyTagSpend" ("mcp_namespaced_tool_name");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTagSpend_endpoint_idx" ON "LiteLLM_DailyTagSpend" ("endpoint");

-- Indexes for the queries llmrelay runs (beyond LiteLLM's own).
CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_key_alias_idx" ON "LiteLLM_VerificationToken" ("key_alias");
CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_organization_id_idx" ON "LiteLLM_VerificationToken" ("organization_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_created_at_idx" ON "LiteLLM_VerificationToken" ("created_at");
CREATE INDEX IF NOT EXISTS "LiteLLM_UserTable_user_email_idx" ON "LiteLLM_UserTable" ("user_email");
CREATE INDEX IF NOT EXISTS "LiteLLM_UserTable_organization_id_idx" ON "LiteLLM_UserTable" ("organization_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_user_startTime_idx" ON "LiteLLM_SpendLogs" ("user", "startTime");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_team_id_startTime_idx" ON "LiteLLM_SpendLogs" ("team_id", "startTime");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_end_user_startTime_idx" ON "LiteLLM_SpendLogs" ("end_user", "startTime");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyUserSpend_api_key_date_idx" ON "LiteLLM_DailyUserSpend" ("api_key", "date");
CREATE INDEX IF NOT EXISTS "LiteLLM_DailyTeamSpend_api_key_date_idx" ON "LiteLLM_DailyTeamSpend" ("api_key", "date");
CREATE INDEX IF NOT EXISTS "LiteLLM_ProxyModelTable_model_name_idx" ON "LiteLLM_ProxyModelTable" ("model_name");
CREATE INDEX IF NOT EXISTS "LiteLLM_TeamMembership_team_id_idx" ON "LiteLLM_TeamMembership" ("team_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_OrganizationMembership_organization_id_idx" ON "LiteLLM_OrganizationMembership" ("organization_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_AuditLog_updated_at_idx" ON "LiteLLM_AuditLog" ("updated_at");

-- llmrelay: change feed polled by every instance (cache invalidation, DB models).
CREATE TABLE IF NOT EXISTS "llmrelay_changes" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL,
    "object_id" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "llmrelay_changes_created_at_idx" ON "llmrelay_changes" ("created_at");
