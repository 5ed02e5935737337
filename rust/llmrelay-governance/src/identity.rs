//! Who is calling: [`KeyAuth`] (LiteLLM's `UserAPIKeyAuth`) built from a key's row and the
//! rows of its user, team, team membership, organization and budgets.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::db::{Record, money};
use crate::time::parse_time;

/// LiteLLM's user roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    ProxyAdmin,
    ProxyAdminViewer,
    OrgAdmin,
    InternalUser,
    InternalUserViewer,
    Team,
    Customer,
}

impl UserRole {
    /// `proxy_admin_viewer` is spelled `proxy_admin_viewer` in the API.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "proxy_admin" => Self::ProxyAdmin,
            "proxy_admin_viewer" => Self::ProxyAdminViewer,
            "org_admin" => Self::OrgAdmin,
            "internal_user" => Self::InternalUser,
            "internal_user_viewer" => Self::InternalUserViewer,
            "team" => Self::Team,
            "customer" => Self::Customer,
            _ => return None,
        })
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProxyAdmin => "proxy_admin",
            Self::ProxyAdminViewer => "proxy_admin_viewer",
            Self::OrgAdmin => "org_admin",
            Self::InternalUser => "internal_user",
            Self::InternalUserViewer => "internal_user_viewer",
            Self::Team => "team",
            Self::Customer => "customer",
        }
    }
}

/// Model-independent access to MCP servers, vector stores and agents (enforced by the MCP issue).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObjectPermission {
    pub object_permission_id: Option<String>,
    pub mcp_servers: Vec<String>,
    pub mcp_access_groups: Vec<String>,
    pub mcp_tool_permissions: Option<Value>,
    pub vector_stores: Vec<String>,
    pub agents: Vec<String>,
}

impl ObjectPermission {
    /// From a `LiteLLM_ObjectPermissionTable` row.
    fn of(permission: &Record) -> Self {
        Self {
            object_permission_id: text(permission, "object_permission_id"),
            mcp_servers: list(permission, "mcp_servers"),
            mcp_access_groups: list(permission, "mcp_access_groups"),
            mcp_tool_permissions: permission
                .get("mcp_tool_permissions")
                .filter(|v| !v.is_null())
                .cloned(),
            vector_stores: list(permission, "vector_stores"),
            agents: list(permission, "agents"),
        }
    }
}

/// A verified virtual key with everything the admission layers need.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KeyAuth {
    /// SHA-256 hex of the key (LiteLLM's `token`).
    pub token: String,
    pub key_alias: Option<String>,
    pub key_name: Option<String>,
    pub key_type: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub org_id: Option<String>,
    /// Set by the proxy from the request's `user` field (LiteLLM's `end_user_id`).
    pub end_user_id: Option<String>,
    pub user_role: Option<UserRole>,
    pub user_email: Option<String>,
    /// The key's own model list (empty: every model its team/user may use).
    pub models: Vec<String>,
    /// The key's `aliases` (`{"alias": "model group"}`).
    pub aliases: Map<String, Value>,
    pub spend: Decimal,
    pub max_budget: Option<Decimal>,
    pub soft_budget: Option<Decimal>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub blocked: bool,
    pub rpm_limit: Option<i64>,
    pub tpm_limit: Option<i64>,
    pub tpd_limit: Option<i64>,
    pub max_parallel_requests: Option<i64>,
    pub model_rpm_limit: Option<Map<String, Value>>,
    pub model_tpm_limit: Option<Map<String, Value>>,
    /// `{model: {"budget_limit": n, "time_period": "1d"}}`.
    pub model_max_budget: Map<String, Value>,
    pub allowed_cache_controls: Vec<String>,
    pub guardrails: Vec<String>,
    pub disable_global_guardrails: bool,
    pub object_permission: Option<ObjectPermission>,
    /// The key's team's `object_permission` (MCP servers the team's keys are limited to).
    pub team_object_permission: Option<ObjectPermission>,
    pub tags: Vec<String>,
    pub metadata: Map<String, Value>,
    pub permissions: Map<String, Value>,
    pub allowed_routes: Vec<String>,
    pub enforced_params: Vec<String>,
    // Team
    pub team_alias: Option<String>,
    pub team_models: Vec<String>,
    pub team_spend: Option<Decimal>,
    pub team_max_budget: Option<Decimal>,
    pub team_soft_budget: Option<Decimal>,
    pub team_budget_duration: Option<String>,
    pub team_budget_reset_at: Option<DateTime<Utc>>,
    pub team_blocked: bool,
    pub team_tpm_limit: Option<i64>,
    pub team_rpm_limit: Option<i64>,
    pub team_max_parallel_requests: Option<i64>,
    pub team_metadata: Map<String, Value>,
    /// The team's `metadata.tags` (added to the request's tags, after the key's).
    pub team_tags: Vec<String>,
    /// The team's `model_aliases` (`{"alias": "model group"}`).
    pub team_model_aliases: Map<String, Value>,
    /// The caller's role in the team (`admin` / `user`).
    pub team_member_role: Option<String>,
    pub team_member_spend: Option<Decimal>,
    /// `max_budget_in_team` of the caller's membership.
    pub team_member_budget: Option<Decimal>,
    /// Limits of the caller's membership budget (`rpm_limit`, `tpm_limit`).
    pub team_member_rpm_limit: Option<i64>,
    pub team_member_tpm_limit: Option<i64>,
    /// The team's `metadata.model_rpm_limit` / `model_tpm_limit` (`{model group: n}`).
    pub team_model_rpm_limit: Option<Map<String, Value>>,
    pub team_model_tpm_limit: Option<Map<String, Value>>,
    pub team_member_budget_duration: Option<String>,
    // User
    pub user_models: Vec<String>,
    pub user_spend: Option<Decimal>,
    pub user_max_budget: Option<Decimal>,
    pub user_budget_duration: Option<String>,
    pub user_budget_reset_at: Option<DateTime<Utc>>,
    pub user_tpm_limit: Option<i64>,
    pub user_rpm_limit: Option<i64>,
    // Organization
    pub org_alias: Option<String>,
    pub org_models: Vec<String>,
    pub org_spend: Option<Decimal>,
    pub org_max_budget: Option<Decimal>,
    pub org_budget_duration: Option<String>,
    /// The organization budget's `rpm_limit` / `tpm_limit`.
    pub org_rpm_limit: Option<i64>,
    pub org_tpm_limit: Option<i64>,
    /// The caller's role in its organization (`org_admin`, …).
    pub org_role: Option<String>,
    /// Issued while the database was unreachable (`allow_requests_on_db_unavailable`).
    pub db_unavailable_fallback: bool,
    /// The proxy's master key (or an open proxy): every check passes.
    pub is_master_key: bool,
}

impl KeyAuth {
    /// The caller presenting the master key: proxy admin, unrestricted.
    #[must_use]
    pub fn master_key(token: &str) -> Self {
        Self {
            token: token.to_owned(),
            user_id: Some("default_user_id".to_owned()),
            user_role: Some(UserRole::ProxyAdmin),
            is_master_key: true,
            ..Self::default()
        }
    }

    /// What LiteLLM issues when the database is down and `allow_requests_on_db_unavailable`.
    #[must_use]
    pub fn database_unavailable_fallback(token: &str) -> Self {
        Self {
            token: token.to_owned(),
            user_id: Some("__db_unavailable_fallback__".to_owned()),
            user_role: Some(UserRole::InternalUser),
            db_unavailable_fallback: true,
            ..Self::default()
        }
    }

    #[must_use]
    pub fn is_proxy_admin(&self) -> bool {
        self.is_master_key || self.user_role == Some(UserRole::ProxyAdmin)
    }

    /// What budget messages call the key: its alias, else its hash.
    #[must_use]
    pub fn descriptor(&self) -> &str {
        self.key_alias.as_deref().unwrap_or(&self.token)
    }
}

/// The rows a [`KeyAuth`] is built from.
#[derive(Debug, Default)]
pub struct KeyRows {
    pub key: Record,
    pub key_budget: Option<Record>,
    pub user: Option<Record>,
    pub team: Option<Record>,
    pub membership: Option<Record>,
    pub membership_budget: Option<Record>,
    pub organization: Option<Record>,
    pub organization_budget: Option<Record>,
    pub organization_membership: Option<Record>,
    pub object_permission: Option<Record>,
    pub team_object_permission: Option<Record>,
}

pub(crate) fn text(record: &Record, field: &str) -> Option<String> {
    record.get(field).and_then(Value::as_str).map(str::to_owned)
}

pub(crate) fn list(record: &Record, field: &str) -> Vec<String> {
    record
        .get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn object(record: &Record, field: &str) -> Map<String, Value> {
    match record.get(field) {
        Some(Value::Object(map)) => map.clone(),
        Some(Value::String(text)) => serde_json::from_str(text).unwrap_or_default(),
        _ => Map::new(),
    }
}

pub(crate) fn integer(record: &Record, field: &str) -> Option<i64> {
    record.get(field).and_then(Value::as_i64)
}

pub(crate) fn time(record: &Record, field: &str) -> Option<DateTime<Utc>> {
    record
        .get(field)
        .and_then(Value::as_str)
        .and_then(parse_time)
}

pub(crate) fn amount(record: &Record, field: &str) -> Option<Decimal> {
    money(record.get(field))
}

fn metadata_list(metadata: &Map<String, Value>, field: &str) -> Vec<String> {
    metadata
        .get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.clone()),
                    other => other.get("name").and_then(Value::as_str).map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn metadata_map(metadata: &Map<String, Value>, field: &str) -> Option<Map<String, Value>> {
    metadata.get(field).and_then(Value::as_object).cloned()
}

impl KeyRows {
    /// Builds the caller from its rows.
    #[must_use]
    pub fn into_auth(self) -> KeyAuth {
        let key = &self.key;
        let metadata = object(key, "metadata");
        let key_budget = self.key_budget.as_ref();
        let mut auth = KeyAuth {
            token: text(key, "token").unwrap_or_default(),
            key_alias: text(key, "key_alias"),
            key_name: text(key, "key_name"),
            key_type: text(key, "key_type"),
            user_id: text(key, "user_id"),
            team_id: text(key, "team_id"),
            org_id: text(key, "organization_id"),
            models: list(key, "models"),
            aliases: object(key, "aliases"),
            spend: amount(key, "spend").unwrap_or_default(),
            max_budget: amount(key, "max_budget")
                .or_else(|| key_budget.and_then(|b| amount(b, "max_budget"))),
            // `/key/generate` keeps a key's own `soft_budget` in its metadata; a linked budget
            // row's comes first.
            soft_budget: key_budget
                .and_then(|b| amount(b, "soft_budget"))
                .or_else(|| money(metadata.get("soft_budget"))),
            budget_duration: text(key, "budget_duration"),
            budget_reset_at: time(key, "budget_reset_at"),
            expires: time(key, "expires"),
            blocked: key.get("blocked").and_then(Value::as_bool).unwrap_or(false),
            rpm_limit: integer(key, "rpm_limit"),
            tpm_limit: integer(key, "tpm_limit"),
            tpd_limit: integer(key, "tpd_limit"),
            max_parallel_requests: integer(key, "max_parallel_requests"),
            model_rpm_limit: metadata_map(&metadata, "model_rpm_limit"),
            model_tpm_limit: metadata_map(&metadata, "model_tpm_limit"),
            model_max_budget: object(key, "model_max_budget"),
            allowed_cache_controls: list(key, "allowed_cache_controls"),
            guardrails: metadata_list(&metadata, "guardrails"),
            disable_global_guardrails: metadata
                .get("disable_global_guardrails")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            tags: metadata_list(&metadata, "tags"),
            enforced_params: metadata_list(&metadata, "enforced_params"),
            permissions: object(key, "permissions"),
            allowed_routes: list(key, "allowed_routes"),
            metadata,
            ..KeyAuth::default()
        };
        if let Some(budget) = key_budget {
            auth.rpm_limit = auth.rpm_limit.or_else(|| integer(budget, "rpm_limit"));
            auth.tpm_limit = auth.tpm_limit.or_else(|| integer(budget, "tpm_limit"));
            auth.budget_duration = auth
                .budget_duration
                .or_else(|| text(budget, "budget_duration"));
        }
        auth.object_permission = self.object_permission.as_ref().map(ObjectPermission::of);
        auth.team_object_permission = self
            .team_object_permission
            .as_ref()
            .map(ObjectPermission::of);
        if let Some(user) = &self.user {
            auth.user_role = text(user, "user_role").as_deref().and_then(UserRole::parse);
            auth.user_email = text(user, "user_email");
            auth.user_models = list(user, "models");
            auth.user_spend = amount(user, "spend");
            auth.user_max_budget = amount(user, "max_budget");
            auth.user_budget_duration = text(user, "budget_duration");
            auth.user_budget_reset_at = time(user, "budget_reset_at");
            auth.user_tpm_limit = integer(user, "tpm_limit");
            auth.user_rpm_limit = integer(user, "rpm_limit");
        }
        if let Some(team) = &self.team {
            auth.team_alias = text(team, "team_alias");
            auth.team_models = list(team, "models");
            auth.team_spend = amount(team, "spend");
            auth.team_max_budget = amount(team, "max_budget");
            auth.team_soft_budget = amount(team, "soft_budget");
            auth.team_budget_duration = text(team, "budget_duration");
            auth.team_budget_reset_at = time(team, "budget_reset_at");
            auth.team_blocked = team
                .get("blocked")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            auth.team_tpm_limit = integer(team, "tpm_limit");
            auth.team_rpm_limit = integer(team, "rpm_limit");
            auth.team_max_parallel_requests = integer(team, "max_parallel_requests");
            auth.team_metadata = object(team, "metadata");
            auth.team_tags = metadata_list(&auth.team_metadata, "tags");
            auth.team_model_rpm_limit = metadata_map(&auth.team_metadata, "model_rpm_limit");
            auth.team_model_tpm_limit = metadata_map(&auth.team_metadata, "model_tpm_limit");
            auth.team_model_aliases = object(team, "model_aliases");
            if auth.org_id.is_none() {
                auth.org_id = text(team, "organization_id");
            }
            if let Some(user_id) = &auth.user_id {
                auth.team_member_role = team
                    .get("members_with_roles")
                    .and_then(Value::as_array)
                    .and_then(|members| {
                        members.iter().find(|m| {
                            m.get("user_id").and_then(Value::as_str) == Some(user_id.as_str())
                        })
                    })
                    .and_then(|m| m.get("role").and_then(Value::as_str))
                    .map(str::to_owned);
            }
        }
        if let Some(membership) = &self.membership {
            auth.team_member_spend = amount(membership, "spend");
        }
        if let Some(budget) = &self.membership_budget {
            auth.team_member_budget = amount(budget, "max_budget");
            auth.team_member_budget_duration = text(budget, "budget_duration");
            auth.team_member_rpm_limit = integer(budget, "rpm_limit");
            auth.team_member_tpm_limit = integer(budget, "tpm_limit");
        }
        // The team's per-member default (`team_member_rpm_limit` on `/team/new`, kept in
        // its metadata) when the membership's budget sets none.
        if auth.team_member_rpm_limit.is_none() {
            auth.team_member_rpm_limit = auth
                .team_metadata
                .get("team_member_rpm_limit")
                .and_then(Value::as_i64);
        }
        if auth.team_member_tpm_limit.is_none() {
            auth.team_member_tpm_limit = auth
                .team_metadata
                .get("team_member_tpm_limit")
                .and_then(Value::as_i64);
        }
        if let Some(organization) = &self.organization {
            auth.org_alias = text(organization, "organization_alias");
            auth.org_models = list(organization, "models");
            auth.org_spend = amount(organization, "spend");
        }
        if let Some(budget) = &self.organization_budget {
            auth.org_max_budget = amount(budget, "max_budget");
            auth.org_budget_duration = text(budget, "budget_duration");
            auth.org_rpm_limit = integer(budget, "rpm_limit");
            auth.org_tpm_limit = integer(budget, "tpm_limit");
        }
        if let Some(membership) = &self.organization_membership {
            auth.org_role = text(membership, "user_role");
        }
        auth
    }
}

impl KeyAuth {
    /// The caller a `custom_auth` function described: LiteLLM's `UserAPIKeyAuth` fields
    /// (`api_key` or `token`, `models`, `max_budget`, `spend`, `expires`, `rpm_limit`,
    /// `user_role`, `team_*`, `user_*`, `end_user_*`, `metadata`, …). A raw `api_key`
    /// starting `sk-` is hashed into `token`, as LiteLLM's model does; without either the
    /// token is empty.
    #[must_use]
    pub fn from_user_api_key_auth(fields: &Record) -> Self {
        let mut key = fields.clone();
        if let Some(org) = fields.get("org_id").filter(|v| !v.is_null()) {
            key.insert("organization_id".to_owned(), org.clone());
        }
        let token = text(fields, "token").or_else(|| {
            text(fields, "api_key").map(|api_key| {
                if api_key.starts_with("sk-") {
                    crate::keys::hash_key(&api_key)
                } else {
                    api_key
                }
            })
        });
        key.insert("token".to_owned(), Value::String(token.unwrap_or_default()));
        let mut auth = KeyRows {
            key,
            ..KeyRows::default()
        }
        .into_auth();
        auth.user_role = text(fields, "user_role")
            .as_deref()
            .and_then(UserRole::parse);
        auth.user_email = text(fields, "user_email");
        auth.end_user_id = text(fields, "end_user_id");
        auth.soft_budget = amount(fields, "soft_budget");
        auth.team_alias = text(fields, "team_alias");
        auth.team_models = list(fields, "team_models");
        auth.team_spend = amount(fields, "team_spend");
        auth.team_max_budget = amount(fields, "team_max_budget");
        auth.team_tpm_limit = integer(fields, "team_tpm_limit");
        auth.team_rpm_limit = integer(fields, "team_rpm_limit");
        auth.team_blocked = fields
            .get("team_blocked")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        auth.team_metadata = object(fields, "team_metadata");
        auth.team_model_aliases = object(fields, "team_model_aliases");
        auth.team_member_spend = amount(fields, "team_member_spend");
        auth.user_tpm_limit = integer(fields, "user_tpm_limit");
        auth.user_rpm_limit = integer(fields, "user_rpm_limit");
        auth.user_max_budget = amount(fields, "user_max_budget");
        auth.user_spend = amount(fields, "user_spend");
        if let Some(limits) = fields.get("rpm_limit_per_model").and_then(Value::as_object) {
            auth.model_rpm_limit = Some(limits.clone());
        }
        if let Some(limits) = fields.get("tpm_limit_per_model").and_then(Value::as_object) {
            auth.model_tpm_limit = Some(limits.clone());
        }
        auth
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(value: Value) -> Record {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn builds_auth_from_rows() {
        let rows = KeyRows {
            key: record(json!({
                "token": "abc", "key_alias": "app", "user_id": "u1", "team_id": "t1",
                "models": ["gpt-4o"], "spend": 0.5, "max_budget": 1.0, "blocked": null,
                "metadata": {"tags": ["prod"], "guardrails": ["pii"], "model_tpm_limit": {"gpt-4o": 10}, "soft_budget": 0.25},
                "expires": "2030-01-01T00:00:00.000Z"
            })),
            team: Some(record(json!({
                "team_id": "t1", "team_alias": "research", "models": ["gpt-4o", "claude"],
                "max_budget": 10, "organization_id": "o1", "model_aliases": {"fast": "gpt-4o-mini"},
                "members_with_roles": [{"user_id": "u1", "role": "admin"}]
            }))),
            user: Some(record(
                json!({"user_id": "u1", "user_role": "internal_user"}),
            )),
            ..KeyRows::default()
        };
        let auth = rows.into_auth();
        assert_eq!(auth.token, "abc");
        assert_eq!(auth.spend, Decimal::new(5, 1));
        assert_eq!(auth.max_budget, Some(Decimal::ONE));
        assert_eq!(
            auth.soft_budget,
            Some(Decimal::new(25, 2)),
            "from /key/generate's metadata"
        );
        assert_eq!(auth.tags, vec!["prod"]);
        assert_eq!(auth.guardrails, vec!["pii"]);
        assert_eq!(auth.team_models, vec!["gpt-4o", "claude"]);
        assert_eq!(auth.org_id.as_deref(), Some("o1"));
        assert_eq!(auth.team_member_role.as_deref(), Some("admin"));
        assert_eq!(auth.user_role, Some(UserRole::InternalUser));
        assert!(auth.model_tpm_limit.is_some());
        assert!(!auth.blocked);
        assert!(auth.expires.is_some());
    }

    #[test]
    fn roles_round_trip() {
        for role in [
            "proxy_admin",
            "proxy_admin_viewer",
            "org_admin",
            "internal_user",
            "internal_user_viewer",
            "team",
            "customer",
        ] {
            assert_eq!(UserRole::parse(role).map(UserRole::as_str), Some(role));
        }
        assert!(UserRole::parse("root").is_none());
    }
}
