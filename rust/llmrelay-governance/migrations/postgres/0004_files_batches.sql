-- Files and batches (`/v1/files`, `/v1/batches`): LiteLLM's managed-file and managed-object
-- tables (file metadata; batches as managed objects), and llmrelay's per-line progress of the
-- local batch runner (what survives a restart mid-batch).
CREATE TABLE IF NOT EXISTS "LiteLLM_ManagedFileTable" (
    "id" TEXT PRIMARY KEY,
    "unified_file_id" TEXT NOT NULL UNIQUE,
    "file_object" JSONB,
    "model_mappings" JSONB NOT NULL DEFAULT '{}',
    "flat_model_file_ids" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "storage_backend" TEXT,
    "storage_url" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT,
    "team_id" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT
);
CREATE INDEX IF NOT EXISTS "LiteLLM_ManagedFileTable_team_id_created_at_idx" ON "LiteLLM_ManagedFileTable" ("team_id", "created_at" DESC);
CREATE INDEX IF NOT EXISTS "LiteLLM_ManagedFileTable_created_by_created_at_idx" ON "LiteLLM_ManagedFileTable" ("created_by", "created_at" DESC);

CREATE TABLE IF NOT EXISTS "LiteLLM_ManagedObjectTable" (
    "id" TEXT PRIMARY KEY,
    "unified_object_id" TEXT NOT NULL UNIQUE,
    "model_object_id" TEXT NOT NULL UNIQUE,
    "file_object" JSONB NOT NULL DEFAULT '{}',
    "file_purpose" TEXT NOT NULL DEFAULT '',
    "status" TEXT,
    "batch_processed" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT,
    "team_id" TEXT,
    "org_id" TEXT,
    "api_key" TEXT,
    "request_tags" JSONB,
    "end_user_id" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT
);
CREATE INDEX IF NOT EXISTS "LiteLLM_ManagedObjectTable_team_id_created_at_idx" ON "LiteLLM_ManagedObjectTable" ("team_id", "created_at" DESC);
CREATE INDEX IF NOT EXISTS "LiteLLM_ManagedObjectTable_api_key_created_at_idx" ON "LiteLLM_ManagedObjectTable" ("api_key", "created_at" DESC);
CREATE INDEX IF NOT EXISTS "LiteLLM_ManagedObjectTable_batch_processed_idx" ON "LiteLLM_ManagedObjectTable" ("batch_processed", "file_purpose");

CREATE TABLE IF NOT EXISTS "llmrelay_batch_lines" (
    "batch_id" TEXT NOT NULL,
    "line_index" BIGINT NOT NULL,
    "custom_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" BIGINT NOT NULL DEFAULT 0,
    "output" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY ("batch_id", "line_index")
);
CREATE INDEX IF NOT EXISTS "llmrelay_batch_lines_batch_id_status_idx" ON "llmrelay_batch_lines" ("batch_id", "status");
CREATE INDEX IF NOT EXISTS "LiteLLM_ManagedFileTable_flat_model_file_ids_idx" ON "LiteLLM_ManagedFileTable" USING GIN ("flat_model_file_ids");
