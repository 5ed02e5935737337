//! LiteLLM's tables as the store sees them (generated with the migrations from one table list).

use crate::db::{Column, Kind, Table};

pub static BUDGET_TABLE: Table = Table {
    name: "LiteLLM_BudgetTable",
    primary_key: &["budget_id"],
    columns: &[
        Column {
            name: "budget_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "max_budget",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "soft_budget",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "max_parallel_requests",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "tpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "rpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "tpd_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "model_max_budget",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "budget_duration",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "budget_reset_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "allowed_models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "temp_budget_increase",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "temp_budget_expiry",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "created_by",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_by",
            kind: Kind::Text,
            nullable: false,
        },
    ],
};

pub static CREDENTIALS_TABLE: Table = Table {
    name: "LiteLLM_CredentialsTable",
    primary_key: &["credential_id"],
    columns: &[
        Column {
            name: "credential_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "credential_name",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "display_name",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "credential_values",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "credential_info",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "created_by",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_by",
            kind: Kind::Text,
            nullable: false,
        },
    ],
};

pub static PROXY_MODEL_TABLE: Table = Table {
    name: "LiteLLM_ProxyModelTable",
    primary_key: &["model_id"],
    columns: &[
        Column {
            name: "model_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "model_name",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "litellm_params",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "model_info",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "blocked",
            kind: Kind::Bool,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "created_by",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_by",
            kind: Kind::Text,
            nullable: false,
        },
    ],
};

pub static ORGANIZATION_TABLE: Table = Table {
    name: "LiteLLM_OrganizationTable",
    primary_key: &["organization_id"],
    columns: &[
        Column {
            name: "organization_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "organization_alias",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "budget_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "metadata",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "model_spend",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "object_permission_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "created_by",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_by",
            kind: Kind::Text,
            nullable: false,
        },
    ],
};

pub static MODEL_TABLE: Table = Table {
    name: "LiteLLM_ModelTable",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "model_aliases",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "created_by",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_by",
            kind: Kind::Text,
            nullable: false,
        },
    ],
};

pub static TEAM_TABLE: Table = Table {
    name: "LiteLLM_TeamTable",
    primary_key: &["team_id"],
    columns: &[
        Column {
            name: "team_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "team_alias",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "organization_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "object_permission_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "admins",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "members",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "members_with_roles",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "metadata",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "max_budget",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "soft_budget",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "max_parallel_requests",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "tpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "rpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "tpd_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "budget_duration",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "budget_reset_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "blocked",
            kind: Kind::Bool,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "model_spend",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "model_max_budget",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "router_settings",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "team_member_permissions",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "access_group_ids",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "policies",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "default_team_member_models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "budget_limits",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "model_id",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "allow_team_guardrail_config",
            kind: Kind::Bool,
            nullable: false,
        },
    ],
};

pub static USER_TABLE: Table = Table {
    name: "LiteLLM_UserTable",
    primary_key: &["user_id"],
    columns: &[
        Column {
            name: "user_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "user_alias",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "team_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "sso_user_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "organization_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "object_permission_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "password",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "password_reset_required",
            kind: Kind::Bool,
            nullable: true,
        },
        Column {
            name: "last_breach_check_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "teams",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "user_role",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "max_budget",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "user_email",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "metadata",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "max_parallel_requests",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "tpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "rpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "budget_duration",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "budget_reset_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "allowed_cache_controls",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "policies",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "model_spend",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "model_max_budget",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: true,
        },
    ],
};

pub static OBJECT_PERMISSION_TABLE: Table = Table {
    name: "LiteLLM_ObjectPermissionTable",
    primary_key: &["object_permission_id"],
    columns: &[
        Column {
            name: "object_permission_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "mcp_servers",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "mcp_access_groups",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "mcp_tool_permissions",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "vector_stores",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "agents",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "agent_access_groups",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "blocked_tools",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "mcp_toolsets",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "search_tools",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "mcp_tool_search_enabled",
            kind: Kind::Bool,
            nullable: true,
        },
        Column {
            name: "skills",
            kind: Kind::List,
            nullable: false,
        },
    ],
};

pub static VERIFICATION_TOKEN: Table = Table {
    name: "LiteLLM_VerificationToken",
    primary_key: &["token"],
    columns: &[
        Column {
            name: "token",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "key_name",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "key_alias",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "soft_budget_cooldown",
            kind: Kind::Bool,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "total_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "expires",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "aliases",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "config",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "router_settings",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "user_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "team_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "agent_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "project_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "permissions",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "max_parallel_requests",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "metadata",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "blocked",
            kind: Kind::Bool,
            nullable: true,
        },
        Column {
            name: "tpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "rpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "tpd_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "max_budget",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "budget_duration",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "budget_reset_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "allowed_cache_controls",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "allowed_routes",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "key_type",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "policies",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "access_group_ids",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "model_spend",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "model_max_budget",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "budget_fallbacks",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "budget_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "organization_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "object_permission_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "created_by",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "updated_by",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "settings_updated_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "last_active",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "rotation_count",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "auto_rotate",
            kind: Kind::Bool,
            nullable: true,
        },
        Column {
            name: "rotation_interval",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "last_rotation_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "key_rotation_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "budget_limits",
            kind: Kind::Json,
            nullable: true,
        },
    ],
};

pub static DEPRECATED_VERIFICATION_TOKEN: Table = Table {
    name: "LiteLLM_DeprecatedVerificationToken",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "token",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "active_token_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "revoke_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
    ],
};

pub static DELETED_VERIFICATION_TOKEN: Table = Table {
    name: "LiteLLM_DeletedVerificationToken",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "token",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "key_name",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "key_alias",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "soft_budget_cooldown",
            kind: Kind::Bool,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "total_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "expires",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "aliases",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "config",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "user_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "team_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "agent_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "project_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "permissions",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "max_parallel_requests",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "metadata",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "blocked",
            kind: Kind::Bool,
            nullable: true,
        },
        Column {
            name: "tpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "rpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "tpd_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "max_budget",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "budget_duration",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "budget_reset_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "allowed_cache_controls",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "allowed_routes",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "key_type",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "policies",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "access_group_ids",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "model_spend",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "model_max_budget",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "budget_fallbacks",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "router_settings",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "budget_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "organization_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "object_permission_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "created_by",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "updated_by",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "settings_updated_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "last_active",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "rotation_count",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "auto_rotate",
            kind: Kind::Bool,
            nullable: true,
        },
        Column {
            name: "rotation_interval",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "last_rotation_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "key_rotation_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "deleted_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "deleted_by",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "deleted_by_api_key",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "litellm_changed_by",
            kind: Kind::Text,
            nullable: true,
        },
    ],
};

pub static DELETED_TEAM_TABLE: Table = Table {
    name: "LiteLLM_DeletedTeamTable",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "team_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "team_alias",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "organization_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "object_permission_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "admins",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "members",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "members_with_roles",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "metadata",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "max_budget",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "soft_budget",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "max_parallel_requests",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "tpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "rpm_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "tpd_limit",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "budget_duration",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "budget_reset_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "blocked",
            kind: Kind::Bool,
            nullable: false,
        },
        Column {
            name: "model_spend",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "model_max_budget",
            kind: Kind::Json,
            nullable: false,
        },
        Column {
            name: "router_settings",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "team_member_permissions",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "access_group_ids",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "policies",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "model_id",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "allow_team_guardrail_config",
            kind: Kind::Bool,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "deleted_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "deleted_by",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "deleted_by_api_key",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "litellm_changed_by",
            kind: Kind::Text,
            nullable: true,
        },
    ],
};

pub static END_USER_TABLE: Table = Table {
    name: "LiteLLM_EndUserTable",
    primary_key: &["user_id"],
    columns: &[
        Column {
            name: "user_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "alias",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "allowed_model_region",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "default_model",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "budget_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "object_permission_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "blocked",
            kind: Kind::Bool,
            nullable: false,
        },
    ],
};

pub static TAG_TABLE: Table = Table {
    name: "LiteLLM_TagTable",
    primary_key: &["tag_name"],
    columns: &[
        Column {
            name: "tag_name",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "description",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "models",
            kind: Kind::List,
            nullable: false,
        },
        Column {
            name: "model_info",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "budget_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "created_by",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
    ],
};

pub static SPEND_LOGS: Table = Table {
    name: "LiteLLM_SpendLogs",
    primary_key: &["request_id"],
    columns: &[
        Column {
            name: "request_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "call_type",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "api_key",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "total_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "prompt_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "completion_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "startTime",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "endTime",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "request_duration_ms",
            kind: Kind::Int,
            nullable: true,
        },
        Column {
            name: "completionStartTime",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "model",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "model_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "model_group",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "custom_llm_provider",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "api_base",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "user",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "metadata",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "cache_hit",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "cache_key",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "request_tags",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "team_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "organization_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "end_user",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "requester_ip_address",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "messages",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "response",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "session_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "status",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "mcp_namespaced_tool_name",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "billing_agent_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "agent_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "proxy_server_request",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "litellm_call_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
    ],
};

pub static TEAM_MEMBERSHIP: Table = Table {
    name: "LiteLLM_TeamMembership",
    primary_key: &["user_id", "team_id"],
    columns: &[
        Column {
            name: "user_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "team_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "total_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "budget_id",
            kind: Kind::Text,
            nullable: true,
        },
    ],
};

pub static ORGANIZATION_MEMBERSHIP: Table = Table {
    name: "LiteLLM_OrganizationMembership",
    primary_key: &["user_id", "organization_id"],
    columns: &[
        Column {
            name: "user_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "organization_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "user_role",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: true,
        },
        Column {
            name: "budget_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: true,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: true,
        },
    ],
};

pub static AUDIT_LOG: Table = Table {
    name: "LiteLLM_AuditLog",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "changed_by",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "changed_by_api_key",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "action",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "table_name",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "object_id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "before_value",
            kind: Kind::Json,
            nullable: true,
        },
        Column {
            name: "updated_values",
            kind: Kind::Json,
            nullable: true,
        },
    ],
};

pub static DAILY_USER_SPEND: Table = Table {
    name: "LiteLLM_DailyUserSpend",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "user_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "date",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "api_key",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "model",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "model_group",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "custom_llm_provider",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "mcp_namespaced_tool_name",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "endpoint",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "prompt_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "completion_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_read_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_creation_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_saved_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "prompt_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "gateway_injected_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "autorouter_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "api_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "successful_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "failed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "total_response_time_ms",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "timed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
    ],
};

pub static DAILY_TEAM_SPEND: Table = Table {
    name: "LiteLLM_DailyTeamSpend",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "team_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "date",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "api_key",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "model",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "model_group",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "custom_llm_provider",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "mcp_namespaced_tool_name",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "endpoint",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "prompt_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "completion_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_read_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_creation_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_saved_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "prompt_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "gateway_injected_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "autorouter_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "api_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "successful_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "failed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "total_response_time_ms",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "timed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "ptu_flat_cost",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
    ],
};

pub static DAILY_ORGANIZATION_SPEND: Table = Table {
    name: "LiteLLM_DailyOrganizationSpend",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "organization_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "date",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "api_key",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "model",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "model_group",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "custom_llm_provider",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "mcp_namespaced_tool_name",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "endpoint",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "prompt_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "completion_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_read_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_creation_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_saved_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "prompt_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "gateway_injected_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "autorouter_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "api_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "successful_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "failed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "total_response_time_ms",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "timed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
    ],
};

pub static DAILY_END_USER_SPEND: Table = Table {
    name: "LiteLLM_DailyEndUserSpend",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "end_user_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "date",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "api_key",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "model",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "model_group",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "custom_llm_provider",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "mcp_namespaced_tool_name",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "endpoint",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "prompt_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "completion_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_read_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_creation_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_saved_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "prompt_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "gateway_injected_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "autorouter_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "api_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "successful_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "failed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "total_response_time_ms",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "timed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
    ],
};

pub static DAILY_TAG_SPEND: Table = Table {
    name: "LiteLLM_DailyTagSpend",
    primary_key: &["id"],
    columns: &[
        Column {
            name: "id",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "request_id",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "tag",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "date",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "api_key",
            kind: Kind::Text,
            nullable: false,
        },
        Column {
            name: "model",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "model_group",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "custom_llm_provider",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "mcp_namespaced_tool_name",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "endpoint",
            kind: Kind::Text,
            nullable: true,
        },
        Column {
            name: "prompt_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "completion_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_read_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "cache_creation_input_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_saved_tokens",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "compression_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "prompt_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "gateway_injected_caching_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "autorouter_savings_spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "spend",
            kind: Kind::Money,
            nullable: false,
        },
        Column {
            name: "api_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "successful_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "failed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "total_response_time_ms",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "timed_requests",
            kind: Kind::Int,
            nullable: false,
        },
        Column {
            name: "created_at",
            kind: Kind::Time,
            nullable: false,
        },
        Column {
            name: "updated_at",
            kind: Kind::Time,
            nullable: false,
        },
    ],
};
