-- llmrelay governance schema, version 2: daily totals per team and per end user and model,
-- without the api_key (and provider) dimensions of LiteLLM's daily tables, so month reports read
-- one row per team, day and model, in index order, instead of one per key. Same columns as LiteLLM_Daily{Team,EndUser}Spend
-- (api_key is always '', custom_llm_provider NULL); the spend writer keeps them in the same transaction as those tables.

CREATE TABLE IF NOT EXISTS "llmrelay_daily_team_spend" (
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
    "compression_savings_spend" NUMERIC NOT NULL DEFAULT 0,
    "prompt_caching_savings_spend" NUMERIC NOT NULL DEFAULT 0,
    "gateway_injected_caching_savings_spend" NUMERIC NOT NULL DEFAULT 0,
    "autorouter_savings_spend" NUMERIC NOT NULL DEFAULT 0,
    "spend" NUMERIC NOT NULL DEFAULT 0,
    "api_requests" BIGINT NOT NULL DEFAULT 0,
    "successful_requests" BIGINT NOT NULL DEFAULT 0,
    "failed_requests" BIGINT NOT NULL DEFAULT 0,
    "total_response_time_ms" BIGINT NOT NULL DEFAULT 0,
    "timed_requests" BIGINT NOT NULL DEFAULT 0,
    "ptu_flat_cost" NUMERIC NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "llmrelay_daily_team_spend_key" ON "llmrelay_daily_team_spend" ("team_id", "date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint") NULLS NOT DISTINCT;
CREATE INDEX IF NOT EXISTS "llmrelay_daily_team_spend_report_idx" ON "llmrelay_daily_team_spend" ("date", "team_id", "model");
-- Totals of what the daily table holds already.
INSERT INTO "llmrelay_daily_team_spend" ("id", "team_id", "date", "api_key", "model", "model_group", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint", "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "api_requests", "successful_requests", "failed_requests", "total_response_time_ms", "spend", "created_at", "updated_at")
SELECT gen_random_uuid()::text, "team_id", "date", '', "model", MIN("model_group"), NULL, NULL, NULL, SUM("prompt_tokens"), SUM("completion_tokens"), SUM("cache_read_input_tokens"), SUM("cache_creation_input_tokens"), SUM("api_requests"), SUM("successful_requests"), SUM("failed_requests"), SUM("total_response_time_ms"), SUM("spend"), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
FROM "LiteLLM_DailyTeamSpend" GROUP BY "team_id", "date", "model";

CREATE TABLE IF NOT EXISTS "llmrelay_daily_end_user_spend" (
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
    "compression_savings_spend" NUMERIC NOT NULL DEFAULT 0,
    "prompt_caching_savings_spend" NUMERIC NOT NULL DEFAULT 0,
    "gateway_injected_caching_savings_spend" NUMERIC NOT NULL DEFAULT 0,
    "autorouter_savings_spend" NUMERIC NOT NULL DEFAULT 0,
    "spend" NUMERIC NOT NULL DEFAULT 0,
    "api_requests" BIGINT NOT NULL DEFAULT 0,
    "successful_requests" BIGINT NOT NULL DEFAULT 0,
    "failed_requests" BIGINT NOT NULL DEFAULT 0,
    "total_response_time_ms" BIGINT NOT NULL DEFAULT 0,
    "timed_requests" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "llmrelay_daily_end_user_spend_key" ON "llmrelay_daily_end_user_spend" ("end_user_id", "date", "api_key", "model", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint") NULLS NOT DISTINCT;
CREATE INDEX IF NOT EXISTS "llmrelay_daily_end_user_spend_report_idx" ON "llmrelay_daily_end_user_spend" ("date", "end_user_id", "model");
-- Totals of what the daily table holds already.
INSERT INTO "llmrelay_daily_end_user_spend" ("id", "end_user_id", "date", "api_key", "model", "model_group", "custom_llm_provider", "mcp_namespaced_tool_name", "endpoint", "prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "api_requests", "successful_requests", "failed_requests", "total_response_time_ms", "spend", "created_at", "updated_at")
SELECT gen_random_uuid()::text, "end_user_id", "date", '', "model", MIN("model_group"), NULL, NULL, NULL, SUM("prompt_tokens"), SUM("completion_tokens"), SUM("cache_read_input_tokens"), SUM("cache_creation_input_tokens"), SUM("api_requests"), SUM("successful_requests"), SUM("failed_requests"), SUM("total_response_time_ms"), SUM("spend"), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
FROM "LiteLLM_DailyEndUserSpend" GROUP BY "end_user_id", "date", "model";
