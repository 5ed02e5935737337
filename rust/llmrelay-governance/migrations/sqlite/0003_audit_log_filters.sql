-- The audit log's filters (`GET /audit`): by object, by who made the change, by action.
CREATE INDEX IF NOT EXISTS "LiteLLM_AuditLog_table_name_object_id_idx" ON "LiteLLM_AuditLog" ("table_name", "object_id");
CREATE INDEX IF NOT EXISTS "LiteLLM_AuditLog_changed_by_idx" ON "LiteLLM_AuditLog" ("changed_by");
CREATE INDEX IF NOT EXISTS "LiteLLM_AuditLog_action_updated_at_idx" ON "LiteLLM_AuditLog" ("action", "updated_at");
